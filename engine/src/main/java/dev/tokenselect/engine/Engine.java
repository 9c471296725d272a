package dev.tokenselect.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.backend.cuda.CudaBackend;
import dev.tokenselect.engine.backend.cuda.CudaOutOfMemoryException;
import dev.tokenselect.engine.backend.cuda.CudaUnavailableException;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * A model directory opened for inference: weights, tokenizer and a backend. The entry point for
 * the CLI and the Spring integration; everything below it is usable on its own too.
 */
public final class Engine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

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
            case "cpu" -> cpu(model, options);
            case "cuda" -> cuda(model, options);
            default -> {
                // auto: the GPU where there is one (and this build has kernels), else the CPU
                try {
                    yield cuda(model, options);
                } catch (CudaOutOfMemoryException e) {
                    throw e;
                } catch (CudaUnavailableException e) {
                    LOG.log(System.Logger.Level.INFO, "CUDA backend unavailable ({0}); using the CPU backend", e.getMessage());
                    yield cpu(model, options);
                }
            }
        };
    }

    private static Backend cpu(Model model, EngineOptions options) {
        return new CpuBackend(model, CpuBackend.Options.defaults()
                .withKvCapacityTokens(options.kvCapacityTokens() > 0 ? options.kvCapacityTokens()
                        : CpuBackend.Options.DEFAULT_KV_CAPACITY_TOKENS)
                .withBlockSize(options.blockSize())
                .withThreads(options.threads()));
    }

    private static Backend cuda(Model model, EngineOptions options) {
        CudaBackend.Options cuda = CudaBackend.Options.defaults()
                .withDevice(options.device())
                .withKvCapacityTokens(options.kvCapacityTokens())
                .withKvMemoryFraction(options.kvMemoryFraction())
                .withBlockSize(options.blockSize());
        // asked for here, or by -Dtokenselect.cuda.keySketches=true / -Dtokenselect.cuda.kvHostGib=N
        if (options.keySketches()) {
            cuda = cuda.withKeySketches(true);
        }
        if (options.kvHostBytes() > 0) {
            cuda = cuda.withHostKvBytes(options.kvHostBytes());
        }
        return new CudaBackend(model, cuda);
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
