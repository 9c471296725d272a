// Batched decode step: B sequences advance one token each. Every per-step value (token, position)
// is read from device memory and every shape is fixed per batch size, so a whole step can be
// captured once into a CUDA graph and replayed: step[0, B) = tokens, step[B, 2B) = positions (the
// new token's position). Block tables: row b of `tables` (row stride `tableStride`) is sequence b's.
#include "common.cuh"

#define DEC_WARPS 4
#define DEC_MAXG 8

/**
 * sin and cos of an fp32 angle with an explicit range reduction: x = k * 2pi + r (2pi split in two
 * floats, Cody-Waite), then the hardware approximation on [-pi, pi] (abs. error ~4e-7). sincosf's
 * slow path for |x| > 1e5 (positions past ~100K) would otherwise dominate long-context attention.
 */
__device__ __forceinline__ void sincos_reduced(float x, float *s, float *c) {
    float k = rintf(x * 0.15915494309189535f);
    float r = fmaf(-k, 6.28318548202514648f, x);
    r = fmaf(k, 1.7484555e-7f, r);
    __sincosf(r, s, c);
}

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
template <int D>
__device__ __forceinline__ void attn_decode_body(
        const float *__restrict__ q, int ldq, const bf16 *__restrict__ pool, long long blockElems,
        const int *__restrict__ tables, int tableStride, int bs, int layer, int kvHeads,
        const int *__restrict__ step, int B, int window, const float *__restrict__ invFreq, int G, float scale,
        float *__restrict__ out, int ldo, float *__restrict__ partial) {
    constexpr int HALF = D / 2;
    constexpr int DPL = D >= 32 ? D / 32 : 1;  // value dims per lane
    __shared__ float qs[DEC_MAXG][D];
    __shared__ float freq[HALF];
    __shared__ float wm[DEC_WARPS][DEC_MAXG];
    __shared__ float wl[DEC_WARPS][DEC_MAXG];
    __shared__ float wacc[DEC_WARPS][DEC_MAXG][D];

    int g = blockIdx.x, b = blockIdx.y, split = blockIdx.z, nsplit = gridDim.z;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int H = kvHeads * G;
    int pos = step[B + b];
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
        float s[DEC_MAXG];
#pragma unroll
        for (int h = 0; h < DEC_MAXG; h++) s[h] = 0.f;
        if (valid) {
            const bf16 *kr = pool + kv_offset(table, j, bs, blockElems, layer, 0, kvHeads, g, D);
            constexpr int CH = HALF >= 8 ? 8 : HALF;
#pragma unroll
            for (int c0 = 0; c0 < HALF; c0 += CH) {
                float ka[CH], kb[CH];
                load_bf16<CH>(kr + c0, ka);
                load_bf16<CH>(kr + HALF + c0, kb);
#pragma unroll
                for (int e = 0; e < CH; e++) {
                    int i = c0 + e;
                    float sn, cs;
                    sincos_reduced(__fmul_rn((float) j, freq[i]), &sn, &cs);
                    float ra = __fsub_rn(__fmul_rn(ka[e], cs), __fmul_rn(kb[e], sn));
                    float rb = __fadd_rn(__fmul_rn(kb[e], cs), __fmul_rn(ka[e], sn));
#pragma unroll
                    for (int h = 0; h < DEC_MAXG; h++) {
                        if (h < G) s[h] = fmaf(qs[h][i], ra, fmaf(qs[h][i + HALF], rb, s[h]));
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
        int count = min(32, len - jBase);
        for (int src = 0; src < count; src++) {
            const bf16 *vr = pool + kv_offset(table, jBase + src, bs, blockElems, layer, 0, kvHeads, g, D) + valueOffset;
            float v[DPL];
            if (D >= 32) {
                load_bf16<DPL>(vr + lane * DPL, v);
            } else {
                v[0] = lane < D ? bf2f(vr[lane]) : 0.f;
            }
#pragma unroll
            for (int h = 0; h < DEC_MAXG; h++) {
                if (h < G) {
                    float w = __shfl_sync(0xffffffffu, s[h], src);
#pragma unroll
                    for (int e = 0; e < DPL; e++) acc[h][e] = fmaf(w, v[e], acc[h][e]);
                }
            }
        }
    }

    // merge the warps
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
    for (int idx = tid; idx < G * D; idx += blockDim.x) {
        int h = idx / D, dd = idx % D;
        float M = NEG_INF;
        for (int w = 0; w < DEC_WARPS; w++) M = fmaxf(M, wm[w][h]);
        float L = 0.f, a = 0.f;
        if (M != NEG_INF) {
            for (int w = 0; w < DEC_WARPS; w++) {
                if (wm[w][h] == NEG_INF) continue;
                float f = expf(wm[w][h] - M);
                L += wl[w][h] * f;
                a += wacc[w][h][dd] * f;
            }
        }
        int hg = g * G + h;
        if (nsplit == 1) {
            out[(size_t) b * ldo + (size_t) hg * D + dd] = L > 0.f ? a / L : 0.f;
        } else {
            float *pr = partial + (((size_t) split * B + b) * H + hg) * (D + 2);
            if (dd == 0) {
                pr[0] = M;
                pr[1] = L;
            }
            pr[2 + dd] = a;
        }
    }
}

#define ATT_DECODE_ENTRY(NAME, D)                                                                                  \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                       \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *tables, int tableStride,  \
            int bs, int layer, int kvHeads, const int *step, int B, int window, const float *invFreq, int G,      \
            float scale, float *out, int ldo, float *partial) {                                                   \
        attn_decode_body<D>(q, ldq, pool, blockElems, tables, tableStride, bs, layer, kvHeads, step, B, window,  \
                            invFreq, G, scale, out, ldo, partial);                                                \
    }

ATT_DECODE_ENTRY(attn_decode_d32, 32)
ATT_DECODE_ENTRY(attn_decode_d64, 64)
ATT_DECODE_ENTRY(attn_decode_d128, 128)

/**
 * Batched GEMV: Y[b, r] = (accumulate ? Y[b, r] : 0) + bias[r] + sum_c W[r, c] X[b, c] for NB
 * vectors, so each weight row is read once for the whole batch. Optional fused RMSNorm of the
 * input rows (normW != null): X[b] is scaled by rsqrt(mean(X[b]^2) + eps) * normW on the fly, which
 * saves the norm's own launch and round trip in a decode step. Needs cols % 8 == 0 and ldx % 4 == 0.
 * grid ceil(rows / (8 * ROWS)), block 256.
 */
template <int ROWS, int NB>
__device__ __forceinline__ void gemv_batch_body(const bf16 *__restrict__ W, const float *__restrict__ X, int ldx,
                                                float *__restrict__ Y, int ldy, const float *__restrict__ bias,
                                                const float *__restrict__ normW, float eps, int rows, int cols,
                                                int accumulate) {
    __shared__ float invNorm[NB];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    if (normW) {
        // every block recomputes the norms of the NB input rows (a few KB from L2)
        for (int nb = warp; nb < NB; nb += blockDim.x >> 5) {
            const float *xr = X + (size_t) nb * ldx;
            float ss = 0.f;
            for (int c = lane; c < cols; c += 32) ss += xr[c] * xr[c];
            ss = warp_sum(ss);
            if (lane == 0) invNorm[nb] = 1.0f / sqrtf(ss / cols + eps);
        }
        __syncthreads();
    }
    int r0 = (blockIdx.x * (blockDim.x >> 5) + warp) * ROWS;
    if (r0 >= rows) return;
    float acc[ROWS][NB];
#pragma unroll
    for (int k = 0; k < ROWS; k++)
#pragma unroll
        for (int nb = 0; nb < NB; nb++) acc[k][nb] = 0.f;

    const uint4 *wrow[ROWS];
#pragma unroll
    for (int k = 0; k < ROWS; k++) {
        int r = min(r0 + k, rows - 1);
        wrow[k] = reinterpret_cast<const uint4 *>(W + (size_t) r * cols);
    }
    int chunks = cols >> 3;
    for (int c = lane; c < chunks; c += 32) {
        uint4 w[ROWS];
#pragma unroll
        for (int k = 0; k < ROWS; k++) w[k] = __ldcs(wrow[k] + c);
        float nw[8];
        if (normW) {
            float4 n0 = __ldg(reinterpret_cast<const float4 *>(normW) + 2 * c);
            float4 n1 = __ldg(reinterpret_cast<const float4 *>(normW) + 2 * c + 1);
            nw[0] = n0.x; nw[1] = n0.y; nw[2] = n0.z; nw[3] = n0.w;
            nw[4] = n1.x; nw[5] = n1.y; nw[6] = n1.z; nw[7] = n1.w;
        }
#pragma unroll
        for (int nb = 0; nb < NB; nb++) {
            const float4 *x4 = reinterpret_cast<const float4 *>(X + (size_t) nb * ldx);
            float4 xa = __ldg(x4 + 2 * c);
            float4 xb = __ldg(x4 + 2 * c + 1);
            float xv[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
            if (normW) {
                float inv = invNorm[nb];
#pragma unroll
                for (int e = 0; e < 8; e++) xv[e] = (xv[e] * inv) * nw[e];
            }
#pragma unroll
            for (int k = 0; k < ROWS; k++) {
                float a, bb;
                unpack_bf16x2(w[k].x, a, bb);
                acc[k][nb] = fmaf(a, xv[0], acc[k][nb]);
                acc[k][nb] = fmaf(bb, xv[1], acc[k][nb]);
                unpack_bf16x2(w[k].y, a, bb);
                acc[k][nb] = fmaf(a, xv[2], acc[k][nb]);
                acc[k][nb] = fmaf(bb, xv[3], acc[k][nb]);
                unpack_bf16x2(w[k].z, a, bb);
                acc[k][nb] = fmaf(a, xv[4], acc[k][nb]);
                acc[k][nb] = fmaf(bb, xv[5], acc[k][nb]);
                unpack_bf16x2(w[k].w, a, bb);
                acc[k][nb] = fmaf(a, xv[6], acc[k][nb]);
                acc[k][nb] = fmaf(bb, xv[7], acc[k][nb]);
            }
        }
    }
#pragma unroll
    for (int k = 0; k < ROWS; k++)
#pragma unroll
        for (int nb = 0; nb < NB; nb++) acc[k][nb] = warp_sum(acc[k][nb]);
    if (lane == 0) {
#pragma unroll
        for (int k = 0; k < ROWS; k++) {
            int r = r0 + k;
            if (r >= rows) break;
            float bv = bias ? bias[r] : 0.f;
#pragma unroll
            for (int nb = 0; nb < NB; nb++) {
                float v = acc[k][nb] + bv;
                float *y = Y + (size_t) nb * ldy + r;
                *y = accumulate ? *y + v : v;
            }
        }
    }
}

#define GEMV_BATCH_ENTRY(ROWS, NB)                                                                                 \
    extern "C" __global__ void __launch_bounds__(256) gemv_batch_r##ROWS##_b##NB(                                  \
            const bf16 *W, const float *X, int ldx, float *Y, int ldy, const float *bias, const float *normW,    \
            float eps, int rows, int cols, int accumulate) {                                                      \
        gemv_batch_body<ROWS, NB>(W, X, ldx, Y, ldy, bias, normW, eps, rows, cols, accumulate);                  \
    }

GEMV_BATCH_ENTRY(4, 1)
GEMV_BATCH_ENTRY(1, 1)
GEMV_BATCH_ENTRY(2, 2)
GEMV_BATCH_ENTRY(2, 3)
GEMV_BATCH_ENTRY(2, 4)
GEMV_BATCH_ENTRY(1, 5)
GEMV_BATCH_ENTRY(1, 6)
GEMV_BATCH_ENTRY(1, 7)
GEMV_BATCH_ENTRY(1, 8)

/**
 * K/V append of one token per sequence: k/v rows of sequence b at k + b*ld (head g at g*d), position
 * step[B + b]. grid (B, kvHeads), block 128.
 */
extern "C" __global__ void kv_append_batch(const float *__restrict__ k, const float *__restrict__ v, int ld,
                                           bf16 *__restrict__ pool, long long blockElems,
                                           const int *__restrict__ tables, int tableStride, int bs, int layer,
                                           int kvHeads, int d, const int *__restrict__ step, int B) {
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
extern "C" __global__ void swiglu_rows(float *__restrict__ gu, int ffn) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= ffn) return;
    float *row = gu + (size_t) blockIdx.y * 2 * ffn;
    float g = row[i];
    float silu = g / (1.0f + expf(-g));
    row[i] = silu * row[ffn + i];
}

/** Per-head RMSNorm of heads laid out [B][ld] (head h of row b at b*ld + h*dim). A warp per head. */
extern "C" __global__ void rmsnorm_heads_strided(float *x, const float *__restrict__ w, int B, int headsPerRow,
                                                 int ld, int dim, float eps) {
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
