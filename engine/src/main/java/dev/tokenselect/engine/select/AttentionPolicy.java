package dev.tokenselect.engine.select;

/**
 * Decides, per layer and forward chunk, which cached tokens the chunk attends to. One instance
 * belongs to one sequence (it may keep state such as the selection cache).
 *
 * <p>A selection is an ascending list of cached-token indices; attention over it uses compacted
 * positions: entry {@code j} is rotated at position {@code j}, chunk query {@code i} sits at
 * {@code |S| - T + i} and sees entries {@code j <= |S| - T + i}. {@code null} means ordinary causal
 * attention over all {@code L} tokens at their true positions.
 */
public interface AttentionPolicy {

    /**
     * @param q            the chunk's queries after bias and q-norm, un-rotated, {@code n × H·d} row-major; null
     *                     where {@code keys} computes the scoring query itself ({@link KeyAccess#scoringQuery})
     * @param cachedLength tokens cached including the chunk ({@code L})
     * @param decoding     a decode step (the selection cache applies only there)
     */
    int[] select(int layer, float[] q, int n, int cachedLength, boolean decoding, KeyAccess keys, Rotator rope);

    /** Most tokens per forward chunk this policy allows (a chunk must fit its local window). */
    int maxChunk();

    SelectionStats stats();

    /** A short name for logs and statistics. */
    String name();

    /**
     * Whether attention over a selection uses the tokens' own positions (entry {@code j} rotated at
     * its token's position, chunk query {@code i} at its own) instead of compacted positions; which
     * entries a query sees is the same either way. DESIGN.md's extension, off by default.
     */
    default boolean originalPositions() {
        return false;
    }
}
