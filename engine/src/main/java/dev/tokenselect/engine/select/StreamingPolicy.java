package dev.tokenselect.engine.select;

/**
 * StreamingLLM's baseline: attention sinks plus a recent window, at compacted positions. It sees
 * nothing in between, which is what makes it a useful lower bound in evaluations.
 */
public final class StreamingPolicy implements AttentionPolicy {

    private final int nInit;
    private final int nLocal;
    private final int maxChunk;
    private final SelectionStats stats = new SelectionStats();

    public StreamingPolicy(int nInit, int nLocal, int maxChunk) {
        if (maxChunk > nLocal) {
            throw new IllegalArgumentException("the prefill chunk (" + maxChunk + ") must not exceed n-local (" + nLocal + ")");
        }
        this.nInit = nInit;
        this.nLocal = nLocal;
        this.maxChunk = maxChunk;
    }

    @Override
    public int[] select(int layer, float[] q, int n, int cachedLength, boolean decoding, KeyAccess keys, Rotator rope) {
        int[] selected = nInit + nLocal >= cachedLength ? null
                : Selections.compose(nInit, new int[0], nLocal, cachedLength);
        if (layer == 0) {
            stats.step(selected == null ? cachedLength : selected.length, cachedLength, selected != null, decoding);
        }
        return selected;
    }

    @Override
    public int maxChunk() {
        return maxChunk;
    }

    @Override
    public SelectionStats stats() {
        return stats;
    }

    @Override
    public String name() {
        return "streaming";
    }
}
