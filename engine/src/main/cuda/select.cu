// TokenSelect scoring: out[h, c] = qbar[h] . K[g(h)][from + c] on the un-rotated cached keys, fp32,
// no scaling, g(h) = h / group. Each warp takes one candidate token and reads each KV head's row
// once for its whole query group.
#include "common.cuh"

/** grid ceil(count / 8), block 256, dynamic smem H * d floats (qbar). out is [H][count]. */
extern "C" __global__ void __launch_bounds__(256) ts_scores(const float *__restrict__ qbar, const bf16 *__restrict__ pool,
                                            long long blockElems, const int *__restrict__ blockTable, int bs,
                                            int layer, int kvHeads, int d, int group, int from, int count,
                                            float *__restrict__ out) { PDL_BEGIN();
    extern __shared__ float qsm[];
    int H = kvHeads * group;
    for (int idx = threadIdx.x; idx < H * d; idx += blockDim.x) qsm[idx] = qbar[idx];
    __syncthreads();
    int c = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    int lane = threadIdx.x & 31;
    if (c >= count) return;
    int tok = from + c;
    for (int g = 0; g < kvHeads; g++) {
        size_t ko = kv_offset(blockTable, tok, bs, blockElems, layer, 0, kvHeads, g, d);
        for (int hh = 0; hh < group; hh++) {
            int h = g * group + hh;
            float s = 0.f;
            for (int e = lane; e < d; e += 32) s = fmaf(qsm[h * d + e], bf2f(pool[ko + e]), s);
            s = warp_sum(s);
            if (lane == 0) out[(size_t) h * count + c] = s;
        }
    }
}
