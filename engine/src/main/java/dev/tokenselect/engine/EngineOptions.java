package dev.tokenselect.engine;

/**
 * How to run a model.
 *
 * @param backend          "auto" (the best available), "cpu" or "cuda"
 * @param device           GPU ordinal for the CUDA backend
 * @param threads          CPU worker threads, 0 for all cores
 * @param kvCapacityTokens tokens the KV pool holds over all sequences; 0 for the backend's default
 *                         (32768 on the CPU, 90% of the GPU memory left after the weights on CUDA)
 * @param blockSize        tokens per KV block
 * @param kvMemoryFraction share of the GPU memory left after the weights that the CUDA backend's KV pool
 *                         takes when {@code kvCapacityTokens} is 0
 * @param keySketches      the CUDA backend's pool keeps int8 sketches of its keys, which TokenSelect with
 *                         {@code keys=int8} scores on the device (they take (d + 4) bytes per key and KV head
 *                         beside the pool's 4d, so the pool holds about a fifth fewer tokens)
 * @param kvHostBytes      pinned host memory the CUDA backend's KV pool extends into past its device part
 *                         (0: none); its blocks are read over the bus, so it suits TokenSelect with key sketches
 */
public record EngineOptions(String backend, int device, int threads, long kvCapacityTokens, int blockSize,
                            double kvMemoryFraction, boolean keySketches, long kvHostBytes) {

    public static final int DEFAULT_BLOCK_SIZE = 32;
    public static final double DEFAULT_KV_MEMORY_FRACTION = 0.9;

    public EngineOptions {
        if (!backend.equals("auto") && !backend.equals("cpu") && !backend.equals("cuda")) {
            throw new IllegalArgumentException("unknown backend '" + backend + "': use auto, cpu or cuda");
        }
        if (!(kvMemoryFraction > 0 && kvMemoryFraction <= 1)) {
            throw new IllegalArgumentException("the KV memory fraction must be in (0, 1], was " + kvMemoryFraction);
        }
        if (kvHostBytes < 0) {
            throw new IllegalArgumentException("the host memory for KV must be >= 0 bytes, was " + kvHostBytes);
        }
    }

    public EngineOptions(String backend, int device, int threads, long kvCapacityTokens, int blockSize,
                         double kvMemoryFraction, boolean keySketches) {
        this(backend, device, threads, kvCapacityTokens, blockSize, kvMemoryFraction, keySketches, 0);
    }

    public EngineOptions(String backend, int device, int threads, long kvCapacityTokens, int blockSize,
                         double kvMemoryFraction) {
        this(backend, device, threads, kvCapacityTokens, blockSize, kvMemoryFraction, false);
    }

    public EngineOptions(String backend, int device, int threads, long kvCapacityTokens, int blockSize) {
        this(backend, device, threads, kvCapacityTokens, blockSize, DEFAULT_KV_MEMORY_FRACTION);
    }

    public EngineOptions withKeySketches(boolean on) {
        return new EngineOptions(backend, device, threads, kvCapacityTokens, blockSize, kvMemoryFraction, on,
                kvHostBytes);
    }

    /** Pinned host memory the CUDA backend's KV pool extends into (bytes; 0: none). */
    public EngineOptions withKvHostBytes(long bytes) {
        return new EngineOptions(backend, device, threads, kvCapacityTokens, blockSize, kvMemoryFraction, keySketches,
                bytes);
    }

    /** {@code gib} GiB as bytes, for {@link #withKvHostBytes}; a negative or non-finite count is refused. */
    public static long gibBytes(double gib) {
        if (!(gib >= 0) || Double.isInfinite(gib)) {
            throw new IllegalArgumentException("host memory for KV must be a finite number of GiB >= 0, was " + gib);
        }
        return (long) (gib * (1L << 30));
    }

    public static EngineOptions defaults() {
        return new EngineOptions("auto", 0, 0, 0, DEFAULT_BLOCK_SIZE);
    }
}
