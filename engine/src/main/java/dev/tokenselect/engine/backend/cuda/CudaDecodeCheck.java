package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

import dev.tokenselect.engine.backend.Candidates;
import dev.tokenselect.engine.generate.Sampler;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.HeadSoftVote;
import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.select.TokenSelectPolicy;
import dev.tokenselect.engine.select.TopK;
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

    /** gemvBatch (plain and with the fused RMSNorm; nb 1..8 and 11) against a host computation. */
    void gemvBatchKernel(CudaDevice dev, CudaKernels k) {
        boolean spread = k.spreadGemv();
        for (boolean spreadOne : new boolean[] {false, true}) { // one vector: row per warp, or spread
            k.setSpreadGemv(spreadOne);
            k.setSpreadAllShapes(spreadOne); // these shapes are below the spread kernel's own threshold
            for (boolean multiRow : new boolean[] {false, true}) {
                if (spreadOne && !multiRow) {
                    continue; // the multi-row switch does not touch one vector
                }
                k.setMultiRowBatches(multiRow);
                gemvBatchKernel(dev, k, 300, 264);
                gemvBatchKernel(dev, k, 9000, 64); // tall: the four-rows-per-warp variants
            }
            k.setMultiRowBatches(true);
            gemvBatchKernel(dev, k, 1000, 904); // rows of 113 chunks: each row's last unit partly past its end
            gemvGluKernel(dev, k);
        }
        k.setSpreadGemv(spread);
        k.setSpreadAllShapes(false);
        // the tensor-core batched GEMV: 16-row and 32-row blocks, a ragged last block, more vectors than
        // one launch takes, the input rows' stride wider than their length (the down GEMV's gate half)
        gemvBatchTcKernel(dev, k, 300, 256, 256);
        gemvBatchTcKernel(dev, k, 9000, 128, 128);
        gemvBatchTcKernel(dev, k, 1000, 896, 2 * 896);
    }

    /** n standard normal floats. */
    private float[] gaussians(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    /**
     * gemvBatchTc against a host computation in double (bias, accumulation into Y) of the kernel's
     * operands: each x as its two bf16 terms (16 significant bits; against exact x the difference is
     * sqrt(K) * 2^-18 * |w| |x|, 2e-4 at K = 896, which would hide an error of that size), so what is
     * left is fp32 accumulation.
     */
    private void gemvBatchTcKernel(CudaDevice dev, CudaKernels k, int rows, int cols, int ldx) {
        short[] wb = new short[rows * cols];
        for (int i = 0; i < wb.length; i++) {
            wb[i] = Bf16.fromFloat((float) (0.05 * rnd.nextGaussian()));
        }
        float[] bias = gaussians(rows);
        CUdeviceptr dw = dev.alloc(2L * wb.length, "test");
        dev.copyToDevice(dw, wb, wb.length);
        CUdeviceptr db = dev.upload(bias, "test");
        for (int nb : new int[] {5, 8, 9, 16, 21}) {
            float[] x = gaussians(nb * ldx);
            int ldy = rows + 4;
            float[] y0 = gaussians(nb * ldy);
            CUdeviceptr dx = dev.upload(x, "test");
            CUdeviceptr dy = dev.upload(y0, "test");
            k.gemvBatchTc(dw, dx, ldx, dy, ldy, db, rows, cols, nb, true);
            float[] got = new float[y0.length];
            dev.copyToHost(got, dy, got.length);
            double worst = 0;
            for (int b = 0; b < nb; b++) {
                for (int r = 0; r < rows; r++) {
                    double acc = 0;
                    for (int c = 0; c < cols; c++) {
                        float hi = Bf16.round(x[b * ldx + c]);
                        float lo = Bf16.round(x[b * ldx + c] - hi);
                        acc += (double) Bf16.toFloat(wb[r * cols + c]) * ((double) hi + lo);
                    }
                    double want = y0[b * ldy + r] + bias[r] + acc;
                    worst = Math.max(worst, Math.abs(got[b * ldy + r] - want) / (1 + Math.abs(want)));
                }
                for (int r = rows; r < ldy; r++) { // the padding of Y's rows stays as it was
                    if (got[b * ldy + r] != y0[b * ldy + r]) {
                        worst = Double.NaN;
                    }
                }
            }
            report.check(String.format(Locale.ROOT, "gemv_batch_tc_r%d %dx%d ldx=%d nb=%d",
                    CudaKernels.gemvBatchTcRowGroups(rows, dev.multiprocessors()), rows, cols, ldx, nb), worst, 1e-5);
            dev.free(dx);
            dev.free(dy);
        }
        dev.free(dw);
        dev.free(db);
    }

    /**
     * The gate|up GEMV with SwiGLU in its epilogue against the CPU twin (RMSNorm, both projections in
     * double, silu(gate) * up), on a ragged row count (the last warp's rows past the end).
     */
    void gemvGluKernel(CudaDevice dev, CudaKernels k) {
        for (int[] shape : new int[][] {{4864, 896}, {37, 64}, {1000, 136}}) {
            int rows = shape[0];
            int cols = shape[1];
            int ldx = cols + 4;
            short[] wb = new short[2 * rows * cols];
            float[] w = new float[wb.length];
            for (int i = 0; i < w.length; i++) {
                wb[i] = Bf16.fromFloat((float) rnd.nextGaussian() * 0.2f);
                w[i] = Bf16.toFloat(wb[i]);
            }
            float[] norm = new float[cols];
            float[] x = new float[ldx];
            for (int i = 0; i < cols; i++) {
                norm[i] = (float) (1 + 0.1 * rnd.nextGaussian());
                x[i] = (float) rnd.nextGaussian();
            }
            CUdeviceptr dw = dev.alloc(2L * wb.length, "test");
            dev.copyToDevice(dw, wb, wb.length);
            CUdeviceptr dn = dev.upload(norm, "test");
            CUdeviceptr dx = dev.upload(x, "test");
            CUdeviceptr dy = poisonedFloats(dev, rows + 8);
            k.gemvGlu(dw, dx, ldx, dy, dn, 1e-6f, rows, cols);
            float[] got = new float[rows + 8];
            dev.copyToHost(got, dy, got.length);
            double ss = 0;
            for (int c = 0; c < cols; c++) {
                ss += (double) x[c] * x[c];
            }
            double inv = 1 / Math.sqrt(ss / cols + 1e-6);
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                double g = 0;
                double u = 0;
                for (int c = 0; c < cols; c++) {
                    double xin = x[c] * inv * norm[c];
                    g += w[r * cols + c] * xin;
                    u += w[(rows + r) * cols + c] * xin;
                }
                double want = g / (1 + Math.exp(-g)) * u;
                worst = Math.max(worst, Math.abs(got[r] - want) / (1 + Math.abs(want)));
            }
            boolean untouched = true; // nothing written past the last row
            for (int r = rows; r < rows + 8; r++) {
                untouched &= Float.isNaN(got[r]);
            }
            report.check(String.format(Locale.ROOT, "gemv_glu (gate|up + swiglu) %dx%d%s", rows, cols,
                            k.spreadGemv() ? " spread" : ""),
                    untouched ? worst : Double.NaN, 1e-4);
            dev.free(dw);
            dev.free(dn);
            dev.free(dx);
            dev.free(dy);
        }
    }

    private static CUdeviceptr poisonedFloats(CudaDevice dev, int n) {
        float[] nan = new float[n];
        Arrays.fill(nan, Float.NaN);
        return dev.upload(nan, "test");
    }

    private void gemvBatchKernel(CudaDevice dev, CudaKernels k, int rows, int cols) {
        int ldx = 2 * cols + 4;
        float[] w = new float[rows * cols];
        short[] wb = new short[w.length];
        for (int i = 0; i < w.length; i++) {
            wb[i] = Bf16.fromFloat((float) rnd.nextGaussian());
            w[i] = Bf16.toFloat(wb[i]);
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
            for (String mode : new String[] {"plain", "rmsnorm"}) {
                float[] x = gaussians(nb * ldx);
                int ldy = rows + 4;
                float[] y0 = gaussians(nb * ldy);
                CUdeviceptr dx = dev.upload(x, "test");
                CUdeviceptr dy = dev.upload(y0, "test");
                k.gemvBatch(dw, dx, ldx, dy, ldy, db, mode.equals("plain") ? null : dn, 1e-6f, rows, cols, nb, true);
                float[] got = new float[y0.length];
                dev.copyToHost(got, dy, got.length);
                double worst = 0;
                for (int b = 0; b < nb; b++) {
                    double[] xin = new double[cols];
                    double ss = 0;
                    for (int c = 0; c < cols; c++) {
                        ss += (double) x[b * ldx + c] * x[b * ldx + c];
                    }
                    double inv = 1 / Math.sqrt(ss / cols + 1e-6);
                    for (int c = 0; c < cols; c++) {
                        double g = x[b * ldx + c];
                        xin[c] = mode.equals("plain") ? g : g * inv * norm[c];
                    }
                    for (int r = 0; r < rows; r++) {
                        double acc = 0;
                        for (int c = 0; c < cols; c++) {
                            acc += w[r * cols + c] * xin[c];
                        }
                        double want = y0[b * ldy + r] + bias[r] + acc;
                        worst = Math.max(worst, Math.abs(got[b * ldy + r] - want) / (1 + Math.abs(want)));
                    }
                }
                report.check(String.format(Locale.ROOT, "gemv_batch %dx%d nb=%d %s%s%s", rows, cols, nb, mode,
                        k.multiRowBatches() ? " multi-row" : "", nb == 1 && k.spreadGemv() ? " spread" : ""), worst,
                        1e-4);
                dev.free(dx);
                dev.free(dy);
            }
        }
        dev.free(dw);
        dev.free(db);
        dev.free(dn);
    }

    /**
     * A logits row's best k on the device ({@code topKRow}: radix select, then the values gathered)
     * against the host's ranking ({@code Candidates.best}: higher logit first, the lower id on a tie),
     * on rows quantised so that many logits tie at the k-th value: the same ids, the same values.
     */
    void topKRowKernel(CudaDevice dev, CudaKernels k) {
        for (int[] c : new int[][] {{151_936, 256}, {151_936, 40}, {151_936, 1}, {1000, 256}, {300, 300}}) {
            int count = c[0];
            int kk = c[1];
            float[] row = new float[count];
            for (int i = 0; i < count; i++) {
                row[i] = Math.round(rnd.nextGaussian() * 6) / 2f;
            }
            CUdeviceptr dr = dev.upload(row, "test");
            CUdeviceptr scratch = dev.alloc(CudaKernels.topKRowScratchBytes(count), "test");
            CUdeviceptr ids = dev.alloc(4L * kk, "test");
            CUdeviceptr vals = dev.alloc(4L * kk, "test");
            k.topKRow(dr, count, kk, scratch, ids, vals);
            int[] got = new int[kk];
            float[] gotVals = new float[kk];
            dev.copyToHost(got, ids, kk);
            dev.copyToHost(gotVals, vals, kk);
            int[] want = Candidates.best(row, kk).ids().clone();
            Arrays.sort(want);
            int[] sorted = got.clone();
            Arrays.sort(sorted);
            int differ = 0;
            for (int i = 0; i < kk; i++) {
                differ += sorted[i] != want[i] ? 1 : 0;
                differ += got[i] < 0 || got[i] >= count || Float.compare(gotVals[i], row[got[i]]) != 0 ? 1 : 0;
            }
            report.check(String.format(Locale.ROOT, "top-k of a logits row, %d values, k=%d (%d differ)", count, kk,
                    differ), differ == 0 ? 0 : Double.NaN, 0);
            dev.free(dr);
            dev.free(scratch);
            dev.free(ids);
            dev.free(vals);
        }
    }

    /**
     * The device's head soft vote and top-k against {@code HeadSoftVote} and {@code TopK} on random
     * scores with many exact ties (quantised): the same candidates, except where the device's and the
     * host's exp differ in the last bits right at the k-th vote (near ties, counted and bounded).
     */
    void selectionKernel(CudaDevice dev, CudaKernels k) {
        for (int[] c : new int[][] {{7, 100, 32}, {14, 5000, 2048}, {28, 70_000, 2048}, {4, 3000, 2999},
                {8, 1000, 1000}}) {
            int heads = c[0];
            int count = c[1];
            int kk = c[2];
            float[][] scores = new float[heads][count];
            float[] flat = new float[heads * count];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < count; i++) {
                    scores[h][i] = Math.round(rnd.nextGaussian() * 16) / 8f; // steps of 1/8: many equal scores
                    flat[h * count + i] = scores[h][i];
                }
            }
            float[] hostVote = HeadSoftVote.vote(scores);
            int[] hostTop = TopK.ascending(hostVote, count, kk);
            int nInit = 4;
            int nLocal = 16;
            int from = nInit;
            int len = from + count + nLocal;
            CUdeviceptr ds = dev.upload(flat, "test");
            CUdeviceptr scratch = dev.alloc(CudaKernels.voteScratchBytes(heads, count), "test");
            CUdeviceptr out = dev.alloc(4L * (nInit + count + nLocal), "test");
            int n = k.voteAndTopK(ds, count, heads, count, kk, from, nInit, len, nLocal, scratch, out);
            int[] got = new int[n];
            dev.copyToHost(got, out, n);
            float[] devVote = new float[count];
            dev.copyToHost(devVote, scratch.withByteOffset(8L * heads), count); // behind the per-head stats
            double voteErr = CudaSelfTest.relMax(devVote, hostVote);
            // the expected entries, and which candidates sit at the k-th vote (either side may take them)
            float kth = Float.POSITIVE_INFINITY;
            for (int i : hostTop) {
                kth = Math.min(kth, hostVote[i]);
            }
            java.util.Set<Integer> want = new java.util.HashSet<>();
            for (int i : hostTop) {
                want.add(from + i);
            }
            int bad = 0;
            int nearTies = 0;
            boolean layout = n == nInit + Math.min(kk, count) + nLocal;
            for (int i = 0; i < nInit && layout; i++) {
                layout = got[i] == i;
            }
            for (int i = 0; i < nLocal && layout; i++) {
                layout = got[n - nLocal + i] == len - nLocal + i;
            }
            for (int i = nInit; i < n - nLocal; i++) {
                if (i > nInit && got[i] <= got[i - 1]) {
                    bad++; // not ascending
                }
                if (!want.contains(got[i])) {
                    float v = hostVote[got[i] - from];
                    if (Math.abs(v - kth) <= 1e-5f * kth) {
                        nearTies++;
                    } else {
                        bad++;
                    }
                }
            }
            report.check(String.format(Locale.ROOT, "ts_vote + radix top-k H=%d candidates=%d k=%d (%d near ties)",
                    heads, count, kk, nearTies), layout && bad == 0 ? voteErr : Double.NaN, 1e-5);
            for (CUdeviceptr p : new CUdeviceptr[] {ds, scratch, out}) {
                dev.free(p);
            }
        }
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
    /**
     * TokenSelect decode steps replayed from the graph (selection cache and selection on the device)
     * against the same steps through the host path, on two sequences with the same prompt: the
     * tokens are teacher-forced from the host path; logits within 2e-3 relative (5e-3 where attention
     * over the list has fp16 scores), no argmax differs, and the selection caches count the same hits,
     * misses and selections.
     */
    /**
     * Graph against host steps of TokenSelect: both attend over the list with the same kernel, but the
     * inputs differ in rounding (GEMV against GEMM projections), which fp16 scores (11 bits) carry
     * further than fp32 or hi + lo scores: the tolerance of the fp16 attention kernels then (a
     * Qwen3-0.6B geometry at 6,000 tokens gives 4.1e-3).
     */
    private static double listTolerance(CudaBackend backend) {
        return backend.tensorCoreDecode() && backend.decodePrecision() == DecodeAttentionPrecision.F16 ? 5e-3 : 2e-3;
    }

    void graphSelectionVsHost(CudaBackend backend, String name, int context) {
        graphSelectionVsHost(backend, name, context, false);
    }

    /**
     * With {@code int8Keys} the policy scores int8 sketches of the keys: the graph keeps the device's
     * sketches current as it appends, the host steps sketch on the CPU ({@code KeySketch}, the device's
     * selection off); then both sequences are forked in the middle of a block and decode on, so the
     * fork's copied sketches are checked too.
     */
    void graphSelectionVsHost(CudaBackend backend, String name, int context, boolean int8Keys) {
        int d = backend.config().headDim();
        if (!backend.graphShapes() || (d != 64 && d != 128)) {
            report.pass(name + " TokenSelect graph decode", "skipped: shapes outside the decode kernels");
            return;
        }
        SelectionParams params = new SelectionParams(256, 16, 64, 0.9, 64).withInt8Keys(int8Keys);
        int[] prompt = randomTokens(context, backend.config().vocabSize());
        int steps = 24;
        try (CudaSequence host = backend.newSequence(AttentionSpec.tokenSelect(params));
             CudaSequence graph = backend.newSequence(AttentionSpec.tokenSelect(params))) {
            hostPath(backend, true, int8Keys);
            float[] logits = backend.forward(host, prompt);
            hostPath(backend, false, int8Keys);
            backend.forward(graph, prompt);
            int tok = CudaSelfTest.argmax(logits);
            compareSteps(backend, name + (int8Keys ? " int8 keys" : ""), context, host, graph, tok, steps, int8Keys);
            if (int8Keys) {
                int at = host.length() - 37; // inside a block: the fork copies that block and its sketches
                try (CudaSequence hostFork = backend.fork(host, at, AttentionSpec.tokenSelect(params));
                     CudaSequence graphFork = backend.fork(graph, at, AttentionSpec.tokenSelect(params))) {
                    compareSteps(backend, name + " int8 keys, forks", at, hostFork, graphFork, tok, steps, true);
                }
            }
        } finally {
            backend.setGraphSelection(CudaBackend.GRAPH_SELECTION_DEFAULT);
            backend.setDeviceSelection(true);
        }
    }

    /** Host steps (sketching on the CPU where the keys are int8) or the device's path. */
    private static void hostPath(CudaBackend backend, boolean host, boolean int8Keys) {
        backend.setGraphSelection(!host);
        backend.setDeviceSelection(!(host && int8Keys));
    }

    private void compareSteps(CudaBackend backend, String name, int context, CudaSequence host, CudaSequence graph,
                              int tok, int steps, boolean int8Keys) {
        var hs0 = host.selectionStats();
        var gs0 = graph.selectionStats();
        long[] before = {hs0.cacheHits(), hs0.cacheMisses(), hs0.selections(), gs0.cacheHits(), gs0.cacheMisses(),
                gs0.selections()};
        double worst = 0;
        int differ = 0;
        for (int step = 0; step < steps; step++) {
            hostPath(backend, true, int8Keys);
            float[] h = backend.forward(host, new int[] {tok}, true);
            hostPath(backend, false, int8Keys);
            float[] g = backend.forward(graph, new int[] {tok}, true);
            worst = Math.max(worst, CudaSelfTest.relMax(g, h));
            if (CudaSelfTest.argmax(g) != CudaSelfTest.argmax(h)) {
                differ++;
            }
            tok = CudaSelfTest.argmax(h);
        }
        var hs = host.selectionStats();
        var gs = graph.selectionStats();
        long[] c = {hs.cacheHits() - before[0], hs.cacheMisses() - before[1], hs.selections() - before[2],
                gs.cacheHits() - before[3], gs.cacheMisses() - before[4], gs.selections() - before[5]};
        String counts = String.format(Locale.ROOT, "host hits/misses/selections %d/%d/%d, graph %d/%d/%d",
                c[0], c[1], c[2], c[3], c[4], c[5]);
        report.check(String.format(Locale.ROOT, "%s TokenSelect graph decode vs host at %d (%d steps, %d argmax"
                + " differ; %s)", name, context, steps, differ, counts),
                differ == 0 && c[0] == c[3] && c[1] == c[4] && c[2] == c[5] && c[5] > 0 ? worst : Double.NaN,
                listTolerance(backend));
    }

    /**
     * Greedy steps that return only the device's argmax ({@code decodeArgmax}) against the same steps
     * with the logits copied out, teacher-forced from the latter: a batch of full-attention sequences
     * (one replayed graph) and a TokenSelect sequence (its own graph). Every token must equal the
     * argmax of the copied logits, and the TokenSelect caches must count the same hits, misses and
     * selections.
     */
    void argmaxOnlySteps(CudaBackend backend, String name, int context) {
        int[] prompt = randomTokens(context, backend.config().vocabSize());
        int steps = 16;
        for (boolean tokenSelect : new boolean[] {false, true}) {
            try (Twins t = twins(backend, prompt, tokenSelect)) {
                int[] tok = t.firstTokens();
                int differ = 0;
                for (int step = 0; step < steps; step++) {
                    float[][] logits = backend.decode(t.reference(), tok);
                    int[] next = backend.decodeArgmax(t.tried(), tok);
                    for (int i = 0; i < tok.length; i++) {
                        tok[i] = CudaSelfTest.argmax(logits[i]);
                        differ += next[i] != tok[i] ? 1 : 0;
                    }
                }
                report.check(String.format(Locale.ROOT, "%s %s greedy steps without the logits at ~%d (%d steps, %d of"
                        + " %d tokens differ%s)", name, t.what(), context, steps, differ, steps * tok.length,
                        t.selections()), differ == 0 && t.sameSelections() ? 0 : Double.NaN, 0);
            }
        }
    }

    /**
     * Top-k sampling steps whose candidates the device ranks ({@code decodeCandidates} with device
     * candidates on) against the same steps with the logits rows copied and ranked on the host, on a
     * batch of full-attention sequences and a TokenSelect sequence: the same candidates (ids and logit
     * bits) and, with samplers of the same seed, the same tokens, teacher-forced from the copied rows.
     */
    void deviceCandidateSteps(CudaBackend backend, String name, int context) {
        if (!backend.graphShapes()) {
            report.pass(name + " top-k candidates from the device", "skipped: shapes outside the decode kernels");
            return;
        }
        int[] prompt = randomTokens(context, backend.config().vocabSize());
        int steps = 12;
        SamplingParams params = SamplingParams.builder().temperature(0.9).topK(40).seed(3L).build();
        boolean before = backend.deviceCandidates();
        for (boolean tokenSelect : new boolean[] {false, true}) {
            try (Twins t = twins(backend, prompt, tokenSelect)) {
                int[] tok = t.firstTokens();
                Sampler[] hostSampler = new Sampler[tok.length];
                Sampler[] deviceSampler = new Sampler[tok.length];
                for (int i = 0; i < tok.length; i++) {
                    hostSampler[i] = new Sampler(params);
                    deviceSampler[i] = new Sampler(params);
                }
                int differ = 0;
                int tokensDiffer = 0;
                for (int step = 0; step < steps; step++) {
                    float[][] logits = backend.decode(t.reference(), tok);
                    Candidates[] got = with(backend::setDeviceCandidates, true, before,
                            () -> backend.decodeCandidates(t.tried(), tok, 40));
                    for (int i = 0; i < tok.length; i++) {
                        differ += sameCandidates(Candidates.best(logits[i], got[i].size()), got[i]) ? 0 : 1;
                        int a = hostSampler[i].sample(Candidates.best(logits[i], 40));
                        tokensDiffer += a != deviceSampler[i].sample(got[i]) ? 1 : 0;
                        tok[i] = a;
                    }
                }
                report.check(String.format(Locale.ROOT, "%s %s top-k candidates from the device at ~%d (%d steps: %d"
                        + " candidate lists and %d sampled tokens differ%s)", name, t.what(), context, steps, differ,
                        tokensDiffer, t.selections()), differ == 0 && tokensDiffer == 0 && t.sameSelections() ? 0
                        : Double.NaN, 0);
            }
        }
    }

    /**
     * Sequences stepped two ways on the same prompts: {@code reference} the way the check trusts,
     * {@code tried} the way it checks; {@code firstTokens} the reference's greedy first tokens.
     */
    private record Twins(String what, List<CudaSequence> reference, List<CudaSequence> tried, int[] firstTokens)
            implements AutoCloseable {

        /** Whether TokenSelect counted the same hits, misses and selections both ways (and selected at all). */
        boolean sameSelections() {
            for (int i = 0; i < reference.size(); i++) {
                var a = reference.get(i).selectionStats();
                var b = tried.get(i).selectionStats();
                boolean selects = reference.get(i).policy() instanceof TokenSelectPolicy;
                if (a.cacheHits() != b.cacheHits() || a.cacheMisses() != b.cacheMisses()
                        || a.selections() != b.selections() || selects && a.selections() == 0) {
                    return false;
                }
            }
            return true;
        }

        String selections() {
            return what.startsWith("TokenSelect") ? "; selections " + reference.get(0).selectionStats().selections()
                    + " / " + tried.get(0).selectionStats().selections() : "";
        }

        @Override
        public void close() {
            reference.forEach(CudaSequence::close);
            tried.forEach(CudaSequence::close);
        }
    }

    /**
     * Twin sequences, prefilled: three full-attention pairs of different lengths (one batch), or one
     * TokenSelect pair (budget 336, so it selects from the first step).
     */
    private Twins twins(CudaBackend backend, int[] prompt, boolean tokenSelect) {
        AttentionSpec spec = tokenSelect ? AttentionSpec.tokenSelect(new SelectionParams(256, 16, 64, 0.9, 64))
                : AttentionSpec.full();
        int n = tokenSelect ? 1 : 3;
        Twins t = new Twins(tokenSelect ? "TokenSelect" : "batch of " + n, new ArrayList<>(), new ArrayList<>(),
                new int[n]);
        try {
            for (int i = 0; i < n; i++) {
                int[] p = Arrays.copyOf(prompt, prompt.length - 7 * i);
                t.reference().add(backend.newSequence(spec));
                t.tried().add(backend.newSequence(spec));
                t.firstTokens()[i] = CudaSelfTest.argmax(backend.forward(t.reference().get(i), p));
                backend.forward(t.tried().get(i), p);
            }
            return t;
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
    }

    private static boolean sameCandidates(Candidates a, Candidates b) {
        if (a.size() != b.size()) {
            return false;
        }
        long[] x = new long[a.size()];
        long[] y = new long[b.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = ((long) a.ids()[i] << 32) | (Float.floatToRawIntBits(a.logits()[i]) & 0xffffffffL);
            y[i] = ((long) b.ids()[i] << 32) | (Float.floatToRawIntBits(b.logits()[i]) & 0xffffffffL);
        }
        Arrays.sort(x);
        Arrays.sort(y);
        return Arrays.equals(x, y);
    }

    /**
     * The policies' bulk key reads (one copy per block, for page-level selection) against reading the
     * same keys one token at a time, over a range that starts and ends inside blocks.
     */
    void keyReads(CudaBackend backend, String name) {
        int d = backend.config().headDim();
        try (CudaSequence seq = backend.newSequence()) {
            backend.forward(seq, randomTokens(123, backend.config().vocabSize()));
            var keys = backend.keyAccess(seq);
            int from = 5;
            int to = 117;
            int layer = backend.config().numLayers() - 1;
            int kvHead = backend.config().numKvHeads() - 1;
            float[] bulk = new float[(to - from) * d];
            keys.keys(layer, kvHead, from, to, d, bulk);
            float[] one = new float[(to - from) * d];
            for (int t = from; t < to; t++) {
                keys.key(layer, kvHead, t, one, (t - from) * d);
            }
            int differ = 0;
            boolean nonZero = false;
            for (int i = 0; i < bulk.length; i++) {
                differ += Float.compare(bulk[i], one[i]) != 0 ? 1 : 0;
                nonZero |= one[i] != 0;
            }
            report.check(String.format(Locale.ROOT, "%s key reads of tokens [%d, %d) in bulk vs one by one (%d differ)",
                    name, from, to, differ), differ == 0 && nonZero ? 0 : Double.NaN, 0);
        }
    }

    /**
     * Replayed decode steps with a path switched on against the same steps with it off, where the path
     * changes how the step runs but not its arithmetic (programmatic dependent launch): the logits must
     * be identical, bit for bit.
     */
    void sameLogitsEitherWay(CudaBackend backend, String name, String what, java.util.function.Consumer<Boolean> set,
                             boolean restore, int... batches) {
        int vocab = backend.config().vocabSize();
        for (int batch : batches) {
            List<CudaSequence> on = new ArrayList<>();
            List<CudaSequence> off = new ArrayList<>();
            try {
                int[] toks = new int[batch];
                for (int i = 0; i < batch; i++) {
                    CudaSequence s = backend.newSequence();
                    backend.forward(s, randomTokens(300 + 97 * i, vocab));
                    on.add(s);
                    off.add(backend.fork(s, 300 + 97 * i, AttentionSpec.full()));
                    toks[i] = 1 + i;
                }
                int differ = 0;
                long exact = 0;
                long total = 0;
                for (int step = 0; step < 8; step++) {
                    set.accept(true);
                    float[][] a = backend.decode(on, toks);
                    set.accept(false);
                    float[][] b = backend.decode(off, toks);
                    for (int i = 0; i < batch; i++) {
                        for (int j = 0; j < a[i].length; j++) {
                            exact += Float.compare(a[i][j], b[i][j]) == 0 ? 1 : 0;
                        }
                        total += a[i].length;
                        if (CudaSelfTest.argmax(a[i]) != CudaSelfTest.argmax(b[i])) {
                            differ++;
                        }
                        toks[i] = CudaSelfTest.argmax(b[i]);
                    }
                }
                report.check(String.format(Locale.ROOT, "%s %s vs without, batch %d (8 steps, %d argmax differ, %d of %d"
                        + " logits bit-equal)", name, what, batch, differ, exact, total),
                        differ == 0 && exact == total ? 0 : Double.NaN, 0);
            } finally {
                for (CudaSequence s : on) {
                    s.close();
                }
                for (CudaSequence s : off) {
                    s.close();
                }
                set.accept(restore);
            }
        }
    }

    void graphVsEager(CudaBackend backend, String name, int longDepth) {
        if (!backend.graphShapes()) {
            report.pass(name + " graph decode", "skipped: shapes outside the decode kernels (eager path used)");
            return;
        }
        int vocab = backend.config().vocabSize();
        int d = backend.config().headDim();
        DecodeAttentionPrecision precision = backend.decodePrecision();
        for (DecodeAttentionPrecision p : CudaKernels.decodePaths(d)) { // null: the fp32 decode attention
            backend.useDecodePath(p);
            String kernel = p == null ? "" : p == DecodeAttentionPrecision.HI_LO ? " [tensor-core attention]"
                    : " [tensor-core attention, " + p.label() + "]";
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
                        // fp16 scores (11 bits) against the eager step's fp32 attention: the tolerance of
                        // the fp16 attention kernels (a transformers-made Qwen2-7B gives 2.2e-3 to 2.9e-3)
                        double tol = p == DecodeAttentionPrecision.F16 ? 5e-3 : 2e-3;
                        report.check(String.format(Locale.ROOT, "%s graph decode vs eager at %d (16 steps, %d argmax differ)%s",
                                name, depth, differ, kernel), differ > 1 ? Double.NaN : worst, tol);
                    }
                }
            }
        }
        backend.useDecodePath(precision);
        backend.setTensorCoreDecode(CudaKernels.TENSOR_CORE_DECODE_DEFAULT);
        if (backend.programmaticLaunchPossible()) {
            sameLogitsEitherWay(backend, name, "programmatic launch", backend::setProgrammaticLaunch,
                    backend.programmaticLaunch(), 1, 4);
        }
        boolean tcBatches = backend.kernels().tensorCoreBatches();
        for (int run = 0; run < 3; run++) {
            // batches of 3 and 11 with the default GEMVs, then 11 on the tensor cores
            int batch = run == 0 ? 3 : 11;
            boolean tc = run == 2;
            backend.setTensorCoreBatches(tc);
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
                // the tensor cores take every GEMV's input as bf16 hi + lo (16 significant bits) where the
                // one-at-a-time step multiplies fp32: on a transformers-made Qwen2-7B 3.4e-3, against
                // 1.2e-3 to 1.6e-3 for the CUDA-core batches (fp32 sums in another order); the fp16
                // attention kernels' tolerance
                double tol = tc ? 5e-3 : 2e-3;
                report.check(String.format(Locale.ROOT, "%s batched decode of %d vs one at a time (%d argmax differ)%s",
                        name, batch, differ, tc ? " [tensor cores]" : ""), differ > 1 ? Double.NaN : worst, tol);
            } finally {
                batched.forEach(CudaSequence::close);
                single.forEach(CudaSequence::close);
            }
        }
        backend.setTensorCoreBatches(tcBatches);
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

    /** {@code measure} with a setting at {@code value}, then the setting back at {@code restore}. */
    private static <T> double with(Consumer<T> set, T value, T restore, DoubleSupplier measure) {
        return with(set, value, restore, (Supplier<Double>) measure::getAsDouble);
    }

    /** {@code work}'s result with a setting at {@code value}, then the setting back at {@code restore}. */
    private static <T, R> R with(Consumer<T> set, T value, T restore, Supplier<R> work) {
        set.accept(value);
        try {
            return work.get();
        } finally {
            set.accept(restore);
        }
    }

    /** Top-k 40 sampling tokens/s as the generator runs it (candidates from {@code decodeCandidates}). */
    private static double timeTopKSampling(CudaBackend backend, CudaSequence seq, int steps) {
        Sampler sampler = new Sampler(SamplingParams.builder().temperature(0.8).topK(40).seed(1L).build());
        List<CudaSequence> one = List.of(seq);
        return timeSteps(seq, steps, token -> sampler.sample(backend.decodeCandidates(one, new int[] {token}, 40)[0]));
    }

    /** Greedy decode tokens/s as the generator runs it: each step returns the device's argmax only. */
    private static double timeDecode(CudaBackend backend, CudaSequence seq, int steps) {
        List<CudaSequence> one = List.of(seq);
        return timeSteps(seq, steps, token -> backend.decodeArgmax(one, new int[] {token})[0]);
    }

    /** As {@link #timeDecode}, each step's logits copied out. */
    private static double timeDecodeWithLogits(CudaBackend backend, CudaSequence seq, int steps) {
        return timeSteps(seq, steps, token -> {
            backend.forward(seq, new int[] {token}, true);
            return seq.greedyToken();
        });
    }

    /** Tokens/s of {@code steps} decode steps (each maps a token to the next) after 4 untimed ones. */
    private static double timeSteps(CudaSequence seq, int steps, IntUnaryOperator step) {
        int token = seq.greedyToken() < 0 ? 1 : seq.greedyToken();
        long t0 = 0;
        for (int i = -4; i < steps; i++) {
            if (i == 0) {
                t0 = System.nanoTime();
            }
            token = step.applyAsInt(token);
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
            String line;
            double tps;
            try (CudaSequence seq = backend.newSequence()) {
                backend.fillForBenchmark(seq, ctx, KV_PATTERN);
                int steps = depth >= 65536 ? 48 : 96;
                tps = timeDecode(backend, seq, steps);
                double bytes = weights + (double) backend.kvBytesPerToken() * (ctx + steps / 2);
                double bound = copy * 1e9 / bytes;
                line = String.format(Locale.ROOT, "decode %-13s depth %6d: %7.1f tok/s graph; bound %7.1f (%.0f%%)",
                        name, depth, tps, bound, 100 * tps / bound);
                DoubleSupplier greedy = () -> timeDecode(backend, seq, steps);
                if (backend.programmaticLaunchPossible()) {
                    boolean pdl = backend.programmaticLaunch();
                    line += String.format(Locale.ROOT, "; %s %.1f tok/s", pdl ? "plain launches" : "programmatic launch",
                            with(backend::setProgrammaticLaunch, !pdl, pdl, greedy));
                }
                if (depth >= 4096) { // split-K aimed at fewer or more blocks per SM than the current
                    int current = backend.decodeBlocksPerSm();
                    for (int perSm : new int[] {current / 2, current * 2}) {
                        if (perSm >= 1) {
                            double t = with(backend::setDecodeBlocksPerSm, perSm, current, greedy);
                            line += String.format(Locale.ROOT, "; %d blocks/SM %.1f tok/s (%.3fx)", perSm, t, t / tps);
                        }
                    }
                }
                boolean spread = backend.spreadGemv();
                double otherGemv = with(backend::setSpreadGemv, !spread, spread, greedy);
                line += String.format(Locale.ROOT, "; %s %.1f tok/s (%.3fx)", spread ? "GEMVs one row per warp"
                        : "GEMVs spread evenly", otherGemv, otherGemv / tps);
                boolean glu = backend.fusedGlu();
                double unfused = with(backend::setFusedGlu, !glu, glu, greedy);
                line += String.format(Locale.ROOT, "; %s %.1f tok/s (%.3fx)", glu ? "separate SwiGLU launch"
                        : "SwiGLU in the gate|up GEMV", unfused, unfused / tps);
                boolean deviceCandidates = backend.deviceCandidates();
                DoubleSupplier topK = () -> timeTopKSampling(backend, seq, steps);
                double rowsTopK = with(backend::setDeviceCandidates, false, deviceCandidates, topK);
                double deviceTopK = with(backend::setDeviceCandidates, true, deviceCandidates, topK);
                line += String.format(Locale.ROOT, "; top-k 40 sampling %.1f tok/s with candidates from the device,"
                        + " %.1f with the rows copied (%.3fx)", deviceTopK, rowsTopK, deviceTopK / rowsTopK);
                double copied = timeDecodeWithLogits(backend, seq, steps);
                line += String.format(Locale.ROOT, "; logits copied to the host %.1f tok/s (argmax only %.3fx)", copied,
                        tps / copied);
                if (depth == 0) {
                    backend.setCudaGraphs(false);
                    double eager = timeDecode(backend, seq, 32);
                    backend.setCudaGraphs(true);
                    line += String.format(Locale.ROOT, "; eager launches %.1f tok/s (graph %.2fx)", eager, tps / eager);
                }
                int d = c.headDim();
                if (d == 64 || d == 128) {
                    boolean tcDefault = CudaKernels.TENSOR_CORE_DECODE_DEFAULT;
                    double other = with(backend::setTensorCoreDecode, !tcDefault, tcDefault, greedy);
                    line += String.format(Locale.ROOT, "; %s attention %.1f tok/s (%.0f%%)",
                            tcDefault ? "fp32" : "tensor-core", other, 100 * other / bound);
                    DecodeAttentionPrecision current = backend.decodePrecision();
                    for (DecodeAttentionPrecision p : tcDefault ? DecodeAttentionPrecision.values()
                            : new DecodeAttentionPrecision[0]) {
                        if (p != current) {
                            double t = with(backend::useDecodePath, p, current, greedy);
                            line += String.format(Locale.ROOT, "; %s scores %.1f tok/s (%.3fx)", p.label(), t, t / tps);
                        }
                    }
                }
                if (depth < 32768) {
                    System.out.println("     " + line);
                    report.summary(line);
                    continue;
                }
            }
            // TokenSelect (default budget 2048 + 128 + 512) at the same depth, once the full-attention
            // sequence has given its blocks back
            try (CudaSequence ts = backend.newSequence(AttentionSpec.tokenSelect(SelectionParams.defaults()))) {
                backend.fillForBenchmark(ts, ctx, KV_PATTERN);
                double tsTps = timeDecode(backend, ts, depth >= 65536 ? 48 : 96);
                line += String.format(Locale.ROOT, "; TokenSelect%s %.1f tok/s (%.2fx, selection-cache hit rate %.0f%%)",
                        backend.graphSelection() ? " (replayed graph)" : "", tsTps, tsTps / tps,
                        100 * ts.selectionStats().cacheHitRate());
            }
            // the same with the selection cache's threshold at -1: every step after the first a hit, what
            // a step costs when consecutive queries are alike (random weights make them unlike)
            SelectionParams alwaysHit = SelectionParams.defaults().withTheta(-1.0);
            try (CudaSequence ts = backend.newSequence(AttentionSpec.tokenSelect(alwaysHit))) {
                backend.fillForBenchmark(ts, ctx, KV_PATTERN);
                double hitTps = timeDecode(backend, ts, depth >= 65536 ? 48 : 96);
                line += String.format(Locale.ROOT, "; TokenSelect, every step a hit (theta -1) %.1f tok/s (%.2fx,"
                        + " selection-cache hit rate %.0f%%)", hitTps, hitTps / tps,
                        100 * ts.selectionStats().cacheHitRate());
            }
            System.out.println("     " + line);
            report.summary(line);
        }
        kernelProfile(backend, name, 4096, copy);
        boolean spread = backend.spreadGemv();
        backend.setSpreadGemv(!spread);
        try {
            kernelProfile(backend, name + (spread ? " (GEMVs one row per warp)" : " (GEMVs spread)"), 4096, copy);
        } finally {
            backend.setSpreadGemv(spread);
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
                int steps = 48;
                double[] secs = new double[3];
                boolean tcBatches = backend.kernels().tensorCoreBatches();
                // one row per warp for 5-8 vectors, then several, then the tensor cores (5 vectors and more)
                for (int variant = 0; variant < 3; variant++) {
                    backend.setMultiRowBatches(variant == 1);
                    backend.setTensorCoreBatches(variant == 2);
                    for (int i = 0; i < 4; i++) {
                        backend.decode(seqs, toks);
                    }
                    long t0 = System.nanoTime();
                    for (int i = 0; i < steps; i++) {
                        backend.decode(seqs, toks);
                    }
                    secs[variant] = (System.nanoTime() - t0) / 1e9;
                }
                backend.setMultiRowBatches(true);
                backend.setTensorCoreBatches(tcBatches);
                String line = String.format(Locale.ROOT, "batch  %-13s %2d sequences at ~512: %8.1f tok/s total, %6.2f ms/step;"
                        + " multi-row GEMV %8.1f tok/s; tensor cores %8.1f tok/s (%.3fx multi-row)", name, batch,
                        batch * steps / secs[0], 1e3 * secs[0] / steps, batch * steps / secs[1], batch * steps / secs[2],
                        secs[1] / secs[2]);
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

    private static double prefillRate(CudaBackend backend, int[] prompt) {
        return prefillRate(backend, prompt, AttentionSpec.full());
    }

    /** Prefill tokens/s with a switch set to {@code on}, then set back to {@code before}. */
    private static double prefillWith(CudaBackend backend, int[] prompt, AttentionSpec spec,
                                      java.util.function.Consumer<Boolean> set, boolean on, boolean before) {
        set.accept(on);
        try {
            return prefillRate(backend, prompt, spec);
        } finally {
            set.accept(before);
        }
    }

    private static double prefillRate(CudaBackend backend, int[] prompt, AttentionSpec spec) {
        try (CudaSequence seq = backend.newSequence(spec)) {
            long t0 = System.nanoTime();
            backend.forward(seq, prompt);
            return prompt.length / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Each kernel of a decode step alone (layer 0 and the final ones) at {@code depth}: where the step's
     * time goes, and each GEMV's bandwidth against the copy bandwidth. The estimate multiplies the
     * per-layer kernels by the layer count: the gap to the measured step is what launches between
     * kernels cost.
     */
    private void kernelProfile(CudaBackend backend, String name, int depth, double copyGbs) {
        if (depth + 200 > backend.kvCapacityTokens() || !backend.graphShapes()) {
            return;
        }
        try (CudaSequence seq = backend.newSequence()) {
            backend.fillForBenchmark(seq, depth, KV_PATTERN);
            double perLayer = 0;
            double other = 0;
            System.out.printf(Locale.ROOT, "     %s decode step, kernels alone at depth %d:%n", name, depth);
            for (var e : backend.profileDecodeStep(List.of(seq), 50)) {
                CudaBackend.DecodeOp op = e.getKey();
                double us = e.getValue();
                boolean final_ = op.name().startsWith("lm_head") || op.name().equals("argmax") || op.name().equals("embed");
                if (final_) {
                    other += us;
                } else {
                    perLayer += us;
                }
                String bw = op.weightBytes() > 0 ? String.format(Locale.ROOT, " %6.0f GB/s = %3.0f%% of copy",
                        op.weightBytes() / us / 1e3, 100 * op.weightBytes() / us / 1e3 / copyGbs) : "";
                System.out.printf(Locale.ROOT, "       %-30s %8.1f us%s%n", op.name(), us, bw);
            }
            int layers = backend.config().numLayers();
            String line = String.format(Locale.ROOT, "profile %-12s depth %d: kernels alone %.2f ms per step"
                    + " (%.1f us per layer x %d + %.1f us)", name, depth, (perLayer * layers + other) / 1e3, perLayer,
                    layers, other);
            System.out.println("     " + line);
            report.summary(line);
        }
    }

    /** Where the time of a prefill goes: device microseconds per token of each phase, summed over layers and chunks. */
    private static String prefillPhases(CudaBackend backend, int[] prompt, String name) {
        Map<String, Double> ms = backend.profilePrefill(prompt);
        double total = ms.values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "prefill profile %-12s %d tokens: %.1f us per token of device time in the phases, each timed alone", name, prompt.length,
                1e3 * total / prompt.length));
        ms.forEach((phase, t) -> b.append(String.format(Locale.ROOT, "; %s %.2f (%.0f%%)", phase,
                1e3 * t / prompt.length, 100 * t / total)));
        return b.toString();
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
        CudaDevice dev = backend.cudaDevice();
        CudaKernels k = backend.kernels();
        AttentionSpec full = AttentionSpec.full();
        double tps = prefillRate(backend, prompt);
        double scalarTps = prefillWith(backend, prompt, full, k::setFlashPrefill, false, true);
        int gemmMode = k.gemmMode();
        k.setGemmMode(CudaKernels.GEMM_SMALL_TILES);
        double smallTileTps = prefillRate(backend, prompt);
        k.setGemmMode(CudaKernels.GEMM_WHOLE_K);
        double wholeKTps = prefillRate(backend, prompt);
        k.setGemmMode(CudaKernels.GEMM_TILE_SPLITS);
        double tileSplitsTps = prefillRate(backend, prompt);
        k.setGemmMode(gemmMode);
        boolean rowScales = k.f16RowScales();
        double flipRowsTps = prefillWith(backend, prompt, full, k::setF16RowScales, !rowScales, rowScales);
        boolean fusedQkv = backend.fusedQkvGemm();
        double flipQkvTps = prefillWith(backend, prompt, full, backend::setFusedQkvGemm, !fusedQkv, fusedQkv);
        // the pipelined GEMMs on Hopper's warpgroup MMA, or back on mma.sync (each with its default
        // activations unless one was asked for)
        String wgmmaTps = "";
        if (k.wgmmaAvailable()) {
            boolean wg = k.wgmmaGemm();
            k.setWgmmaGemm(!wg);
            String flipped = k.activationsInUse().label();
            k.setWgmmaGemm(wg);
            wgmmaTps = String.format(Locale.ROOT, "; GEMMs on %s (%s activations): %.0f", wg ? "mma.sync" : "wgmma",
                    flipped, prefillWith(backend, prompt, full, k::setWgmmaGemm, !wg, wg));
        }
        // the precision switch of the GEMM's activations, and every other path of prefill attention
        GemmActivations xsNow = k.gemmActivations();
        GemmActivations xsUsed = k.activationsInUse();
        StringBuilder activationsTps = new StringBuilder();
        for (GemmActivations a : GemmActivations.values()) {
            if (a != xsUsed) {
                k.setGemmActivations(a);
                try {
                    activationsTps.append(String.format(Locale.ROOT, "; %s activations: %.0f", a.label(),
                            prefillRate(backend, prompt, full)));
                } finally {
                    k.setGemmActivations(xsNow);
                }
            }
        }
        int headDim = backend.config().headDim();
        String current = k.prefillPath(headDim);
        StringBuilder attentionTps = new StringBuilder();
        k.forEachPrefillPath(false, headDim, path -> attentionTps.append(String.format(Locale.ROOT, "; %s attention: %.0f", path,
                prefillRate(backend, prompt, full))));
        // TokenSelect's default budget (2,688) selects from the sixth chunk on
        double tsTps = prefillRate(backend, prompt, AttentionSpec.tokenSelect(SelectionParams.defaults()));
        boolean dsq = backend.deviceScoringQuery();
        double tsFlipTps = prefillWith(backend, prompt, AttentionSpec.tokenSelect(SelectionParams.defaults()),
                backend::setDeviceScoringQuery, !dsq, dsq);
        int m = 512;
        int rows = 2 * c.intermediateSize();
        int cols = c.hiddenSize();
        CUdeviceptr x = dev.alloc(4L * m * cols, "bench");
        CUdeviceptr w = dev.alloc(2L * rows * cols, "bench");
        CUdeviceptr y = dev.alloc(4L * m * rows, "bench");
        dev.fill32(x, Float.floatToRawIntBits(0.01f), (long) m * cols);
        dev.fill32(w, KV_PATTERN, (long) rows * cols / 2);
        CudaDevice.Timer timer = dev.timer();
        CudaKernels.GemmSettings settings = k.gemmSettings();
        // the 64 x 64 kernel, the pipelined 128 x 128 one on mma.sync with each activation setting,
        // then the fp16 (by X, by row) and bf16 ones on wgmma where the device has it (those include
        // rounding X to 16 bits)
        List<String> labels = new ArrayList<>();
        List<Double> tflops = new ArrayList<>();
        List<Runnable> setups = new ArrayList<>();
        labels.add("64x64 hi-lo");
        setups.add(() -> {
            k.setGemmMode(CudaKernels.GEMM_SMALL_TILES);
            k.setGemmActivations(GemmActivations.HI_LO);
            k.setWgmmaGemm(false);
        });
        for (GemmActivations a : GemmActivations.values()) {
            labels.add("mma.sync " + a.label());
            setups.add(() -> {
                k.setGemmMode(CudaKernels.GEMM_PIPELINED);
                k.setGemmActivations(a);
                k.setWgmmaGemm(false);
            });
        }
        if (k.wgmmaAvailable()) {
            for (GemmActivations a : GemmActivations.values()) {
                for (boolean byRow : a == GemmActivations.F16 ? new boolean[] {false, true} : new boolean[] {false}) {
                    if (a.hasWgmmaKernel()) {
                        labels.add("wgmma " + a.label() + (byRow ? " per-row scales" : ""));
                        setups.add(() -> {
                            k.setGemmMode(CudaKernels.GEMM_PIPELINED);
                            k.setGemmActivations(a);
                            k.setWgmmaGemm(true);
                            k.setF16RowScales(byRow);
                        });
                    }
                }
            }
        }
        for (Runnable setup : setups) {
            setup.run();
            k.gemm(x, w, y, null, m, rows, cols, rows, false);
            int reps = 10;
            timer.start();
            for (int i = 0; i < reps; i++) {
                k.gemm(x, w, y, null, m, rows, cols, rows, false);
            }
            tflops.add(2.0 * m * rows * cols * reps / (timer.stopMillis() / 1e3) / 1e12);
        }
        k.restoreGemmSettings(settings);
        timer.destroy();
        dev.free(x);
        dev.free(w);
        dev.free(y);
        StringBuilder gemms = new StringBuilder();
        for (int i = 0; i < labels.size(); i++) {
            gemms.append(String.format(Locale.ROOT, "%s%s %.1f", i == 0 ? "" : ", ", labels.get(i), tflops.get(i)));
        }
        String line = String.format(Locale.ROOT, "prefill %-12s 4096 tokens in chunks of 512: %8.0f tok/s"
                + " (%s attention, %s activations%s; fp32 attention kernel: %.0f; 64x64 GEMM only: %.0f; K never split:"
                + " %.0f (split-K %.3fx); K shares filling one wave of tiles (on wgmma too): %.0f (%.3fx); fp16 scaled %s: %.0f;"
                + " q|k|v in %s: %.0f%s%s%s;"
                + " TokenSelect %.0f, scoring query %s: %.0f);"
                + " GEMM 512x%dx%d TFLOP/s: %s",
                name, tps, current, k.activationsInUse().label(),
                k.wgmmaInUse() && k.activationsInUse().hasWgmmaKernel() ? " on wgmma" : "",
                scalarTps, smallTileTps, wholeKTps, tps / wholeKTps, tileSplitsTps, tps / tileSplitsTps,
                rowScales ? "by the whole X" : "row by row", flipRowsTps,
                fusedQkv ? "three GEMMs" : "one GEMM", flipQkvTps, wgmmaTps, activationsTps, attentionTps, tsTps,
                dsq ? "on the host" : "on the device", tsFlipTps, rows, cols, gemms);
        System.out.println("     " + line);
        report.summary(line);
        String phases = prefillPhases(backend, prompt, name);
        System.out.println("     " + phases);
        report.summary(phases);
        longPrefill(backend, name);
    }

    /**
     * A 16K-token prompt, where prefill attention outweighs the GEMMs: each precision of prefill
     * attention with its keys rotated per block and staged once per chunk, side by side.
     */
    private void longPrefill(CudaBackend backend, String name) {
        int n = 16384;
        if (n + 64 > backend.kvCapacityTokens()) {
            return;
        }
        int[] prompt = randomTokens(n, backend.config().vocabSize());
        List<String> paths = new ArrayList<>();
        backend.kernels().forEachPrefillPath(true, backend.config().headDim(), path -> paths.add(String.format(Locale.ROOT, "%s %.0f tok/s", path,
                prefillRate(backend, prompt, AttentionSpec.full()))));
        String line = String.format(Locale.ROOT, "prefill %-12s %d tokens in chunks of 512: %s", name, n,
                String.join("; ", paths));
        System.out.println("     " + line);
        report.summary(line);
    }
}
