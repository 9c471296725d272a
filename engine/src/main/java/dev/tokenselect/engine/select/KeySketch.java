package dev.tokenselect.engine.select;

/**
 * int8 sketches of cached keys for TokenSelect's scoring pass, which reads every candidate key and so
 * bounds what a selection costs: a key of d floats becomes d int8 values and one fp32 scale (half a
 * bf16 key's bytes, a quarter of an fp32 key's). Per key and KV head: {@code max = max |k_i|}, {@code scale = max / 127},
 * {@code q_i = rint(k_i * (127 / max))} (fp32 product, ties to even, within [-127, 127]); a zero key
 * has scale 0. The sketch's score is {@code scale * sum_i qbar_i q_i}. The selection it makes is the
 * policy's with these scores in place of the exact ones ({@code keys=int8}, off by default).
 */
public final class KeySketch {

    private KeySketch() {
    }

    /**
     * Quantises {@code key[off, off + d)} into {@code q[0, d)} (as floats, exactly the int8 values) and
     * returns the scale.
     */
    public static float quantize(float[] key, int off, int d, float[] q) {
        float max = 0f;
        for (int i = 0; i < d; i++) {
            max = Math.max(max, Math.abs(key[off + i]));
        }
        if (max == 0f) {
            java.util.Arrays.fill(q, 0, d, 0f);
            return 0f;
        }
        float inv = 127f / max;
        for (int i = 0; i < d; i++) {
            q[i] = Math.max(-127f, Math.min(127f, (float) Math.rint(key[off + i] * inv)));
        }
        return max / 127f;
    }

    /** Keys read per {@link KeyAccess#keys} call: bounds the copy however long the context. */
    private static final int RUN = 1024;

    /**
     * {@code out[h][c]} = the sketch score of candidate {@code from + c} for query head h, as
     * {@link KeyAccess#scores} lays out the exact ones; the keys are read a KV head and a run at a time.
     */
    public static void scores(KeyAccess keys, Geometry geo, int layer, float[][] qbar, int from, int to,
                              float[][] out) {
        int d = geo.headDim();
        int group = geo.numHeads() / geo.numKvHeads();
        float[] rows = new float[Math.min(RUN, to - from) * d];
        float[] q = new float[d];
        for (int g = 0; g < geo.numKvHeads(); g++) {
            for (int t0 = from; t0 < to; t0 += RUN) {
                int t1 = Math.min(to, t0 + RUN);
                keys.keys(layer, g, t0, t1, d, rows);
                for (int t = t0; t < t1; t++) {
                    float scale = quantize(rows, (t - t0) * d, d, q);
                    for (int h = g * group; h < (g + 1) * group; h++) {
                        float[] qh = qbar[h];
                        double acc = 0;
                        for (int i = 0; i < d; i++) {
                            acc += (double) qh[i] * q[i];
                        }
                        out[h][t - from] = (float) (scale * acc);
                    }
                }
            }
        }
    }
}
