// TokenSelect's head soft vote on the device, after the scores: each head's softmax statistics over the
// candidates (ts_head_stats; ts_stats_combine in ts_device_select.cu does the same from the tensor-core
// scoring's per-warp states) and the vote, the heads' softmaxes summed, as select.HeadSoftVote defines
// it. The top-k over the votes is the radix select of ts_device_select.cu.
#include "common.cuh"

/** Per head h: stats[2h] = max over the candidates, stats[2h + 1] = 1 / sum exp(s - max). grid (H), block 1024. */
extern "C" __global__ void __launch_bounds__(1024) ts_head_stats(const float *__restrict__ scores, long long ld, int count,
                                                                 float *__restrict__ stats) { PDL_BEGIN();
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
                                       const int *__restrict__ ctrl) { PDL_BEGIN();
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

/**
 * The vote max-pooled along the candidates (select.VotePool): pooled[c] = max vote[c - r .. c + r] within
 * [0, count), so a strongly voted token brings its neighbours into the top-k. grid ceil(count / 256),
 * block 256; with ctrl, a captured decode step's (skipped on a hit, the count read here).
 */
extern "C" __global__ void ts_vote_pool(const float *__restrict__ vote, int count, int r, float *__restrict__ pooled,
                                        const int *__restrict__ ctrl) { PDL_BEGIN();
    if (ctrl != nullptr) {
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= count) return;
    int lo = max(0, c - r), hi = min(count - 1, c + r);
    float m = vote[lo];
    for (int i = lo + 1; i <= hi; i++) m = fmaxf(m, vote[i]);
    pooled[c] = m;
}
