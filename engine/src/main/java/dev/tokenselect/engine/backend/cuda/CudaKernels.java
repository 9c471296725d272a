package dev.tokenselect.engine.backend.cuda;

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
        for (int d : new int[] {32, 64, 128, 256}) {
            dev.allowDynamicShared(attentionKernel(d), attentionSharedBytes(d));
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
        dev.launch("gemm_bf16_tc", blocks(n, 64), blocks(m, 64), 1, 128, 0, x, w, y, bias, m, n, k, ldy,
                accumulate ? 1 : 0);
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

    /** Paged KV pool geometry on the device (bf16, [layer][K|V][kvHead][slot][d] per block). */
    public record Kv(CUdeviceptr pool, long blockElems, int blockSize, int kvHeads, int headDim) {
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

    /** Floats of split-K partials one attention call needs for {@code nsplit × n × heads}. */
    static long partialFloats(int nsplit, int n, int heads, int d) {
        return (long) nsplit * n * heads * (d + 2);
    }

    /**
     * Causal GQA attention of n queries (q fp32 [n, ldq], un-rotated; rotated here at qPos0 + i) over
     * entries [0, nEntries) of the paged cache: entry j is token sel[j] (or j) with its key rotated at
     * position j. grid (kvHeads, ceil(n / tq), nsplit), block 128, dynamic shared memory per head dim;
     * with nsplit > 1 the partials are merged by attn_combine (grid n·H, block 128).
     *
     * @param partial        scratch of {@code partialCapacity} floats for split-K
     * @param window         sliding window (0: none); must be 0 with a selection
     */
    public void attention(CUdeviceptr q, int ldq, Kv kv, CUdeviceptr blockTable, int layer, CUdeviceptr sel,
                          int nEntries, int qPos0, int n, int window, CUdeviceptr invFreq, int heads,
                          CUdeviceptr out, int ldo, CUdeviceptr partial, long partialCapacity) {
        int d = kv.headDim();
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
            dev.launch("attn_combine", n * heads, 1, 1, 128, 0, partial, nsplit, n, heads, d, out, ldo);
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
        if (!gemvBatchFits(cols, ldx)) {
            throw new IllegalArgumentException("batched GEMV needs cols % 8 == 0 and ldx % 4 == 0, got " + cols
                    + ", " + ldx);
        }
        for (int b0 = 0; b0 < nb; b0 += GEMV_MAX_BATCH) {
            int group = Math.min(GEMV_MAX_BATCH, nb - b0);
            int rowsPerWarp;
            if (group == 1) {
                rowsPerWarp = rows >= 4 * 8 * 2 * sms ? 4 : 1;
            } else {
                rowsPerWarp = group <= 4 ? 2 : 1;
            }
            String kernel = "gemv_batch_r" + rowsPerWarp + "_b" + group;
            dev.launch(kernel, blocks(rows, 8 * rowsPerWarp), 1, 1, 256, 0, w,
                    x.withByteOffset(4L * b0 * ldx), ldx, y.withByteOffset(4L * b0 * ldy), ldy, bias, normW, eps,
                    rows, cols, accumulate ? 1 : 0);
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
        dev.launch("attn_decode_d" + d, kv.kvHeads(), batch, nsplit, 128, 0, q, ldq, kv.pool(), kv.blockElems(),
                tables, tableStride, kv.blockSize(), layer, kv.kvHeads(), step, batch, window, invFreq, group, scale,
                nsplit == 1 ? out : null, ldo, partial);
        if (nsplit > 1) {
            dev.launch("attn_combine", batch * heads, 1, 1, 128, 0, partial, nsplit, batch, heads, d, out, ldo);
        }
    }

    /** K/V append of one token per sequence at position step[B + b]. grid (B, kvHeads), block 128. */
    public void kvAppendBatch(CUdeviceptr k, CUdeviceptr v, int ld, Kv kv, CUdeviceptr tables, int tableStride,
                              int layer, CUdeviceptr step, int batch) {
        dev.launch("kv_append_batch", batch, kv.kvHeads(), 1, 128, 0, k, v, ld, kv.pool(), kv.blockElems(), tables,
                tableStride, kv.blockSize(), layer, kv.kvHeads(), kv.headDim(), step, batch);
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
