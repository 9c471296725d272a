package dev.tokenselect.engine.cli;

import dev.tokenselect.engine.EngineOptions;
import picocli.CommandLine.Option;

/** Where and how the model runs. */
final class BackendOptions {

    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu or cuda (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--device", defaultValue = "0", description = "GPU ordinal for --backend cuda")
    int device;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads, 0 for all cores")
    int threads;

    @Option(names = "--kv-tokens", defaultValue = "0",
            description = "KV cache capacity in tokens; 0 (default): 32768 on the CPU, 90%% of free GPU memory on CUDA")
    long kvTokens;

    @Option(names = "--block-size", defaultValue = "32", description = "Tokens per KV block (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--key-sketches", description = "CUDA: keep int8 sketches of the KV pool's keys, which"
            + " TokenSelect with keys=int8 scores on the device (about a fifth fewer tokens fit)")
    boolean keySketches;

    @Option(names = "--kv-host-gib", paramLabel = "GIB", defaultValue = "0",
            description = "CUDA: pinned host memory the KV pool extends into past the GPU's (read over the bus: for"
                    + " TokenSelect with --key-sketches); default 0")
    double kvHostGib;

    @Option(names = "--prefill-chunk", paramLabel = "N",
            description = "Prompt tokens per forward pass (default 512; with a selection policy min(512, n-local), never above n-local)")
    Integer prefillChunk;

    int prefillChunk() {
        return prefillChunk != null ? prefillChunk : 512;
    }

    EngineOptions engineOptions() {
        return new EngineOptions(backend, device, threads, kvTokens, blockSize).withKeySketches(keySketches)
                .withKvHostBytes(EngineOptions.gibBytes(kvHostGib));
    }
}
