package dev.tokenselect.engine.math;

import java.util.Locale;

/**
 * The host's part of a selecting prefill chunk: every query of a chunk rotated for the scoring query,
 * with each rotation computing its sines and cosines against reading them from {@link Rope}'s table,
 * side by side (best of 8 interleaved repetitions). Both produce the same bits.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp tokenselect-engine-cli.jar dev.tokenselect.engine.math.RopeBenchmark [queries=512] [heads=28] [headDim=128]</pre>
 */
public final class RopeBenchmark {

    private RopeBenchmark() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int heads = args.length > 1 ? Integer.parseInt(args[1]) : 28;
        int d = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int half = d / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            inv[i] = (float) Math.pow(1e6, -2.0 * i / d);
        }
        float[] q = new float[n * heads * d];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) Math.sin(i);
        }
        Rope rope = new Rope(inv);
        float[] direct = new float[d];
        float[] tabulated = new float[d];
        double bestDirect = Double.MAX_VALUE;
        double bestTable = Double.MAX_VALUE;
        int differ = 0;
        for (int rep = 0; rep < 8; rep++) {
            long t0 = System.nanoTime();
            float sumDirect = 0;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    System.arraycopy(q, i * heads * d + h * d, direct, 0, d);
                    rotateDirect(direct, inv, 512 + i);
                    sumDirect += direct[1];
                }
            }
            long t1 = System.nanoTime();
            float sumTable = 0;
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    System.arraycopy(q, i * heads * d + h * d, tabulated, 0, d);
                    Rope.rotate(tabulated, 0, rope.table(512 + i + 1), 512 + i, half);
                    sumTable += tabulated[1];
                }
            }
            long t2 = System.nanoTime();
            differ += Float.compare(sumDirect, sumTable) != 0 ? 1 : 0;
            bestDirect = Math.min(bestDirect, (t1 - t0) / 1e6);
            bestTable = Math.min(bestTable, (t2 - t1) / 1e6);
        }
        System.out.printf(Locale.ROOT, "%d queries x %d heads, d %d: sines and cosines per rotation %.2f ms,"
                + " from the table %.2f ms (%.1fx); results differ in %d of 8 repetitions%n", n, heads, d, bestDirect,
                bestTable, bestDirect / bestTable, differ);
    }

    /** HF rotate_half with this rotation's own sines and cosines (fp32 angle, products rounded apart). */
    private static void rotateDirect(float[] x, float[] inv, int position) {
        int half = inv.length;
        for (int j = 0; j < half; j++) {
            float angle = inv[j] * position;
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            float a = x[j];
            float b = x[j + half];
            x[j] = a * c - b * s;
            x[j + half] = b * c + a * s;
        }
    }
}
