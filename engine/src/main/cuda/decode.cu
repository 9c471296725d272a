// Batched decode step: B sequences advance one token each. Every per-step value (token, position)
// is read from device memory and every shape is fixed per batch size, so a whole step can be
// captured once into a CUDA graph and replayed: step[0, B) = tokens, step[B, 2B) = positions (the
// new token's position). Block tables: row b of `tables` (row stride `tableStride`) is sequence b's.
#include "common.cuh"

#define DEC_WARPS 4  // decode_merge_warps (common.cuh) merges 4 warps of up to 8 heads
#define DEC_MAXG 8

template <int N>
__device__ __forceinline__ void load_bf16(const bf16 *p, float *out);

template <>
__device__ __forceinline__ void load_bf16<1>(const bf16 *p, float *out) {
    out[0] = bf2f(*p);
}

template <>
__device__ __forceinline__ void load_bf16<2>(const bf16 *p, float *out) {
    unpack_bf16x2(*reinterpret_cast<const uint32_t *>(p), out[0], out[1]);
}

template <>
__device__ __forceinline__ void load_bf16<4>(const bf16 *p, float *out) {
    uint2 w = *reinterpret_cast<const uint2 *>(p);
    unpack_bf16x2(w.x, out[0], out[1]);
    unpack_bf16x2(w.y, out[2], out[3]);
}

template <>
__device__ __forceinline__ void load_bf16<8>(const bf16 *p, float *out) {
    uint4 w = *reinterpret_cast<const uint4 *>(p);
    unpack_bf16x2(w.x, out[0], out[1]);
    unpack_bf16x2(w.y, out[2], out[3]);
    unpack_bf16x2(w.z, out[4], out[5]);
    unpack_bf16x2(w.w, out[6], out[7]);
}

/**
 * Decode attention of one new token per sequence over its paged cache, full causal attention
 * (optionally a sliding window). grid (kvHeads, B, nsplit), block 128 (4 warps).
 *
 * Scores: one key per lane, the lane reads its whole K row (16-byte loads), rotates it at its
 * position and dots it with the group's G rotated queries from shared memory, so each K row is read
 * once for the whole GQA group. Values: each lane owns D/32 dims and the warp walks its 32 keys.
 * The 4 warps take interleaved 32-key tiles of this split's range and merge at the end (online
 * softmax, fp32). With nsplit > 1 the block writes a partial (max, sum, acc) for attn_combine;
 * splits past the sequence's end write an empty partial (max = -inf).
 */
template <int D, bool PRELOAD, bool SEL = false>
__device__ __forceinline__ void attn_decode_body(
        const float *__restrict__ q, int ldq, const bf16 *__restrict__ pool, long long blockElems,
        const int *__restrict__ tables, int tableStride, int bs, int layer, int kvHeads,
        const int *__restrict__ step, int B, int window, const float *__restrict__ invFreq, int G, float scale,
        float *__restrict__ out, int ldo, float *__restrict__ partial, const int *__restrict__ sel = nullptr,
        int selLen = 0) {
    constexpr int HALF = D / 2;
    constexpr int DPL = D >= 32 ? D / 32 : 1;  // value dims per lane
    __shared__ __align__(16) float qs[DEC_MAXG][D];
    __shared__ float freq[HALF];
    __shared__ float wm[DEC_WARPS][DEC_MAXG];
    __shared__ float wl[DEC_WARPS][DEC_MAXG];
    __shared__ __align__(16) float ps[DEC_WARPS][DEC_MAXG][32];  // each warp's softmax weights of its tile
    // V rows of each warp's current tile (cp.async), reused as the warps' merge buffer at the end
    constexpr int VT_BYTES = DEC_WARPS * 32 * D * 2;
    constexpr int ACC_BYTES = DEC_WARPS * DEC_MAXG * D * 4;
    __shared__ __align__(16) unsigned char vbuf[VT_BYTES > ACC_BYTES ? VT_BYTES : ACC_BYTES];

    int g = blockIdx.x, b = blockIdx.y, split = blockIdx.z, nsplit = gridDim.z;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int H = kvHeads * G;
    bf16 *vtile = reinterpret_cast<bf16 *>(vbuf) + (size_t) warp * 32 * D;
    float (*wacc)[DEC_MAXG][D] = reinterpret_cast<float (*)[DEC_MAXG][D]>(vbuf);
    // SEL: attention over a selected entry list (TokenSelect): entry j is token sel[j], rotated at
    // position j; the query sits at the last entry
    int pos = SEL ? selLen - 1 : step[B + b];
    int len = pos + 1;
    const int *table = tables + (size_t) b * tableStride;

    for (int i = tid; i < HALF; i += blockDim.x) freq[i] = invFreq[i];
    for (int idx = tid; idx < G * HALF; idx += blockDim.x) {
        int h = idx / HALF, i = idx % HALF;
        const float *src = q + (size_t) b * ldq + (size_t) (g * G + h) * D;
        float a, c;
        rope_pair(src[i], src[i + HALF], invFreq[i], pos, a, c);
        qs[h][i] = a;
        qs[h][i + HALF] = c;
    }
    __syncthreads();

    int lo = window > 0 ? max(0, len - window) : 0;
    int tiles = (len - lo + 31) / 32;
    int tps = (tiles + nsplit - 1) / nsplit;
    int t0 = split * tps, t1 = min(tiles, t0 + tps);

    float m[DEC_MAXG], l[DEC_MAXG], acc[DEC_MAXG][DPL];
#pragma unroll
    for (int h = 0; h < DEC_MAXG; h++) {
        m[h] = NEG_INF;
        l[h] = 0.f;
#pragma unroll
        for (int e = 0; e < DPL; e++) acc[h][e] = 0.f;
    }
    size_t valueOffset = (size_t) kvHeads * bs * D;

    for (int t = t0 + warp; t < t1; t += DEC_WARPS) {
        int jBase = lo + t * 32;
        int j = jBase + lane;
        bool valid = j < len;
        // lanes past the end point at the tile's first key (always valid) and get weight 0
        int tok = valid ? j : jBase;
        size_t kOff = kv_offset(table, SEL ? sel[tok] : tok, bs, blockElems, layer, 0, kvHeads, g, D);
        // start this key's V row on its way to shared memory; it lands while the scores are computed
        {
            const bf16 *vsrc = pool + kOff + valueOffset;
            bf16 *vdst = vtile + lane * D;
#pragma unroll
            for (int c = 0; c < D / 8; c++) cp_async16(vdst + 8 * c, vsrc + 8 * c);
            asm volatile("cp.async.commit_group;\n" ::);
        }
        float s[DEC_MAXG];
#pragma unroll
        for (int h = 0; h < DEC_MAXG; h++) s[h] = 0.f;
        {
            const bf16 *kr = pool + kOff;
            constexpr int CH = HALF >= 8 ? 8 : HALF;
            constexpr int NCH = HALF / CH;
            // PRELOAD: the whole K row's loads are issued before any arithmetic, so a tile waits for
            // memory once instead of once per chunk of dims (the selected-list kernel; over a whole
            // cache the registers it takes cost more occupancy than it saves: 1.75 vs 1.33 ms per
            // layer at 1M tokens on an H200)
            uint4 kwa[PRELOAD ? NCH : 1], kwb[PRELOAD ? NCH : 1];
            if (PRELOAD) {
#pragma unroll
                for (int c = 0; c < NCH; c++) {
                    kwa[c] = *reinterpret_cast<const uint4 *>(kr + c * CH);
                    kwb[c] = *reinterpret_cast<const uint4 *>(kr + HALF + c * CH);
                }
            }
#pragma unroll
            for (int c0 = 0; c0 < HALF; c0 += CH) {
                float ka[CH], kb[CH], ra[CH], rb[CH];
                if (PRELOAD) {
                    uint4 wa = kwa[PRELOAD ? c0 / CH : 0], wb = kwb[PRELOAD ? c0 / CH : 0];
                    unpack_bf16x2(wa.x, ka[0], ka[1]); unpack_bf16x2(wa.y, ka[2], ka[3]);
                    unpack_bf16x2(wa.z, ka[4], ka[5]); unpack_bf16x2(wa.w, ka[6], ka[7]);
                    unpack_bf16x2(wb.x, kb[0], kb[1]); unpack_bf16x2(wb.y, kb[2], kb[3]);
                    unpack_bf16x2(wb.z, kb[4], kb[5]); unpack_bf16x2(wb.w, kb[6], kb[7]);
                } else {
                    load_bf16<CH>(kr + c0, ka);
                    load_bf16<CH>(kr + HALF + c0, kb);
                }
#pragma unroll
                for (int e = 0; e < CH; e++) {
                    float sn, cs;
                    sincos_reduced(__fmul_rn((float) j, freq[c0 + e]), &sn, &cs);
                    ra[e] = __fsub_rn(__fmul_rn(ka[e], cs), __fmul_rn(kb[e], sn));
                    rb[e] = __fadd_rn(__fmul_rn(kb[e], cs), __fmul_rn(ka[e], sn));
                }
#pragma unroll
                for (int h = 0; h < DEC_MAXG; h++) {
                    if (h < G) {
                        // the group's queries as 16-byte shared loads (broadcast: every lane reads the same)
                        float qa[CH], qb[CH];
#pragma unroll
                        for (int e = 0; e < CH; e += 4) {
                            float4 a4 = *reinterpret_cast<const float4 *>(&qs[h][c0 + e]);
                            float4 b4 = *reinterpret_cast<const float4 *>(&qs[h][HALF + c0 + e]);
                            qa[e] = a4.x; qa[e + 1] = a4.y; qa[e + 2] = a4.z; qa[e + 3] = a4.w;
                            qb[e] = b4.x; qb[e + 1] = b4.y; qb[e + 2] = b4.z; qb[e + 3] = b4.w;
                        }
                        float acc2 = s[h];
#pragma unroll
                        for (int e = 0; e < CH; e++) acc2 = fmaf(qa[e], ra[e], fmaf(qb[e], rb[e], acc2));
                        s[h] = acc2;
                    }
                }
            }
        }
#pragma unroll
        for (int h = 0; h < DEC_MAXG; h++) {
            if (h < G) {
                float sv = valid ? s[h] * scale : NEG_INF;
                float mNew = fmaxf(m[h], warp_max(sv));  // finite: lane 0's key is always valid
                float corr = expf(m[h] - mNew);
                float p = valid ? expf(sv - mNew) : 0.f;
                l[h] = l[h] * corr + warp_sum(p);
                m[h] = mNew;
#pragma unroll
                for (int e = 0; e < DPL; e++) acc[h][e] *= corr;
                s[h] = p;
            }
        }
#pragma unroll
        for (int h = 0; h < DEC_MAXG; h++) {
            if (h < G) ps[warp][h][lane] = s[h];
        }
        asm volatile("cp.async.wait_group 0;\n" ::);
        __syncwarp();
#pragma unroll 2
        for (int src0 = 0; src0 < 32; src0 += 4) {
            float v[4][DPL];
#pragma unroll
            for (int q = 0; q < 4; q++) {
                if (D >= 32) {
                    load_bf16<DPL>(vtile + (src0 + q) * D + lane * DPL, v[q]);
                } else {
                    v[q][0] = lane < D ? bf2f(vtile[(src0 + q) * D + lane]) : 0.f;
                }
            }
#pragma unroll
            for (int h = 0; h < DEC_MAXG; h++) {
                if (h < G) {
                    float4 w4 = *reinterpret_cast<const float4 *>(&ps[warp][h][src0]);
                    float w[4] = {w4.x, w4.y, w4.z, w4.w};
#pragma unroll
                    for (int q = 0; q < 4; q++)
#pragma unroll
                        for (int e = 0; e < DPL; e++) acc[h][e] = fmaf(w[q], v[q][e], acc[h][e]);
                }
            }
        }
        __syncwarp();  // the tile buffer is refilled next iteration
    }

    // merge the warps (the V tiles are done: every warp passes this barrier first)
    __syncthreads();
#pragma unroll
    for (int h = 0; h < DEC_MAXG; h++) {
        if (h < G) {
            if (lane == 0) {
                wm[warp][h] = m[h];
                wl[warp][h] = l[h];
            }
#pragma unroll
            for (int e = 0; e < DPL; e++) {
                int dd = D >= 32 ? lane * DPL + e : lane;
                if (dd < D) wacc[warp][h][dd] = acc[h][e];
            }
        }
    }
    __syncthreads();
    decode_merge_warps<D>(&wm[0][0], &wl[0][0], &wacc[0][0][0], G, g, b, split, nsplit, B, H, out, ldo, partial);
}

#define ATT_DECODE_ENTRY(NAME, D)                                                                                  \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                       \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *tables, int tableStride,  \
            int bs, int layer, int kvHeads, const int *step, int B, int window, const float *invFreq, int G,      \
            float scale, float *out, int ldo, float *partial) { PDL_BEGIN();                                                   \
        attn_decode_body<D, false>(q, ldq, pool, blockElems, tables, tableStride, bs, layer, kvHeads, step, B,   \
                                   window, invFreq, G, scale, out, ldo, partial);                                 \
    }

ATT_DECODE_ENTRY(attn_decode_d32, 32)
ATT_DECODE_ENTRY(attn_decode_d64, 64)
ATT_DECODE_ENTRY(attn_decode_d128, 128)

/**
 * Decode attention of one sequence's new token over a selected entry list (TokenSelect): entry j is
 * token sel[j] of the paged cache, its key rotated at position j; nEntries entries, the query at
 * position nEntries - 1. grid (kvHeads, 1, nsplit), block 128; partials as attn_decode_d*.
 */
#define ATT_DECODE_SEL_ENTRY(NAME, D)                                                                              \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                       \
            const float *q, const bf16 *pool, long long blockElems, const int *table, int bs, int layer,          \
            int kvHeads, const int *sel, int nEntries, const float *invFreq, int G, float scale, float *out,      \
            float *partial) { PDL_BEGIN();                                                                                     \
        attn_decode_body<D, true, true>(q, 0, pool, blockElems, table, 0, bs, layer, kvHeads, nullptr, 1, 0,     \
                                        invFreq, G, scale, out, 0, partial, sel, nEntries);                       \
    }

ATT_DECODE_SEL_ENTRY(attn_decode_sel_d32, 32)
ATT_DECODE_SEL_ENTRY(attn_decode_sel_d64, 64)
ATT_DECODE_SEL_ENTRY(attn_decode_sel_d128, 128)

/**
 * Batched GEMV: Y[b, r] = (accumulate ? Y[b, r] : 0) + bias[r] + sum_c W[r, c] X'[b, c] for NB
 * vectors, so each weight row is read once for the whole batch. X' is the input row transformed on
 * the fly, which saves a launch and a round trip per transform in a decode step:
 *   xMode 0: X[b] as is;
 *   xMode 1: RMSNorm, X[b] * rsqrt(mean(X[b]^2) + eps) * normW (each block recomputes the NB norms);
 * With kvPool set (the fused q|k|v projection), rows past qDim are also stored as the new token's
 * K (un-rotated) and V in the paged pool at position step[B + b0 + b], like kv_append_batch.
 * Each lane keeps U 16-byte loads per row in flight. Needs cols % 8 == 0 and ldx % 4 == 0.
 * XS (one vector): the block first stages X' in shared memory (cols floats of dynamic shared memory),
 * so its 8 row-warps read the input from there instead of each streaming all of it through L2, which
 * for one row per warp moved twice the weight bytes.
 * GLU (gate|up with SwiGLU in the epilogue): W is [2 * rows, cols], gate rows then up rows; a warp
 * takes ROWS / 2 gate rows and the up rows that pair with them, and writes Y[b, r] = silu(gate) * up
 * for its rows < rows, so a decode step needs no separate SwiGLU launch.
 * grid ceil(rows / (8 * ROWS)) (GLU: ceil(rows / (8 * ROWS / 2))), block 256.
 */
template <int ROWS, int NB, int U, bool XS = false, bool GLU = false>
__device__ __forceinline__ void gemv_batch_body(
        const bf16 *__restrict__ W, const float *__restrict__ X, int ldx, float *__restrict__ Y, int ldy,
        const float *__restrict__ bias, int xMode, const float *__restrict__ normW, float eps, int rows, int cols,
        int accumulate, bf16 *__restrict__ kvPool, long long blockElems, const int *__restrict__ tables,
        int tableStride, int bs, int layer, int kvHeads, int d, int qDim, const int *__restrict__ step, int B,
        int b0) {
    __shared__ float invNorm[NB];
    extern __shared__ __align__(16) float xs[];
    constexpr int OUT = GLU ? ROWS / 2 : ROWS;  // outputs per warp; row k >= OUT is up row of output k - OUT
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    {
        // the weights are read-only: the first U chunks of this warp's rows start toward L2 while the
        // kernel before (programmatic dependent launch) finishes; then wait for it
        int wr0 = (blockIdx.x * (blockDim.x >> 5) + warp) * OUT;
        if (wr0 < rows) {
            int chunks = cols >> 3;
#pragma unroll
            for (int k = 0; k < ROWS; k++) {
                size_t r = (size_t) min(wr0 + k % OUT, rows - 1) + (k >= OUT ? rows : 0);
                const uint4 *wr = reinterpret_cast<const uint4 *>(W + r * cols);
                for (int c = lane; c < chunks && c < 32 * U; c += 32) {
                    asm volatile("prefetch.global.L2 [%0];\n" ::"l"(wr + c));
                }
            }
        }
    }
    PDL_BEGIN();
    if (XS) {
        // X[0] staged and normalised once per block: the same products, in the same order, as the
        // unstaged path
        stage_input_row(xs, X, cols, xMode, normW, eps);
    } else if (xMode == 1) {
        // the whole block sums each row's squares (4 rows of float4 per thread per step)
        for (int nb = 0; nb < NB; nb++) {
            const float4 *xr = reinterpret_cast<const float4 *>(X + (size_t) nb * ldx);
            float ss = 0.f;
            for (int c = threadIdx.x; c < (cols >> 2); c += blockDim.x) {
                float4 v = __ldg(xr + c);
                ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
            }
            ss = block_sum(ss);
            if (threadIdx.x == 0) invNorm[nb] = 1.0f / sqrtf(ss / cols + eps);
        }
        __syncthreads();
    }
    int r0 = (blockIdx.x * (blockDim.x >> 5) + warp) * OUT;
    if (r0 >= rows) return;
    float acc[ROWS][NB];
#pragma unroll
    for (int k = 0; k < ROWS; k++)
#pragma unroll
        for (int nb = 0; nb < NB; nb++) acc[k][nb] = 0.f;

    const uint4 *wrow[ROWS];
#pragma unroll
    for (int k = 0; k < ROWS; k++) {
        size_t r = (size_t) min(r0 + k % OUT, rows - 1) + (k >= OUT ? rows : 0);
        wrow[k] = reinterpret_cast<const uint4 *>(W + r * cols);
    }
    int chunks = cols >> 3;
    for (int c0 = lane; c0 < chunks; c0 += 32 * U) {
        uint4 w[U][ROWS];
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + 32 * u;
#pragma unroll
            for (int k = 0; k < ROWS; k++) w[u][k] = c < chunks ? __ldcs(wrow[k] + c) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            int c = c0 + 32 * u;
            if (c >= chunks) break;
            float nw[8];
            if (xMode == 1 && !XS) {
                float4 n0 = __ldg(reinterpret_cast<const float4 *>(normW) + 2 * c);
                float4 n1 = __ldg(reinterpret_cast<const float4 *>(normW) + 2 * c + 1);
                nw[0] = n0.x; nw[1] = n0.y; nw[2] = n0.z; nw[3] = n0.w;
                nw[4] = n1.x; nw[5] = n1.y; nw[6] = n1.z; nw[7] = n1.w;
            }
#pragma unroll
            for (int nb = 0; nb < NB; nb++) {
                float4 xa, xb;
                if (XS) {
                    xa = reinterpret_cast<const float4 *>(xs)[2 * c];
                    xb = reinterpret_cast<const float4 *>(xs)[2 * c + 1];
                } else {
                    const float4 *x4 = reinterpret_cast<const float4 *>(X + (size_t) nb * ldx);
                    xa = __ldg(x4 + 2 * c);
                    xb = __ldg(x4 + 2 * c + 1);
                }
                float xv[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
                if (xMode == 1 && !XS) {
                    float inv = invNorm[nb];
#pragma unroll
                    for (int e = 0; e < 8; e++) xv[e] = (xv[e] * inv) * nw[e];
                }
#pragma unroll
                for (int k = 0; k < ROWS; k++) acc[k][nb] = dot8_bf16(w[u][k], xv, acc[k][nb]);
            }
        }
    }
#pragma unroll
    for (int k = 0; k < ROWS; k++)
#pragma unroll
        for (int nb = 0; nb < NB; nb++) acc[k][nb] = warp_sum(acc[k][nb]);
    if constexpr (GLU) {  // SwiGLU as every kernel computes it (silu_mul)
#pragma unroll
        for (int k = 0; k < OUT; k++)
#pragma unroll
            for (int nb = 0; nb < NB; nb++) {
                int r = r0 + k;
                if (lane != (k * NB + nb) % 32 || r >= rows) continue;
                Y[(size_t) nb * ldy + r] = silu_mul(acc[k][nb], acc[k + OUT][nb]);
            }
    } else {
        // lane (k * NB + nb) % 32 writes output (k, nb): stores spread over the warp
#pragma unroll
        for (int k = 0; k < ROWS; k++) {
            int r = r0 + k;
#pragma unroll
            for (int nb = 0; nb < NB; nb++) {
                if (lane != (k * NB + nb) % 32 || r >= rows) continue;
                float v = acc[k][nb] + (bias ? bias[r] : 0.f);
                float *y = Y + (size_t) nb * ldy + r;
                v = accumulate ? *y + v : v;
                *y = v;
                if (kvPool && r >= qDim) {
                    int kvDim = kvHeads * d;
                    int kr = r - qDim;
                    int isValue = kr >= kvDim ? 1 : 0;
                    int within = kr - isValue * kvDim;
                    int g = within / d, e = within % d;
                    int seq = b0 + nb;
                    size_t o = kv_offset(tables + (size_t) seq * tableStride, step[B + seq], bs, blockElems, layer,
                                         isValue, kvHeads, g, d);
                    kvPool[o + e] = __float2bfloat16_rn(v);
                }
            }
        }
    }
}

#define GEMV_BATCH_ENTRY(ROWS, NB, U)                                                                              \
    extern "C" __global__ void __launch_bounds__(256) gemv_batch_r##ROWS##_b##NB(                                  \
            const bf16 *W, const float *X, int ldx, float *Y, int ldy, const float *bias, int xMode,             \
            const float *normW, float eps, int rows, int cols, int accumulate, bf16 *kvPool,                      \
            long long blockElems, const int *tables, int tableStride, int bs, int layer, int kvHeads, int d,      \
            int qDim, const int *step, int B, int b0) { /* PDL_BEGIN in the body, after the weight prefetch */                                                           \
        gemv_batch_body<ROWS, NB, U>(W, X, ldx, Y, ldy, bias, xMode, normW, eps, rows, cols, accumulate, kvPool, \
                                     blockElems, tables, tableStride, bs, layer, kvHeads, d, qDim, step, B, b0); \
    }

GEMV_BATCH_ENTRY(4, 1, 2)
GEMV_BATCH_ENTRY(1, 1, 8)

// one vector, one row per warp, the input staged in shared memory (dynamic, cols floats)
#define GEMV_BATCH_XS_ENTRY(NAME, ROWS, U)                                                                          \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                        \
            const bf16 *W, const float *X, int ldx, float *Y, int ldy, const float *bias, int xMode,             \
            const float *normW, float eps, int rows, int cols, int accumulate, bf16 *kvPool,                      \
            long long blockElems, const int *tables, int tableStride, int bs, int layer, int kvHeads, int d,      \
            int qDim, const int *step, int B, int b0) { /* PDL_BEGIN in the body, after the weight prefetch */                                                           \
        gemv_batch_body<ROWS, 1, U, true>(W, X, ldx, Y, ldy, bias, xMode, normW, eps, rows, cols, accumulate,      \
                                          kvPool, blockElems, tables, tableStride, bs, layer, kvHeads, d, qDim, step, \
                                          B, b0);                                                                 \
    }

GEMV_BATCH_XS_ENTRY(gemv_batch_xs_r1_b1, 1, 8)

// gate|up of one vector with SwiGLU in the epilogue: two gate rows and their two up rows per warp
extern "C" __global__ void __launch_bounds__(256) gemv_glu_r4_b1(
        const bf16 *W, const float *X, int ldx, float *Y, int ldy, const float *bias, int xMode, const float *normW,
        float eps, int rows, int cols, int accumulate, bf16 *kvPool, long long blockElems, const int *tables,
        int tableStride, int bs, int layer, int kvHeads, int d, int qDim, const int *step, int B, int b0) { /* PDL_BEGIN in the body, after the weight prefetch */
    gemv_batch_body<4, 1, 2, false, true>(W, X, ldx, Y, ldy, bias, xMode, normW, eps, rows, cols, accumulate, kvPool,
                                          blockElems, tables, tableStride, bs, layer, kvHeads, d, qDim, step, B, b0);
}

GEMV_BATCH_ENTRY(2, 2, 2)
GEMV_BATCH_ENTRY(2, 3, 2)
GEMV_BATCH_ENTRY(2, 4, 2)
GEMV_BATCH_ENTRY(1, 5, 4)
GEMV_BATCH_ENTRY(1, 6, 4)
GEMV_BATCH_ENTRY(1, 7, 4)
GEMV_BATCH_ENTRY(1, 8, 4)
// 5 to 8 vectors: two or four rows per warp, so the inputs (read through L2 by every warp) are read
// once per two or four weight rows rather than once per row
GEMV_BATCH_ENTRY(2, 5, 2)
GEMV_BATCH_ENTRY(2, 6, 2)
GEMV_BATCH_ENTRY(2, 7, 2)
GEMV_BATCH_ENTRY(2, 8, 2)
GEMV_BATCH_ENTRY(4, 5, 1)
GEMV_BATCH_ENTRY(4, 6, 1)
GEMV_BATCH_ENTRY(4, 7, 1)
GEMV_BATCH_ENTRY(4, 8, 1)
GEMV_BATCH_ENTRY(4, 2, 1)
GEMV_BATCH_ENTRY(4, 3, 1)
GEMV_BATCH_ENTRY(4, 4, 1)

/**
 * K/V append of one token per sequence: k/v rows of sequence b at k + b*ld (head g at g*d), position
 * step[B + b]. grid (B, kvHeads), block 128.
 */
extern "C" __global__ void kv_append_batch(const float *__restrict__ k, const float *__restrict__ v, int ld,
                                           bf16 *__restrict__ pool, long long blockElems,
                                           const int *__restrict__ tables, int tableStride, int bs, int layer,
                                           int kvHeads, int d, const int *__restrict__ step, int B) { PDL_BEGIN();
    int b = blockIdx.x, g = blockIdx.y;
    int pos = step[B + b];
    size_t ko = kv_offset(tables + (size_t) b * tableStride, pos, bs, blockElems, layer, 0, kvHeads, g, d);
    size_t vo = ko + (size_t) kvHeads * bs * d;
    const float *ks = k + (size_t) b * ld + (size_t) g * d;
    const float *vs = v + (size_t) b * ld + (size_t) g * d;
    for (int e = threadIdx.x; e < d; e += blockDim.x) {
        pool[ko + e] = __float2bfloat16_rn(ks[e]);
        pool[vo + e] = __float2bfloat16_rn(vs[e]);
    }
}

/** In place on rows of 2*ffn (gate | up): gate = silu(gate) * up. grid (ceil(ffn/256), B), block 256. */
extern "C" __global__ void swiglu_rows(float *__restrict__ gu, int ffn) { PDL_BEGIN();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= ffn) return;
    float *row = gu + (size_t) blockIdx.y * 2 * ffn;
    row[i] = silu_mul(row[i], row[ffn + i]);
}

/** Per-head RMSNorm of heads laid out [B][ld] (head h of row b at b*ld + h*dim). A warp per head. */
extern "C" __global__ void rmsnorm_heads_strided(float *x, const float *__restrict__ w, int B, int headsPerRow,
                                                 int ld, int dim, float eps) { PDL_BEGIN();
    int r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (r >= B * headsPerRow) return;
    float *xr = x + (size_t) (r / headsPerRow) * ld + (size_t) (r % headsPerRow) * dim;
    float ss = 0.f;
    for (int c = lane; c < dim; c += 32) ss += xr[c] * xr[c];
    ss = warp_sum(ss);
    float inv = 1.0f / sqrtf(ss / dim + eps);
    for (int c = lane; c < dim; c += 32) xr[c] = (xr[c] * inv) * w[c];
}
