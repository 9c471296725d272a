package dev.tokenselect.engine.generate;

/** Hears how far a chunked prefill has come, after each chunk; called on the prefilling thread. */
@FunctionalInterface
public interface PrefillListener {

    PrefillListener NONE = (done, total) -> { };

    /**
     * @param doneTokens  prompt tokens run through the model so far
     * @param totalTokens tokens of the whole prompt
     */
    void onPrefill(int doneTokens, int totalTokens);
}
