package dev.tokenselect.engine.generate;

import dev.tokenselect.engine.backend.Sequence;

/**
 * Where a queued request's sequence comes from and what happens to it when the request is done: a fresh
 * sequence, a fork of a resident corpus, or one that starts with a cached prefix of the prompt (which is
 * then published for the requests after it). {@link BatchScheduler} calls both methods on its worker.
 */
public interface SequenceSource {

    /**
     * A sequence that already holds the first {@code cachedTokens} tokens of the request's prompt.
     *
     * @param cachedTokens fewer than the prompt's length: at least one token is prefilled, its logits
     *                     start the generation
     */
    record Prepared(Sequence sequence, int cachedTokens) {
    }

    /** Opens the request's sequence. */
    Prepared open();

    /** The request finished well; called before the sequence is closed. A failure here is logged, not reported. */
    default void finished(Sequence sequence) {
    }
}
