// Prefill attention on tensor cores with the GQA group packed into the rows: causal attention of a
// chunk of n queries over the paged bf16 cache (optional sliding window, a TokenSelect entry list,
// split-K partials for attn_combine), laid out so each key is fetched and rotated once per block for
// all of its query heads.
//
// A block takes one KV head and 64 packed rows, row P = (token P / G, head g*G + P % G), so the G
// heads of a token share every K/V tile. Per 64-key tile, K arrives one of two ways:
//   staged (the default where a chunk has 4 or more row tiles): flash_gqa_stage_* rotated the chunk's
//       keys once per layer into a scratch; the block copies the tile by cp.async while it finishes
//       the softmax and P V of the tile before;
//   rotated in the block: the raw K chunks, loaded into registers while the tile before was computed,
//       are rotated at their entry positions (fp32) and packed into shared memory once for the block.
// The raw V rows arrive by cp.async into a two-stage ring. Each warp then multiplies its 16 rows: an online softmax in base 2 of Q K^T, then
// P V with V exact in bf16 (fragments by ldmatrix, V by ldmatrix.trans), fp32 accumulation. Three
// precisions (MODE):
//   FG_SPLIT (flash_gqa_d*): Q K^T as Qhi Khi + Qlo Khi + Qhi Klo in bf16 (about 16 mantissa bits),
//       P as bf16 hi + lo: five tensor-core products per (row, key, dim) step;
//   FG_F16 (flash_gqa_f16_d*): Q and rotated K rounded to fp16 once (11 bits) for one product,
//       P as bf16 hi + lo: three products;
//   FG_BF16 (flash_gqa_bf16_d*): Q, rotated K and P rounded to bf16 once, as FlashAttention and bf16
//       inference elsewhere do: two products.
// grid (ceil(n * G / 64), kvHeads, nsplit), block 128; dynamic shared memory: Q, K (hi + lo for
// FG_SPLIT) and two V stages, six or four [64][D + 8] 16-bit tiles (PrefillAttentionPrecision.sharedBytes).
#include "flash_common.cuh"

template <int D, int MODE>
__device__ __forceinline__ void flash_gqa_body(
        const float *__restrict__ q, int ldq, const bf16 *__restrict__ pool, long long blockElems,
        const int *__restrict__ blockTable, int bs, int layer, int kvHeads, int kvLen, int qPos0, int n, int window,
        const float *__restrict__ invFreq, int group, float scale, float *__restrict__ out, int ldo,
        int tilesPerSplit, float *__restrict__ partial, const int *__restrict__ sel, const bf16 *__restrict__ staged,
        int stagedTiles) {
    constexpr int HALF = D / 2;
    constexpr int LD = D + FG_PAD;
    constexpr int KS = D / 16;               // k16 steps of Q K^T
    constexpr int NT = FG_BK / 8;            // n8 tiles of scores
    constexpr int DT = D / 8;                // n8 tiles of the output
    constexpr int CH = HALF / 8;             // 8-pair chunks of a key
    constexpr int KITEMS = FG_BK * CH / 128; // key chunks per thread
    constexpr int VITEMS = FG_BK * (D / 8) / 128;
    constexpr float LOG2E = 1.4426950408889634f;
    extern __shared__ __align__(16) unsigned char fg_smem[];
    constexpr bool SPLIT = MODE == FG_SPLIT;  // Q and K as hi + lo
    constexpr bool F16 = MODE == FG_F16;      // Q and K as fp16
    constexpr bool PSPLIT = MODE != FG_BF16;  // P as hi + lo
    constexpr int TERMS = SPLIT ? 2 : 1;     // hi (+ lo) tiles of Q and of K
    bf16 *qh = reinterpret_cast<bf16 *>(fg_smem);
    bf16 *ql = qh + FG_BR * LD;              // SPLIT only
    bf16 *kh = qh + TERMS * FG_BR * LD;
    bf16 *kl = kh + FG_BK * LD;              // SPLIT only
    bf16 *vring = kh + TERMS * FG_BK * LD;   // [2][64][LD]
    __shared__ float freq[HALF];

    int g = blockIdx.y;
    int P0 = blockIdx.x * FG_BR;
    int rowsTotal = n * group;
    int H = kvHeads * group;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int gr = lane >> 2, t4 = lane & 3;

    // queries of the block's rows, rotated at their entry positions, scaled by scale * log2(e), hi + lo
    float qscale = scale * LOG2E;
    for (int idx = tid; idx < FG_BR * HALF; idx += blockDim.x) {
        int r = idx / HALF, i = idx % HALF;
        float a, b;
        fg_query_pair<D>(q, ldq, invFreq, P0 + r, rowsTotal, group, g, qPos0, qscale, i, a, b);
        if (SPLIT) {
            store_split(&qh[r * LD + i], &ql[r * LD + i], a);
            store_split(&qh[r * LD + i + HALF], &ql[r * LD + i + HALF], b);
        } else if (F16) {
            reinterpret_cast<__half *>(qh)[r * LD + i] = __float2half_rn(a);
            reinterpret_cast<__half *>(qh)[r * LD + i + HALF] = __float2half_rn(b);
        } else {
            qh[r * LD + i] = __float2bfloat16_rn(a);
            qh[r * LD + i + HALF] = __float2bfloat16_rn(b);
        }
    }
    for (int i = tid; i < HALF; i += blockDim.x) freq[i] = invFreq[i];

    // the keys this block's rows see, and this split's share of them
    FgKeys keys = fg_keys(P0, group, n, kvLen, qPos0, window, tilesPerSplit);
    int hiKey = keys.hiKey, loKey = keys.loKey, nTiles = keys.nTiles;

    // this thread's rows (rowA, rowA + 8) and their entry positions
    int PA = P0 + warp * 16 + gr, PB = PA + 8;
    int posA = fg_row_pos(PA, rowsTotal, group, qPos0), posB = fg_row_pos(PB, rowsTotal, group, qPos0);

    size_t valueOffset = (size_t) kvHeads * bs * D;
    uint4 ka[KITEMS], kb[KITEMS];
    auto load_k = [&](int j0) {  // raw key chunks into registers (zeros past the end)
#pragma unroll
        for (int m = 0; m < KITEMS; m++) {
            int item = tid + 128 * m;
            int kr = item / CH, c0 = (item % CH) * 8;
            int j = j0 + kr;
            ka[m] = make_uint4(0, 0, 0, 0);
            kb[m] = make_uint4(0, 0, 0, 0);
            if (j < hiKey) {
                size_t off = kv_offset(blockTable, sel ? sel[j] : j, bs, blockElems, layer, 0, kvHeads, g, D);
                ka[m] = *reinterpret_cast<const uint4 *>(pool + off + c0);
                kb[m] = *reinterpret_cast<const uint4 *>(pool + off + HALF + c0);
            }
        }
    };
    auto load_v = [&](int j0, int stage) {  // raw V rows by cp.async (past the end: the last entry's row)
        bf16 *dst = vring + stage * FG_BK * LD;
#pragma unroll
        for (int m = 0; m < VITEMS; m++) {
            int item = tid + 128 * m;
            int kr = item / (D / 8), c = item % (D / 8);
            int j = min(j0 + kr, hiKey - 1);
            size_t off = kv_offset(blockTable, sel ? sel[j] : j, bs, blockElems, layer, 0, kvHeads, g, D) + valueOffset;
            cp_async16(dst + kr * LD + 8 * c, pool + off + 8 * c);
        }
        asm volatile("cp.async.commit_group;\n" ::);
    };
    auto load_k_staged = [&](int j0) {  // rotated K (hi + lo) of tile j0 / 64 from the staging kernel, by cp.async
        const bf16 *src = staged + ((size_t) g * stagedTiles + j0 / FG_BK) * (TERMS * FG_BK * D);
#pragma unroll
        for (int m = 0; m < VITEMS; m++) {
            int item = tid + 128 * m;
            int kr = item / (D / 8), c = item % (D / 8);
            cp_async16(kh + kr * LD + 8 * c, src + kr * D + 8 * c);
            if (SPLIT) cp_async16(kl + kr * LD + 8 * c, src + FG_BK * D + kr * D + 8 * c);
        }
    };
    if (nTiles > 0) {
        if (staged) {
            load_k_staged(loKey);
        } else {
            load_k(loKey);
        }
        load_v(loKey, 0);  // commits this tile's group (with the staged K)
    }

    float o[DT][4];
#pragma unroll
    for (int j = 0; j < DT; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[j][e] = 0.f;
    float mrow[2] = {NEG_INF, NEG_INF}, lrow[2] = {0.f, 0.f};

    for (int t = 0; t < nTiles; t++) {
        int j0 = loKey + t * FG_BK;
        if (staged) {
            // K and V of this tile were requested one tile ago (or before the loop)
            asm volatile("cp.async.wait_group 0;\n" ::);
            __syncthreads();
        } else {
            __syncthreads();  // the tile before is consumed (the first time: Q and freq are staged)
            // this tile's keys rotated at their entry positions into K (hi + lo), once for the whole block
#pragma unroll
            for (int m = 0; m < KITEMS; m++) {
                int item = tid + 128 * m;
                int kr = item / CH, c0 = (item % CH) * 8;
                uint32_t ah[4], al[4], bh[4], bl[4];
                rotate_pack8<MODE>(ka[m], kb[m], (float) (j0 + kr), freq + c0, ah, al, bh, bl);
                *reinterpret_cast<uint4 *>(&kh[kr * LD + c0]) = make_uint4(ah[0], ah[1], ah[2], ah[3]);
                *reinterpret_cast<uint4 *>(&kh[kr * LD + HALF + c0]) = make_uint4(bh[0], bh[1], bh[2], bh[3]);
                if (SPLIT) {
                    *reinterpret_cast<uint4 *>(&kl[kr * LD + c0]) = make_uint4(al[0], al[1], al[2], al[3]);
                    *reinterpret_cast<uint4 *>(&kl[kr * LD + HALF + c0]) = make_uint4(bl[0], bl[1], bl[2], bl[3]);
                }
            }
            // the next tile's loads go out while this one is computed
            if (t + 1 < nTiles) {
                load_k(j0 + FG_BK);
                load_v(j0 + FG_BK, (t + 1) & 1);
            } else {
                asm volatile("cp.async.commit_group;\n" ::);
            }
            asm volatile("cp.async.wait_group 1;\n" ::);  // this tile's V rows have landed
            __syncthreads();
        }

        // S = Q K^T for this warp's 16 rows and the tile's 64 keys
        float s[NT][4];
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[j][e] = 0.f;
        const bf16 *qrow = qh + (warp * 16 + (lane & 15)) * LD + (lane >> 4) * 8;
        const bf16 *qrowl = ql + (warp * 16 + (lane & 15)) * LD + (lane >> 4) * 8;
        int krow = (lane & 7) + ((lane >> 4) << 3);
        int kcol = ((lane >> 3) & 1) * 8;
#pragma unroll
        for (int k = 0; k < KS; k++) {
            uint32_t a[4], b[4];
            ldmatrix_x4(qrow + 16 * k, a[0], a[1], a[2], a[3]);
            if (SPLIT) ldmatrix_x4(qrowl + 16 * k, b[0], b[1], b[2], b[3]);
#pragma unroll
            for (int j = 0; j < NT; j += 2) {
                uint32_t h0, h1, h2, h3, l0, l1, l2, l3;
                ldmatrix_x4(kh + (8 * j + krow) * LD + 16 * k + kcol, h0, h1, h2, h3);
                if (SPLIT) {
                    ldmatrix_x4(kl + (8 * j + krow) * LD + 16 * k + kcol, l0, l1, l2, l3);
                    mma_bf16_16816(s[j], b[0], b[1], b[2], b[3], h0, h1);
                    mma_bf16_16816(s[j], a[0], a[1], a[2], a[3], l0, l1);
                    mma_bf16_16816(s[j + 1], b[0], b[1], b[2], b[3], h2, h3);
                    mma_bf16_16816(s[j + 1], a[0], a[1], a[2], a[3], l2, l3);
                }
                if (F16) {
                    mma_f16_16816(s[j], a[0], a[1], a[2], a[3], h0, h1);
                    mma_f16_16816(s[j + 1], a[0], a[1], a[2], a[3], h2, h3);
                } else {
                    mma_bf16_16816(s[j], a[0], a[1], a[2], a[3], h0, h1);
                    mma_bf16_16816(s[j + 1], a[0], a[1], a[2], a[3], h2, h3);
                }
            }
        }

        if (staged) {
            __syncthreads();  // every warp has read this tile's K: the next one may land in its place
            if (t + 1 < nTiles) {
                load_k_staged(j0 + FG_BK);
                load_v(j0 + FG_BK, (t + 1) & 1);
            }
        }

        // mask; online softmax of rows rowA and rowA + 8; s becomes the tile's weights
        float corr[2];
        fg_softmax_tile<NT>(&s[0][0], true, j0, t4, posA, posB, hiKey, window, mrow, lrow, corr);
        uint32_t ph[NT / 2][4], pl[NT / 2][4];
#pragma unroll
        for (int j = 0; j < NT; j++) {
            const float *p = s[j];
            // C fragments of two adjacent n8 tiles form the A fragment of one k16 step
            int kk = j >> 1, hi = (j & 1) * 2;
            if (PSPLIT) {
                split_bf16x2(p[0], p[1], ph[kk][hi], pl[kk][hi]);
                split_bf16x2(p[2], p[3], ph[kk][hi + 1], pl[kk][hi + 1]);
            } else {
                ph[kk][hi] = pack_bf16x2(p[0], p[1]);
                ph[kk][hi + 1] = pack_bf16x2(p[2], p[3]);
            }
        }
        fg_rescale<DT>(&o[0][0], corr);
        // O += P V over the tile's 64 keys (V fragments by ldmatrix.trans: keys +0 | +8 x dims +0 | +8)
        const bf16 *vs = vring + (t & 1) * FG_BK * LD;
#pragma unroll
        for (int kk = 0; kk < NT / 2; kk++) {
            const bf16 *vrow = vs + (16 * kk + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + (lane >> 4) * 8;
#pragma unroll
            for (int j = 0; j < DT; j += 2) {
                uint32_t v0, v1, v2, v3;
                ldmatrix_x4_trans(vrow + 8 * j, v0, v1, v2, v3);
                mma_bf16_16816(o[j], ph[kk][0], ph[kk][1], ph[kk][2], ph[kk][3], v0, v1);
                mma_bf16_16816(o[j + 1], ph[kk][0], ph[kk][1], ph[kk][2], ph[kk][3], v2, v3);
                if (PSPLIT) {
                    mma_bf16_16816(o[j], pl[kk][0], pl[kk][1], pl[kk][2], pl[kk][3], v0, v1);
                    mma_bf16_16816(o[j + 1], pl[kk][0], pl[kk][1], pl[kk][2], pl[kk][3], v2, v3);
                }
            }
        }
    }
    asm volatile("cp.async.wait_group 0;\n" ::);

    fg_store_rows<DT>(&o[0][0], mrow, lrow, PA, PB, rowsTotal, group, g, n, H, t4, partial, out, ldo);
}

// Keys of entries [0, kvLen) rotated at their entry positions once per prefill chunk and layer, for
// every block of flash_gqa to copy (each block would otherwise rotate every key itself: once per 64
// packed rows). Layout: staged[kvHead][tile][hi (, lo)][64][D]; entries past kvLen stage zeros.
// grid (tiles, kvHeads), block 128.
template <int D, int MODE>
__device__ __forceinline__ void flash_gqa_stage_body(const bf16 *__restrict__ pool, long long blockElems,
                                                     const int *__restrict__ blockTable, int bs, int layer,
                                                     int kvHeads, int kvLen, const float *__restrict__ invFreq,
                                                     const int *__restrict__ sel, int tiles, bf16 *__restrict__ staged) {
    constexpr int HALF = D / 2;
    constexpr int CH = HALF / 8;
    constexpr int TERMS = MODE == FG_SPLIT ? 2 : 1;
    int t = blockIdx.x, g = blockIdx.y;
    bf16 *dst = staged + ((size_t) g * tiles + t) * (TERMS * FG_BK * D);
    for (int item = threadIdx.x; item < FG_BK * CH; item += blockDim.x) {
        int kr = item / CH, c0 = (item % CH) * 8;
        int j = t * FG_BK + kr;
        uint4 ka = make_uint4(0, 0, 0, 0), kb = make_uint4(0, 0, 0, 0);
        if (j < kvLen) {
            size_t off = kv_offset(blockTable, sel ? sel[j] : j, bs, blockElems, layer, 0, kvHeads, g, D);
            ka = *reinterpret_cast<const uint4 *>(pool + off + c0);
            kb = *reinterpret_cast<const uint4 *>(pool + off + HALF + c0);
        }
        uint32_t ah[4], al[4], bh[4], bl[4];
        rotate_pack8<MODE>(ka, kb, (float) j, invFreq + c0, ah, al, bh, bl);
        *reinterpret_cast<uint4 *>(&dst[kr * D + c0]) = make_uint4(ah[0], ah[1], ah[2], ah[3]);
        *reinterpret_cast<uint4 *>(&dst[kr * D + HALF + c0]) = make_uint4(bh[0], bh[1], bh[2], bh[3]);
        if (TERMS == 2) {
            *reinterpret_cast<uint4 *>(&dst[FG_BK * D + kr * D + c0]) = make_uint4(al[0], al[1], al[2], al[3]);
            *reinterpret_cast<uint4 *>(&dst[FG_BK * D + kr * D + HALF + c0]) = make_uint4(bl[0], bl[1], bl[2], bl[3]);
        }
    }
}

#define FG_ENTRY(NAME, D, MODE)                                                                                 \
    extern "C" __global__ void __launch_bounds__(128, 2) NAME(                                                  \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *blockTable, int bs,     \
            int layer, int kvHeads, int kvLen, int qPos0, int n, int window, const float *invFreq, int group,   \
            float scale, float *out, int ldo, int tilesPerSplit, float *partial, const int *sel,                \
            const bf16 *staged, int stagedTiles) { PDL_BEGIN();                                                 \
        flash_gqa_body<D, MODE>(q, ldq, pool, blockElems, blockTable, bs, layer, kvHeads, kvLen, qPos0, n,       \
                                window, invFreq, group, scale, out, ldo, tilesPerSplit, partial, sel, staged,    \
                                stagedTiles);                                                                    \
    }

#define FG_STAGE_ENTRY(NAME, D, MODE)                                                                           \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                     \
            const bf16 *pool, long long blockElems, const int *blockTable, int bs, int layer, int kvHeads,      \
            int kvLen, const float *invFreq, const int *sel, int tiles, bf16 *staged) { PDL_BEGIN();            \
        flash_gqa_stage_body<D, MODE>(pool, blockElems, blockTable, bs, layer, kvHeads, kvLen, invFreq, sel,     \
                                      tiles, staged);                                                           \
    }

FG_ENTRY(flash_gqa_d64, 64, FG_SPLIT)
FG_ENTRY(flash_gqa_d128, 128, FG_SPLIT)
FG_ENTRY(flash_gqa_f16_d64, 64, FG_F16)
FG_ENTRY(flash_gqa_f16_d128, 128, FG_F16)
FG_ENTRY(flash_gqa_bf16_d64, 64, FG_BF16)
FG_ENTRY(flash_gqa_bf16_d128, 128, FG_BF16)
FG_STAGE_ENTRY(flash_gqa_stage_d64, 64, FG_SPLIT)
FG_STAGE_ENTRY(flash_gqa_stage_d128, 128, FG_SPLIT)
FG_STAGE_ENTRY(flash_gqa_stage_f16_d64, 64, FG_F16)
FG_STAGE_ENTRY(flash_gqa_stage_f16_d128, 128, FG_F16)
FG_STAGE_ENTRY(flash_gqa_stage_bf16_d64, 64, FG_BF16)
FG_STAGE_ENTRY(flash_gqa_stage_bf16_d128, 128, FG_BF16)
