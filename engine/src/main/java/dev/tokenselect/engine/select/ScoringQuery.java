package dev.tokenselect.engine.select;

/**
 * The per-head query that scores candidates: each chunk query rotated at position
 * {@code nLocal + i} (where it would sit at the end of a compacted selection), averaged over the
 * chunk. Scoring against un-rotated keys then compares content, not distance.
 */
final class ScoringQuery {

    private ScoringQuery() {
    }

    /**
     * Fills {@code qbar[h][0..d)} and returns it flattened (for the selection cache): the backend's
     * where it computes it ({@link KeyAccess#scoringQuery}), else from {@code q} (then not null).
     */
    static float[] compute(float[] q, int n, Geometry geo, int nLocal, Rotator rope, float[][] qbar, float[] tmp,
                           KeyAccess keys) {
        float[] there = keys == null ? null : keys.scoringQuery(n, nLocal);
        if (there == null) {
            if (q == null) {
                throw new IllegalArgumentException("no queries and no scoring query from the backend");
            }
            return compute(q, n, geo, nLocal, rope, qbar, tmp);
        }
        int d = geo.headDim();
        for (int h = 0; h < geo.numHeads(); h++) {
            System.arraycopy(there, h * d, qbar[h], 0, d);
        }
        return there;
    }

    /** Fills {@code qbar[h][0..d)} from the queries and returns it flattened. */
    static float[] compute(float[] q, int n, Geometry geo, int nLocal, Rotator rope, float[][] qbar, float[] tmp) {
        int d = geo.headDim();
        int qDim = geo.queryDim();
        float[] flat = new float[qDim];
        for (int h = 0; h < geo.numHeads(); h++) {
            float[] acc = qbar[h];
            java.util.Arrays.fill(acc, 0f);
            for (int i = 0; i < n; i++) {
                System.arraycopy(q, i * qDim + h * d, tmp, 0, d);
                rope.rotate(tmp, 0, nLocal + i);
                for (int j = 0; j < d; j++) {
                    acc[j] += tmp[j];
                }
            }
            for (int j = 0; j < d; j++) {
                acc[j] /= n;
            }
            System.arraycopy(acc, 0, flat, h * d, d);
        }
        return flat;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
