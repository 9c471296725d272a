package dev.tokenselect.engine.generate;

import java.util.Arrays;

/**
 * Token ids ranked by logit (highest first, lower id first on a tie), ranked only as far as they are
 * read: a sampler usually stops within the first few hundred of a 150K vocabulary, so the best ids are
 * picked by a bounded heap (one compare rejects almost every id) and only those are sorted; a walk past
 * them (a flat distribution, or top-k above a few hundred) sorts the whole vocabulary once.
 */
final class SortedCandidates {

    private static final int FIRST_PREFIX = 256;

    private final float[] logits;
    private final int limit;
    /** Keys of the best ranks, in rank order: (descending logit key << 32 | id), distinct. */
    private long[] ranked = new long[0];

    /** The best {@code limit} of the ids of {@code logits} (all of them when limit is the vocabulary). */
    SortedCandidates(float[] logits, int limit) {
        this.logits = logits;
        this.limit = limit;
    }

    int size() {
        return limit;
    }

    /** The id of the given rank (0 is the best), rank < {@link #size()}. */
    int id(int rank) {
        if (rank >= ranked.length) {
            // the first few hundred by the heap; past them (or on a small vocabulary), one sort of everything
            boolean shallow = ranked.length == 0 && rank < FIRST_PREFIX && FIRST_PREFIX <= logits.length / 8;
            ranked = shallow ? best(Math.min(limit, FIRST_PREFIX)) : sortAll(limit);
        }
        return (int) ranked[rank];
    }

    /** The m smallest keys, sorted: a max-heap of the m smallest so far, its root the one to beat. */
    private long[] best(int m) {
        long[] heap = new long[m];
        int size = 0;
        for (int id = 0; id < logits.length; id++) {
            long k = key(logits[id], id);
            if (size < m) {
                int i = size++;
                while (i > 0 && heap[(i - 1) >> 1] < k) { // sift up
                    heap[i] = heap[(i - 1) >> 1];
                    i = (i - 1) >> 1;
                }
                heap[i] = k;
            } else if (k < heap[0]) {
                int i = 0;
                while (true) { // sift down from the root
                    int c = 2 * i + 1;
                    if (c >= m) {
                        break;
                    }
                    if (c + 1 < m && heap[c + 1] > heap[c]) {
                        c++;
                    }
                    if (heap[c] <= k) {
                        break;
                    }
                    heap[i] = heap[c];
                    i = c;
                }
                heap[i] = k;
            }
        }
        Arrays.sort(heap);
        return heap;
    }

    private long[] sortAll(int m) {
        long[] keys = new long[logits.length];
        for (int id = 0; id < logits.length; id++) {
            keys[id] = key(logits[id], id);
        }
        Arrays.sort(keys);
        return m == keys.length ? keys : Arrays.copyOf(keys, m);
    }

    /** Orders (logit, id) pairs highest logit first, then lowest id, as signed longs. */
    static long key(float logit, int id) {
        return ((long) descendingKey(logit) << 32) | id;
    }

    /** An int that orders floats from highest to lowest when compared as signed ints. */
    static int descendingKey(float f) {
        int bits = Float.floatToIntBits(f);
        int ascending = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
        return ~ascending;
    }
}
