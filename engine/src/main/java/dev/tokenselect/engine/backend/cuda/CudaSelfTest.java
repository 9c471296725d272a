package dev.tokenselect.engine.backend.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import jcuda.driver.CUdeviceptr;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CUDA backend's GPU tests, runnable without Maven (it ships in the CLI jar):
 * <ol>
 *   <li>every kernel against a plain-Java twin on random inputs of several shapes, outputs poisoned
 *       with NaN first, relative error ‖out − ref‖ / ‖ref‖ against a tolerance per op;</li>
 *   <li>the model fixtures ({@code engine/src/test/resources/fixtures/models}): logits against the
 *       transformers logits (max|Δ| / max|ref| ≤ 2e-2) and greedy tokens while the reference's top-2
 *       margin exceeds 0.05;</li>
 *   <li>the TokenSelect fixtures: greedy tokens through the simple path;</li>
 *   <li>decode tokens/s of a Qwen2.5-0.5B-geometry bf16 model, GEMV bandwidth against copy bandwidth.</li>
 * </ol>
 * Prints PASS/FAIL lines and a summary; exits 1 on any failure, 2 when no GPU is usable.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp tokenselect-engine-*-cli.jar \
 *     dev.tokenselect.engine.backend.cuda.CudaSelfTest --repo /path/to/repo [--large REF_DIR | --large-only REF_DIR]
 *     [--no-bench] [--kernels-only]</pre>
 */
public final class CudaSelfTest {

    private static final int NAN = 0x7fc00000;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final List<String> failures = new ArrayList<>();
    private final List<String> summary = new ArrayList<>();
    private int passed;
    private boolean kernels = true;
    private final SplittableRandom rnd = new SplittableRandom(20261127);

    public static void main(String[] args) throws Exception {
        Path repo = Path.of(".");
        Path large = null;
        boolean kernels = true;
        boolean bench = true;
        boolean modelsToo = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--repo" -> repo = Path.of(args[++i]);
                case "--no-bench" -> bench = false;
                case "--large" -> large = Path.of(args[++i]);
                case "--large-only" -> {
                    large = Path.of(args[++i]);
                    kernels = false;
                    modelsToo = false;
                }
                case "--kernels-only" -> {
                    modelsToo = false;
                    bench = false;
                }
                default -> {
                    System.err.println("usage: CudaSelfTest [--repo DIR] [--large REF_DIR | --large-only REF_DIR] [--no-bench] [--kernels-only]");
                    System.exit(64);
                }
            }
        }
        CudaSelfTest t = new CudaSelfTest();
        t.kernels = kernels;
        int rc = t.run(repo, modelsToo, bench, large);
        System.exit(rc);
    }

    int run(Path repo, boolean models, boolean bench, Path large) throws IOException {
        CudaDevice dev;
        try {
            dev = CudaDevice.open(0);
        } catch (CudaUnavailableException e) {
            System.out.println("no usable GPU, nothing checked (exit status 2): " + e.getMessage());
            return 2;
        }
        System.out.println("device: " + dev.describe());
        try {
            if (kernels) {
                CudaKernels k = new CudaKernels(dev);
                section("kernels", () -> kernelTests(dev, k));
                section("batched gemv", () -> new CudaDecodeCheck(this).gemvBatchKernel(dev, k));
                section("TokenSelect selection", () -> new CudaDecodeCheck(this).selectionKernel(dev, k));
                section("top-k of a logits row", () -> new CudaDecodeCheck(this).topKRowKernel(dev, k));
            }
        } finally {
            dev.close();
        }
        if (models) {
            section("models", () -> modelFixtures(repo));
            section("tokenselect", () -> tokenSelectFixtures(repo));
        }
        if (models) {
            section("graph decode", this::graphDecode);
        }
        if (bench && kernels) {
            section("bench", this::benchmark);
        }
        if (large != null) {
            Path dir = large;
            section("transformers models", () -> new CudaLargeModels(this).run(dir, bench));
        }
        if (models) {
            section("TokenSelect decode graph against the host path", this::graphSelection);
        }
        if (kernels) {
            section("KV pool extending into host memory", this::hostKvPool);
        }
        if (kernels) {
            CudaDevice last = CudaDevice.open(0);
            try {
                CudaKernels k = new CudaKernels(last);
                section("paths off by default", () -> pathsOffByDefault(last, k));
            } finally {
                last.close();
            }
        }
        System.out.println();
        System.out.println("==== summary ====");
        summary.forEach(System.out::println);
        System.out.printf(Locale.ROOT, "%d passed, %d failed%n", passed, failures.size());
        failures.forEach(f -> System.out.println("  failed: " + f));
        return failures.isEmpty() ? 0 : 1;
    }

    private interface Body {
        void run() throws Exception;
    }

    private void section(String name, Body body) {
        System.out.println("---- " + name + " ----");
        try {
            body.run();
        } catch (Throwable e) {
            fail(name, "threw " + e);
            e.printStackTrace(System.out);
        }
    }

    void check(String name, double error, double tol) {
        boolean ok = error <= tol; // NaN fails
        String line = String.format(Locale.ROOT, "%s %-58s err %.3e (tol %.0e)", ok ? "PASS" : "FAIL", name, error, tol);
        System.out.println(line);
        if (ok) {
            passed++;
        } else {
            failures.add(name);
        }
    }

    void summary(String line) {
        summary.add(line);
    }

    void pass(String name, String detail) {
        System.out.println("PASS " + name + " " + detail);
        passed++;
    }

    void fail(String name, String detail) {
        System.out.println("FAIL " + name + " " + detail);
        failures.add(name);
    }

    // ------------------------------------------------------------------ kernels

    /**
     * The GEMM with X as the fp16 kernel takes it: times the power of two that brings the largest |x|
     * into [2^14, 2^15), rounded to fp16, the products divided by it again; weights bf16 bits.
     */
    static double[] gemmReferenceF16(float[] xv, short[] w, float[] bias, int m, int n, int kk) {
        return gemmReferenceF16(xv, w, bias, m, n, kk, false);
    }

    /**
     * The fp16 activations' GEMM in fp64: X times the power of two that brings the largest |x| (of all
     * of X, or of each row where {@code perRow}) into [2^14, 2^15), rounded to fp16, times the bf16
     * weights, the sums divided by the scale.
     */
    static double[] gemmReferenceF16(float[] xv, short[] w, float[] bias, int m, int n, int kk, boolean perRow) {
        double[] scale = new double[m];
        float all = 0;
        for (float v : xv) {
            all = Math.max(all, Math.abs(v));
        }
        for (int i = 0; i < m; i++) {
            float amax = all;
            if (perRow) {
                amax = 0;
                for (int c = 0; c < kk; c++) {
                    amax = Math.max(amax, Math.abs(xv[i * kk + c]));
                }
            }
            scale[i] = amax > 0 ? Math.scalb(1.0, Math.min(15 - (Math.getExponent(amax) + 1), 100)) : 1;
        }
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
            double s = scale[i];
            for (int r = 0; r < n; r++) {
                double acc = 0;
                for (int c = 0; c < kk; c++) {
                    double x16 = Float.float16ToFloat(Float.floatToFloat16((float) (xv[i * kk + c] * s)));
                    acc += x16 * Bf16.toFloat(w[r * kk + c]);
                }
                ref[i * n + r] = acc / s + bias[r];
            }
        }
        return ref;
    }

    /**
     * One GEMM path in the current mode: Y = XW^T + b against {@code ref}, then accumulated into Y once
     * more, 2 (XW^T + b), against twice {@code ref}.
     */
    private void checkGemm(CudaDevice dev, CudaKernels k, String kernel, CUdeviceptr xp, CUdeviceptr wp, CUdeviceptr bp,
                           int m, int n, int kk, double[] ref, double tol) {
        double[] ref2 = Arrays.stream(ref).map(v -> 2 * v).toArray();
        CUdeviceptr yp = poisoned(dev, (long) m * n);
        k.gemm(xp, wp, yp, bp, m, n, kk, n, false);
        check(kernel + " M=" + m + " N=" + n + " K=" + kk + " +bias", relL2(download(dev, yp, m * n), ref), tol);
        k.gemm(xp, wp, yp, bp, m, n, kk, n, true);
        check(kernel + " M=" + m + " N=" + n + " K=" + kk + " +=Y", relL2(download(dev, yp, m * n), ref2), tol);
        dev.free(yp);
    }

    /**
     * Tolerance of a decode attention path against the fp64 reference: the fp32 kernel (null), the
     * tensor-core kernel on bf16 hi + lo scores (about 16 mantissa bits) or on fp16 scores (11).
     */
    private static double decodeTolerance(DecodeAttentionPrecision p) {
        return p == null ? 1e-4 : p == DecodeAttentionPrecision.HI_LO ? 3e-4 : 2e-3;
    }

    static double relL2(float[] out, double[] ref) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double dlt = out[i] - ref[i];
            num += dlt * dlt;
            den += ref[i] * ref[i];
        }
        if (Double.isNaN(num)) {
            return Double.NaN;
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private float[] randn(int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // sum of uniforms: cheap, roughly normal
            v[i] = (float) ((rnd.nextDouble() + rnd.nextDouble() + rnd.nextDouble() - 1.5) * 2 * scale);
        }
        return v;
    }

    private short[] bf16(float[] v) {
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = Bf16.fromFloat(v[i]);
        }
        return s;
    }

    private static CUdeviceptr uploadBf16(CudaDevice dev, short[] v) {
        CUdeviceptr p = dev.alloc(2L * v.length, "test");
        dev.copyToDevice(p, v, v.length);
        return p;
    }

    private static CUdeviceptr poisoned(CudaDevice dev, long floats) {
        CUdeviceptr p = dev.alloc(4L * floats, "test output");
        dev.fill32(p, NAN, floats);
        return p;
    }

    private static float[] download(CudaDevice dev, CUdeviceptr p, int n) {
        float[] out = new float[n];
        dev.copyToHost(out, p, n);
        return out;
    }

    private void kernelTests(CudaDevice dev, CudaKernels k) {
        // embedding gather
        for (int[] s : new int[][] {{1000, 64, 5}, {5000, 896, 33}}) {
            int vocab = s[0];
            int hidden = s[1];
            int n = s[2];
            short[] table = bf16(randn(vocab * hidden, 1));
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
                tokens[i] = rnd.nextInt(vocab);
            }
            CUdeviceptr t = uploadBf16(dev, table);
            CUdeviceptr tk = dev.upload(tokens, "t");
            CUdeviceptr out = poisoned(dev, (long) n * hidden);
            k.embed(t, tk, out, n, hidden);
            double[] ref = new double[n * hidden];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < hidden; c++) {
                    ref[i * hidden + c] = Bf16.toFloat(table[tokens[i] * hidden + c]);
                }
            }
            check("embed_bf16 vocab=" + vocab + " hidden=" + hidden + " n=" + n,
                    relL2(download(dev, out, n * hidden), ref), 0);
            dev.free(t);
            dev.free(tk);
            dev.free(out);
        }

        // RMSNorm: rows and heads
        for (int[] s : new int[][] {{1, 64}, {3, 896}, {5, 4096}, {2, 1000}, {56, 64}, {28, 128}, {8, 16}}) {
            int rows = s[0];
            int dim = s[1];
            float[] xv = randn(rows * dim, 2);
            float[] wv = randn(dim, 1);
            double[] ref = new double[rows * dim];
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int i = 0; i < dim; i++) {
                    ss += (double) xv[r * dim + i] * xv[r * dim + i];
                }
                double inv = 1 / Math.sqrt(ss / dim + 1e-6);
                for (int i = 0; i < dim; i++) {
                    ref[r * dim + i] = xv[r * dim + i] * inv * wv[i];
                }
            }
            CUdeviceptr xp = dev.upload(xv, "t");
            CUdeviceptr wp = dev.upload(wv, "t");
            CUdeviceptr out = poisoned(dev, (long) rows * dim);
            k.rmsNormRows(out, xp, wp, rows, dim, 1e-6f);
            check("rmsnorm_rows rows=" + rows + " dim=" + dim, relL2(download(dev, out, rows * dim), ref), 1e-5);
            dev.fill32(out, NAN, (long) rows * dim);
            k.rmsNormHeads(out, xp, wp, rows, dim, 1e-6f);
            check("rmsnorm_heads rows=" + rows + " dim=" + dim, relL2(download(dev, out, rows * dim), ref), 1e-5);
            k.rmsNormRows(xp, xp, wp, rows, dim, 1e-6f); // in place
            check("rmsnorm_rows in place rows=" + rows + " dim=" + dim, relL2(download(dev, xp, rows * dim), ref), 1e-5);
            dev.free(xp);
            dev.free(wp);
            dev.free(out);
        }

        // GEMV (decode): bias and accumulate variants, aligned and unaligned columns, r1 and r4 paths
        for (int[] s : new int[][] {{64, 64}, {896, 896}, {4864, 896}, {9728, 896}, {896, 4864}, {1000, 1001},
                {151936, 896}, {37, 24}}) {
            int rows = s[0];
            int cols = s[1];
            short[] w = bf16(randn(rows * cols, 0.05));
            float[] xv = randn(cols, 1);
            float[] bias = randn(rows, 1);
            float[] y0 = randn(rows, 1);
            double[] ref = new double[rows];
            for (int r = 0; r < rows; r++) {
                double acc = 0;
                for (int c = 0; c < cols; c++) {
                    acc += (double) Bf16.toFloat(w[r * cols + c]) * xv[c];
                }
                ref[r] = acc;
            }
            CUdeviceptr wp = uploadBf16(dev, w);
            CUdeviceptr xp = dev.upload(xv, "t");
            CUdeviceptr bp = dev.upload(bias, "t");
            CUdeviceptr yp = poisoned(dev, rows);
            k.gemv(wp, xp, yp, null, rows, cols, false);
            check("gemv_bf16 " + rows + "x" + cols, relL2(download(dev, yp, rows), ref), 1e-5);
            double[] ref2 = new double[rows];
            for (int r = 0; r < rows; r++) {
                ref2[r] = y0[r] + (float) (ref[r] + bias[r]);
            }
            dev.copyToDevice(yp, y0, rows);
            k.gemv(wp, xp, yp, bp, rows, cols, true);
            check("gemv_bf16 +bias +=y " + rows + "x" + cols, relL2(download(dev, yp, rows), ref2), 1e-5);
            dev.free(wp);
            dev.free(xp);
            dev.free(bp);
            dev.free(yp);
        }

        // GEMM (prefill, tensor cores): the twin rounds X to bf16 as the kernel does
        for (int[] s : new int[][] {{2, 64, 64}, {17, 896, 896}, {64, 128, 64}, {100, 4864, 896}, {513, 200, 4864},
                {130, 72, 40}, {1, 8, 8}, {300, 260, 1000}, {512, 1152, 896}, {64, 512, 2056}}) {
            int m = s[0];
            int n = s[1];
            int kk = s[2];
            short[] w = bf16(randn(n * kk, 0.05));
            float[] xv = randn(m * kk, 1);
            float[] bias = randn(n, 1);
            double[] ref = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < n; r++) {
                    double acc = 0;
                    for (int c = 0; c < kk; c++) {
                        float hi = Bf16.round(xv[i * kk + c]); // the kernel's two bf16 terms of x
                        float lo = Bf16.round(xv[i * kk + c] - hi);
                        acc += ((double) hi + lo) * Bf16.toFloat(w[r * kk + c]);
                    }
                    ref[i * n + r] = acc + bias[r];
                }
            }
            CUdeviceptr wp = uploadBf16(dev, w);
            CUdeviceptr xp = dev.upload(xv, "t");
            CUdeviceptr bp = dev.upload(bias, "t");
            // fp32 accumulation over K terms (two products each): relative error grows like sqrt(K) * 2^-24
            double tol = Math.max(1e-5, 4e-7 * Math.sqrt(kk));
            // the same product with x rounded to bf16 once (gemm_bf16_tc2_bf16)
            double[] refBf16 = new double[m * n];
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < n; r++) {
                    double acc = 0;
                    for (int c = 0; c < kk; c++) {
                        acc += (double) Bf16.round(xv[i * kk + c]) * Bf16.toFloat(w[r * kk + c]);
                    }
                    refBf16[i * n + r] = acc + bias[r];
                }
            }
            CudaKernels.GemmSettings before = k.gemmSettings();
            // the 64 x 64 kernel (hi + lo), then the pipelined 128 x 128 one with each activation setting,
            // whole and with K split over 2 to 4 shares where the tiles are few (M <= 256 here, K >= 2048
            // only), on mma.sync and on Hopper's warpgroup MMA where the device has it
            k.setGemmActivations(GemmActivations.HI_LO);
            k.setGemmMode(CudaKernels.GEMM_SMALL_TILES);
            checkGemm(dev, k, "gemm_bf16_tc", xp, wp, bp, m, n, kk, ref, tol);
            double[] refF16 = gemmReferenceF16(xv, w, bias, m, n, kk);
            double[] refF16Rows = gemmReferenceF16(xv, w, bias, m, n, kk, true);
            int splits = CudaKernels.gemmSplits(m, n, kk, dev.multiprocessors());
            for (boolean wg : k.wgmmaAvailable() ? new boolean[] {false, true} : new boolean[] {false}) {
                k.setWgmmaGemm(wg);
                for (GemmActivations a : GemmActivations.values()) {
                    if (wg && !a.hasWgmmaKernel()) {
                        continue; // hi + lo runs on mma.sync only
                    }
                    k.setGemmActivations(a);
                    double[] r = a == GemmActivations.BF16 ? refBf16 : a == GemmActivations.F16 ? refF16 : ref;
                    // fp16 on wgmma: scaled by the largest |x| of X, then row by row
                    for (boolean byRow : wg && a == GemmActivations.F16 ? new boolean[] {false, true}
                            : new boolean[] {false}) {
                        k.setF16RowScales(byRow);
                        String kernel = (wg ? a.wgmmaKernel() : a.kernel()) + (byRow ? " per-row scales" : "");
                        double[] rr = byRow ? refF16Rows : r;
                        k.setGemmMode(CudaKernels.GEMM_PIPELINED);
                        checkGemm(dev, k, kernel, xp, wp, bp, m, n, kk, rr, tol);
                        if (splits > 1) {
                            k.setGemmMode(CudaKernels.GEMM_AUTO);
                            checkGemm(dev, k, kernel + " split-K x" + splits, xp, wp, bp, m, n, kk, rr, tol);
                        }
                    }
                }
            }
            k.restoreGemmSettings(before);
            dev.free(wp);
            dev.free(xp);
            dev.free(bp);
        }

        // rows of activations around 1e-30 beside rows around 1e6: scaled row by row (wgmma), each row
        // keeps fp16's precision (one scale for all of X would flush the small rows to zero)
        if (k.wgmmaAvailable()) {
            int m = 300;
            int n = 260;
            int kk = 1000;
            short[] w = bf16(randn(n * kk, 0.05));
            float[] xv = randn(m * kk, 1);
            for (int i = 0; i < m; i++) {
                float f = i % 2 == 0 ? 1e-30f : 1e6f;
                for (int c = 0; c < kk; c++) {
                    xv[i * kk + c] *= f;
                }
            }
            float[] bias = new float[n];
            CUdeviceptr wp = uploadBf16(dev, w);
            CUdeviceptr xp = dev.upload(xv, "t");
            CUdeviceptr bp = dev.upload(bias, "t");
            double[] ref = gemmReferenceF16(xv, w, bias, m, n, kk, true);
            CudaKernels.GemmSettings before = k.gemmSettings();
            k.setGemmMode(CudaKernels.GEMM_PIPELINED);
            k.setGemmActivations(GemmActivations.F16);
            k.setWgmmaGemm(true);
            k.setF16RowScales(true);
            CUdeviceptr yp = poisoned(dev, (long) m * n);
            k.gemm(xp, wp, yp, bp, m, n, kk, n, false);
            float[] y = download(dev, yp, m * n);
            // the small rows against their own reference (a relative error over all of Y would not see them)
            float[] ySmall = new float[m / 2 * n];
            double[] refSmall = new double[m / 2 * n];
            for (int i = 0; i < m; i += 2) {
                for (int r = 0; r < n; r++) {
                    ySmall[i / 2 * n + r] = y[i * n + r];
                    refSmall[i / 2 * n + r] = ref[i * n + r];
                }
            }
            double tol = Math.max(1e-5, 4e-7 * Math.sqrt(kk));
            check(GemmActivations.F16.wgmmaKernel() + " per-row scales, rows ~ 1e-30 beside 1e6, all",
                    relL2(y, ref), tol);
            check(GemmActivations.F16.wgmmaKernel() + " per-row scales, rows ~ 1e-30 beside 1e6, small rows",
                    relL2(ySmall, refSmall), tol);
            dev.free(yp);
            k.restoreGemmSettings(before);
            dev.free(wp);
            dev.free(xp);
            dev.free(bp);
        }

        // fp16 activations far outside fp16's range: the kernel's power-of-two scale keeps them finite
        for (double range : new double[] {1e6, 1e-30}) {
            int m = 300;
            int n = 260;
            int kk = 1000;
            short[] w = bf16(randn(n * kk, 0.05));
            float[] xv = randn(m * kk, range);
            float[] bias = new float[n];
            CUdeviceptr wp = uploadBf16(dev, w);
            CUdeviceptr xp = dev.upload(xv, "t");
            CUdeviceptr bp = dev.upload(bias, "t");
            double[] ref = gemmReferenceF16(xv, w, bias, m, n, kk);
            CudaKernels.GemmSettings before = k.gemmSettings();
            k.setGemmMode(CudaKernels.GEMM_PIPELINED);
            k.setGemmActivations(GemmActivations.F16);
            for (boolean wg : k.wgmmaAvailable() ? new boolean[] {false, true} : new boolean[] {false}) {
                k.setWgmmaGemm(wg);
                checkGemm(dev, k, (wg ? GemmActivations.F16.wgmmaKernel() : GemmActivations.F16.kernel()) + " |x| ~ " + range, xp, wp, bp, m,
                        n, kk, ref, Math.max(1e-5, 4e-7 * Math.sqrt(kk)));
            }
            k.restoreGemmSettings(before);
            dev.free(wp);
            dev.free(xp);
            dev.free(bp);
        }

        // elementwise
        for (int n : new int[] {1, 255, 4864, 100_000}) {
            float[] g = randn(n, 3);
            float[] u = randn(n, 1);
            double[] ref = new double[n];
            double[] refAdd = new double[n];
            for (int i = 0; i < n; i++) {
                ref[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                refAdd[i] = g[i] + u[i];
            }
            CUdeviceptr gp = dev.upload(g, "t");
            CUdeviceptr up = dev.upload(u, "t");
            k.swiglu(gp, up, n);
            check("swiglu_f32 n=" + n, relL2(download(dev, gp, n), ref), 1e-6);
            dev.copyToDevice(gp, g, n);
            k.add(gp, up, n);
            check("add_f32 n=" + n, relL2(download(dev, gp, n), refAdd), 1e-7);
            dev.free(gp);
            dev.free(up);
        }
        // RMSNorm of rows rounded to fp16 row by row for a GEMM on wgmma, against the norm in double
        for (int dim : new int[] {4, 896, 3584, CudaKernels.RMSNORM16_MAX_DIM}) {
            int rows = 3;
            float[] xs = randn(rows * dim, 3);
            float[] nw = randn(dim, 0.5);
            CUdeviceptr xp = dev.upload(xs, "t");
            CUdeviceptr wp = dev.upload(nw, "t");
            CUdeviceptr op = dev.alloc(2L * rows * dim, "t");
            CUdeviceptr sp = dev.alloc(4L * rows, "t");
            k.rmsNormRowsF16(op, sp, xp, wp, rows, dim, 1e-6f);
            short[] out = new short[rows * dim];
            dev.copyToHost(out, op, rows * dim);
            float[] scales = download(dev, sp, rows);
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int c = 0; c < dim; c++) {
                    ss += (double) xs[r * dim + c] * xs[r * dim + c];
                }
                double inv = 1 / Math.sqrt(ss / dim + 1e-6);
                double[] want = new double[dim];
                float[] got = new float[dim];
                for (int c = 0; c < dim; c++) {
                    want[c] = xs[r * dim + c] * inv * nw[c];
                    got[c] = (float) (Float.float16ToFloat(out[r * dim + c]) / scales[r]);
                }
                worst = Math.max(worst, relL2(got, want));
            }
            check("rmsnorm_rows_f16 dim=" + dim + " (worst of 3 rows)", worst, 5e-4);
            dev.free(xp);
            dev.free(wp);
            dev.free(op);
            dev.free(sp);
        }
        // SwiGLU of gate|up rows rounded to fp16 row by row for the down GEMM on wgmma (a row of 1e-20s
        // beside rows of 1e4s: each row keeps fp16's precision)
        for (int ffn : new int[] {4, 4864, 18944, CudaKernels.SWIGLU16_MAX_FFN}) {
            int rows = 3;
            float[] gu = randn(rows * 2 * ffn, 2);
            for (int i = 0; i < ffn; i++) {
                gu[ffn + i] *= 1e-20f; // row 0's up half
                gu[2 * ffn + ffn + i] *= 1e4f; // row 1's
            }
            double[][] ref = new double[rows][ffn];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < ffn; i++) {
                    double g = gu[r * 2 * ffn + i];
                    ref[r][i] = g / (1 + Math.exp(-g)) * gu[r * 2 * ffn + ffn + i];
                }
            }
            CUdeviceptr gp = dev.upload(gu, "t");
            CUdeviceptr op = dev.alloc(2L * rows * ffn, "t");
            CUdeviceptr sp = dev.alloc(4L * rows, "t");
            k.swigluRowsF16(gp, op, sp, ffn, rows);
            short[] out = new short[rows * ffn];
            dev.copyToHost(out, op, rows * ffn);
            float[] scales = download(dev, sp, rows);
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                float[] got = new float[ffn];
                for (int i = 0; i < ffn; i++) {
                    got[i] = (float) (Float.float16ToFloat(out[r * ffn + i]) / scales[r]);
                }
                worst = Math.max(worst, relL2(got, ref[r]));
            }
            check("swiglu_rows_f16 ffn=" + ffn + " rows of ~1e-20, ~1, ~1e4 (worst row)", worst, 5e-4);
            dev.free(gp);
            dev.free(op);
            dev.free(sp);
        }
        {
            int rows = 7;
            int cols = 300;
            float[] y = randn(rows * cols, 1);
            float[] b = randn(cols, 1);
            double[] ref = new double[rows * cols];
            for (int i = 0; i < ref.length; i++) {
                ref[i] = y[i] + b[i % cols];
            }
            CUdeviceptr yp = dev.upload(y, "t");
            CUdeviceptr bp = dev.upload(b, "t");
            k.addBias(yp, bp, rows, cols);
            check("add_bias_f32 7x300", relL2(download(dev, yp, rows * cols), ref), 1e-7);
            dev.free(yp);
            dev.free(bp);
        }

        // TokenSelect's scoring query of a prefill chunk: each query rotated at nLocal + i, averaged
        for (int[] s : new int[][] {{1, 14, 64, 512}, {512, 28, 128, 512}, {37, 16, 128, 64}}) {
            int n = s[0];
            int heads = s[1];
            int d = s[2];
            int nLocal = s[3];
            HostRope hr = new HostRope(new dev.tokenselect.engine.model.RopeScaling.None().inverseFrequencies(1e6, d));
            float[] qv = randn(n * heads * d, 1);
            double[] ref = new double[heads * d];
            float[] tmp = new float[d];
            for (int h = 0; h < heads; h++) {
                float[] acc = new float[d];
                for (int i = 0; i < n; i++) { // in query order, in fp32, as the policy sums
                    System.arraycopy(qv, i * heads * d + h * d, tmp, 0, d);
                    hr.rotate(tmp, 0, nLocal + i);
                    for (int j = 0; j < d; j++) {
                        acc[j] += tmp[j];
                    }
                }
                for (int j = 0; j < d; j++) {
                    ref[h * d + j] = acc[j] / n;
                }
            }
            CUdeviceptr qp = dev.upload(qv, "t");
            CUdeviceptr inv = dev.upload(new dev.tokenselect.engine.model.RopeScaling.None().inverseFrequencies(1e6, d), "t");
            CUdeviceptr out = poisoned(dev, (long) heads * d);
            k.scoringQuery(qp, heads * d, n, heads, d, nLocal, inv, out);
            check("ts_scoring_query n=" + n + " H=" + heads + " d=" + d, relL2(download(dev, out, heads * d), ref), 1e-6);
            dev.free(qp);
            dev.free(inv);
            dev.free(out);
        }

        // RoPE
        for (int[] s : new int[][] {{3, 4, 64, 0}, {2, 14, 64, 1000}, {5, 2, 128, 30_000}, {1, 4, 16, 7}}) {
            int n = s[0];
            int heads = s[1];
            int d = s[2];
            int pos0 = s[3];
            float[] inv = new dev.tokenselect.engine.model.RopeScaling.None().inverseFrequencies(1e6, d);
            HostRope hr = new HostRope(inv);
            float[] xv = randn(n * heads * d, 1);
            float[] rv = xv.clone();
            for (int i = 0; i < n; i++) {
                for (int h = 0; h < heads; h++) {
                    hr.rotate(rv, i * heads * d + h * d, pos0 + i);
                }
            }
            CUdeviceptr xp = dev.upload(xv, "t");
            CUdeviceptr ip = dev.upload(inv, "t");
            k.rope(xp, heads * d, heads, d, ip, pos0, n);
            check("rope_rows n=" + n + " heads=" + heads + " d=" + d + " pos0=" + pos0,
                    relL2(download(dev, xp, xv.length), toDouble(rv)), 1e-5);
            dev.free(xp);
            dev.free(ip);
        }

        // KV append + attention (decode, prefill, sliding window, selection) + TokenSelect scores
        int[][] cases = ATTENTION_CASES;
        for (int[] c : cases) {
            attentionCase(dev, k, c[0], c[1], c[2], c[3], c[4], c[5], c[6] != 0);
        }

        // TokenSelect selection over the whole card against the CPU reference (HeadSoftVote, TopK)
        // {heads, kvHeads, d, cached tokens, k, all keys equal (every vote ties)}
        int[][] selections = {{28, 4, 128, 20_000, 2048, 0}, {14, 2, 64, 5_003, 300, 0}, {16, 8, 128, 9_000, 1000, 0},
                {28, 4, 128, 30_000, 100, 0}, {14, 2, 64, 4_000, 333, 1}};
        for (int[] c : selections) {
            deviceSelectionCase(dev, k, c[0], c[1], c[2], c[3], c[4], c[5] != 0);
        }
        // the captured form: launched for a power-of-two capacity, run on the count in ctrl; with the top-k's
        // automatic chunk the capacity's chunk (2,048) is not the count's (1,024)
        capturedSelectionCase(dev, k, 14, 2, 64, 1 << 19, 262_000, 2048);
        capturedSelectionCase(dev, k, 28, 4, 128, 1 << 12, 3_000, 300);

        // argmax: random values with a planted tie (first index wins)
        for (int n : new int[] {1, 1000, 151_936}) {
            float[] v = randn(n, 1);
            int a = rnd.nextInt(n);
            int b = rnd.nextInt(n);
            v[a] = 100;
            v[b] = 100;
            int expect = Math.min(a, b);
            CUdeviceptr vp = dev.upload(v, "t");
            CUdeviceptr op = dev.alloc(8, "t");
            dev.fill32(op, -1, 2);
            k.argmax(vp, n, op);
            int[] got = new int[2];
            dev.copyToHost(got, op, 2);
            check("argmax_f32 n=" + n, got[0] == expect ? 0 : 1, 0);
            dev.free(vp);
            dev.free(op);
        }
    }

    /**
     * {@link CudaKernels#selectOnDevice} on a random paged cache (shuffled block table) against the CPU
     * reference on the same bf16 keys: the chosen candidates must be the reference's, except near-ties
     * (vote within 1e-5 relative of the k-th largest); with every key equal, exactly the first k.
     */
    private void deviceSelectionCase(CudaDevice dev, CudaKernels k, int heads, int kvHeads, int d, int len, int topK,
                                     boolean allEqual) {
        int bs = 16;
        int blocks = (len + bs - 1) / bs;
        long blockElems = 2L * kvHeads * bs * d;
        float[] poolF = randn((int) (blockElems * blocks), 1);
        if (allEqual) {
            for (int i = 0; i < poolF.length; i++) {
                poolF[i] = poolF[i % d];
            }
        }
        short[] poolH = bf16(poolF);
        int[] table = SelectionReference.shuffledTable(blocks, rnd);
        int nInit = 8;
        int nLocal = 32;
        int from = nInit;
        int count = len - nInit - nLocal;
        float[] qbar = randn(heads * d, 1);
        int kk = Math.min(topK, count);

        CUdeviceptr pool = uploadBf16(dev, poolH);
        CUdeviceptr tp = dev.upload(table, "t");
        CUdeviceptr qp = dev.upload(qbar, "t");
        CUdeviceptr scratch = dev.alloc(CudaKernels.selectScratchBytes(heads, count), "t");
        CUdeviceptr out = dev.alloc(4L * (nInit + kk + nLocal), "t");
        CudaKernels.Kv kv = new CudaKernels.Kv(pool, blockElems, bs, kvHeads, d, blocks);
        Selection sel = new Selection(qp, kv, tp, null, heads, from, count, count, topK, nInit, len, nLocal, scratch,
                out, qbar, pagedKeys(poolH, table, blockElems, bs, d), allEqual, 0);
        boolean tc = d == 64 || d == 128;
        // the int8 sketches of the keys, for the same selections scored on them (tensor-core head dims)
        CudaKernels.Sketches sk = tc ? CudaKernels.Sketches.allocate(dev, kv, 1, blocks) : null;
        if (sk != null) {
            k.buildSketches(kv, tp, 0, 0, len, sk);
        }
        String tied = allEqual ? " all tied" : "";
        // each scoring pass: the same selection; against the register-fed pass the pipelined one's scores on
        // the keys the same bit for bit, on sketches the same to fp32 rounding (two accumulators), and the
        // int8 products' on sketches to the ~21 bits their query terms keep
        ScoringPass passBefore = k.scoringPass();
        ScoringPass[] passes = {ScoringPass.REGISTER_FED, ScoringPass.PIPELINED, ScoringPass.PIPELINED_INT8};
        float[][][] scores = new float[passes.length][2][tc ? heads * count : 0];
        for (int pass = 0; pass < (tc ? passes.length : 1); pass++) {
            k.setScoringPass(passes[pass]);
            String label = pass == 0 ? "" : ", " + passes[pass].label() + " scoring pass";
            SelectionReference.Result r = selectAndCompare(dev, k, sel, null);
            if (tc) {
                dev.copyToHost(scores[pass][0], scratch, scores[pass][0].length);
            }
            check(String.format(Locale.ROOT, "ts device selection H=%d Hkv=%d d=%d candidates=%d k=%d%s%s (%d near-ties)",
                    heads, kvHeads, d, count, kk, tied, label, r.nearTies()), r.wrong(), 0);
            if (tc) { // the same selection scored on int8 sketches, against the CPU scoring them
                SelectionReference.Result rs = selectAndCompare(dev, k, sel, sk);
                dev.copyToHost(scores[pass][1], scratch, scores[pass][1].length);
                check(String.format(Locale.ROOT, "ts device selection on int8 sketches H=%d Hkv=%d d=%d candidates=%d k=%d%s%s"
                        + " (%d near-ties)", heads, kvHeads, d, count, kk, tied, label, rs.nearTies()), rs.wrong(), 0);
            }
        }
        k.setScoringPass(passBefore);
        // the radix top-k with other chunks of candidates per block: the same selection
        int chunkBefore = k.selectChunk();
        for (int chunk : new int[] {1024, 4096, SelectChunk.AUTO}) {
            if (chunk == chunkBefore) {
                continue;
            }
            k.setSelectChunk(chunk);
            SelectionReference.Result r = selectAndCompare(dev, k, sel, null);
            check(String.format(Locale.ROOT, "ts device selection H=%d Hkv=%d d=%d candidates=%d k=%d%s, top-k chunk %s"
                    + " (%d near-ties)", heads, kvHeads, d, count, kk, tied, SelectChunk.label(chunk), r.nearTies()),
                    r.wrong(), 0);
        }
        k.setSelectChunk(chunkBefore);
        // the vote max-pooled over neighbouring candidates before the top-k, on the keys and on their sketches
        for (int width : new int[] {3, 7}) {
            Selection pooled = sel.pooled(width);
            SelectionReference.Result r = selectAndCompare(dev, k, pooled, null);
            check(String.format(Locale.ROOT, "ts device selection H=%d Hkv=%d d=%d candidates=%d k=%d%s, vote pooled"
                    + " over %d (%d near-ties)", heads, kvHeads, d, count, kk, tied, width, r.nearTies()), r.wrong(), 0);
            if (sk != null) {
                SelectionReference.Result rs = selectAndCompare(dev, k, pooled, sk);
                check(String.format(Locale.ROOT, "ts device selection on int8 sketches H=%d Hkv=%d d=%d candidates=%d"
                        + " k=%d%s, vote pooled over %d (%d near-ties)", heads, kvHeads, d, count, kk, tied, width,
                        rs.nearTies()), rs.wrong(), 0);
            }
        }
        if (sk != null) {
            sk.free(dev);
        }
        if (tc) {
            int differ = 0;
            for (int i = 0; i < scores[0][0].length; i++) {
                if (Float.floatToRawIntBits(scores[0][0][i]) != Float.floatToRawIntBits(scores[1][0][i])) {
                    differ++;
                }
            }
            check(String.format(Locale.ROOT, "ts pipelined scoring pass H=%d Hkv=%d d=%d candidates=%d: %d of %d scores"
                    + " differ from the register-fed pass", heads, kvHeads, d, count, differ, scores[0][0].length),
                    differ, 0);
            for (int pass = 1; pass < passes.length; pass++) {
                double maxDiff = 0;
                double maxAbs = 0;
                for (int i = 0; i < scores[0][1].length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(scores[0][1][i] - scores[pass][1][i]));
                    maxAbs = Math.max(maxAbs, Math.abs(scores[0][1][i]));
                }
                check(String.format(Locale.ROOT, "ts %s scoring pass on int8 sketches H=%d Hkv=%d d=%d candidates=%d"
                        + " (largest difference over largest score)", passes[pass].label(), heads, kvHeads, d, count),
                        maxAbs > 0 ? maxDiff / maxAbs : maxDiff, passes[pass] == ScoringPass.PIPELINED_INT8 ? 2e-6 : 1e-6);
            }
        }
        for (CUdeviceptr p : new CUdeviceptr[] {pool, tp, qp, scratch, out}) {
            dev.free(p);
        }
    }

    /**
     * One selection case on the device: launched for {@code launchCount} candidates from {@code from}
     * ({@code ctrl}, when set, names the {@code count} it runs on), compared with the CPU reference over
     * {@code count} candidates.
     */
    private record Selection(CUdeviceptr qbarDev, CudaKernels.Kv kv, CUdeviceptr table, CUdeviceptr ctrl, int heads,
                             int from, int launchCount, int count, int topK, int nInit, int len, int nLocal,
                             CUdeviceptr scratch, CUdeviceptr out, float[] qbar, SelectionReference.Keys keys,
                             boolean allTied, int pool) {
        int entries() {
            return nInit + Math.min(topK, count) + nLocal;
        }

        /** The same case with the vote max-pooled over {@code width} candidates. */
        Selection pooled(int width) {
            return new Selection(qbarDev, kv, table, ctrl, heads, from, launchCount, count, topK, nInit, len, nLocal,
                    scratch, out, qbar, keys, allTied, width);
        }
    }

    /** The selection on the keys, or on their sketches where {@code sk} is set, against the CPU reference on the same. */
    private static SelectionReference.Result selectAndCompare(CudaDevice dev, CudaKernels k, Selection c,
                                                              CudaKernels.Sketches sk) {
        int entries = c.entries();
        dev.fill32(c.out(), -1, entries);
        int n = k.selectOnDevice(c.qbarDev(), c.kv(), c.table(), 0, c.heads(), c.from(), c.launchCount(), c.topK(),
                c.nInit(), c.len(), c.nLocal(), c.scratch(), c.out(), c.ctrl(), sk, c.pool());
        int[] got = new int[entries];
        dev.copyToHost(got, c.out(), entries);
        int kvHeads = c.kv().kvHeads();
        int d = c.kv().headDim();
        return SelectionReference.compare(c.qbar(), c.heads(), kvHeads, d, sk != null ? c.keys().sketched(d) : c.keys(),
                c.from(), c.count(), c.topK(), c.nInit(), c.nLocal(), c.len(), Arrays.copyOf(got, Math.min(n, entries)),
                c.allTied(), c.pool());
    }

    /** Key e of KV head g at token t of a bf16 paged cache (blocks of bs tokens, [K|V][head][slot][d] per block). */
    private static SelectionReference.Keys pagedKeys(short[] poolH, int[] table, long blockElems, int bs, int d) {
        return (t, g, e) -> Bf16.toFloat(
                poolH[(int) (table[t / bs] * blockElems + (long) g * bs * d + (long) (t % bs) * d + e)]);
    }

    /**
     * {@link CudaKernels#selectOnDevice}'s captured form on a random paged cache: launched for
     * {@code capacity} candidates, it must select among the {@code count} that ctrl names (ctrl = (0,
     * count, len)) what the CPU reference selects among them, on the keys and on their int8 sketches.
     */
    private void capturedSelectionCase(CudaDevice dev, CudaKernels k, int heads, int kvHeads, int d, int capacity,
                                       int count, int topK) {
        int bs = 16;
        int nInit = 8;
        int nLocal = 32;
        int len = count + nInit + nLocal;
        int blocks = (len + bs - 1) / bs;
        long blockElems = 2L * kvHeads * bs * d;
        short[] poolH = bf16(randn((int) (blockElems * blocks), 1));
        int[] table = SelectionReference.shuffledTable(blocks, rnd);
        float[] qbar = randn(heads * d, 1);
        CUdeviceptr pool = uploadBf16(dev, poolH);
        CUdeviceptr tp = dev.upload(table, "t");
        CUdeviceptr qp = dev.upload(qbar, "t");
        CUdeviceptr ctrl = dev.upload(new int[] {0, count, len}, "t");
        CUdeviceptr scratch = dev.alloc(CudaKernels.selectScratchBytes(heads, capacity), "t");
        int entries = nInit + topK + nLocal;
        CUdeviceptr out = dev.alloc(4L * entries, "t");
        CudaKernels.Kv kv = new CudaKernels.Kv(pool, blockElems, bs, kvHeads, d, blocks);
        CudaKernels.Sketches sk = CudaKernels.Sketches.allocate(dev, kv, 1, blocks);
        k.buildSketches(kv, tp, 0, 0, len, sk);
        Selection sel = new Selection(qp, kv, tp, ctrl, heads, nInit, capacity, count, topK, nInit, len, nLocal,
                scratch, out, qbar, pagedKeys(poolH, table, blockElems, bs, d), false, 0);
        for (int width : new int[] {0, 5}) {
            for (boolean sketched : new boolean[] {false, true}) {
                SelectionReference.Result r = selectAndCompare(dev, k, sel.pooled(width), sketched ? sk : null);
                check(String.format(Locale.ROOT, "ts captured selection%s H=%d Hkv=%d d=%d for %,d candidates, run"
                        + " on %,d k=%d, top-k chunk %s%s (%d near-ties)", sketched ? " on int8 sketches" : "", heads,
                        kvHeads, d, capacity, count, topK, SelectChunk.label(k.selectChunk()),
                        width > 1 ? ", vote pooled over " + width : "", r.nearTies()), r.wrong(), 0);
            }
        }
        sk.free(dev);
        for (CUdeviceptr p : new CUdeviceptr[] {pool, tp, qp, ctrl, scratch, out}) {
            dev.free(p);
        }
    }

    /** Attention checks: {heads, kvHeads, d, cached before, n, window, selected?}. */
    private static final int[][] ATTENTION_CASES = {
            {4, 2, 16, 0, 1, 0, 0}, {4, 1, 16, 36, 1, 0, 0}, {14, 2, 64, 999, 1, 0, 0}, {14, 2, 64, 4999, 1, 0, 0},
            {32, 8, 64, 0, 17, 0, 0}, {14, 2, 64, 100, 40, 0, 0}, {16, 8, 128, 3000, 1, 0, 0},
            {28, 4, 128, 200, 64, 0, 0}, {4, 2, 32, 300, 70, 0, 0}, {4, 1, 16, 500, 1, 64, 0},
            {4, 1, 16, 100, 50, 32, 0}, {14, 2, 64, 2000, 1, 0, 1}, {4, 2, 32, 1500, 64, 0, 1},
            {8, 8, 256, 700, 3, 0, 0}, {14, 2, 64, 300, 100, 64, 0}, {28, 4, 128, 1000, 200, 0, 0},
            {16, 8, 128, 0, 130, 0, 0}, {28, 4, 128, 6000, 20, 0, 0}, {14, 2, 64, 3000, 33, 0, 0}, {28, 4, 128, 5000, 1, 0, 1},
            {8, 8, 32, 900, 1, 0, 1}, {28, 4, 128, 3000, 64, 0, 1}, {14, 2, 64, 2000, 100, 0, 1},
            {28, 4, 128, 5000, 1, 0, 0}, {28, 4, 128, 3001, 1, 700, 0}, {32, 4, 128, 2000, 1, 0, 0},
            {16, 8, 64, 777, 1, 0, 0}};

    /**
     * Paths built but off by default, checked on their own device context after everything else, so a
     * fault in one of them cannot spoil the checks of the paths in use: prefill attention in its other
     * precisions, and with its keys staged once per chunk in every precision.
     */
    private void pathsOffByDefault(CudaDevice dev, CudaKernels k) {
        for (int d : new int[] {64, 128}) {
            k.forEachPrefillPath(false, d, path -> {
                for (int[] c : ATTENTION_CASES) {
                    if (c[2] == d && k.usesFlashPrefill(c[4], c[2])) {
                        attentionCase(dev, k, c[0], c[1], c[2], c[3], c[4], c[5], c[6] != 0);
                    }
                }
            });
        }
    }

    /**
     * The tile copies a decode path is checked with: cp.async always; bulk copies too for the
     * tensor-core kernels where the sm_90a module is loaded.
     */
    private static boolean[] bulkChoices(CudaKernels k, DecodeAttentionPrecision p) {
        return p != null && k.bulkDecodeAvailable() ? new boolean[] {false, true} : new boolean[] {false};
    }

    /**
     * How a full decode step's tiles arrive: 16-byte cp.async, one bulk copy per row, or a tensor-copy
     * scheme ({@code tensor} not OFF).
     */
    private record TileCopies(boolean bulk, TensorCopyDecode tensor) {
        String label() {
            return tensor != TensorCopyDecode.OFF ? ", tensor copies (" + tensor.label() + ")" : bulk ? ", bulk copies" : "";
        }
    }

    /** The tile copies a full decode path is checked with: as {@link #bulkChoices}, and every tensor-copy scheme where they fit. */
    private static List<TileCopies> fullDecodeCopies(CudaKernels k, DecodeAttentionPrecision p, int d, int bs) {
        List<TileCopies> c = new ArrayList<>(List.of(new TileCopies(false, TensorCopyDecode.OFF)));
        if (p != null && k.bulkDecodeAvailable()) {
            c.add(new TileCopies(true, TensorCopyDecode.OFF));
            if (CudaKernels.tensorCopyDecodeFits(d, bs)) {
                for (TensorCopyDecode scheme : TensorCopyDecode.values()) {
                    if (scheme != TensorCopyDecode.OFF) {
                        c.add(new TileCopies(false, scheme));
                    }
                }
            }
        }
        return c;
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /**
     * Writes {@code before + n} tokens' K/V with kv_append into a paged pool with a shuffled block
     * table, then runs attention for the last n tokens and compares with the twin. With
     * {@code selected}, attention runs over an ascending random subset plus the last n tokens at
     * compacted positions (and the TokenSelect scores kernel is checked on the same cache).
     */
    private void attentionCase(CudaDevice dev, CudaKernels k, int heads, int kvHeads, int d, int before, int n,
                               int window, boolean selected) {
        int layers = 2;
        int layer = 1;
        int bs = 16;
        int total = before + n;
        int numBlocks = (total + bs - 1) / bs + 3;
        long blockElems = 2L * layers * kvHeads * bs * d;
        int kvDim = kvHeads * d;
        float[] kAll = randn(total * kvDim, 1);
        float[] vAll = randn(total * kvDim, 1);
        float[] qv = randn(n * heads * d, 1);
        int[] table = new int[numBlocks];
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) {
            ids.add(i);
        }
        java.util.Collections.shuffle(ids, new java.util.Random(total));
        for (int i = 0; i < numBlocks; i++) {
            table[i] = ids.get(i);
        }
        CUdeviceptr pool = dev.alloc(2L * numBlocks * blockElems, "test pool");
        dev.fill32(pool, 0x7fc07fc0, numBlocks * blockElems / 2); // bf16 NaNs: unwritten rows would show
        CUdeviceptr tp = dev.upload(table, "t");
        CUdeviceptr kp = dev.upload(kAll, "t");
        CUdeviceptr vp = dev.upload(vAll, "t");
        CudaKernels.Kv kv = new CudaKernels.Kv(pool, blockElems, bs, kvHeads, d, numBlocks);
        // the cache in two appends: the context, then the chunk
        if (before > 0) {
            k.kvAppend(kp, vp, kvDim, kv, tp, layer, 0, before);
        }
        k.kvAppend(kp.withByteOffset(4L * before * kvDim), vp.withByteOffset(4L * before * kvDim), kvDim, kv, tp, layer,
                before, n);

        int[] sel = null;
        if (selected) {
            List<Integer> s = new ArrayList<>();
            for (int t = 0; t < before; t++) {
                if (t < 4 || rnd.nextInt(3) == 0) {
                    s.add(t);
                }
            }
            for (int t = before; t < total; t++) {
                s.add(t);
            }
            sel = s.stream().mapToInt(Integer::intValue).toArray();
        }
        int nEntries = sel == null ? total : sel.length;
        int qPos0 = nEntries - n;
        float[] inv = new dev.tokenselect.engine.model.RopeScaling.None().inverseFrequencies(10000, d);
        HostRope hr = new HostRope(inv);
        int group = heads / kvHeads;
        float scale = (float) Math.pow(d, -0.5);
        double[] ref = new double[n * heads * d];
        // entry j's key of KV head g, rotated at j: the same for every query, so rotated once
        float[][] rotated = new float[nEntries * kvHeads][];
        for (int i = 0; i < n; i++) {
            int p = qPos0 + i;
            int lo = window > 0 ? Math.max(0, p - window + 1) : 0;
            for (int h = 0; h < heads; h++) {
                int g = h / group;
                float[] q = Arrays.copyOfRange(qv, (i * heads + h) * d, (i * heads + h + 1) * d);
                hr.rotate(q, 0, p);
                double[] sc = new double[p - lo + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = lo; j <= p; j++) {
                    float[] key = rotated[j * kvHeads + g];
                    if (key == null) {
                        int t = sel == null ? j : sel[j];
                        key = new float[d];
                        for (int e = 0; e < d; e++) {
                            key[e] = Bf16.round(kAll[t * kvDim + g * d + e]);
                        }
                        hr.rotate(key, 0, j);
                        rotated[j * kvHeads + g] = key;
                    }
                    double dot = 0;
                    for (int e = 0; e < d; e++) {
                        dot += (double) q[e] * key[e];
                    }
                    sc[j - lo] = dot * scale;
                    max = Math.max(max, sc[j - lo]);
                }
                double sum = 0;
                for (int j = 0; j < sc.length; j++) {
                    sc[j] = Math.exp(sc[j] - max);
                    sum += sc[j];
                }
                for (int j = lo; j <= p; j++) {
                    int t = sel == null ? j : sel[j];
                    for (int e = 0; e < d; e++) {
                        ref[(i * heads + h) * d + e] += sc[j - lo] / sum * Bf16.round(vAll[t * kvDim + g * d + e]);
                    }
                }
            }
        }
        CUdeviceptr qp = dev.upload(qv, "t");
        CUdeviceptr sp = sel == null ? null : dev.upload(sel, "t");
        CUdeviceptr ip = dev.upload(inv, "t");
        CUdeviceptr out = poisoned(dev, (long) n * heads * d);
        long partialFloats = CudaKernels.partialFloats(512, 1, heads, d);
        CUdeviceptr partial = dev.alloc(4 * partialFloats, "t");
        k.attention(qp, heads * d, kv, tp, layer, sp, nEntries, qPos0, n, window, ip, heads, out, heads * d, partial,
                partialFloats);
        String name = String.format(Locale.ROOT, "kv_append+attention H=%d Hkv=%d d=%d L=%d n=%d%s%s", heads, kvHeads,
                d, total, n, window > 0 ? " window=" + window : "", sel != null ? " selected=" + sel.length : "");
        // the tensor-core prefill kernel: products on bf16 hi + lo terms (about 16 mantissa bits), on
        // fp16 scores (11 bits) or on bf16 (8 bits)
        boolean flash = k.usesFlashPrefill(n, d);
        PrefillAttentionPrecision precision = k.prefillPrecision();
        String kernel = !flash ? "" : " [flash, " + precision.label()
                + (k.stagesKeys(n, heads, kvHeads, window) ? ", staged keys" : "")
                + (k.usesWgmmaAttention(n, d, heads, kvHeads, window) ? ", wgmma, P and V in fp16]" : "]");
        double tol = !flash ? 1e-4 : switch (precision) {
            case HI_LO -> 1e-3;
            case F16 -> 5e-3;
            case BF16 -> 2e-2;
        };
        check(name + kernel, relL2(download(dev, out, n * heads * d), ref), tol);
        if (selected && n == 1 && CudaKernels.attentionDecodeFits(d, heads / kvHeads)) { // the decode step's kernels
            DecodeAttentionPrecision decodePrecision = k.decodePrecision();
            boolean bulkBefore = k.bulkDecodeCopies();
            for (DecodeAttentionPrecision p : CudaKernels.decodePaths(d)) {
                for (boolean bulk : bulkChoices(k, p)) {
                    k.useDecodePath(p);
                    k.setBulkDecodeCopies(bulk);
                    CUdeviceptr out2 = poisoned(dev, (long) heads * d);
                    k.attentionDecodeSelected(qp, kv, tp, layer, sp, nEntries, ip, heads, out2, partial, partialFloats);
                    String decodeKernel = p == null ? " [decode kernel]"
                            : " [decode kernel, tensor cores, " + p.label() + (bulk ? ", bulk copies]" : "]");
                    check(name + decodeKernel, relL2(download(dev, out2, heads * d), ref), decodeTolerance(p));
                    dev.free(out2);
                }
            }
            k.setBulkDecodeCopies(bulkBefore);
            k.setTensorCoreDecode(CudaKernels.TENSOR_CORE_DECODE_DEFAULT);
            k.setDecodePrecision(decodePrecision);
        }

        if (!selected && n == 1 && CudaKernels.attentionDecodeFits(d, group)) { // the decode step's kernels
            CUdeviceptr step = dev.upload(new int[] {0, total - 1}, "t");
            DecodeAttentionPrecision decodePrecision = k.decodePrecision();
            // null: the fp32 kernel; else the tensor-core kernel's scores as bf16 hi + lo (about 16
            // mantissa bits) or fp16 (11); probabilities as hi + lo in both
            boolean bulkBefore = k.bulkDecodeCopies();
            TensorCopyDecode tensorBefore = k.tensorCopyDecode();
            for (DecodeAttentionPrecision p : CudaKernels.decodePaths(d)) {
                for (TileCopies copies : fullDecodeCopies(k, p, d, bs)) {
                    k.useDecodePath(p);
                    k.setBulkDecodeCopies(copies.bulk());
                    k.setTensorCopyDecode(copies.tensor());
                    for (int nsplit : new int[] {1, 7, 32}) {
                        CUdeviceptr out2 = poisoned(dev, (long) heads * d);
                        k.attentionDecode(qp, heads * d, kv, tp, 0, layer, step, 1, window, ip, heads, nsplit, out2,
                                heads * d, partial);
                        String decodeKernel = (p == null ? " [decode" : p == DecodeAttentionPrecision.HI_LO
                                ? " [decode, tensor cores" : " [decode, tensor cores, " + p.label())
                                + copies.label();
                        check(name + decodeKernel + ", " + nsplit + " splits]",
                                relL2(download(dev, out2, heads * d), ref), decodeTolerance(p));
                        dev.free(out2);
                    }
                }
            }
            k.setBulkDecodeCopies(bulkBefore);
            k.setTensorCopyDecode(tensorBefore);
            k.setTensorCoreDecode(CudaKernels.TENSOR_CORE_DECODE_DEFAULT);
            k.setDecodePrecision(decodePrecision);
            dev.free(step);
        }

        if (selected) { // TokenSelect scores on the same cache
            int from = 4;
            int count = before - from;
            float[] qbar = randn(heads * d, 1);
            double[] sref = new double[heads * count];
            for (int h = 0; h < heads; h++) {
                int g = h / group;
                for (int c = 0; c < count; c++) {
                    double dot = 0;
                    for (int e = 0; e < d; e++) {
                        dot += (double) qbar[h * d + e] * Bf16.round(kAll[(from + c) * kvDim + g * d + e]);
                    }
                    sref[h * count + c] = dot;
                }
            }
            CUdeviceptr qb = dev.upload(qbar, "t");
            CUdeviceptr so = poisoned(dev, (long) heads * count);
            k.scores(qb, kv, tp, layer, heads, from, count, so);
            check(String.format(Locale.ROOT, "ts_scores H=%d Hkv=%d d=%d candidates=%d", heads, kvHeads, d, count),
                    relL2(download(dev, so, heads * count), sref), 1e-5);
            dev.free(qb);
            dev.free(so);
        }
        for (CUdeviceptr p : new CUdeviceptr[] {pool, tp, kp, vp, qp, sp, ip, out, partial}) {
            dev.free(p);
        }
    }

    // ------------------------------------------------------------------ models

    private static JsonNode readJson(Path p) throws IOException {
        return JSON.readTree(Files.readString(p));
    }

    private static float[] readLogits(Path file, int vocab) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        float[] out = new float[vocab];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    /** max|a − b| / max|b|, as the CPU reference tests measure logits. */
    static double relMax(float[] ours, float[] ref) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            double dlt = Math.abs((double) ours[i] - ref[i]);
            if (Double.isNaN(dlt)) {
                return Double.NaN;
            }
            maxDiff = Math.max(maxDiff, dlt);
            maxRef = Math.max(maxRef, Math.abs((double) ref[i]));
        }
        return maxDiff / maxRef;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static List<Path> fixtures(Path repo, String dir) throws IOException {
        Path base = repo.resolve("engine/src/test/resources/fixtures").resolve(dir);
        if (!Files.isDirectory(base)) {
            throw new IOException("fixtures not found at " + base.toAbsolutePath() + ": pass --repo REPO_ROOT");
        }
        try (Stream<Path> s = Files.list(base)) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted(Comparator.naturalOrder()).toList();
        }
    }

    private static Path writeModel(JsonNode f, Path dir) throws IOException {
        SyntheticModelWriter.write(dir, (ObjectNode) f.get("config"), f.get("generation_config"),
                f.get("seed").asLong(), DType.parse(f.get("storage_dtype").asString()), 1, null);
        return dir;
    }

    private static CudaBackend.Options smallPool() {
        return CudaBackend.Options.defaults().withKvCapacityTokens(16_384);
    }

    /**
     * Greedy decoding against the reference, teacher-forced: every step feeds the reference's token,
     * so the contexts stay equal, and our argmax is compared wherever the reference's top-2 margin
     * exceeds 0.05 (at a near tie bf16 may legitimately pick the other token). Also checks that the
     * device's argmax equals the host's. Returns {compared, steps, first mismatch or -1 (-2: device
     * argmax differs)}.
     */
    private static int[] greedy(CudaBackend backend, Sequence seq, float[] logits, int[] expected, double[] margins) {
        int compared = 0;
        for (int i = 0; i < expected.length; i++) {
            int ours = argmax(logits);
            if (margins[i] > 0.05) {
                compared++;
                if (ours != expected[i]) {
                    return new int[] {compared, expected.length, i};
                }
            }
            logits = backend.forward(seq, new int[] {expected[i]}, true);
            if (((CudaSequence) seq).greedyToken() != argmax(logits)) {
                return new int[] {compared, expected.length, -2};
            }
        }
        return new int[] {compared, expected.length, -1};
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }

    private void modelFixtures(Path repo) throws IOException {
        for (Path fx : fixtures(repo, "models")) {
            String name = fx.getFileName().toString().replace(".json", "");
            JsonNode f = readJson(fx);
            Path dir = Files.createTempDirectory("cuda-selftest-" + name);
            try (Model model = Model.load(writeModel(f, dir));
                 CudaBackend backend = new CudaBackend(model, smallPool())) {
                int[] prompt = ints(f.get("prompt_ids"));
                float[] ref = readLogits(fx.resolveSibling(f.get("logits_file").asString()), f.get("vocab_size").asInt());
                float[] cpuLogits;
                try (CpuBackend cpu = new CpuBackend(model); Sequence cs = cpu.newSequence()) {
                    cpuLogits = cpu.forward(cs, prompt);
                }
                try (Sequence seq = backend.newSequence()) {
                    float[] logits = backend.forward(seq, prompt);
                    double err = relMax(logits, ref);
                    check("model " + name + " (" + f.get("storage_dtype").asString() + ") logits vs transformers", err, 2e-2);
                    System.out.printf(Locale.ROOT, "     vs CPU backend: %.3e; L2 vs transformers %.3e%n",
                            relMax(logits, cpuLogits), relL2(logits, toDouble(ref)));
                    int[] g = greedy(backend, seq, logits, ints(f.get("greedy_ids")), doubles(f.get("greedy_top2_margins")));
                    String detail = g[0] + "/" + g[1] + " steps compared (teacher-forced, margin > 0.05)";
                    if (g[2] == -1 && g[0] > 0) {
                        pass("model " + name + " greedy", detail);
                    } else {
                        fail("model " + name + " greedy", detail + (g[2] == -2 ? ", device argmax != host argmax"
                                : g[0] == 0 ? ", nothing compared" : ", first mismatch at step " + g[2]));
                    }
                    summary.add(String.format(Locale.ROOT, "model %-14s logits err %.2e  greedy %d/%d%s", name, err,
                            g[0], g[1], g[2] == -1 ? "" : " MISMATCH"));
                }
            } finally {
                deleteTree(dir);
            }
        }
    }

    private void tokenSelectFixtures(Path repo) throws IOException {
        for (boolean onDevice : new boolean[] {false, true}) { // host vote and top-k, then the device's
            tokenSelectFixtures(repo, onDevice);
        }
    }

    private void tokenSelectFixtures(Path repo, boolean deviceSelection) throws IOException {
        for (Path fx : fixtures(repo, "tokenselect")) {
            String name = fx.getFileName().toString().replace(".json", "")
                    + (deviceSelection ? " [device selection and scoring query, q|k|v in one GEMM]" : "");
            JsonNode f = readJson(fx);
            JsonNode s = f.get("select");
            if (s.has("original_positions") && s.get("original_positions").asBoolean()) {
                // the CPU backend's extension; CudaBackend.newSequence refuses it with a clear error
                System.out.println("     " + name + ": original positions, CPU backend only, not run here");
                continue;
            }
            SelectionParams params = new SelectionParams(s.get("k").asInt(), s.get("n_init").asInt(),
                    s.get("n_local").asInt(), s.get("theta").asDouble(), s.get("prefill_chunk").asInt());
            Path dir = Files.createTempDirectory("cuda-selftest-ts");
            try (Model model = Model.load(writeModel(f, dir));
                 CudaBackend backend = new CudaBackend(model, smallPool());
                 Sequence seq = backend.newSequence(AttentionSpec.tokenSelect(params))) {
                backend.setDeviceSelection(deviceSelection);
                backend.setDeviceScoringQuery(deviceSelection); // the chunks' scoring queries there too
                backend.setFusedQkvGemm(deviceSelection); // and q|k|v projected by one GEMM
                int[] prompt = ints(f.get("prompt_ids"));
                float[] ref = readLogits(fx.resolveSibling(f.get("logits_file").asString()), f.get("vocab_size").asInt());
                long t0 = System.nanoTime();
                float[] logits = backend.forward(seq, prompt);
                double err = relMax(logits, ref);
                System.out.printf(Locale.ROOT, "     %s: prompt %d tokens in %.0f ms, logits err vs reference %.3e,"
                                + " selections %d%n", name, prompt.length, (System.nanoTime() - t0) / 1e6, err,
                        seq.selectionStats().selections());
                int[] g = greedy(backend, seq, logits, ints(f.get("greedy_ids")), doubles(f.get("greedy_top2_margins")));
                String detail = g[0] + "/" + g[1] + " steps compared (teacher-forced, margin > 0.05); stats " + seq.selectionStats().toMap()
                        + "; reference " + f.get("stats");
                if (g[2] == -1 && g[0] > 0) {
                    pass("tokenselect " + name + " greedy", detail);
                } else {
                    fail("tokenselect " + name + " greedy", detail + (g[0] == 0 ? ", nothing compared"
                            : ", first mismatch at step " + g[2]));
                }
                summary.add(String.format(Locale.ROOT, "tokenselect %-14s logits err %.2e  greedy %d/%d%s", name, err,
                        g[0], g[1], g[2] == -1 ? "" : " MISMATCH"));
            } finally {
                deleteTree(dir);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------ benchmark

    private void benchmark() throws IOException {
        Path dir = Files.createTempDirectory("cuda-selftest-bench");
        try {
            long t0 = System.nanoTime();
            SyntheticModelWriter.write(dir, Presets.config("qwen2.5-0.5b"), null, 7, DType.BF16, 1, null);
            System.out.printf(Locale.ROOT, "     wrote qwen2.5-0.5b-geometry bf16 model in %.1f s%n",
                    (System.nanoTime() - t0) / 1e9);
            try (Model model = Model.load(dir);
                 CudaBackend backend = new CudaBackend(model, CudaBackend.Options.defaults().withKvCapacityTokens(140_000))) {
                System.out.println("     " + backend.summary());
                int vocab = model.config().vocabSize();
                int[] prompt = new int[512];
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = rnd.nextInt(vocab);
                }
                double prefillTps;
                int decodeSteps = 128;
                double decodeTps;
                try (CudaSequence seq = backend.newSequence()) {
                    backend.forward(seq, Arrays.copyOf(prompt, 32)); // warm-up
                }
                try (CudaSequence seq = backend.newSequence()) {
                    long p0 = System.nanoTime();
                    backend.forward(seq, prompt);
                    prefillTps = prompt.length / ((System.nanoTime() - p0) / 1e9);
                }
                try (CudaSequence seq = backend.newSequence()) {
                    backend.forward(seq, Arrays.copyOf(prompt, 64));
                    for (int i = 0; i < 8; i++) {
                        backend.forward(seq, new int[] {seq.greedyToken()}, true);
                    }
                    long d0 = System.nanoTime();
                    for (int i = 0; i < decodeSteps; i++) {
                        backend.forward(seq, new int[] {seq.greedyToken()}, true);
                    }
                    decodeTps = decodeSteps / ((System.nanoTime() - d0) / 1e9);
                }
                double weightGb = backend.weightBytes() / 1e9;
                System.out.printf(Locale.ROOT, "     prefill 512 tokens: %.0f tokens/s; decode at ~%d context: %.1f tokens/s"
                        + " (%.0f GB/s of weights; GEMVs of small matrices are timed by host launches)%n", prefillTps, 64 + 8 + decodeSteps / 2, decodeTps,
                        decodeTps * weightGb);
                summary.add(String.format(Locale.ROOT, "bench qwen2.5-0.5b bf16: decode %.1f tok/s, prefill %.0f tok/s",
                        decodeTps, prefillTps));
                bandwidth(backend);
                new CudaDecodeCheck(this).decodeBenchmark(backend, "qwen2.5-0.5b", new int[] {0, 4096, 32768, 131072});
            }
        } finally {
            deleteTree(dir);
        }
    }

    /** Replayed decode against eager launches on synthetic models of real geometries (GQA, q/k norm). */
    private void graphDecode() throws IOException {
        onSyntheticModels((backend, preset) -> {
            CudaDecodeCheck check = new CudaDecodeCheck(this);
            check.graphVsEager(backend, preset, 20_000);
            check.keyReads(backend, preset);
        });
    }

    private interface ModelCheck {
        void run(CudaBackend backend, String preset);
    }

    /** Runs a check on synthetic Qwen2.5-0.5B and Qwen3-0.6B geometry models (bf16), each on its own backend. */
    private void onSyntheticModels(ModelCheck check) throws IOException {
        onSyntheticModels(CudaBackend.Options.defaults().withKvCapacityTokens(50_000), check);
    }

    private void onSyntheticModels(CudaBackend.Options options, ModelCheck check) throws IOException {
        for (String preset : new String[] {"qwen2.5-0.5b", "qwen3-0.6b"}) {
            Path dir = Files.createTempDirectory("cuda-selftest-" + preset);
            try {
                SyntheticModelWriter.write(dir, Presets.config(preset), null, 11, DType.BF16, 1, null);
                try (Model model = Model.load(dir);
                     CudaBackend backend = new CudaBackend(model, options)) {
                    check.run(backend, preset);
                }
            } finally {
                deleteTree(dir);
            }
        }
    }

    /**
     * A KV pool whose device part holds 1,024 tokens and whose other blocks are in pinned host memory
     * gives the logits of a pool wholly on the device, bit for bit: a 3,000-token prompt (most of its
     * blocks in host memory) and 8 replayed decode steps, on the Qwen2.5-0.5B geometry (head dim 64) and
     * on Qwen3-0.6B's (head dim 128, where decode attention reads the pool by tensor copies on sm_90).
     */
    private void hostKvPool() throws IOException {
        for (String preset : new String[] {"qwen2.5-0.5b", "qwen3-0.6b"}) {
            hostKvPool(preset);
        }
    }

    private void hostKvPool(String preset) throws IOException {
        Path dir = Files.createTempDirectory("cuda-selftest-hostkv");
        try {
            SyntheticModelWriter.write(dir, Presets.config(preset), null, 11, DType.BF16, 1, null);
            int[] prompt = new SplittableRandom(5).ints(3000, 0, Presets.config(preset).get("vocab_size").asInt()).toArray();
            int steps = 8;
            int[] tokens = new int[steps];
            float[][] reference = new float[steps + 1][];
            try (Model model = Model.load(dir);
                 CudaBackend device = new CudaBackend(model, CudaBackend.Options.defaults().withKvCapacityTokens(8192));
                 CudaSequence seq = device.newSequence()) {
                reference[0] = device.forward(seq, prompt, false);
                for (int i = 0; i < steps; i++) {
                    tokens[i] = argmax(reference[i]);
                    reference[i + 1] = device.decode(List.of(seq), new int[] {tokens[i]})[0];
                }
            }
            try (Model model = Model.load(dir);
                 CudaBackend spanning = new CudaBackend(model, CudaBackend.Options.defaults().withKvCapacityTokens(1024)
                         .withHostKvBytes(256L << 20));
                 CudaSequence seq = spanning.newSequence()) {
                long onDevice = spanning.deviceKvCapacityTokens();
                if (onDevice >= prompt.length || spanning.kvCapacityTokens() < prompt.length + steps) {
                    check("KV pool in host memory: " + onDevice + " of " + spanning.kvCapacityTokens()
                            + " tokens on the device, too many or too few for the check", Double.NaN, 0);
                    return;
                }
                double worst = relMax(spanning.forward(seq, prompt, false), reference[0]);
                for (int i = 0; i < steps; i++) {
                    worst = Math.max(worst, relMax(spanning.decode(List.of(seq), new int[] {tokens[i]})[0],
                            reference[i + 1]));
                }
                check(String.format(Locale.ROOT, "%s: KV pool with %,d of %,d tokens on the device, the rest in host"
                        + " memory, vs all on the device (3,000-token prompt, %d graph steps)", preset, onDevice,
                        spanning.kvCapacityTokens(), steps), worst, 0);
            }
        } catch (CudaUnavailableException e) { // the driver cannot map host memory so: say why
            check("KV pool in host memory: " + e.getMessage(), Double.NaN, 0);
        } finally {
            deleteTree(dir);
        }
    }

    private void graphSelection() throws IOException {
        onSyntheticModels((backend, preset) -> {
            CudaDecodeCheck check = new CudaDecodeCheck(this);
            check.graphSelectionVsHost(backend, preset, 6000);
            check.argmaxOnlySteps(backend, preset, 6000);
            check.deviceCandidateSteps(backend, preset, 6000);
        });
        // the pool's int8 key sketches: kept current by the graph, against the CPU sketching the keys
        onSyntheticModels(CudaBackend.Options.defaults().withKvCapacityTokens(50_000).withKeySketches(true),
                (backend, preset) -> new CudaDecodeCheck(this).graphSelectionVsHost(backend, preset, 6000, true));
    }

    private void bandwidth(CudaBackend backend) {
        CudaDevice dev = backend.cudaDevice();
        CudaKernels k = backend.kernels();
        dev.makeCurrent();
        CudaDevice.Timer timer = dev.timer();
        int reps = 20;
        // device-to-device copy of 512 MiB
        long bytes = 512L << 20;
        CUdeviceptr a = dev.alloc(bytes, "bench");
        CUdeviceptr b = dev.alloc(bytes, "bench");
        dev.fill32(a, 0x3f803f80, bytes / 4);
        dev.copyDeviceToDevice(b, a, bytes);
        timer.start();
        for (int i = 0; i < reps; i++) {
            dev.copyDeviceToDevice(b, a, bytes);
        }
        double copyGbs = 2.0 * bytes * reps / (timer.stopMillis() / 1e3) / 1e9; // read + write
        System.out.printf(Locale.ROOT, "     device-to-device copy: %.0f GB/s (read + write)%n", copyGbs);
        summary.add(String.format(Locale.ROOT, "bench copy bandwidth %.0f GB/s (read+write)", copyGbs));
        { // host cost of one kernel launch through JCuda (decode launches ~10 kernels a layer)
            int launches = 5000;
            for (int i = 0; i < 500; i++) {
                k.add(b, a, 1);
            }
            dev.synchronize();
            long l0 = System.nanoTime();
            for (int i = 0; i < launches; i++) {
                k.add(b, a, 1);
            }
            dev.synchronize();
            double us = (System.nanoTime() - l0) / 1e3 / launches;
            System.out.printf(Locale.ROOT, "     kernel launch through JCuda: %.1f us each (host-bound)%n", us);
            summary.add(String.format(Locale.ROOT, "bench launch overhead %.1f us/kernel", us));
        }
        CUdeviceptr xv = dev.alloc(4L * 16384, "bench");
        CUdeviceptr yv = dev.alloc(4L * 262144, "bench");
        dev.fill32(xv, Float.floatToRawIntBits(0.01f), 16384);
        for (int[] s : new int[][] {{151936, 896}, {4864, 896}, {896, 4864}, {8192, 8192}, {16384, 16384}}) {
            int rows = s[0];
            int cols = s[1];
            long mbytes = 2L * rows * cols;
            if (mbytes > bytes) {
                continue;
            }
            k.gemv(a, xv, yv, null, rows, cols, false);
            timer.start();
            for (int i = 0; i < reps; i++) {
                k.gemv(a, xv, yv, null, rows, cols, false);
            }
            double gbs = (double) mbytes * reps / (timer.stopMillis() / 1e3) / 1e9;
            System.out.printf(Locale.ROOT, "     gemv_bf16 %dx%d: %.0f GB/s = %.0f%% of copy bandwidth%n", rows, cols, gbs,
                    100 * gbs / copyGbs);
            summary.add(String.format(Locale.ROOT, "bench gemv %6dx%-5d %5.0f GB/s (%3.0f%% of copy)", rows, cols, gbs,
                    100 * gbs / copyGbs));
        }
        timer.destroy();
        for (CUdeviceptr p : new CUdeviceptr[] {a, b, xv, yv}) {
            dev.free(p);
        }
    }
}
