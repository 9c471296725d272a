package dev.tokenselect.engine.math;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code e^x} in fp32 from basic IEEE operations only (multiply, add, fused multiply-add, integer
 * shifts), vectorised with the Vector API. The scalar and vector paths perform the same operations in
 * the same order, so every element gets the same bits whichever path, lane or JIT tier computes it:
 * softmaxes over identical scores stay identical, and TokenSelect's ties stay ties. The library
 * {@code Math.exp} is slow here (one call per score of a 1M-token selection), and a vector
 * {@code EXP} may differ in the last bit between interpreter and compiled code.
 *
 * <p>Range reduction {@code x = n·ln2 + r}, {@code |r| ≤ ln2/2}, then a degree-6 Taylor polynomial
 * for {@code e^r} (relative error below 2e-7) scaled by {@code 2^n}. Inputs below -87.3 give 0.
 */
public final class Exp {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding it rounds a float to the nearest integer (ties to even). */
    private static final float ROUNDER = 12582912f;
    private static final float MIN = -87.3f;
    private static final float MAX = 88.7f;
    private static final float C2 = 1f / 2;
    private static final float C3 = 1f / 6;
    private static final float C4 = 1f / 24;
    private static final float C5 = 1f / 120;
    private static final float C6 = 1f / 720;

    private Exp() {
    }

    public static float exp(float x) {
        if (x < MIN) {
            return 0f;
        }
        float v = Math.min(x, MAX);
        float n = (v * LOG2E + ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, v);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(C6, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    private static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.lt(MIN);
        FloatVector v = x.min(MAX).max(MIN);
        FloatVector n = v.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
        FloatVector r = n.fma(b(-LN2_HI), v);
        r = n.fma(b(-LN2_LO), r);
        FloatVector p = b(C6).fma(r, b(C5));
        p = p.fma(r, b(C4));
        p = p.fma(r, b(C3));
        p = p.fma(r, b(C2));
        p = p.fma(r, b(1f));
        p = p.fma(r, b(1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        return p.mul(scale).blend(0f, under);
    }

    private static FloatVector b(float v) {
        return FloatVector.broadcast(F, v);
    }

    /** {@code out[o + i] = e^(x[xo + i] - shift)} for {@code i < n}; returns their sum (fp32, fixed order). */
    public static float expShifted(float[] x, int xo, float shift, float[] out, int oo, int n) {
        int i = 0;
        int upper = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        for (; i < upper; i += F.length()) {
            FloatVector e = exp(FloatVector.fromArray(F, x, xo + i).sub(shift));
            e.intoArray(out, oo + i);
            acc = acc.add(e);
        }
        float sum = 0f;
        float[] lanes = acc.toArray();
        for (float l : lanes) {
            sum += l;
        }
        for (; i < n; i++) {
            float e = exp(x[xo + i] - shift);
            out[oo + i] = e;
            sum += e;
        }
        return sum;
    }
}
