// One-vector GEMV of a decode step with the weight bytes spread evenly over the card.
//
// gemv_batch_xs_r1_b1 gives each warp one weight row: the Qwen2-7B's q|k|v projection (4,608 rows)
// is 576 blocks of 8 rows, a little over one wave, so the last blocks run on a mostly idle card, and
// every block stages and normalises the whole input for 8 rows. Here the grid is a fixed number of
// blocks per SM; block i takes the outputs [i * rows / grid, (i + 1) * rows / grid) (their weight
// rows are one contiguous range, gate and up ranges for SwiGLU), cut into units of 32 16-byte chunks
// (256 weights, one load per lane), and its 16 warps take equal contiguous runs of those units. So
// every SM streams the same number of bytes to within a row, whatever the row count, and the input is
// staged once per block. A warp sums its lanes where its run leaves a row and stores the sum at the
// run's first unit of that row (the block's other units hold 0); the epilogue adds a row's units in
// order, so the result does not depend on which warp took what.
//
// Arguments as gemv_batch_body (decode.cu) for one vector (b0 = 0): xMode 1 RMS-normalises the input
// with normW; bias, accumulate; with kvPool, rows from qDim on are also stored as the new token's K
// and V at position step[B]. GLU: W is [2 * rows, cols] (gate rows, then up rows) and
// Y[r] = silu(gate[r]) * up[r]. Needs cols % 8 == 0.
// grid blocks (<= rows), block GSP_THREADS; dynamic shared memory 4 * (cols + units per block) bytes
// (CudaKernels.spreadGemvSharedBytes).
#include "common.cuh"

#define GSP_THREADS 512
#define GSP_U 4  // units in flight per warp

template <bool GLU>
__device__ __forceinline__ void gemv_spread_body(
        const bf16 *__restrict__ W, const float *__restrict__ X, float *__restrict__ Y, const float *__restrict__ bias,
        int xMode, const float *__restrict__ normW, float eps, int rows, int cols, int accumulate,
        bf16 *__restrict__ kvPool, long long blockElems, const int *__restrict__ tables, int bs, int layer,
        int kvHeads, int d, int qDim, const int *__restrict__ step, int B) {
    extern __shared__ __align__(16) float gsp_smem[];
    float *xs = gsp_smem;             // the (normalised) input
    float *unitSum = gsp_smem + cols;  // one float per unit of the block
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    int r0 = (int) ((long long) blockIdx.x * rows / gridDim.x);
    int r1 = (int) ((long long) (blockIdx.x + 1) * rows / gridDim.x);
    int nr = r1 - r0;
    int weightRows = GLU ? 2 * nr : nr;
    int chunks = cols >> 3;
    int upr = (chunks + 31) >> 5;  // units per row; a row's last unit may be partly past its end
    int units = weightRows * upr;
    int u0 = (int) ((long long) warp * units / warps);
    int u1 = (int) ((long long) (warp + 1) * units / warps);
    auto rowPtr = [&](int lr) {  // weight row of the block's local row lr
        size_t r = GLU && lr >= nr ? (size_t) rows + r0 + (lr - nr) : (size_t) r0 + lr;
        return reinterpret_cast<const uint4 *>(W + r * cols);
    };
    // the weights are read-only: the run's first units start toward L2 while the kernel before
    // (programmatic dependent launch) finishes; then wait for it
    for (int u = u0; u < min(u1, u0 + GSP_U); u++) {
        int lr = u / upr, c = (u - lr * upr) * 32 + lane;
        if (c < chunks) asm volatile("prefetch.global.L2 [%0];\n" ::"l"(rowPtr(lr) + c));
    }
    PDL_BEGIN();

    // the input staged and normalised once per block (the same products, in the same order, as
    // gemv_batch_body), the block's unit sums cleared
    for (int i = threadIdx.x; i < units; i += blockDim.x) unitSum[i] = 0.f;
    stage_input_row(xs, X, cols, xMode, normW, eps);

    int curRow = -1, segStart = 0;
    float part = 0.f;
    for (int ub = u0; ub < u1; ub += GSP_U) {
        uint4 w[GSP_U];
        int rowOf[GSP_U], chunkOf[GSP_U];
#pragma unroll
        for (int i = 0; i < GSP_U; i++) {
            int u = ub + i;
            int lr = u / upr;
            int c = (u - lr * upr) * 32 + lane;
            rowOf[i] = lr;
            chunkOf[i] = c;
            w[i] = u < u1 && c < chunks ? __ldcs(rowPtr(lr) + c) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int i = 0; i < GSP_U; i++) {
            if (ub + i >= u1) break;  // warp-uniform
            if (rowOf[i] != curRow) {  // warp-uniform: the run leaves a row
                if (curRow >= 0) {
                    float s = warp_sum(part);
                    if (lane == 0) unitSum[segStart] = s;
                }
                curRow = rowOf[i];
                segStart = ub + i;
                part = 0.f;
            }
            int c = chunkOf[i];
            if (c < chunks) {
                float4 xa = reinterpret_cast<const float4 *>(xs)[2 * c];
                float4 xb = reinterpret_cast<const float4 *>(xs)[2 * c + 1];
                float xv[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
                part = dot8_bf16(w[i], xv, part);
            }
        }
    }
    if (curRow >= 0) {
        float s = warp_sum(part);
        if (lane == 0) unitSum[segStart] = s;
    }
    __syncthreads();

    for (int lr = threadIdx.x; lr < nr; lr += blockDim.x) {
        int r = r0 + lr;
        float v = 0.f;
        for (int k = 0; k < upr; k++) v += unitSum[lr * upr + k];
        if constexpr (GLU) {  // SwiGLU as every kernel computes it (silu_mul)
            float up = 0.f;
            for (int k = 0; k < upr; k++) up += unitSum[(nr + lr) * upr + k];
            Y[r] = silu_mul(v, up);
        } else {
            v += bias ? bias[r] : 0.f;
            v = accumulate ? Y[r] + v : v;
            Y[r] = v;
            if (kvPool && r >= qDim) {
                int kvDim = kvHeads * d;
                int kr = r - qDim;
                int isValue = kr >= kvDim ? 1 : 0;
                int within = kr - isValue * kvDim;
                size_t o = kv_offset(tables, step[B], bs, blockElems, layer, isValue, kvHeads, within / d, d);
                kvPool[o + within % d] = __float2bfloat16_rn(v);
            }
        }
    }
}

#define GEMV_SPREAD_ENTRY(NAME, GLU)                                                                               \
    extern "C" __global__ void __launch_bounds__(GSP_THREADS, 2) NAME(                                             \
            const bf16 *W, const float *X, int ldx, float *Y, int ldy, const float *bias, int xMode,             \
            const float *normW, float eps, int rows, int cols, int accumulate, bf16 *kvPool,                      \
            long long blockElems, const int *tables, int tableStride, int bs, int layer, int kvHeads, int d,      \
            int qDim, const int *step, int B, int b0) { /* PDL_BEGIN in the body, after the weight prefetch */ \
        gemv_spread_body<GLU>(W, X, Y, bias, xMode, normW, eps, rows, cols, accumulate, kvPool, blockElems,      \
                              tables, bs, layer, kvHeads, d, qDim, step, B);                                      \
    }

GEMV_SPREAD_ENTRY(gemv_spread_b1, false)
GEMV_SPREAD_ENTRY(gemv_spread_glu_b1, true)
