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

