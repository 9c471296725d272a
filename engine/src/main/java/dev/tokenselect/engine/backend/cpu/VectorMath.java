package dev.tokenselect.engine.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector API species and the small fp32 kernels of the forward pass. */
final class VectorMath {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Half as wide as {@link #F}: as many bf16 lanes as F has float lanes. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int LANES = F.length();

    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat FLOAT_NATIVE = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private static final VectorShuffle<Float> ROTATE_8 = VectorShuffle.iota(F, 8, 1, true);
    private static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.iota(F, 4, 1, true);
    private static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(F, 2, 1, true);
    private static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(F, 1, 1, true);

    private VectorMath() {
    }

    /**
     * The sum of {@code lanes[at, at + LANES)} in a fixed tree order: lane i is added to lane
     * i + LANES/2, then i + LANES/4, ... (the same arithmetic as {@link #sum(FloatVector)}).
     */
    static float sumLanes(float[] lanes, int at) {
        for (int w = LANES / 2; w >= 1; w >>= 1) {
            for (int i = 0; i < w; i++) {
                lanes[at + i] += lanes[at + i + w];
            }
        }
        return lanes[at];
    }

    /**
     * The sum of the lanes in a fixed order (a tree of lanewise adds). Unlike
     * {@code reduceLanes(ADD)}, whose order is unspecified and differs between the interpreter and
     * compiled code, this gives the same bits every time, which TokenSelect's bit-for-bit comparisons
     * and prefill-versus-decode equality rely on.
     */
    static float sum(FloatVector v) {
        if (LANES > 16) {
            float[] lanes = v.toArray();
            float s = 0f;
            for (float x : lanes) {
                s += x;
            }
            return s;
        }
        if (LANES == 16) {
            v = v.add(v.rearrange(ROTATE_8));
        }
        if (LANES >= 8) {
            v = v.add(v.rearrange(ROTATE_4));
        }
        if (LANES >= 4) {
            v = v.add(v.rearrange(ROTATE_2));
        }
        if (LANES >= 2) {
            v = v.add(v.rearrange(ROTATE_1));
        }
        return v.lane(0);
    }

    /** {@link #LANES} bf16 values at {@code byteOffset}, widened to fp32: bits shifted left by 16. */
    static FloatVector bf16(MemorySegment seg, long byteOffset) {
        ShortVector s = ShortVector.fromMemorySegment(S, seg, byteOffset, LE);
        return ((IntVector) s.convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    static float bf16Scalar(MemorySegment seg, long byteOffset) {
        return Float.intBitsToFloat((seg.get(SHORT_LE, byteOffset) & 0xFFFF) << 16);
    }

    static FloatVector f32(MemorySegment seg, long byteOffset) {
        return FloatVector.fromMemorySegment(F, seg, byteOffset, LE);
    }

    static float f32Scalar(MemorySegment seg, long byteOffset) {
        return seg.get(FLOAT_LE, byteOffset);
    }

    /** Dot product of {@code n} floats of two arrays. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int upper = F.loopBound(n);
        int i = 0;
        float sum;
        if (upper > 0) {
            FloatVector acc = FloatVector.zero(F);
            for (; i < upper; i += LANES) {
                acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
            }
            sum = sum(acc);
        } else {
            sum = 0f;
        }
        for (; i < n; i++) {
            sum = Math.fma(a[aOff + i], b[bOff + i], sum);
        }
        return sum;
    }

    /** Dot product of {@code n} floats of an array and of a native-order row in a segment. */
    static float dot(float[] a, int aOff, MemorySegment seg, long byteOffset, int n) {
        int upper = F.loopBound(n);
        int i = 0;
        float sum;
        if (upper > 0) {
            FloatVector acc = FloatVector.zero(F);
            for (; i < upper; i += LANES) {
                acc = FloatVector.fromArray(F, a, aOff + i)
                        .fma(FloatVector.fromMemorySegment(F, seg, byteOffset + 4L * i, ByteOrder.nativeOrder()), acc);
            }
            sum = sum(acc);
        } else {
            sum = 0f;
        }
        for (; i < n; i++) {
            sum = Math.fma(a[aOff + i], seg.get(FLOAT_NATIVE, byteOffset + 4L * i), sum);
        }
        return sum;
    }

    /** {@code out[o + i] += p * seg[v + i]} for {@code n} floats (native order) at byte offset {@code v}. */
    static void axpy(float p, MemorySegment seg, long byteOffset, float[] out, int outOff, int n) {
        int upper = F.loopBound(n);
        int i = 0;
        if (upper > 0) {
            FloatVector pv = FloatVector.broadcast(F, p);
            for (; i < upper; i += LANES) {
                FloatVector v = FloatVector.fromMemorySegment(F, seg, byteOffset + 4L * i, ByteOrder.nativeOrder());
                v.fma(pv, FloatVector.fromArray(F, out, outOff + i)).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            out[outOff + i] = Math.fma(p, seg.get(FLOAT_NATIVE, byteOffset + 4L * i), out[outOff + i]);
        }
    }

    /**
     * RMSNorm of {@code rows} rows of {@code n} floats: {@code out = x * 1/sqrt(mean(x²) + eps) * w},
     * as transformers computes it in fp32 (the mean of squares is accumulated in double).
     */
    static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] w, int rows, int n, float eps) {
        for (int r = 0; r < rows; r++) {
            int xo = xOff + r * n;
            int oo = outOff + r * n;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                ss += v * v;
            }
            float mean = (float) (ss / n);
            float inv = (float) (1.0 / Math.sqrt(mean + eps));
            for (int i = 0; i < n; i++) {
                out[oo + i] = (x[xo + i] * inv) * w[i];
            }
        }
    }

    /** {@code x[i] += y[i]}. */
    static void add(float[] x, float[] y, int n) {
        int upper = F.loopBound(n);
        int i = 0;
        for (; i < upper; i += LANES) {
            FloatVector.fromArray(F, x, i).add(FloatVector.fromArray(F, y, i)).intoArray(x, i);
        }
        for (; i < n; i++) {
            x[i] += y[i];
        }
    }

    /** Adds a bias of {@code n} floats to each of {@code rows} rows. */
    static void addBias(float[] x, float[] bias, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            int o = r * n;
            for (int i = 0; i < n; i++) {
                x[o + i] += bias[i];
            }
        }
    }

    /** SwiGLU: {@code gate[i] = silu(gate[i]) * up[i]}, silu(g) = g * sigmoid(g). */
    static void swiglu(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            float silu = (float) (g / (1.0 + Math.exp(-g)));
            gate[i] = silu * up[i];
        }
    }

    /** In-place softmax of {@code x[off, off + n)} in fp32 (max subtracted; exp and sum in double, rounded). */
    static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = dev.tokenselect.engine.math.Exp.expShifted(x, off, max, x, off, n);
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }
}
