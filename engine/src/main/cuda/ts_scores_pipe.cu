// The scoring passes of ts_device_select.cu (bf16 keys) and ts_sketch.cu (int8 sketches) with each
// warp's tiles streamed through a ring of shared-memory stages by cp.async: Nsight Compute found the
// register-fed passes bound by load latency (two blocks of 112+ registers per SM, 0.55 eligible warps
// per scheduler, DRAM at 71% at 1M tokens), since a warp had only the tile it was about to multiply in
// flight. Here a warp keeps STAGES - 1 tiles in flight while it multiplies one, and its block-table
// entries are read a tile before the copies that need them. On bf16 keys the products, their order and
// the stores are those of the register-fed pass, so the scores are the same to the bit; on sketches the
// query's two fp16 terms go to two accumulators (two chains of dependent products, each half as long:
// Nsight found the register-fed sketch pass stalled most on fixed-latency dependencies), summed at the
// end, so the scores agree to fp32 rounding.
//
// Shared memory per warp and stage: 16 rows of ROWB bytes (a row's 16-byte chunks placed at chunk ^
// (row & 7), so the fragment reads of 8 rows x 4 lanes fall in distinct banks), then 16 fp32 scales
// (sketches only).
#include "common.cuh"

#define TSP_WARPS 8

/** D (16x8, s32) += A (16x32, s8, row) * B (32x8, s8, col): integer products, exact. */
__device__ __forceinline__ void mma_s8_16832(int *c, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t b0,
                                             uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

/** Four int8 values (each rounded and clamped to [-127, 127]) packed low byte first. */
__device__ __forceinline__ uint32_t pack_s8x4(float a, float b, float c, float d) {
    auto q = [](float x) { return (uint32_t) (max(-127, min(127, __float2int_rn(x))) & 0xff); };
    return q(a) | q(b) << 8 | q(c) << 16 | q(d) << 24;
}

// The three ways a pipelined pass multiplies: bf16 keys by the query's bf16 hi + mid + lo; int8 sketch
// rows widened to fp16 by the query's fp16 hi + lo; int8 sketch rows as they are by the query as three
// int8 terms on the integer tensor cores (no widening, exact int32 sums, one fp32 scale per term).
#define TSP_KEYS 0
#define TSP_SKETCH_F16 1
#define TSP_SKETCH_I8 2

template <int D, bool SKETCH>
struct TspShape {
    static constexpr int ROWB = SKETCH ? D : 2 * D;              // bytes of a row
    static constexpr int RCH = ROWB / 16;                        // 16-byte chunks of a row
    static constexpr int SWZ = RCH < 8 ? RCH - 1 : 7;            // chunk ^ (row & SWZ)
    static constexpr int TILEB = 16 * ROWB + (SKETCH ? 64 : 0);  // a stage: rows, then scales
    static constexpr int STAGES = SKETCH ? 4 : 3;
    static constexpr int WARPB = STAGES * TILEB;
    static constexpr int PER_LANE = 16 * RCH / 32;               // chunks a lane copies per tile
};

/** Shared-memory bytes of a block of the pipelined scoring pass. */
template <int D, bool SKETCH>
constexpr int tsp_shared_bytes() {
    return TSP_WARPS * TspShape<D, SKETCH>::WARPB;
}

__device__ __forceinline__ int tsp_swizzle(int row, int chunk, int swz) { return chunk ^ (row & swz); }

/**
 * Out[h][c] and each warp's per-head softmax state, as ts_scores_tc_body (SKETCH false: src = the
 * pool's bf16 keys) or ts_scores_sketch_body (SKETCH true: src = the sketches, scale = their scales)
 * compute them. Same grid (ceil(tiles / (8 * tilesPerWarp)), kvHeads), block 256, tile split and
 * outputs; dynamic shared memory tsp_shared_bytes<D, SKETCH>(). G <= 8.
 */
template <int D, int MODE>
__device__ __forceinline__ void ts_scores_pipe_body(
        const float *__restrict__ qbar, const unsigned char *__restrict__ src, long long blockStride,
        const float *__restrict__ scale, long long scaleBlockFloats, const int *__restrict__ table, int bs,
        int layer, int kvHeads, int G, int from, int count, int tilesPerWarp, float *__restrict__ out,
        long long ldOut, float *__restrict__ warpStats, const int *__restrict__ ctrl) {
    constexpr bool SKETCH = MODE != TSP_KEYS;
    using S = TspShape<D, SKETCH>;
    constexpr int CH = D / 32;
    constexpr int TERMS = MODE == TSP_SKETCH_F16 ? 2 : 3;
    if (ctrl != nullptr) {  // captured decode step: skipped on a selection-cache hit, the count read here
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    extern __shared__ __align__(128) unsigned char tsp_smem[];
    int g = blockIdx.y;
    int lane = threadIdx.x & 31, gr = lane >> 2, t4 = lane & 3;
    int warp = threadIdx.x >> 5;
    int w = blockIdx.x * TSP_WARPS + warp;
    int H = kvHeads * G;
    unsigned char *ring = tsp_smem + warp * S::WARPB;

    // B fragments of the query's terms (bf16 hi + mid + lo for keys, fp16 hi + lo or three int8 terms for
    // sketches); for int8 terms, the per-head scales of the two heads this lane's results belong to
    uint32_t bq[TERMS][CH][2][2];
    float termScale[2][3];
    {
        bool ok = gr < G;
        const float *qh = qbar + (size_t) (g * G + (ok ? gr : 0)) * D;
        float s1 = 0.f;
        if constexpr (MODE == TSP_SKETCH_I8) {
            // s1 = max |q| / 127 over the head (its 4 lanes), then each term quantises what the last left
            float mx = 0.f;
#pragma unroll
            for (int ch = 0; ch < CH; ch++)
#pragma unroll
                for (int e = 0; e < 8; e++) mx = fmaxf(mx, fabsf(ok ? qh[ch * 32 + 8 * t4 + e] : 0.f));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            s1 = mx / 127.f;
#pragma unroll
            for (int j = 0; j < 2; j++) {
                float sh = __shfl_sync(0xffffffffu, s1, (2 * t4 + j) * 4);  // head 2 t4 + j's lane t4 = 0
                termScale[j][0] = sh;
                termScale[j][1] = sh / 254.f;
                termScale[j][2] = sh / (254.f * 254.f);
            }
        }
#pragma unroll
        for (int ch = 0; ch < CH; ch++) {
            float v[8];
#pragma unroll
            for (int e = 0; e < 8; e++) v[e] = ok ? qh[ch * 32 + 8 * t4 + e] : 0.f;
            if constexpr (MODE == TSP_SKETCH_I8) {
                // dims 8 t4 + 0..3 and 4..7 of the chunk: the k positions 4 t4 + i and 16 + 4 t4 + i of
                // the product, matching the rows' bytes (the same permutation of k for A and B)
                float inv[3] = {s1 > 0.f ? 1.f / s1 : 0.f, s1 > 0.f ? 254.f / s1 : 0.f,
                                s1 > 0.f ? 254.f * 254.f / s1 : 0.f};
                float r[8], t[3][8];
#pragma unroll
                for (int e = 0; e < 8; e++) r[e] = v[e];
#pragma unroll
                for (int p = 0; p < 3; p++) {
                    float step = p == 0 ? s1 : p == 1 ? s1 / 254.f : s1 / (254.f * 254.f);
#pragma unroll
                    for (int e = 0; e < 8; e++) {
                        t[p][e] = fminf(127.f, fmaxf(-127.f, rintf(r[e] * inv[p])));
                        r[e] = fmaf(-t[p][e], step, r[e]);
                    }
                    bq[p][ch][0][0] = pack_s8x4(t[p][0], t[p][1], t[p][2], t[p][3]);
                    bq[p][ch][0][1] = pack_s8x4(t[p][4], t[p][5], t[p][6], t[p][7]);
                }
            } else {
#pragma unroll
                for (int s = 0; s < 2; s++) {
                    if constexpr (SKETCH) {
                        float hi[4], lo[4];
#pragma unroll
                        for (int e = 0; e < 4; e++) {
                            hi[e] = __half2float(__float2half_rn(v[4 * s + e]));
                            lo[e] = v[4 * s + e] - hi[e];
                        }
                        bq[0][ch][s][0] = pack_f16x2(hi[0], hi[1]);
                        bq[0][ch][s][1] = pack_f16x2(hi[2], hi[3]);
                        bq[1][ch][s][0] = pack_f16x2(lo[0], lo[1]);
                        bq[1][ch][s][1] = pack_f16x2(lo[2], lo[3]);
                    } else {
                        float t[3][4];
#pragma unroll
                        for (int e = 0; e < 4; e++) split3(v[4 * s + e], t[0][e], t[1][e], t[2][e]);
#pragma unroll
                        for (int p = 0; p < 3; p++) {
                            bq[p][ch][s][0] = pack_bf16x2(t[p][0], t[p][1]);
                            bq[p][ch][s][1] = pack_bf16x2(t[p][2], t[p][3]);
                        }
                    }
                }
            }
        }
    }

    int tile0 = w * tilesPerWarp;
    int tiles = (count + 15) >> 4;
    int tileEnd = min(tiles, tile0 + tilesPerWarp);

    // Lanes 0..15 each own a row of a tile: its block-table entry is read one tile before its copies.
    // The tiles come in order from tile0, so on sketches the row's place follows by subtraction; the
    // bf16 pass keeps one division (its registers are at the two-blocks-per-SM limit, and the cursor's
    // two would cost it a block).
    TsRowCursor cursor(from + tile0 * 16 + (lane & 15), bs);
    auto tableEntry = [&](int tile, int &slot) -> int {
        int cand = tile * 16 + (lane & 15);
        bool ok = tile < tileEnd && cand < count;
        if constexpr (SKETCH) {
            int entry = ok ? table[cursor.block] : -1;
            slot = cursor.slot;
            cursor.next(bs);
            return entry;
        } else {
            int pos = from + cand, block = pos / bs;
            slot = pos - block * bs;
            return ok ? table[block] : -1;
        }
    };
    // The copies of a tile (its rows' blocks and slots in `block` and `slot`, lane r < 16 holding row r's)
    // into stage st.
    auto issue = [&](int block, int slot, int st) {
        unsigned char *stage = ring + st * S::TILEB;
        long long rowOff = -1;  // lane r < 16: byte offset of row r in src, -1 where the row is past the end
        if (block >= 0) {
            rowOff = SKETCH ? (long long) block * blockStride + (long long) ((layer * kvHeads + g) * bs + slot) * D
                            : (long long) block * blockStride
                                      + ((long long) (2 * layer) * kvHeads + g) * (long long) bs * 2 * D
                                      + (long long) slot * 2 * D;
        }
#pragma unroll
        for (int i = 0; i < S::PER_LANE; i++) {
            int q = i * 32 + lane;
            int row = q / S::RCH, chunk = q % S::RCH;
            long long off = __shfl_sync(0xffffffffu, rowOff, row);
            bool valid = off >= 0;
            const unsigned char *gsrc = src + (valid ? off + chunk * 16 : 0);
            cp_async16_zfill(stage + row * S::ROWB + tsp_swizzle(row, chunk, S::SWZ) * 16, gsrc, valid);
        }
        if constexpr (SKETCH) {
            if (lane < 16) {
                bool valid = block >= 0;
                const float *s = scale + (valid ? (size_t) block * scaleBlockFloats
                                                          + (size_t) ((layer * kvHeads + g) * bs + slot)
                                                : 0);
                cp_async4_zfill(stage + 16 * S::ROWB + lane * 4, s, valid);
            }
        }
    };

    // prologue: STAGES - 1 tiles in flight, the next tile's table entries read
    int nextSlot;
    int nextBlock = tableEntry(tile0, nextSlot);
#pragma unroll
    for (int j = 0; j < S::STAGES - 1; j++) {
        int block = nextBlock, slot = nextSlot;
        nextBlock = tableEntry(tile0 + j + 1, nextSlot);
        if (tile0 + j < tileEnd) issue(block, slot, j);
        cp_async_commit();
    }

    float m[2] = {NEG_INF, NEG_INF}, sum[2] = {0.f, 0.f};
    int st = 0;
    for (int tile = tile0; tile < tileEnd; tile++) {
        int ahead = tile + S::STAGES - 1;
        int block = nextBlock, slot = nextSlot;
        nextBlock = tableEntry(ahead + 1, nextSlot);
        if (ahead < tileEnd) issue(block, slot, (st + S::STAGES - 1) % S::STAGES);
        cp_async_commit();
        cp_async_wait<S::STAGES - 1>();
        __syncwarp();
        const unsigned char *stage = ring + st * S::TILEB;
        int cA = tile * 16 + gr, cB = cA + 8;
        float c[4] = {0.f, 0.f, 0.f, 0.f};
        if constexpr (MODE == TSP_SKETCH_I8) {
            int acc[3][4] = {};
#pragma unroll
            for (int ch = 0; ch < CH; ch++) {
                int chunk = ch * 2 + (t4 >> 1);
                uint2 ra = *reinterpret_cast<const uint2 *>(stage + gr * S::ROWB
                                                            + tsp_swizzle(gr, chunk, S::SWZ) * 16 + (t4 & 1) * 8);
                uint2 rb = *reinterpret_cast<const uint2 *>(stage + (gr + 8) * S::ROWB
                                                            + tsp_swizzle(gr + 8, chunk, S::SWZ) * 16 + (t4 & 1) * 8);
#pragma unroll
                for (int p = 0; p < 3; p++) mma_s8_16832(acc[p], ra.x, rb.x, ra.y, rb.y, bq[p][ch][0][0], bq[p][ch][0][1]);
            }
            const float *sc = reinterpret_cast<const float *>(stage + 16 * S::ROWB);
            float sA = sc[gr], sB = sc[gr + 8];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const float *ts = termScale[e & 1];
                float v = (float) acc[2][e] * ts[2];  // the small terms first
                v = fmaf((float) acc[1][e], ts[1], v);
                v = fmaf((float) acc[0][e], ts[0], v);
                c[e] = v * (e < 2 ? sA : sB);
            }
        } else if constexpr (SKETCH) {
            uint32_t a[2][CH][4];  // rows gr, gr + 8: components as exact fp16 pairs
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int row = gr + 8 * h;
#pragma unroll
                for (int ch = 0; ch < CH; ch++) {
                    int chunk = ch * 2 + (t4 >> 1);
                    uint2 v = *reinterpret_cast<const uint2 *>(stage + row * S::ROWB
                                                              + tsp_swizzle(row, chunk, S::SWZ) * 16 + (t4 & 1) * 8);
                    widen_int8x4(v.x, a[h][ch][0], a[h][ch][1]);
                    widen_int8x4(v.y, a[h][ch][2], a[h][ch][3]);
                }
            }
            // the query's two terms on two accumulators: two chains of dependent products, not one twice as long
            float cLo[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
            for (int ch = 0; ch < CH; ch++) {
                mma_f16_16816(cLo, a[0][ch][0], a[1][ch][0], a[0][ch][1], a[1][ch][1], bq[1][ch][0][0], bq[1][ch][0][1]);
                mma_f16_16816(c, a[0][ch][0], a[1][ch][0], a[0][ch][1], a[1][ch][1], bq[0][ch][0][0], bq[0][ch][0][1]);
                mma_f16_16816(cLo, a[0][ch][2], a[1][ch][2], a[0][ch][3], a[1][ch][3], bq[1][ch][1][0], bq[1][ch][1][1]);
                mma_f16_16816(c, a[0][ch][2], a[1][ch][2], a[0][ch][3], a[1][ch][3], bq[0][ch][1][0], bq[0][ch][1][1]);
            }
#pragma unroll
            for (int e = 0; e < 4; e++) c[e] = cLo[e] + c[e];
            const float *sc = reinterpret_cast<const float *>(stage + 16 * S::ROWB);
            float sA = sc[gr], sB = sc[gr + 8];
            c[0] *= sA;
            c[1] *= sA;
            c[2] *= sB;
            c[3] *= sB;
        } else {
            uint4 ka[CH], kb[CH];
#pragma unroll
            for (int ch = 0; ch < CH; ch++) {
                int chunk = ch * 4 + t4;
                ka[ch] = *reinterpret_cast<const uint4 *>(stage + gr * S::ROWB
                                                          + tsp_swizzle(gr, chunk, S::SWZ) * 16);
                kb[ch] = *reinterpret_cast<const uint4 *>(stage + (gr + 8) * S::ROWB
                                                          + tsp_swizzle(gr + 8, chunk, S::SWZ) * 16);
            }
#pragma unroll
            for (int p = 2; p >= 0; p--) {  // the small terms first
#pragma unroll
                for (int ch = 0; ch < CH; ch++) {
                    mma_bf16_16816(c, ka[ch].x, kb[ch].x, ka[ch].y, kb[ch].y, bq[p][ch][0][0], bq[p][ch][0][1]);
                    mma_bf16_16816(c, ka[ch].z, kb[ch].z, ka[ch].w, kb[ch].w, bq[p][ch][1][0], bq[p][ch][1][1]);
                }
            }
        }
        __syncwarp();  // every lane's reads of this stage done before a later copy overwrites it
        ts_store_tile(c, t4, cA < count ? cA : count, cB < count ? cB : count, G, g, count, out, ldOut, m, sum);
        st = st + 1 == S::STAGES ? 0 : st + 1;
    }
    cp_async_wait<0>();
    ts_write_warp_stats(m, sum, gr, t4, G, g, H, w, warpStats);
}

#define TS_SCORES_PIPE_ENTRY(NAME, D)                                                                              \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                       \
            const float *qbar, const bf16 *pool, long long blockElems, const int *table, int bs, int layer,       \
            int kvHeads, int G, int from, int count, int tilesPerWarp, float *out, long long ldOut,              \
            float *warpStats, const int *ctrl) { PDL_BEGIN();                                                     \
        ts_scores_pipe_body<D, TSP_KEYS>(qbar, reinterpret_cast<const unsigned char *>(pool), 2 * blockElems,       \
                                      nullptr, 0, table, bs, layer, kvHeads, G, from, count, tilesPerWarp, out,   \
                                      ldOut, warpStats, ctrl);                                                    \
    }

// three blocks per SM (80 registers, 3 x 66 KiB of stages) where the register-fed pass fits two
#define TS_SCORES_SKETCH_PIPE_ENTRY(NAME, D, MODE)                                                                 \
    extern "C" __global__ void __launch_bounds__(256, 3) NAME(                                                       \
            const float *qbar, const signed char *sketch, long long sketchBlockBytes, const float *scale,         \
            long long scaleBlockFloats, const int *table, int bs, int layer, int kvHeads, int G, int from,        \
            int count, int tilesPerWarp, float *out, long long ldOut, float *warpStats,                           \
            const int *ctrl) { PDL_BEGIN();                                                                       \
        ts_scores_pipe_body<D, MODE>(qbar, reinterpret_cast<const unsigned char *>(sketch), sketchBlockBytes,    \
                                     scale, scaleBlockFloats, table, bs, layer, kvHeads, G, from, count,          \
                                     tilesPerWarp, out, ldOut, warpStats, ctrl);                                  \
    }

TS_SCORES_PIPE_ENTRY(ts_scores_pipe_d64, 64)
TS_SCORES_PIPE_ENTRY(ts_scores_pipe_d128, 128)
TS_SCORES_SKETCH_PIPE_ENTRY(ts_scores_sketch_pipe_d64, 64, TSP_SKETCH_F16)
TS_SCORES_SKETCH_PIPE_ENTRY(ts_scores_sketch_pipe_d128, 128, TSP_SKETCH_F16)
TS_SCORES_SKETCH_PIPE_ENTRY(ts_scores_sketch_i8_d64, 64, TSP_SKETCH_I8)
TS_SCORES_SKETCH_PIPE_ENTRY(ts_scores_sketch_i8_d128, 128, TSP_SKETCH_I8)
