// Helpers shared by the prefill GEMMs on mma.sync (gemm.cu) and on wgmma (wgmma.cu, sm_90a).
#pragma once
#include "common.cuh"

#define G2_HI_LO 0
#define G2_BF16 1
#define G2_F16 2

/** Stores 4 activations as their bf16 hi terms at hi and lo terms (x - hi) at lo (8-byte aligned). */
__device__ __forceinline__ void store_split4(float4 v, bf16 *hi, bf16 *lo) {
    uint2 p, q;
    p.x = pack_bf16x2(v.x, v.y);
    p.y = pack_bf16x2(v.z, v.w);
    float hx, hy, hz, hw;
    unpack_bf16x2(p.x, hx, hy);
    unpack_bf16x2(p.y, hz, hw);
    q.x = pack_bf16x2(v.x - hx, v.y - hy);
    q.y = pack_bf16x2(v.z - hz, v.w - hw);
    *reinterpret_cast<uint2 *>(hi) = p;
    *reinterpret_cast<uint2 *>(lo) = q;
}

/** Four activations rounded to 16 bits as XM (G2_F16 or G2_BF16) takes them; xs: G2_F16's scale. */
template <int XM>
__device__ __forceinline__ uint2 pack4(float4 v, float xs) {
    uint2 p;
    if (XM == G2_F16) {
        p.x = pack_f16x2(v.x * xs, v.y * xs);
        p.y = pack_f16x2(v.z * xs, v.w * xs);
    } else {
        p.x = pack_bf16x2(v.x, v.y);
        p.y = pack_bf16x2(v.z, v.w);
    }
    return p;
}

/** Four activations of X as the GEMM's XM takes them, at hi (and lo for G2_HI_LO); xs: G2_F16's scale. */
template <int XM>
__device__ __forceinline__ void store_x4(float4 v, bf16 *hi, bf16 *lo, float xs) {
    if (XM == G2_HI_LO) {
        store_split4(v, hi, lo);
        return;
    }
    *reinterpret_cast<uint2 *>(hi) = pack4<XM>(v, xs);
}

/** The float4 of X at (gm, gk), zeros outside [0, M) x [0, K). */
__device__ __forceinline__ float4 load_x4(const float *__restrict__ X, int M, int K, int gm, int gk) {
    return (gm < M && gk < K) ? *reinterpret_cast<const float4 *>(X + (size_t) gm * K + gk)
                              : make_float4(0.f, 0.f, 0.f, 0.f);
}

/** One output element of the GEMM: bias, then written or added to Y, inside the M x N bounds. */
__device__ __forceinline__ void gemm_store(float *__restrict__ Y, int ldy, const float *__restrict__ bias, int M, int N,
                                           int m, int n, float v, int accumulate) {
    if (m < M && n < N) {
        if (bias) v += bias[n];
        float *dst = Y + (size_t) m * ldy + n;
        if (accumulate) v = *dst + v;
        *dst = v;
    }
}

/** The power of two that brings amax into [2^14, 2^15) (1 for 0; NaN and inf pass through). */
__device__ __forceinline__ float f16_scale(float amax) {
    if (!(amax > 0.f) || isinf(amax)) return 1.f;
    int e;
    frexpf(amax, &e);  // amax = f * 2^e, f in [0.5, 1)
    return ldexpf(1.f, min(15 - e, 100));  // 2^100 at most: a tiny max stays finite when scaled
}

/** Two bf16 (a 32-bit word) as two fp16, through fp32. */
__device__ __forceinline__ uint32_t bf16x2_to_f16x2(uint32_t v) {
    return pack_f16x2(__uint_as_float(v << 16), __uint_as_float(v & 0xffff0000u));
}


/**
 * A GEMM entry point of 256 threads: BODY<XM> (gemm_tc2_body, gemm_wgmma_body) under the contract of
 * gemm.cu; xAmax holds the bits of max |X| (read by the G2_F16 bodies only; the others take any
 * pointer, null included).
 */
#define GEMM_ENTRY(NAME, BODY, XM, MIN_BLOCKS)                                                                   \
    extern "C" __global__ void __launch_bounds__(256, MIN_BLOCKS) NAME(const float *__restrict__ X,              \
            const bf16 *__restrict__ W, float *__restrict__ Y, const float *__restrict__ bias, int M, int N, int K, \
            int ldy, int accumulate, const unsigned *__restrict__ xAmax) { PDL_BEGIN();                          \
        BODY<XM>(X, W, Y, bias, M, N, K, ldy, accumulate, xAmax);                                                \
    }
