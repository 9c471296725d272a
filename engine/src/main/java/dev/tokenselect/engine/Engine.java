package dev.tokenselect.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * A model directory opened for inference: weights, tokenizer and a backend. The entry point for
 * the CLI and the Spring integration; everything below it is usable on its own too.
 */
public final class Engine implements AutoCloseable {

    private final Model model;
    private final Tokenizer tokenizer;
    private final Backend backend;

    private Engine(Model model, Tokenizer tokenizer, Backend backend) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.backend = backend;
    }

    public static Engine open(Path modelDir, EngineOptions options) {
        Model model = Model.load(modelDir);
        try {
            Tokenizer tokenizer = Tokenizer.load(modelDir);
            return new Engine(model, tokenizer, createBackend(model, options));
        } catch (IOException e) {
            model.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static Backend createBackend(Model model, EngineOptions options) {
        return switch (options.backend()) {
            case "cpu", "auto" -> new CpuBackend(model, CpuBackend.Options.defaults()
                    .withKvCapacityTokens(options.kvCapacityTokens())
                    .withBlockSize(options.blockSize())
                    .withThreads(options.threads()));
            default -> throw new UnsupportedOperationException("backend '" + options.backend()
                    + "' is not available in this build; use --backend cpu");
        };
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Backend backend() {
        return backend;
    }

    public Generator generator(int prefillChunk) {
        return new Generator(backend, tokenizer, model.generation().eosTokenIds(), prefillChunk);
    }

    @Override
    public void close() {
        backend.close();
        model.close();
    }
}
