package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.select.AttentionSpec;
import jcuda.driver.CUdeviceptr;

/**
 * Checks and benchmarks of the replayed decode step (CUDA graphs, batched decode), run by
 * {@link CudaSelfTest} on a GPU machine: the batched GEMV against the host, graph decode against the
 * eagerly launched kernels (themselves checked against the CPU twins and transformers), batches
 * against sequences decoded one at a time, and decode speed at several context depths next to the
 * weight-plus-KV bandwidth bound measured in the same run.
 */
final class CudaDecodeCheck {

    /** bf16 0.0078125 in both halves: a harmless K/V value for benchmark contexts. */
    private static final int KV_PATTERN = 0x3c003c00;

    private final CudaSelfTest report;
    private final SplittableRandom rnd = new SplittableRandom(20261128);

    CudaDecodeCheck(CudaSelfTest report) {
        this.report = report;
    }

    // ------------------------------------------------------------------ kernel

    /** gemvBatch (with and without the fused RMSNorm, nb 1..8 and 11) against a host computation. */
    void gemvBatchKernel(CudaDevice dev, CudaKernels k) {
        int rows = 300;
        int cols = 264;
        int ldx = 268;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = Bf16.toFloat(Bf16.fromFloat((float) rnd.nextGaussian()));
        }
        short[] wb = new short[w.length];
        for (int i = 0; i < w.length; i++) {
            wb[i] = Bf16.fromFloat(w[i]);
        }
        float[] bias = new float[rows];
        float[] norm = new float[cols];
        for (int i = 0; i < rows; i++) {
            bias[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < cols; i++) {
            norm[i] = (float) (1 + 0.1 * rnd.nextGaussian());
        }
        CUdeviceptr dw = dev.alloc(2L * wb.length, "test");
        dev.copyToDevice(dw, wb, wb.length);
        CUdeviceptr db = dev.upload(bias, "test");
        CUdeviceptr dn = dev.upload(norm, "test");
        for (int nb : new int[] {1, 2, 3, 4, 5, 8, 11}) {
            for (boolean fused : new boolean[] {false, true}) {
                float[] x = new float[nb * ldx];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                int ldy = rows + 4;
                float[] y0 = new float[nb * ldy];
                for (int i = 0; i < y0.length; i++) {
                    y0[i] = (float) rnd.nextGaussian();
                }
                CUdeviceptr dx = dev.upload(x, "test");
                CUdeviceptr dy = dev.upload(y0, "test");
                k.gemvBatch(dw, dx, ldx, dy, ldy, db, fused ? dn : null, 1e-6f, rows, cols, nb, true);
                float[] got = new float[y0.length];
                dev.copyToHost(got, dy, got.length);
                double worst = 0;
                for (int b = 0; b < nb; b++) {
                    double inv = 1;
                    if (fused) {
                        double ss = 0;
                        for (int c = 0; c < cols; c++) {
                            ss += (double) x[b * ldx + c] * x[b * ldx + c];
                        }
                        inv = 1 / Math.sqrt(ss / cols + 1e-6);
                    }
                    for (int r = 0; r < rows; r++) {
                        double acc = 0;
                        for (int c = 0; c < cols; c++) {
                            double xv = x[b * ldx + c] * (fused ? inv * norm[c] : 1);
                            acc += w[r * cols + c] * xv;
                        }
                        double want = y0[b * ldy + r] + bias[r] + acc;
                        worst = Math.max(worst, Math.abs(got[b * ldy + r] - want) / (1 + Math.abs(want)));
                    }
                }
                report.check(String.format(Locale.ROOT, "gemv_batch %dx%d nb=%d%s", rows, cols, nb,
                        fused ? " +rmsnorm" : ""), worst, 1e-4);
                dev.free(dx);
                dev.free(dy);
            }
        }
        dev.free(dw);
        dev.free(db);
        dev.free(dn);
    }

    // ------------------------------------------------------------------ graph decode against eager

    private int[] randomTokens(int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(vocab);
        }
        return t;
    }

    /**
     * Teacher-forced decode of the same tokens through the replayed graph (one sequence) and through
     * the eager kernels (a fork of it), at a short and a long context; then batches of 3 and 11
     * sequences of different lengths against the same sequences decoded one at a time.
     */
    void graphVsEager(CudaBackend backend, String name, int longDepth) {
        if (!backend.graphShapes()) {
            report.pass(name + " graph decode", "skipped: shapes outside the decode kernels (eager path used)");
            return;
        }
        int vocab = backend.config().vocabSize();
        for (int depth : new int[] {100, longDepth}) {
            if (depth + 64 > backend.kvCapacityTokens() / 2) {
                continue;
            }
            try (CudaSequence a = backend.newSequence()) {
                float[] logits = backend.forward(a, randomTokens(depth, vocab));
                try (CudaSequence b = backend.fork(a, depth, AttentionSpec.full())) {
                    double worst = 0;
                    int tok = CudaSelfTest.argmax(logits);
                    int differ = 0;
                    for (int step = 0; step < 16; step++) {
                        backend.setCudaGraphs(true);
                        float[] g = backend.forward(a, new int[] {tok}, true);
                        backend.setCudaGraphs(false);
                        float[] e = backend.forward(b, new int[] {tok}, true);
                        backend.setCudaGraphs(true);
                        worst = Math.max(worst, CudaSelfTest.relMax(g, e));
                        if (CudaSelfTest.argmax(g) != CudaSelfTest.argmax(e)) {
                            differ++;
                        }
                        if (a.greedyToken() != CudaSelfTest.argmax(g)) {
                            differ += 100;
                        }
                        tok = CudaSelfTest.argmax(e);
                    }
                    report.check(String.format(Locale.ROOT, "%s graph decode vs eager at %d (16 steps, %d argmax differ)",
                            name, depth, differ), differ > 1 ? Double.NaN : worst, 2e-3);
                }
            }
        }
        for (int batch : new int[] {3, 11}) {
            List<CudaSequence> batched = new ArrayList<>();
            List<CudaSequence> single = new ArrayList<>();
            try {
                int[] toks = new int[batch];
                for (int i = 0; i < batch; i++) {
                    int len = 1 + (i * 137) % 700;
                    CudaSequence s = backend.newSequence();
                    batched.add(s);
                    toks[i] = CudaSelfTest.argmax(backend.forward(s, randomTokens(len, vocab)));
                    single.add(backend.fork(s, len, AttentionSpec.full()));
                }
                double worst = 0;
                int differ = 0;
                for (int step = 0; step < 8; step++) {
                    float[][] together = backend.decode(batched, toks);
                    for (int i = 0; i < batch; i++) {
                        float[] alone = backend.forward(single.get(i), new int[] {toks[i]}, true);
                        worst = Math.max(worst, CudaSelfTest.relMax(together[i], alone));
                        if (CudaSelfTest.argmax(together[i]) != CudaSelfTest.argmax(alone)) {
                            differ++;
                        }
                        toks[i] = CudaSelfTest.argmax(alone);
                    }
                }
                report.check(String.format(Locale.ROOT, "%s batched decode of %d vs one at a time (%d argmax differ)",
                        name, batch, differ), differ > 1 ? Double.NaN : worst, 2e-3);
            } finally {
                batched.forEach(CudaSequence::close);
                single.forEach(CudaSequence::close);
            }
        }
    }

    // ------------------------------------------------------------------ speed

    /** Device-to-device copy bandwidth (read + write bytes per second), the bound's reference. */
    static double copyBandwidth(CudaDevice dev) {
        long bytes = 512L << 20;
        CUdeviceptr a = dev.alloc(bytes, "bench");
        CUdeviceptr b = dev.alloc(bytes, "bench");
        dev.fill32(a, 0x3f803f80, bytes / 4);
        dev.copyDeviceToDevice(b, a, bytes);
        CudaDevice.Timer timer = dev.timer();
        int reps = 20;
        timer.start();
        for (int i = 0; i < reps; i++) {
            dev.copyDeviceToDevice(b, a, bytes);
        }
        double gbs = 2.0 * bytes * reps / (timer.stopMillis() / 1e3) / 1e9;
        timer.destroy();
        dev.free(a);
        dev.free(b);
        return gbs;
    }

    private static double timeDecode(CudaBackend backend, CudaSequence seq, int steps) {
        for (int i = 0; i < 4; i++) {
            backend.forward(seq, new int[] {seq.greedyToken() < 0 ? 1 : seq.greedyToken()}, true);
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            backend.forward(seq, new int[] {seq.greedyToken()}, true);
        }
        return steps / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * Decode tokens/s of one sequence at each context depth (KV filled without a prefill), next to the
     * bound copy bandwidth / (weights read per step + KV bytes of the context); the eager launches at
     * depth 0 for comparison; and the aggregate tokens/s of batches at a 512-token context.
     */
    void decodeBenchmark(CudaBackend backend, String name, int[] depths) {
        CudaDevice dev = backend.cudaDevice();
        dev.makeCurrent();
        double copy = copyBandwidth(dev);
        ModelConfig c = backend.config();
        long weights = backend.decodeWeightBytes();
        System.out.printf(Locale.ROOT, "     %s: copy bandwidth %.0f GB/s; %.2f GB of weights read per step;"
                + " %d KV bytes per cached token%n", name, copy, weights / 1e9, backend.kvBytesPerToken());
        for (int depth : depths) {
            int ctx = Math.max(1, depth);
            if (ctx + 200 > backend.kvCapacityTokens()) {
                System.out.printf(Locale.ROOT, "     %s depth %d: skipped (KV pool holds %d tokens)%n", name, depth,
                        backend.kvCapacityTokens());
                continue;
            }
            try (CudaSequence seq = backend.newSequence()) {
                backend.fillForBenchmark(seq, ctx, KV_PATTERN);
                int steps = depth >= 65536 ? 48 : 96;
                double tps = timeDecode(backend, seq, steps);
                double bytes = weights + (double) backend.kvBytesPerToken() * (ctx + steps / 2);
                double bound = copy * 1e9 / bytes;
                String line = String.format(Locale.ROOT, "decode %-13s depth %6d: %7.1f tok/s graph; bound %7.1f (%.0f%%)",
                        name, depth, tps, bound, 100 * tps / bound);
                if (depth == 0) {
                    backend.setCudaGraphs(false);
                    double eager = timeDecode(backend, seq, 32);
                    backend.setCudaGraphs(true);
                    line += String.format(Locale.ROOT, "; eager launches %.1f tok/s (graph %.2fx)", eager, tps / eager);
                }
                System.out.println("     " + line);
                report.summary(line);
            }
        }
        for (int batch : new int[] {1, 4, 8, 16}) {
            if ((long) batch * 700 > backend.kvCapacityTokens()) {
                continue;
            }
            List<CudaSequence> seqs = new ArrayList<>();
            try {
                int[] toks = new int[batch];
                for (int i = 0; i < batch; i++) {
                    CudaSequence s = backend.newSequence();
                    seqs.add(s);
                    backend.fillForBenchmark(s, 512, KV_PATTERN);
                    toks[i] = 1 + i;
                }
                for (int i = 0; i < 4; i++) {
                    backend.decode(seqs, toks);
                }
                int steps = 48;
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    backend.decode(seqs, toks);
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                String line = String.format(Locale.ROOT, "batch  %-13s %2d sequences at 512: %8.1f tok/s total, %6.2f ms/step",
                        name, batch, batch * steps / secs, 1e3 * secs / steps);
                System.out.println("     " + line);
                report.summary(line);
            } finally {
                seqs.forEach(CudaSequence::close);
            }
        }
        if (c.hiddenSize() % 8 == 0) {
            prefillBenchmark(backend, name);
        }
    }

    /** Prefill of 4096 tokens in the backend's chunks, and the tensor-core GEMM rate on the FFN shape. */
    private void prefillBenchmark(CudaBackend backend, String name) {
        ModelConfig c = backend.config();
        int n = 4096;
        if (n + 64 > backend.kvCapacityTokens()) {
            return;
        }
        int[] prompt = randomTokens(n, c.vocabSize());
        try (CudaSequence warm = backend.newSequence()) {
            backend.forward(warm, java.util.Arrays.copyOf(prompt, 512));
        }
        double tps;
        try (CudaSequence seq = backend.newSequence()) {
            long t0 = System.nanoTime();
            backend.forward(seq, prompt);
            tps = n / ((System.nanoTime() - t0) / 1e9);
        }
        CudaDevice dev = backend.cudaDevice();
        CudaKernels k = backend.kernels();
        int m = 512;
        int rows = 2 * c.intermediateSize();
        int cols = c.hiddenSize();
        CUdeviceptr x = dev.alloc(4L * m * cols, "bench");
        CUdeviceptr w = dev.alloc(2L * rows * cols, "bench");
        CUdeviceptr y = dev.alloc(4L * m * rows, "bench");
        dev.fill32(x, Float.floatToRawIntBits(0.01f), (long) m * cols);
        dev.fill32(w, KV_PATTERN, (long) rows * cols / 2);
        k.gemm(x, w, y, null, m, rows, cols, rows, false);
        CudaDevice.Timer timer = dev.timer();
        int reps = 10;
        timer.start();
        for (int i = 0; i < reps; i++) {
            k.gemm(x, w, y, null, m, rows, cols, rows, false);
        }
        double tflops = 2.0 * m * rows * cols * reps / (timer.stopMillis() / 1e3) / 1e12;
        timer.destroy();
        dev.free(x);
        dev.free(w);
        dev.free(y);
        String line = String.format(Locale.ROOT, "prefill %-12s 4096 tokens in chunks of 512: %8.0f tok/s; GEMM 512x%dx%d %.1f TFLOP/s",
                name, tps, rows, cols, tflops);
        System.out.println("     " + line);
        report.summary(line);
    }
}
