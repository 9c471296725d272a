// K/V append into the paged pool (bf16). K is stored WITHOUT RoPE (DESIGN.md "KV storage"); attention
// rotates it on read. Also a standalone RoPE kernel (used by tests and by callers that need rotated q).
#include "common.cuh"

/**
 * Writes the K and V rows of n tokens at positions pos0 + i: k/v are fp32 [n, ld] (head g at g*d).
 * grid (n, kvHeads), block 128.
 */
extern "C" __global__ void kv_append(const float *__restrict__ k, const float *__restrict__ v, int ld,
                                     bf16 *__restrict__ pool, long long blockElems, const int *__restrict__ blockTable,
                                     int bs, int layer, int kvHeads, int d, int pos0, int n) { PDL_BEGIN();
    int i = blockIdx.x, g = blockIdx.y;
    if (i >= n) return;
    size_t ko = kv_offset(blockTable, pos0 + i, bs, blockElems, layer, 0, kvHeads, g, d);
    size_t vo = ko + (size_t) kvHeads * bs * d;
    const float *ks = k + (size_t) i * ld + (size_t) g * d;
    const float *vsrc = v + (size_t) i * ld + (size_t) g * d;
    for (int e = threadIdx.x; e < d; e += blockDim.x) {
        pool[ko + e] = __float2bfloat16_rn(ks[e]);
        pool[vo + e] = __float2bfloat16_rn(vsrc[e]);
    }
}

/** In-place RoPE of rows x[i, h*d ...] at position pos0 + i. grid (n, heads), block 64. */
extern "C" __global__ void rope_rows(float *x, int ld, int d, const float *__restrict__ invFreq, int pos0, int n) { PDL_BEGIN();
    int i = blockIdx.x, h = blockIdx.y;
    int half = d >> 1;
    float *row = x + (size_t) i * ld + (size_t) h * d;
    for (int e = threadIdx.x; e < half; e += blockDim.x) {
        float a, b;
        rope_pair(row[e], row[e + half], invFreq[e], pos0 + i, a, b);
        row[e] = a;
        row[e + half] = b;
    }
}
