// Prefill GEMMs on Hopper's warpgroup MMA (wgmma), compiled for sm_90a only into its own fatbin
// (build-fatbin.sh): Y[m, n] = (accumulate ? Y : 0) + bias[n] + sum_k X[m, k] W[n, k], W bf16 [N, K],
// Y fp32 (row stride ldy); the contract and split-K workspace of gemm_bf16_tc2 (gemm.cu), which they
// replace where the device has wgmma, for the fp16 and bf16 activation settings.
//
// X arrives already rounded to 16 bits in global memory (x16_f16 / x16_bf16 / x16_rows_f16 /
// swiglu_rows_f16 in gemm.cu, fp16 scaled by the power of two its max |x| asks for, of all of X or
// of each row), so both tiles of a stage come by cp.async with no thread
// touching them, into the 128-byte-swizzled layout the descriptors read without bank conflicts. The
// operands are swapped: the tensor cores compute Y^T = W X^T, W as the A operand from registers
// (ldmatrix, then widened bf16 -> fp16 in registers for fp16, so W itself stays bf16 in memory) and X
// as B from shared memory by descriptor.
//
// Block tile 128 W rows (two warpgroups of 64) x 128 tokens x 64 k, 256 threads, three stages of
// (W tile, X tile), 16 KiB each, two blocks per SM; grid (ceil(M / 128)
// tokens, ceil(N / 128) rows, K shares), tokens first so the blocks sharing a W tile run together (a
// layer's W is far larger than L2). A 16-bit [128][64] tile: row r at 128 r bytes, its 16-byte chunk
// c at chunk c ^ (r % 8) (the 128-byte swizzle; tiles 1,024-byte aligned).
#include "gemm_common.cuh"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define WG_HAVE_WGMMA 1
#else
#define WG_HAVE_WGMMA 0
#endif

#if WG_HAVE_WGMMA
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

#define WR_TILE_BYTES (128 * 64 * 2)

/** Byte offset of 16-byte chunk kc (8 elements along K) of row r in a swizzled [128][64] tile. */
__device__ __forceinline__ uint32_t wr_chunk(int r, int kc) {
    return (uint32_t) (r * 128 + ((kc ^ (r & 7)) << 4));
}

/** Descriptor of a K-major operand in the 128-byte-swizzled layout: stride offset 1,024 B (8 rows). */
__device__ __forceinline__ uint64_t wr_desc(uint32_t smemAddr) {
    return (uint64_t) ((smemAddr & 0x3ffff) >> 4) | ((uint64_t) (16 >> 4) << 16) | ((uint64_t) (1024 >> 4) << 32)
           | (1ull << 62);
}

/** 16 bytes to shared memory by cp.async, zeros where valid is false (nothing is read then). */
__device__ __forceinline__ void cp_async16_zfill(uint32_t dst, const void *src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0));
}

#if WG_HAVE_WGMMA
/** D (64 x 128 per warpgroup, fp32) (+)= A (64 x 16, registers: the mma.m16n8k16 A fragment of each warp's 16 rows) B (16 x 128, K-major, by descriptor). */
#define WGMMA_RS_M64N128K16(NAME, TY) \
    __device__ __forceinline__ void NAME(float *d, const uint32_t *a, uint64_t descB, int accumulate) { \
        asm volatile( \
        "{\n" \
        ".reg .pred p;\n" \
        "setp.ne.b32 p, %69, 0;\n" \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " " \
        "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21," \
        "%22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41," \
        "%42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61," \
        "%62, %63}, " \
        "{%64, %65, %66, %67}, %68, p, 1, 1, 0;\n" \
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
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB), "r"(accumulate) \
        : "memory"); \
    }

WGMMA_RS_M64N128K16(wgmma_rs_bf16_m64n128k16, "bf16")
WGMMA_RS_M64N128K16(wgmma_rs_f16_m64n128k16, "f16")
#endif

/**
 * The body of the 16-bit GEMMs: three stages, two blocks per SM. Each k tile's products are waited
 * for before the next tile's fragments are loaded; the other block on the SM keeps the tensor cores
 * busy meanwhile. (Measured on an H200 against four and five stages with one block per SM, the
 * products overlapping the next tile, W from shared memory widened in place there: fp16 423 against
 * 320 and 335 TFLOP/s on the 7B's gate|up; with W from registers ptxas serialises such products.)
 */
template <int XM>
__device__ __forceinline__ void gemm_wgmma_rs_body(const uint16_t *__restrict__ X, const bf16 *__restrict__ W,
                                                   float *__restrict__ Y, const float *__restrict__ bias, int M,
                                                   int N, int K, int ldy, int accumulate,
                                                   const unsigned *__restrict__ xAmax,
                                                   const float *__restrict__ rowScale) {
#if WG_HAVE_WGMMA
    extern __shared__ __align__(128) unsigned char wr_smem[];
    uint32_t raw = (uint32_t) __cvta_generic_to_shared(wr_smem);
    uint32_t base = (raw + 1023) & ~1023u;  // stage s: W tile at base + 2 s T, X tile at base + (2 s + 1) T
    // fp16: one scale for all of X (xAmax), or one per row (rowScale, where not null)
    const float xs = XM == G2_F16 && rowScale == nullptr ? f16_scale(__uint_as_float(*xAmax)) : 1.f;
    int tid = threadIdx.x, wg = tid >> 7, lane = tid & 31, warp = (tid >> 5) & 3;
    int m0 = blockIdx.x * 128, n0 = blockIdx.y * 128;

    int tiles = (K + 63) / 64;
    int perSplit = (tiles + gridDim.z - 1) / gridDim.z;
    int kt0 = blockIdx.z * perSplit, kt1 = min(tiles, kt0 + perSplit);
    Y += (size_t) blockIdx.z * M * ldy;
    constexpr int STAGES = 3;

    // a stage: 1,024 chunks of W and 1,024 of X, 4 + 4 per thread; chunk c: row c / 8, k chunk c % 8;
    // then one commit group (empty where kt is past the share, so waits always count the same)
    auto load = [&](int kt) {
        if (kt < kt1) {
            uint32_t ws = base + 2 * ((kt - kt0) % STAGES) * WR_TILE_BYTES, xsm = ws + WR_TILE_BYTES;
            int k0 = kt * 64;
#pragma unroll
            for (int it = 0; it < 4; it++) {
                int c = tid + it * 256, r = c >> 3, kc = c & 7, gk = k0 + kc * 8;
                bool inK = gk < K;
                int gn = n0 + r, gm = m0 + r;
                cp_async16_zfill(ws + wr_chunk(r, kc), (gn < N && inK) ? W + (size_t) gn * K + gk : W, gn < N && inK);
                cp_async16_zfill(xsm + wr_chunk(r, kc), (gm < M && inK) ? X + (size_t) gm * K + gk : X,
                                 gm < M && inK);
            }
        }
        asm volatile("cp.async.commit_group;\n" ::);
    };
    // this lane's ldmatrix row (of its warp's 16 W rows) and k half
    int aRow = wg * 64 + warp * 16 + (lane & 15), aHalf = lane >> 4;
    // the A fragments of tile kt's four k16 steps (W rows, widened to fp16 for fp16)
    auto loadA = [&](int kt, uint32_t (&a)[4][4]) {
        uint32_t ws = base + 2 * ((kt - kt0) % STAGES) * WR_TILE_BYTES;
#pragma unroll
        for (int s = 0; s < 4; s++) {
            asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                         : "=r"(a[s][0]), "=r"(a[s][1]), "=r"(a[s][2]), "=r"(a[s][3])
                         : "r"(ws + wr_chunk(aRow, 2 * s + aHalf)));
            if (XM == G2_F16) {
#pragma unroll
                for (int e = 0; e < 4; e++) a[s][e] = bf16x2_to_f16x2(a[s][e]);
            }
        }
    };
    float d[64];
#pragma unroll
    for (int i = 0; i < 64; i++) d[i] = 0.f;
    // tile kt's products, committed as one group
    auto mma = [&](int kt, const uint32_t (&a)[4][4]) {
        uint32_t xsm = base + (2 * ((kt - kt0) % STAGES) + 1) * WR_TILE_BYTES;
        wgmma_fence_operands(d);
        wgmma_fence();
#pragma unroll
        for (int s = 0; s < 4; s++) {
            uint64_t dB = wr_desc(xsm + s * 32);  // k16 step s: 32 bytes on inside the swizzle atom
            int acc = kt > kt0 || s > 0 ? 1 : 0;
            if (XM == G2_F16) {
                wgmma_rs_f16_m64n128k16(d, a[s], dB, acc);
            } else {
                wgmma_rs_bf16_m64n128k16(d, a[s], dB, acc);
            }
        }
        wgmma_commit();
    };
    for (int s = 0; s < STAGES - 1; s++) load(kt0 + s);
    for (int kt = kt0; kt < kt1; kt++) {
        // stage kt's copies landed (this thread's; at most STAGES - 2 younger groups outstanding),
        // visible to the tensor cores, and everyone's; both warpgroups are done with kt - 1
        asm volatile("cp.async.wait_group %0;\n" ::"n"(STAGES - 2));
        fence_async_shared();
        __syncthreads();
        uint32_t a[4][4];
        loadA(kt, a);
        mma(kt, a);
        load(kt + STAGES - 1);  // into the slot of kt - 1
        wgmma_wait_all();
        wgmma_fence_operands(d);
    }
    asm volatile("cp.async.wait_group 0;\n" ::);

    // accumulators: D is Y^T; warp w of the warpgroup holds W rows 16 w + lane / 4 (+ 8), tokens
    // 8 j + 2 (lane % 4) (+ 1)
    int nBase = n0 + wg * 64 + warp * 16 + (lane >> 2);
#pragma unroll
    for (int j = 0; j < 16; j++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            int m = m0 + 8 * j + 2 * (lane & 3) + (e & 1);
            float v = d[4 * j + e];
            if (XM == G2_F16) v /= rowScale != nullptr ? (m < M ? rowScale[m] : 1.f) : xs;
            gemm_store(Y, ldy, bias, M, N, m, nBase + (e >= 2 ? 8 : 0), v, accumulate);
        }
    }
#endif
}

/**
 * The GEMMs on wgmma: X16 is X rounded to fp16 (scaled by the power of two of xAmax, or per row by
 * rowScale where that is not null) or bf16, [M, K] with K % 8 == 0; otherwise the contract of gemm.cu.
 */
#define WGMMA_RS_ENTRY(NAME, XM)                                                                                 \
    extern "C" __global__ void __launch_bounds__(256, 2) NAME(const uint16_t *__restrict__ X16,                  \
            const bf16 *__restrict__ W, float *__restrict__ Y, const float *__restrict__ bias, int M, int N, int K, \
            int ldy, int accumulate, const unsigned *__restrict__ xAmax,                                         \
            const float *__restrict__ rowScale) { PDL_BEGIN();                                                   \
        gemm_wgmma_rs_body<XM>(X16, W, Y, bias, M, N, K, ldy, accumulate, xAmax, rowScale);                     \
    }

WGMMA_RS_ENTRY(gemm_wgmma_f16, G2_F16)
WGMMA_RS_ENTRY(gemm_wgmma_bf16, G2_BF16)
