// RMSNorm: out = x * rsqrt(mean(x^2) + eps) * w, fp32 in/out, fp32 weight (norm vectors are tiny
// and kept in fp32 on the device; see CudaBackend).
#include "common.cuh"

/** One block (256 threads) per row of `dim`. In place allowed (out == x). grid (rows). */
extern "C" __global__ void rmsnorm_rows(float *out, const float *x, const float *__restrict__ w,
                                        int rows, int dim, float eps) { PDL_BEGIN();
    int r = blockIdx.x;
    if (r >= rows) return;
    const float *xr = x + (size_t) r * dim;
    float *o = out + (size_t) r * dim;
    float ss = 0.f;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) {
        float v = xr[c];
        ss += v * v;
    }
    ss = block_sum(ss);
    float inv = 1.0f / sqrtf(ss / dim + eps);
    for (int c = threadIdx.x; c < dim; c += blockDim.x) o[c] = (xr[c] * inv) * w[c];
}

/** One warp per row (per-head q/k norm over headDim). In place allowed. grid ceil(rows/8), block 256. */
extern "C" __global__ void rmsnorm_heads(float *out, const float *x, const float *__restrict__ w,
                                         int rows, int dim, float eps) { PDL_BEGIN();
    int r = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (r >= rows) return;
    const float *xr = x + (size_t) r * dim;
    float *o = out + (size_t) r * dim;
    float ss = 0.f;
    for (int c = lane; c < dim; c += 32) {
        float v = xr[c];
        ss += v * v;
    }
    ss = warp_sum(ss);
    float inv = 1.0f / sqrtf(ss / dim + eps);
    for (int c = lane; c < dim; c += 32) o[c] = (xr[c] * inv) * w[c];
}
