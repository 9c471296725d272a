// Shared helpers of the TokenSelect CUDA kernels. Every kernel computes in fp32; weights and the KV
// cache are stored in bf16. Entry points are extern "C" so the Java side finds them by name.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

typedef __nv_bfloat16 bf16;

#define NEG_INF (-__int_as_float(0x7f800000))

/**
 * Programmatic dependent launch (sm_90+): a kernel launched with programmatic stream serialization
 * may start while the kernel before it is still running. Every kernel therefore waits for its
 * predecessor's completion (griddepcontrol.wait: its writes visible) before it reads or writes any
 * global memory that kernel might touch, and then lets its own successor be scheduled. Only reads of
 * data no kernel writes (weights) may come before PDL_BEGIN. Launched without the attribute, or before
 * sm_90, both are no-ops.
 */
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

#define PDL_BEGIN()                \
    do {                           \
        pdl_wait();                \
        pdl_launch_dependents();   \
    } while (0)

__device__ __forceinline__ float bf2f(bf16 x) { return __bfloat162float(x); }

__device__ __forceinline__ float bfbits2f(uint32_t bits16) { return __uint_as_float(bits16 << 16); }

/** The two bf16 of a 32-bit word as floats (low half first, as stored in memory). */
__device__ __forceinline__ void unpack_bf16x2(uint32_t w, float &lo, float &hi) {
    lo = __uint_as_float(w << 16);
    hi = __uint_as_float(w & 0xffff0000u);
}

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/** silu(g) * u: SwiGLU of one gate and up value, the same expression in every kernel that computes it. */
__device__ __forceinline__ float silu_mul(float g, float u) {
    float silu = g / (1.0f + expf(-g));
    return silu * u;
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/**
 * Sum (MAX false) or max (MAX true) over a block of blockDim.x (a multiple of 32, at most 1024)
 * threads; every thread gets it.
 */
template <bool MAX>
__device__ __forceinline__ float block_reduce(float v) {
    __shared__ float red[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = MAX ? warp_max(v) : warp_sum(v);
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < warps ? red[lane] : (MAX ? -INFINITY : 0.f);
    return MAX ? warp_max(v) : warp_sum(v);
}

__device__ __forceinline__ float block_sum(float v) { return block_reduce<false>(v); }

__device__ __forceinline__ float block_max(float v) { return block_reduce<true>(v); }

/**
 * HF rotate_half RoPE of the pair (a, b) = (x[i], x[i + d/2]) at `pos`: angle = pos * invFreq[i] in
 * fp32, each product rounded separately (no FMA), as the CPU reference and PyTorch do.
 */
__device__ __forceinline__ void rope_pair(float a, float b, float invFreq, int pos, float &outA, float &outB) {
    float angle = __fmul_rn((float) pos, invFreq);
    float s, c;
    sincosf(angle, &s, &c);
    outA = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
    outB = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
}

/**
 * Paged KV pool layout (bf16), one block of `bs` tokens:
 *   [layer][K | V][kvHead][slot][headDim]
 * `blockElems` = 2 * layers * kvHeads * bs * headDim elements per block.
 */
__device__ __forceinline__ size_t kv_offset(const int *blockTable, int token, int bs, long long blockElems,
                                            int layer, int isValue, int kvHeads, int g, int d) {
    int block = blockTable[token / bs];
    int slot = token % bs;
    return (size_t) block * (size_t) blockElems
           + ((size_t) (2 * layer + isValue) * kvHeads + g) * (size_t) bs * d + (size_t) slot * d;
}

/**
 * sin and cos of an fp32 angle with an explicit range reduction: x = k * 2pi + r (2pi split in two
 * floats, Cody-Waite), then the hardware approximation on [-pi, pi] (abs. error ~4e-7). sincosf's
 * slow path for |x| > 1e5 (positions past ~100K) would otherwise dominate attention over long contexts.
 */
__device__ __forceinline__ void sincos_reduced(float x, float *s, float *c) {
    float k = rintf(x * 0.15915494309189535f);
    float r = fmaf(-k, 6.28318548202514648f, x);
    r = fmaf(k, 1.7484555e-7f, r);
    __sincosf(r, s, c);
}

/** D (16x8, fp32) += A (16x16, bf16, row) * B (16x8, bf16, col): one tensor-core step. */
__device__ __forceinline__ void mma_bf16_16816(float *c, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                               uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

#include <cuda_fp16.h>

/** D (16x8, fp32) += A (16x16, f16, row) * B (16x8, f16, col). */
__device__ __forceinline__ void mma_f16_16816(float *c, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                              uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_f16x2(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/** Splits x into bf16 hi + lo (x - hi, rounded) and stores both: ~16 mantissa bits through bf16 tensor cores. */
__device__ __forceinline__ void store_split(bf16 *hi, bf16 *lo, float x) {
    bf16 h = __float2bfloat16_rn(x);
    *hi = h;
    *lo = __float2bfloat16_rn(x - __bfloat162float(h));
}

/**
 * The end of a split-K decode attention block: merges its 4 warps' online-softmax states for the GQA
 * group's G heads (wm, wl: [4][8]; wacc: [4][8][D], flat), then writes the output rows (nsplit == 1) or
 * this split's partials (max, sum, acc) for attn_combine. Called by the whole block after a barrier.
 */
template <int D>
__device__ __forceinline__ void decode_merge_warps(const float *wm, const float *wl, const float *wacc, int G, int g,
                                                   int b, int split, int nsplit, int B, int H,
                                                   float *__restrict__ out, int ldo, float *__restrict__ partial) {
    for (int idx = threadIdx.x; idx < G * D; idx += blockDim.x) {
        int h = idx / D, dd = idx % D;
        float M = NEG_INF;
        for (int w = 0; w < 4; w++) M = fmaxf(M, wm[w * 8 + h]);
        float L = 0.f, a = 0.f;
        if (M != NEG_INF) {
            for (int w = 0; w < 4; w++) {
                float mw = wm[w * 8 + h];
                if (mw == NEG_INF) continue;
                float f = expf(mw - M);
                L += wl[w * 8 + h] * f;
                a += wacc[(w * 8 + h) * D + dd] * f;
            }
        }
        int hg = g * G + h;
        if (nsplit == 1) {
            out[(size_t) b * ldo + (size_t) hg * D + dd] = L > 0.f ? a / L : 0.f;
        } else {
            float *pr = partial + (((size_t) split * B + b) * H + hg) * (D + 2);
            if (dd == 0) {
                pr[0] = M;
                pr[1] = L;
            }
            pr[2 + dd] = a;
        }
    }
}

/** acc + the dot of 8 bf16 weights (one 16-byte chunk) with x[0..7], one fma after another in order. */
__device__ __forceinline__ float dot8_bf16(uint4 w, const float *x, float acc) {
    float a, b;
    unpack_bf16x2(w.x, a, b);
    acc = fmaf(a, x[0], acc);
    acc = fmaf(b, x[1], acc);
    unpack_bf16x2(w.y, a, b);
    acc = fmaf(a, x[2], acc);
    acc = fmaf(b, x[3], acc);
    unpack_bf16x2(w.z, a, b);
    acc = fmaf(a, x[4], acc);
    acc = fmaf(b, x[5], acc);
    unpack_bf16x2(w.w, a, b);
    acc = fmaf(a, x[6], acc);
    acc = fmaf(b, x[7], acc);
    return acc;
}

/**
 * Stages one GEMV input row of `cols` floats (cols % 4 == 0) in shared memory xs, then with xMode 1
 * RMS-normalises it in place: xs[c] = (x[c] * rsqrt(mean(x^2) + eps)) * normW[c]. Ends with the
 * block's barrier; every thread of the block must call it.
 */
__device__ __forceinline__ void stage_input_row(float *xs, const float *__restrict__ X, int cols, int xMode,
                                                const float *__restrict__ normW, float eps) {
    const float4 *xr = reinterpret_cast<const float4 *>(X);
    float4 *xs4 = reinterpret_cast<float4 *>(xs);
    float ss = 0.f;
    for (int c = threadIdx.x; c < (cols >> 2); c += blockDim.x) {
        float4 v = __ldg(xr + c);
        xs4[c] = v;
        ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
    if (xMode == 1) {
        ss = block_sum(ss);  // its barriers also order the staging stores before the loop below
        float inv = 1.0f / sqrtf(ss / cols + eps);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) xs[c] = (xs[c] * inv) * normW[c];
    }
    __syncthreads();
}

/** 16 bytes from global to shared memory, asynchronously (cp.async, L2 only); commit and wait separately. */
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem) {
    unsigned dst = (unsigned) __cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(gmem));
}

/** 16 bytes from global to shared memory, or zeros where !valid (cp.async's source size 0). */
__device__ __forceinline__ void cp_async16_zfill(void *smem, const void *gmem, bool valid) {
    unsigned dst = (unsigned) __cvta_generic_to_shared(smem);
    int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem), "r"(n));
}

/** 4 bytes from global to shared memory, or zeros where !valid. */
__device__ __forceinline__ void cp_async4_zfill(void *smem, const void *gmem, bool valid) {
    unsigned dst = (unsigned) __cvta_generic_to_shared(smem);
    int n = valid ? 4 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(gmem), "r"(n));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

/** Four 8x8 b16 matrices from shared memory (lanes 8m..8m+7 give the row addresses of matrix m). */
__device__ __forceinline__ void ldmatrix_x4(const void *smem, uint32_t &r0, uint32_t &r1, uint32_t &r2, uint32_t &r3) {
    unsigned a = (unsigned) __cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a));
}

__device__ __forceinline__ void ldmatrix_x4_trans(const void *smem, uint32_t &r0, uint32_t &r1, uint32_t &r2,
                                                  uint32_t &r3) {
    unsigned a = (unsigned) __cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a));
}

/** x, y as packed bf16 hi and the packed bf16 of what hi leaves (x - hi, y - hi'). */
__device__ __forceinline__ void split_bf16x2(float x, float y, uint32_t &hi, uint32_t &lo) {
    hi = pack_bf16x2(x, y);
    float hx, hy;
    unpack_bf16x2(hi, hx, hy);
    lo = pack_bf16x2(x - hx, y - hy);
}
