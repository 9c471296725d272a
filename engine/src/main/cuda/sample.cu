// Greedy sampling on the device: argmax over the vocabulary (lowest index among equal maxima, NaN ignored).
#include "common.cuh"

/** One block of 1024 threads per row of n: out[2r] = index, ((float*) out)[2r + 1] = value. grid (rows). */
extern "C" __global__ void __launch_bounds__(1024) argmax_f32(const float *__restrict__ x, int n, int *__restrict__ out) { PDL_BEGIN();
    x += (size_t) blockIdx.x * n;
    out += 2 * blockIdx.x;
    __shared__ float bv[32];
    __shared__ int bi[32];
    float best = NEG_INF;
    int idx = 0x7fffffff;
    if ((n & 3) == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0) {
        // 16-byte loads, four in flight per thread; each thread still sees its indices in ascending order
        const float4 *x4 = reinterpret_cast<const float4 *>(x);
#pragma unroll 4
        for (int i = threadIdx.x; i < (n >> 2); i += blockDim.x) {
            float4 v = x4[i];
            float e[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                if (e[j] > best) {
                    best = e[j];
                    idx = 4 * i + j;
                }
            }
        }
    } else {
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            float v = x[i];
            if (v > best) {  // ascending i per thread: the first maximum wins
                best = v;
                idx = i;
            }
        }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, best, o);
        int oi = __shfl_xor_sync(0xffffffffu, idx, o);
        if (ov > best || (ov == best && oi < idx)) {
            best = ov;
            idx = oi;
        }
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        bv[warp] = best;
        bi[warp] = idx;
    }
    __syncthreads();
    if (warp == 0) {
        int warps = blockDim.x >> 5;
        best = lane < warps ? bv[lane] : NEG_INF;
        idx = lane < warps ? bi[lane] : 0x7fffffff;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, best, o);
            int oi = __shfl_xor_sync(0xffffffffu, idx, o);
            if (ov > best || (ov == best && oi < idx)) {
                best = ov;
                idx = oi;
            }
        }
        if (lane == 0) {
            out[0] = idx == 0x7fffffff ? 0 : idx;
            reinterpret_cast<float *>(out)[1] = best;
        }
    }
}

/** out[i] = x[ids[i]] for i < n: the logits of a row's best candidates. grid ceil(n / 256), block 256. */
extern "C" __global__ void gather_f32(const float *__restrict__ x, const int *__restrict__ ids, int n,
                                      float *__restrict__ out) { PDL_BEGIN();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = x[ids[i]];
}
