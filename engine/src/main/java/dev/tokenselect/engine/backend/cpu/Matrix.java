package dev.tokenselect.engine.backend.cpu;

import static dev.tokenselect.engine.backend.cpu.VectorMath.F;
import static dev.tokenselect.engine.backend.cpu.VectorMath.LANES;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;

import dev.tokenselect.engine.model.Tensor;

/**
 * A weight matrix {@code [rows, cols]} (Hugging Face layout {@code [out, in]}, row-major) that the CPU
 * backend multiplies with activations. BF16 and F32 are read straight from the memory-mapped file;
 * F16 is converted once, at load, into an off-heap F32 copy (the Vector API has no cheap f16 widening,
 * and f16 checkpoints are rare), so an f16 model costs twice its file size in memory.
 */
abstract sealed class Matrix permits Bf16Matrix, F32Matrix {

    /** Bytes of a row-block that should stay in L2 while a tile of tokens streams past it. */
    static final long ROW_TILE_BYTES = 128 * 1024;
    /** Bytes of a token tile of activations that should stay in L2 while row-blocks pass over it. */
    static final long TOKEN_TILE_BYTES = 192 * 1024;

    final String name;
    final int rows;
    final int cols;
    final MemorySegment data;
    final int rowTile;
    final int tokenTile;
    /** Columns {@code [0, tailStart)} fill whole vectors. */
    final int tailStart;
    /** Bytes of one stored element (2 for bf16, 4 for fp32). */
    final int elementBytes;

    Matrix(String name, int rows, int cols, MemorySegment data, int elementBytes) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.rowTile = Math.max(4, (int) (ROW_TILE_BYTES / ((long) cols * elementBytes)) & ~3);
        this.tokenTile = Math.max(4, (int) (TOKEN_TILE_BYTES / ((long) cols * Float.BYTES)) & ~3);
        this.tailStart = VectorMath.F.loopBound(cols);
        this.elementBytes = elementBytes;
    }

    /** A vector of weights at {@code byteOffset}, widened to fp32. */
    abstract FloatVector load(long byteOffset);

    /** One weight at {@code byteOffset}, as fp32. */
    abstract float loadScalar(long byteOffset);

    /** The matrix of a 2-D tensor; F16 is converted into F32 memory owned by {@code arena}. */
    static Matrix of(Tensor t, Arena arena) {
        if (t.rank() != 2) {
            throw new IllegalArgumentException(t + " is not a matrix");
        }
        int rows = t.dim(0);
        int cols = t.dim(1);
        return switch (t.dtype()) {
            case BF16 -> new Bf16Matrix(t.name(), rows, cols, t.data());
            case F32 -> new F32Matrix(t.name(), rows, cols, t.data());
            case F16 -> {
                long n = t.numel();
                MemorySegment f32 = arena.allocate(n * Float.BYTES, 64);
                for (long i = 0; i < n; i++) {
                    f32.setAtIndex(VectorMath.FLOAT_LE, i, t.get(i));
                }
                yield new F32Matrix(t.name(), rows, cols, f32);
            }
        };
    }

    /** Bytes read from memory for one pass over the matrix. */
    final long bytes() {
        return (long) rows * cols * elementBytes;
    }

    /** Copies row {@code row} as fp32 into {@code dst[dstOff ...]}. */
    final void readRow(int row, float[] dst, int dstOff) {
        long base = (long) row * cols * elementBytes;
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += LANES) {
            load(base + (long) elementBytes * c).intoArray(dst, dstOff + c);
        }
        for (; c < cols; c++) {
            dst[dstOff + c] = loadScalar(base + (long) elementBytes * c);
        }
    }

    /**
     * {@code out[outOff + t * rows + r] = Σ_c W[r, c] · x[xOff + t * cols + c]} for tokens
     * {@code t < tokens} and rows {@code r ∈ [rowLo, rowHi)}. Every output is accumulated in the same
     * order whatever {@code tokens} is, so a prefill and single-token steps give identical numbers.
     * Decoding walks the rows one after another (one sequential stream per thread, which the hardware
     * prefetchers follow best); prefill computes two rows by four tokens per pass (each weight vector
     * loaded once for four tokens).
     */
    final void multiply(float[] x, int xOff, int tokens, float[] out, int outOff, int rowLo, int rowHi) {
        if (tokens == 1) {
            // decode: one sequential stream through the rows
            for (int r = rowLo; r < rowHi; r++) {
                out[outOff + r] = row1(r, x, xOff);
            }
            return;
        }
        float[] lanes = new float[8 * LANES]; // rows2x4's accumulators, summed outside the kernel
        // prefill: a block of rows stays in cache while tiles of tokens pass over it
        for (int r0 = rowLo; r0 < rowHi; r0 += rowTile) {
            int r1 = Math.min(rowHi, r0 + rowTile);
            for (int t0 = 0; t0 < tokens; t0 += tokenTile) {
                int t1 = Math.min(tokens, t0 + tokenTile);
                int r = r0;
                for (; r + 2 <= r1; r += 2) {
                    int t = t0;
                    for (; t + 4 <= t1; t += 4) {
                        rows2x4(r, x, xOff + t * cols, out, outOff + t * rows + r, lanes);
                    }
                    for (; t < t1; t++) {
                        out[outOff + t * rows + r] = row1(r, x, xOff + t * cols);
                        out[outOff + t * rows + r + 1] = row1(r + 1, x, xOff + t * cols);
                    }
                }
                for (; r < r1; r++) {
                    for (int t = t0; t < t1; t++) {
                        out[outOff + t * rows + r] = row1(r, x, xOff + t * cols);
                    }
                }
            }
        }
    }

    /*
     * Every output W[r]·x is accumulated in the same order by both kernels: two vector accumulators
     * take the column vectors in turn (even vectors to a0, odd to a1), they are added, stored, their
     * lanes summed in a fixed tree (VectorMath.sumLanes), and the last columns that fill no vector
     * are added with scalar FMAs. The kernels stay small (two phases, lanes summed outside) so that C2
     * inlines and intrinsifies every vector operation; otherwise it falls back to boxed vectors.
     */

    /** Finishes the output whose summed accumulators were stored at {@code lanes[at]}. */
    private float finish(float[] lanes, int at, long wRow, float[] x, int xo) {
        float s = VectorMath.sumLanes(lanes, at);
        return tailStart == cols ? s : tail(s, wRow, x, xo);
    }

    /** The columns past the last full vector. */
    private float tail(float s, long wRow, float[] x, int xo) {
        for (int c = tailStart; c < cols; c++) {
            s = Math.fma(loadScalar(wRow + (long) elementBytes * c), x[xo + c], s);
        }
        return s;
    }

    /** One row, one token. */
    private float row1(int r, float[] x, int xo) {
        long w = (long) r * cols * elementBytes;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        int step = 2 * LANES;
        int upper2 = cols / step * step;
        int c = 0;
        for (; c < upper2; c += step) {
            long cb = w + (long) elementBytes * c;
            a0 = load(cb).fma(FloatVector.fromArray(F, x, xo + c), a0);
            a1 = load(cb + elementBytes * LANES).fma(FloatVector.fromArray(F, x, xo + c + LANES), a1);
        }
        if (c < tailStart) {
            a0 = load(w + (long) elementBytes * c).fma(FloatVector.fromArray(F, x, xo + c), a0);
        }
        // VectorMath.sum adds the lanes in the same tree as sumLanes, without the round trip through memory
        float sum = VectorMath.sum(a0.add(a1));
        return tailStart == cols ? sum : tail(sum, w, x, xo);
    }

    /** Two rows, four tokens: each weight vector is loaded once for four tokens, each input once for two rows. */
    private void rows2x4(int r, float[] x, int xo, float[] out, int oo, float[] lanes) {
        long w = (long) r * cols * elementBytes;
        long v = w + (long) cols * elementBytes;
        int x0 = xo;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z; // row r: token, phase
        FloatVector b00 = z, b01 = z, b10 = z, b11 = z, b20 = z, b21 = z, b30 = z, b31 = z; // row r + 1
        int step = 2 * LANES;
        int upper2 = cols / step * step;
        int c = 0;
        for (; c < upper2; c += step) {
            long cb = (long) elementBytes * c;
            FloatVector wa = load(w + cb);
            FloatVector wb = load(v + cb);
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a00 = wa.fma(y, a00);
            b00 = wb.fma(y, b00);
            y = FloatVector.fromArray(F, x, x1 + c);
            a10 = wa.fma(y, a10);
            b10 = wb.fma(y, b10);
            y = FloatVector.fromArray(F, x, x2 + c);
            a20 = wa.fma(y, a20);
            b20 = wb.fma(y, b20);
            y = FloatVector.fromArray(F, x, x3 + c);
            a30 = wa.fma(y, a30);
            b30 = wb.fma(y, b30);
            int c1 = c + LANES;
            long cb1 = cb + (long) elementBytes * LANES;
            wa = load(w + cb1);
            wb = load(v + cb1);
            y = FloatVector.fromArray(F, x, x0 + c1);
            a01 = wa.fma(y, a01);
            b01 = wb.fma(y, b01);
            y = FloatVector.fromArray(F, x, x1 + c1);
            a11 = wa.fma(y, a11);
            b11 = wb.fma(y, b11);
            y = FloatVector.fromArray(F, x, x2 + c1);
            a21 = wa.fma(y, a21);
            b21 = wb.fma(y, b21);
            y = FloatVector.fromArray(F, x, x3 + c1);
            a31 = wa.fma(y, a31);
            b31 = wb.fma(y, b31);
        }
        if (c < tailStart) {
            long cb = (long) elementBytes * c;
            FloatVector wa = load(w + cb);
            FloatVector wb = load(v + cb);
            FloatVector y = FloatVector.fromArray(F, x, x0 + c);
            a00 = wa.fma(y, a00);
            b00 = wb.fma(y, b00);
            y = FloatVector.fromArray(F, x, x1 + c);
            a10 = wa.fma(y, a10);
            b10 = wb.fma(y, b10);
            y = FloatVector.fromArray(F, x, x2 + c);
            a20 = wa.fma(y, a20);
            b20 = wb.fma(y, b20);
            y = FloatVector.fromArray(F, x, x3 + c);
            a30 = wa.fma(y, a30);
            b30 = wb.fma(y, b30);
        }
        a00.add(a01).intoArray(lanes, 0);
        b00.add(b01).intoArray(lanes, LANES);
        a10.add(a11).intoArray(lanes, 2 * LANES);
        b10.add(b11).intoArray(lanes, 3 * LANES);
        a20.add(a21).intoArray(lanes, 4 * LANES);
        b20.add(b21).intoArray(lanes, 5 * LANES);
        a30.add(a31).intoArray(lanes, 6 * LANES);
        b30.add(b31).intoArray(lanes, 7 * LANES);
        out[oo] = finish(lanes, 0, w, x, x0);
        out[oo + 1] = finish(lanes, LANES, v, x, x0);
        out[oo + rows] = finish(lanes, 2 * LANES, w, x, x1);
        out[oo + rows + 1] = finish(lanes, 3 * LANES, v, x, x1);
        out[oo + 2 * rows] = finish(lanes, 4 * LANES, w, x, x2);
        out[oo + 2 * rows + 1] = finish(lanes, 5 * LANES, v, x, x2);
        out[oo + 3 * rows] = finish(lanes, 6 * LANES, w, x, x3);
        out[oo + 3 * rows + 1] = finish(lanes, 7 * LANES, v, x, x3);
    }

    @Override
    public String toString() {
        return name + "[" + rows + ", " + cols + "]";
    }
}
