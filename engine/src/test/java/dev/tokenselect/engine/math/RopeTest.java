package dev.tokenselect.engine.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

class RopeTest {

    /** The rotation as transformers computes it: fp32 angle, each product rounded on its own. */
    private static void direct(float[] x, int off, float[] invFreq, int position) {
        int half = invFreq.length;
        for (int i = 0; i < half; i++) {
            float angle = invFreq[i] * (float) position;
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            float a = x[off + i];
            float b = x[off + half + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }

    @Test
    void theTabulatedRotationIsTheDirectOneBitForBitAsTheTableGrows() {
        for (int d : new int[] {64, 128, 80}) { // 80: a tail past the vector lanes
            float[] inv = new float[d / 2];
            for (int i = 0; i < inv.length; i++) {
                inv[i] = (float) Math.pow(1e6, -2.0 * i / d);
            }
            Rope rope = new Rope(inv);
            Random r = new Random(d);
            for (int position : new int[] {0, 1, 511, 1023, 300, 70_000, 5}) {
                float[] x = new float[d + 3];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                float[] y = x.clone();
                Rope.rotate(x, 3, rope.table(position + 1), position, rope.half());
                direct(y, 3, inv, position);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(x[i]),
                            "d " + d + ", position " + position + ", element " + i);
                }
            }
            assertTrue(rope.table(1).positions() > 70_000, "the table only grows");
        }
    }
}
