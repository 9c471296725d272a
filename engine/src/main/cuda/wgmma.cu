// Prefill GEMM on Hopper's warpgroup MMA (wgmma), compiled for sm_90a only into its own fatbin
// (build-fatbin.sh): Y[m, n] = (accumulate ? Y : 0) + bias[n] + sum_k X[m, k] W[n, k], X fp32 [M, K],
// W bf16 [N, K], Y fp32 (row stride ldy); the same contract, activation settings and split-K
// workspace as gemm_bf16_tc2 (gemm.cu), which it replaces where the device has wgmma.
//
// Block tile 128 (M) x 128 (N) x 64 (K), 256 threads = two warpgroups of 64 rows each, two stages;
// grid (ceil(M / 128), ceil(N / 128), K shares).
// Each stage holds X (hi, and lo for hi + lo) and W as 16-bit [128][64] tiles in the wgmma's
// no-swizzle K-major layout: 8 x 8 core matrices of 128 contiguous bytes, element (r, k) at
// ((r / 8) * 8 + k / 8) * 64 + (r % 8) * 8 + k % 8; the next core matrix along K is 128 bytes on
// (the descriptor's leading offset), along M or N 1,024 (its stride offset). W arrives by cp.async;
// X is loaded into registers, converted (bf16 hi + lo, bf16 or scaled fp16) and stored by the
// threads while the tensor cores work on the stage before. For fp16 the W tile is widened from bf16
// in place once it has landed. Dynamic shared memory: 2 x 3 x 16 KiB = 96 KiB.
#include "gemm_common.cuh"

#define WG_BM 128
#define WG_BN 128
#define WG_BK 64
#define WG_TILE (128 * 64)  // 16-bit elements of one [128][64] tile

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define WG_HAVE_WGMMA 1
#else
#define WG_HAVE_WGMMA 0
#endif

/** Element offset of (r, k) in a [128][64] tile of the no-swizzle K-major layout. */
__device__ __forceinline__ int wg_offset(int r, int k) {
    return (((r >> 3) << 3) + (k >> 3)) * 64 + (r & 7) * 8 + (k & 7);
}

/** A wgmma shared-memory descriptor: start address, leading (K) offset 128 B, stride (M/N) offset 1,024 B, no swizzle. */
__device__ __forceinline__ uint64_t wg_desc(const void *smem) {
    uint64_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
    return ((addr & 0x3ffff) >> 4) | ((uint64_t) (128 >> 4) << 16) | ((uint64_t) (1024 >> 4) << 32);
}

#if WG_HAVE_WGMMA
/**
 * D (64 x 128 per warpgroup, fp32) (+)= A (64 x 16, K-major) B (16 x 128, K-major), both in shared
 * memory by descriptor; D = A B where accumulate is 0. TY: the inputs' type, "bf16" or "f16".
 */
#define WGMMA_M64N128K16(NAME, TY) \
    __device__ __forceinline__ void NAME(float *d, uint64_t descA, uint64_t descB, int accumulate) { \
        asm volatile( \
        "{\n" \
        ".reg .pred p;\n" \
        "setp.ne.b32 p, %66, 0;\n" \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " " \
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21," \
        "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41," \
        "%42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61," \
        "%62, %63}, " \
        "%64, %65, p, 1, 1, 0, 0;\n" \
        "}\n" \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), \
          "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), \
          "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), \
          "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), \
          "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), \
          "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), \
          "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]) \
        : "l"(descA), "l"(descB), "r"(accumulate) \
        : "memory"); \
    }

WGMMA_M64N128K16(wgmma_bf16_m64n128k16, "bf16")
WGMMA_M64N128K16(wgmma_f16_m64n128k16, "f16")

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_wait_all() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }
/** Keeps the compiler from moving the accumulators across a wgmma issue or wait (they change asynchronously). */
__device__ __forceinline__ void wgmma_fence_operands(float *d) {
#pragma unroll
    for (int i = 0; i < 64; i++) asm volatile("" : "+f"(d[i])::"memory");
}
/** Makes this thread's generic-proxy writes to shared memory visible to the async proxy (wgmma reads). */
__device__ __forceinline__ void fence_async_shared() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
#endif

template <int XM>
__device__ __forceinline__ void gemm_wgmma_body(const float *__restrict__ X, const bf16 *__restrict__ W,
                                                float *__restrict__ Y, const float *__restrict__ bias, int M, int N,
                                                int K, int ldy, int accumulate, const unsigned *__restrict__ xAmax) {
#if WG_HAVE_WGMMA
    constexpr bool SPLIT = XM == G2_HI_LO;
    extern __shared__ __align__(128) unsigned char wg_smem[];
    bf16 *base = reinterpret_cast<bf16 *>(wg_smem);  // stage s: X hi, X lo, W at (3 s + {0, 1, 2}) * WG_TILE
    const float xs = XM == G2_F16 ? f16_scale(__uint_as_float(*xAmax)) : 1.f;
    int tid = threadIdx.x, wg = tid >> 7, lane = tid & 31, warp = (tid >> 5) & 3;
    // blockIdx.x walks M: the blocks of one W tile run together, so it comes from DRAM once, not once
    // per row tile (a layer's W is far larger than L2)
    int m0 = blockIdx.x * WG_BM, n0 = blockIdx.y * WG_BN;

    float4 xr[8];  // this thread's share of the next X tile: 128 x 64 fp32 = 2,048 float4, 8 each
    // float4 q of a tile: rows of 8 consecutive threads differ (conflict-light stores), a warp reads
    // 8 rows x 64 contiguous bytes of each
    auto xPos = [&](int it, int &r, int &k) {
        int q = tid + it * 256;
        r = ((q >> 7) << 3) + (q & 7);
        k = (((q >> 4) & 7) << 3) + (((q >> 3) & 1) << 2);
    };
    auto loadX = [&](int k0) {
#pragma unroll
        for (int it = 0; it < 8; it++) {
            int r, k;
            xPos(it, r, k);
            xr[it] = load_x4(X, M, K, m0 + r, k0 + k);
        }
    };
    auto storeX = [&](int stage) {
        bf16 *xh = base + stage * 3 * WG_TILE;
        bf16 *xl = xh + WG_TILE;
#pragma unroll
        for (int it = 0; it < 8; it++) {
            int r, k;
            xPos(it, r, k);
            int o = wg_offset(r, k);
            store_x4<XM>(xr[it], xh + o, xl + o, xs);
        }
    };
    // W: 128 rows x 8 chunks of 16 bytes = 1,024 chunks, 4 per thread
    auto wPos = [&](int it, int &r, int &kc) {
        int c = tid + it * 256;
        r = ((c >> 6) << 3) + (c & 7);
        kc = (c >> 3) & 7;
    };
    auto loadW = [&](int k0, int stage) {
        bf16 *ws = base + (stage * 3 + 2) * WG_TILE;
#pragma unroll
        for (int it = 0; it < 4; it++) {
            int r, kc;
            wPos(it, r, kc);
            int gn = n0 + r, gk = k0 + kc * 8;
            bf16 *dst = ws + wg_offset(r, kc * 8);
            if (gn < N && gk < K) {
                cp_async16(dst, W + (size_t) gn * K + gk);
            } else {
                *reinterpret_cast<uint4 *>(dst) = make_uint4(0, 0, 0, 0);
            }
        }
        asm volatile("cp.async.commit_group;\n" ::);
    };
    // fp16: the thread widens the W chunks it copied, once they have landed
    auto widenW = [&](int stage) {
        bf16 *ws = base + (stage * 3 + 2) * WG_TILE;
#pragma unroll
        for (int it = 0; it < 4; it++) {
            int r, kc;
            wPos(it, r, kc);
            uint4 *p = reinterpret_cast<uint4 *>(ws + wg_offset(r, kc * 8));
            uint4 v = *p;
            v.x = bf16x2_to_f16x2(v.x);
            v.y = bf16x2_to_f16x2(v.y);
            v.z = bf16x2_to_f16x2(v.z);
            v.w = bf16x2_to_f16x2(v.w);
            *p = v;
        }
    };

    float d[64];
#pragma unroll
    for (int i = 0; i < 64; i++) d[i] = 0.f;

    int tiles = (K + WG_BK - 1) / WG_BK;
    int perSplit = (tiles + gridDim.z - 1) / gridDim.z;
    int kt0 = blockIdx.z * perSplit, kt1 = min(tiles, kt0 + perSplit);
    Y += (size_t) blockIdx.z * M * ldy;
    if (kt0 < kt1) {
        loadW(kt0 * WG_BK, 0);
        loadX(kt0 * WG_BK);
        storeX(0);
    }
    for (int kt = kt0; kt < kt1; kt++) {
        int cur = (kt - kt0) & 1, nxt = cur ^ 1;
        bool more = kt + 1 < kt1;
        asm volatile("cp.async.wait_group 0;\n" ::);  // this stage's W has landed
        if (XM == G2_F16) widenW(cur);
        fence_async_shared();
        __syncthreads();
        const bf16 *xh = base + cur * 3 * WG_TILE + wg * 64 * 64;  // this warpgroup's 64 rows: 8 core rows
        const bf16 *xl = xh + WG_TILE;
        const bf16 *ws = base + (cur * 3 + 2) * WG_TILE;
        wgmma_fence_operands(d);
        wgmma_fence();
#pragma unroll
        for (int s = 0; s < WG_BK / 16; s++) {  // k16 steps: two core matrices along K each
            uint64_t dB = wg_desc(ws + s * 128);
            int acc = kt > kt0 || s > 0 ? 1 : 0;
            if (XM == G2_F16) {
                wgmma_f16_m64n128k16(d, wg_desc(xh + s * 128), dB, acc);
            } else {
                if (SPLIT) {
                    wgmma_bf16_m64n128k16(d, wg_desc(xl + s * 128), dB, acc);
                    acc = 1;
                }
                wgmma_bf16_m64n128k16(d, wg_desc(xh + s * 128), dB, acc);
            }
        }
        wgmma_commit();
        if (more) {  // the other stage was last read by the previous step's products, all waited for
            loadW((kt + 1) * WG_BK, nxt);
            loadX((kt + 1) * WG_BK);
            storeX(nxt);  // converted while the tensor cores work on this stage
        }
        wgmma_wait_all();
        wgmma_fence_operands(d);
        __syncthreads();  // nobody overwrites this stage until every warpgroup's products are done
    }

    // accumulators: warp w of the warpgroup holds rows 16 w + lane / 4 (+ 8), columns 8 j + 2 (lane % 4) (+ 1)
    int rowBase = m0 + wg * 64 + warp * 16 + (lane >> 2);
#pragma unroll
    for (int j = 0; j < 16; j++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            float v = d[4 * j + e];
            if (XM == G2_F16) v /= xs;
            gemm_store(Y, ldy, bias, M, N, rowBase + (e >= 2 ? 8 : 0), n0 + 8 * j + 2 * (lane & 3) + (e & 1), v,
                       accumulate);
        }
    }
#endif
}

GEMM_ENTRY(gemm_wgmma_hilo, gemm_wgmma_body, G2_HI_LO, 1)
GEMM_ENTRY(gemm_wgmma_bf16, gemm_wgmma_body, G2_BF16, 1)
GEMM_ENTRY(gemm_wgmma_f16, gemm_wgmma_body, G2_F16, 1)
