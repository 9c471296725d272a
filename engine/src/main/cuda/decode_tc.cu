// Decode attention on tensor cores: the same function as attn_decode (one new token per sequence,
// full causal attention over the paged cache, optional sliding window, split-K over the context),
// with the GQA group's query heads as the rows of an m16 tile. A block takes one KV head of one
// sequence and a range of 64-key tiles; the 128 threads load each tile once (keys rotated at their
// positions in fp32, split into bf16 hi + lo; values converted to fp16 and transposed), then each of
// the 4 warps multiplies the group's queries with 16 of the tile's keys (scores from Qhi Khi + Qlo Khi
// + Qhi Klo, about 16 mantissa bits), keeps its own online softmax and P V accumulators (fp16 P and
// V, fp32 sums), and the warps merge at the end. Rows G..15 of the m16 tile are padding.
// grid (kvHeads, B, nsplit), block 128; partials for attn_combine as attn_decode writes them.
#include "common.cuh"
#include <cuda_fp16.h>

#define TCD_TK 64
#define TCD_PAD 8

__device__ __forceinline__ void tcd_mma_f16(float *c, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                            uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t tcd_pack_f16x2(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

__device__ __forceinline__ void tcd_split(bf16 *hi, bf16 *lo, float x) {
    bf16 h = __float2bfloat16_rn(x);
    *hi = h;
    *lo = __float2bfloat16_rn(x - __bfloat162float(h));
}

template <int D>
__device__ __forceinline__ void attn_decode_tc_body(
        const float *__restrict__ q, int ldq, const bf16 *__restrict__ pool, long long blockElems,
        const int *__restrict__ tables, int tableStride, int bs, int layer, int kvHeads,
        const int *__restrict__ step, int B, int window, const float *__restrict__ invFreq, int G, float scale,
        float *__restrict__ out, int ldo, float *__restrict__ partial) {
    constexpr int HALF = D / 2;
    constexpr int LD = D + TCD_PAD;
    constexpr int LDV = TCD_TK + TCD_PAD;
    constexpr int DT = D / 8;
    extern __shared__ __align__(16) unsigned char tcd_smem[];
    bf16 *qh = reinterpret_cast<bf16 *>(tcd_smem);        // [16][LD]
    bf16 *ql = qh + 16 * LD;                               // [16][LD]
    bf16 *kh = ql + 16 * LD;                               // [64][LD]
    bf16 *kl = kh + TCD_TK * LD;                           // [64][LD]
    __half *vt = reinterpret_cast<__half *>(kl + TCD_TK * LD);  // [D][LDV]
    float *wm = reinterpret_cast<float *>(vt + D * LDV);   // [4][8]
    float *wl = wm + 32;                                   // [4][8]
    float *wacc = wl + 32;                                 // [4][8][D]

    int g = blockIdx.x, b = blockIdx.y, split = blockIdx.z, nsplit = gridDim.z;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int gr = lane >> 2, t4 = lane & 3;
    int H = kvHeads * G;
    int pos = step[B + b];
    int len = pos + 1;
    const int *table = tables + (size_t) b * tableStride;

    // the group's queries, rotated at pos, scaled, as hi + lo; rows G..15 zero
    for (int idx = tid; idx < 16 * HALF; idx += blockDim.x) {
        int r = idx / HALF, i = idx % HALF;
        float a = 0.f, c = 0.f;
        if (r < G) {
            const float *src = q + (size_t) b * ldq + (size_t) (g * G + r) * D;
            rope_pair(src[i], src[i + HALF], invFreq[i], pos, a, c);
            a *= scale;
            c *= scale;
        }
        tcd_split(&qh[r * LD + i], &ql[r * LD + i], a);
        tcd_split(&qh[r * LD + i + HALF], &ql[r * LD + i + HALF], c);
    }

    int lo = window > 0 ? max(0, len - window) : 0;
    int tiles = (len - lo + TCD_TK - 1) / TCD_TK;
    int tps = (tiles + nsplit - 1) / nsplit;
    int t0 = split * tps, t1 = min(tiles, t0 + tps);

    float o[DT][4];
#pragma unroll
    for (int j = 0; j < DT; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[j][e] = 0.f;
    float mrow = NEG_INF, lrow = 0.f;  // row gr (a head); row gr + 8 is padding
    size_t valueOffset = (size_t) kvHeads * bs * D;

    for (int t = t0; t < t1; t++) {
        int j0 = lo + t * TCD_TK;
        __syncthreads();  // the previous tile is consumed (the first time: Q is staged)
        for (int idx = tid; idx < TCD_TK * (HALF / 8); idx += blockDim.x) {
            int kr = idx / (HALF / 8), c0 = (idx % (HALF / 8)) * 8;
            int j = j0 + kr;
            float ka[8], kb[8], va[8], vb[8];
            if (j < len) {
                size_t ko = kv_offset(table, j, bs, blockElems, layer, 0, kvHeads, g, D);
                uint4 wa = *reinterpret_cast<const uint4 *>(pool + ko + c0);
                uint4 wb = *reinterpret_cast<const uint4 *>(pool + ko + HALF + c0);
                uint4 xa = *reinterpret_cast<const uint4 *>(pool + ko + valueOffset + c0);
                uint4 xb = *reinterpret_cast<const uint4 *>(pool + ko + valueOffset + HALF + c0);
                unpack_bf16x2(wa.x, ka[0], ka[1]); unpack_bf16x2(wa.y, ka[2], ka[3]);
                unpack_bf16x2(wa.z, ka[4], ka[5]); unpack_bf16x2(wa.w, ka[6], ka[7]);
                unpack_bf16x2(wb.x, kb[0], kb[1]); unpack_bf16x2(wb.y, kb[2], kb[3]);
                unpack_bf16x2(wb.z, kb[4], kb[5]); unpack_bf16x2(wb.w, kb[6], kb[7]);
                unpack_bf16x2(xa.x, va[0], va[1]); unpack_bf16x2(xa.y, va[2], va[3]);
                unpack_bf16x2(xa.z, va[4], va[5]); unpack_bf16x2(xa.w, va[6], va[7]);
                unpack_bf16x2(xb.x, vb[0], vb[1]); unpack_bf16x2(xb.y, vb[2], vb[3]);
                unpack_bf16x2(xb.z, vb[4], vb[5]); unpack_bf16x2(xb.w, vb[6], vb[7]);
            } else {
#pragma unroll
                for (int e = 0; e < 8; e++) ka[e] = kb[e] = va[e] = vb[e] = 0.f;
            }
#pragma unroll
            for (int e = 0; e < 8; e++) {
                int i = c0 + e;
                float sn, cs;
                sincos_reduced(__fmul_rn((float) j, invFreq[i]), &sn, &cs);
                float ra = __fsub_rn(__fmul_rn(ka[e], cs), __fmul_rn(kb[e], sn));
                float rb = __fadd_rn(__fmul_rn(kb[e], cs), __fmul_rn(ka[e], sn));
                tcd_split(&kh[kr * LD + i], &kl[kr * LD + i], ra);
                tcd_split(&kh[kr * LD + i + HALF], &kl[kr * LD + i + HALF], rb);
                vt[i * LDV + kr] = __float2half_rn(va[e]);
                vt[(i + HALF) * LDV + kr] = __float2half_rn(vb[e]);
            }
        }
        __syncthreads();

        // this warp's 16 keys: two n8 tiles of scores
        int kbase = warp * 16;
        float s[2][4];
#pragma unroll
        for (int j = 0; j < 2; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[j][e] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D; kk += 16) {
            const bf16 *qa = qh + gr * LD + kk + 2 * t4;
            const bf16 *qb = ql + gr * LD + kk + 2 * t4;
            uint32_t ah0 = *reinterpret_cast<const uint32_t *>(qa);
            uint32_t ah1 = *reinterpret_cast<const uint32_t *>(qa + 8 * LD);
            uint32_t ah2 = *reinterpret_cast<const uint32_t *>(qa + 8);
            uint32_t ah3 = *reinterpret_cast<const uint32_t *>(qa + 8 * LD + 8);
            uint32_t al0 = *reinterpret_cast<const uint32_t *>(qb);
            uint32_t al1 = *reinterpret_cast<const uint32_t *>(qb + 8 * LD);
            uint32_t al2 = *reinterpret_cast<const uint32_t *>(qb + 8);
            uint32_t al3 = *reinterpret_cast<const uint32_t *>(qb + 8 * LD + 8);
#pragma unroll
            for (int j = 0; j < 2; j++) {
                const bf16 *kp = kh + (kbase + j * 8 + gr) * LD + kk + 2 * t4;
                const bf16 *kq = kl + (kbase + j * 8 + gr) * LD + kk + 2 * t4;
                uint32_t bh0 = *reinterpret_cast<const uint32_t *>(kp);
                uint32_t bh1 = *reinterpret_cast<const uint32_t *>(kp + 8);
                uint32_t bl0 = *reinterpret_cast<const uint32_t *>(kq);
                uint32_t bl1 = *reinterpret_cast<const uint32_t *>(kq + 8);
                mma_bf16_16816(s[j], al0, al1, al2, al3, bh0, bh1);
                mma_bf16_16816(s[j], ah0, ah1, ah2, ah3, bl0, bl1);
                mma_bf16_16816(s[j], ah0, ah1, ah2, ah3, bh0, bh1);
            }
        }
        // mask keys past the end; online softmax of row gr over the warp's 16 keys (a row lives in one quad)
        float tmax = NEG_INF;
#pragma unroll
        for (int j = 0; j < 2; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                int key = j0 + kbase + j * 8 + 2 * t4 + e;
                if (key >= len) s[j][e] = NEG_INF;
                tmax = fmaxf(tmax, s[j][e]);
            }
        }
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
        float mNew = fmaxf(mrow, tmax);
        float corr = mNew == NEG_INF ? 1.f : expf(mrow - mNew);
        mrow = mNew;
        lrow *= corr;
        float p[2][2];
#pragma unroll
        for (int j = 0; j < 2; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                p[j][e] = s[j][e] == NEG_INF ? 0.f : expf(s[j][e] - mNew);
                lrow += p[j][e];
            }
        }
#pragma unroll
        for (int j = 0; j < DT; j++) {
            o[j][0] *= corr;
            o[j][1] *= corr;
        }
        // O += P V over the warp's 16 keys (one k16 step); the padding rows' P is zero
        uint32_t a0 = tcd_pack_f16x2(p[0][0], p[0][1]);
        uint32_t a2 = tcd_pack_f16x2(p[1][0], p[1][1]);
#pragma unroll
        for (int j = 0; j < DT; j++) {
            const __half *vp = vt + (j * 8 + gr) * LDV + kbase + 2 * t4;
            uint32_t b0 = *reinterpret_cast<const uint32_t *>(vp);
            uint32_t b1 = *reinterpret_cast<const uint32_t *>(vp + 8);
            tcd_mma_f16(o[j], a0, 0u, a2, 0u, b0, b1);
        }
    }

    // row sums over the quad, then the warps merge through shared memory (rows < G only)
    lrow += __shfl_xor_sync(0xffffffffu, lrow, 1);
    lrow += __shfl_xor_sync(0xffffffffu, lrow, 2);
    __syncthreads();
    if (gr < G) {
        if (t4 == 0) {
            wm[warp * 8 + gr] = mrow;
            wl[warp * 8 + gr] = lrow;
        }
#pragma unroll
        for (int j = 0; j < DT; j++) {
            wacc[(warp * 8 + gr) * D + j * 8 + 2 * t4] = o[j][0];
            wacc[(warp * 8 + gr) * D + j * 8 + 2 * t4 + 1] = o[j][1];
        }
    }
    __syncthreads();
    for (int idx = tid; idx < G * D; idx += blockDim.x) {
        int h = idx / D, dd = idx % D;
        float M = NEG_INF;
        for (int w = 0; w < 4; w++) M = fmaxf(M, wm[w * 8 + h]);
        float L = 0.f, a = 0.f;
        if (M != NEG_INF) {
            for (int w = 0; w < 4; w++) {
                float mw = wm[w * 8 + h];
                if (mw == NEG_INF) continue;
                float f = expf(mw - M);
                L += wl[w * 8 + h] * f;
                a += wacc[(w * 8 + h) * D + dd] * f;
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

#define TCD_ENTRY(NAME, D)                                                                                        \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                      \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *tables, int tableStride, \
            int bs, int layer, int kvHeads, const int *step, int B, int window, const float *invFreq, int G,     \
            float scale, float *out, int ldo, float *partial) {                                                  \
        attn_decode_tc_body<D>(q, ldq, pool, blockElems, tables, tableStride, bs, layer, kvHeads, step, B,      \
                               window, invFreq, G, scale, out, ldo, partial);                                    \
    }

TCD_ENTRY(attn_decode_tc_d64, 64)
TCD_ENTRY(attn_decode_tc_d128, 128)
