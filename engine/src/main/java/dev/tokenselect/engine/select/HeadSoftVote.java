package dev.tokenselect.engine.select;

/**
 * The head soft vote: each head's scores over the candidates become a softmax (so every head has
 * one unit of vote to spread), and the votes of all heads are summed per candidate. A token that a
 * few heads care about strongly outweighs one that all heads find mildly relevant.
 */
public final class HeadSoftVote {

    private HeadSoftVote() {
    }

    /**
     * @param scores {@code scores[h][c]} for heads h and candidates c (fp32, no scaling)
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
            float sum = 0;
            for (int c = 0; c < count; c++) {
                sum += (float) Math.exp(row[c] - max);
            }
            float inv = 1f / sum;
            for (int c = 0; c < count; c++) {
                vote[c] += (float) Math.exp(row[c] - max) * inv;
            }
        }
    }

    public static float[] vote(float[][] scores) {
        float[] v = new float[scores[0].length];
        vote(scores, v.length, v);
        return v;
    }
}
