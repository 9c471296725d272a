package dev.tokenselect.engine.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

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

    Matrix(String name, int rows, int cols, MemorySegment data, int elementBytes) {
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.rowTile = Math.max(4, (int) (ROW_TILE_BYTES / ((long) cols * elementBytes)) & ~3);
        this.tokenTile = Math.max(4, (int) (TOKEN_TILE_BYTES / ((long) cols * Float.BYTES)) & ~3);
        this.tailStart = VectorMath.F.loopBound(cols);
    }

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

    /**
     * {@code out[outOff + t * rows + r] = Σ_c W[r, c] · x[xOff + t * cols + c]} for tokens
     * {@code t < tokens} and rows {@code r ∈ [rowLo, rowHi)}. Every output is accumulated in the same
     * order whatever {@code tokens} is, so a prefill and single-token steps give identical numbers.
     */
    abstract void multiply(float[] x, int xOff, int tokens, float[] out, int outOff, int rowLo, int rowHi);

    /** Copies row {@code row} as fp32 into {@code dst[dstOff ...]}. */
    abstract void readRow(int row, float[] dst, int dstOff);

    /** Bytes read from memory for one pass over the matrix. */
    abstract long bytes();

    @Override
    public String toString() {
        return name + "[" + rows + ", " + cols + "]";
    }
}
