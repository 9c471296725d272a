package dev.tokenselect.engine.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

class ExpTest {

    @Test
    void accurateOverTheSoftmaxRange() {
        double worst = 0;
        for (float x = -87f; x <= 88f; x += 0.0137f) {
            double rel = Math.abs(Exp.exp(x) - Math.exp(x)) / Math.exp(x);
            worst = Math.max(worst, rel);
        }
        assertTrue(worst < 3e-7, "relative error " + worst);
        assertEquals(1f, Exp.exp(0f));
        assertEquals(0f, Exp.exp(-100f));
        assertEquals(0f, Exp.exp(Float.NEGATIVE_INFINITY));
    }

    /** The vector body and the scalar tail give the same bits for the same input. */
    @Test
    void vectorAndScalarPathsAgreeBitForBit() {
        Random r = new Random(1);
        int n = 1000 + 7;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 20);
        }
        x[n - 1] = x[0]; // the same value in the body and in the tail
        float[] out = new float[n];
        float sum = Exp.expShifted(x, 0, 0f, out, 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(Exp.exp(x[i])), Float.floatToIntBits(out[i]), "element " + i);
        }
        assertEquals(out[0], out[n - 1]);
        double expected = 0;
        for (float v : out) {
            expected += v;
        }
        assertEquals(expected, sum, expected * 1e-5);
    }
}
