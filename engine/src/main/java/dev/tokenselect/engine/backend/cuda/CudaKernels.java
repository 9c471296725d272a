package dev.tokenselect.engine.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import jcuda.driver.CUdeviceptr;

/**
 * Typed launchers of the kernels in {@code engine/src/main/cuda}, with their launch configurations.
 * Pointers are device pointers; shapes are in elements. Used by {@link CudaBackend} and
 * {@link CudaSelfTest}.
 */
public final class CudaKernels {

    /** Keys per attention tile (one per lane). */
    static final int ATT_TK = 32;
    static final int ATT_WARPS = 4;

    private final CudaDevice dev;
    private final int sms;

    public CudaKernels(CudaDevice dev) {
        this.dev = dev;
        this.sms = dev.multiprocessors();
        this.splitKWorkspace = new GrowingBuffer(dev, "split-K GEMM workspace");
        this.x16 = new GrowingBuffer(dev, "GEMM activations in 16 bits");
        this.rowScales = new GrowingBuffer(dev, "per-row scales of fp16 GEMM activations");
        for (int d : new int[] {32, 64, 128, 256}) {
            dev.allowDynamicShared(attentionKernel(d), attentionSharedBytes(d));
        }
        for (GemmActivations a : GemmActivations.values()) {
            dev.allowDynamicShared(a.kernel(), GEMM2_SHARED_BYTES);
            if (dev.hasSm90aKernels() && a.hasWgmmaKernel()) {
                dev.allowDynamicShared(a.wgmmaKernel(), WGMMA_SHARED_BYTES);
            }
        }
        this.amax = dev.alloc(4, "the largest |activation| of a GEMM");
        dev.allowDynamicShared("gemv_batch_xs_r1_b1", 4 * STAGED_INPUT_MAX);
        dev.allowDynamicShared("gemv_spread_b1", SPREAD_SHARED_MAX);
        dev.allowDynamicShared("gemv_spread_glu_b1", SPREAD_SHARED_MAX);
        for (int d : new int[] {64, 128}) {
            for (DecodeAttentionPrecision p : DecodeAttentionPrecision.values()) {
                dev.allowDynamicShared(p.kernel(d), tensorCoreDecodeSharedBytes(d));
                dev.allowDynamicShared(p.selectedKernel(d), tensorCoreDecodeSharedBytes(d));
            }
            for (PrefillAttentionPrecision p : PrefillAttentionPrecision.values()) {
                dev.allowDynamicShared(p.kernel(d), p.sharedBytes(d));
            }
        }
        for (int d : new int[] {64, 128}) {
            for (ScoringPass pass : new ScoringPass[] {ScoringPass.PIPELINED, ScoringPass.PIPELINED_INT8}) {
                for (boolean sketched : new boolean[] {false, true}) {
                    dev.allowDynamicShared(pass.kernel(d, 1, sketched), ScoringPass.pipelinedSharedBytes(d, sketched));
                }
            }
        }
        if (dev.hasSm90aKernels()) {
            dev.allowDynamicShared("flash_wg_f16_d128", wgmmaAttentionSharedBytes(128));
            for (int d : new int[] {64, 128}) {
                for (DecodeAttentionPrecision p : DecodeAttentionPrecision.values()) {
                    dev.allowDynamicShared(p.kernel(d, true), tensorCoreDecodeSharedBytes(d));
                    dev.allowDynamicShared(p.selectedKernel(d, true), tensorCoreDecodeSharedBytes(d));
                }
            }
            for (DecodeAttentionPrecision p : DecodeAttentionPrecision.values()) {
                for (TensorCopyDecode scheme : TensorCopyDecode.values()) {
                    if (scheme != TensorCopyDecode.OFF) {
                        dev.allowDynamicShared(scheme.kernel(p), TENSOR_COPY_DECODE_SHARED_BYTES);
                    }
                }
            }
        }
    }

    public CudaDevice device() {
        return dev;
    }

    private static int blocks(long n, int per) {
        return (int) ((n + per - 1) / per);
    }

    /** out[i, :] = table[tokens[i], :]. grid (n), block 256. */
    public void embed(CUdeviceptr table, CUdeviceptr tokens, CUdeviceptr out, int n, int hidden) {
        dev.launch("embed_bf16", n, 1, 1, 256, 0, table, tokens, out, n, hidden);
    }

    /** Row RMSNorm: grid (rows), block 256 (a block per row). */
    public void rmsNormRows(CUdeviceptr out, CUdeviceptr x, CUdeviceptr w, int rows, int dim, float eps) {
        dev.launch("rmsnorm_rows", rows, 1, 1, 256, 0, out, x, w, rows, dim, eps);
    }

    /** Per-head RMSNorm (q/k norm): a warp per row, grid ceil(rows / 8), block 256. */
    public void rmsNormHeads(CUdeviceptr out, CUdeviceptr x, CUdeviceptr w, int rows, int dim, float eps) {
        dev.launch("rmsnorm_heads", blocks(rows, 8), 1, 1, 256, 0, out, x, w, rows, dim, eps);
    }

    /**
     * y = (accumulate ? y : 0) + bias + W x, W bf16 [rows, cols]. Four rows per warp when that still
     * gives two blocks per SM, else one; block 256 (8 warps).
     */
    public void gemv(CUdeviceptr w, CUdeviceptr x, CUdeviceptr y, CUdeviceptr bias, int rows, int cols,
                     boolean accumulate) {
        boolean four = rows >= 4 * 8 * 2 * sms;
        int perBlock = four ? 32 : 8;
        dev.launch(four ? "gemv_bf16_r4" : "gemv_bf16_r1", blocks(rows, perBlock), 1, 1, 256, 0, w, x, y, bias, rows,
                cols, accumulate ? 1 : 0);
    }

    /**
     * Y[m, :] (row stride ldy) = (accumulate ? Y : 0) + bias + X[m, :] W^T on tensor cores; X fp32 [M, K],
     * W bf16 [N, K]. grid (ceil(N/64), ceil(M/64)), block 128.
     */
    public void gemm(CUdeviceptr x, CUdeviceptr w, CUdeviceptr y, CUdeviceptr bias, int m, int n, int k, int ldy,
                     boolean accumulate) {
        if (k % 8 != 0) {
            throw new IllegalArgumentException("the GEMM needs K % 8 == 0, got " + k);
        }
        int splits = splitsFor(m, n, k);
        GemmActivations xs = activationsInUse();
        boolean wg = wgmmaInUse() && xs.hasWgmmaKernel();
        String pipelined = wg ? xs.wgmmaKernel() : xs.kernel();
        int shared = wg ? WGMMA_SHARED_BYTES : GEMM2_SHARED_BYTES;
        boolean tiled = splits > 1 || pipelinedGemm(gemmMode, m, n, k, sms, wg);
        // fp16 on wgmma with a scale per row: X's rows rounded in one pass, no max over all of X
        boolean byRow = wg && tiled && xs == GemmActivations.F16 && f16RowScales;
        if (xs == GemmActivations.F16 && tiled && !byRow) {
            dev.fill32(amax, 0, 1); // the fp16 kernel scales X by the power of two its largest |x| asks for
            dev.launch("absmax_f32", (int) Math.min(blocks((long) m * k, 1024), 1024), 1, 1, 256, 0, x, (long) m * k,
                    amax);
        }
        CUdeviceptr xIn = x;
        CUdeviceptr scales = null;
        if (byRow) {
            xIn = x16.ensure(((long) m * k + 1) / 2);
            scales = rowScales.ensure(m);
            dev.launch("x16_rows_f16", m, 1, 1, 256, 0, x, k, xIn, scales);
        } else if (wg && tiled) { // the wgmma kernels copy 16-bit X tiles as they are
            xIn = x16.ensure(((long) m * k + 1) / 2);
            dev.launch(xs.x16Kernel(), (int) Math.min(blocks((long) m * k, 1024), 4096), 1, 1, 256, 0, x,
                    (long) m * k, amax, xIn);
        }
        if (tiled) {
            runTiled(pipelined, wg, shared, splits, xIn, scales, w, y, bias, m, n, k, ldy, accumulate);
            return;
        }
        dev.launch("gemm_bf16_tc", blocks(n, 64), blocks(m, 64), 1, 128, 0, x, w, y, bias, m, n, k, ldy,
                accumulate ? 1 : 0);
    }

    /**
     * The pipelined GEMM kernel on its grid, whole or in K shares summed by {@code gemm_splitk_reduce}.
     * The wgmma kernel's grid walks M first (blocks sharing a W tile run together), the other's N.
     */
    private void runTiled(String kernel, boolean wg, int shared, int splits, CUdeviceptr x, CUdeviceptr scales,
                          CUdeviceptr w, CUdeviceptr y, CUdeviceptr bias, int m, int n, int k, int ldy,
                          boolean accumulate) {
        int gx = wg ? blocks(m, 128) : blocks(n, 128);
        int gy = wg ? blocks(n, 128) : blocks(m, 128);
        if (splits > 1) {
            CUdeviceptr ws = splitKWorkspace.ensure((long) splits * m * n);
            launchTiled(kernel, wg, gx, gy, splits, shared, x, w, ws, null, m, n, k, n, 0, scales);
            dev.launch("gemm_splitk_reduce", blocks((long) m * n / 4, 256), 1, 1, 256, 0, ws, splits, m, n, y, ldy,
                    bias, accumulate ? 1 : 0);
        } else {
            launchTiled(kernel, wg, gx, gy, 1, shared, x, w, y, bias, m, n, k, ldy, accumulate ? 1 : 0, scales);
        }
    }

    /** K shares of a GEMM in the current mode. */
    private int splitsFor(int m, int n, int k) {
        if (gemmMode == GEMM_AUTO) {
            return wgmmaInUse() ? gemmSplitsByWaves(m, n, k, sms) : gemmSplits(m, n, k, sms);
        }
        return gemmMode == GEMM_TILE_SPLITS ? gemmSplits(m, n, k, sms) : 1;
    }

    /** The most gate|up columns {@code swiglu_rows_f16} takes (a row in the registers of one block). */
    static final int SWIGLU16_MAX_FFN = 4 * 1024 * 8;

    /**
     * Whether a GEMM of this shape runs on wgmma with fp16 activations scaled row by row, so that its
     * producer may round X itself ({@link #swigluRowsF16}, then {@link #gemmRoundedRows}).
     */
    boolean takesRoundedRows(int m, int n, int k) {
        return f16RowScales && wgmmaInUse() && activationsInUse() == GemmActivations.F16
                && pipelinedGemm(gemmMode, m, n, k, sms, true);
    }

    /**
     * Rows of gate|up (2 ffn floats each) into the down GEMM's fp16 input: silu(gate) * up scaled per
     * row, rounded; out16 rows x ffn fp16, rowScale rows floats. grid (rows), block 1024.
     */
    public void swigluRowsF16(CUdeviceptr gu, CUdeviceptr out16, CUdeviceptr rowScale, int ffn, int rows) {
        if (ffn % 4 != 0 || ffn > SWIGLU16_MAX_FFN) {
            throw new IllegalArgumentException("swiglu_rows_f16 takes ffn % 4 == 0 up to " + SWIGLU16_MAX_FFN
                    + ", got " + ffn);
        }
        dev.launch("swiglu_rows_f16", rows, 1, 1, 1024, 0, gu, ffn, out16, rowScale);
    }

    /** The widest rows {@code rmsnorm_rows_f16} takes (a row in the registers of one block). */
    static final int RMSNORM16_MAX_DIM = 4 * 256 * 8;

    /**
     * RMSNorm of rows of x into a GEMM's fp16 input, scaled per row (out16 rows x dim fp16, rowScale
     * rows floats), for {@link #gemmRoundedRows}. grid (rows), block 256.
     */
    public void rmsNormRowsF16(CUdeviceptr out16, CUdeviceptr rowScale, CUdeviceptr x, CUdeviceptr w, int rows, int dim,
                               float eps) {
        if (dim % 4 != 0 || dim > RMSNORM16_MAX_DIM) {
            throw new IllegalArgumentException("rmsnorm_rows_f16 takes dim % 4 == 0 up to " + RMSNORM16_MAX_DIM
                    + ", got " + dim);
        }
        dev.launch("rmsnorm_rows_f16", rows, 1, 1, 256, 0, x, w, dim, eps, out16, rowScale);
    }

    /**
     * {@link #gemm} on X already rounded to fp16 row by row (x16 [M, K], rowScale [M]), where
     * {@link #takesRoundedRows} holds.
     */
    public void gemmRoundedRows(CUdeviceptr x16, CUdeviceptr rowScale, CUdeviceptr w, CUdeviceptr y,
                                CUdeviceptr bias, int m, int n, int k, int ldy, boolean accumulate) {
        if (!takesRoundedRows(m, n, k) || k % 8 != 0) {
            throw new IllegalStateException("a GEMM of " + m + " x " + n + " x " + k + " does not run on fp16 rows"
                    + " on wgmma here");
        }
        runTiled(GemmActivations.F16.wgmmaKernel(), true, WGMMA_SHARED_BYTES, splitsFor(m, n, k), x16, rowScale, w,
                y, bias, m, n, k, ldy, accumulate);
    }

    /** A pipelined GEMM kernel; the wgmma ones take the per-row scales (or null) as a last argument. */
    private void launchTiled(String kernel, boolean wg, int gx, int gy, int gz, int shared, CUdeviceptr x,
                             CUdeviceptr w, CUdeviceptr y, CUdeviceptr bias, int m, int n, int k, int ldy,
                             int accumulate, CUdeviceptr scales) {
        if (wg) {
            dev.launch(kernel, gx, gy, gz, 256, shared, x, w, y, bias, m, n, k, ldy, accumulate, amax, scales);
        } else {
            dev.launch(kernel, gx, gy, gz, 256, shared, x, w, y, bias, m, n, k, ldy, accumulate, amax);
        }
    }

    /**
     * fp16 activations on wgmma scaled row by row ({@code x16_rows_f16}: one pass over X, and a row
     * of small activations keeps its precision beside large ones) instead of by the largest |x| of
     * the whole GEMM (a max pass, then a rounding pass); prefill's RMSNorms and SwiGLU then round the
     * q|k|v, gate|up and down GEMMs' rows themselves ({@link #takesRoundedRows}). Measured on an H200:
     * the 7B's 4K prefill 1.08x faster than with X scaled as a whole, its logits as far from
     * transformers' (1.91e-2 both ways). {@code -Dtokenselect.cuda.f16RowScales=false} scales by the whole X.
     */
    private volatile boolean f16RowScales = CudaSwitch.flag("f16RowScales", true);
    /** The per-row scales of {@link #f16RowScales} (grows to the largest M). */
    private final GrowingBuffer rowScales;

    void setF16RowScales(boolean on) {
        f16RowScales = on;
    }

    boolean f16RowScales() {
        return f16RowScales;
    }

    /** The GEMM switches together, for checks and benchmarks that flip them and put them back. */
    record GemmSettings(int mode, GemmActivations activations, boolean wgmma, boolean f16RowScales) {
    }

    GemmSettings gemmSettings() {
        return new GemmSettings(gemmMode, activations, wgmmaGemm, f16RowScales);
    }

    void restoreGemmSettings(GemmSettings s) {
        gemmMode = s.mode();
        activations = s.activations();
        wgmmaGemm = s.wgmma();
        f16RowScales = s.f16RowScales();
    }

    /**
     * How the pipelined prefill GEMMs take their activations ({@link GemmActivations}; pipelined shapes
     * only); null: the default of the GEMM kernels in use ({@link #activationsInUse}).
     */
    private volatile GemmActivations activations = GemmActivations.fromSystemProperty();
    /** Whether every weight of the loaded model is a finite fp16 (the fp16 activations' kernel widens them). */
    private volatile boolean weightsFitF16 = true;
    private final CUdeviceptr amax;

    void setGemmActivations(GemmActivations a) {
        activations = a;
    }

    /** The setting asked for (null: the default, {@link #activationsInUse}). */
    GemmActivations gemmActivations() {
        return activations;
    }

    /**
     * The setting the GEMMs use: the one asked for, else fp16 on the wgmma kernels (the 7B's logits
     * stay 1.8e-2 from transformers, inside the 2e-2 the engine holds itself to) and hi + lo on
     * mma.sync; fp16 becomes hi + lo for a model with a weight fp16 cannot hold.
     */
    GemmActivations activationsInUse() {
        GemmActivations a = activations != null ? activations
                : wgmmaInUse() ? GemmActivations.F16 : GemmActivations.HI_LO;
        return a == GemmActivations.F16 && !weightsFitF16 ? GemmActivations.HI_LO : a;
    }

    /**
     * Records the largest |weight| of the model's GEMM matrices ({@link #foldAbsMaxBf16}): above fp16's
     * largest finite value the fp16 activations' kernel is not used for it.
     *
     * @return whether the weights fit fp16
     */
    boolean noteWeightRange(float largest) {
        weightsFitF16 = largest <= 65504f;
        return weightsFitF16;
    }

    /** Starts a running max |w| over bf16 matrices on the device ({@link #foldAbsMaxBf16}). */
    void clearAbsMax() {
        dev.fill32(amax, 0, 1);
    }

    /** Folds max |w| over n bf16 values into the running max on the device. */
    void foldAbsMaxBf16(CUdeviceptr w, long n) {
        dev.launch("absmax_bf16", (int) Math.min(blocks(n, 1024), 1024), 1, 1, 256, 0, w, n, amax);
    }

    /** The running max (a copy to the host). */
    float absMax() {
        int[] bits = new int[1];
        dev.copyToHost(bits, amax, 1);
        return Float.intBitsToFloat(bits[0]);
    }

    /**
     * The pipelined GEMMs of the fp16 and bf16 activation settings on Hopper's warpgroup MMA
     * ({@code wgmma.cu}, sm_90a: 128 x 128 x 64 tiles, both operands fed from 128-byte-swizzled shared
     * memory) instead of mma.sync, where the device has them. Measured on an H200: the 7B's gate|up
     * GEMM 423 TFLOP/s with fp16 activations against 193 on mma.sync, its prefill 18,791 tokens/s
     * against 9,057 with hi + lo on mma.sync. On unless {@code -Dtokenselect.cuda.wgmmaGemm=false}.
     */
    private volatile boolean wgmmaGemm = CudaSwitch.flag("wgmmaGemm", true);

    void setWgmmaGemm(boolean on) {
        wgmmaGemm = on;
    }

    boolean wgmmaGemm() {
        return wgmmaGemm;
    }

    /** Whether the wgmma GEMMs are switched on and can run here. */
    boolean wgmmaInUse() {
        return wgmmaGemm && dev.hasSm90aKernels();
    }

    /** Whether the wgmma GEMMs can run here (sm_90a kernels loaded). */
    boolean wgmmaAvailable() {
        return dev.hasSm90aKernels();
    }

    /**
     * Dynamic shared memory of a wgmma kernel: three stages of a W and an X tile of 128 x 64 16-bit
     * values, plus 1 KiB to align them to the swizzle's 1,024 bytes (two blocks fit an SM).
     */
    static final int WGMMA_SHARED_BYTES = 3 * 2 * 128 * 64 * 2 + 1024;

    /** X rounded to 16 bits for the wgmma kernels that take it so (grows to the largest M x K). */
    private final GrowingBuffer x16;

    /** Two stages of (X hi, X lo, W) tiles of 128 x (32 + 8) bf16. */
    static final int GEMM2_SHARED_BYTES = 2 * 3 * 128 * 40 * 2;

    /** GEMM kernel choice: the 64 x 64 one always, the pipelined 128 x 128 one always, or by shape. */
    static final int GEMM_SMALL_TILES = 0;
    static final int GEMM_PIPELINED = 1;
    /**
     * The default: the 128 x 128-tile GEMM with a two-stage cp.async pipeline ({@code gemm_bf16_tc2})
     * where K ≥ 2048, the 64 x 64 one below; and where those 128 x 128 tiles would not fill one wave of
     * two blocks per SM, the K range split over enough blocks to fill it (at most 4 shares of at least 8
     * tiles of 32), each share's partial product written to a workspace and summed in share order by
     * {@code gemm_splitk_reduce} (with the bias and the accumulation). Measured on an H200: 145 vs 93
     * TFLOP/s for Qwen2-7B's gate|up (K 3584), 134 vs 84 for Llama-3.2-1B's (K 2048), but 91 vs 82 at K
     * 896 where the whole prefill came out 5% slower (Qwen2.5-0.5B); the split K made prefill 1.31x
     * faster for the 0.5B (its down GEMM is 28 tiles for 264 places) and 1.12x for the 7B (q|k|v, o and
     * down are 144, 112 and 112 tiles in 512-token chunks). On wgmma the K shares are those that fill
     * whole waves ({@link #gemmSplitsByWaves}). The self-test checks and times each.
     */
    static final int GEMM_AUTO = 2;
    /** As {@link #GEMM_AUTO} without splitting K: the prefill benchmark times it beside the default. */
    static final int GEMM_WHOLE_K = 3;
    /**
     * As {@link #GEMM_AUTO} with the K shares of {@link #gemmSplits} on wgmma too (GEMM_AUTO takes
     * {@link #gemmSplitsByWaves} there: measured on an H200, the 7B's 4K prefill 1.027x faster): the
     * prefill benchmark times it beside the default.
     */
    static final int GEMM_TILE_SPLITS = 4;

    private volatile int gemmMode = GEMM_AUTO;

    private final GrowingBuffer splitKWorkspace;

    /** K shares of a GEMM under {@link #GEMM_AUTO}; 1 where it stays whole. */
    static int gemmSplits(int m, int n, int k, int sms) {
        long tiles = (long) blocks(n, 128) * blocks(m, 128);
        int kTiles = blocks(k, 32);
        if (k < 2048 || tiles >= 2L * sms || n % 4 != 0) {
            return 1;
        }
        long want = (2L * sms + tiles - 1) / tiles;
        return (int) Math.max(1, Math.min(Math.min(want, 4), kTiles / 8));
    }

    /**
     * K shares that keep the card busiest: for a GEMM of under two waves of tiles (two blocks per SM),
     * the shares whose blocks fill whole waves best (1 to 4 shares, each at least 8 K tiles of 32; the
     * fewest where two fill as well, since every share adds a partial product to write and sum; from
     * two waves on, the last wave's idle places cost less than the partial products). The 7B's down and o GEMMs in 512-token
     * chunks are 112 tiles: two shares fill 224 of 264 places in one wave, where {@link #gemmSplits}'s
     * three take 336, a wave and a quarter; q|k|v's 144 tiles take three (432 of 528). K below 2048 stays
     * whole, as in {@link #gemmSplits}: a share's 128 x 128 fp32 partial product, written and read back,
     * then weighs too much against the K range it saves (measured on an H200: splitting the 0.5B's
     * q|k|v, o and gate|up at K 896 in three made its 4K prefill 0.87x as fast).
     */
    static int gemmSplitsByWaves(int m, int n, int k, int sms) {
        long tiles = (long) blocks(n, 128) * blocks(m, 128);
        long slots = 2L * sms;
        int most = Math.min(4, blocks(k, 32) / 8);
        if (k < 2048 || n % 4 != 0 || most < 2 || tiles >= 2 * slots) {
            return 1;
        }
        int best = 1;
        double bestFill = 0;
        for (int s = 1; s <= most; s++) {
            long blocksNeeded = tiles * s;
            double fill = (double) blocksNeeded / (((blocksNeeded + slots - 1) / slots) * slots);
            if (fill > bestFill + 1e-9) {
                best = s;
                bestFill = fill;
            }
        }
        return best;
    }

    /**
     * Whether a GEMM of this shape takes the pipelined 128 x 128 kernel under {@code mode}: on mma.sync
     * where K ≥ 2048, on wgmma where the chunk has 64 rows or more (measured on an H200: the 0.5B's
     * gate|up at K 896, 260 TFLOP/s with bf16 activations on wgmma against 84 on the 64 x 64 kernel).
     */
    static boolean pipelinedGemm(int mode, int m, int n, int k, int sms, boolean wgmma) {
        return mode == GEMM_PIPELINED
                || (mode == GEMM_AUTO || mode == GEMM_WHOLE_K || mode == GEMM_TILE_SPLITS) && (wgmma ? m >= 64 : k >= 2048);
    }

    public void setGemmMode(int mode) {
        gemmMode = mode;
    }

    public int gemmMode() {
        return gemmMode;
    }

    /** gate = silu(gate) * up. grid ceil(count/256), block 256. */
    public void swiglu(CUdeviceptr gate, CUdeviceptr up, int count) {
        dev.launch("swiglu_f32", blocks(count, 256), 1, 1, 256, 0, gate, up, count);
    }

    /** x += y. grid ceil(count/256), block 256. */
    public void add(CUdeviceptr x, CUdeviceptr y, int count) {
        dev.launch("add_f32", blocks(count, 256), 1, 1, 256, 0, x, y, count);
    }

    /** y[r, c] += bias[c]. grid ceil(rows*cols/256), block 256. */
    public void addBias(CUdeviceptr y, CUdeviceptr bias, int rows, int cols) {
        dev.launch("add_bias_f32", blocks((long) rows * cols, 256), 1, 1, 256, 0, y, bias, rows, cols);
    }

    /** In-place RoPE of x[i, h*d ...] at pos0 + i. grid (n, heads), block 64. */
    public void rope(CUdeviceptr x, int ld, int heads, int d, CUdeviceptr invFreq, int pos0, int n) {
        dev.launch("rope_rows", n, heads, 1, 64, 0, x, ld, d, invFreq, pos0, n);
    }

    /**
     * Paged KV pool geometry on the device (bf16, [layer][K|V][kvHead][slot][d] per block), {@code blocks}
     * blocks of {@code blockElems} elements from {@code pool}.
     */
    public record Kv(CUdeviceptr pool, long blockElems, int blockSize, int kvHeads, int headDim, long blocks) {
        /** The pool as rows of one head's K or V of one token: headDim bf16 each. */
        long rows() {
            return blocks * blockElems / headDim;
        }
    }

    /** Writes n tokens' K (un-rotated) and V rows at positions pos0 + i. grid (n, kvHeads), block 128. */
    public void kvAppend(CUdeviceptr k, CUdeviceptr v, int ld, Kv kv, CUdeviceptr blockTable, int layer, int pos0,
                         int n) {
        dev.launch("kv_append", n, kv.kvHeads(), 1, 128, 0, k, v, ld, kv.pool(), kv.blockElems(), blockTable,
                kv.blockSize(), layer, kv.kvHeads(), kv.headDim(), pos0, n);
    }

    static String attentionKernel(int d) {
        if (d <= 32) {
            return "attention_d32";
        } else if (d <= 64) {
            return "attention_d64";
        } else if (d <= 128) {
            return "attention_d128";
        } else if (d <= 256) {
            return "attention_d256";
        }
        throw new IllegalArgumentException("head dim " + d + " > 256 is not supported by the CUDA attention kernel");
    }

    /** Query rows per warp: 8, or 4 for d > 128 (shared memory). */
    static int rowsPerWarp(int d) {
        return d > 128 ? 4 : 8;
    }

    static int attentionSharedBytes(int d) {
        int maxRows = ATT_WARPS * rowsPerWarp(d);
        return 4 * (maxRows * d + ATT_TK * (d + 1) + ATT_TK * d + maxRows * d + 2 * maxRows);
    }

    /** Prefill chunks of full attention with these head dims run on the tensor-core kernel. */
    private volatile boolean flashPrefill = true;

    /** Turns the tensor-core prefill attention off (the fp32 kernel then serves prefill too). */
    public void setFlashPrefill(boolean on) {
        flashPrefill = on;
    }

    /** Whether a chunk of n queries takes the tensor-core prefill kernel (flash_gqa.cu). */
    public boolean usesFlashPrefill(int n, int d) {
        return flashPrefill && n >= 16 && (d == 64 || d == 128);
    }

    /**
     * Keys rotated once per prefill chunk and layer ({@code flash_gqa_stage_*}) into a scratch every
     * block copies its K tiles from by cp.async, instead of each block rotating every key itself (a
     * sincos per element, once per 64 packed rows); both go through one rotate-and-pack routine, so the
     * keys are the same bit for bit. On by default (+4% on a 4K prefill of the 0.5B geometry, +15% on a
     * 16K one, H200); {@code -Dtokenselect.cuda.stagedKeys=false} turns it off. Used where a chunk has
     * at least 4 row tiles per KV head and no sliding window, and where the device gives the scratch.
     */
    private volatile boolean stagedKeys = CudaSwitch.flag("stagedKeys", true);
    private GrowingBuffer stagedKeyScratch;

    /** Whether a tensor-core prefill chunk of n queries stages its keys. */
    boolean stagesKeys(int n, int heads, int kvHeads, int window) {
        return stagedKeys && window == 0 && blocks((long) n * (heads / kvHeads), 64) >= 4;
    }

    /**
     * Staged fp16 prefill attention on Hopper's warpgroup MMA ({@code flash_wgmma.cu}, sm_90a): both
     * products of a 64-key tile by wgmma, P and V in fp16 (V converted from bf16 once per chunk by the
     * staging kernel, beside the rotated keys), instead of mma.sync with P as bf16 hi + lo. Measured on
     * an H200, Qwen2-7B: a 128K prompt prefilled in 24.4 s instead of 33.5, 4K prompts 1.08x faster, its
     * logits as far from transformers' (1.86e-2). {@code -Dtokenselect.cuda.wgmmaAttention=false} keeps mma.sync.
     */
    private volatile boolean wgmmaAttention = CudaSwitch.flag("wgmmaAttention", true);

    void setWgmmaAttention(boolean on) {
        wgmmaAttention = on;
    }

    /**
     * Whether a prefill chunk of this shape takes {@code flash_wg_f16_d128}. Head dim 128 only: a d 64
     * instance passed the self-test's checks where a block takes one key tile and failed where it takes
     * several (measured on an H200), so d 64 keeps mma.sync.
     */
    boolean usesWgmmaAttention(int n, int d, int heads, int kvHeads, int window) {
        return wgmmaAttention && wgmmaAttentionServes(d) && prefillPrecision == PrefillAttentionPrecision.F16
                && usesFlashPrefill(n, d) && stagesKeys(n, heads, kvHeads, window);
    }

    /** Bytes of one staged tile of {@code flash_wg_*}: rotated K and V^T, [64][d] fp16 each. */
    static long wgmmaAttentionTileBytes(int d) {
        return 2L * 64 * d * 2;
    }

    /** Two stages of staged tiles (the second holds the Q tile first) and 1 KiB to align them. */
    static int wgmmaAttentionSharedBytes(int d) {
        return (int) (2 * wgmmaAttentionTileBytes(d)) + 1024;
    }

    /** The staging scratch of at least {@code bytes}, or null when the device cannot give it (unstaged then). */
    private CUdeviceptr stagedKeyScratch(long bytes) {
        if (stagedKeyScratch == null) {
            stagedKeyScratch = new GrowingBuffer(dev, "prefill attention's rotated keys");
        }
        try {
            return stagedKeyScratch.ensure((bytes + 3) / 4);
        } catch (CudaOutOfMemoryException e) {
            return null;
        }
    }

    /** Precision of prefill attention's products: fp16 scores unless the system property says otherwise. */
    private volatile PrefillAttentionPrecision prefillPrecision = PrefillAttentionPrecision.fromSystemProperty();

    PrefillAttentionPrecision prefillPrecision() {
        return prefillPrecision;
    }

    /** The current path of tensor-core prefill attention for head dim d, as {@link #forEachPrefillPath} names it. */
    String prefillPath(int d) {
        return prefillPathLabel(prefillPrecision, stagedKeys, wgmmaAttention && wgmmaAttentionServes(d));
    }

    /** Whether the wgmma prefill attention kernel exists here for head dim d. */
    private boolean wgmmaAttentionServes(int d) {
        return dev.hasSm90aKernels() && d == 128;
    }

    private static String prefillPathLabel(PrefillAttentionPrecision precision, boolean staged, boolean wgmma) {
        boolean onWgmma = wgmma && staged && precision == PrefillAttentionPrecision.F16;
        return precision.label() + (staged ? " + staged keys" : "") + (onWgmma ? " on wgmma" : "");
    }

    /**
     * Runs {@code action} once under each path of tensor-core prefill attention for head dim d (every
     * precision, keys rotated per block and staged, and fp16 on wgmma where it serves d), the current
     * one left out unless {@code withCurrent}; the action gets the path's label. The switches are set
     * back afterwards.
     */
    void forEachPrefillPath(boolean withCurrent, int d, Consumer<String> action) {
        PrefillAttentionPrecision precision = prefillPrecision;
        boolean staged = stagedKeys;
        boolean wgmma = wgmmaAttention;
        String current = prefillPath(d);
        try {
            // the fp16 staged path on wgmma too, where it serves this head dim
            for (boolean wg : wgmmaAttentionServes(d) ? new boolean[] {false, true} : new boolean[] {false}) {
                for (boolean stage : wg ? new boolean[] {true} : new boolean[] {staged, !staged}) {
                    for (PrefillAttentionPrecision p : PrefillAttentionPrecision.values()) {
                        if (wg && p != PrefillAttentionPrecision.F16) {
                            continue;
                        }
                        String label = prefillPathLabel(p, stage, wg);
                        if (withCurrent || !label.equals(current)) {
                            prefillPrecision = p;
                            stagedKeys = stage;
                            wgmmaAttention = wg;
                            action.accept(label);
                        }
                    }
                }
            }
        } finally {
            prefillPrecision = precision;
            stagedKeys = staged;
            wgmmaAttention = wgmma;
        }
    }

    /**
     * Threads of an attn_combine block: 1024 for many splits, so more (dim, split) pairs are loaded at
     * once (a decode step's combine over 32 to 128 splits took 10 to 29 us with 256 on an H200).
     */
    private static int combineThreads(int nsplit) {
        return nsplit > 8 ? 1024 : 256;
    }

    /** Floats of split-K partials one attention call needs for {@code nsplit × n × heads}. */
    static long partialFloats(int nsplit, int n, int heads, int d) {
        return (long) nsplit * n * heads * (d + 2);
    }

    /**
     * Causal GQA attention of n queries (q fp32 [n, ldq], un-rotated; rotated here at qPos0 + i) over
     * entries [0, nEntries) of the paged cache: entry j is token sel[j] (or j) with its key rotated at
     * position j. grid (kvHeads, ceil(n / tq), nsplit), block 128, dynamic shared memory per head dim;
     * with nsplit > 1 the partials are merged by attn_combine (grid n·H, block 256).
     *
     * @param partial        scratch of {@code partialCapacity} floats for split-K
     * @param window         sliding window (0: none); must be 0 with a selection
     */
    public void attention(CUdeviceptr q, int ldq, Kv kv, CUdeviceptr blockTable, int layer, CUdeviceptr sel,
                          int nEntries, int qPos0, int n, int window, CUdeviceptr invFreq, int heads,
                          CUdeviceptr out, int ldo, CUdeviceptr partial, long partialCapacity) {
        int d = kv.headDim();
        if (usesFlashPrefill(n, d)) {
            // a block per (64 packed (token, head) rows, KV head); few row tiles over a long cache (a
            // question after a resident corpus) split the keys so every SM has work
            int group = heads / kv.kvHeads();
            int rowTiles = blocks((long) n * group, 64);
            int keyTiles = blocks(Math.min((long) qPos0 + n, nEntries), 64);
            int nsplit = 1;
            if (window == 0 && rowTiles * kv.kvHeads() < 2 * sms && keyTiles > 1) {
                nsplit = Math.min(keyTiles, blocks(2 * sms, rowTiles * kv.kvHeads()));
                nsplit = (int) Math.min(nsplit, Math.max(1, partialCapacity / ((long) n * heads * (d + 2))));
            }
            int tilesPerSplit = blocks(keyTiles, nsplit);
            nsplit = blocks(keyTiles, tilesPerSplit);
            float scale = (float) Math.pow(d, -0.5);
            if (usesWgmmaAttention(n, d, heads, kv.kvHeads(), window)) {
                CUdeviceptr tiles = stagedKeyScratch((long) kv.kvHeads() * keyTiles * wgmmaAttentionTileBytes(d));
                if (tiles != null) {
                    dev.launch("flash_wg_stage_d" + d, keyTiles, kv.kvHeads(), 1, 128, 0, kv.pool(), kv.blockElems(),
                            blockTable, kv.blockSize(), layer, kv.kvHeads(), nEntries, invFreq, sel, keyTiles, tiles);
                    dev.launch("flash_wg_f16_d" + d, rowTiles, kv.kvHeads(), nsplit, 128, wgmmaAttentionSharedBytes(d),
                            q, ldq, kv.kvHeads(), nEntries, qPos0, n, invFreq, group, scale, out, ldo, tilesPerSplit,
                            partial, tiles, keyTiles);
                    if (nsplit > 1) {
                        dev.launch("attn_combine", n * heads, 1, 1, combineThreads(nsplit), 0, partial, nsplit, n, heads,
                                d, out, ldo);
                    }
                    return;
                }
            }
            PrefillAttentionPrecision precision = prefillPrecision;
            CUdeviceptr staged = null;
            if (stagesKeys(n, heads, kv.kvHeads(), window)) {
                staged = stagedKeyScratch((long) kv.kvHeads() * keyTiles * precision.stagedTileBytes(d));
                if (staged != null) {
                    dev.launch(precision.stageKernel(d), keyTiles, kv.kvHeads(), 1, 128, 0, kv.pool(), kv.blockElems(),
                            blockTable, kv.blockSize(), layer, kv.kvHeads(), nEntries, invFreq, sel, keyTiles, staged);
                }
            }
            dev.launch(precision.kernel(d), rowTiles, kv.kvHeads(), nsplit, 128, precision.sharedBytes(d), q, ldq,
                    kv.pool(), kv.blockElems(), blockTable, kv.blockSize(), layer, kv.kvHeads(), nEntries, qPos0, n,
                    window, invFreq, group, scale, out, ldo, tilesPerSplit, partial, sel, staged, keyTiles);
            if (nsplit > 1) {
                dev.launch("attn_combine", n * heads, 1, 1, combineThreads(nsplit), 0, partial, nsplit, n, heads, d, out, ldo);
            }
            return;
        }
        int kvHeads = kv.kvHeads();
        int group = heads / kvHeads;
        int rpw = rowsPerWarp(d);
        int maxRows = ATT_WARPS * rpw;
        if (group > maxRows) {
            throw new IllegalArgumentException("GQA group of " + group + " heads > " + maxRows + " is not supported");
        }
        int tq = Math.max(1, maxRows / group);
        int qTiles = blocks(n, tq);
        long range = window > 0 ? Math.min((long) qPos0 + n, (long) window + tq) : (long) qPos0 + n;
        range = Math.min(range, nEntries);
        int keyTiles = Math.max(1, blocks(range, ATT_TK));
        int gridBlocks = kvHeads * qTiles;
        int nsplit = 1;
        int target = 2 * sms;
        if (gridBlocks < target && keyTiles > 1) {
            nsplit = Math.min(keyTiles, blocks(target, gridBlocks));
            nsplit = (int) Math.min(nsplit, Math.max(1, partialCapacity / ((long) n * heads * (d + 2))));
        }
        int tilesPerSplit = blocks(keyTiles, nsplit);
        nsplit = blocks(keyTiles, tilesPerSplit);
        float scale = (float) Math.pow(d, -0.5);
        dev.launch(attentionKernel(d), kvHeads, qTiles, nsplit, 128, attentionSharedBytes(d), q, ldq, kv.pool(),
                kv.blockElems(), blockTable, kv.blockSize(), layer, kvHeads, sel, nEntries, qPos0, n, window, invFreq,
                d, group, tq, rpw, scale, tilesPerSplit, out, ldo, partial);
        if (nsplit > 1) {
            dev.launch("attn_combine", n * heads, 1, 1, combineThreads(nsplit), 0, partial, nsplit, n, heads, d, out, ldo);
        }
    }

    /**
     * TokenSelect scores out[h, c] = qbar[h] · K[g(h)][from + c] (un-rotated keys, no scaling).
     * grid ceil(count / 8), block 256, dynamic shared memory heads·d floats.
     */
    public void scores(CUdeviceptr qbar, Kv kv, CUdeviceptr blockTable, int layer, int heads, int from, int count,
                       CUdeviceptr out) {
        int group = heads / kv.kvHeads();
        dev.launch("ts_scores", blocks(count, 8), 1, 1, 256, 4 * heads * kv.headDim(), qbar, kv.pool(),
                kv.blockElems(), blockTable, kv.blockSize(), layer, kv.kvHeads(), kv.headDim(), group, from, count,
                out);
    }

    /** The smallest chunk of candidates per block of the radix top-k; scratch is sized for it. */
    static final int MIN_SELECT_CHUNK = 1024;
    private static final int SELECT_BINS = 2048;

    /** Tiles of 16 candidates per warp of ts_scores_tc: enough warps to fill the card, at most 16 tiles each. */
    private static int selectTilesPerWarp(int count) {
        int tiles = blocks(count, 16);
        return Math.max(1, Math.min(16, tiles / 2048));
    }

    private static int selectWarps(int count) {
        int tiles = blocks(count, 16);
        return 8 * blocks(blocks(tiles, selectTilesPerWarp(count)), 8);
    }

    /** Bytes of scratch {@link #selectOnDevice} needs for {@code count} candidates. */
    public static long selectScratchBytes(int heads, int count) {
        long floats = (long) heads * count            // scores
                + (long) selectWarps(count) * heads * 2 // warps' softmax states
                + voteScratchFloats(heads, count);
        return 4 * floats;
    }

    /** Per-head max and 1 / sum, the vote, the radix histograms, the per-chunk counts and the pooled vote. */
    private static long voteScratchFloats(int heads, int count) {
        return 2L * heads + count + 3L * SELECT_BINS + 2L * blocks(count, MIN_SELECT_CHUNK) + count;
    }

    /** Bytes of scratch {@link #voteAndTopK} needs for {@code count} candidates. */
    public static long voteScratchBytes(int heads, int count) {
        return 4 * voteScratchFloats(heads, count);
    }

    /**
     * TokenSelect's selection on the device with every step spread over the card: the scores of the
     * candidates [from, from + count) (on tensor cores for head dims 64 and 128, each KV head read once
     * for its query group; else {@link #scores}), per-head softmax, head soft vote, and the best
     * min(k, count) by vote (radix select, ties to the lower index), written as out = [0, nInit) ++
     * (chosen, ascending) ++ [len - nLocal, len). No host round trip, so it can be captured.
     *
     * @param scratch at least {@link #selectScratchBytes} bytes
     * @return the number of entries written
     */
    public int selectOnDevice(CUdeviceptr qbar, Kv kv, CUdeviceptr table, int layer, int heads, int from, int count,
                              int k, int nInit, int len, int nLocal, CUdeviceptr scratch, CUdeviceptr out) {
        return selectOnDevice(qbar, kv, table, layer, heads, from, count, k, nInit, len, nLocal, scratch, out, null);
    }

    /**
     * The same with the step's values on the device, for a captured decode step: with {@code ctrl}
     * set, every kernel returns at once when ctrl[0] is 1 (a selection-cache hit) and reads the
     * candidates from ctrl[1] and the cached length from ctrl[2]; {@code count} is then the capacity
     * the launch is sized for (at least ctrl[1], and above k) and {@code len} is unused. Head dims 64
     * and 128 only.
     */
    public int selectOnDevice(CUdeviceptr qbar, Kv kv, CUdeviceptr table, int layer, int heads, int from, int count,
                              int k, int nInit, int len, int nLocal, CUdeviceptr scratch, CUdeviceptr out,
                              CUdeviceptr ctrl) {
        return selectOnDevice(qbar, kv, table, layer, heads, from, count, k, nInit, len, nLocal, scratch, out, ctrl,
                null);
    }

    /**
     * int8 sketches of a pool's keys ({@code ts_sketch.cu}; {@link dev.tokenselect.engine.select.KeySketch}
     * specifies them): per block {@code blockBytes} of components [layer][kvHead][slot][d] and
     * {@code blockFloats} scales [layer][kvHead][slot].
     */
    public record Sketches(CUdeviceptr bytes, long blockBytes, CUdeviceptr scales, long blockFloats) {

        /** The sketches of {@code blocks} pool blocks of {@code layers} layers. */
        static Sketches allocate(CudaDevice dev, Kv kv, int layers, long blocks) {
            long blockBytes = (long) layers * kv.kvHeads() * kv.blockSize() * kv.headDim();
            long blockFloats = (long) layers * kv.kvHeads() * kv.blockSize();
            CUdeviceptr bytes = dev.alloc(blockBytes * blocks, "key sketches");
            try {
                return new Sketches(bytes, blockBytes, dev.alloc(4 * blockFloats * blocks, "key sketch scales"),
                        blockFloats);
            } catch (RuntimeException e) {
                dev.free(bytes);
                throw e;
            }
        }

        /** Device bytes the sketches of one pool block take (components and scales). */
        static long bytesPerBlock(int layers, int kvHeads, int blockSize, int headDim) {
            return (long) layers * kvHeads * blockSize * (headDim + 4L);
        }

        void free(CudaDevice dev) {
            dev.free(bytes);
            dev.free(scales);
        }

        /** Copies block {@code from}'s sketches over block {@code to}'s. */
        void copyBlock(CudaDevice dev, int to, int from) {
            dev.copyDeviceToDevice(bytes.withByteOffset(to * blockBytes), bytes.withByteOffset(from * blockBytes),
                    blockBytes);
            dev.copyDeviceToDevice(scales.withByteOffset(4 * to * blockFloats),
                    scales.withByteOffset(4 * from * blockFloats), 4 * blockFloats);
        }

    }

    /** Sketches the keys of tokens [from, to) of one layer, every KV head (head dims 64 and 128). */
    public void buildSketches(Kv kv, CUdeviceptr table, int layer, int from, int to, Sketches sk) {
        int rows = (to - from) * kv.kvHeads();
        dev.launch("ts_sketch_build_d" + kv.headDim(), blocks(rows, 8), 1, 1, 256, 0, kv.pool(), kv.blockElems(), table,
                kv.blockSize(), layer, kv.kvHeads(), from, to, sk.bytes(), sk.blockBytes(), sk.scales(),
                sk.blockFloats());
    }

    /**
     * {@link #selectOnDevice} with the candidates scored against int8 sketches of their keys instead of
     * the keys ({@code sketches} non-null; tensor-core head dims only): the scoring pass reads d bytes
     * per candidate and KV head instead of 2 d.
     */
    public int selectOnDevice(CUdeviceptr qbar, Kv kv, CUdeviceptr table, int layer, int heads, int from, int count,
                              int k, int nInit, int len, int nLocal, CUdeviceptr scratch, CUdeviceptr out,
                              CUdeviceptr ctrl, Sketches sketches) {
        return selectOnDevice(qbar, kv, table, layer, heads, from, count, k, nInit, len, nLocal, scratch, out, ctrl,
                sketches, 0);
    }

    /**
     * {@link #selectOnDevice} with the vote max-pooled over {@code pool} neighbouring candidates before
     * the top-k ({@link dev.tokenselect.engine.select.VotePool}; 0 or 1: not pooled, else odd).
     */
    public int selectOnDevice(CUdeviceptr qbar, Kv kv, CUdeviceptr table, int layer, int heads, int from, int count,
                              int k, int nInit, int len, int nLocal, CUdeviceptr scratch, CUdeviceptr out,
                              CUdeviceptr ctrl, Sketches sketches, int pool) {
        if (pool > 1 && pool % 2 == 0) {
            throw new IllegalArgumentException("the vote's pooling width must be odd, was " + pool);
        }
        int d = kv.headDim();
        boolean tensorCores = d == 64 || d == 128;
        if (ctrl != null && !tensorCores) {
            throw new IllegalArgumentException("a captured selection is built for head dims 64 and 128, got " + d);
        }
        if (sketches != null && !tensorCores) {
            throw new IllegalArgumentException("key sketches are scored for head dims 64 and 128, got " + d);
        }
        SelectScratch sc = SelectScratch.at(scratch, heads, count);
        if (tensorCores) {
            launchScores(qbar, kv, table, layer, heads, from, count, sc, ctrl, sketches);
            launchStats(sc, heads, ctrl);
        } else {
            scores(qbar, kv, table, layer, heads, from, count, sc.scores());
            dev.launch("ts_head_stats", heads, 1, 1, 1024, 0, sc.scores(), (long) count, count, sc.vote().stats());
        }
        return topKOfVotes(sc.scores(), count, heads, count, k, from, nInit, len, nLocal, sc.vote(), out, ctrl,
                !tensorCores, pool);
    }

    /** {@link #selectOnDevice}'s scratch: the scores, the warps' softmax states, then the vote's state. */
    private record SelectScratch(CUdeviceptr scores, CUdeviceptr warpStats, int warps, VoteScratch vote) {

        static SelectScratch at(CUdeviceptr scratch, int heads, int count) {
            int warps = selectWarps(count);
            CUdeviceptr warpStats = scratch.withByteOffset(4L * heads * count);
            return new SelectScratch(scratch, warpStats, warps,
                    VoteScratch.at(warpStats.withByteOffset(4L * warps * heads * 2), heads, count));
        }
    }

    /**
     * Where the vote and the radix top-k keep their state behind the scores: per-head max and 1 / sum,
     * the vote, the radix histograms, the per-chunk counts and the vote max-pooled (where it is).
     */
    private record VoteScratch(CUdeviceptr stats, CUdeviceptr vote, CUdeviceptr hist, CUdeviceptr chunkCounts,
                               CUdeviceptr pooled) {

        static VoteScratch at(CUdeviceptr base, int heads, int count) {
            CUdeviceptr vote = base.withByteOffset(8L * heads);
            CUdeviceptr hist = vote.withByteOffset(4L * count);
            CUdeviceptr chunkCounts = hist.withByteOffset(4L * 3 * SELECT_BINS);
            return new VoteScratch(base, vote, hist, chunkCounts,
                    chunkCounts.withByteOffset(8L * blocks(count, MIN_SELECT_CHUNK)));
        }
    }

    /** The tensor-core scoring pass over the keys, or over their int8 sketches where given. */
    private void launchScores(CUdeviceptr qbar, Kv kv, CUdeviceptr table, int layer, int heads, int from, int count,
                              SelectScratch sc, CUdeviceptr ctrl, Sketches sketches) {
        int d = kv.headDim();
        int grid = sc.warps() / 8;
        CUdeviceptr scores = sc.scores();
        CUdeviceptr warpStats = sc.warpStats();
        int group = heads / kv.kvHeads();
        boolean sketched = sketches != null;
        ScoringPass pass = scoringPass;
        boolean pipelined = pass.pipelined(count, sketched);
        String kernel = pass.kernel(d, count, sketched);
        int shared = pipelined ? ScoringPass.pipelinedSharedBytes(d, sketched) : 0;
        if (sketched) {
            dev.launch(kernel, grid, kv.kvHeads(), 1, 256, shared, qbar, sketches.bytes(),
                    sketches.blockBytes(), sketches.scales(), sketches.blockFloats(), table, kv.blockSize(), layer,
                    kv.kvHeads(), group, from, count, selectTilesPerWarp(count), scores, (long) count, warpStats, ctrl);
        } else {
            dev.launch(kernel, grid, kv.kvHeads(), 1, 256, shared, qbar, kv.pool(), kv.blockElems(), table,
                    kv.blockSize(), layer, kv.kvHeads(), group, from, count, selectTilesPerWarp(count), scores,
                    (long) count, warpStats, ctrl);
        }
    }

    /** How the scoring pass reads the candidates ({@link ScoringPass}). */
    private volatile ScoringPass scoringPass = ScoringPass.fromSystemProperty();

    void setScoringPass(ScoringPass pass) {
        scoringPass = pass;
    }

    ScoringPass scoringPass() {
        return scoringPass;
    }

    /** The per-head stats from the warps' softmax states; the radix histograms are cleared in the same launch. */
    private void launchStats(SelectScratch sc, int heads, CUdeviceptr ctrl) {
        dev.launch("ts_stats_combine", heads, 1, 1, 256, 0, sc.warpStats(), sc.warps(), heads, sc.vote().stats(), ctrl,
                sc.vote().hist(), 3 * SELECT_BINS);
    }

    /**
     * The three stages of {@link #selectOnDevice} on the tensor-core path, each a separate launch
     * sequence, for timing them apart: the scores and per-head softmax states; the head vote; the radix
     * top-k and the entry list. Head dims 64 and 128.
     */
    Runnable[] selectionStages(CUdeviceptr qbar, Kv kv, CUdeviceptr table, int layer, int heads, int from, int count,
                               int k, int nInit, int len, int nLocal, CUdeviceptr scratch, CUdeviceptr out) {
        SelectScratch sc = SelectScratch.at(scratch, heads, count);
        VoteScratch vs = sc.vote();
        int kk = Math.min(k, count);
        Runnable score = () -> {
            launchScores(qbar, kv, table, layer, heads, from, count, sc, null, null);
            launchStats(sc, heads, null);
        };
        Runnable voteSum = () -> dev.launch("ts_vote_sum", blocks(count, 256), 1, 1, 256, 0, sc.scores(), (long) count,
                heads, count, vs.stats(), vs.vote(), null);
        Runnable topK = () -> radixTopK(vs.vote(), count, kk, vs.hist(), vs.chunkCounts(), from, nInit, len, nLocal, out,
                null, true); // timed alone, so its histograms are cleared here
        return new Runnable[] {score, voteSum, topK};
    }

    /**
     * The head soft vote and top-k of given scores[h][c] (row stride ld), as {@link #selectOnDevice}
     * takes them after its scores: out = [0, nInit) ++ (from + the best min(k, count) by vote,
     * ascending, ties to the lower index) ++ [len - nLocal, len).
     *
     * @param scratch at least {@link #voteScratchBytes}: stats (2·heads floats), vote, radix state
     * @return the number of entries written
     */
    public int voteAndTopK(CUdeviceptr scores, long ld, int heads, int count, int k, int from, int nInit, int len,
                           int nLocal, CUdeviceptr scratch, CUdeviceptr out) {
        dev.launch("ts_head_stats", heads, 1, 1, 1024, 0, scores, ld, count, scratch);
        return topKOfVotes(scores, ld, heads, count, k, from, nInit, len, nLocal, VoteScratch.at(scratch, heads, count),
                out, null, true, 0);
    }

    /**
     * The vote, max-pooled over {@code pool} candidates where that is above 1, and the radix top-k, the
     * per-head stats already in {@code vs}; the radix histograms are cleared here unless the stats'
     * launch did it ({@code clearHist}).
     */
    private int topKOfVotes(CUdeviceptr scores, long ld, int heads, int count, int k, int from, int nInit, int len,
                            int nLocal, VoteScratch vs, CUdeviceptr out, CUdeviceptr ctrl, boolean clearHist,
                            int pool) {
        int kk = Math.min(k, count);
        dev.launch("ts_vote_sum", blocks(count, 256), 1, 1, 256, 0, scores, ld, heads, count, vs.stats(), vs.vote(),
                ctrl);
        CUdeviceptr ranked = vs.vote();
        if (pool > 1) {
            dev.launch("ts_vote_pool", blocks(count, 256), 1, 1, 256, 0, vs.vote(), count, pool / 2, vs.pooled(),
                    ctrl);
            ranked = vs.pooled();
        }
        radixTopK(ranked, count, kk, vs.hist(), vs.chunkCounts(), from, nInit, len, nLocal, out, ctrl, clearHist);
        return nInit + kk + nLocal;
    }

    /**
     * Radix select of the k best of values[0, count) (three passes of 11/11/10 bits, ties to the lower
     * index), written as TokenSelect's entry list: out = [0, nInit) ++ (from + the k best, ascending)
     * ++ [len - nLocal, len).
     */
    private void radixTopK(CUdeviceptr values, int count, int k, CUdeviceptr hist, CUdeviceptr chunkCounts, int from,
                           int nInit, int len, int nLocal, CUdeviceptr out, CUdeviceptr ctrl, boolean clearHist) {
        int chunk = selectChunk; // AUTO (0): the kernels take SelectChunk.auto of the count they run on
        int chunks = blocks(count, SelectChunk.resolve(chunk, count));
        if (clearHist) {
            dev.launch("ts_radix_clear", blocks(3 * SELECT_BINS, 256), 1, 1, 256, 0, hist, 3 * SELECT_BINS, ctrl);
        }
        for (int pass = 0; pass < 3; pass++) {
            dev.launch("ts_radix_hist", chunks, 1, 1, 1024, 0, values, count, chunk, k, pass, hist, ctrl);
        }
        dev.launch("ts_radix_count", chunks, 1, 1, 1024, 0, values, count, chunk, k, hist, chunkCounts, ctrl);
        dev.launch("ts_radix_write", chunks, 1, 1, 1024, 0, values, count, chunk, k, hist, chunkCounts, from, nInit, len,
                nLocal, out, ctrl);
    }

    /**
     * Candidates per block of the radix top-k's kernels ({@link SelectChunk}: auto, or a multiple of
     * {@value #MIN_SELECT_CHUNK} up to 65,536): fewer candidates per block spread a short selection over
     * more of the card, more keep the blocks and their histogram flushes few at long ones.
     */
    private volatile int selectChunk = SelectChunk.fromSystemProperty();

    void setSelectChunk(int chunk) {
        selectChunk = SelectChunk.check(chunk);
    }

    int selectChunk() {
        return selectChunk;
    }

    /** Scratch bytes of {@link #topKRow} over {@code count} values: the radix histograms and chunk counts. */
    static long topKRowScratchBytes(int count) {
        return 4L * (3L * SELECT_BINS + 2L * blocks(count, MIN_SELECT_CHUNK));
    }

    /**
     * The k best of row[0, count) (k <= count): their indices ascending in {@code outIds} (ties to the
     * lower index, as the host's ranking) and their values in {@code outValues}. All on the device, so a
     * captured decode step can hand the host k candidates instead of the logits row.
     */
    public void topKRow(CUdeviceptr row, int count, int k, CUdeviceptr scratch, CUdeviceptr outIds,
                        CUdeviceptr outValues) {
        if (k < 1 || k > count) {
            throw new IllegalArgumentException("top-k of a row needs 1 <= k <= " + count + ", got " + k);
        }
        CUdeviceptr chunkCounts = scratch.withByteOffset(4L * 3 * SELECT_BINS);
        radixTopK(row, count, k, scratch, chunkCounts, 0, 0, count, 0, outIds, null, true);
        dev.launch("gather_f32", blocks(k, 256), 1, 1, 256, 0, row, outIds, k, outValues);
    }

    /**
     * The selection-cache decision of a captured TokenSelect decode step (one sequence, one layer): the
     * scoring query {@code qbar} of q, its cosine with {@code keptQ} against theta, ctrl = (hit,
     * candidates, cached length) for {@link #selectOnDevice}'s captured form, counters += (hit, miss,
     * selection). One block.
     */
    public void tsDecodeGate(CUdeviceptr q, CUdeviceptr invFreq, int heads, int d, int nLocal, int nInit, double theta,
                             boolean cacheOn, CUdeviceptr keptQ, CUdeviceptr keptValid, CUdeviceptr qbar,
                             CUdeviceptr ctrl, CUdeviceptr counters, CUdeviceptr step) {
        dev.launch("ts_decode_gate", 1, 1, 1, 1024, 0, q, invFreq, heads, d, nLocal, nInit, (float) theta,
                cacheOn ? 1 : 0, keptQ, keptValid, qbar, ctrl, counters, step);
    }

    /**
     * {@link #tsDecodeGate}, then the key the step appended to {@code layer} (position {@code step[1]})
     * sketched into {@code sk} in the same launch, so the pool's sketches stay current in the graph.
     */
    public void tsDecodeGateSketch(CUdeviceptr q, CUdeviceptr invFreq, int heads, int nLocal, int nInit,
                                   double theta, boolean cacheOn, CUdeviceptr keptQ, CUdeviceptr keptValid,
                                   CUdeviceptr qbar, CUdeviceptr ctrl, CUdeviceptr counters, CUdeviceptr step, Kv kv,
                                   CUdeviceptr table, int layer, Sketches sk) {
        if (kv.kvHeads() > 32) {
            throw new IllegalArgumentException("the gate sketches up to 32 KV heads, got " + kv.kvHeads());
        }
        dev.launch("ts_decode_gate_sketch_d" + kv.headDim(), 1, 1, 1, 1024, 0, q, invFreq, heads, nLocal, nInit,
                (float) theta, cacheOn ? 1 : 0, keptQ, keptValid, qbar, ctrl, counters, step, kv.pool(),
                kv.blockElems(), table, kv.blockSize(), layer, kv.kvHeads(), sk.bytes(), sk.blockBytes(), sk.scales(),
                sk.blockFloats());
    }

    /**
     * A prefill chunk's TokenSelect scoring query: out[h] = the mean over its n queries (row stride
     * ldq) of each rotated at nLocal + i, as the policy computes it on the host. grid heads, block 64.
     */
    public void scoringQuery(CUdeviceptr q, int ldq, int n, int heads, int d, int nLocal, CUdeviceptr invFreq,
                             CUdeviceptr out) {
        dev.launch("ts_scoring_query", heads, 1, 1, 64, 0, q, ldq, n, heads, d, nLocal, invFreq, out);
    }

    /** Rewrites the local window of an entry list [nInit | k | nLocal] for the cached length in ctrl[2]. */
    public void tsEntriesWindow(CUdeviceptr entries, int nInit, int k, int nLocal, CUdeviceptr ctrl) {
        dev.launch("ts_entries_window", blocks(nLocal, 256), 1, 1, 256, 0, entries, nInit, k, nLocal, ctrl);
    }

    /** out[0] = argmax x (first maximum), out[1] = its value's bits. One block of 1024 threads. */
    public void argmax(CUdeviceptr x, int n, CUdeviceptr out) {
        argmaxRows(x, 1, n, out);
    }

    /** Per row r of x [rows, n]: out[2r] = argmax, out[2r + 1] = its value's bits. grid (rows), block 1024. */
    public void argmaxRows(CUdeviceptr x, int rows, int n, CUdeviceptr out) {
        dev.launch("argmax_f32", rows, 1, 1, 1024, 0, x, n, out);
    }

    // ------------------------------------------------------------------ batched decode step (decode.cu)

    /** Most vectors one batched GEMV launch takes; larger batches run in groups of this many. */
    static final int GEMV_MAX_BATCH = 8;

    /** Whether {@link #gemvBatch} takes these shapes (16-byte weight rows and input vectors). */
    static boolean gemvBatchFits(int cols, int ldx) {
        return cols % 8 == 0 && ldx % 4 == 0;
    }

    /**
     * Y[b, :] (row stride ldy) = (accumulate ? Y : 0) + bias + W X[b, :] for b < nb (X row stride ldx),
     * each weight row read once per group of up to 8 vectors; with {@code normW} the input rows are
     * RMS-normalised on the fly (eps) first. Needs {@link #gemvBatchFits}.
     */
    public void gemvBatch(CUdeviceptr w, CUdeviceptr x, int ldx, CUdeviceptr y, int ldy, CUdeviceptr bias,
                          CUdeviceptr normW, float eps, int rows, int cols, int nb, boolean accumulate) {
        gemvBatch(w, x, ldx, y, ldy, bias, normW == null ? 0 : 1, normW, eps, rows, cols, nb, accumulate, null);
    }

    /**
     * Where the fused q|k|v projection of a decode step also stores the new token's K and V: rows
     * from {@code qDim} on go to the paged pool at position step[B + b] of table row b.
     */
    public record KvTarget(Kv kv, CUdeviceptr tables, int tableStride, int layer, int qDim, CUdeviceptr step,
                           int batch) {
    }

    /** The q|k|v projection with RMSNorm of the input and the K/V rows written into the pool. */
    public void gemvBatchQkv(CUdeviceptr w, CUdeviceptr x, int ldx, CUdeviceptr y, int ldy, CUdeviceptr bias,
                             CUdeviceptr normW, float eps, int rows, int cols, KvTarget target) {
        gemvBatch(w, x, ldx, y, ldy, bias, 1, normW, eps, rows, cols, target.batch(), false, target);
    }

    /**
     * Largest input the one-vector GEMV stages in shared memory (floats): 32 KiB. On an H200 staging
     * took Qwen2-7B's q|k|v and o GEMVs (3,584 inputs) from 46 to 27 us, but its down GEMV (18,944
     * inputs, 74 KiB) from 44 to 57 us: that much shared memory leaves too few blocks per SM.
     */
    static final int STAGED_INPUT_MAX = 8192;

    /**
     * Whether a one-vector, one-row-per-warp GEMV stages its input in shared memory
     * ({@code gemv_batch_xs_r1_b1}): each block reads the input once instead of each warp.
     */
    boolean stagedInputFits(int cols) {
        return cols <= STAGED_INPUT_MAX && 4L * cols + 1024 <= dev.maxSharedMemoryOptin();
    }

    /** Weight rows per warp of the batched GEMV for {@code group} input vectors (1 to 8) and {@code rows} rows. */
    static int gemvRowsPerWarp(int group, int rows, int sms, boolean multiRow) {
        boolean tall = rows >= 4 * 8 * 2 * sms;
        if (group == 1) {
            return tall ? 4 : 1;
        }
        if (multiRow) {
            // more rows per warp read each input once for more weight rows, as long as the grid still
            // gives every SM two blocks
            return tall ? 4 : 2;
        }
        return group <= 4 ? 2 : 1;
    }

    /** The batched GEMV entry point for {@code group} input vectors and {@code rowsPerWarp}. */
    static String gemvBatchKernel(int group, int rowsPerWarp) {
        return "gemv_batch_r" + rowsPerWarp + "_b" + group;
    }

    private void gemvBatch(CUdeviceptr w, CUdeviceptr x, int ldx, CUdeviceptr y, int ldy, CUdeviceptr bias,
                           int xMode, CUdeviceptr normW, float eps, int rows, int cols, int nb, boolean accumulate,
                           KvTarget kvt) {
        if (!gemvBatchFits(cols, ldx)) {
            throw new IllegalArgumentException("batched GEMV needs cols % 8 == 0 and ldx % 4 == 0, got " + cols
                    + ", " + ldx);
        }
        if (nb == 1 && spreadGemv && spreadFits(rows, cols, false)) {
            int grid = spreadGrid(rows);
            launchGemv("gemv_spread_b1", grid, SPREAD_THREADS, spreadSharedBytes(rows, cols, false, grid), w, x, ldx, y,
                    ldy, bias, xMode, normW, eps, rows, cols, accumulate, kvt, 0);
            return;
        }
        for (int b0 = 0; b0 < nb; b0 += GEMV_MAX_BATCH) {
            int group = Math.min(GEMV_MAX_BATCH, nb - b0);
            int rowsPerWarp = gemvRowsPerWarp(group, rows, sms, multiRowBatches);
            boolean staged = group == 1 && rowsPerWarp == 1 && stagedInputFits(cols);
            String kernel = staged ? "gemv_batch_xs_r1_b1" : gemvBatchKernel(group, rowsPerWarp);
            launchGemv(kernel, blocks(rows, 8 * rowsPerWarp), staged ? 4 * cols : 0, w,
                    x.withByteOffset(4L * b0 * ldx), ldx, y.withByteOffset(4L * b0 * ldy), ldy, bias, xMode, normW, eps,
                    rows, cols, accumulate, kvt, b0);
        }
    }

    /** One launch of a {@code gemv_batch_body} entry (decode.cu): block 256, its arguments in order. */
    private void launchGemv(String kernel, int grid, int shared, CUdeviceptr w, CUdeviceptr x, int ldx, CUdeviceptr y,
                            int ldy, CUdeviceptr bias, int xMode, CUdeviceptr normW, float eps, int rows, int cols,
                            boolean accumulate, KvTarget kvt, int b0) {
        launchGemv(kernel, grid, 256, shared, w, x, ldx, y, ldy, bias, xMode, normW, eps, rows, cols, accumulate, kvt,
                b0);
    }

    /** One launch of a GEMV entry with the arguments of {@code gemv_batch_body}, in order. */
    private void launchGemv(String kernel, int grid, int block, int shared, CUdeviceptr w, CUdeviceptr x, int ldx,
                            CUdeviceptr y, int ldy, CUdeviceptr bias, int xMode, CUdeviceptr normW, float eps, int rows,
                            int cols, boolean accumulate, KvTarget kvt, int b0) {
        dev.launch(kernel, grid, 1, 1, block, shared, w, x, ldx, y, ldy, bias, xMode, normW, eps, rows, cols,
                accumulate ? 1 : 0,
                kvt == null ? null : kvt.kv().pool(), kvt == null ? 0L : kvt.kv().blockElems(),
                kvt == null ? null : kvt.tables(), kvt == null ? 0 : kvt.tableStride(),
                kvt == null ? 0 : kvt.kv().blockSize(), kvt == null ? 0 : kvt.layer(),
                kvt == null ? 0 : kvt.kv().kvHeads(), kvt == null ? 0 : kvt.kv().headDim(),
                kvt == null ? Integer.MAX_VALUE : kvt.qDim(), kvt == null ? null : kvt.step(),
                kvt == null ? 0 : kvt.batch(), b0);
    }

    /**
     * Gate|up projection of one vector with SwiGLU in the epilogue ({@code gemv_glu_r4_b1}): W is
     * [2 * rows, cols] (gate rows, then up rows), the input RMS-normalised by {@code normW}; y[r] =
     * silu(gate[r]) * up[r] for r < rows. Replaces a gate|up GEMV and a SwiGLU launch.
     */
    public void gemvGlu(CUdeviceptr w, CUdeviceptr x, int ldx, CUdeviceptr y, CUdeviceptr normW, float eps, int rows,
                        int cols) {
        if (!gemvBatchFits(cols, ldx)) {
            throw new IllegalArgumentException("GEMV needs cols % 8 == 0 and ldx % 4 == 0, got " + cols + ", " + ldx);
        }
        if (spreadGemv && spreadFits(rows, cols, true)) {
            int grid = spreadGrid(rows);
            launchGemv("gemv_spread_glu_b1", grid, SPREAD_THREADS, spreadSharedBytes(rows, cols, true, grid), w, x, ldx,
                    y, rows, null, 1, normW, eps, rows, cols, false, null, 0);
            return;
        }
        // two gate rows and their two up rows per warp, 8 warps per block
        launchGemv("gemv_glu_r4_b1", blocks(rows, 8 * 2), 0, w, x, ldx, y, rows, null, 1, normW, eps, rows, cols, false,
                null, 0);
    }

    /**
     * One-vector GEMVs with the weight bytes spread evenly over the card ({@code gemv_spread.cu}): a
     * fixed grid of {@link #SPREAD_BLOCKS_PER_SM} blocks per SM, each a contiguous share of the rows
     * cut into 256-weight units that its warps split evenly, instead of one or four rows per warp
     * (where a little over one wave of blocks leaves the card idle at the end), for the shapes
     * {@link #spreadShape} takes. {@code -Dtokenselect.cuda.spreadGemv=false} keeps the row-per-warp kernels. Graphs captured
     * before a change must be recaptured (see {@code CudaBackend.setSpreadGemv}).
     */
    static final boolean SPREAD_GEMV_DEFAULT = CudaSwitch.flag("spreadGemv", true);
    static final int SPREAD_THREADS = 512;
    static final int SPREAD_BLOCKS_PER_SM = 2;
    /** Dynamic shared memory a spread GEMV may take: two blocks per SM of the staged input and unit sums. */
    static final int SPREAD_SHARED_MAX = 100 * 1024;

    private volatile boolean spreadGemv = SPREAD_GEMV_DEFAULT;

    void setSpreadGemv(boolean on) {
        spreadGemv = on;
    }

    boolean spreadGemv() {
        return spreadGemv;
    }

    private int spreadGrid(int rows) {
        return Math.min(rows, SPREAD_BLOCKS_PER_SM * sms);
    }

    /** Bytes of the staged input and of one block's unit sums (a unit is 32 16-byte chunks of a row). */
    static int spreadSharedBytes(int rows, int cols, boolean glu, int grid) {
        long rowsPerBlock = (rows + grid - 1) / grid;
        long unitsPerRow = ((cols / 8) + 31) / 32;
        long units = (glu ? 2 : 1) * rowsPerBlock * unitsPerRow;
        return (int) Math.min(Integer.MAX_VALUE, 4L * (cols + units));
    }

    /**
     * Smallest matrix (weights, gate and up together) a one-vector GEMV spreads: on an H200 the
     * Qwen2-7B (projections of 12.8M to 136M weights) decoded 2.5-4.7% faster spread, the Qwen2.5-0.5B
     * (0.8M to 8.7M) 12-16% slower, its blocks too many and too short for their staging and barriers.
     */
    static final long SPREAD_MIN_WEIGHTS = 10_000_000L;
    /**
     * Most rows of a spread GEMV other than gate|up: the vocabulary projection (32K rows and more)
     * already reaches the copy bandwidth one row per warp (the 7B's: 254 against 258 us spread).
     */
    static final int SPREAD_MAX_ROWS = 16_384;

    /** Whether a one-vector GEMV of this shape takes the spread kernel (while the switch is on). */
    static boolean spreadShape(int rows, int cols, boolean glu) {
        long weights = (glu ? 2L : 1L) * rows * cols;
        return weights >= SPREAD_MIN_WEIGHTS && (glu || rows <= SPREAD_MAX_ROWS);
    }

    /** The self-test's switch: every shape that fits takes the spread kernel, so small shapes check it. */
    private volatile boolean spreadAllShapes;

    void setSpreadAllShapes(boolean on) {
        spreadAllShapes = on;
    }

    private boolean spreadFits(int rows, int cols, boolean glu) {
        return (spreadAllShapes || spreadShape(rows, cols, glu)) && spreadSharedBytes(rows, cols, glu, spreadGrid(rows))
                <= Math.min(SPREAD_SHARED_MAX, dev.maxSharedMemoryOptin() - 1024);
    }

    /**
     * Decode attention on the tensor cores ({@code attn_decode_tc}: the GQA group as the rows of an m16
     * tile, 64-key tiles streamed through a cp.async ring) instead of the fp32 kernel, for head dims 64
     * and 128. On by default: per layer on an H200 at 1M tokens 0.87 against 1.31 ms, and the 7B decodes
     * faster at every depth; {@code -Dtokenselect.cuda.tensorCoreDecode=false} keeps the fp32 kernel.
     * Graphs captured before a change must be recaptured (see {@code CudaBackend.setTensorCoreDecode}).
     */
    static final boolean TENSOR_CORE_DECODE_DEFAULT = CudaSwitch.flag("tensorCoreDecode", true);

    private volatile boolean tensorCoreDecode = TENSOR_CORE_DECODE_DEFAULT;

    void setTensorCoreDecode(boolean on) {
        tensorCoreDecode = on;
    }

    /** Precision of the tensor-core decode kernel's scores (see {@link DecodeAttentionPrecision}). */
    private volatile DecodeAttentionPrecision decodePrecision = DecodeAttentionPrecision.fromSystemProperty();

    DecodeAttentionPrecision decodePrecision() {
        return decodePrecision;
    }

    /**
     * Decode attention on the tensor cores with each tile's K and V rows brought by one bulk copy per
     * row completing on an mbarrier ({@code decode_tc_bulk.cu}, sm_90a) instead of D / 8 16-byte
     * cp.async per row (Nsight on an H200 found the long-context scan's L2 busier than its DRAM: 82%
     * against 65%). Measured on an H200: full attention 1.00x-1.04x (tensor copies serve it better where they fit),
     * attention over a selected list 1.07x-1.16x; off ({@code -Dtokenselect.cuda.bulkDecodeCopies=true}).
     */
    private volatile boolean bulkDecodeCopies = CudaSwitch.flag("bulkDecodeCopies", false);

    void setBulkDecodeCopies(boolean on) {
        bulkDecodeCopies = on;
    }

    boolean bulkDecodeCopies() {
        return bulkDecodeCopies;
    }

    /** Whether the decode attention kernels with bulk copies can run here (sm_90a kernels loaded). */
    boolean bulkDecodeAvailable() {
        return dev.hasSm90aKernels();
    }

    private boolean bulkDecodeInUse() {
        return bulkDecodeCopies && dev.hasSm90aKernels();
    }

    /** How full decode attention's tiles arrive where tensor copies can serve ({@link TensorCopyDecode}). */
    private volatile TensorCopyDecode tensorCopyDecode = TensorCopyDecode.fromSystemProperty();

    void setTensorCopyDecode(TensorCopyDecode scheme) {
        tensorCopyDecode = scheme;
    }

    TensorCopyDecode tensorCopyDecode() {
        return tensorCopyDecode;
    }

    /**
     * Whether page segments of this geometry can be tensor copies: head dim 128 (two 128-byte half
     * rows), and blocks of a multiple of 8 tokens (the swizzle's period) that divide a 64-key tile or are
     * whole multiples of it.
     */
    static boolean tensorCopyDecodeFits(int headDim, int blockSize) {
        return headDim == 128 && blockSize % 8 == 0 && (blockSize <= 64 ? 64 % blockSize == 0 : blockSize % 64 == 0);
    }

    /** Whether full decode attention over {@code kv} takes the tensor-copy kernel now. */
    boolean tensorCopyDecodeInUse(Kv kv) {
        return tensorCopyMap(kv) != null;
    }

    /**
     * The tensor map full decode attention over {@code kv} reads now, or null where it takes another kernel
     * (tensor copies off, no sm_90a module, a geometry they do not fit, a pool outside a tensor map's limits).
     */
    private byte[] tensorCopyMap(Kv kv) {
        if (tensorCopyDecode == TensorCopyDecode.OFF || !dev.hasSm90aKernels() || !usesTensorCoreDecode(kv.headDim())
                || !tensorCopyDecodeFits(kv.headDim(), kv.blockSize()) || kv.blocks() <= 0) {
            return null;
        }
        byte[] map = tensorMaps.computeIfAbsent(kv, this::encodeTensorMap);
        return map.length == 0 ? null : map;
    }

    /** Rows of a tensor copy: a page segment, min(block size, 64) tokens. */
    static int tensorCopyBoxRows(int blockSize) {
        return Math.min(blockSize, 64);
    }

    /** Shared memory of the tensor-copy kernel: 3 stages of 64 keys' K and V, unpadded, plus 1 KiB of alignment. */
    static final int TENSOR_COPY_DECODE_SHARED_BYTES = 3 * 2 * 64 * 128 * 2 + 1024;

    /**
     * The tensor map of each pool the tensor-copy kernel has been asked to read (128 bytes each; empty where
     * the pool's address or size is outside what a tensor map takes), so a launch neither encodes nor checks.
     */
    private final Map<Kv, byte[]> tensorMaps = new ConcurrentHashMap<>();

    private byte[] encodeTensorMap(Kv kv) {
        long address = ProgrammaticLaunch.address(kv.pool());
        int boxRows = tensorCopyBoxRows(kv.blockSize());
        return TensorMapCalls.invalidReason(address, kv.rows(), kv.headDim(), 64, boxRows) != null ? new byte[0]
                : TensorMapCalls.bf16Rows(address, kv.rows(), kv.headDim(), 64, boxRows);
    }

    void setDecodePrecision(DecodeAttentionPrecision p) {
        decodePrecision = p;
    }

    /**
     * The decode attention kernels for head dim d as the checks walk them: null for the fp32 kernel,
     * then each precision of the tensor-core kernel where d is 64 or 128.
     */
    static List<DecodeAttentionPrecision> decodePaths(int d) {
        List<DecodeAttentionPrecision> paths = new ArrayList<>();
        paths.add(null);
        if (d == 64 || d == 128) {
            paths.addAll(List.of(DecodeAttentionPrecision.values()));
        }
        return paths;
    }

    /** The fp32 decode attention kernel for null, else the tensor-core kernel in that precision. */
    void useDecodePath(DecodeAttentionPrecision p) {
        tensorCoreDecode = p != null;
        if (p != null) {
            decodePrecision = p;
        }
    }

    boolean usesTensorCoreDecode(int d) {
        return tensorCoreDecode && (d == 64 || d == 128);
    }

    /**
     * Decode attention blocks per SM that split-K aims at by default: the tensor-core kernel fits two
     * blocks of 104 KB per SM at d 128, so one wave; on an H200 the 7B at 128K decoded 138.3 tokens/s
     * with 2 against 132.7 with 4 and 117.3 with 1.
     */
    static final int DEFAULT_DECODE_BLOCKS_PER_SM = 2;

    static final String DECODE_BLOCKS_PER_SM_PROPERTY = "tokenselect.cuda.decodeBlocksPerSm";

    /**
     * {@code -Dtokenselect.cuda.decodeBlocksPerSm}, the default where unset; anything but a positive
     * integer is refused.
     */
    static int decodeBlocksPerSmFromProperty() {
        String v = System.getProperty(DECODE_BLOCKS_PER_SM_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_DECODE_BLOCKS_PER_SM;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException("-D" + DECODE_BLOCKS_PER_SM_PROPERTY + "=" + v + ": give the decode attention"
                + " blocks per SM that split-K aims at as a positive integer (default " + DEFAULT_DECODE_BLOCKS_PER_SM
                + ")");
    }

    /**
     * Split-K count of decode attention over {@code range} keys: the largest power of two that keeps
     * {@code blocks} (KV heads x sequences) times it near {@code targetBlocks}, at most one split per
     * {@code tileKeys}-key tile and at most {@code maxSplits}; 1 where the blocks alone fill the target.
     */
    static int decodeSplitCount(int range, int tileKeys, int blocks, int targetBlocks, long maxSplits) {
        int shares = (range + tileKeys - 1) / tileKeys;
        if (blocks >= targetBlocks || shares <= 1) {
            return 1;
        }
        long want = Math.min(Math.min(shares, (targetBlocks + blocks - 1) / blocks), maxSplits);
        return Integer.highestOneBit((int) Math.max(1, want));
    }

    /** Keys per split tile of the decode attention kernel in use. */
    int decodeTileKeys(int d) {
        return usesTensorCoreDecode(d) ? 64 : ATT_TK * ATT_WARPS;
    }

    /** The kernel's ring of raw K and V tiles: 3 stages of 64 keys, bf16 rows padded by 8 (decode_tc.cu). */
    static int tensorCoreDecodeSharedBytes(int d) {
        return 3 * 2 * 64 * (d + 8) * 2;
    }

    /**
     * Two or four weight rows per warp for every batch of 2 to 8 vectors (instead of one row per warp
     * for 5 to 8), so each input is read once per several rows. On by default: on an H200 a Qwen2-7B
     * step of 8 sequences went from 324 to 519 tok/s and one of 16 from 329 to 537 (the self-test
     * checks and times both).
     */
    private volatile boolean multiRowBatches = true;

    public void setMultiRowBatches(boolean on) {
        multiRowBatches = on;
    }

    public boolean multiRowBatches() {
        return multiRowBatches;
    }

    /**
     * Decode steps of this many sequences or more multiply their weights on the tensor cores
     * ({@link #gemvBatchTc}) where {@link #tensorCoreBatches} is on.
     */
    static final int TC_BATCH_MIN = 5;

    /** Vectors one launch of {@code gemv_batch_tc_*} takes (two n8 tiles). */
    static final int TC_BATCH_GROUP = 16;

    /**
     * Batched decode GEMVs on the tensor cores ({@code gemv_batch_tc.cu}) for batches of
     * {@link #TC_BATCH_MIN} sequences or more, the layer's RMSNorms and the K/V store in launches of
     * their own. Measured on an H200, the 7B over 16 sequences: 1,464 tokens/s against 525 on the CUDA-core
     * batch GEMVs (2.79x), over 8: 1,024 against 511. {@code -Dtokenselect.cuda.tensorCoreBatches=false}
     * keeps the CUDA cores (fp32 inputs instead of bf16 hi + lo).
     */
    private volatile boolean tensorCoreBatches = CudaSwitch.flag("tensorCoreBatches", true);

    void setTensorCoreBatches(boolean on) {
        tensorCoreBatches = on;
    }

    boolean tensorCoreBatches() {
        return tensorCoreBatches;
    }

    /** Whether {@link #gemvBatchTc} takes inputs of {@code cols} with row stride {@code ldx}. */
    static boolean gemvBatchTcFits(int cols, int ldx) {
        return cols % 64 == 0 && ldx % 4 == 0 && ldx >= cols;
    }

    /** Weight rows per block of {@link #gemvBatchTc}: 32 where that still gives every SM two blocks, else 16. */
    static int gemvBatchTcRowGroups(int rows, int sms) {
        return rows >= 32 * 2 * sms ? 2 : 1;
    }

    /**
     * Y[b, :] (row stride ldy) = (accumulate ? Y : 0) + bias + W x_b for the nb vectors x_b (row stride
     * ldx) on the tensor cores, in launches of {@link #TC_BATCH_GROUP} vectors; W bf16 [rows, cols].
     */
    public void gemvBatchTc(CUdeviceptr w, CUdeviceptr x, int ldx, CUdeviceptr y, int ldy, CUdeviceptr bias, int rows,
                            int cols, int nb, boolean accumulate) {
        if (!gemvBatchTcFits(cols, ldx)) {
            throw new IllegalArgumentException("the tensor-core batched GEMV needs cols % 64 == 0 and ldx % 4 == 0,"
                    + " got " + cols + ", " + ldx);
        }
        int rg = gemvBatchTcRowGroups(rows, sms);
        for (int b0 = 0; b0 < nb; b0 += TC_BATCH_GROUP) {
            int group = Math.min(TC_BATCH_GROUP, nb - b0);
            dev.launch("gemv_batch_tc_r" + rg, blocks(rows, 16 * rg), 1, 1, 256, 0, w, x.withByteOffset(4L * b0 * ldx),
                    ldx, y.withByteOffset(4L * b0 * ldy), ldy, bias, rows, cols, group, accumulate ? 1 : 0);
        }
    }

    /** Head dims the decode attention kernel is built for. */
    static boolean attentionDecodeFits(int d, int group) {
        return (d == 32 || d == 64 || d == 128) && group <= 8;
    }

    /**
     * Decode attention for B sequences (one new token each, query rows q[b, :] un-rotated, position
     * step[B + b]) over their paged caches; block tables are rows of {@code tables}. grid (kvHeads, B,
     * nsplit), block 128; with nsplit > 1 the partials (nsplit·B·heads·(d+2) floats) are merged by
     * attn_combine. Every per-step value is read on the device, so the launch can be captured.
     */
    public void attentionDecode(CUdeviceptr q, int ldq, Kv kv, CUdeviceptr tables, int tableStride, int layer,
                                CUdeviceptr step, int batch, int window, CUdeviceptr invFreq, int heads, int nsplit,
                                CUdeviceptr out, int ldo, CUdeviceptr partial) {
        int d = kv.headDim();
        int group = heads / kv.kvHeads();
        float scale = (float) Math.pow(d, -0.5);
        boolean tc = usesTensorCoreDecode(d);
        byte[] map = tc ? tensorCopyMap(kv) : null;
        if (map != null) {
            TensorCopyDecode scheme = tensorCopyDecode;
            dev.launch(scheme.kernel(decodePrecision), kv.kvHeads(), batch, nsplit, scheme.threads(),
                    TENSOR_COPY_DECODE_SHARED_BYTES, q, ldq, kv.pool(), kv.blockElems(), tables, tableStride,
                    kv.blockSize(), layer, kv.kvHeads(), step, batch, window, invFreq, group, scale,
                    nsplit == 1 ? out : null, ldo, partial, map);
        } else {
            dev.launch(tc ? decodePrecision.kernel(d, bulkDecodeInUse()) : "attn_decode_d" + d, kv.kvHeads(), batch,
                    nsplit, 128, tc ? tensorCoreDecodeSharedBytes(d) : 0, q, ldq, kv.pool(), kv.blockElems(),
                    tables, tableStride, kv.blockSize(), layer, kv.kvHeads(), step, batch, window, invFreq, group,
                    scale, nsplit == 1 ? out : null, ldo, partial);
        }
        if (nsplit > 1) {
            dev.launch("attn_combine", batch * heads, 1, 1, combineThreads(nsplit), 0, partial, nsplit, batch, heads, d, out, ldo);
        }
    }

    /**
     * Decode attention of one new token (query q, un-rotated, heads x d) over a selected entry list:
     * entry j is token sel[j] of the paged cache rotated at position j, the query at nEntries - 1
     * (TokenSelect's compacted positions). Split over the entries like a decode step; the partials
     * (nsplit x heads x (d + 2) floats, at most {@code partialCapacity}) are merged by attn_combine.
     * On the tensor-core decode path the kernel is the decode step's, over the list, with one 64-entry
     * tile per block where the card has room (a selection of 2K to 4K entries is only a few tiles, so
     * the latency of a tile, not bandwidth, is what a selection-cache hit waits for).
     */
    public void attentionDecodeSelected(CUdeviceptr q, Kv kv, CUdeviceptr table, int layer, CUdeviceptr sel,
                                        int nEntries, CUdeviceptr invFreq, int heads, CUdeviceptr out,
                                        CUdeviceptr partial, long partialCapacity) {
        int d = kv.headDim();
        int group = heads / kv.kvHeads();
        float scale = (float) Math.pow(d, -0.5);
        long capacity = Math.max(1, partialCapacity / ((long) heads * (d + 2)));
        int nsplit;
        if (usesTensorCoreDecode(d)) {
            nsplit = selectedSplitCount(nEntries, kv.kvHeads(), DEFAULT_DECODE_BLOCKS_PER_SM * sms, capacity);
            dev.launch(decodePrecision.selectedKernel(d, bulkDecodeInUse()), kv.kvHeads(), 1, nsplit, 128,
                    tensorCoreDecodeSharedBytes(d), q, kv.pool(), kv.blockElems(), table, kv.blockSize(), layer,
                    kv.kvHeads(), sel, nEntries, invFreq, group, scale, nsplit == 1 ? out : null, partial);
        } else {
            int shares = blocks(nEntries, ATT_TK * ATT_WARPS);
            int want = Math.min(shares, blocks(4 * sms, kv.kvHeads()));
            want = (int) Math.min(want, capacity);
            nsplit = Math.max(1, Integer.highestOneBit(want));
            dev.launch("attn_decode_sel_d" + d, kv.kvHeads(), 1, nsplit, 128, 0, q, kv.pool(), kv.blockElems(), table,
                    kv.blockSize(), layer, kv.kvHeads(), sel, nEntries, invFreq, group, scale,
                    nsplit == 1 ? out : null, partial);
        }
        if (nsplit > 1) {
            dev.launch("attn_combine", heads, 1, 1, combineThreads(nsplit), 0, partial, nsplit, 1, heads, d, out, heads * d);
        }
    }

    /**
     * Splits of the tensor-core attention over a selected list: one 64-entry tile per block up to
     * targetBlocks blocks over all KV heads, at most maxSplits.
     */
    static int selectedSplitCount(int nEntries, int kvHeads, int targetBlocks, long maxSplits) {
        int tiles = Math.max(1, (nEntries + 63) / 64);
        long want = Math.min(Math.min(tiles, Math.max(1, targetBlocks / kvHeads)), maxSplits);
        return (int) Math.max(1, want);
    }

    /** K/V append of one token per sequence at position step[B + b]. grid (B, kvHeads), block 128. */
    public void kvAppendBatch(CUdeviceptr k, CUdeviceptr v, int ld, Kv kv, CUdeviceptr tables, int tableStride,
                              int layer, CUdeviceptr step, int batch) {
        dev.launch("kv_append_batch", batch, kv.kvHeads(), 1, 128, 0, k, v, ld, kv.pool(), kv.blockElems(), tables,
                tableStride, kv.blockSize(), layer, kv.kvHeads(), kv.headDim(), step, batch);
    }

    /** Rows of gate|up (2·ffn floats each) into compact rows of silu(gate) * up. grid (ceil(ffn/256), rows). */
    public void swigluRowsTo(CUdeviceptr gu, CUdeviceptr out, int ffn, int rows) {
        dev.launch("swiglu_rows_to", blocks(ffn, 256), rows, 1, 256, 0, gu, out, ffn);
    }

    /** Rows of gate|up (2·ffn floats each): gate = silu(gate) * up in place. grid (ceil(ffn/256), B). */
    public void swigluRows(CUdeviceptr gu, int ffn, int batch) {
        dev.launch("swiglu_rows", blocks(ffn, 256), batch, 1, 256, 0, gu, ffn);
    }

    /** In-place per-head RMSNorm of B rows of row stride ld holding headsPerRow heads of dim each. */
    public void rmsNormHeadsStrided(CUdeviceptr x, CUdeviceptr w, int batch, int headsPerRow, int ld, int dim,
                                    float eps) {
        dev.launch("rmsnorm_heads_strided", blocks((long) batch * headsPerRow, 8), 1, 1, 256, 0, x, w, batch,
                headsPerRow, ld, dim, eps);
    }
}
