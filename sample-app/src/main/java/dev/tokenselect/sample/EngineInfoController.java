package dev.tokenselect.sample;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.tokenselect.engine.kv.KvGeometry;
import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.engine.serve.ServiceStats;
import dev.tokenselect.sample.model.ServedModel;

/** What the pages show in their header: the model, where it runs, the KV pool, and the upload limits. */
@RestController
class EngineInfoController {

    private final InferenceService service;
    private final ServedModel model;
    private final SampleProperties properties;

    EngineInfoController(InferenceService service, ServedModel model, SampleProperties properties) {
        this.service = service;
        this.model = model;
        this.properties = properties;
    }

    @GetMapping("/api/info")
    Map<String, Object> info() {
        ServiceStats s = service.stats();
        var config = service.engine().model().config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.id());
        m.put("architecture", s.architecture());
        m.put("backend", s.backend());
        m.put("device", s.device());
        m.put("kvBytesPerToken", KvGeometry.of(config, Math.max(1, s.blockSize())).bytesPerToken());
        m.put("kvBlocksUsed", s.kvBlocksUsed());
        m.put("kvBlocksTotal", s.kvBlocksTotal());
        m.put("blockSize", s.blockSize());
        m.put("corpusTurn", service.options().corpusTurn().name().toLowerCase(java.util.Locale.ROOT));
        m.put("maxFileBytes", properties.getUpload().getMaxFileSize().toBytes());
        m.put("maxFiles", properties.getUpload().getMaxFiles());
        m.put("apiKeyRequired", properties.getApiKey() != null && !properties.getApiKey().isBlank());
        return m;
    }
}
