// Causal GQA attention over the paged bf16 KV cache, fp32 math. K is cached without RoPE and rotated
// here on read; q is rotated when staged. One kernel serves decode (n = 1) and prefill chunks:
// a block takes one KV head and a tile of TQ queries (all the group's heads of each query, so every
// K/V row is read once for the whole group), walks the keys in tiles of 32 (one key per lane for the
// scores, online softmax per query row), and optionally splits the key range over gridDim.z
// (split-K, merged by attn_combine) so long contexts fill the GPU.
//
// Entries: entry j is cached token sel[j] (or j when sel is null) rotated at position j. Query i of
// the chunk sits at position qPos0 + i and sees entries lo(p) <= j <= p, lo(p) = max(0, p - window + 1)
// with a sliding window (window > 0; the host passes 0 for a selection), else 0. With a selection,
// qPos0 = |S| - n: compacted positions exactly as DESIGN.md's TokenSelect section defines them.
#include "common.cuh"

#define ATT_TK 32
#define ATT_WARPS 4

/**
 * Dynamic shared memory (floats): q rows [4*rpw][d], K tile [32][d + 1], V tile [32][d],
 * accumulators [4*rpw][d], running max and sum [4*rpw] each. rpw = query rows per warp.
 */
template <int DPL>  // head dims per lane: ceil(d / 32)
__device__ __forceinline__ void attention_body(
        const float *__restrict__ q, int ldq,
        const bf16 *__restrict__ pool, long long blockElems, const int *__restrict__ blockTable, int bs,
        int layer, int kvHeads, const int *__restrict__ sel, int nEntries, int qPos0, int n, int window,
        const float *__restrict__ invFreq, int d, int group, int tq, int rpw, float scale, int tilesPerSplit,
        float *__restrict__ out, int ldo, float *__restrict__ partial) {
    extern __shared__ float smem[];
    int half = d >> 1;
    int maxRows = ATT_WARPS * rpw;
    float *qs = smem;                          // [maxRows][d]
    float *ks = qs + maxRows * d;              // [32][d + 1]
    float *vs = ks + ATT_TK * (d + 1);         // [32][d]
    float *accs = vs + ATT_TK * d;             // [maxRows][d]
    float *ms = accs + maxRows * d;            // [maxRows]
    float *ls = ms + maxRows;                  // [maxRows]

    int g = blockIdx.x;
    int i0 = blockIdx.y * tq;
    int i1 = min(n, i0 + tq);
    int split = blockIdx.z, nsplit = gridDim.z;
    int H = kvHeads * group;
    int rows = (i1 - i0) * group;
    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;

    // stage the rotated queries, clear the accumulators
    for (int idx = tid; idx < rows * half; idx += blockDim.x) {
        int r = idx / half, i = idx % half;
        int qi = i0 + r / group, h = g * group + r % group;
        const float *src = q + (size_t) qi * ldq + (size_t) h * d;
        float a, b;
        rope_pair(src[i], src[i + half], invFreq[i], qPos0 + qi, a, b);
        qs[r * d + i] = a;
        qs[r * d + i + half] = b;
    }
    for (int idx = tid; idx < maxRows * d; idx += blockDim.x) accs[idx] = 0.f;
    for (int idx = tid; idx < maxRows; idx += blockDim.x) {
        ms[idx] = NEG_INF;
        ls[idx] = 0.f;
    }

    // the block's key range and this split's share of it
    int lo = window > 0 ? max(0, qPos0 + i0 - window + 1) : 0;
    int hi = min(nEntries, qPos0 + i1);  // exclusive
    int tileFrom = lo + split * tilesPerSplit * ATT_TK;
    int tileTo = min(hi, tileFrom + tilesPerSplit * ATT_TK);
    int rFrom = warp * rpw, rTo = min(rows, rFrom + rpw);

    for (int j0 = tileFrom; j0 < tileTo; j0 += ATT_TK) {
        __syncthreads();  // previous tile consumed (and, the first time, q staged)
        for (int idx = tid; idx < ATT_TK * half; idx += blockDim.x) {
            int jj = idx / half, i = idx % half;
            int j = j0 + jj;
            float ka = 0.f, kb = 0.f, va = 0.f, vb = 0.f;
            if (j < tileTo) {
                int tok = sel ? sel[j] : j;
                size_t ko = kv_offset(blockTable, tok, bs, blockElems, layer, 0, kvHeads, g, d);
                size_t vo = ko + (size_t) kvHeads * bs * d;
                rope_pair(bf2f(pool[ko + i]), bf2f(pool[ko + i + half]), invFreq[i], j, ka, kb);
                va = bf2f(pool[vo + i]);
                vb = bf2f(pool[vo + i + half]);
            }
            ks[jj * (d + 1) + i] = ka;
            ks[jj * (d + 1) + i + half] = kb;
            vs[jj * d + i] = va;
            vs[jj * d + i + half] = vb;
        }
        __syncthreads();

        for (int r = rFrom; r < rTo; r++) {  // warp-uniform
            int qi = i0 + r / group;
            int p = qPos0 + qi;
            int rlo = window > 0 ? max(0, p - window + 1) : 0;
            int j = j0 + lane;
            bool visible = j < tileTo && j <= p && j >= rlo;
            float s = NEG_INF;
            if (visible) {
                const float *qr = qs + r * d;
                const float *kr = ks + lane * (d + 1);
                float dot = 0.f;
                for (int e = 0; e < d; e++) dot = fmaf(qr[e], kr[e], dot);
                s = dot * scale;
            }
            float tileMax = warp_max(s);
            if (tileMax == NEG_INF) continue;  // uniform across the warp
            float mOld = ms[r];
            float mNew = fmaxf(mOld, tileMax);
            float corr = expf(mOld - mNew);  // 0 the first time (m = -inf)
            float pj = visible ? expf(s - mNew) : 0.f;
            float lNew = ls[r] * corr + warp_sum(pj);
            float a[DPL];
#pragma unroll
            for (int e = 0; e < DPL; e++) {
                int dd = lane + 32 * e;
                a[e] = dd < d ? accs[r * d + dd] * corr : 0.f;
            }
            for (int src = 0; src < ATT_TK; src++) {
                float w = __shfl_sync(0xffffffffu, pj, src);
#pragma unroll
                for (int e = 0; e < DPL; e++) {
                    int dd = lane + 32 * e;
                    if (dd < d) a[e] = fmaf(w, vs[src * d + dd], a[e]);
                }
            }
#pragma unroll
            for (int e = 0; e < DPL; e++) {
                int dd = lane + 32 * e;
                if (dd < d) accs[r * d + dd] = a[e];
            }
            __syncwarp();
            if (lane == 0) {
                ms[r] = mNew;
                ls[r] = lNew;
            }
            __syncwarp();
        }
    }
    __syncthreads();

    for (int r = rFrom; r < rTo; r++) {
        int qi = i0 + r / group, h = g * group + r % group;
        float mr = ms[r], lr = ls[r];
        if (nsplit == 1) {
            float inv = lr > 0.f ? 1.f / lr : 0.f;
            for (int dd = lane; dd < d; dd += 32) out[(size_t) qi * ldo + (size_t) h * d + dd] = accs[r * d + dd] * inv;
        } else {
            float *pr = partial + (((size_t) split * n + qi) * H + h) * (d + 2);
            if (lane == 0) {
                pr[0] = mr;
                pr[1] = lr;
            }
            for (int dd = lane; dd < d; dd += 32) pr[2 + dd] = accs[r * d + dd];
        }
    }
}

#define ATT_ENTRY(NAME, DPL)                                                                                      \
    extern "C" __global__ void __launch_bounds__(128) NAME(                                                      \
            const float *q, int ldq, const bf16 *pool, long long blockElems, const int *blockTable, int bs,       \
            int layer, int kvHeads, const int *sel, int nEntries, int qPos0, int n, int window,                  \
            const float *invFreq, int d, int group, int tq, int rpw, float scale, int tilesPerSplit, float *out, \
            int ldo, float *partial) { PDL_BEGIN();                                                                           \
        attention_body<DPL>(q, ldq, pool, blockElems, blockTable, bs, layer, kvHeads, sel, nEntries, qPos0, n,   \
                            window, invFreq, d, group, tq, rpw, scale, tilesPerSplit, out, ldo, partial);        \
    }

ATT_ENTRY(attention_d32, 1)
ATT_ENTRY(attention_d64, 2)
ATT_ENTRY(attention_d128, 4)
ATT_ENTRY(attention_d256, 8)

/**
 * Merges split-K partials: grid (n * H), block 256 or 1024 (more split groups in flight). out[i, h*d + dd]. The block reduces the splits'
 * maxima and sums in parallel; then threads take (dim, split group) pairs so the partials are read
 * by the whole block at once, and the groups are summed in shared memory.
 */
extern "C" __global__ void __launch_bounds__(1024) attn_combine(const float *__restrict__ partial, int nsplit, int n,
                                                               int H, int d, float *__restrict__ out, int ldo) { PDL_BEGIN();
    __shared__ float red[32];
    __shared__ float scaleOf[1024];
    __shared__ float sums[1024];
    int row = blockIdx.x;  // i * H + h
    int i = row / H, h = row % H;
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;
    size_t stride = (size_t) n * H * (d + 2);
    const float *base = partial + (size_t) row * (d + 2);
    float M = NEG_INF;
    for (int s = tid; s < nsplit; s += blockDim.x) M = fmaxf(M, base[s * stride]);
    M = warp_max(M);
    if (lane == 0) red[warp] = M;
    __syncthreads();
    M = lane < warps ? red[lane] : NEG_INF;
    M = warp_max(M);
    __syncthreads();
    float L = 0.f;
    for (int s = tid; s < nsplit; s += blockDim.x) {
        const float *pr = base + s * stride;
        float f = pr[0] == NEG_INF ? 0.f : expf(pr[0] - M);
        if (s < 1024) scaleOf[s] = f;
        L += pr[1] * f;
    }
    L = block_sum(L);  // its barriers also publish scaleOf
    float inv = L > 0.f ? 1.f / L : 0.f;
    int groups = max(1, (int) blockDim.x / d);
    for (int dd0 = 0; dd0 < d; dd0 += blockDim.x) {
        int dd = dd0 + tid % d;
        int group = tid / d;
        float v = 0.f;
        if (group < groups && dd < d) {
#pragma unroll 8
            for (int s = group; s < nsplit; s += groups) {
                const float *pr = base + s * stride;
                float f = s < 1024 ? scaleOf[s] : (pr[0] == NEG_INF ? 0.f : expf(pr[0] - M));
                v += pr[2 + dd] * f;
            }
        }
        __syncthreads();
        sums[tid] = v;
        __syncthreads();
        if (group == 0 && dd < d) {
            float total = 0.f;
            for (int gq = 0; gq < groups; gq++) total += sums[gq * d + tid % d];
            out[(size_t) i * ldo + (size_t) h * d + dd] = total * inv;
        }
    }
}
