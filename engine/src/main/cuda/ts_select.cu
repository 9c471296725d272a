// TokenSelect's selection on the device, after the scores (ts_scores): the head soft vote (each head's
// softmax over the candidates, summed over heads) and the k best candidates by vote in ascending index
// order, ties to the lower index, as select.HeadSoftVote and select.TopK define them; then the selected
// entry list (sinks, the k candidates, the local window) for the attention kernel. No host round trip.
#include "common.cuh"

/** Per head h: stats[2h] = max over the candidates, stats[2h + 1] = 1 / sum exp(s - max). grid (H), block 1024. */
extern "C" __global__ void __launch_bounds__(1024) ts_head_stats(const float *__restrict__ scores, long long ld, int count,
                                                                 float *__restrict__ stats) {
    __shared__ float red[32];
    const float *row = scores + (size_t) blockIdx.x * ld;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    float m = NEG_INF;
    for (int c = tid; c < count; c += blockDim.x) m = fmaxf(m, row[c]);
    m = warp_max(m);
    if (lane == 0) red[warp] = m;
    __syncthreads();
    m = lane < (int) (blockDim.x >> 5) ? red[lane] : NEG_INF;
    m = warp_max(m);
    __syncthreads();
    float sum = 0.f;
    for (int c = tid; c < count; c += blockDim.x) sum += expf(row[c] - m);
    sum = block_sum(sum);
    if (tid == 0) {
        stats[2 * blockIdx.x] = m;
        stats[2 * blockIdx.x + 1] = 1.f / sum;
    }
}

/** vote[c] = sum_h exp(s[h][c] - max_h) / sum_h. grid ceil(count / 256), block 256. */
extern "C" __global__ void ts_vote_sum(const float *__restrict__ scores, long long ld, int heads, int count,
                                       const float *__restrict__ stats, float *__restrict__ vote,
                                       const int *__restrict__ ctrl) {
    if (ctrl != nullptr) {  // captured decode step (ts_device_select.cu): skip on a hit, the count read here
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= count) return;
    float v = 0.f;
    for (int h = 0; h < heads; h++) v += expf(scores[(size_t) h * ld + c] - stats[2 * h]) * stats[2 * h + 1];
    vote[c] = v;
}

/** Order-preserving key of a float: larger floats give larger unsigned keys (NaN never occurs here). */
__device__ __forceinline__ uint32_t ts_key(float f) {
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/**
 * The k best of vote[0, count) (k < count) in ascending index order, ties to the lower index, written as
 * entries of the attention's selection: out = [0, nInit) ++ (from + chosen) ++ [len - nLocal, len).
 * One block of 1024 threads: a radix select finds the k-th largest key in four 8-bit passes, then an
 * ordered compaction takes every larger candidate and the first equal ones. nInit + k + nLocal entries.
 */
extern "C" __global__ void __launch_bounds__(1024) ts_topk_select(const float *__restrict__ vote, int count, int k,
                                                                  int from, int nInit, int len, int nLocal,
                                                                  int *__restrict__ out) {
    __shared__ unsigned int hist[256];
    __shared__ uint32_t prefixBits, prefixMask;
    __shared__ int remaining;
    __shared__ int scanBuf[32];
    __shared__ int base[2];
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;

    if (tid == 0) {
        prefixBits = 0;
        prefixMask = 0;
        remaining = k;  // how many of the k are still to be found among keys matching the prefix
    }
    __syncthreads();
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int i = tid; i < 256; i += blockDim.x) hist[i] = 0;
        __syncthreads();
        uint32_t pb = prefixBits, pm = prefixMask;
        for (int c = tid; c < count; c += blockDim.x) {
            uint32_t key = ts_key(vote[c]);
            if ((key & pm) == pb) atomicAdd(&hist[(key >> shift) & 0xff], 1u);
        }
        __syncthreads();
        if (tid == 0) {  // walk the bins from the top until the k-th largest falls in one
            int need = remaining;
            int bin = 255;
            for (; bin > 0; bin--) {
                if ((int) hist[bin] >= need) break;
                need -= hist[bin];
            }
            remaining = need;
            prefixBits |= (uint32_t) bin << shift;
            prefixMask |= 0xffu << shift;
        }
        __syncthreads();
    }
    uint32_t kth = prefixBits;  // the k-th largest key; `remaining` equal keys are taken, lowest indices first
    int takeEqual = remaining;

    // sinks first, the local window last
    for (int i = tid; i < nInit; i += blockDim.x) out[i] = i;
    for (int i = tid; i < nLocal; i += blockDim.x) out[nInit + k + i] = len - nLocal + i;
    if (tid == 0) {
        base[0] = 0;  // chosen so far
        base[1] = 0;  // equal keys taken so far
    }
    __syncthreads();
    for (int c0 = 0; c0 < count; c0 += blockDim.x) {
        int c = c0 + tid;
        uint32_t key = c < count ? ts_key(vote[c]) : 0u;
        int greater = c < count && key > kth;
        int equal = c < count && key == kth;
        // block-wide exclusive scans of `equal`, then of `greater | equal-and-taken`
        int eqScan = equal;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            int v = __shfl_up_sync(0xffffffffu, eqScan, o);
            if (lane >= o) eqScan += v;
        }
        if (lane == 31) scanBuf[warp] = eqScan;
        __syncthreads();
        if (warp == 0) {
            int v = lane < warps ? scanBuf[lane] : 0;
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                int u = __shfl_up_sync(0xffffffffu, v, o);
                if (lane >= o) v += u;
            }
            scanBuf[lane] = v;  // inclusive over warps
        }
        __syncthreads();
        int eqBefore = base[1] + (warp > 0 ? scanBuf[warp - 1] : 0) + eqScan - equal;
        int eqTotal = scanBuf[warps - 1];
        __syncthreads();
        int take = greater || (equal && eqBefore < takeEqual);
        int tScan = take;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            int v = __shfl_up_sync(0xffffffffu, tScan, o);
            if (lane >= o) tScan += v;
        }
        if (lane == 31) scanBuf[warp] = tScan;
        __syncthreads();
        if (warp == 0) {
            int v = lane < warps ? scanBuf[lane] : 0;
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                int u = __shfl_up_sync(0xffffffffu, v, o);
                if (lane >= o) v += u;
            }
            scanBuf[lane] = v;
        }
        __syncthreads();
        if (take) {
            int at = base[0] + (warp > 0 ? scanBuf[warp - 1] : 0) + tScan - 1;
            out[nInit + at] = from + c;
        }
        int tTotal = scanBuf[warps - 1];
        __syncthreads();
        if (tid == 0) {
            base[0] += tTotal;
            base[1] += eqTotal;
        }
        __syncthreads();
    }
}
