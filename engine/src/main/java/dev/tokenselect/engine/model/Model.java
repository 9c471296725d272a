package dev.tokenselect.engine.model;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A loaded model: its configuration, generation defaults and memory-mapped weights. Tokenizer and
 * chat template live beside it in the same directory and are loaded by their own packages.
 */
public record Model(Path directory, ModelConfig config, GenerationConfig generation, ModelWeights weights,
                    WeightFiles files) implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Model.class.getName());

    public static Model load(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new ModelFormatException(directory, "not a directory; point the engine at a Hugging Face "
                    + "model directory (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)");
        }
        long start = System.nanoTime();
        ModelConfig config = ModelConfig.read(directory);
        GenerationConfig generation = GenerationConfig.read(directory);
        WeightFiles files = WeightFiles.open(directory);
        try {
            ModelWeights weights = ModelWeights.bind(config, files);
            LOG.log(System.Logger.Level.INFO, () -> String.format("Loaded %s from %s: %d layers, hidden %d, %d heads"
                            + " (%d KV), vocab %d, %s weights, %.1f MB mapped in %d ms",
                    config.architecture().hfName(), directory, config.numLayers(), config.hiddenSize(),
                    config.numHeads(), config.numKvHeads(), config.vocabSize(), weights.embedding().dtype(),
                    weights.bytesPerToken() / 1e6, (System.nanoTime() - start) / 1_000_000));
            return new Model(directory, config, generation, weights, files);
        } catch (RuntimeException e) {
            files.close();
            throw e;
        }
    }

    @Override
    public void close() {
        files.close();
    }
}
