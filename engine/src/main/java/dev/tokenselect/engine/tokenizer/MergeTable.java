package dev.tokenselect.engine.tokenizer;

import java.util.Arrays;

/**
 * Open-addressing map from a token-id pair to (rank, merged id), packed into longs. With ~300K merges a boxed
 * {@code HashMap<Long, Long>} would dominate BPE time and memory.
 */
final class MergeTable {

    static final long ABSENT = -1L;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    MergeTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, -1L);
        mask = capacity - 1;
    }

    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** Later entries for the same pair replace earlier ones, like collecting the merges into a Rust HashMap. */
    void put(int left, int right, int rank, int mergedId) {
        if ((size + 1) * 2 > keys.length) grow();
        insert(pair(left, right), ((long) rank << 32) | (mergedId & 0xFFFFFFFFL));
    }

    /** Returns {@code rank << 32 | mergedId}, or {@link #ABSENT}. */
    long get(int left, int right) {
        long key = pair(left, right);
        int slot = mix(key) & mask;
        while (true) {
            long k = keys[slot];
            if (k == key) return values[slot];
            if (k == -1L) return ABSENT;
            slot = (slot + 1) & mask;
        }
    }

    private void insert(long key, long value) {
        int slot = mix(key) & mask;
        while (keys[slot] != -1L && keys[slot] != key) slot = (slot + 1) & mask;
        if (keys[slot] == -1L) size++;
        keys[slot] = key;
        values[slot] = value;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, -1L);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != -1L) insert(oldKeys[i], oldValues[i]);
        }
    }

    private static int mix(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
