package dev.tokenselect.sample;

import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** What this build of the engine offers; the chat and corpus pages build on the starter. */
@RestController
class EngineInfoController {

    @GetMapping("/api/info")
    Map<String, Object> info() {
        return Map.of(
                "engine", "tokenselect",
                "backends", new String[] {"cpu", "cuda"},
                "architectures", dev.tokenselect.engine.model.Architecture.supportedNames(),
                "cores", Runtime.getRuntime().availableProcessors());
    }
}
