package dev.tokenselect.engine.prefix;

/**
 * How far the registration of a corpus has come.
 *
 * @param doneTokens  tokens of the corpus whose K/V are in the pool (shared from the cache, restored or prefilled)
 * @param totalTokens tokens of the whole corpus
 */
public record CorpusProgress(String name, Stage stage, int doneTokens, int totalTokens) {

    /** The steps of a registration, in order; a registration restores or prefills, never both. */
    public enum Stage {
        /** reading the corpus's K/V back from its persisted segment */
        RESTORING,
        /** running the corpus through the model, chunk by chunk */
        PREFILLING,
        /** writing the segment and cataloguing the corpus */
        PERSISTING,
        /** resident and pinned: questions may continue it */
        READY
    }

    /** Share done, 0 to 1. */
    public double fraction() {
        return totalTokens == 0 ? 1 : (double) doneTokens / totalTokens;
    }
}
