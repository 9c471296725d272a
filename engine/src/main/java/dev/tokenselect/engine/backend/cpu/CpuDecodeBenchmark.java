package dev.tokenselect.engine.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.Sampler;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Decode speed of the CPU backend against the machine's memory bandwidth, on a synthetic model of
 * Qwen2.5-0.5B geometry in bf16 (written to the given directory unless it already holds a model).
 * Decoding is memory-bound: each token reads every weight once, so the bound is
 * {@code bandwidth / weight bytes per token}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... dev.tokenselect.engine.backend.cpu.CpuDecodeBenchmark \
 *     DIR [promptTokens=16] [decodeTokens=32] [threads=0 (all cores)]
 * </pre>
 */
public final class CpuDecodeBenchmark {

    private static final long BANDWIDTH_BYTES = 2L << 30;
    private static final int BANDWIDTH_PASSES = 6;

    private CpuDecodeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: CpuDecodeBenchmark DIR [promptTokens=16] [decodeTokens=32] [threads=0]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int promptTokens = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int decodeTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 0;

        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            System.out.println("writing a synthetic Qwen2.5-0.5B-geometry model (bf16) to " + dir);
            SyntheticModelWriter.write(dir, Presets.config("qwen2.5-0.5b"), null, 1234, DType.BF16, 1, null);
        }

        CpuBackend.Options options = CpuBackend.Options.defaults().withThreads(threads)
                .withKvCapacityTokens(promptTokens + decodeTokens + 64L);
        try (Model model = Model.load(dir); CpuBackend backend = new CpuBackend(model, options)) {
            int vocab = model.config().vocabSize();
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) {
                prompt[i] = (int) ((i * 7919L + 13) % vocab);
            }
            System.out.println("device: " + backend.device());

            // warm-up (JIT): a short prompt and a few steps, on a sequence of its own
            try (Sequence warm = backend.newSequence()) {
                float[] l = backend.forward(warm, prompt);
                for (int i = 0; i < 8; i++) {
                    l = backend.forward(warm, new int[] {Sampler.argmax(l)});
                }
            }

            // bandwidth before and after decoding (best of both): on a shared machine a neighbour's load
            // can depress either measurement
            int threadCount = backend.options().resolvedThreads();
            double bandwidthBefore = measureBandwidth(threadCount);

            double[] stepSeconds = new double[decodeTokens];
            double prefillSeconds;
            try (Sequence seq = backend.newSequence()) {
                long t0 = System.nanoTime();
                float[] logits = backend.forward(seq, prompt);
                prefillSeconds = (System.nanoTime() - t0) / 1e9;
                for (int i = 0; i < decodeTokens; i++) {
                    int next = Sampler.argmax(logits);
                    long s = System.nanoTime();
                    logits = backend.forward(seq, new int[] {next});
                    stepSeconds[i] = (System.nanoTime() - s) / 1e9;
                }
            }
            double bandwidth = Math.max(bandwidthBefore, measureBandwidth(threadCount));

            double total = Arrays.stream(stepSeconds).sum();
            double[] sorted = stepSeconds.clone();
            Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            double tokensPerSecond = decodeTokens / total;
            double bestTokensPerSecond = 1 / sorted[0];
            long bytesPerToken = model.weights().bytesPerToken();
            double bound = bandwidth / bytesPerToken;

            System.out.printf(Locale.ROOT, "prefill: %d tokens in %.3f s (%.1f tokens/s)%n", promptTokens,
                    prefillSeconds, promptTokens / prefillSeconds);
            System.out.printf(Locale.ROOT, "decode: %d tokens, %.2f tokens/s (mean); steps: median %.1f ms, "
                    + "fastest %.1f ms, slowest %.1f ms%n", decodeTokens, tokensPerSecond, median * 1e3,
                    sorted[0] * 1e3, sorted[sorted.length - 1] * 1e3);
            System.out.printf(Locale.ROOT, "weight bytes per token: %,d (%.1f MB)%n", bytesPerToken, bytesPerToken / 1e6);
            System.out.printf(Locale.ROOT, "achieved weight read rate: %.2f GB/s (mean), %.2f GB/s (fastest step)%n",
                    bytesPerToken * tokensPerSecond / 1e9, bytesPerToken * bestTokensPerSecond / 1e9);
            System.out.printf(Locale.ROOT, "memory read bandwidth (%d threads, Vector API sum over %d GiB, best of %d "
                    + "passes before and %d after): %.2f GB/s%n", threadCount, BANDWIDTH_BYTES >> 30,
                    BANDWIDTH_PASSES, BANDWIDTH_PASSES, bandwidth / 1e9);
            System.out.printf(Locale.ROOT, "bound: %.2f tokens/s; achieved / bound = %.2f (mean), %.2f (fastest step)%n",
                    bound, tokensPerSecond / bound, bestTokensPerSecond / bound);
        }
    }

    /** Best read rate in bytes/s of a multi-threaded fp32 sum over a 2 GiB off-heap segment. */
    static double measureBandwidth(int threads) throws InterruptedException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(BANDWIDTH_BYTES, 4096);
            seg.fill((byte) 1); // touch every page before timing
            double best = 0;
            float[] sums = new float[threads];
            for (int pass = 0; pass < BANDWIDTH_PASSES; pass++) {
                Thread[] ts = new Thread[threads];
                long slice = BANDWIDTH_BYTES / threads / 256 * 256;
                long start = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    ts[t] = Thread.ofPlatform().start(() -> sums[id] = sum(seg, id * slice, slice));
                }
                for (Thread t : ts) {
                    t.join();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, slice * threads / seconds);
            }
            if (Float.isNaN(sums[0])) {
                System.out.println("(impossible)");
            }
            return best;
        }
    }

    private static float sum(MemorySegment seg, long from, long bytes) {
        var f = VectorMath.F;
        long step = 4L * f.vectorByteSize();
        FloatVector a0 = FloatVector.zero(f);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        ByteOrder order = ByteOrder.nativeOrder();
        for (long o = from, end = from + bytes - step + 1; o < end; o += step) {
            a0 = a0.add(FloatVector.fromMemorySegment(f, seg, o, order));
            a1 = a1.add(FloatVector.fromMemorySegment(f, seg, o + f.vectorByteSize(), order));
            a2 = a2.add(FloatVector.fromMemorySegment(f, seg, o + 2L * f.vectorByteSize(), order));
            a3 = a3.add(FloatVector.fromMemorySegment(f, seg, o + 3L * f.vectorByteSize(), order));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }
}
