package dev.tokenselect.engine.backend;

/** One conversation's cached tokens in a backend's KV pool. Closing it returns its blocks. */
public interface Sequence extends AutoCloseable {

    /** Tokens whose K/V are cached. */
    int length();

    /** Counts of the sequence's attention policy (selections, cache hits, tokens attended). */
    dev.tokenselect.engine.select.SelectionStats selectionStats();

    /**
     * Shows every host-side selection of a TokenSelect sequence to {@code trace} (diagnostics); a
     * sequence under another policy has none to show.
     */
    void traceSelections(dev.tokenselect.engine.select.SelectionTrace trace);

    /**
     * Makes every host-side selection of a TokenSelect sequence attend {@code tokens} too, besides the
     * ones its scoring chose (diagnostics: the accuracy with a scoring that never misses them); a
     * sequence under another policy attends as before.
     */
    void alwaysSelect(int[] tokens);

    /** The largest number of tokens one forward pass of this sequence takes (prefill chunk). */
    int maxChunk();

    @Override
    void close();
}
