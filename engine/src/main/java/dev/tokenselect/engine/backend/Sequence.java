package dev.tokenselect.engine.backend;

/** One conversation's cached tokens in a backend's KV pool. Closing it returns its blocks. */
public interface Sequence extends AutoCloseable {

    /** Tokens whose K/V are cached. */
    int length();

    @Override
    void close();
}
