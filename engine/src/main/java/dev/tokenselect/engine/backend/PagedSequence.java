package dev.tokenselect.engine.backend;

import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.select.AttentionPolicy;
import dev.tokenselect.engine.select.SelectionStats;

/** What every backend's sequence is: a block table into the backend's KV pool and an attention policy. */
public abstract class PagedSequence implements Sequence {

    private final BlockTable table;
    private final AttentionPolicy policy;

    protected PagedSequence(BlockTable table, AttentionPolicy policy) {
        this.table = table;
        this.policy = policy;
    }

    /** The sequence's blocks in the backend's KV pool. */
    public BlockTable blockTable() {
        return table;
    }

    public AttentionPolicy policy() {
        return policy;
    }

    @Override
    public int length() {
        return table.length();
    }

    @Override
    public SelectionStats selectionStats() {
        return policy.stats();
    }

    @Override
    public int maxChunk() {
        return policy.maxChunk();
    }

    /**
     * Checks a forward call's tokens against the vocabulary before anything changes.
     *
     * @throws IllegalArgumentException naming the first bad id
     */
    public static void checkTokens(int[] tokens, int vocabSize) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("forward needs at least one token");
        }
        for (int t : tokens) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException("token id " + t + " outside the vocabulary [0, " + vocabSize + ")");
            }
        }
    }
}
