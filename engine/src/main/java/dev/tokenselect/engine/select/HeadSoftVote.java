package dev.tokenselect.engine.select;

import dev.tokenselect.engine.math.Exp;

/**
 * The head soft vote: each head's scores over the candidates become a softmax (so every head has
 * one unit of vote to spread), and the votes of all heads are summed per candidate. A token that a
 * few heads care about strongly outweighs one that all heads find mildly relevant.
 */
public final class HeadSoftVote {

    private HeadSoftVote() {
    }

    /**
     * @param scores {@code scores[h][c]} for heads h and candidates c (fp32, no scaling); overwritten
     *               with the unnormalised exponentials
     * @param count  candidates to use from each row
     * @param vote   receives {@code Σ_h softmax_c(scores[h])}, length ≥ count
     */
    public static void vote(float[][] scores, int count, float[] vote) {
        java.util.Arrays.fill(vote, 0, count, 0f);
        for (float[] row : scores) {
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < count; c++) {
                max = Math.max(max, row[c]);
            }
            float inv = 1f / Exp.expShifted(row, 0, max, row, 0, count);
            for (int c = 0; c < count; c++) {
                vote[c] += row[c] * inv;
            }
        }
    }

    /** The vote of scores that stay untouched. */
    public static float[] vote(float[][] scores) {
        float[][] copy = new float[scores.length][];
        for (int h = 0; h < scores.length; h++) {
            copy[h] = scores[h].clone();
        }
        float[] v = new float[scores[0].length];
        vote(copy, v.length, v);
        return v;
    }
}
