// Decode GEMV: y[r] = (accumulate ? y[r] : 0) + (bias ? bias[r] : 0) + sum_c W[r, c] * x[c]
// W bf16 row-major [rows, cols] read with 16-byte loads (8 bf16), x fp32, fp32 accumulation.
// Memory-bound: each warp streams ROWS rows at once so every lane has several loads in flight.
#include "common.cuh"

template <int ROWS>
__device__ __forceinline__ void gemv_body(const bf16 *__restrict__ W, const float *__restrict__ x,
                                          float *__restrict__ y, const float *__restrict__ bias,
                                          int rows, int cols, int accumulate) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int r0 = (blockIdx.x * (blockDim.x >> 5) + warp) * ROWS;
    if (r0 >= rows) return;
    float acc[ROWS];
#pragma unroll
    for (int k = 0; k < ROWS; k++) acc[k] = 0.f;

    if ((cols & 7) == 0) {
        int chunks = cols >> 3;
        const uint4 *wrow[ROWS];
#pragma unroll
        for (int k = 0; k < ROWS; k++) {
            int r = min(r0 + k, rows - 1);
            wrow[k] = reinterpret_cast<const uint4 *>(W + (size_t) r * cols);
        }
        const float4 *x4 = reinterpret_cast<const float4 *>(x);
#pragma unroll 2
        for (int c = lane; c < chunks; c += 32) {
            float4 xa = __ldg(x4 + 2 * c);
            float4 xb = __ldg(x4 + 2 * c + 1);
            uint4 w[ROWS];
#pragma unroll
            for (int k = 0; k < ROWS; k++) {
                // streamed once per token: don't keep the weights in L1
                w[k] = __ldcs(wrow[k] + c);
            }
#pragma unroll
            for (int k = 0; k < ROWS; k++) {
                float a, b;
                unpack_bf16x2(w[k].x, a, b);
                acc[k] = fmaf(a, xa.x, acc[k]);
                acc[k] = fmaf(b, xa.y, acc[k]);
                unpack_bf16x2(w[k].y, a, b);
                acc[k] = fmaf(a, xa.z, acc[k]);
                acc[k] = fmaf(b, xa.w, acc[k]);
                unpack_bf16x2(w[k].z, a, b);
                acc[k] = fmaf(a, xb.x, acc[k]);
                acc[k] = fmaf(b, xb.y, acc[k]);
                unpack_bf16x2(w[k].w, a, b);
                acc[k] = fmaf(a, xb.z, acc[k]);
                acc[k] = fmaf(b, xb.w, acc[k]);
            }
        }
    } else {
        for (int c = lane; c < cols; c += 32) {
            float xv = x[c];
#pragma unroll
            for (int k = 0; k < ROWS; k++) {
                int r = min(r0 + k, rows - 1);
                acc[k] = fmaf(bf2f(W[(size_t) r * cols + c]), xv, acc[k]);
            }
        }
    }
#pragma unroll
    for (int k = 0; k < ROWS; k++) acc[k] = warp_sum(acc[k]);
    if (lane == 0) {
#pragma unroll
        for (int k = 0; k < ROWS; k++) {
            int r = r0 + k;
            if (r < rows) {
                float v = acc[k];
                if (bias) v += bias[r];
                if (accumulate) v = y[r] + v;
                y[r] = v;
            }
        }
    }
}

/** One row per warp. grid ceil(rows / (blockDim/32)), block 256. */
extern "C" __global__ void __launch_bounds__(256) gemv_bf16_r1(const bf16 *__restrict__ W, const float *__restrict__ x,
                                           float *__restrict__ y, const float *__restrict__ bias,
                                           int rows, int cols, int accumulate) { PDL_BEGIN();
    gemv_body<1>(W, x, y, bias, rows, cols, accumulate);
}

/** Four rows per warp (large matrices). grid ceil(rows / (4 * blockDim/32)), block 256. */
extern "C" __global__ void __launch_bounds__(256) gemv_bf16_r4(const bf16 *__restrict__ W, const float *__restrict__ x,
                                           float *__restrict__ y, const float *__restrict__ bias,
                                           int rows, int cols, int accumulate) { PDL_BEGIN();
    gemv_body<4>(W, x, y, bias, rows, cols, accumulate);
}
