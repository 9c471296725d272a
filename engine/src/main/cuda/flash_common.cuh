// Pieces shared by prefill attention on mma.sync (flash_gqa.cu) and on wgmma (flash_wgmma.cu, sm_90a).
#pragma once
#include "common.cuh"

#define FG_BR 64
#define FG_BK 64
#define FG_PAD 8
#define FG_SPLIT 0
#define FG_F16 1
#define FG_BF16 2

// One 8-pair chunk of a key (raw bf16 dims c0..c0+7 in ka, their partners + D/2 in kb) rotated at
// entry position jf and packed in the precision of MODE: hi (+ lo for FG_SPLIT) words of the first
// and of the second half. The blocks of flash_gqa and the staging kernel both go through here, so a
// staged key equals the one a block would rotate itself, bit for bit.
template <int MODE>
__device__ __forceinline__ void rotate_pack8(uint4 ka, uint4 kb, float jf, const float *freq, uint32_t *ah,
                                             uint32_t *al, uint32_t *bh, uint32_t *bl) {
    float xa[8], xb[8];
    unpack_bf16x2(ka.x, xa[0], xa[1]); unpack_bf16x2(ka.y, xa[2], xa[3]);
    unpack_bf16x2(ka.z, xa[4], xa[5]); unpack_bf16x2(ka.w, xa[6], xa[7]);
    unpack_bf16x2(kb.x, xb[0], xb[1]); unpack_bf16x2(kb.y, xb[2], xb[3]);
    unpack_bf16x2(kb.z, xb[4], xb[5]); unpack_bf16x2(kb.w, xb[6], xb[7]);
#pragma unroll
    for (int e = 0; e < 8; e += 2) {
        float r[2][2];
#pragma unroll
        for (int u = 0; u < 2; u++) {
            float sn, cs;
            sincos_reduced(__fmul_rn(jf, freq[e + u]), &sn, &cs);
            r[0][u] = __fsub_rn(__fmul_rn(xa[e + u], cs), __fmul_rn(xb[e + u], sn));
            r[1][u] = __fadd_rn(__fmul_rn(xb[e + u], cs), __fmul_rn(xa[e + u], sn));
        }
        if (MODE == FG_F16) {
            ah[e / 2] = pack_f16x2(r[0][0], r[0][1]);
            bh[e / 2] = pack_f16x2(r[1][0], r[1][1]);
        } else {
            split_bf16x2(r[0][0], r[0][1], ah[e / 2], al[e / 2]);
            split_bf16x2(r[1][0], r[1][1], bh[e / 2], bl[e / 2]);
        }
    }
}


// Dims i and i + D / 2 of packed row P's query (token P / group, head g group + P % group of a chunk
// starting at qPos0), rotated at the token's entry position and scaled by qscale; zeros for rows past
// the chunk.
template <int D>
__device__ __forceinline__ void fg_query_pair(const float *__restrict__ q, int ldq, const float *__restrict__ invFreq,
                                              int P, int rowsTotal, int group, int g, int qPos0, float qscale, int i,
                                              float &a, float &b) {
    a = 0.f;
    b = 0.f;
    if (P < rowsTotal) {
        int tok = P / group, h = g * group + P % group;
        const float *src = q + (size_t) tok * ldq + (size_t) h * D;
        rope_pair(src[i], src[i + D / 2], invFreq[i], qPos0 + tok, a, b);
        a *= qscale;
        b *= qscale;
    }
}

// The keys a block of 64 packed rows (from P0) sees, its split's share of them (gridDim.z > 1: no
// sliding window then) and the block's first token, for chunk rows of n tokens at qPos0.
struct FgKeys {
    int tokFirst;  // the block's first token: every row sees keys up to qPos0 + tokFirst
    int hiKey;     // keys at or past it are masked
    int loKey;     // the first key of this block's share, a tile boundary
    int nTiles;    // 64-key tiles of the share
};

__device__ __forceinline__ FgKeys fg_keys(int P0, int group, int n, int kvLen, int qPos0, int window,
                                          int tilesPerSplit) {
    FgKeys r;
    r.tokFirst = min(P0 / group, n - 1);
    int tokLast = min(n - 1, (P0 + FG_BR - 1) / group);
    r.hiKey = min(kvLen, qPos0 + tokLast + 1);
    int loKey = window > 0 ? max(0, qPos0 + r.tokFirst - window + 1) : 0;
    loKey = (loKey / FG_BK) * FG_BK;
    int endKey = r.hiKey;
    if (gridDim.z > 1) {
        loKey = blockIdx.z * tilesPerSplit * FG_BK;
        endKey = min(r.hiKey, loKey + tilesPerSplit * FG_BK);
    }
    r.loKey = loKey;
    r.nTiles = endKey > loKey ? (endKey - loKey + FG_BK - 1) / FG_BK : 0;
    return r;
}

// The entry position of packed row P (its token's), -1 for rows past the chunk (they see nothing).
__device__ __forceinline__ int fg_row_pos(int P, int rowsTotal, int group, int qPos0) {
    return P < rowsTotal ? qPos0 + P / group : -1;
}

// One 64-key tile of the online softmax (base 2) for a thread's rows rowA and rowA + 8 of its warp's
// 16: s holds the tile's scores in the m16n8 accumulator layout (n8 tile j: s[4 j], s[4 j + 1] of row
// rowA at keys j0 + 8 j + 2 t4 + {0, 1}, s[4 j + 2], s[4 j + 3] of row rowA + 8), a row's 64 keys in
// one quad. Where `masked`, keys at or past hiKey, after the row's position or outside its window are
// dropped. s becomes the tile's weights exp2(s - m), their sums are folded into l, and corr receives
// the factor each row's output so far must be scaled by.
template <int NT>
__device__ __forceinline__ void fg_softmax_tile(float *s, bool masked, int j0, int t4, int posA, int posB,
                                                int hiKey, int window, float *mrow, float *lrow, float *corr) {
    float tmax[2] = {NEG_INF, NEG_INF};
#pragma unroll
    for (int j = 0; j < NT; j++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            if (masked) {
                int key = j0 + 8 * j + 2 * t4 + (e & 1);
                int pos = e < 2 ? posA : posB;
                bool ok = key < hiKey && key <= pos && (window <= 0 || key > pos - window);
                if (!ok) s[4 * j + e] = NEG_INF;
            }
            tmax[e >> 1] = fmaxf(tmax[e >> 1], s[4 * j + e]);
        }
    }
    float mUse[2];
#pragma unroll
    for (int r = 0; r < 2; r++) {
        tmax[r] = fmaxf(tmax[r], __shfl_xor_sync(0xffffffffu, tmax[r], 1));
        tmax[r] = fmaxf(tmax[r], __shfl_xor_sync(0xffffffffu, tmax[r], 2));
        float mNew = fmaxf(mrow[r], tmax[r]);
        corr[r] = mNew == NEG_INF ? 1.f : exp2f(mrow[r] - mNew);
        mUse[r] = mNew == NEG_INF ? 0.f : mNew;  // a row that has seen nothing keeps weights 0
        mrow[r] = mNew;
        lrow[r] *= corr[r];
    }
#pragma unroll
    for (int j = 0; j < NT; j++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            s[4 * j + e] = exp2f(s[4 * j + e] - mUse[e >> 1]);  // exp2(-inf) = 0
            lrow[e >> 1] += s[4 * j + e];
        }
    }
}

// Scales a thread's two rows of the output (DT n8 tiles, accumulator layout) by corr[0] and corr[1].
template <int DT>
__device__ __forceinline__ void fg_rescale(float *o, const float *corr) {
#pragma unroll
    for (int j = 0; j < DT; j++) {
        o[4 * j] *= corr[0];
        o[4 * j + 1] *= corr[0];
        o[4 * j + 2] *= corr[1];
        o[4 * j + 3] *= corr[1];
    }
}

// A block's output for a thread's rows PA and PB (packed (token, head) rows; o in the accumulator
// layout of DT n8 tiles): the quad's sums of l first, then the rows normalised into out, or with
// split keys (gridDim.z > 1) this split's maximum (back to base e), sum and unnormalised rows into
// partial for attn_combine.
template <int DT>
__device__ __forceinline__ void fg_store_rows(const float *o, const float *mrow, float *lrow, int PA, int PB,
                                              int rowsTotal, int group, int g, int n, int H, int t4,
                                              float *__restrict__ partial, float *__restrict__ out, int ldo) {
    constexpr int D = DT * 8;
    constexpr float LOG2E = 1.4426950408889634f;
#pragma unroll
    for (int r = 0; r < 2; r++) {
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 1);
        lrow[r] += __shfl_xor_sync(0xffffffffu, lrow[r], 2);
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int P = r == 0 ? PA : PB;
        if (P >= rowsTotal) continue;
        int tok = P / group, h = g * group + P % group;
        if (gridDim.z > 1) {
            float *pr = partial + (((size_t) blockIdx.z * n + tok) * H + h) * (D + 2);
            if (t4 == 0) {
                pr[0] = mrow[r] == NEG_INF ? NEG_INF : mrow[r] * (1.f / LOG2E);
                pr[1] = lrow[r];
            }
#pragma unroll
            for (int j = 0; j < DT; j++) {
                int col = j * 8 + 2 * t4;
                pr[2 + col] = o[4 * j + 2 * r];
                pr[3 + col] = o[4 * j + 2 * r + 1];
            }
        } else {
            float inv = lrow[r] > 0.f ? 1.f / lrow[r] : 0.f;
#pragma unroll
            for (int j = 0; j < DT; j++) {
                int col = j * 8 + 2 * t4;
                out[(size_t) tok * ldo + (size_t) h * D + col] = o[4 * j + 2 * r] * inv;
                out[(size_t) tok * ldo + (size_t) h * D + col + 1] = o[4 * j + 2 * r + 1] * inv;
            }
        }
    }
}
