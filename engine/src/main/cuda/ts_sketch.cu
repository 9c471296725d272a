// int8 key sketches for TokenSelect's scoring pass (KeySketch on the host is the specification): per
// key and KV head the largest component maps to 127, q_i = rint(k_i * (127 / max)), scale = max / 127
// (a zero key: all 0, scale 0). The scoring pass then reads D bytes per key instead of 2 D.
//
// Layout, per pool block: sketch bytes [layer][kvHead][slot][D], scales [layer][kvHead][slot] fp32
// (sketchBlockBytes = layers * kvHeads * bs * D, scaleBlockFloats = layers * kvHeads * bs).
#include "common.cuh"

/** The row of (token, KV head) of a layer within the token's block. */
__device__ __forceinline__ size_t sketch_row(int token, int bs, int layer, int kvHeads, int g) {
    return (size_t) ((layer * kvHeads + g) * bs + token % bs);
}

/**
 * Sketches of the keys of tokens [from, to), every KV head, of one layer. A warp per (token, head),
 * each lane D / 32 consecutive components. grid ceil((to - from) * kvHeads / 8), block 256.
 */
template <int D>
__device__ __forceinline__ void ts_sketch_build_body(const bf16 *__restrict__ pool, long long blockElems,
                                                     const int *__restrict__ table, int bs, int layer, int kvHeads,
                                                     int from, int to, signed char *__restrict__ sketch,
                                                     long long sketchBlockBytes, float *__restrict__ scale,
                                                     long long scaleBlockFloats) {
    constexpr int PER = D / 32;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= (to - from) * kvHeads) return;
    int t = from + row / kvHeads, g = row % kvHeads;
    const bf16 *k = pool + kv_offset(table, t, bs, blockElems, layer, 0, kvHeads, g, D) + lane * PER;
    float v[PER];
    float m = 0.f;
#pragma unroll
    for (int i = 0; i < PER; i++) {
        v[i] = __bfloat162float(k[i]);
        m = fmaxf(m, fabsf(v[i]));
    }
    m = warp_max(m);
    int block = table[t / bs];
    size_t r = sketch_row(t, bs, layer, kvHeads, g);
    signed char *out = sketch + (size_t) block * sketchBlockBytes + r * D + lane * PER;
    float inv = m > 0.f ? __fdiv_rn(127.f, m) : 0.f;
#pragma unroll
    for (int i = 0; i < PER; i++) {
        int q = __float2int_rn(__fmul_rn(v[i], inv));
        out[i] = (signed char) max(-127, min(127, q));
    }
    if (lane == 0) scale[(size_t) block * scaleBlockFloats + r] = m > 0.f ? __fdiv_rn(m, 127.f) : 0.f;
}

#define TS_SKETCH_BUILD_ENTRY(NAME, D)                                                                             \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                       \
            const bf16 *pool, long long blockElems, const int *table, int bs, int layer, int kvHeads, int from,   \
            int to, signed char *sketch, long long sketchBlockBytes, float *scale,                                \
            long long scaleBlockFloats) { PDL_BEGIN();                                                            \
        ts_sketch_build_body<D>(pool, blockElems, table, bs, layer, kvHeads, from, to, sketch, sketchBlockBytes, \
                                scale, scaleBlockFloats);                                                         \
    }

TS_SKETCH_BUILD_ENTRY(ts_sketch_build_d64, 64)
TS_SKETCH_BUILD_ENTRY(ts_sketch_build_d128, 128)

/**
 * ts_scores_tc (ts_device_select.cu) over the sketches: out[h][c] = scale(c) * qbar[h] . q(c), fp32,
 * and each warp's per-head softmax state. A = 16 candidates' int8 components as exact fp16, B = the
 * query as fp16 hi + lo (about 22 bits), fp32 accumulation, then the candidate's scale. Same grid,
 * block, tile split and outputs as ts_scores_tc; G <= 8.
 */
template <int D>
__device__ __forceinline__ void ts_scores_sketch_body(
        const float *__restrict__ qbar, const signed char *__restrict__ sketch, long long sketchBlockBytes,
        const float *__restrict__ scale, long long scaleBlockFloats, const int *__restrict__ table, int bs,
        int layer, int kvHeads, int G, int from, int count, int tilesPerWarp, float *__restrict__ out,
        long long ldOut, float *__restrict__ warpStats, const int *__restrict__ ctrl) {
    if (ctrl != nullptr) {
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    constexpr int CH = D / 32;
    int g = blockIdx.y;
    int lane = threadIdx.x & 31, gr = lane >> 2, t4 = lane & 3;
    int w = blockIdx.x * 8 + (threadIdx.x >> 5);
    int H = kvHeads * G;

    // B fragments of the query's fp16 hi and lo terms: head gr, dims ch*32 + 8*t4 + {0,1}, {2,3}, ...
    uint32_t bq[2][CH][2][2];
    {
        bool ok = gr < G;
        const float *qh = qbar + (size_t) (g * G + (ok ? gr : 0)) * D;
#pragma unroll
        for (int ch = 0; ch < CH; ch++) {
            float v[8];
#pragma unroll
            for (int e = 0; e < 8; e++) v[e] = ok ? qh[ch * 32 + 8 * t4 + e] : 0.f;
            float hi[8], lo[8];
#pragma unroll
            for (int e = 0; e < 8; e++) {
                hi[e] = __half2float(__float2half_rn(v[e]));
                lo[e] = v[e] - hi[e];
            }
#pragma unroll
            for (int s = 0; s < 2; s++) {
                bq[0][ch][s][0] = pack_f16x2(hi[4 * s], hi[4 * s + 1]);
                bq[0][ch][s][1] = pack_f16x2(hi[4 * s + 2], hi[4 * s + 3]);
                bq[1][ch][s][0] = pack_f16x2(lo[4 * s], lo[4 * s + 1]);
                bq[1][ch][s][1] = pack_f16x2(lo[4 * s + 2], lo[4 * s + 3]);
            }
        }
    }
    // 8 int8 components as four fp16 pairs (exact)
    auto widen = [](uint2 b, uint32_t &x, uint32_t &y, uint32_t &z, uint32_t &wv) {
        signed char c[8];
        *reinterpret_cast<uint2 *>(c) = b;
        __half2 p0 = __halves2half2(__int2half_rn(c[0]), __int2half_rn(c[1]));
        __half2 p1 = __halves2half2(__int2half_rn(c[2]), __int2half_rn(c[3]));
        __half2 p2 = __halves2half2(__int2half_rn(c[4]), __int2half_rn(c[5]));
        __half2 p3 = __halves2half2(__int2half_rn(c[6]), __int2half_rn(c[7]));
        x = *reinterpret_cast<uint32_t *>(&p0);
        y = *reinterpret_cast<uint32_t *>(&p1);
        z = *reinterpret_cast<uint32_t *>(&p2);
        wv = *reinterpret_cast<uint32_t *>(&p3);
    };

    float m[2] = {NEG_INF, NEG_INF}, sum[2] = {0.f, 0.f};
    int tile0 = w * tilesPerWarp;
    int tiles = (count + 15) >> 4;
    for (int tile = tile0; tile < min(tiles, tile0 + tilesPerWarp); tile++) {
        int cA = tile * 16 + gr, cB = cA + 8;
        bool okA = cA < count, okB = cB < count;
        int tA = from + (okA ? cA : 0), tB = from + (okB ? cB : 0);
        int blockA = table[tA / bs], blockB = table[tB / bs];
        size_t rA = sketch_row(tA, bs, layer, kvHeads, g), rB = sketch_row(tB, bs, layer, kvHeads, g);
        const signed char *rowA = sketch + (size_t) blockA * sketchBlockBytes + rA * D;
        const signed char *rowB = sketch + (size_t) blockB * sketchBlockBytes + rB * D;
        float sA = okA ? scale[(size_t) blockA * scaleBlockFloats + rA] : 0.f;
        float sB = okB ? scale[(size_t) blockB * scaleBlockFloats + rB] : 0.f;
        uint2 ka[CH], kb[CH];
#pragma unroll
        for (int ch = 0; ch < CH; ch++) {
            ka[ch] = okA ? __ldcs(reinterpret_cast<const uint2 *>(rowA + ch * 32 + 8 * t4)) : make_uint2(0, 0);
            kb[ch] = okB ? __ldcs(reinterpret_cast<const uint2 *>(rowB + ch * 32 + 8 * t4)) : make_uint2(0, 0);
        }
        float c[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int p = 1; p >= 0; p--) {  // the small terms first
#pragma unroll
            for (int ch = 0; ch < CH; ch++) {
                uint32_t ax, ay, az, aw, bx, by, bz, bw;
                widen(ka[ch], ax, ay, az, aw);
                widen(kb[ch], bx, by, bz, bw);
                mma_f16_16816(c, ax, bx, ay, by, bq[p][ch][0][0], bq[p][ch][0][1]);
                mma_f16_16816(c, az, bz, aw, bw, bq[p][ch][1][0], bq[p][ch][1][1]);
            }
        }
        c[0] *= sA;
        c[1] *= sA;
        c[2] *= sB;
        c[3] *= sB;
        ts_store_tile(c, t4, cA, cB, G, g, count, out, ldOut, m, sum);
    }
    ts_write_warp_stats(m, sum, gr, t4, G, g, H, w, warpStats);
}

#define TS_SCORES_SKETCH_ENTRY(NAME, D)                                                                            \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                       \
            const float *qbar, const signed char *sketch, long long sketchBlockBytes, const float *scale,         \
            long long scaleBlockFloats, const int *table, int bs, int layer, int kvHeads, int G, int from,        \
            int count, int tilesPerWarp, float *out, long long ldOut, float *warpStats,                           \
            const int *ctrl) { PDL_BEGIN();                                                                       \
        ts_scores_sketch_body<D>(qbar, sketch, sketchBlockBytes, scale, scaleBlockFloats, table, bs, layer,      \
                                 kvHeads, G, from, count, tilesPerWarp, out, ldOut, warpStats, ctrl);             \
    }

TS_SCORES_SKETCH_ENTRY(ts_scores_sketch_d64, 64)
TS_SCORES_SKETCH_ENTRY(ts_scores_sketch_d128, 128)
