// TokenSelect's head vote and radix top-k in one cooperative launch: the six launches of ts_vote_sum,
// ts_radix_hist (three passes), ts_radix_count and ts_radix_write become phases of one grid, separated
// by grid barriers. Each block owns one contiguous, ascending range of candidates, so ties still go to
// the lower index across blocks as within one. The vote is ts_vote_sum's expression in head order;
// the histogram, count and write phases are the device functions the separate kernels run.
// Needs every block resident at once: launched cooperatively, with no more blocks than the card holds.

#define TS_FUSED_THREADS 1024

/**
 * Every block of the grid arrives, then waits until all have: counter counts arrivals over the launch
 * (zero at its start), target is the arrivals expected by this barrier (gridDim.x times its ordinal).
 */
__device__ __forceinline__ void ts_grid_barrier(unsigned *counter, unsigned target) {
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();  // this block's histogram and count writes before its arrival
        atomicAdd(counter, 1u);
        unsigned seen;
        do {
            asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(seen) : "l"(counter) : "memory");
        } while (seen < target);
    }
    __syncthreads();
}

/** The histograms of passes [0, passes) into shared memory, read past L1 (other blocks wrote them). */
__device__ __forceinline__ void ts_load_hist(const int *__restrict__ hist, int passes, int *sh) {
    for (int i = threadIdx.x; i < passes * TS_BINS; i += blockDim.x) sh[i] = __ldcg(hist + i);
    __syncthreads();
}

/**
 * vote[c] = sum_h exp(s[h][c] - max_h) / sum_h for the candidates c in [0, count) (as ts_vote_sum), then
 * out = [0, nInit) ++ (from + the k best by vote, ascending, ties to the lower index) ++ [len - nLocal,
 * len) (as ts_radix_hist x 3, ts_radix_count and ts_radix_write). hist (3 x TS_BINS ints) and *barrier
 * must be zero at entry (ts_stats_combine clears both); blockCounts holds 2 ints per block. With ctrl:
 * nothing on a selection-cache hit (ctrl[0]), count = ctrl[1], len = ctrl[2]. grid <= the blocks the
 * card holds at once (cooperative launch), block TS_FUSED_THREADS.
 */
extern "C" __global__ void __launch_bounds__(TS_FUSED_THREADS) ts_vote_topk(
        const float *__restrict__ scores, long long ld, int heads, int count, const float *__restrict__ stats,
        float *__restrict__ vote, int k, int *__restrict__ hist, unsigned *__restrict__ barrier,
        int *__restrict__ blockCounts, int from, int nInit, int len, int nLocal, int *__restrict__ out,
        const int *__restrict__ ctrl) { PDL_BEGIN();
    __shared__ int shHist[3 * TS_BINS];
    if (ctrl != nullptr) {  // uniform over the grid: every block returns, none waits at a barrier
        if (ctrl[0]) return;
        count = ctrl[1];
        len = ctrl[2];
    }
    const unsigned nb = gridDim.x;
    const int per = (count + (int) nb - 1) / (int) nb;
    const int c0 = min(count, (int) blockIdx.x * per), c1 = min(count, c0 + per);

    // phase 0: the vote of this block's candidates, then pass 0's histogram of it (each thread re-reads
    // only its own votes, here and below)
    for (int c = c0 + threadIdx.x; c < c1; c += blockDim.x) {
        float v = 0.f;
        // unrolled so several heads' loads are in flight per thread (fewer blocks than ts_vote_sum has);
        // the sum keeps its head order
#pragma unroll 4
        for (int h = 0; h < heads; h++) v += expf(scores[(size_t) h * ld + c] - stats[2 * h]) * stats[2 * h + 1];
        vote[c] = v;
    }
    ts_hist_range(vote, c0, c1, 0, 0u, 0u, hist);
    ts_grid_barrier(barrier, nb);

    // passes 1 and 2: the keys under the prefix the passes before chose
    for (int pass = 1; pass < 3; pass++) {
        ts_load_hist(hist, pass, shHist);
        uint32_t bits, mask;
        int need;
        ts_radix_derive(shHist, pass, k, bits, mask, need);
        ts_hist_range(vote, c0, c1, pass, bits, mask, hist + pass * TS_BINS);
        ts_grid_barrier(barrier, nb * (pass + 1));
    }

    // how many of this block's keys are above the k-th largest and how many equal it, then the selection
    ts_load_hist(hist, 3, shHist);
    uint32_t kth, mask;
    int need;
    ts_radix_derive(shHist, 3, k, kth, mask, need);
    ts_count_range(vote, c0, c1, kth, blockCounts);
    ts_grid_barrier(barrier, nb * 4);
    ts_write_range(vote, c0, c1, kth, need, blockCounts, from, nInit, k, len, nLocal, out);
}
