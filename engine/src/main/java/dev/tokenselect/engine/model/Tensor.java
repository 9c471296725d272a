package dev.tokenselect.engine.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named tensor as stored in a weights file: dtype, shape and the (memory-mapped) bytes, row-major.
 * Backends decide how to compute with it; this class only reads single values.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return Math.toIntExact(shape[i]);
    }

    public float get(long index) {
        return switch (dtype) {
            case F32 -> data.get(FLOAT_LE, index * 4);
            case BF16 -> Float.intBitsToFloat((data.get(SHORT_LE, index * 2) & 0xFFFF) << 16);
            case F16 -> Float.float16ToFloat(data.get(SHORT_LE, index * 2));
        };
    }

    /** Copies elements [from, from + out.length) as fp32. */
    public void read(long from, float[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = get(from + i);
        }
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString();
    }
}
