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

#define TCD_TK 64
#define TCD_PAD 8

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
        store_split(&qh[r * LD + i], &ql[r * LD + i], a);
        store_split(&qh[r * LD + i + HALF], &ql[r * LD + i + HALF], c);
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

    for (int t = t0; t < t1; t++) {
        int j0 = lo + t * TCD_TK;
        __syncthreads();  // the previous tile is consumed (the first time: Q is staged)
        for (int idx = tid; idx < TCD_TK * (HALF / 8); idx += blockDim.x) {
            int kr = idx / (HALF / 8), c0 = (idx % (HALF / 8)) * 8;
            int j = j0 + kr;
            stage_rotated_kv<HALF>(pool, table, bs, blockElems, layer, kvHeads, g, j, j, j < len, c0, invFreq, kh, kl, LD,
                                   vt, LDV, kr);
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
        uint32_t a0 = pack_f16x2(p[0][0], p[0][1]);
        uint32_t a2 = pack_f16x2(p[1][0], p[1][1]);
#pragma unroll
        for (int j = 0; j < DT; j++) {
            const __half *vp = vt + (j * 8 + gr) * LDV + kbase + 2 * t4;
            uint32_t b0 = *reinterpret_cast<const uint32_t *>(vp);
            uint32_t b1 = *reinterpret_cast<const uint32_t *>(vp + 8);
            mma_f16_16816(o[j], a0, 0u, a2, 0u, b0, b1);
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
    decode_merge_warps<D>(wm, wl, wacc, G, g, b, split, nsplit, B, H, out, ldo, partial);
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
