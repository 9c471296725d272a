package dev.tokenselect.engine.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What {@code generation_config.json} (falling back to {@code config.json}) says about stopping and
 * the checkpoint's recommended sampling; request options override the sampling fields.
 */
public record GenerationConfig(Set<Integer> eosTokenIds, Integer bosTokenId, Double temperature, Integer topK,
                               Double topP, Double repetitionPenalty) {

    public static final String FILE = "generation_config.json";

    public static GenerationConfig read(Path modelDir) {
        JsonMapper json = JsonMapper.builder().build();
        JsonNode gen = readIfPresent(json, modelDir.resolve(FILE));
        JsonNode cfg = readIfPresent(json, modelDir.resolve(ModelConfig.FILE));
        Set<Integer> eos = new LinkedHashSet<>();
        addIds(eos, gen == null ? null : gen.get("eos_token_id"));
        if (eos.isEmpty()) {
            addIds(eos, cfg == null ? null : cfg.get("eos_token_id"));
        }
        Integer bos = intOrNull(gen, "bos_token_id");
        if (bos == null) {
            bos = intOrNull(cfg, "bos_token_id");
        }
        return new GenerationConfig(Set.copyOf(eos), bos, doubleOrNull(gen, "temperature"), intOrNull(gen, "top_k"),
                doubleOrNull(gen, "top_p"), doubleOrNull(gen, "repetition_penalty"));
    }

    private static JsonNode readIfPresent(JsonMapper json, Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return json.readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
    }

    private static void addIds(Set<Integer> out, JsonNode n) {
        if (n == null || n.isNull()) {
            return;
        }
        if (n.isArray()) {
            n.forEach(v -> out.add(v.asInt()));
        } else {
            out.add(n.asInt());
        }
    }

    private static Integer intOrNull(JsonNode n, String key) {
        return n == null || !n.hasNonNull(key) ? null : n.get(key).asInt();
    }

    private static Double doubleOrNull(JsonNode n, String key) {
        return n == null || !n.hasNonNull(key) ? null : n.get(key).asDouble();
    }
}
