// Batched GEMV on the tensor cores, for decode steps of many sequences: Y[b, n] (row stride ldy) =
// (accumulate ? Y : 0) + bias[n] + sum_k X[b, k] W[n, k] for b < B <= 16, W bf16 [N, K], X fp32 rows
// of stride ldx (already normalised where the layer norms its input), fp32 accumulation.
//
// The CUDA-core GEMVs (decode.cu) multiply every weight by every vector one FMA at a time, so past a
// few vectors a step is bound by their instructions, not by the weights' bytes. Here mma.m16n8k16
// does it: W rows are the A operand, the B <= 16 vectors two n8 tiles of B (X as bf16 hi + lo, two
// products, about 16 mantissa bits; W exact).
//
// A block takes 16 RG weight rows; its TCG_WARPS warps split K in chunks of 64 and sum their partial
// products through shared memory at the end. Inside a chunk the k index is permuted so that every
// thread loads contiguous bytes: thread (g, t) of a warp holds, for k16 step s, the fragment slots
// {2t, 2t + 1, 2t + 8, 2t + 9} of the mma layout, which here are physical k = 16 t + 4 s + {0, 1, 2,
// 3} of the chunk; A and B use the same permutation, and a sum over k does not depend on its order.
// So a thread reads 32 contiguous bytes of each of its W rows (rows g and g + 8 of a row group) and
// 64 of each of its vectors (tokens g and g + 8) per chunk.
// K % 64 == 0, ldx % 4 == 0; grid (ceil(N / (16 RG))), block 32 TCG_WARPS.
#include "common.cuh"

#define TCG_WARPS 8

template <int RG>
__device__ __forceinline__ void gemv_batch_tc_body(const bf16 *__restrict__ W, const float *__restrict__ X, int ldx,
                                                   float *__restrict__ Y, int ldy, const float *__restrict__ bias,
                                                   int N, int K, int B, int accumulate) {
    __shared__ float part[TCG_WARPS][16 * RG][16];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int n0 = blockIdx.x * 16 * RG;
    bool tile1 = B > 8;  // the second n8 tile of vectors (8..15) is all padding otherwise

    float c[RG][2][4];
#pragma unroll
    for (int r = 0; r < RG; r++)
#pragma unroll
        for (int j = 0; j < 2; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) c[r][j][e] = 0.f;

    int chunks = K / 64;
    for (int ch = warp; ch < chunks; ch += TCG_WARPS) {
        int k0 = ch * 64 + 16 * t;
        // this thread's 16 k of rows g and g + 8 of each row group (zeros past N)
        uint4 w[RG][2][2];
#pragma unroll
        for (int r = 0; r < RG; r++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int n = n0 + 16 * r + g + 8 * h;
                const uint4 *src = reinterpret_cast<const uint4 *>(W + (size_t) n * K + k0);
                w[r][h][0] = n < N ? __ldg(src) : make_uint4(0, 0, 0, 0);
                w[r][h][1] = n < N ? __ldg(src + 1) : make_uint4(0, 0, 0, 0);
            }
        // vectors g and g + 8 at the same 16 k, as bf16 hi + lo pairs (zeros past B)
        uint32_t xh[2][8], xl[2][8];
#pragma unroll
        for (int j = 0; j < 2; j++) {
            int b = g + 8 * j;
            const float4 *src = reinterpret_cast<const float4 *>(X + (size_t) b * ldx + k0);
#pragma unroll
            for (int q = 0; q < 4; q++) {
                float4 v = (b < B && (j == 0 || tile1)) ? src[q] : make_float4(0.f, 0.f, 0.f, 0.f);
                split_bf16x2(v.x, v.y, xh[j][2 * q], xl[j][2 * q]);
                split_bf16x2(v.z, v.w, xh[j][2 * q + 1], xl[j][2 * q + 1]);
            }
        }
#pragma unroll
        for (int s = 0; s < 4; s++) {  // k16 step s: this thread's words 2 s and 2 s + 1 of its 16 k
#pragma unroll
            for (int r = 0; r < RG; r++) {
                const uint32_t *lo = reinterpret_cast<const uint32_t *>(&w[r][0][0]);  // row g: 8 words
                const uint32_t *hi = reinterpret_cast<const uint32_t *>(&w[r][1][0]);  // row g + 8
                uint32_t a0 = lo[2 * s], a1 = hi[2 * s], a2 = lo[2 * s + 1], a3 = hi[2 * s + 1];
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    if (j == 1 && !tile1) continue;
                    mma_bf16_16816(c[r][j], a0, a1, a2, a3, xh[j][2 * s], xh[j][2 * s + 1]);
                    mma_bf16_16816(c[r][j], a0, a1, a2, a3, xl[j][2 * s], xl[j][2 * s + 1]);
                }
            }
        }
    }

    // C fragment: rows g (+ 8) of the row group, vectors 8 j + 2 t (+ 1)
#pragma unroll
    for (int r = 0; r < RG; r++)
#pragma unroll
        for (int j = 0; j < 2; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                part[warp][16 * r + g + (e >= 2 ? 8 : 0)][8 * j + 2 * t + (e & 1)] = c[r][j][e];
            }
    __syncthreads();
    for (int i = threadIdx.x; i < 16 * RG * 16; i += blockDim.x) {
        int row = i >> 4, b = i & 15, n = n0 + row;
        if (b >= B || n >= N) continue;
        float v = 0.f;
#pragma unroll
        for (int q = 0; q < TCG_WARPS; q++) v += part[q][row][b];  // warps in order: no dependence on timing
        if (bias) v += bias[n];
        float *dst = Y + (size_t) b * ldy + n;
        *dst = accumulate ? *dst + v : v;
    }
}

extern "C" __global__ void __launch_bounds__(32 * TCG_WARPS) gemv_batch_tc_r1(
        const bf16 *__restrict__ W, const float *__restrict__ X, int ldx, float *__restrict__ Y, int ldy,
        const float *__restrict__ bias, int N, int K, int B, int accumulate) { PDL_BEGIN();
    gemv_batch_tc_body<1>(W, X, ldx, Y, ldy, bias, N, K, B, accumulate);
}

extern "C" __global__ void __launch_bounds__(32 * TCG_WARPS) gemv_batch_tc_r2(
        const bf16 *__restrict__ W, const float *__restrict__ X, int ldx, float *__restrict__ Y, int ldy,
        const float *__restrict__ bias, int N, int K, int B, int accumulate) { PDL_BEGIN();
    gemv_batch_tc_body<2>(W, X, ldx, Y, ldy, bias, N, K, B, accumulate);
}
