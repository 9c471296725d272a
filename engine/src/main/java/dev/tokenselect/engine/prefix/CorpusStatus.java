package dev.tokenselect.engine.prefix;

/**
 * A corpus as listed: its size, the KV memory it takes when resident, and where its K/V are now.
 *
 * @param tokens         tokens of the rendered corpus
 * @param kvBytes        bytes of the KV blocks it holds in the pool when resident (whole blocks, at the pool's precision)
 * @param persistedBytes bytes of its persisted segment on disk; 0 when it has none
 * @param residence      where it is now
 */
public record CorpusStatus(String name, int tokens, long kvBytes, long persistedBytes, Residence residence) {

    /** Where a corpus's K/V are. */
    public enum Residence {
        /** pinned in a GPU's KV pool */
        DEVICE,
        /** pinned in the CPU backend's KV pool, in host memory */
        HOST,
        /** only in its persisted segment: restored on first use */
        DISK
    }
}
