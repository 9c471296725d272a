package dev.tokenselect.engine.select;

/** Ordinary causal attention over every cached token at its true position. */
public final class FullAttentionPolicy implements AttentionPolicy {

    private final SelectionStats stats = new SelectionStats();
    private final int maxChunk;

    public FullAttentionPolicy(int maxChunk) {
        this.maxChunk = maxChunk;
    }

    @Override
    public int[] select(int layer, float[] q, int n, int cachedLength, boolean decoding, KeyAccess keys, Rotator rope) {
        if (layer == 0) {
            stats.step(cachedLength, cachedLength, false, decoding);
        }
        return null;
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
        return "full";
    }
}
