// Embedding gather, SwiGLU, residual add, bias add.
#include "common.cuh"

/** out[i, :] = table[tokens[i], :] (bf16 -> fp32). grid (n), block 256. */
extern "C" __global__ void embed_bf16(const bf16 *__restrict__ table, const int *__restrict__ tokens,
                                      float *__restrict__ out, int n, int hidden) { PDL_BEGIN();
    int i = blockIdx.x;
    if (i >= n) return;
    const bf16 *row = table + (size_t) tokens[i] * hidden;
    float *o = out + (size_t) i * hidden;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) o[c] = bf2f(row[c]);
}

/** gate[i] = silu(gate[i]) * up[i]. grid ceil(count/256), block 256. */
extern "C" __global__ void swiglu_f32(float *__restrict__ gate, const float *__restrict__ up, int count) { PDL_BEGIN();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) {
        gate[i] = silu_mul(gate[i], up[i]);
    }
}

/**
 * out[r, i] = silu(gu[r, i]) * gu[r, ffn + i] for rows of gate|up (2 ffn floats each, as one GEMM
 * writes them), out compact (ffn floats per row). grid (ceil(ffn / 256), rows), block 256.
 */
extern "C" __global__ void swiglu_rows_to(const float *__restrict__ gu, float *__restrict__ out, int ffn) { PDL_BEGIN();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= ffn) return;
    const float *row = gu + (size_t) blockIdx.y * 2 * ffn;
    out[(size_t) blockIdx.y * ffn + i] = silu_mul(row[i], row[ffn + i]);
}

/** x[i] += y[i]. grid ceil(count/256), block 256. */
extern "C" __global__ void add_f32(float *__restrict__ x, const float *__restrict__ y, int count) { PDL_BEGIN();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < count) x[i] += y[i];
}

/** y[r, c] += bias[c] for rows x cols. grid ceil(rows*cols/256), block 256. */
extern "C" __global__ void add_bias_f32(float *__restrict__ y, const float *__restrict__ bias, int rows, int cols) { PDL_BEGIN();
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < (long long) rows * cols) y[i] += bias[i % cols];
}

/** dst[i] = float(src[i]) for a block of the KV pool leaving the device. grid ceil(n/256), block 256. */
extern "C" __global__ void bf16_to_f32(float *__restrict__ dst, const bf16 *__restrict__ src, long long n) { PDL_BEGIN();
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = bf2f(src[i]);
}

/** dst[i] = bf16(src[i]) (round to nearest even) for a block restored into the KV pool. */
extern "C" __global__ void f32_to_bf16(bf16 *__restrict__ dst, const float *__restrict__ src, long long n) { PDL_BEGIN();
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = __float2bfloat16_rn(src[i]);
}
