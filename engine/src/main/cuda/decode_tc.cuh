// Decode attention on tensor cores: the same function as attn_decode (one new token per sequence,
// full causal attention over the paged cache, optional sliding window, split-K over the context),
// with the GQA group's query heads as the rows of an m16 tile (rows G..15 are padding).
//
// A block takes one KV head of one sequence and a range of 64-key tiles. The raw bf16 K and V rows of
// each tile stream into shared memory through a TCD_STAGES-deep cp.async ring, so two tiles are in
// flight while one is computed; nothing is converted on the way in. Each of the 4 warps then takes 16
// keys of the tile: ldmatrix hands it K fragments whose rotary partners (dims i and i + D/2) sit in the
// same thread, so the key is rotated at its position in registers (fp32) and split into bf16 hi + lo;
// the scores are Qhi Khi + Qlo Khi + Qhi Klo (about 16 mantissa bits). The score fragments are the P
// fragments of P V (P split into hi + lo as well, V exact in bf16, fetched by ldmatrix.trans), with an
// online softmax in base 2 per warp; the warps merge at the end.
// The fp16 variant (attn_decode_tc_f16_d*) rounds the query and the rotated key to fp16 once: one
// product per step for the scores instead of three (11 mantissa bits), P V as above. It also takes the
// rotation of a thread's second key (8 positions on) from its first by one angle addition instead of
// a second sincos, halving the special-function work per key.
// grid (kvHeads, B, nsplit), block 128; partials for attn_combine as attn_decode writes them.
// The _sel variants attend over a selected entry list (TokenSelect) as attn_decode_sel does: entry j
// is token sel[j] of the paged cache with its key rotated at position j, the query at the last entry.
// How a tile's rows arrive (LOAD): TCD_CP_ASYNC, 16-byte cp.async from every thread into padded rows;
// TCD_BULK_ROWS (sm_90), one bulk copy per row into the same padded rows; TCD_TMA_PAGES (sm_90, d 128,
// full attention), one tensor copy per page segment and half row into rows of 128 bytes that the copy
// itself swizzles (16-byte chunk c of row r lands at chunk c ^ (r % 8), so ldmatrix reads 8 rows
// without bank conflicts and no padding is needed): 16 copies per 64-key tile instead of 128 or
// 2,048, which measured on an H200 is what lets a block stream its range at the card's bandwidth
// (a load-only pipeline: 4.49 TB/s against 4.07 with cp.async and 4.15 with row copies). Its tiles
// start at multiples of 64 keys so that a tile is whole page segments; keys before the window and
// past the end are masked, and the V rows past the end zeroed (a page's unwritten rows may hold
// anything).
#pragma once
#include "common.cuh"

#define TCD_TK 64
#define TCD_PAD 8
#define TCD_STAGES 3
#define TCD_CP_ASYNC 0
#define TCD_BULK_ROWS 1
#define TCD_TMA_PAGES 2
// As TCD_TMA_PAGES with the block-table entries of warp 0's copies read a tile ahead, so that no warp
// waits at a tile's barrier for warp 0's table lookup (Nsight on the H200: 30% of the scan's stalls are
// warps waiting at that barrier). Off until measured.
#define TCD_TMA_PAGES_AHEAD 3
// As TCD_TMA_PAGES with a fifth warp that only issues the copies (block 160): it waits for each stage's
// release by the four computing warps on an mbarrier of its own, so no warp ever waits for another at a
// block barrier, and the table lookups are off the computing warps' path. Off until measured.
#define TCD_TMA_PAGES_WS 4
// As TCD_TMA_PAGES with the arithmetic the kernels had before two instruction savings: each key rotated by
// rounded products (six instructions a pair, not four fused ones) and O rescaled at every new maximum
// (not only when a row gains more than 8 on it). Kept to time the savings side by side. Off.
#define TCD_TMA_PAGES_EAGER 5
// Added to a tensor-copy scheme: two more instruction savings in the keys' rotation, which is about two
// thirds of the scan's instructions (docs/BENCHMARKS.md, "Where the scan's instructions go"): each angle
// from the position times the frequency in fixed point (2^-32 turns: the product wraps modulo a turn
// exactly, so no range reduction), and in the fp16 build the rotation itself on fp16 pairs (two fused
// instructions per two dims instead of four). With TCD_TMA_PAGES_AHEAD (the default) a layer 1.01x-1.06x
// faster than without on an H200, the 7B's greedy tokens and logits error unchanged.
#define TCD_LEAN 8

// Dynamic shared memory: the K and V ring, TCD_STAGES x 2 x TCD_TK x (D + TCD_PAD) bf16
// (CudaKernels.tensorCoreDecodeSharedBytes).

// Bulk copies (sm_90): one cp.async.bulk per K or V row of a tile, completing on the stage's mbarrier,
// instead of D / 8 16-byte cp.async per row from every thread. Compiled only where the device has them.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
__device__ __forceinline__ void tcd_bar_init(uint32_t bar) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void tcd_bar_init_fence() {
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}
/** The one arrival of a stage's phase, announcing the bytes its copies will bring. */
__device__ __forceinline__ void tcd_bar_expect(uint32_t bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void tcd_bulk_copy(uint32_t dst, const void *src, uint32_t bytes, uint32_t bar) {
    asm volatile("fence.proxy.async.shared::cta;\n"
                 "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
                 ::"r"(dst), "l"(src), "r"(bytes), "r"(bar) : "memory");
}
/** One 2-d tensor copy (box of the tensor map at columns c0, rows c1) into shared memory at dst. */
__device__ __forceinline__ void tcd_tensor_copy(uint32_t dst, const void *tmap, int c0, int c1, uint32_t bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%2, %3}], [%4];\n"
                 ::"r"(dst), "l"(tmap), "r"(c0), "r"(c1), "r"(bar) : "memory");
}
__device__ __forceinline__ void tcd_bar_wait(uint32_t bar, uint32_t parity) {
    asm volatile("{\n"
                 ".reg .pred done;\n"
                 "TCD_WAIT:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra TCD_WAIT;\n"
                 "}\n" ::"r"(bar), "r"(parity) : "memory");
}
#else
__device__ __forceinline__ void tcd_bar_init(uint32_t) { __trap(); }
__device__ __forceinline__ void tcd_bar_init_fence() { __trap(); }
__device__ __forceinline__ void tcd_bar_expect(uint32_t, uint32_t) { __trap(); }
__device__ __forceinline__ void tcd_bulk_copy(uint32_t, const void *, uint32_t, uint32_t) { __trap(); }
__device__ __forceinline__ void tcd_tensor_copy(uint32_t, const void *, int, int, uint32_t) { __trap(); }
__device__ __forceinline__ void tcd_bar_wait(uint32_t, uint32_t) { __trap(); }
#endif

/** The tensor map of the KV pool (cuTensorMapEncodeTiled): a kernel parameter of 128 bytes. */
struct __align__(64) TcdTensorMap {
    unsigned long long opaque[16];
};

template <int D, bool F16, bool SEL = false, int LOAD = TCD_CP_ASYNC>
__device__ __forceinline__ void attn_decode_tc_body(
        const float *__restrict__ q, int ldq, const bf16 *__restrict__ pool, long long blockElems,
        const int *__restrict__ tables, int tableStride, int bs, int layer, int kvHeads,
        const int *__restrict__ step, int B, int window, const float *__restrict__ invFreq, int G, float scale,
        float *__restrict__ out, int ldo, float *__restrict__ partial, const int *__restrict__ sel = nullptr,
        int selLen = 0, const TcdTensorMap *tmap = nullptr) {
    constexpr bool LEAN = (LOAD & TCD_LEAN) != 0;
    constexpr int SCHEME = LOAD & ~TCD_LEAN;
    constexpr bool BULK = SCHEME == TCD_BULK_ROWS;
    constexpr bool TMA = SCHEME == TCD_TMA_PAGES || SCHEME == TCD_TMA_PAGES_AHEAD || SCHEME == TCD_TMA_PAGES_WS
            || SCHEME == TCD_TMA_PAGES_EAGER;
    constexpr bool EAGER = SCHEME == TCD_TMA_PAGES_EAGER;
    constexpr bool AHEAD = SCHEME == TCD_TMA_PAGES_AHEAD;
    constexpr bool WS = SCHEME == TCD_TMA_PAGES_WS;
    static_assert(!LEAN || (TMA && !EAGER), "the lean rotation: a tensor-copy scheme with the current arithmetic");
    static_assert(!TMA || (D == 128 && !SEL), "tensor copies of page segments: head dim 128, full attention");
    constexpr int HALF = D / 2;
    constexpr int LD = D + TCD_PAD;       // bf16 per shared row: 16-byte rows, ldmatrix without bank conflicts
    constexpr int KS = HALF / 16;         // k16 steps per half of the head dim
    constexpr int DT = D / 8;             // n8 tiles of the output
    constexpr int STAGE = 2 * TCD_TK * (TMA ? D : LD);  // K rows then V rows
    constexpr float LOG2E = 1.4426950408889634f;
    extern __shared__ __align__(16) unsigned char tcd_smem[];
    // the swizzle of tensor copies repeats every 1,024 bytes: their ring starts at such a boundary
    // (CudaKernels.tensorCoreDecodeSharedBytes adds the 1,024 bytes this may skip)
    bf16 *ring = reinterpret_cast<bf16 *>(TMA ? tcd_smem + ((1024 - ((uint32_t) __cvta_generic_to_shared(tcd_smem) & 1023)) & 1023)
                                              : tcd_smem);
    __shared__ float freq[HALF];
    __shared__ uint32_t turn[LEAN ? HALF : 1];  // LEAN: each frequency in 2^-32 turns per position
    __shared__ float2 step8[HALF];  // cos, sin of 8 positions at each frequency (F16)
    __shared__ float wm[32], wl[32];
    __shared__ float qrot[8][D];

    int g = blockIdx.x, b = blockIdx.y, split = blockIdx.z, nsplit = gridDim.z;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int gr = lane >> 2, t4 = lane & 3;
    int H = kvHeads * G;
    int pos = SEL ? selLen - 1 : step[B + b];
    int len = pos + 1;
    const int *table = tables + (size_t) b * tableStride;
    size_t valueOffset = (size_t) kvHeads * bs * D;

    int lo = window > 0 ? max(0, len - window) : 0;
    int base = TMA ? lo - lo % TCD_TK : lo;  // the first tile's first key
    int tiles = (len - base + TCD_TK - 1) / TCD_TK;
    int tps = (tiles + nsplit - 1) / nsplit;
    int t0 = split * tps, t1 = min(tiles, t0 + tps);

    // one tile's raw K and V rows into a ring stage: a key's K row and V row are D / 8 16-byte chunks
    // each, so a warp copies 32 / (D / 4) keys per pass (contiguous 2 x D x 2 bytes per key); keys past
    // the end copy the last key (finite, weight 0). Page lookups by shift and mask when bs is a power of two.
    constexpr int CPR = D / 8;               // chunks per row
    constexpr int KPP = 32 / (2 * CPR);      // keys per warp pass
    int within = lane % (2 * CPR);
    bool isV = within >= CPR;
    int chunk = within % CPR;
    size_t layerHeadOff = ((size_t) (2 * layer) * kvHeads + g) * (size_t) bs * D;
    int bsShift = (bs & (bs - 1)) == 0 ? __ffs(bs) - 1 : -1;
    // the pool offset of key row kr of tile t (the layer's K rows of head g; V adds valueOffset)
    auto row_offset = [&](int t, int kr) -> size_t {
        int j = min(base + t * TCD_TK + kr, len - 1);
        int tok = SEL ? sel[j] : j;
        int page = bsShift >= 0 ? tok >> bsShift : tok / bs;
        int slot = bsShift >= 0 ? tok & (bs - 1) : tok % bs;
        return (size_t) table[page] * (size_t) blockElems + layerHeadOff + (size_t) slot * D;
    };
    size_t chunkOff = (isV ? valueOffset : 0) + 8 * chunk;
    auto load_tile = [&](int t, int stage) {
        bf16 *dst = ring + stage * STAGE + (isV ? TCD_TK * LD : 0) + 8 * chunk;
#pragma unroll 4
        for (int kr = warp * KPP + lane / (2 * CPR); kr < TCD_TK; kr += 4 * KPP) {
            cp_async16(dst + kr * LD, pool + row_offset(t, kr) + chunkOff);
        }
    };
    // BULK: key kr = tid / 2's K (even tid) or V (odd) row by one bulk copy; thread 0 announces the
    // stage's bytes first (the phase's one arrival), so its count never runs ahead of the copies
    __shared__ __align__(8) uint64_t bars[TCD_STAGES];
    uint32_t bar0 = (uint32_t) __cvta_generic_to_shared(&bars[0]);
    __shared__ __align__(8) uint64_t emptyBars[WS ? TCD_STAGES : 1];  // WS: a stage's release by the 4 computing warps
    uint32_t ebar0 = (uint32_t) __cvta_generic_to_shared(&emptyBars[0]);
    bool producer = WS && warp == 4;
    constexpr uint32_t TILE_BYTES = 2 * TCD_TK * D * 2;
    int bulkKey = tid >> 1;
    bool bulkV = tid & 1;
    auto load_tile_bulk = [&](int t, int stage) {
        uint32_t dst = (uint32_t) __cvta_generic_to_shared(ring + stage * STAGE + (bulkV ? TCD_TK * LD : 0)
                                                            + bulkKey * LD);
        tcd_bulk_copy(dst, pool + row_offset(t, bulkKey) + (bulkV ? valueOffset : 0), D * 2, bar0 + 8 * stage);
    };
    // TMA (warp 0): lane = 4 x segment + 2 x (V) + half; a segment is min(bs, 64) keys of one page, one
    // box of the tensor map (64 columns x that many rows); segments wholly past the end are not copied
    constexpr int TMA_HALF = TCD_TK * 64;  // bf16 per half-row region (64 rows x 128 bytes)
    int seg = min(bs, TCD_TK);
    long long rowsPerBlock = blockElems / D;
    long long headRow = layerHeadOff / D;
    // this lane's block-table entry for tile t (its segment's page; past the end, the last key's)
    auto table_entry = [&](int t) -> int {
        int tok = min(base + t * TCD_TK + (lane >> 2) * seg, len - 1);
        return table[bsShift >= 0 ? tok >> bsShift : tok / bs];
    };
    auto load_tile_tma = [&](int t, int stage, int entry) {
        int j0 = base + t * TCD_TK;
        int valid = min(TCD_TK / seg, (len - j0 + seg - 1) / seg);
        if (lane == 0) tcd_bar_expect(bar0 + 8 * stage, (uint32_t) valid * 4 * seg * 128);
        __syncwarp();
        if (lane < 4 * valid) {
            int sg = lane >> 2, v = (lane >> 1) & 1, h = lane & 1;
            int tok = j0 + sg * seg;
            int slot = bsShift >= 0 ? tok & (bs - 1) : tok % bs;
            long long row = (long long) entry * rowsPerBlock + headRow + (v ? valueOffset / D : 0) + slot;
            uint32_t dst = (uint32_t) __cvta_generic_to_shared(ring + stage * STAGE + v * (2 * TMA_HALF) + h * TMA_HALF
                                                                + sg * seg * 64);
            asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
            tcd_tensor_copy(dst, tmap, 64 * h, (int) row, bar0 + 8 * stage);
        }
    };
    int ahead = 0;  // AHEAD, warp 0: this lane's table entry for the next tile to load
    if constexpr (TMA) {
        if (tid == 0) {
            for (int s = 0; s < TCD_STAGES; s++) tcd_bar_init(bar0 + 8 * s);
            if (WS) {
                for (int s = 0; s < TCD_STAGES; s++) {
                    asm volatile("mbarrier.init.shared::cta.b64 [%0], 4;\n" ::"r"(ebar0 + 8 * s) : "memory");
                }
            }
            tcd_bar_init_fence();
        }
        __syncthreads();
        if (!WS && warp == 0) {
            for (int s = 0; s < TCD_STAGES - 1; s++) {
                if (t0 + s < t1) load_tile_tma(t0 + s, s, table_entry(t0 + s));
            }
            if (AHEAD && t0 + TCD_STAGES - 1 < t1) ahead = table_entry(t0 + TCD_STAGES - 1);
        }
        if (producer) {  // WS: the whole ring's first tiles, in flight while the block stages the queries
            for (int u = t0; u < min(t1, t0 + TCD_STAGES); u++) load_tile_tma(u, u - t0, table_entry(u));
        }
    } else if constexpr (BULK) {
        if (tid == 0) {
            for (int s = 0; s < TCD_STAGES; s++) tcd_bar_init(bar0 + 8 * s);
            tcd_bar_init_fence();
            for (int s = 0; s < TCD_STAGES - 1; s++) {
                if (t0 + s < t1) tcd_bar_expect(bar0 + 8 * s, TILE_BYTES);
            }
        }
        __syncthreads();
        for (int s = 0; s < TCD_STAGES - 1; s++) {
            if (t0 + s < t1) load_tile_bulk(t0 + s, s);
        }
    } else {
        for (int s = 0; s < TCD_STAGES - 1; s++) {
            if (t0 + s < t1) load_tile(t0 + s, s);
            asm volatile("cp.async.commit_group;\n" ::);
        }
    }

    // the group's queries rotated at pos and scaled by scale * log2(e), staged once per block, then
    // this thread's fragments as bf16 hi + lo: qh[k][0] holds dims 16k + 2t4 (+1) of row gr, qh[k][1]
    // dims 16k + 8 + 2t4 (+1); rows gr + 8 (and gr >= G) are zero
    float qscale = scale * LOG2E;
    for (int i = tid; i < HALF; i += blockDim.x) {
        freq[i] = invFreq[i];
        if (LEAN) turn[i] = (uint32_t) llrint((double) invFreq[i] * (4294967296.0 / 6.283185307179586));
        if (F16) {
            float sn, cs;
            sincosf(8.f * invFreq[i], &sn, &cs);
            step8[i] = make_float2(cs, sn);
        }
    }
    for (int idx = tid; idx < 8 * HALF; idx += blockDim.x) {
        int r = idx / HALF, i = idx % HALF;
        float a = 0.f, c = 0.f;
        if (r < G) {
            const float *src = q + (size_t) b * ldq + (size_t) (g * G + r) * D;
            rope_pair(src[i], src[i + HALF], invFreq[i], pos, a, c);
        }
        qrot[r][i] = a * qscale;
        qrot[r][i + HALF] = c * qscale;
    }
    __syncthreads();
    uint32_t qh[2 * KS][2], ql[2 * KS][2];  // ql unused in F16 (qh then holds fp16 pairs)
#pragma unroll
    for (int k = 0; k < 2 * KS; k++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            int i = 16 * k + 8 * h + 2 * t4;
            if (F16) {
                qh[k][h] = pack_f16x2(qrot[gr][i], qrot[gr][i + 1]);
            } else {
                split_bf16x2(qrot[gr][i], qrot[gr][i + 1], qh[k][h], ql[k][h]);
            }
        }

    float o[DT][4];
#pragma unroll
    for (int j = 0; j < DT; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[j][e] = 0.f;
    float mrow = NEG_INF, lrow = 0.f;  // row gr, base 2
    int kbase = warp * 16;

    if (producer) {  // WS: every later tile of the range, each into its stage once the computing warps released it
        for (int u = t0 + TCD_STAGES; u < t1; u++) {
            int s = (u - t0) % TCD_STAGES;
            int entry = table_entry(u);
            tcd_bar_wait(ebar0 + 8 * s, ((u - t0) / TCD_STAGES - 1) & 1);
            load_tile_tma(u, s, entry);
        }
    }
    for (int t = t0; t < t1 && !producer; t++) {
        int stage = (t - t0) % TCD_STAGES;
        int refill = (t + TCD_STAGES - 1 - t0) % TCD_STAGES;  // the stage of tile t - 1
        if constexpr (TMA) {
            if (!WS) __syncthreads();  // tile t - 1 is consumed by every warp
            if (!WS && warp == 0 && t + TCD_STAGES - 1 < t1) {
                if constexpr (AHEAD) {  // the entry read an iteration ago; the next one's read now
                    load_tile_tma(t + TCD_STAGES - 1, refill, ahead);
                    if (t + TCD_STAGES < t1) ahead = table_entry(t + TCD_STAGES);
                } else {
                    load_tile_tma(t + TCD_STAGES - 1, refill, table_entry(t + TCD_STAGES - 1));
                }
            }
            tcd_bar_wait(bar0 + 8 * stage, ((t - t0) / TCD_STAGES) & 1);  // tile t has landed
        } else if constexpr (BULK) {
            // its last phase completed before tile t - 1 was computed (thread 0 waited for it too)
            if (tid == 0 && t + TCD_STAGES - 1 < t1) tcd_bar_expect(bar0 + 8 * refill, TILE_BYTES);
            __syncthreads();  // tile t - 1 is consumed by every warp
            if (t + TCD_STAGES - 1 < t1) load_tile_bulk(t + TCD_STAGES - 1, refill);
            tcd_bar_wait(bar0 + 8 * stage, ((t - t0) / TCD_STAGES) & 1);  // tile t has landed
        } else {
            asm volatile("cp.async.wait_group %0;\n" ::"n"(TCD_STAGES - 2));
            __syncthreads();  // tile t has landed for every thread; the stage refilled below is consumed
            if (t + TCD_STAGES - 1 < t1) load_tile(t + TCD_STAGES - 1, refill);
            asm volatile("cp.async.commit_group;\n" ::);
        }

        const bf16 *ks = ring + stage * STAGE;
        const bf16 *vs = ks + TCD_TK * (TMA ? D : LD);
        int j0 = base + t * TCD_TK;
        if (TMA && j0 + TCD_TK > len) {  // the last tile: its V rows past the end to zero (P is 0 there)
            bf16 *vz = ring + stage * STAGE + 2 * TMA_HALF;
            if constexpr (WS) {  // each warp reads only its own 16 rows
                for (int i = lane; i < 16 * D; i += 32) {
                    int r = kbase + i / D, e = i % D;
                    if (j0 + r >= len) vz[(e >> 6) * TMA_HALF + r * 64 + (e & 63)] = __float2bfloat16(0.f);
                }
                __syncwarp();
            } else {
                for (int i = tid; i < (j0 + TCD_TK - len) * D; i += blockDim.x) {
                    int r = len - j0 + i / D, e = i % D;
                    vz[(e >> 6) * TMA_HALF + r * 64 + (e & 63)] = __float2bfloat16(0.f);
                }
                __syncthreads();
            }
        }

        // scores of this warp's 16 keys: two n8 tiles; row gr, keys 2t4 and 2t4 + 1 of each. The
        // thread's B fragments belong to key kbase + 8n + gr; ldmatrix: lanes 8m..8m+7 address rows of
        // matrix m = (dims +0 | +8) x (first | second half). One accumulator per n8 tile: two or four
        // (shorter chains of dependent products) measured no faster on an H200 (docs/BENCHMARKS.md, "score
        // chains")
        float s[2][4];
#pragma unroll
        for (int n = 0; n < 2; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[n][e] = 0.f;
        float jf = (float) (j0 + kbase + gr);
        uint32_t ju = (uint32_t) (j0 + kbase + gr);
        const bf16 *rowp = ks + (kbase + (lane & 7)) * LD + ((lane >> 3) & 1) * 8 + (lane >> 4) * HALF;
#pragma unroll
        for (int k = 0; k < KS; k++) {
            float cs0[4], sn0[4];
#pragma unroll
            for (int n = 0; n < 2; n++) {
                uint32_t r0, r1, r2, r3;
                if constexpr (TMA) {  // row kbase + 8n + (lane & 7), chunk 2k + ((lane >> 3) & 1) of half lane >> 4
                    int c = 2 * k + ((lane >> 3) & 1);
                    ldmatrix_x4(ks + (lane >> 4) * TMA_HALF + (kbase + 8 * n + (lane & 7)) * 64 + ((c ^ (lane & 7)) << 3),
                                r0, r1, r2, r3);
                } else {
                    ldmatrix_x4(rowp + 8 * n * LD + 16 * k, r0, r1, r2, r3);
                }
                float ka[4], kb[4];
                unpack_bf16x2(r0, ka[0], ka[1]);
                unpack_bf16x2(r1, ka[2], ka[3]);
                unpack_bf16x2(r2, kb[0], kb[1]);
                unpack_bf16x2(r3, kb[2], kb[3]);
                float ra[4], rb[4], css[4], sns[4];
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int i = 16 * k + (e >> 1) * 8 + 2 * t4 + (e & 1);
                    float sn, cs;
                    if (F16 && n == 1) {  // 8 positions past the first key: one angle addition
                        float2 r8 = step8[i];
                        cs = fmaf(cs0[e], r8.x, -sn0[e] * r8.y);
                        sn = fmaf(sn0[e], r8.x, cs0[e] * r8.y);
                    } else if (LEAN) {  // the angle in 2^-32 turns wraps by itself: in [-pi, pi) with no reduction
                        int ph = (int) ((n == 0 ? ju : ju + 8u) * turn[i]);
                        __sincosf((float) ph * 1.46291807926715968e-9f, &sn, &cs);  // 2 pi / 2^32
                        cs0[e] = cs;
                        sn0[e] = sn;
                    } else {
                        sincos_reduced(__fmul_rn(n == 0 ? jf : jf + 8.f, freq[i]), &sn, &cs);
                        cs0[e] = cs;
                        sn0[e] = sn;
                    }
                    css[e] = cs;
                    sns[e] = sn;
                    if (F16 && LEAN) continue;  // rotated below, two dims at a time in fp16
                    if (F16 && !EAGER) {  // rounded to fp16 next: fused products (4 instructions a pair, not 6)
                        ra[e] = fmaf(ka[e], cs, -kb[e] * sn);
                        rb[e] = fmaf(kb[e], cs, ka[e] * sn);
                    } else {
                        ra[e] = __fsub_rn(__fmul_rn(ka[e], cs), __fmul_rn(kb[e], sn));
                        rb[e] = __fadd_rn(__fmul_rn(kb[e], cs), __fmul_rn(ka[e], sn));
                    }
                }
                if (F16 && LEAN) {  // a' = a cos - b sin, b' = b cos + a sin on fp16 pairs
                    uint32_t ar[2], br[2];
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        __half2 a2 = __floats2half2_rn(ka[2 * h], ka[2 * h + 1]);
                        __half2 b2 = __floats2half2_rn(kb[2 * h], kb[2 * h + 1]);
                        __half2 c2 = __floats2half2_rn(css[2 * h], css[2 * h + 1]);
                        __half2 s2 = __floats2half2_rn(sns[2 * h], sns[2 * h + 1]);
                        __half2 ar2 = __hfma2(a2, c2, __hneg2(__hmul2(b2, s2)));
                        __half2 br2 = __hfma2(b2, c2, __hmul2(a2, s2));
                        ar[h] = *reinterpret_cast<uint32_t *>(&ar2);
                        br[h] = *reinterpret_cast<uint32_t *>(&br2);
                    }
                    mma_f16_16816(s[n], qh[k][0], 0u, qh[k][1], 0u, ar[0], ar[1]);
                    mma_f16_16816(s[n], qh[k + KS][0], 0u, qh[k + KS][1], 0u, br[0], br[1]);
                } else if (F16) {
                    mma_f16_16816(s[n], qh[k][0], 0u, qh[k][1], 0u, pack_f16x2(ra[0], ra[1]), pack_f16x2(ra[2], ra[3]));
                    mma_f16_16816(s[n], qh[k + KS][0], 0u, qh[k + KS][1], 0u, pack_f16x2(rb[0], rb[1]),
                                  pack_f16x2(rb[2], rb[3]));
                } else {
                    uint32_t ah0, al0, ah1, al1, bh0, bl0, bh1, bl1;
                    split_bf16x2(ra[0], ra[1], ah0, al0);
                    split_bf16x2(ra[2], ra[3], ah1, al1);
                    split_bf16x2(rb[0], rb[1], bh0, bl0);
                    split_bf16x2(rb[2], rb[3], bh1, bl1);
                    mma_bf16_16816(s[n], ql[k][0], 0u, ql[k][1], 0u, ah0, ah1);
                    mma_bf16_16816(s[n], qh[k][0], 0u, qh[k][1], 0u, al0, al1);
                    mma_bf16_16816(s[n], qh[k][0], 0u, qh[k][1], 0u, ah0, ah1);
                    mma_bf16_16816(s[n], ql[k + KS][0], 0u, ql[k + KS][1], 0u, bh0, bh1);
                    mma_bf16_16816(s[n], qh[k + KS][0], 0u, qh[k + KS][1], 0u, bl0, bl1);
                    mma_bf16_16816(s[n], qh[k + KS][0], 0u, qh[k + KS][1], 0u, bh0, bh1);
                }
            }
        }
        // keys past the end; online softmax of row gr (a row lives in one quad)
        float tmax = NEG_INF;
#pragma unroll
        for (int n = 0; n < 2; n++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                int j = j0 + kbase + 8 * n + 2 * t4 + e;
                if (j >= len || (TMA && j < lo)) s[n][e] = NEG_INF;
                tmax = fmaxf(tmax, s[n][e]);
            }
        }
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 1));
        tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, 2));
        float mNew = fmaxf(mrow, tmax);
        if (mNew != NEG_INF) {  // else every key of the warp's share is past the end: nothing to add
            // The running maximum moves (and O and l are rescaled) only when some row of the warp gains
            // more than 8 (base 2) on it: otherwise the kept one stays the reference and this tile's
            // weights may reach 2^8, which fp32 sums and P's bf16 hi + lo carry. Saves the rescale of
            // O (2 DT products a thread) on most tiles of a long scan.
            if (EAGER || __any_sync(0xffffffffu, mNew > mrow + 8.f)) {
                float corr = exp2f(mrow - mNew);  // 0 the first time
                mrow = mNew;
                lrow *= corr;
#pragma unroll
                for (int j = 0; j < DT; j++) {
                    o[j][0] *= corr;
                    o[j][1] *= corr;
                }
            }
            float p[2][2];
            float rowSum = 0.f;
#pragma unroll
            for (int n = 0; n < 2; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    p[n][e] = exp2f(s[n][e] - mrow);  // exp2(-inf) = 0
                    rowSum += p[n][e];
                }
            lrow += rowSum;
            uint32_t ph0, pl0, ph1, pl1;
            split_bf16x2(p[0][0], p[0][1], ph0, pl0);
            split_bf16x2(p[1][0], p[1][1], ph1, pl1);
            // O += P V: V fragments by ldmatrix.trans (matrices: keys +0 | +8 x dims +0 | +8)
            const bf16 *vrow = vs + (kbase + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + (lane >> 4) * 8;
#pragma unroll
            for (int j = 0; j < DT; j += 2) {
                uint32_t v0, v1, v2, v3;
                if constexpr (TMA) {  // row kbase + (lane & 7) + 8 ((lane >> 3) & 1), dims 8j + 8 (lane >> 4)
                    int dim = 8 * j + 8 * (lane >> 4);
                    int c = (dim & 63) >> 3;
                    ldmatrix_x4_trans(vs + (dim >> 6) * TMA_HALF + (kbase + (lane & 7) + ((lane >> 3) & 1) * 8) * 64
                                      + ((c ^ (lane & 7)) << 3), v0, v1, v2, v3);
                } else {
                    ldmatrix_x4_trans(vrow + 8 * j, v0, v1, v2, v3);
                }
                mma_bf16_16816(o[j], ph0, 0u, ph1, 0u, v0, v1);
                mma_bf16_16816(o[j], pl0, 0u, pl1, 0u, v0, v1);
                mma_bf16_16816(o[j + 1], ph0, 0u, ph1, 0u, v2, v3);
                mma_bf16_16816(o[j + 1], pl0, 0u, pl1, 0u, v2, v3);
            }
        }
        if constexpr (WS) {  // this warp is done with the stage
            __syncwarp();
            if (lane == 0) asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(ebar0 + 8 * stage) : "memory");
        }
    }
    asm volatile("cp.async.wait_group 0;\n" ::);

    // row sums over the quad, then the warps merge through shared memory (rows < G only), the ring
    // reused as the merge buffer; maxima back to natural-log units for the merge and attn_combine
    lrow += __shfl_xor_sync(0xffffffffu, lrow, 1);
    lrow += __shfl_xor_sync(0xffffffffu, lrow, 2);
    __syncthreads();
    float *wacc = reinterpret_cast<float *>(tcd_smem);  // [4][8][D]
    if (gr < G && warp < 4) {  // (WS: the copying warp has nothing to merge)
        if (t4 == 0) {
            wm[warp * 8 + gr] = mrow == NEG_INF ? NEG_INF : mrow * (1.f / LOG2E);
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

// Entry points: NAME, head dim, fp16 scores, bulk copies (sm_90).
#define TCD_ENTRY(NAME, D, F16, BULK)                                                                        \
    extern "C" __global__ void __launch_bounds__(128, 2) NAME(                                               \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *tables,             \
            int tableStride, int bs, int layer, int kvHeads, const int *step, int B, int window,            \
            const float *invFreq, int G, float scale, float *out, int ldo, float *partial) { PDL_BEGIN();   \
        attn_decode_tc_body<D, F16, false, BULK>(q, ldq, pool, blockElems, tables, tableStride, bs, layer,  \
                                                 kvHeads, step, B, window, invFreq, G, scale, out, ldo,     \
                                                 partial);                                                  \
    }

// Full attention with page segments by tensor copies (sm_90a): the pool's tensor map is the last parameter.
#define TCD_TMA_ENTRY(NAME, F16, LOAD, THREADS)                                                              \
    extern "C" __global__ void __launch_bounds__(THREADS, 2) NAME(                                           \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *tables,             \
            int tableStride, int bs, int layer, int kvHeads, const int *step, int B, int window,            \
            const float *invFreq, int G, float scale, float *out, int ldo, float *partial,                  \
            const __grid_constant__ TcdTensorMap tmap) { PDL_BEGIN();                                       \
        attn_decode_tc_body<128, F16, false, LOAD>(q, ldq, pool, blockElems, tables, tableStride,           \
                bs, layer, kvHeads, step, B, window, invFreq, G, scale, out, ldo, partial, nullptr, 0, &tmap); \
    }

#define TCD_SEL_ENTRY(NAME, D, F16, BULK)                                                                    \
    extern "C" __global__ void __launch_bounds__(128, 2) NAME(                                               \
            const float *q, const bf16 *pool, long long blockElems, const int *table, int bs, int layer,    \
            int kvHeads, const int *sel, int nEntries, const float *invFreq, int G, float scale,            \
            float *out, float *partial) { PDL_BEGIN();                                                      \
        attn_decode_tc_body<D, F16, true, BULK>(q, 0, pool, blockElems, table, 0, bs, layer, kvHeads,       \
                                                nullptr, 1, 0, invFreq, G, scale, out, 0, partial, sel,     \
                                                nEntries);                                                  \
    }
