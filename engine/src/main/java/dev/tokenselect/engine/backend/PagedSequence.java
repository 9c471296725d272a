package dev.tokenselect.engine.backend;

import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.select.AttentionPolicy;
import dev.tokenselect.engine.select.SelectionStats;
import dev.tokenselect.engine.select.SelectionTrace;
import dev.tokenselect.engine.select.TokenSelectPolicy;

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
    public void traceSelections(SelectionTrace trace) {
        if (policy instanceof TokenSelectPolicy tokenSelect) {
            tokenSelect.trace(trace);
        }
    }

    @Override
    public void alwaysSelect(int[] tokens) {
        if (policy instanceof TokenSelectPolicy tokenSelect) {
            tokenSelect.alwaysSelect(tokens);
        }
    }

    @Override
    public int maxChunk() {
        return policy.maxChunk();
    }

    /**
     * The sequences of one batched decode step as the backend's own type: one token each, valid ids,
     * each sequence at most once (a batch advances every sequence by exactly one token).
     */
    public static <S extends PagedSequence> java.util.List<S> decodeBatch(java.util.List<? extends Sequence> sequences,
                                                                          int[] tokens, int vocabSize,
                                                                          java.util.function.Function<Sequence, S> own) {
        if (sequences.size() != tokens.length) {
            throw new IllegalArgumentException(sequences.size() + " sequences but " + tokens.length + " tokens");
        }
        checkTokens(tokens, vocabSize);
        java.util.List<S> out = new java.util.ArrayList<>(tokens.length);
        java.util.Set<S> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Sequence s : sequences) {
            S seq = own.apply(s);
            if (!distinct.add(seq)) {
                throw new IllegalArgumentException("a sequence appears twice in one decode step");
            }
            out.add(seq);
        }
        return out;
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
