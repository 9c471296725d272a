package dev.tokenselect.engine.model.synthetic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.GenerationConfig;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.model.WeightFiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a complete Hugging Face model directory with {@link SyntheticWeights}: config, generation
 * config, safetensors (one file or shards with an index) and, optionally, tokenizer files copied from
 * a real tokenizer. Used by tests and benchmarks, since no checkpoint can be downloaded where they run.
 */
public final class SyntheticModelWriter {

    private static final System.Logger LOG = System.getLogger(SyntheticModelWriter.class.getName());
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SyntheticModelWriter() {
    }

    /** The tensors of a model of this configuration, in Hugging Face names and shapes. */
    public static List<SafetensorsWriter.Entry> tensors(ModelConfig c, long seed, DType dtype) {
        List<SafetensorsWriter.Entry> out = new ArrayList<>();
        long h = c.hiddenSize();
        add(out, seed, dtype, "model.embed_tokens.weight", c.vocabSize(), h);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            add(out, seed, dtype, p + "self_attn.q_proj.weight", c.queryDim(), h);
            add(out, seed, dtype, p + "self_attn.k_proj.weight", c.kvDim(), h);
            add(out, seed, dtype, p + "self_attn.v_proj.weight", c.kvDim(), h);
            add(out, seed, dtype, p + "self_attn.o_proj.weight", h, c.queryDim());
            if (c.qkvBias()) {
                add(out, seed, dtype, p + "self_attn.q_proj.bias", c.queryDim());
                add(out, seed, dtype, p + "self_attn.k_proj.bias", c.kvDim());
                add(out, seed, dtype, p + "self_attn.v_proj.bias", c.kvDim());
            }
            if (c.qkNorm()) {
                add(out, seed, dtype, p + "self_attn.q_norm.weight", c.headDim());
                add(out, seed, dtype, p + "self_attn.k_norm.weight", c.headDim());
            }
            add(out, seed, dtype, p + "mlp.gate_proj.weight", c.intermediateSize(), h);
            add(out, seed, dtype, p + "mlp.up_proj.weight", c.intermediateSize(), h);
            add(out, seed, dtype, p + "mlp.down_proj.weight", h, c.intermediateSize());
            add(out, seed, dtype, p + "input_layernorm.weight", h);
            add(out, seed, dtype, p + "post_attention_layernorm.weight", h);
        }
        add(out, seed, dtype, "model.norm.weight", h);
        if (!c.tieWordEmbeddings()) {
            add(out, seed, dtype, "lm_head.weight", c.vocabSize(), h);
        }
        return out;
    }

    private static void add(List<SafetensorsWriter.Entry> out, long seed, DType dtype, String name, long... shape) {
        SyntheticWeights w = new SyntheticWeights(seed, name, shape);
        out.add(new SafetensorsWriter.Entry(name, dtype, shape, w::value));
    }

    /**
     * Writes the model directory.
     *
     * @param config        config.json content, as a real checkpoint writes it
     * @param generation    generation_config.json content, or null to write none
     * @param shards        1 for {@code model.safetensors}, more for shards plus an index
     * @param tokenizerFrom a directory holding tokenizer.json (or tokenizer.json.gz) and
     *                      tokenizer_config.json to copy, or null
     */
    public static void write(Path dir, ObjectNode config, JsonNode generation, long seed, DType dtype, int shards,
                             Path tokenizerFrom) throws IOException {
        Files.createDirectories(dir);
        Path configFile = dir.resolve(ModelConfig.FILE);
        ModelConfig c = ModelConfig.parse(configFile, config);
        Files.writeString(configFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        if (generation != null) {
            Files.writeString(dir.resolve(GenerationConfig.FILE), JSON.writeValueAsString(generation));
        }
        List<SafetensorsWriter.Entry> tensors = tensors(c, seed, dtype);
        long start = System.nanoTime();
        if (shards <= 1) {
            SafetensorsWriter.write(dir.resolve(WeightFiles.SINGLE), tensors);
        } else {
            ObjectNode index = JSON.createObjectNode();
            ObjectNode map = index.putObject("weight_map");
            int per = (tensors.size() + shards - 1) / shards;
            for (int s = 0; s < shards; s++) {
                String shardName = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
                List<SafetensorsWriter.Entry> part = tensors.subList(Math.min(tensors.size(), s * per),
                        Math.min(tensors.size(), (s + 1) * per));
                part.forEach(e -> map.put(e.name(), shardName));
                SafetensorsWriter.write(dir.resolve(shardName), part);
            }
            Files.writeString(dir.resolve(WeightFiles.INDEX), JSON.writeValueAsString(index));
        }
        LOG.log(System.Logger.Level.INFO, () -> String.format("Wrote synthetic %s (%s, seed %d) to %s in %d ms",
                c.architecture().hfName(), dtype, seed, dir, (System.nanoTime() - start) / 1_000_000));
        if (tokenizerFrom != null) {
            copyTokenizer(tokenizerFrom, dir);
        }
    }

    /** Copies tokenizer.json (gunzipping tokenizer.json.gz) and tokenizer_config.json. */
    public static void copyTokenizer(Path from, Path dir) throws IOException {
        Path plain = from.resolve("tokenizer.json");
        if (Files.isRegularFile(plain)) {
            Files.copy(plain, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        } else {
            try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(from.resolve("tokenizer.json.gz")))) {
                Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.copy(from.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"),
                StandardCopyOption.REPLACE_EXISTING);
    }
}
