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

// ts_decode_gate (ts_device_select.cu) that also sketches the key the replayed decode step appended to
// this layer (position step[1]; step = {token, position}; the K row is written before the gate runs),
// so the sketches stay as current as the pool without a launch of their own. One block of 1024
// threads: after the gate, warps 0 .. kvHeads - 1 sketch a head each (kvHeads <= 32).
template <int D>
__device__ __forceinline__ void ts_decode_gate_sketch_body(
        const float *q, const float *invFreq, int H, int nLocal, int nInit, float theta, int cacheOn, float *keptQ,
        int *keptValid, float *qbar, int *ctrl, int *counters, const int *step, const bf16 *pool,
        long long blockElems, const int *table, int bs, int layer, int kvHeads, signed char *sketch,
        long long sketchBlockBytes, float *scale, long long scaleBlockFloats) {
    ts_decode_gate_body(q, invFreq, H, D, nLocal, nInit, theta, cacheOn, keptQ, keptValid, qbar, ctrl, counters, step);
    int pos = step[1];
    ts_sketch_build_body<D>(pool, blockElems, table, bs, layer, kvHeads, pos, pos + 1, sketch, sketchBlockBytes,
                            scale, scaleBlockFloats);
}

#define TS_GATE_SKETCH_ENTRY(NAME, D)                                                                              \
    extern "C" __global__ void __launch_bounds__(1024) NAME(                                                      \
            const float *q, const float *invFreq, int H, int nLocal, int nInit, float theta, int cacheOn,         \
            float *keptQ, int *keptValid, float *qbar, int *ctrl, int *counters, const int *step,                 \
            const bf16 *pool, long long blockElems, const int *table, int bs, int layer, int kvHeads,             \
            signed char *sketch, long long sketchBlockBytes, float *scale,                                        \
            long long scaleBlockFloats) { PDL_BEGIN();                                                            \
        ts_decode_gate_sketch_body<D>(q, invFreq, H, nLocal, nInit, theta, cacheOn, keptQ, keptValid, qbar, ctrl, \
                                      counters, step, pool, blockElems, table, bs, layer, kvHeads, sketch,        \
                                      sketchBlockBytes, scale, scaleBlockFloats);                                 \
    }

TS_GATE_SKETCH_ENTRY(ts_decode_gate_sketch_d64, 64)
TS_GATE_SKETCH_ENTRY(ts_decode_gate_sketch_d128, 128)

/** Tiles of 16 candidates a warp of the sketch scoring pass loads before it multiplies. */
#define TS_SKETCH_TILES 2

/**
 * Four int8 components (bytes of v) as two fp16 pairs, exactly: with the sign bit flipped a byte is
 * x + 128, and fp16 0x6400 | byte is 1024 + x + 128 (integers are exact in [1024, 2048)), so one byte
 * permute and one half2 subtraction per pair replace four int-to-half conversions.
 */
__device__ __forceinline__ void widen_int8x4(uint32_t v, uint32_t &lo, uint32_t &hi) {
    v ^= 0x80808080u;
    uint32_t p0 = __byte_perm(v, 0x64646464u, 0x4140);  // bytes 0, 1
    uint32_t p1 = __byte_perm(v, 0x64646464u, 0x4342);  // bytes 2, 3
    const __half2 bias = __halves2half2(__ushort_as_half(0x6480), __ushort_as_half(0x6480));  // 1152
    __half2 h0 = __hsub2(*reinterpret_cast<__half2 *>(&p0), bias);
    __half2 h1 = __hsub2(*reinterpret_cast<__half2 *>(&p1), bias);
    lo = *reinterpret_cast<uint32_t *>(&h0);
    hi = *reinterpret_cast<uint32_t *>(&h1);
}

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
    float m[2] = {NEG_INF, NEG_INF}, sum[2] = {0.f, 0.f};
    int tile0 = w * tilesPerWarp;
    int tiles = (count + 15) >> 4;
    int tileEnd = min(tiles, tile0 + tilesPerWarp);
    // Two tiles per step, every load of both issued before the first product: a tile of sketches is
    // half the bytes of a tile of keys, so one tile at a time left the pass bound by the latency of its
    // two dependent loads (the block table, then the rows) at the exact pass's speed.
    for (int tile = tile0; tile < tileEnd; tile += TS_SKETCH_TILES) {
        int cand[TS_SKETCH_TILES][2];
        const signed char *row[TS_SKETCH_TILES][2];
        float sc[TS_SKETCH_TILES][2];
#pragma unroll
        for (int j = 0; j < TS_SKETCH_TILES; j++) {
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int cnd = (tile + j) * 16 + gr + 8 * h;
                bool ok = tile + j < tileEnd && cnd < count;
                cand[j][h] = ok ? cnd : count;  // count: a row that is never stored
                int t = from + (ok ? cnd : 0);
                int block = table[t / bs];
                size_t r = sketch_row(t, bs, layer, kvHeads, g);
                row[j][h] = ok ? sketch + (size_t) block * sketchBlockBytes + r * D : nullptr;
                sc[j][h] = ok ? scale[(size_t) block * scaleBlockFloats + r] : 0.f;
            }
        }
        uint2 kr[TS_SKETCH_TILES][2][CH];
#pragma unroll
        for (int j = 0; j < TS_SKETCH_TILES; j++)
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
                for (int ch = 0; ch < CH; ch++)
                    kr[j][h][ch] = row[j][h] != nullptr
                                           ? __ldcs(reinterpret_cast<const uint2 *>(row[j][h] + ch * 32 + 8 * t4))
                                           : make_uint2(0u, 0u);  // int8 zeros (and a scale of 0)
#pragma unroll
        for (int j = 0; j < TS_SKETCH_TILES; j++) {
            uint32_t a[2][CH][4];  // candidates gr (h 0) and gr + 8 (h 1): components as exact fp16 pairs
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
                for (int ch = 0; ch < CH; ch++) {
                    widen_int8x4(kr[j][h][ch].x, a[h][ch][0], a[h][ch][1]);
                    widen_int8x4(kr[j][h][ch].y, a[h][ch][2], a[h][ch][3]);
                }
            float c[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
            for (int p = 1; p >= 0; p--) {  // the small terms first
#pragma unroll
                for (int ch = 0; ch < CH; ch++) {
                    mma_f16_16816(c, a[0][ch][0], a[1][ch][0], a[0][ch][1], a[1][ch][1], bq[p][ch][0][0],
                                  bq[p][ch][0][1]);
                    mma_f16_16816(c, a[0][ch][2], a[1][ch][2], a[0][ch][3], a[1][ch][3], bq[p][ch][1][0],
                                  bq[p][ch][1][1]);
                }
            }
            c[0] *= sc[j][0];
            c[1] *= sc[j][0];
            c[2] *= sc[j][1];
            c[3] *= sc[j][1];
            ts_store_tile(c, t4, cand[j][0], cand[j][1], G, g, count, out, ldOut, m, sum);
        }
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
