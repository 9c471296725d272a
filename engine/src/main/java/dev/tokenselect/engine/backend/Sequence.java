package dev.tokenselect.engine.backend;

/** One conversation's cached tokens in a backend's KV pool. Closing it returns its blocks. */
public interface Sequence extends AutoCloseable {

    /** Tokens whose K/V are cached. */
    int length();

    /** Counts of the sequence's attention policy (selections, cache hits, tokens attended). */
    dev.tokenselect.engine.select.SelectionStats selectionStats();

    /** The largest number of tokens one forward pass of this sequence takes (prefill chunk). */
    int maxChunk();

    @Override
    void close();
}
