package dev.tokenselect.engine.math;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding in Hugging Face's {@code rotate_half} convention: dimension {@code i} is
 * paired with {@code i + headDim/2}, and at position {@code p}
 * <pre>
 *   out[i]        = x[i] · cos(θ_i) − x[i + d/2] · sin(θ_i)
 *   out[i + d/2]  = x[i + d/2] · cos(θ_i) + x[i] · sin(θ_i)       θ_i = p · invFreq[i]
 * </pre>
 * with the angle computed in fp32 as transformers does ({@code inv_freq.float() * pos}) and each
 * product rounded separately (no FMA), as {@code q * cos + rotate_half(q) * sin} is in PyTorch.
 *
 * <p>cos/sin are tabulated per position and grown on demand (positions are bounded by the KV
 * capacity); the table only ever grows, and a snapshot taken after {@link #table(int)} covers the
 * positions asked for. Shared by the CPU backend and the CUDA backend's host-side rotations (the
 * selection policies' scoring queries), so both take the same values from one table per model.
 */
public final class Rope {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    private static final ValueLayout.OfFloat FLOAT_NATIVE = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /** cos and sin of position {@code p}, pair {@code i}, at index {@code p * half + i}. */
    public record Table(float[] cos, float[] sin, int positions) {
    }

    private final float[] invFreq;
    private final int half;
    private volatile Table table = new Table(new float[0], new float[0], 0);

    public Rope(float[] invFreq) {
        this.invFreq = invFreq.clone();
        this.half = invFreq.length;
    }

    public int half() {
        return half;
    }

    /** A table that covers positions {@code [0, positions)}. */
    public Table table(int positions) {
        Table t = table;
        return t.positions >= positions ? t : grow(positions);
    }

    private synchronized Table grow(int positions) {
        Table t = table;
        if (t.positions >= positions) {
            return t;
        }
        int n = (int) Math.min(Integer.MAX_VALUE / Math.max(1, half), Math.max(positions, Math.max(256L, 2L * t.positions)));
        float[] cos = java.util.Arrays.copyOf(t.cos, n * half);
        float[] sin = java.util.Arrays.copyOf(t.sin, n * half);
        for (int p = t.positions; p < n; p++) {
            float pos = p;
            for (int i = 0; i < half; i++) {
                float angle = invFreq[i] * pos;
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Table grown = new Table(cos, sin, n);
        table = grown;
        return grown;
    }

    /** Rotates {@code x[off, off + 2·half)} in place at {@code position} ({@code t} must cover it). */
    public static void rotate(float[] x, int off, Table t, int position, int half) {
        float[] cos = t.cos;
        float[] sin = t.sin;
        int row = position * half;
        int i = 0;
        if (half % LANES == 0) {
            for (; i < half; i += LANES) {
                FloatVector a = FloatVector.fromArray(F, x, off + i);
                FloatVector b = FloatVector.fromArray(F, x, off + half + i);
                FloatVector c = FloatVector.fromArray(F, cos, row + i);
                FloatVector s = FloatVector.fromArray(F, sin, row + i);
                a.mul(c).sub(b.mul(s)).intoArray(x, off + i);
                b.mul(c).add(a.mul(s)).intoArray(x, off + half + i);
            }
        }
        for (; i < half; i++) {
            float a = x[off + i];
            float b = x[off + half + i];
            float c = cos[row + i];
            float s = sin[row + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }

    /** Reads a row of {@code 2·half} floats (native order) at {@code byteOffset}, writes it rotated at {@code position} into {@code dst}. */
    public static void rotate(MemorySegment src, long byteOffset, float[] dst, int off, Table t, int position,
                              int half) {
        float[] cos = t.cos;
        float[] sin = t.sin;
        int row = position * half;
        long halfBytes = 4L * half;
        int i = 0;
        if (half % LANES == 0) {
            for (; i < half; i += LANES) {
                FloatVector a = FloatVector.fromMemorySegment(F, src, byteOffset + 4L * i, ByteOrder.nativeOrder());
                FloatVector b = FloatVector.fromMemorySegment(F, src, byteOffset + halfBytes + 4L * i,
                        ByteOrder.nativeOrder());
                FloatVector c = FloatVector.fromArray(F, cos, row + i);
                FloatVector s = FloatVector.fromArray(F, sin, row + i);
                a.mul(c).sub(b.mul(s)).intoArray(dst, off + i);
                b.mul(c).add(a.mul(s)).intoArray(dst, off + half + i);
            }
        }
        for (; i < half; i++) {
            float a = src.get(FLOAT_NATIVE, byteOffset + 4L * i);
            float b = src.get(FLOAT_NATIVE, byteOffset + halfBytes + 4L * i);
            float c = cos[row + i];
            float s = sin[row + i];
            dst[off + i] = a * c - b * s;
            dst[off + half + i] = b * c + a * s;
        }
    }
}
