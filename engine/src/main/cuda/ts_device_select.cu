// TokenSelect's selection on the device at long contexts, with every kernel spread over the whole card:
//
//   ts_scores_tc_dD   scores of every candidate on tensor cores, each KV head's keys read once for the
//                     whole query group, plus each warp's per-head softmax state (max, sum of exp);
//   ts_stats_combine  the per-head max and 1 / sum over all warps;
//   ts_vote_sum       (ts_select.cu) the head soft vote;
//   ts_radix_*        the k best candidates by vote (radix select in three passes of 11/11/10 bits over
//                     order-preserving keys, then an ordered compaction), ties to the lower index, as
//                     select.TopK defines them, written as the attention's entry list.
//
// Scores: A = 16 candidate keys x 16 dims (bf16, exact), B = 16 dims x the group's heads. The query is
// split into three bf16 terms (hi + mid + lo carry its 24 mantissa bits), so the products are those of
// fp32 with fp32 accumulation. The k dimension of each mma is a permutation of the head dims (the same
// for A and B), so a lane loads 16 contiguous bytes of a key row per chunk of 32 dims.
#include "common.cuh"

#define TS_WARPS 8

/** Splits x into three bf16 terms whose sum is x to fp32 precision. */
__device__ __forceinline__ void split3(float x, float &hi, float &mid, float &lo) {
    hi = __bfloat162float(__float2bfloat16_rn(x));
    float r = x - hi;
    mid = __bfloat162float(__float2bfloat16_rn(r));
    lo = r - mid;
}

/**
 * One row of the 16-candidate tiles a warp reads in order: its candidate's entry in the block table
 * and slot in that block, moved on 16 candidates a tile by subtraction. A division and a remainder by
 * the block size per row and tile were some 40 instructions on the path from a tile's index to its loads.
 */
struct TsRowCursor {
    int block, slot;

    __host__ __device__ TsRowCursor(int pos, int bs) : block(pos / bs), slot(pos % bs) {}

    __host__ __device__ void next(int bs) {
        slot += 16;
        while (slot >= bs) {
            slot -= bs;
            block++;
        }
    }
};

__device__ __forceinline__ void softmax_state_add(float &m, float &s, float v) {
    // one exp on either side: exp(-|v - m|) is exp(m - v) for a new max and exp(v - m) otherwise (to the
    // bit: fl(m - v) = -fl(v - m)), so a warp that diverges here no longer runs two
    float d = v - m;
    float e = expf(-fabsf(d));
    if (d > 0.f) {
        s = s * e + 1.f;  // m = -inf: d = inf, e = 0, s = 1
        m = v;
    } else {
        s += e;
    }
}

__device__ __forceinline__ void softmax_state_merge(float &m, float &s, float m2, float s2) {
    float M = fmaxf(m, m2);
    if (M == NEG_INF) return;
    s = (m == NEG_INF ? 0.f : s * expf(m - M)) + (m2 == NEG_INF ? 0.f : s2 * expf(m2 - M));
    m = M;
}

/**
 * One 16-candidate tile of a scoring pass (c: rows gr and gr + 8 = candidates cA and cB, columns
 * 2 t4 and 2 t4 + 1 = heads of the group) into out and this lane's softmax states of its two heads.
 */
__device__ __forceinline__ void ts_store_tile(const float c[4], int t4, int cA, int cB, int G, int g, int count,
                                              float *__restrict__ out, long long ldOut, float m[2], float sum[2]) {
#pragma unroll
    for (int e = 0; e < 4; e++) {
        int col = 2 * t4 + (e & 1);
        int cand = e < 2 ? cA : cB;
        if (col < G && cand < count) {
            out[(size_t) (g * G + col) * ldOut + cand] = c[e];
            softmax_state_add(m[e & 1], sum[e & 1], c[e]);
        }
    }
}

/** The warp's softmax state of each head (the 8 lanes of a column hold parts of it) into warpStats. */
__device__ __forceinline__ void ts_write_warp_stats(float m[2], float sum[2], int gr, int t4, int G, int g, int H,
                                                    int w, float *__restrict__ warpStats) {
#pragma unroll
    for (int j = 0; j < 2; j++) {
#pragma unroll
        for (int o = 4; o < 32; o <<= 1) {
            float m2 = __shfl_xor_sync(0xffffffffu, m[j], o);
            float s2 = __shfl_xor_sync(0xffffffffu, sum[j], o);
            softmax_state_merge(m[j], sum[j], m2, s2);
        }
        int col = 2 * t4 + j;
        if (gr == 0 && col < G) {
            float *st = warpStats + ((size_t) w * H + g * G + col) * 2;
            st[0] = m[j];
            st[1] = sum[j];
        }
    }
}

/**
 * out[h][c] (row stride ldOut) = qbar[h] . K[g(h)][from + c] for the candidates c in [0, count), fp32,
 * no scaling; warpStats[(w * H + h) * 2 + {0, 1}] = max and sum of exp(s - max) over warp w's candidates
 * (warps index per KV head: w = blockIdx.x * TS_WARPS + warp). grid (ceil(tiles / (TS_WARPS *
 * tilesPerWarp)), kvHeads), block 256; a tile is 16 candidates. G <= 8.
 */
template <int D>
__device__ __forceinline__ void ts_scores_tc_body(const float *__restrict__ qbar, const bf16 *__restrict__ pool,
                                                  long long blockElems, const int *__restrict__ table, int bs,
                                                  int layer, int kvHeads, int G, int from, int count,
                                                  int tilesPerWarp, float *__restrict__ out, long long ldOut,
                                                  float *__restrict__ warpStats, const int *__restrict__ ctrl) {
    if (ctrl != nullptr) {  // captured decode step: skipped on a selection-cache hit, the count read here
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    constexpr int CH = D / 32;
    int g = blockIdx.y;
    int lane = threadIdx.x & 31, gr = lane >> 2, t4 = lane & 3;
    int w = blockIdx.x * TS_WARPS + (threadIdx.x >> 5);
    int H = kvHeads * G;

    // B fragments of the query terms: head gr of the group, dims ch*32 + 8*t4 + 4*s + {0,1} and {2,3}
    uint32_t bq[3][CH][2][2];
    {
        bool ok = gr < G;
        const float *qh = qbar + (size_t) (g * G + (ok ? gr : 0)) * D;
#pragma unroll
        for (int ch = 0; ch < CH; ch++) {
            float4 v0 = *reinterpret_cast<const float4 *>(qh + ch * 32 + 8 * t4);
            float4 v1 = *reinterpret_cast<const float4 *>(qh + ch * 32 + 8 * t4 + 4);
            float v[8] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w};
            float t[3][8];
#pragma unroll
            for (int e = 0; e < 8; e++) {
                float x = ok ? v[e] : 0.f;
                split3(x, t[0][e], t[1][e], t[2][e]);
            }
#pragma unroll
            for (int p = 0; p < 3; p++) {
#pragma unroll
                for (int s = 0; s < 2; s++) {
                    bq[p][ch][s][0] = pack_bf16x2(t[p][4 * s], t[p][4 * s + 1]);
                    bq[p][ch][s][1] = pack_bf16x2(t[p][4 * s + 2], t[p][4 * s + 3]);
                }
            }
        }
    }

    float m[2] = {NEG_INF, NEG_INF}, sum[2] = {0.f, 0.f};  // heads 2*t4 and 2*t4 + 1
    int tile0 = w * tilesPerWarp;
    int tiles = (count + 15) >> 4;
    // rows gr and gr + 8 of each tile, moved on 16 candidates a tile by subtraction: no division on the
    // way from a tile's index to its loads
    TsRowCursor rowCursorA(from + tile0 * 16 + gr, bs), rowCursorB(from + tile0 * 16 + gr + 8, bs);
    size_t headOffset = ((size_t) (2 * layer) * kvHeads + g) * (size_t) bs * D;
    for (int tile = tile0; tile < min(tiles, tile0 + tilesPerWarp); tile++) {
        int cA = tile * 16 + gr, cB = cA + 8;
        bool okA = cA < count, okB = cB < count;
        const bf16 *rowA = pool + (okA ? (size_t) table[rowCursorA.block] * (size_t) blockElems
                                                 + headOffset + (size_t) rowCursorA.slot * D : 0);
        const bf16 *rowB = pool + (okB ? (size_t) table[rowCursorB.block] * (size_t) blockElems
                                                 + headOffset + (size_t) rowCursorB.slot * D : 0);
        rowCursorA.next(bs);
        rowCursorB.next(bs);
        uint4 ka[CH], kb[CH];
#pragma unroll
        for (int ch = 0; ch < CH; ch++) {
            ka[ch] = okA ? __ldcs(reinterpret_cast<const uint4 *>(rowA + ch * 32 + 8 * t4)) : make_uint4(0, 0, 0, 0);
            kb[ch] = okB ? __ldcs(reinterpret_cast<const uint4 *>(rowB + ch * 32 + 8 * t4)) : make_uint4(0, 0, 0, 0);
        }
        float c[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
        for (int p = 2; p >= 0; p--) {  // the small terms first
#pragma unroll
            for (int ch = 0; ch < CH; ch++) {
                mma_bf16_16816(c, ka[ch].x, kb[ch].x, ka[ch].y, kb[ch].y, bq[p][ch][0][0], bq[p][ch][0][1]);
                mma_bf16_16816(c, ka[ch].z, kb[ch].z, ka[ch].w, kb[ch].w, bq[p][ch][1][0], bq[p][ch][1][1]);
            }
        }
        ts_store_tile(c, t4, cA, cB, G, g, count, out, ldOut, m, sum);
    }
    ts_write_warp_stats(m, sum, gr, t4, G, g, H, w, warpStats);
}

#define TS_SCORES_ENTRY(NAME, D)                                                                                   \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                        \
            const float *qbar, const bf16 *pool, long long blockElems, const int *table, int bs, int layer,        \
            int kvHeads, int G, int from, int count, int tilesPerWarp, float *out, long long ldOut,              \
            float *warpStats, const int *ctrl) { PDL_BEGIN();                                                                  \
        ts_scores_tc_body<D>(qbar, pool, blockElems, table, bs, layer, kvHeads, G, from, count, tilesPerWarp, out, \
                             ldOut, warpStats, ctrl);                                                             \
    }

TS_SCORES_ENTRY(ts_scores_tc_d64, 64)
TS_SCORES_ENTRY(ts_scores_tc_d128, 128)

/**
 * stats[2h] = max, stats[2h + 1] = 1 / sum of exp over all warps' states of head h; block 0 also zeroes
 * clear[0, clearCount) (the radix top-k's histograms, which then need no launch of their own).
 * grid (H), block 256.
 */
extern "C" __global__ void __launch_bounds__(256) ts_stats_combine(const float *__restrict__ warpStats, int warps,
                                                                    int H, float *__restrict__ stats,
                                                                    const int *__restrict__ ctrl,
                                                                    int *__restrict__ clear, int clearCount) { PDL_BEGIN();
    __shared__ float sm[8], ss[8];
    if (ctrl != nullptr && ctrl[0]) return;
    if (blockIdx.x == 0) {
        for (int i = threadIdx.x; i < clearCount; i += blockDim.x) clear[i] = 0;
    }
    int h = blockIdx.x;
    float m = NEG_INF, s = 0.f;
    for (int w = threadIdx.x; w < warps; w += blockDim.x) {
        const float *st = warpStats + ((size_t) w * H + h) * 2;
        softmax_state_merge(m, s, st[0], st[1]);
    }
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        float m2 = __shfl_xor_sync(0xffffffffu, m, o);
        float s2 = __shfl_xor_sync(0xffffffffu, s, o);
        softmax_state_merge(m, s, m2, s2);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        sm[warp] = m;
        ss[warp] = s;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int i = 1; i < (int) (blockDim.x >> 5); i++) softmax_state_merge(m, s, sm[i], ss[i]);
        stats[2 * h] = m;
        stats[2 * h + 1] = 1.f / s;
    }
}

// ---------------------------------------------------------------------------------------------- top-k

#define TS_BINS 2048

/**
 * Candidates per block of the radix kernels where the host leaves it to the count (chunk 0; SelectChunk.auto
 * on the host): about 256 blocks of 1024 to 8192 candidates. A captured step launches for a power-of-two
 * capacity, whose grid this rule makes at least as large as the one the run-time count asks for.
 */
__device__ __forceinline__ int ts_auto_chunk(int count) {
    int per = (count + 255) / 256;
    int chunk = 1024;
    while (chunk < per && chunk < 8192) chunk <<= 1;
    return chunk;
}

/** Order-preserving key of a float: larger floats give larger unsigned keys (NaN never occurs here). */
__device__ __forceinline__ uint32_t ts_radix_key(float f) {
    uint32_t u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ int ts_pass_shift(int pass) { return pass == 0 ? 21 : pass == 1 ? 10 : 0; }

__device__ __forceinline__ int ts_pass_bins(int pass) { return pass < 2 ? 2048 : 1024; }

/** Inclusive sum over the block (blockDim.x == 1024) of one int per thread. */
__device__ __forceinline__ int block_inclusive_scan(int v, int *buf32) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        int u = __shfl_up_sync(0xffffffffu, v, o);
        if (lane >= o) v += u;
    }
    __syncthreads();
    if (lane == 31) buf32[warp] = v;
    __syncthreads();
    if (warp == 0) {
        int x = buf32[lane];
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            int u = __shfl_up_sync(0xffffffffu, x, o);
            if (lane >= o) x += u;
        }
        buf32[lane] = x;
    }
    __syncthreads();
    return v + (warp > 0 ? buf32[warp - 1] : 0);
}

/**
 * Replays the selections of passes [0, passes) from their histograms: the key prefix (bits, mask) of
 * the k-th largest and how many of the keys with that prefix are still to be taken. Block of 1024.
 */
__device__ void ts_radix_derive(const int *__restrict__ hist, int passes, int k, uint32_t &bits, uint32_t &mask,
                                int &need) {
    __shared__ int buf32[32];
    __shared__ int found[2];
    bits = 0;
    mask = 0;
    need = k;
    for (int p = 0; p < passes; p++) {
        const int *h = hist + p * TS_BINS;
        int nb = ts_pass_bins(p);
        int t = threadIdx.x;
        // thread t holds bins nb-1-2t and nb-2-2t (the top of the range first)
        int b1 = nb - 1 - 2 * t, b2 = nb - 2 - 2 * t;
        int h1 = b1 >= 0 ? h[b1] : 0, h2 = b2 >= 0 ? h[b2] : 0;
        int incl = block_inclusive_scan(h1 + h2, buf32);
        int excl = incl - h1 - h2;
        if (excl < need && incl >= need) {
            if (excl + h1 >= need) {
                found[0] = b1;
                found[1] = excl;
            } else {
                found[0] = b2;
                found[1] = excl + h1;
            }
        }
        __syncthreads();
        int shift = ts_pass_shift(p);
        bits |= (uint32_t) found[0] << shift;
        mask |= (uint32_t) (nb - 1) << shift;
        need -= found[1];
        __syncthreads();  // found is rewritten by the next pass
    }
}

/** Zeroes n ints. grid ceil(n / 256), block 256. */
extern "C" __global__ void ts_radix_clear(int *buf, int n, const int *__restrict__ ctrl) { PDL_BEGIN();
    if (ctrl != nullptr && ctrl[0]) return;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) buf[i] = 0;
}

/** This block's candidates [c0, c1) in a radix kernel of `chunk` candidates per block (0: ts_auto_chunk of the count). */
__device__ __forceinline__ void ts_chunk_range(int chunk, int count, int &c0, int &c1) {
    if (chunk == 0) chunk = ts_auto_chunk(count);
    c0 = blockIdx.x * chunk;
    c1 = min(count, c0 + chunk);
}

/**
 * Histogram of pass `pass` over the keys that match the earlier passes' prefix. grid ceil(count / chunk),
 * block 1024; chunk (candidates per block, a multiple of 1024; 0: ts_auto_chunk of the count) is the same in all
 * the radix kernels of a selection.
 */
extern "C" __global__ void __launch_bounds__(1024) ts_radix_hist(const float *__restrict__ vote, int count, int chunk, int k,
                                                                 int pass, int *__restrict__ hist,
                                                                 const int *__restrict__ ctrl) { PDL_BEGIN();
    __shared__ int sh[TS_BINS];
    if (ctrl != nullptr) {
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    uint32_t bits, mask;
    int need;
    ts_radix_derive(hist, pass, k, bits, mask, need);
    int nb = ts_pass_bins(pass), shift = ts_pass_shift(pass);
    for (int i = threadIdx.x; i < nb; i += blockDim.x) sh[i] = 0;
    __syncthreads();
    int c0, c1;
    ts_chunk_range(chunk, count, c0, c1);
    for (int c = c0 + threadIdx.x; c < c1; c += blockDim.x) {
        uint32_t key = ts_radix_key(vote[c]);
        if ((key & mask) == bits) atomicAdd(&sh[(key >> shift) & (nb - 1)], 1);
    }
    __syncthreads();
    int *out = hist + pass * TS_BINS;
    for (int i = threadIdx.x; i < nb; i += blockDim.x) {
        if (sh[i] != 0) atomicAdd(&out[i], sh[i]);
    }
}

/** Per chunk: how many keys are above the k-th largest and how many equal it. grid ceil(count / chunk), block 1024. */
extern "C" __global__ void __launch_bounds__(1024) ts_radix_count(const float *__restrict__ vote, int count, int chunk, int k,
                                                                  const int *__restrict__ hist,
                                                                  int *__restrict__ chunkCounts,
                                                                  const int *__restrict__ ctrl) { PDL_BEGIN();
    __shared__ int buf32[32];
    if (ctrl != nullptr) {
        if (ctrl[0]) return;
        count = ctrl[1];
    }
    uint32_t kth, mask;
    int need;
    ts_radix_derive(hist, 3, k, kth, mask, need);
    int c0, c1;
    ts_chunk_range(chunk, count, c0, c1);
    int greater = 0, equal = 0;
    for (int c = c0 + threadIdx.x; c < c1; c += blockDim.x) {
        uint32_t key = ts_radix_key(vote[c]);
        greater += key > kth;
        equal += key == kth;
    }
    int g = block_inclusive_scan(greater, buf32);
    __syncthreads();
    int e = block_inclusive_scan(equal, buf32);
    if (threadIdx.x == blockDim.x - 1) {
        chunkCounts[2 * blockIdx.x] = g;
        chunkCounts[2 * blockIdx.x + 1] = e;
    }
}

/**
 * Writes the selection: out = [0, nInit) ++ (from + the k best, ascending) ++ [len - nLocal, len). A
 * candidate is taken when its key is above the k-th largest, or equal to it and among the first
 * `need` equal ones. grid ceil(count / chunk), block 1024.
 */
extern "C" __global__ void __launch_bounds__(1024) ts_radix_write(const float *__restrict__ vote, int count, int chunk, int k,
                                                                  const int *__restrict__ hist,
                                                                  const int *__restrict__ chunkCounts, int from,
                                                                  int nInit, int len, int nLocal, int *__restrict__ out,
                                                                  const int *__restrict__ ctrl) { PDL_BEGIN();
    __shared__ int buf32[32];
    __shared__ int base[2];
    if (ctrl != nullptr) {
        if (ctrl[0]) return;
        count = ctrl[1];
        len = ctrl[2];
    }
    uint32_t kth, mask;
    int need;
    ts_radix_derive(hist, 3, k, kth, mask, need);
    if (blockIdx.x == 0) {
        for (int i = threadIdx.x; i < nInit; i += blockDim.x) out[i] = i;
        for (int i = threadIdx.x; i < nLocal; i += blockDim.x) out[nInit + k + i] = len - nLocal + i;
    }
    // greater and equal keys in the chunks before this one
    int gb = 0, eb = 0;
    for (int b = threadIdx.x; b < (int) blockIdx.x; b += blockDim.x) {
        gb += chunkCounts[2 * b];
        eb += chunkCounts[2 * b + 1];
    }
    int gTot = block_inclusive_scan(gb, buf32);
    __syncthreads();
    int eTot = block_inclusive_scan(eb, buf32);
    if (threadIdx.x == blockDim.x - 1) {
        base[0] = gTot;
        base[1] = eTot;
    }
    __syncthreads();
    int c0, c1;
    ts_chunk_range(chunk, count, c0, c1);
    for (int s = c0; s < c1; s += blockDim.x) {
        int c = s + threadIdx.x;
        uint32_t key = c < c1 ? ts_radix_key(vote[c]) : 0u;
        int greater = c < c1 && key > kth;
        int equal = c < c1 && key == kth;
        int gIncl = block_inclusive_scan(greater, buf32);
        __syncthreads();
        int eIncl = block_inclusive_scan(equal, buf32);
        int gBefore = base[0] + gIncl - greater;
        int eBefore = base[1] + eIncl - equal;
        if (greater || (equal && eBefore < need)) {
            out[nInit + gBefore + min(eBefore, need)] = from + c;
        }
        __syncthreads();
        if (threadIdx.x == blockDim.x - 1) {
            base[0] += gIncl;
            base[1] += eIncl;
        }
        __syncthreads();
    }
}

/**
 * A chunk's scoring query on the device (ScoringQuery on the host): out[h][.] = the mean over the n
 * queries i of q_i[h] rotated at nLocal + i, summed in query order as the host does. q row stride ldq.
 * grid H, block 64.
 */
extern "C" __global__ void ts_scoring_query(const float *__restrict__ q, int ldq, int n, int H, int d, int nLocal,
                                            const float *__restrict__ invFreq, float *__restrict__ out) { PDL_BEGIN();
    int h = blockIdx.x, half = d / 2;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        float sa = 0.f, sb = 0.f;
        for (int t = 0; t < n; t++) {
            const float *row = q + (size_t) t * ldq + h * d;
            float a, b;
            rope_pair(row[i], row[i + half], invFreq[i], nLocal + t, a, b);
            sa = __fadd_rn(sa, a);
            sb = __fadd_rn(sb, b);
        }
        out[h * d + i] = __fdiv_rn(sa, (float) n);
        out[h * d + i + half] = __fdiv_rn(sb, (float) n);
    }
}

// ------------------------------------------------------------------------ selection inside the decode graph

/**
 * A captured TokenSelect decode step of one sequence, per layer, before the selection: the scoring
 * query qbar = q rotated at position nLocal (DESIGN.md, a chunk of one query), its cosine with the
 * layer's kept query, and the decision: ctrl[0] = 1 on a selection-cache hit (the selection kernels
 * skip, the kept list stands), else the query is kept; ctrl[1] = candidates (len - nInit - nLocal),
 * ctrl[2] = len, the cached length after this token (step[1] + 1). counters: hits, misses, selections.
 * One block of 1024 threads.
 */
__device__ __forceinline__ void ts_decode_gate_body(const float *__restrict__ q, const float *__restrict__ invFreq,
                                                    int H, int d, int nLocal, int nInit, float theta, int cacheOn,
                                                    float *__restrict__ keptQ, int *__restrict__ keptValid,
                                                    float *__restrict__ qbar, int *__restrict__ ctrl,
                                                    int *__restrict__ counters, const int *__restrict__ step) {
    int half = d / 2;
    int valid = *keptValid;
    float dot = 0.f, na = 0.f, nb = 0.f;
    for (int idx = threadIdx.x; idx < H * half; idx += blockDim.x) {
        int h = idx / half, i = idx % half;
        float a, b;
        rope_pair(q[h * d + i], q[h * d + i + half], invFreq[i], nLocal, a, b);
        qbar[h * d + i] = a;
        qbar[h * d + i + half] = b;
        float ka = keptQ[h * d + i], kb = keptQ[h * d + i + half];
        dot += a * ka + b * kb;
        na += a * a + b * b;
        nb += ka * ka + kb * kb;
    }
    dot = block_sum(dot);
    na = block_sum(na);
    nb = block_sum(nb);
    bool hit = cacheOn && valid && na > 0.f && nb > 0.f && dot / sqrtf(na * nb) >= theta;
    if (!hit) {  // keep this query; each thread copies what it computed
        for (int idx = threadIdx.x; idx < H * half; idx += blockDim.x) {
            int h = idx / half, i = idx % half;
            keptQ[h * d + i] = qbar[h * d + i];
            keptQ[h * d + i + half] = qbar[h * d + i + half];
        }
    }
    if (threadIdx.x == 0) {
        int len = step[1] + 1;
        ctrl[0] = hit ? 1 : 0;
        ctrl[1] = len - nInit - nLocal;
        ctrl[2] = len;
        if (hit) {
            counters[0]++;
        } else {
            if (valid && cacheOn) counters[1]++;
            counters[2]++;
            *keptValid = 1;
        }
    }
}

extern "C" __global__ void __launch_bounds__(1024) ts_decode_gate(const float *__restrict__ q,
                                                                  const float *__restrict__ invFreq, int H, int d,
                                                                  int nLocal, int nInit, float theta, int cacheOn,
                                                                  float *__restrict__ keptQ, int *__restrict__ keptValid,
                                                                  float *__restrict__ qbar, int *__restrict__ ctrl,
                                                                  int *__restrict__ counters, const int *__restrict__ step) { PDL_BEGIN();
    ts_decode_gate_body(q, invFreq, H, d, nLocal, nInit, theta, cacheOn, keptQ, keptValid, qbar, ctrl, counters, step);
}

/** The local window of a layer's entry list for this step: entries[nInit + k + i] = len - nLocal + i. */
extern "C" __global__ void ts_entries_window(int *__restrict__ entries, int nInit, int k, int nLocal,
                                             const int *__restrict__ ctrl) { PDL_BEGIN();
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < nLocal) entries[nInit + k + i] = ctrl[2] - nLocal + i;
}
