package dev.tokenselect.engine.backend;

import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * Runs a model's forward pass on one device. A backend owns the weights in its own format and a
 * paged KV pool; sequences hold block tables into that pool. Implementations are thread-safe for
 * distinct sequences.
 */
public interface Backend extends AutoCloseable {

    /** "cpu" or "cuda". */
    String name();

    /** A human-readable description of the device (cores, card), for logs and stats. */
    String device();

    ModelConfig config();

    /** An empty sequence with full attention; its KV blocks come from this backend's pool and return to it on close. */
    default Sequence newSequence() {
        return newSequence(AttentionSpec.full());
    }

    /** An empty sequence whose attention follows {@code attention} (full, TokenSelect or a baseline). */
    Sequence newSequence(AttentionSpec attention);

    /**
     * A new sequence that starts with the first {@code length} cached tokens of {@code source}: full
     * blocks are shared (never written again, so no copy is needed), a partial last block is copied.
     * The new sequence has its own attention policy and continues independently.
     */
    Sequence fork(Sequence source, int length, AttentionSpec attention);

    /**
     * Appends {@code tokens} to the sequence (their K/V are cached) and returns the logits of the
     * last of them ({@code vocabSize} floats, fp32).
     *
     * @throws KvCapacityException when the pool cannot hold the sequence's new length; the sequence
     *                             is left as it was before the call
     */
    default float[] forward(Sequence sequence, int[] tokens) {
        return forward(sequence, tokens, false);
    }

    /**
     * As {@link #forward(Sequence, int[])}; {@code decoding} marks a decode step (one sampled token),
     * where a selection policy may reuse its last selection.
     */
    float[] forward(Sequence sequence, int[] tokens, boolean decoding);

    /**
     * One decode step for several sequences at once: sequence {@code i} appends {@code tokens[i]}.
     * Backends that batch read each weight once for all of them; the logits equal those of separate
     * {@link #forward(Sequence, int[], boolean)} calls. All sequences advance or none does.
     */
    default float[][] decode(java.util.List<? extends Sequence> sequences, int[] tokens) {
        if (sequences.size() != tokens.length) {
            throw new IllegalArgumentException(sequences.size() + " sequences but " + tokens.length + " tokens");
        }
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            out[i] = forward(sequences.get(i), new int[] {tokens[i]}, true);
        }
        return out;
    }

    /**
     * One decode step for several sequences that need only their greedy next token: the argmax of
     * each step's logits (lowest id wins a tie), as {@link #decode} would give them. Backends that find
     * the argmax where the logits are (a GPU) return it without copying the logits out.
     */
    default int[] decodeArgmax(java.util.List<? extends Sequence> sequences, int[] tokens) {
        float[][] logits = decode(sequences, tokens);
        int[] next = new int[logits.length];
        for (int i = 0; i < logits.length; i++) {
            next[i] = dev.tokenselect.engine.generate.Sampler.argmax(logits[i]);
        }
        return next;
    }

    /**
     * One decode step for several sequences whose samplers need only their {@code k} best tokens
     * (sampling bounded by top-k): each sequence's k best ids and their logits. Backends that rank on
     * the device copy k pairs instead of the logits row; this default ranks the copied rows.
     */
    default Candidates[] decodeCandidates(java.util.List<? extends Sequence> sequences, int[] tokens, int k) {
        float[][] logits = decode(sequences, tokens);
        Candidates[] out = new Candidates[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = Candidates.best(logits[i], k);
        }
        return out;
    }

    @Override
    void close();
}
