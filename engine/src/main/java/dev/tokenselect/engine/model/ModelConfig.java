package dev.tokenselect.engine.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The geometry and numerics of a model, read from a Hugging Face {@code config.json}.
 *
 * @param slidingWindow attention window in tokens, 0 when every layer sees the whole context
 */
public record ModelConfig(
        Architecture architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        float rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean qkNorm,
        int slidingWindow) {

    public static final String FILE = "config.json";

    public int queryDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Query heads per KV head (grouped-query attention). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    public static ModelConfig read(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "missing config.json; a Hugging Face model directory needs "
                    + "config.json, model.safetensors (or its index), tokenizer.json and tokenizer_config.json");
        } catch (IOException | JacksonException e) {
            throw new ModelFormatException(file, "not valid JSON: " + e.getMessage(), e);
        }
        return parse(file, root);
    }

    public static ModelConfig parse(Path file, JsonNode c) {
        JsonNode archs = c.get("architectures");
        String archName = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asString() : null;
        if (archName == null) {
            throw new ModelFormatException(file, "no \"architectures\" entry; expected one of "
                    + Architecture.supportedNames());
        }
        Architecture arch = Architecture.fromHfName(archName);
        if (arch == null) {
            throw new ModelFormatException(file, "unknown architecture '" + archName + "'; the engine runs "
                    + Architecture.supportedNames());
        }
        String act = text(c, "hidden_act", text(c, "hidden_activation", "silu"));
        if (!act.equals("silu") && !act.equals("swish")) {
            throw new ModelFormatException(file, "hidden_act '" + act + "' is not supported (only silu)");
        }
        int hidden = positive(file, c, "hidden_size");
        int heads = positive(file, c, "num_attention_heads");
        int kvHeads = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull()
                ? positive(file, c, "num_key_value_heads") : heads;
        if (heads % kvHeads != 0) {
            throw new ModelFormatException(file, "num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int headDim = c.has("head_dim") && !c.get("head_dim").isNull() ? positive(file, c, "head_dim") : hidden / heads;
        if (headDim % 2 != 0) {
            throw new ModelFormatException(file, "head_dim " + headDim + " must be even for rotary embeddings");
        }
        JsonNode rope = c.has("rope_parameters") && c.get("rope_parameters").isObject()
                ? c.get("rope_parameters") : c.get("rope_scaling");
        double theta = c.has("rope_theta") ? c.get("rope_theta").asDouble()
                : rope != null && rope.has("rope_theta") ? rope.get("rope_theta").asDouble() : 10000.0;
        boolean qkvBias = switch (arch) {
            case QWEN2 -> true;
            default -> c.has("attention_bias") && c.get("attention_bias").asBoolean();
        };
        if (c.has("mlp_bias") && c.get("mlp_bias").asBoolean()) {
            throw new ModelFormatException(file, "mlp_bias=true is not supported");
        }
        int window = 0;
        if (arch == Architecture.MISTRAL && c.has("sliding_window") && !c.get("sliding_window").isNull()) {
            window = c.get("sliding_window").asInt();
        }
        if ((arch == Architecture.QWEN2 || arch == Architecture.QWEN3)
                && c.has("use_sliding_window") && c.get("use_sliding_window").asBoolean()) {
            throw new ModelFormatException(file, "use_sliding_window=true is not supported; "
                    + "set it to false (released Qwen checkpoints ship with false)");
        }
        return new ModelConfig(arch, hidden, positive(file, c, "intermediate_size"),
                positive(file, c, "num_hidden_layers"), heads, kvHeads, headDim,
                positive(file, c, "vocab_size"), (float) c.path("rms_norm_eps").asDouble(1e-6), theta,
                ropeScaling(file, rope), c.path("max_position_embeddings").asInt(4096),
                c.path("tie_word_embeddings").asBoolean(false), qkvBias, arch == Architecture.QWEN3, window);
    }

    private static RopeScaling ropeScaling(Path file, JsonNode rope) {
        if (rope == null || rope.isNull()) {
            return RopeScaling.NONE;
        }
        String type = text(rope, "rope_type", text(rope, "type", "default"));
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling.Linear(rope.path("factor").asDouble(1.0));
            case "llama3" -> new RopeScaling.Llama3(rope.path("factor").asDouble(8.0),
                    rope.path("low_freq_factor").asDouble(1.0), rope.path("high_freq_factor").asDouble(4.0),
                    rope.path("original_max_position_embeddings").asInt(8192));
            default -> throw new ModelFormatException(file, "rope scaling type '" + type
                    + "' is not supported (supported: default, linear, llama3)");
        };
    }

    private static String text(JsonNode c, String key, String fallback) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? fallback : n.asString();
    }

    private static int positive(Path file, JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.isNumber() || n.asLong() <= 0 || n.asLong() > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, "\"" + key + "\" must be a positive integer, found "
                    + (n == null ? "nothing" : n.toString()));
        }
        return n.asInt();
    }
}
