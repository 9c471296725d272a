// Prefill attention on tensor cores (flash-attention style): causal GQA attention of a chunk of n
// queries over the paged bf16 cache, full attention with an optional sliding window. A block takes
// one query head and 64 queries (16 per warp), walks the keys in tiles of 64 with an online softmax,
// and never materialises the score matrix. With a selected entry list (TokenSelect), entry j is token
// sel[j] rotated at position j (compacted positions) and kvLen is the number of entries. With gridDim.z > 1 each block takes one range of key tiles
// (split-K, for chunks with few queries over a long cache) and writes its unnormalised partial state
// (max, sum, accumulator) for attn_combine.
//
// Precision: the dot products Q K^T run as bf16 mma.sync with both operands split into hi + lo bf16
// terms (Qhi Khi + Qlo Khi + Qhi Klo: about 16 mantissa bits, close to the fp32 kernel), keys rotated
// in fp32 on the way into shared memory; P V runs in fp16 (P in [0, 1], V's bf16 values are exact in
// fp16), fp32 accumulation throughout.
#include "common.cuh"

#define FA_BQ 64
#define FA_BK 64
#define FA_PAD 8

__device__ __forceinline__ void mma_bf16(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    mma_bf16_16816(c, a[0], a[1], a[2], a[3], b0, b1);
}

__device__ __forceinline__ void mma_f16(float *c, const uint32_t *a, uint32_t b0, uint32_t b1) {
    mma_f16_16816(c, a[0], a[1], a[2], a[3], b0, b1);
}

template <int D>
__device__ __forceinline__ void flash_prefill_body(
        const float *__restrict__ q, int ldq, const bf16 *__restrict__ pool, long long blockElems,
        const int *__restrict__ blockTable, int bs, int layer, int kvHeads, int kvLen, int qPos0, int n, int window,
        const float *__restrict__ invFreq, int group, float scale, float *__restrict__ out, int ldo,
        int tilesPerSplit, float *__restrict__ partial, const int *__restrict__ sel, const bf16 *__restrict__ staged,
        int stagedTiles) {
    constexpr int HALF = D / 2;
    constexpr int LD = D + FA_PAD;        // row stride of Q and K tiles (bf16)
    constexpr int LDV = FA_BK + FA_PAD;   // row stride of the transposed V tile (fp16)
    constexpr int NT = FA_BK / 8;         // n8 tiles of scores per warp row block
    constexpr int DT = D / 8;             // n8 tiles of the output
    extern __shared__ __align__(16) unsigned char fa_smem[];
    bf16 *qh = reinterpret_cast<bf16 *>(fa_smem);
    bf16 *ql = qh + FA_BQ * LD;
    bf16 *kh = ql + FA_BQ * LD;
    bf16 *kl = kh + FA_BK * LD;
    __half *vt = reinterpret_cast<__half *>(kl + FA_BK * LD);

    int h = blockIdx.y, g = h / group;
    int i0 = blockIdx.x * FA_BQ;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int gr = lane >> 2, t4 = lane & 3;

    // queries: rotated at their positions, scaled, split into hi + lo
    for (int idx = tid; idx < FA_BQ * HALF; idx += blockDim.x) {
        int r = idx / HALF, i = idx % HALF;
        float a = 0.f, b = 0.f;
        if (i0 + r < n) {
            const float *src = q + (size_t) (i0 + r) * ldq + (size_t) h * D;
            rope_pair(src[i], src[i + HALF], invFreq[i], qPos0 + i0 + r, a, b);
            a *= scale;
            b *= scale;
        }
        store_split(&qh[r * LD + i], &ql[r * LD + i], a);
        store_split(&qh[r * LD + i + HALF], &ql[r * LD + i + HALF], b);
    }

    float o[DT][4];
#pragma unroll
    for (int j = 0; j < DT; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[j][e] = 0.f;
    float mrow[2] = {NEG_INF, NEG_INF}, lrow[2] = {0.f, 0.f};
    int rowA = warp * 16 + gr;  // this thread's rows within the tile: rowA and rowA + 8
    int posA = qPos0 + i0 + rowA, posB = posA + 8;

    int lastPos = qPos0 + min(n, i0 + FA_BQ) - 1;
    int hiKey = min(kvLen, lastPos + 1);
    int loKey = window > 0 ? max(0, qPos0 + i0 - window + 1) : 0;
    loKey = (loKey / FA_BK) * FA_BK;
    int endKey = hiKey;
    if (gridDim.z > 1) {  // this split's range of key tiles (no sliding window with splits)
        loKey = blockIdx.z * tilesPerSplit * FA_BK;
        endKey = min(hiKey, loKey + tilesPerSplit * FA_BK);
    }

    for (int j0 = loKey; j0 < endKey; j0 += FA_BK) {
        __syncthreads();  // the previous tile is consumed (the first time: Q is staged)
        if (staged != nullptr) {  // copied from the tiles flash_stage rotated once for every block
            const bf16 *skh = staged + ((size_t) g * stagedTiles + j0 / FA_BK) * (3 * FA_BK * D);
            const bf16 *skl = skh + FA_BK * D;
            const __half *svt = reinterpret_cast<const __half *>(skl + FA_BK * D);
            for (int idx = tid; idx < FA_BK * (D / 8); idx += blockDim.x) {
                int r = idx / (D / 8), c = (idx % (D / 8)) * 8;
                *reinterpret_cast<uint4 *>(&kh[r * LD + c]) = *reinterpret_cast<const uint4 *>(&skh[r * D + c]);
                *reinterpret_cast<uint4 *>(&kl[r * LD + c]) = *reinterpret_cast<const uint4 *>(&skl[r * D + c]);
            }
            for (int idx = tid; idx < D * (FA_BK / 8); idx += blockDim.x) {
                int r = idx / (FA_BK / 8), c = (idx % (FA_BK / 8)) * 8;
                *reinterpret_cast<uint4 *>(&vt[r * LDV + c]) = *reinterpret_cast<const uint4 *>(&svt[r * FA_BK + c]);
            }
        } else {
            // K tile rotated at the keys' positions (hi + lo), V tile transposed to fp16
            for (int idx = tid; idx < FA_BK * (HALF / 8); idx += blockDim.x) {
                int kr = idx / (HALF / 8), c0 = (idx % (HALF / 8)) * 8;
                int j = j0 + kr;
                bool valid = j < hiKey;
                stage_rotated_kv<HALF>(pool, blockTable, bs, blockElems, layer, kvHeads, g,
                                       sel != nullptr && valid ? sel[j] : j, j, valid, c0, invFreq, kh, kl, LD, vt, LDV,
                                       kr);
            }
        }
        __syncthreads();

        // S = Q K^T for this warp's 16 rows and the tile's 64 keys
        float s[NT][4];
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[j][e] = 0.f;
#pragma unroll
        for (int kk = 0; kk < D; kk += 16) {
            uint32_t ah[4], al[4];
            const bf16 *qa = qh + rowA * LD + kk + 2 * t4;
            const bf16 *qb = ql + rowA * LD + kk + 2 * t4;
            ah[0] = *reinterpret_cast<const uint32_t *>(qa);
            ah[1] = *reinterpret_cast<const uint32_t *>(qa + 8 * LD);
            ah[2] = *reinterpret_cast<const uint32_t *>(qa + 8);
            ah[3] = *reinterpret_cast<const uint32_t *>(qa + 8 * LD + 8);
            al[0] = *reinterpret_cast<const uint32_t *>(qb);
            al[1] = *reinterpret_cast<const uint32_t *>(qb + 8 * LD);
            al[2] = *reinterpret_cast<const uint32_t *>(qb + 8);
            al[3] = *reinterpret_cast<const uint32_t *>(qb + 8 * LD + 8);
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const bf16 *kp = kh + (j * 8 + gr) * LD + kk + 2 * t4;
                const bf16 *kq = kl + (j * 8 + gr) * LD + kk + 2 * t4;
                uint32_t bh0 = *reinterpret_cast<const uint32_t *>(kp);
                uint32_t bh1 = *reinterpret_cast<const uint32_t *>(kp + 8);
                uint32_t bl0 = *reinterpret_cast<const uint32_t *>(kq);
                uint32_t bl1 = *reinterpret_cast<const uint32_t *>(kq + 8);
                mma_bf16(s[j], al, bh0, bh1);
                mma_bf16(s[j], ah, bl0, bl1);
                mma_bf16(s[j], ah, bh0, bh1);
            }
        }

        // mask, online softmax (rows rowA and rowA + 8; a row's 64 columns live in one quad)
        float tmax[2] = {NEG_INF, NEG_INF};
#pragma unroll
        for (int j = 0; j < NT; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int key = j0 + j * 8 + 2 * t4 + (e & 1);
                int pos = e < 2 ? posA : posB;
                bool ok = key < hiKey && key <= pos && (window <= 0 || key > pos - window);
                if (!ok) s[j][e] = NEG_INF;
                tmax[e >> 1] = fmaxf(tmax[e >> 1], s[j][e]);
            }
        }
        float corr[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            tmax[r] = fmaxf(tmax[r], __shfl_xor_sync(0xffffffffu, tmax[r], 1));
            tmax[r] = fmaxf(tmax[r], __shfl_xor_sync(0xffffffffu, tmax[r], 2));
            float mNew = fmaxf(mrow[r], tmax[r]);
            corr[r] = mNew == NEG_INF ? 1.f : expf(mrow[r] - mNew);
            mrow[r] = mNew;
            lrow[r] *= corr[r];
        }
        uint32_t pa[NT / 2][4];
#pragma unroll
        for (int j = 0; j < NT; j++) {
            float p[4];
#pragma unroll
            for (int e = 0; e < 4; e++) {
                float m = mrow[e >> 1];
                p[e] = (s[j][e] == NEG_INF) ? 0.f : expf(s[j][e] - m);
                lrow[e >> 1] += p[e];
            }
            // C fragments of two adjacent n8 tiles form the A fragment of one k16 step
            int kk = j >> 1;
            if ((j & 1) == 0) {
                pa[kk][0] = pack_f16x2(p[0], p[1]);
                pa[kk][1] = pack_f16x2(p[2], p[3]);
            } else {
                pa[kk][2] = pack_f16x2(p[0], p[1]);
                pa[kk][3] = pack_f16x2(p[2], p[3]);
            }
        }
#pragma unroll
        for (int j = 0; j < DT; j++) {
            o[j][0] *= corr[0];
            o[j][1] *= corr[0];
            o[j][2] *= corr[1];
            o[j][3] *= corr[1];
        }
        // O += P V
#pragma unroll
        for (int kk = 0; kk < NT / 2; kk++) {
#pragma unroll
            for (int j = 0; j < DT; j++) {
                const __half *vp = vt + (j * 8 + gr) * LDV + kk * 16 + 2 * t4;
                uint32_t b0 = *reinterpret_cast<const uint32_t *>(vp);
                uint32_t b1 = *reinterpret_cast<const uint32_t *>(vp + 8);
                mma_f16(o[j], pa[kk], b0, b1);
            }
        }
    }

    // row sums across the quad, normalise, write
#pragma unroll
    for (int r = 0; r < 2; r++) {
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 1);
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 2);
    }
    if (gridDim.z > 1) {  // partial state of rows rowA, rowA + 8: [split][row][head][max, sum, acc[D]]
#pragma unroll
        for (int r = 0; r < 2; r++) {
            int row = i0 + rowA + 8 * r;
            if (row >= n) continue;
            float *pr = partial + (((size_t) blockIdx.z * n + row) * gridDim.y + h) * (D + 2);
            if (t4 == 0) {
                pr[0] = mrow[r];
                pr[1] = lrow[r];
            }
#pragma unroll
            for (int j = 0; j < DT; j++) {
                int col = j * 8 + 2 * t4;
                pr[2 + col] = o[j][2 * r];
                pr[3 + col] = o[j][2 * r + 1];
            }
        }
        return;
    }
    float inv[2] = {lrow[0] > 0.f ? 1.f / lrow[0] : 0.f, lrow[1] > 0.f ? 1.f / lrow[1] : 0.f};
#pragma unroll
    for (int j = 0; j < DT; j++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            int row = i0 + rowA + (e >= 2 ? 8 : 0);
            if (row < n) {
                int col = j * 8 + 2 * t4 + (e & 1);
                out[(size_t) row * ldo + (size_t) h * D + col] = o[j][e] * inv[e >> 1];
            }
        }
    }
}

#define FA_ENTRY(NAME, D)                                                                                        \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                     \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *blockTable, int bs,     \
            int layer, int kvHeads, int kvLen, int qPos0, int n, int window, const float *invFreq, int group,   \
            float scale, float *out, int ldo, int tilesPerSplit, float *partial, const int *sel,                \
            const bf16 *staged, int stagedTiles) { PDL_BEGIN();                                                              \
        flash_prefill_body<D>(q, ldq, pool, blockElems, blockTable, bs, layer, kvHeads, kvLen, qPos0, n, window, \
                              invFreq, group, scale, out, ldo, tilesPerSplit, partial, sel, staged, stagedTiles); \
    }

FA_ENTRY(flash_prefill_d64, 64)
FA_ENTRY(flash_prefill_d128, 128)

/**
 * Rotates the keys of entries [0, kvLen) once for all the blocks of a prefill chunk: for KV head g and
 * 64-key tile t, K hi + lo (64 x D bf16 each, rows of D) and V transposed to fp16 (D x 64), laid out
 * as the flash kernel's shared tiles without their padding; entries past kvLen are zeros. With a
 * selection, entry j is token sel[j]. grid (tiles, kvHeads), block 128.
 */
template <int D>
__device__ __forceinline__ void flash_stage_body(const bf16 *__restrict__ pool, long long blockElems,
                                                 const int *__restrict__ blockTable, int bs, int layer, int kvHeads,
                                                 int kvLen, const float *__restrict__ invFreq,
                                                 const int *__restrict__ sel, int tiles, bf16 *__restrict__ staged) {
    constexpr int HALF = D / 2;
    int t = blockIdx.x, g = blockIdx.y;
    bf16 *kh = staged + ((size_t) g * tiles + t) * (3 * FA_BK * D);
    bf16 *kl = kh + FA_BK * D;
    __half *vt = reinterpret_cast<__half *>(kl + FA_BK * D);
    for (int idx = threadIdx.x; idx < FA_BK * (HALF / 8); idx += blockDim.x) {
        int kr = idx / (HALF / 8), c0 = (idx % (HALF / 8)) * 8;
        int j = t * FA_BK + kr;
        bool valid = j < kvLen;
        stage_rotated_kv<HALF>(pool, blockTable, bs, blockElems, layer, kvHeads, g, sel != nullptr && valid ? sel[j] : j,
                               j, valid, c0, invFreq, kh, kl, D, vt, FA_BK, kr);
    }
}

#define FA_STAGE_ENTRY(NAME, D)                                                                                  \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                     \
            const bf16 *pool, long long blockElems, const int *blockTable, int bs, int layer, int kvHeads,      \
            int kvLen, const float *invFreq, const int *sel, int tiles, bf16 *staged) { PDL_BEGIN();                         \
        flash_stage_body<D>(pool, blockElems, blockTable, bs, layer, kvHeads, kvLen, invFreq, sel, tiles,        \
                            staged);                                                                            \
    }

FA_STAGE_ENTRY(flash_stage_d64, 64)
FA_STAGE_ENTRY(flash_stage_d128, 128)
