// Prefill GEMM on tensor cores: Y[m, n] = (accumulate ? Y[m, n] : 0) + bias[n] + sum_k X[m, k] * W[n, k]
// X fp32 [M, K], W bf16 [N, K] (HF [out, in] layout), Y fp32 with row stride ldy. mma.sync m16n8k16
// bf16 with fp32 accumulation. X is staged as two bf16 terms, hi = bf16(x) and lo = bf16(x - hi), and
// both are multiplied (X W^T = hi W^T + lo W^T): activations keep ~16 mantissa bits instead of 8, so
// a prefill through many layers stays as close to an fp32 reference as the bf16 weights allow.
// Needs K % 8 == 0 (checked on the host).
// Block tile 64 (M) x 64 (N) x 32 (K), 128 threads = 2 x 2 warps of 32 x 32.
#include "gemm_common.cuh"

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 32
#define GEMM_PAD 8

extern "C" __global__ void __launch_bounds__(128) gemm_bf16_tc(const float *__restrict__ X, const bf16 *__restrict__ W,
                                                float *__restrict__ Y, const float *__restrict__ bias,
                                                int M, int N, int K, int ldy, int accumulate) { PDL_BEGIN();
    __shared__ __align__(16) bf16 As[GEMM_BM][GEMM_BK + GEMM_PAD];
    __shared__ __align__(16) bf16 Al[GEMM_BM][GEMM_BK + GEMM_PAD];
    __shared__ __align__(16) bf16 Bs[GEMM_BN][GEMM_BK + GEMM_PAD];

    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int g = lane >> 2, t = lane & 3;
    int wm = warp >> 1, wn = warp & 1;
    int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;

    float acc[2][4][4];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    for (int k0 = 0; k0 < K; k0 += GEMM_BK) {
        // X tile: 64 rows x 32 cols fp32 = 512 float4; 4 per thread. K % 8 == 0, so a float4 never straddles K.
#pragma unroll
        for (int it = 0; it < 4; it++) {
            int idx = tid + it * 128;
            int row = idx >> 3, c4 = (idx & 7) * 4;
            int gm = m0 + row, gk = k0 + c4;
            float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
            if (gm < M && gk < K) v = *reinterpret_cast<const float4 *>(X + (size_t) gm * K + gk);
            store_split4(v, &As[row][c4], &Al[row][c4]);
        }
        // W tile: 64 rows x 32 cols bf16 = 256 uint4; 2 per thread.
#pragma unroll
        for (int it = 0; it < 2; it++) {
            int idx = tid + it * 128;
            int row = idx >> 2, c8 = (idx & 3) * 8;
            int gn = n0 + row, gk = k0 + c8;
            uint4 v = make_uint4(0, 0, 0, 0);
            if (gn < N && gk < K) v = *reinterpret_cast<const uint4 *>(W + (size_t) gn * K + gk);
            *reinterpret_cast<uint4 *>(&Bs[row][c8]) = v;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk += 16) {
            uint32_t a[2][4], al[2][4], b[4][2];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                int r = wm * 32 + i * 16 + g;
                a[i][0] = *reinterpret_cast<const uint32_t *>(&As[r][kk + 2 * t]);
                a[i][1] = *reinterpret_cast<const uint32_t *>(&As[r + 8][kk + 2 * t]);
                a[i][2] = *reinterpret_cast<const uint32_t *>(&As[r][kk + 2 * t + 8]);
                a[i][3] = *reinterpret_cast<const uint32_t *>(&As[r + 8][kk + 2 * t + 8]);
                al[i][0] = *reinterpret_cast<const uint32_t *>(&Al[r][kk + 2 * t]);
                al[i][1] = *reinterpret_cast<const uint32_t *>(&Al[r + 8][kk + 2 * t]);
                al[i][2] = *reinterpret_cast<const uint32_t *>(&Al[r][kk + 2 * t + 8]);
                al[i][3] = *reinterpret_cast<const uint32_t *>(&Al[r + 8][kk + 2 * t + 8]);
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int c = wn * 32 + j * 8 + g;
                b[j][0] = *reinterpret_cast<const uint32_t *>(&Bs[c][kk + 2 * t]);
                b[j][1] = *reinterpret_cast<const uint32_t *>(&Bs[c][kk + 2 * t + 8]);
            }
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    mma_bf16_16816(acc[i][j], al[i][0], al[i][1], al[i][2], al[i][3], b[j][0], b[j][1]);
                    mma_bf16_16816(acc[i][j], a[i][0], a[i][1], a[i][2], a[i][3], b[j][0], b[j][1]);
                }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                gemm_store(Y, ldy, bias, M, N, m0 + wm * 32 + i * 16 + g + (e >= 2 ? 8 : 0),
                           n0 + wn * 32 + j * 8 + 2 * t + (e & 1), acc[i][j][e], accumulate);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// The same product with a 128 x 128 block tile, 8 warps of 64 x 32, and a two-stage pipeline: the next
// W tile arrives by cp.async and the next X tile is loaded into registers while the tensor cores work
// on the current one; X is converted to its hi + lo bf16 terms on the way into shared memory.
// Dynamic shared memory: 2 stages x (X hi, X lo, W) x 128 x (32 + 8) bf16 = 60 KiB.

#define G2_BM 128
#define G2_BN 128
#define G2_BK 32
#define G2_LD (G2_BK + GEMM_PAD)

// Three kernels share this body; fragments come from shared memory by ldmatrix (one instruction for
// four 8x8 matrices; 32-bit loads were 15% slower on an H200). X in three precisions (GemmActivations):
//   G2_HI_LO: X as bf16 hi + lo, two products per step (about 16 mantissa bits; gemm_bf16_tc2);
//   G2_BF16:  X rounded to bf16 once, one product per step (the activations' precision of bf16
//             inference elsewhere, half the tensor-core work; gemm_bf16_tc2_bf16);
//   G2_F16:   X times a power of two s rounded to fp16 once (11 bits), the W fragments widened from
//             bf16 to fp16 in registers (exact where |w| < 65504: checked once per model on the host
//             side), one fp16 product per step, the sums times 1 / s (gemm_bf16_tc2_f16). s brings the
//             GEMM's largest |x| (xAmax, the bits of a non-negative float) into [2^14, 2^15).
// Rows of 40 bf16 (80 bytes) keep the eight row addresses of an ldmatrix in distinct banks.
// Split-K (gridDim.z > 1): block z takes the z-th share of the K tiles and writes its partial product
// to Y + z * M * ldy (a workspace; the host passes no bias and no accumulation), which
// gemm_splitk_reduce then sums in split order.
template <int XM>
__device__ __forceinline__ void gemm_tc2_body(const float *__restrict__ X, const bf16 *__restrict__ W,
                                              float *__restrict__ Y, const float *__restrict__ bias, int M, int N,
                                              int K, int ldy, int accumulate, const unsigned *__restrict__ xAmax) {
    constexpr bool SPLIT = XM == G2_HI_LO;
    const float xs = XM == G2_F16 ? f16_scale(__uint_as_float(*xAmax)) : 1.f;
    extern __shared__ __align__(16) unsigned char g2_smem[];
    // stage s: X hi at s * 3 * tile, X lo at + tile (SPLIT only), W at + 2 * tile (tile = 128 * G2_LD bf16)
    bf16 *base = reinterpret_cast<bf16 *>(g2_smem);
    const int tile = G2_BM * G2_LD;

    int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    int g = lane >> 2, t = lane & 3;
    int wm = warp >> 2, wn = warp & 3;  // 2 x 4 warps: 64 rows x 32 columns each
    int m0 = blockIdx.y * G2_BM, n0 = blockIdx.x * G2_BN;

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[i][j][e] = 0.f;

    float4 xr[4];  // this thread's share of the next X tile: 128 x 32 fp32 = 1024 float4, 4 each
    auto loadX = [&](int k0) {
#pragma unroll
        for (int it = 0; it < 4; it++) {
            int idx = tid + it * 256;
            int row = idx >> 3, c4 = (idx & 7) * 4;
            xr[it] = load_x4(X, M, K, m0 + row, k0 + c4);
        }
    };
    auto storeX = [&](int stage) {
        bf16 *ah = base + stage * 3 * tile;
        bf16 *al = ah + tile;
#pragma unroll
        for (int it = 0; it < 4; it++) {
            int idx = tid + it * 256;
            int row = idx >> 3, c4 = (idx & 7) * 4;
            store_x4<XM>(xr[it], ah + row * G2_LD + c4, al + row * G2_LD + c4, xs);
        }
    };
    auto loadW = [&](int k0, int stage) {  // 128 rows x 32 bf16 = 512 chunks of 16 bytes, 2 each
        bf16 *bs = base + stage * 3 * tile + 2 * tile;
#pragma unroll
        for (int it = 0; it < 2; it++) {
            int idx = tid + it * 256;
            int row = idx >> 2, c8 = (idx & 3) * 8;
            int gn = n0 + row, gk = k0 + c8;
            bf16 *dst = bs + row * G2_LD + c8;
            if (gn < N && gk < K) {
                cp_async16(dst, W + (size_t) gn * K + gk);
            } else {
                *reinterpret_cast<uint4 *>(dst) = make_uint4(0, 0, 0, 0);
            }
        }
        asm volatile("cp.async.commit_group;\n" ::);
    };

    // ldmatrix row addresses: A (16 rows x 16 k: lanes 0-15 rows, lanes 16-31 the k + 8 half);
    // B (two n8 tiles x 16 k: lanes 0-7 / 8-15 the first tile's k halves, 16-31 the second tile's)
    int aRow = wm * 64 + (lane & 15), aCol = (lane >> 4) * 8;
    int bRow = wn * 32 + (lane & 7) + ((lane >> 4) << 3), bCol = ((lane >> 3) & 1) * 8;

    int tiles = (K + G2_BK - 1) / G2_BK;
    int perSplit = (tiles + gridDim.z - 1) / gridDim.z;
    int kt0 = blockIdx.z * perSplit, kt1 = min(tiles, kt0 + perSplit);
    Y += (size_t) blockIdx.z * M * ldy;
    loadX(kt0 * G2_BK);
    loadW(kt0 * G2_BK, 0);
    storeX(0);
    for (int kt = kt0; kt < kt1; kt++) {
        int cur = (kt - kt0) & 1, nxt = cur ^ 1;
        bool more = kt + 1 < kt1;
        if (more) {
            loadW((kt + 1) * G2_BK, nxt);  // the buffer was released by the barrier ending the last step
            loadX((kt + 1) * G2_BK);
            asm volatile("cp.async.wait_group 1;\n" ::);  // the current W tile has landed
        } else {
            asm volatile("cp.async.wait_group 0;\n" ::);
        }
        __syncthreads();
        const bf16 *ah = base + cur * 3 * tile;
        const bf16 *al = ah + tile;
        const bf16 *bs = ah + 2 * tile;
#pragma unroll
        for (int kk = 0; kk < G2_BK; kk += 16) {
            uint32_t b[4][2];
#pragma unroll
            for (int j = 0; j < 4; j += 2) {
                ldmatrix_x4(bs + (bRow + 8 * j) * G2_LD + kk + bCol, b[j][0], b[j][1], b[j + 1][0], b[j + 1][1]);
            }
            if (XM == G2_F16) {
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    b[j][0] = bf16x2_to_f16x2(b[j][0]);
                    b[j][1] = bf16x2_to_f16x2(b[j][1]);
                }
            }
#pragma unroll
            for (int i = 0; i < 4; i++) {
                uint32_t a[4], l[4];
                ldmatrix_x4(ah + (aRow + 16 * i) * G2_LD + kk + aCol, a[0], a[1], a[2], a[3]);
                if (SPLIT) ldmatrix_x4(al + (aRow + 16 * i) * G2_LD + kk + aCol, l[0], l[1], l[2], l[3]);
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    if (SPLIT) mma_bf16_16816(acc[i][j], l[0], l[1], l[2], l[3], b[j][0], b[j][1]);
                    if (XM == G2_F16) {
                        mma_f16_16816(acc[i][j], a[0], a[1], a[2], a[3], b[j][0], b[j][1]);
                    } else {
                        mma_bf16_16816(acc[i][j], a[0], a[1], a[2], a[3], b[j][0], b[j][1]);
                    }
                }
            }
        }
        if (more) {
            storeX(nxt);  // nobody reads the other stage's X during this step
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                gemm_store(Y, ldy, bias, M, N, m0 + wm * 64 + i * 16 + g + (e >= 2 ? 8 : 0),
                           n0 + wn * 32 + j * 8 + 2 * t + (e & 1), XM == G2_F16 ? acc[i][j][e] / xs : acc[i][j][e],
                           accumulate);
            }
        }
    }
}

GEMM_ENTRY(gemm_bf16_tc2, gemm_tc2_body, G2_HI_LO, 2)
GEMM_ENTRY(gemm_bf16_tc2_bf16, gemm_tc2_body, G2_BF16, 2)
GEMM_ENTRY(gemm_bf16_tc2_f16, gemm_tc2_body, G2_F16, 2)

/**
 * *amax = max(*amax, max |x|) over n values, as the bits of a non-negative float (their order is the
 * floats' order; the caller zeroes *amax first). grid min(ceil(n / 1024), 1024), block 256.
 */
template <typename T>
__device__ __forceinline__ void absmax_body(const T *__restrict__ x, long long n, unsigned *__restrict__ amax) {
    float m = 0.f;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        m = fmaxf(m, fabsf((float) x[i]));
    }
    m = warp_max(m);
    if ((threadIdx.x & 31) == 0) atomicMax(amax, __float_as_uint(m));
}

/** Of a GEMM's fp32 activations (the fp16 kernels' scale). */
extern "C" __global__ void absmax_f32(const float *__restrict__ x, long long n, unsigned *__restrict__ amax) { PDL_BEGIN();
    absmax_body(x, n, amax);
}

/** Of bf16 weights (once at load: whether they fit fp16). */
extern "C" __global__ void absmax_bf16(const bf16 *__restrict__ x, long long n, unsigned *__restrict__ amax) { PDL_BEGIN();
    absmax_body(x, n, amax);
}

/**
 * X rounded to 16 bits for the wgmma GEMMs that read it by cp.async (wgmma.cu): out[i] = fp16(x[i] s)
 * with s the power of two max |x| asks for (f16_scale of *amax), or bf16(x[i]). n % 4 == 0; grid
 * min(ceil(n / 1024), 4096), block 256.
 */
template <int XM>
__device__ __forceinline__ void x16_body(const float *__restrict__ x, long long n, const unsigned *__restrict__ amax,
                                         uint2 *__restrict__ out) {
    const float s = XM == G2_F16 ? f16_scale(__uint_as_float(*amax)) : 1.f;
    const float4 *x4 = reinterpret_cast<const float4 *>(x);
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n / 4;
         i += (long long) gridDim.x * blockDim.x) {
        out[i] = pack4<XM>(x4[i], s);
    }
}

extern "C" __global__ void x16_f16(const float *__restrict__ x, long long n, const unsigned *__restrict__ amax,
                                   uint2 *__restrict__ out) { PDL_BEGIN();
    x16_body<G2_F16>(x, n, amax, out);
}

extern "C" __global__ void x16_bf16(const float *__restrict__ x, long long n, const unsigned *__restrict__ amax,
                                    uint2 *__restrict__ out) { PDL_BEGIN();
    x16_body<G2_BF16>(x, n, amax, out);
}

/** max(|v.x|, |v.y|, |v.z|, |v.w|). */
__device__ __forceinline__ float absmax4(float4 v) {
    return fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
}

/**
 * Ends a row kernel of one block per row whose threads hold the row's float4 c = threadIdx.x + j *
 * THREADS in v[j] (c < n4) and its largest |value| so far in m: rowScale[blockIdx.x] = s, the power
 * of two the row's max asks for (f16_scale), and the row as fp16 times s at out (rows of n4 uint2).
 */
template <int PER, int THREADS>
__device__ __forceinline__ void store_row_f16(const float4 (&v)[PER], int n4, float m, uint2 *__restrict__ out,
                                              float *__restrict__ rowScale) {
    const float s = f16_scale(block_max(m));
    if (threadIdx.x == 0) rowScale[blockIdx.x] = s;
    uint2 *o = out + (size_t) blockIdx.x * n4;
#pragma unroll
    for (int j = 0; j < PER; j++) {
        int c = threadIdx.x + j * THREADS;
        if (c < n4) o[c] = pack4<G2_F16>(v[j], s);
    }
}

/**
 * X rounded to fp16 row by row, each row scaled by the power of two its own max |x| asks for:
 * out[r, c] = fp16(x[r, c] s_r), rowScale[r] = s_r (f16_scale), for the wgmma GEMMs (wgmma.cu), which
 * divide row r's sums by s_r. One pass over X instead of a max pass and a rounding pass, and a row
 * of small activations keeps fp16's precision beside a row of large ones. K % 4 == 0; grid (rows),
 * block 256.
 */
extern "C" __global__ void x16_rows_f16(const float *__restrict__ x, int K, uint2 *__restrict__ out,
                                        float *__restrict__ rowScale) { PDL_BEGIN();
    const float4 *row = reinterpret_cast<const float4 *>(x + (size_t) blockIdx.x * K);
    float m = 0.f;
    for (int c = threadIdx.x; c < K / 4; c += blockDim.x) m = fmaxf(m, absmax4(row[c]));
    const float s = f16_scale(block_max(m));
    if (threadIdx.x == 0) rowScale[blockIdx.x] = s;
    uint2 *o = out + (size_t) blockIdx.x * (K / 4);
    for (int c = threadIdx.x; c < K / 4; c += blockDim.x) o[c] = pack4<G2_F16>(row[c], s);  // the row again, from L1 or L2
}

/**
 * SwiGLU of rows of gate|up (2 ffn floats each, as one GEMM writes them) straight into the down GEMM's
 * fp16 input: out[r, i] = fp16(silu(g) u s_r), rowScale[r] = s_r, the power of two the row's largest
 * |silu(g) u| asks for (f16_scale). The row stays in registers between its max and its rounding, so
 * neither the fp32 SwiGLU nor a second pass over it touches memory. ffn % 4 == 0, ffn <= 4 * 1024 *
 * SWIGLU16_PER_THREAD; grid (rows), block 1024.
 */
#define SWIGLU16_PER_THREAD 8
extern "C" __global__ void __launch_bounds__(1024) swiglu_rows_f16(const float *__restrict__ gu, int ffn,
                                                                   uint2 *__restrict__ out,
                                                                   float *__restrict__ rowScale) { PDL_BEGIN();
    const float4 *g4 = reinterpret_cast<const float4 *>(gu + (size_t) blockIdx.x * 2 * ffn);
    const float4 *u4 = g4 + ffn / 4;
    float4 v[SWIGLU16_PER_THREAD];
    float m = 0.f;
#pragma unroll
    for (int j = 0; j < SWIGLU16_PER_THREAD; j++) {
        int c = threadIdx.x + j * 1024;
        if (c < ffn / 4) {
            float4 g = g4[c], u = u4[c];
            v[j] = make_float4(silu_mul(g.x, u.x), silu_mul(g.y, u.y), silu_mul(g.z, u.z), silu_mul(g.w, u.w));
            m = fmaxf(m, absmax4(v[j]));
        }
    }
    store_row_f16<SWIGLU16_PER_THREAD, 1024>(v, ffn / 4, m, out, rowScale);
}

/**
 * RMSNorm of rows straight into a GEMM's fp16 input: out[r, c] = fp16((x[r, c] * inv_r) * w[c] s_r),
 * rowScale[r] = s_r, the power of two the row's largest normed value asks for (f16_scale); inv_r as
 * rmsnorm_rows computes it. The row stays in registers between the norm, its max and its rounding.
 * dim % 4 == 0, dim <= 4 * 256 * RMS16_PER_THREAD; grid (rows), block 256.
 */
#define RMS16_PER_THREAD 8
extern "C" __global__ void __launch_bounds__(256) rmsnorm_rows_f16(const float *__restrict__ x,
                                                                   const float *__restrict__ w, int dim, float eps,
                                                                   uint2 *__restrict__ out,
                                                                   float *__restrict__ rowScale) { PDL_BEGIN();
    const float4 *xr = reinterpret_cast<const float4 *>(x + (size_t) blockIdx.x * dim);
    const float4 *w4 = reinterpret_cast<const float4 *>(w);
    float4 v[RMS16_PER_THREAD];
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < RMS16_PER_THREAD; j++) {
        int c = threadIdx.x + j * 256;
        if (c < dim / 4) {
            v[j] = xr[c];
            ss += v[j].x * v[j].x + v[j].y * v[j].y + v[j].z * v[j].z + v[j].w * v[j].w;
        }
    }
    ss = block_sum(ss);
    const float inv = 1.0f / sqrtf(ss / dim + eps);
    float m = 0.f;
#pragma unroll
    for (int j = 0; j < RMS16_PER_THREAD; j++) {
        int c = threadIdx.x + j * 256;
        if (c < dim / 4) {
            float4 g = w4[c];
            v[j].x = (v[j].x * inv) * g.x;
            v[j].y = (v[j].y * inv) * g.y;
            v[j].z = (v[j].z * inv) * g.z;
            v[j].w = (v[j].w * inv) * g.w;
            m = fmaxf(m, absmax4(v[j]));
        }
    }
    store_row_f16<RMS16_PER_THREAD, 256>(v, dim / 4, m, out, rowScale);
}

/**
 * Y[m, n] = (accumulate ? Y[m, n] : 0) + bias[n] + sum over z < splits of ws[z][m][n] (in split order),
 * ws row stride N. grid ceil(M * N / 4 / 256), block 256; needs N % 4 == 0.
 */
extern "C" __global__ void gemm_splitk_reduce(const float *__restrict__ ws, int splits, int M, int N,
                                              float *__restrict__ Y, int ldy, const float *__restrict__ bias,
                                              int accumulate) { PDL_BEGIN();
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;  // float4 index
    long long total = (long long) M * N / 4;
    if (i >= total) return;
    int m = (int) (i * 4 / N), n = (int) (i * 4 % N);
    float4 v = reinterpret_cast<const float4 *>(ws)[i];
    for (int z = 1; z < splits; z++) {
        float4 w = reinterpret_cast<const float4 *>(ws + (size_t) z * M * N)[i];
        v.x += w.x;
        v.y += w.y;
        v.z += w.z;
        v.w += w.w;
    }
    float *y = Y + (size_t) m * ldy + n;
    float out[4] = {v.x, v.y, v.z, v.w};
    for (int e = 0; e < 4; e++) {
        float r = out[e] + (bias ? bias[n + e] : 0.f);
        y[e] = accumulate ? y[e] + r : r;
    }
}
