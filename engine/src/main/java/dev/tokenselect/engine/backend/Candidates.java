package dev.tokenselect.engine.backend;

/**
 * The best tokens of one decode step of one sequence: {@code ids[i]} with its logit {@code logits[i]},
 * in no particular order, holding the step's k best ids (higher logit first, the lower id on a tie).
 * A sampler bounded by top-k draws from them exactly as from the whole logits row.
 */
public record Candidates(int[] ids, float[] logits) {

    public Candidates {
        if (ids.length != logits.length) {
            throw new IllegalArgumentException(ids.length + " candidate ids but " + logits.length + " logits");
        }
    }

    public int size() {
        return ids.length;
    }

    /** The k best ids of a logits row and their logits (k clamped to the row). */
    public static Candidates best(float[] row, int k) {
        int n = Math.min(k, row.length);
        int[] ids = dev.tokenselect.engine.generate.Sampler.bestIds(row, n);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = row[ids[i]];
        }
        return new Candidates(ids, values);
    }
}
