// Prefill GEMM on tensor cores: Y[m, n] = (accumulate ? Y[m, n] : 0) + bias[n] + sum_k X[m, k] * W[n, k]
// X fp32 [M, K], W bf16 [N, K] (HF [out, in] layout), Y fp32 with row stride ldy. mma.sync m16n8k16
// bf16 with fp32 accumulation. X is staged as two bf16 terms, hi = bf16(x) and lo = bf16(x - hi), and
// both are multiplied (X W^T = hi W^T + lo W^T): activations keep ~16 mantissa bits instead of 8, so
// a prefill through many layers stays as close to an fp32 reference as the bf16 weights allow.
// Needs K % 8 == 0 (checked on the host).
// Block tile 64 (M) x 64 (N) x 32 (K), 128 threads = 2 x 2 warps of 32 x 32.
#include "common.cuh"

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 32
#define GEMM_PAD 8

extern "C" __global__ void __launch_bounds__(128) gemm_bf16_tc(const float *__restrict__ X, const bf16 *__restrict__ W,
                                                float *__restrict__ Y, const float *__restrict__ bias,
                                                int M, int N, int K, int ldy, int accumulate) {
    __shared__ __align__(16) bf16 As[GEMM_BM][GEMM_BK + GEMM_PAD];
    __shared__ __align__(16) bf16 Al[GEMM_BM][GEMM_BK + GEMM_PAD];
    __shared__ __align__(16) bf16 Bs[GEMM_BN][GEMM_BK + GEMM_PAD];

    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int g = lane >> 2, t = lane & 3;
    int wm = warp >> 1, wn = warp & 1;
    int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;

    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    for (int k0 = 0; k0 < K; k0 += GEMM_BK) {
        // X tile: 64 rows x 32 cols fp32 = 512 float4; 4 per thread. K % 8 == 0, so a float4 never straddles K.
#pragma unroll
        for (int it = 0; it < 4; it++) {
            int idx = tid + it * 128;
            int row = idx >> 3, c4 = (idx & 7) * 4;
            int gm = m0 + row, gk = k0 + c4;
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (gm < M && gk < K) v = *reinterpret_cast<const float4 *>(X + (size_t) gm * K + gk);
            uint2 p, q;
            p.x = pack_bf16x2(v.x, v.y);
            p.y = pack_bf16x2(v.z, v.w);
            float hx, hy, hz, hw;
            unpack_bf16x2(p.x, hx, hy);
            unpack_bf16x2(p.y, hz, hw);
            q.x = pack_bf16x2(v.x - hx, v.y - hy);
            q.y = pack_bf16x2(v.z - hz, v.w - hw);
            *reinterpret_cast<uint2 *>(&As[row][c4]) = p;
            *reinterpret_cast<uint2 *>(&Al[row][c4]) = q;
        }
        // W tile: 64 rows x 32 cols bf16 = 256 uint4; 2 per thread.
#pragma unroll
        for (int it = 0; it < 2; it++) {
            int idx = tid + it * 128;
            int row = idx >> 2, c8 = (idx & 3) * 8;
            int gn = n0 + row, gk = k0 + c8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (gn < N && gk < K) v = *reinterpret_cast<const uint4 *>(W + (size_t) gn * K + gk);
            *reinterpret_cast<uint4 *>(&Bs[row][c8]) = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk += 16) {
            uint32_t a[2][4], al[2][4], b[4][2];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                int r = wm * 32 + i * 16 + g;
                a[i][0] = *reinterpret_cast<const uint32_t *>(&As[r][kk + 2 * t]);
                a[i][1] = *reinterpret_cast<const uint32_t *>(&As[r + 8][kk + 2 * t]);
                a[i][2] = *reinterpret_cast<const uint32_t *>(&As[r][kk + 2 * t + 8]);
                a[i][3] = *reinterpret_cast<const uint32_t *>(&As[r + 8][kk + 2 * t + 8]);
                al[i][0] = *reinterpret_cast<const uint32_t *>(&Al[r][kk + 2 * t]);
                al[i][1] = *reinterpret_cast<const uint32_t *>(&Al[r + 8][kk + 2 * t]);
                al[i][2] = *reinterpret_cast<const uint32_t *>(&Al[r][kk + 2 * t + 8]);
                al[i][3] = *reinterpret_cast<const uint32_t *>(&Al[r + 8][kk + 2 * t + 8]);
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int c = wn * 32 + j * 8 + g;
                b[j][0] = *reinterpret_cast<const uint32_t *>(&Bs[c][kk + 2 * t]);
                b[j][1] = *reinterpret_cast<const uint32_t *>(&Bs[c][kk + 2 * t + 8]);
            }
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    mma_bf16_16816(acc[i][j], al[i][0], al[i][1], al[i][2], al[i][3], b[j][0], b[j][1]);
                    mma_bf16_16816(acc[i][j], a[i][0], a[i][1], a[i][2], a[i][3], b[j][0], b[j][1]);
                }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int m = m0 + wm * 32 + i * 16 + g + (e >= 2 ? 8 : 0);
                int n = n0 + wn * 32 + j * 8 + 2 * t + (e & 1);
                if (m < M && n < N) {
                    float v = acc[i][j][e];
                    if (bias) v += bias[n];
                    float *dst = Y + (size_t) m * ldy + n;
                    if (accumulate) v = *dst + v;
                    *dst = v;
                }
            }
        }
    }
}
