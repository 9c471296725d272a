package dev.tokenselect.engine.select;

/** What a selection policy may read of a sequence's cached keys (un-rotated, as stored). */
public interface KeyAccess {

    /**
     * {@code out[h][c] = qbar[h] · K[g(h)][from + c]} for every query head {@code h}, with the GQA
     * mapping {@code g(h) = h / (H / H_kv)}; fp32, no scaling.
     */
    void scores(int layer, float[][] qbar, int from, int to, float[][] out);

    /** Copies the key of {@code token} for KV head {@code kvHead} into {@code out[off, off + headDim)}. */
    void key(int layer, int kvHead, int token, float[] out, int off);

    /**
     * Copies the keys of tokens {@code [from, to)} for KV head {@code kvHead} into {@code out}, row
     * {@code t - from} at {@code (t - from) * headDim}: one call per range, so a backend whose keys live
     * elsewhere (device memory) can move them in a few large copies instead of one per token.
     */
    default void keys(int layer, int kvHead, int from, int to, int headDim, float[] out) {
        for (int t = from; t < to; t++) {
            key(layer, kvHead, t, out, (t - from) * headDim);
        }
    }

    /**
     * The {@code k} candidates of {@code [from, to)} with the highest head soft vote (each head's softmax
     * of {@link #scores}, summed over heads; max-pooled over {@code pool} neighbouring candidates first
     * where {@code pool} is above 1, as {@link VotePool}), as absolute token indices in ascending order,
     * ties to the lower index, computed where the keys are (so only the k indices travel); null where the
     * backend leaves that to the policy, which then computes it from {@link #scores}.
     */
    default int[] topCandidates(int layer, float[][] qbar, int from, int to, int k, int pool) {
        return null;
    }

    /**
     * As {@link #topCandidates}, with the candidates scored against int8 sketches of their keys
     * ({@link KeySketch}) kept where the keys are; null where the backend keeps none, and the policy
     * then sketches the keys it reads.
     */
    default int[] topCandidatesOnSketches(int layer, float[][] qbar, int from, int to, int k, int pool) {
        return null;
    }

    /**
     * The chunk's scoring query ({@link ScoringQuery}: each of its {@code n} queries rotated at
     * {@code nLocal + i}, averaged), heads x headDim flattened, computed where the queries are; null
     * where the backend leaves that to the policy, which then needs the queries themselves.
     */
    default float[] scoringQuery(int n, int nLocal) {
        return null;
    }
}
