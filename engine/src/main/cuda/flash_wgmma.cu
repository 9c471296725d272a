// Prefill attention on Hopper's warpgroup MMA (sm_90a; included after wgmma.cu, whose descriptor,
// swizzle and fence helpers it uses), head dim 128: the contract of flash_gqa.cu's staged fp16 path (a block per
// 64 packed (token, head) rows of one KV head, causal, a TokenSelect entry list, split-K partials
// for attn_combine; no sliding window), with both products of a 64-key tile on wgmma:
//   S = Q K^T: Q (rotated, scaled by scale * log2 e, fp16) as the A operand from registers, loaded
//       once per block; the tile's rotated keys (fp16) as B from shared memory;
//   O += P V: P (fp16, from S's accumulators in registers: the accumulator layout is the A
//       fragment layout) as A; V^T (fp16) as B from shared memory.
// Both B tiles are K-major in the 128-byte swizzle (rows of 64 16-bit values), so a staging kernel
// writes each 64-key tile once per chunk and layer as the exact image a block copies by cp.async:
// the keys rotated at their entry positions [D / 64 sub-tiles][64 keys][64 dims], then V transposed
// [D dims][64 keys], both fp16 (V converted from bf16: exact for |v| in fp16's normal range, as in an
// fp16 KV cache). The softmax is fp32 in base 2, online across tiles, as in flash_gqa.cu.
// grid (ceil(n G / 64), kvHeads, nsplit), block 128 (one warpgroup); dynamic shared memory
// FW_SHARED_BYTES(D): two stages of (K, V^T) tiles, the second one holding the Q tile the fragments
// are loaded from until the second key tile arrives (65 KiB for d 128: three blocks per SM).
#include "flash_common.cuh"

#define FW_KEYS FG_BK  // keys per tile, as flash_gqa.cu (fg_keys counts tiles of FG_BK)
#define FW_K_BYTES(D) (FW_KEYS * (D) * 2)
#define FW_TILE_BYTES(D) (2 * FW_K_BYTES(D))
#define FW_SHARED_BYTES(D) (2 * FW_TILE_BYTES(D) + 1024)

/** Byte offset of dims [dim, dim + 8) of key kr in a staged K tile (64-dim swizzled sub-tiles). */
__device__ __forceinline__ uint32_t fw_k_chunk(int kr, int dim) {
    return (uint32_t) ((dim >> 6) * (FW_KEYS * 128) + kr * 128 + ((((dim & 63) >> 3) ^ (kr & 7)) << 4));
}

// Staging: tile t of KV head g, entries [64 t, 64 t + 64) (zeros past kvLen). grid (tiles, kvHeads), block 128.
template <int D>
__device__ __forceinline__ void flash_wg_stage_body(const bf16 *__restrict__ pool, long long blockElems,
                                                    const int *__restrict__ blockTable, int bs, int layer,
                                                    int kvHeads, int kvLen, const float *__restrict__ invFreq,
                                                    const int *__restrict__ sel, int tiles,
                                                    unsigned char *__restrict__ staged) {
    constexpr int HALF = D / 2;
    constexpr int CH = HALF / 8;
    __shared__ __align__(16) bf16 vrows[FW_KEYS][D + FG_PAD];
    int t = blockIdx.x, g = blockIdx.y, tid = threadIdx.x;
    unsigned char *dst = staged + ((size_t) g * tiles + t) * FW_TILE_BYTES(D);
    size_t valueOffset = (size_t) kvHeads * bs * D;
    for (int item = tid; item < FW_KEYS * CH; item += blockDim.x) {
        int kr = item / CH, c0 = (item % CH) * 8;
        int j = t * FW_KEYS + kr;
        uint4 ka = make_uint4(0, 0, 0, 0), kb = make_uint4(0, 0, 0, 0);
        if (j < kvLen) {
            size_t off = kv_offset(blockTable, sel ? sel[j] : j, bs, blockElems, layer, 0, kvHeads, g, D);
            ka = *reinterpret_cast<const uint4 *>(pool + off + c0);
            kb = *reinterpret_cast<const uint4 *>(pool + off + HALF + c0);
        }
        uint32_t ah[4], al[4], bh[4], bl[4];
        rotate_pack8<FG_F16>(ka, kb, (float) j, invFreq + c0, ah, al, bh, bl);  // as flash_gqa's f16 path
        *reinterpret_cast<uint4 *>(dst + fw_k_chunk(kr, c0)) = make_uint4(ah[0], ah[1], ah[2], ah[3]);
        *reinterpret_cast<uint4 *>(dst + fw_k_chunk(kr, HALF + c0)) = make_uint4(bh[0], bh[1], bh[2], bh[3]);
    }
    for (int item = tid; item < FW_KEYS * (D / 8); item += blockDim.x) {
        int kr = item / (D / 8), c = item % (D / 8);
        int j = t * FW_KEYS + kr;
        uint4 v = make_uint4(0, 0, 0, 0);
        if (j < kvLen) {
            size_t off = kv_offset(blockTable, sel ? sel[j] : j, bs, blockElems, layer, 0, kvHeads, g, D) + valueOffset;
            v = *reinterpret_cast<const uint4 *>(pool + off + 8 * c);
        }
        *reinterpret_cast<uint4 *>(&vrows[kr][8 * c]) = v;
    }
    __syncthreads();
    // V^T: row = dim, 16-byte chunk q = keys [8 q, 8 q + 8); dims fastest across threads (no bank conflicts)
    unsigned char *vt = dst + FW_K_BYTES(D);
    for (int item = tid; item < D * 8; item += blockDim.x) {
        int dim = item % D, q = item / D;
        uint32_t w[4];
#pragma unroll
        for (int u = 0; u < 4; u++) {
            w[u] = pack_f16x2(__bfloat162float(vrows[8 * q + 2 * u][dim]), __bfloat162float(vrows[8 * q + 2 * u + 1][dim]));
        }
        *reinterpret_cast<uint4 *>(vt + dim * 128 + ((q ^ (dim & 7)) << 4)) = make_uint4(w[0], w[1], w[2], w[3]);
    }
}

#if WG_HAVE_WGMMA
// m64nNk16, fp16 inputs, fp32 accumulators: A from registers, B by descriptor (K-major)
#define FW_D8(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3]), "+f"(d[i + 4]), "+f"(d[i + 5]), \
                 "+f"(d[i + 6]), "+f"(d[i + 7])
__device__ __forceinline__ void wgmma_rs_f16_m64n64k16(float *d, const uint32_t *a, uint64_t descB, int accumulate) {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "setp.ne.b32 p, %37, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 "
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21,"
        " %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
        "{%32, %33, %34, %35}, %36, p, 1, 1, 0;\n"
        "}\n"
        : FW_D8(0), FW_D8(8), FW_D8(16), FW_D8(24)
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "r"(accumulate)
        : "memory");
}
#undef FW_D8

template <int N>
__device__ __forceinline__ void fw_fence(float *d) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}

template <int D>
__device__ __forceinline__ void fw_pv(float *o, const uint32_t *p, uint64_t desc) {
    if constexpr (D == 128) {
        wgmma_rs_f16_m64n128k16(o, p, desc, 1);
    } else {
        wgmma_rs_f16_m64n64k16(o, p, desc, 1);
    }
}
#endif

template <int D>
__device__ __forceinline__ void flash_wg_body(
        const float *__restrict__ q, int ldq, int kvHeads, int kvLen, int qPos0, int n,
        const float *__restrict__ invFreq, int group, float scale, float *__restrict__ out, int ldo,
        int tilesPerSplit, float *__restrict__ partial, const unsigned char *__restrict__ staged, int stagedTiles) {
#if WG_HAVE_WGMMA
    constexpr int HALF = D / 2;
    constexpr int LD = D + FG_PAD;
    constexpr int KS = D / 16;               // k16 steps of Q K^T
    constexpr int NT = FW_KEYS / 8;          // n8 tiles of scores (32 accumulators)
    constexpr int DT = D / 8;                // n8 tiles of the output
    constexpr int TB = FW_TILE_BYTES(D);
    constexpr float LOG2E = 1.4426950408889634f;
    extern __shared__ __align__(128) unsigned char fw_smem[];
    uint32_t raw = (uint32_t) __cvta_generic_to_shared(fw_smem);
    uint32_t base = (raw + 1023) & ~1023u;  // stage s at base + s TB: K tile, then V^T
    __half *qtile = reinterpret_cast<__half *>(fw_smem + (base - raw) + TB);  // stage 1 until tile 1 lands

    int g = blockIdx.y;
    int P0 = blockIdx.x * FG_BR;
    int rowsTotal = n * group;
    int H = kvHeads * group;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int gr = lane >> 2, t4 = lane & 3;

    // the block's queries rotated at their entry positions, scaled by scale * log2(e), in fp16
    float qscale = scale * LOG2E;
    for (int idx = tid; idx < FG_BR * HALF; idx += blockDim.x) {
        int r = idx / HALF, i = idx % HALF;
        float a, b;
        fg_query_pair<D>(q, ldq, invFreq, P0 + r, rowsTotal, group, g, qPos0, qscale, i, a, b);
        qtile[r * LD + i] = __float2half_rn(a);
        qtile[r * LD + i + HALF] = __float2half_rn(b);
    }

    FgKeys keys = fg_keys(P0, group, n, kvLen, qPos0, 0, tilesPerSplit);
    int hiKey = keys.hiKey, loKey = keys.loKey, nTiles = keys.nTiles;
    // keys every row of the block may see: tiles wholly below need no mask
    int minPos = qPos0 + keys.tokFirst;

    int PA = P0 + warp * 16 + gr, PB = PA + 8;
    int posA = fg_row_pos(PA, rowsTotal, group, qPos0), posB = fg_row_pos(PB, rowsTotal, group, qPos0);

    // a tile: its staged image, copied as is (16 or 32 KiB: 8 or 16 chunks per thread), one commit group
    auto load = [&](int t) {
        if (t < nTiles) {
            const unsigned char *src = staged + ((size_t) g * stagedTiles + (loKey / FW_KEYS + t)) * TB;
            uint32_t dst = base + (t & 1) * TB;
#pragma unroll
            for (int c = tid; c < TB / 16; c += 128) {
                asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst + 16 * c), "l"(src + 16 * c));
            }
        }
        asm volatile("cp.async.commit_group;\n" ::);
    };
    load(0);

    __syncthreads();
    uint32_t qa[KS][4];
    {
        const __half *qrow = qtile + (warp * 16 + (lane & 15)) * LD + (lane >> 4) * 8;
#pragma unroll
        for (int k = 0; k < KS; k++) ldmatrix_x4(qrow + 16 * k, qa[k][0], qa[k][1], qa[k][2], qa[k][3]);
    }

    float o[DT * 4];
#pragma unroll
    for (int i = 0; i < DT * 4; i++) o[i] = 0.f;
    float mrow[2] = {NEG_INF, NEG_INF}, lrow[2] = {0.f, 0.f};

    for (int t = 0; t < nTiles; t++) {
        int j0 = loKey + t * FW_KEYS;
        // every warp is done with tile t - 1's stage (its P V waited for below; before tile 0, with the
        // Q tile in stage 1): tile t + 1 may land there
        __syncthreads();
        load(t + 1);
        asm volatile("cp.async.wait_group 1;\n" ::);
        fence_async_shared();
        __syncthreads();
        uint32_t kTile = base + (t & 1) * TB, vTile = kTile + FW_K_BYTES(D);

        float s[NT * 4];
#pragma unroll
        for (int i = 0; i < NT * 4; i++) s[i] = 0.f;
        fw_fence<NT * 4>(s);
        wgmma_fence();
#pragma unroll
        for (int k = 0; k < KS; k++) {
            wgmma_rs_f16_m64n64k16(s, qa[k], wr_desc(kTile + (k >> 2) * (FW_KEYS * 128) + (k & 3) * 32), k > 0);
        }
        wgmma_commit();
        wgmma_wait_all();
        fw_fence<NT * 4>(s);

        // mask (only tiles reaching past the block's first row or the end); online softmax of rows
        // rowA and rowA + 8; s becomes the tile's weights
        bool masked = j0 + FW_KEYS - 1 > minPos || j0 + FW_KEYS > hiKey;
        float corr[2];
        fg_softmax_tile<NT>(s, masked, j0, t4, posA, posB, hiKey, 0, mrow, lrow, corr);
        uint32_t pa[NT / 2][4];
#pragma unroll
        for (int j = 0; j < NT; j++) {
            const float *p = s + 4 * j;
            // C fragments of two adjacent n8 tiles form the A fragment of one k16 step
            int kk = j >> 1, hi = (j & 1) * 2;
            pa[kk][hi] = pack_f16x2(p[0], p[1]);
            pa[kk][hi + 1] = pack_f16x2(p[2], p[3]);
        }
        fg_rescale<DT>(o, corr);
        fw_fence<DT * 4>(o);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < NT / 2; kk++) fw_pv<D>(o, pa[kk], wr_desc(vTile + kk * 32));
        wgmma_commit();
        // waited for here: left in flight across the loop's back edge, ptxas serialises every wgmma
        wgmma_wait_all();
        fw_fence<DT * 4>(o);
    }
    asm volatile("cp.async.wait_group 0;\n" ::);

    fg_store_rows<DT>(o, mrow, lrow, PA, PB, rowsTotal, group, g, n, H, t4, partial, out, ldo);
#endif
}

#define FW_ENTRY(NAME, D)                                                                                       \
    extern "C" __global__ void __launch_bounds__(128, 3) NAME(                                                  \
            const float *q, int ldq, int kvHeads, int kvLen, int qPos0, int n, const float *invFreq, int group, \
            float scale, float *out, int ldo, int tilesPerSplit, float *partial, const unsigned char *staged,  \
            int stagedTiles) { PDL_BEGIN();                                                                     \
        flash_wg_body<D>(q, ldq, kvHeads, kvLen, qPos0, n, invFreq, group, scale, out, ldo, tilesPerSplit,      \
                         partial, staged, stagedTiles);                                                         \
    }

#define FW_STAGE_ENTRY(NAME, D)                                                                                 \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                     \
            const bf16 *pool, long long blockElems, const int *blockTable, int bs, int layer, int kvHeads,      \
            int kvLen, const float *invFreq, const int *sel, int tiles, unsigned char *staged) { PDL_BEGIN();   \
        flash_wg_stage_body<D>(pool, blockElems, blockTable, bs, layer, kvHeads, kvLen, invFreq, sel, tiles,    \
                               staged);                                                                         \
    }

// Head dim 128 only: a d 64 instance passed the checks where a block takes one key tile and failed
// where it takes several (H200), so d 64 stays on flash_gqa.cu.
FW_ENTRY(flash_wg_f16_d128, 128)
FW_STAGE_ENTRY(flash_wg_stage_d128, 128)
