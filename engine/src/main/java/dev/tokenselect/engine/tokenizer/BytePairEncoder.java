package dev.tokenselect.engine.tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model: turns one pre-tokenized word into ids by repeatedly applying the lowest-ranked merge,
 * leftmost first, exactly like tokenizers' {@code Word::merge_all} (a heap of candidate merges over a linked
 * list of symbols, so a word costs O(n log n) rather than O(n^2)).
 */
final class BytePairEncoder {

    /** Same bounds as tokenizers: short words are cached, at most this many of them. */
    private static final int CACHE_CAPACITY = 10_000;
    private static final int CACHE_MAX_WORD_LENGTH = 256;

    private final Map<String, Integer> vocab;
    private final MergeTable merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final String continuingSubwordPrefix;
    private final String endOfWordSuffix;
    /** Ids of single-char tokens by char, when no prefix/suffix decorates them; -1 if not in the vocabulary. */
    private final int[] singleCharIds;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BytePairEncoder(Map<String, Integer> vocab, MergeTable merges, int unkId, boolean fuseUnk, boolean ignoreMerges,
                    String continuingSubwordPrefix, String endOfWordSuffix) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = continuingSubwordPrefix == null || continuingSubwordPrefix.isEmpty() ? null : continuingSubwordPrefix;
        this.endOfWordSuffix = endOfWordSuffix == null || endOfWordSuffix.isEmpty() ? null : endOfWordSuffix;
        if (this.continuingSubwordPrefix == null && this.endOfWordSuffix == null) {
            singleCharIds = new int[1 << 16];
            Arrays.fill(singleCharIds, -1);
            for (Map.Entry<String, Integer> e : vocab.entrySet()) {
                if (e.getKey().length() == 1) singleCharIds[e.getKey().charAt(0)] = e.getValue();
            }
        } else {
            singleCharIds = null;
        }
    }

    void encode(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = mergeWord(word);
            if (word.length() < CACHE_MAX_WORD_LENGTH && cache.size() < CACHE_CAPACITY) cache.put(word, cached);
        }
        out.addAll(cached);
    }

    private int[] mergeWord(String word) {
        int n = word.length();
        int[] ids = new int[n];
        int count = 0;
        int pendingUnk = 0; // pending unknown run, tokenizers adds it lazily so that fuse_unk can extend it
        for (int i = 0; i < n; ) {
            int cp = word.codePointAt(i);
            int charLen = Character.charCount(cp);
            boolean first = i == 0;
            boolean last = i + charLen >= n;
            int id = lookupChar(word, i, charLen, first, last);
            if (id >= 0) {
                if (pendingUnk > 0) {
                    ids[count++] = unkId;
                    pendingUnk = 0;
                }
                ids[count++] = id;
            } else if (unkId >= 0) {
                if (pendingUnk > 0 && !fuseUnk) ids[count++] = unkId;
                pendingUnk = 1;
            }
            // Without an unk token, unknown characters are silently dropped (tokenizers does the same).
            i += charLen;
        }
        if (pendingUnk > 0) ids[count++] = unkId;
        return mergeAll(ids, count);
    }

    private int lookupChar(String word, int index, int charLen, boolean first, boolean last) {
        if (singleCharIds != null && charLen == 1) return singleCharIds[word.charAt(index)];
        String s = word.substring(index, index + charLen);
        if (!first && continuingSubwordPrefix != null) s = continuingSubwordPrefix + s;
        if (last && endOfWordSuffix != null) s = s + endOfWordSuffix;
        Integer id = vocab.get(s);
        return id == null ? -1 : id;
    }

    private int[] mergeAll(int[] ids, int count) {
        if (count < 2) return Arrays.copyOf(ids, count);
        int[] prev = new int[count];
        int[] next = new int[count];
        boolean[] removed = new boolean[count];
        for (int i = 0; i < count; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
        }
        MergeHeap heap = new MergeHeap(count);
        for (int i = 0; i + 1 < count; i++) {
            long m = merges.get(ids[i], ids[i + 1]);
            if (m != MergeTable.ABSENT) heap.push((int) (m >>> 32), i, (int) m);
        }
        int remaining = count;
        while (!heap.isEmpty()) {
            long top = heap.peekKey();
            int newId = heap.peekValue();
            heap.pop();
            int pos = (int) top;
            if (removed[pos] || next[pos] < 0) continue;
            int right = next[pos];
            // Skip stale entries: the pair at pos changed since this candidate was queued.
            long current = merges.get(ids[pos], ids[right]);
            if (current == MergeTable.ABSENT || (int) current != newId) continue;

            ids[pos] = newId;
            removed[right] = true;
            remaining--;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;

            if (prev[pos] >= 0) {
                long m = merges.get(ids[prev[pos]], ids[pos]);
                if (m != MergeTable.ABSENT) heap.push((int) (m >>> 32), prev[pos], (int) m);
            }
            if (next[pos] >= 0) {
                long m = merges.get(ids[pos], ids[next[pos]]);
                if (m != MergeTable.ABSENT) heap.push((int) (m >>> 32), pos, (int) m);
            }
        }
        int[] result = new int[remaining];
        int k = 0;
        for (int i = 0; i < count; i++) {
            if (!removed[i]) result[k++] = ids[i];
        }
        return result;
    }

    /** Min-heap of candidate merges ordered by (rank, position), carrying the merged id. */
    private static final class MergeHeap {
        private long[] keys;
        private int[] values;
        private int size;

        MergeHeap(int capacity) {
            keys = new long[Math.max(4, capacity)];
            values = new int[keys.length];
        }

        boolean isEmpty() {
            return size == 0;
        }

        long peekKey() {
            return keys[0];
        }

        int peekValue() {
            return values[0];
        }

        void push(int rank, int pos, int value) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            long key = ((long) rank << 32) | pos;
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] <= key) break;
                keys[i] = keys[parent];
                values[i] = values[parent];
                i = parent;
            }
            keys[i] = key;
            values[i] = value;
        }

        void pop() {
            size--;
            if (size == 0) return;
            long key = keys[size];
            int value = values[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && keys[child + 1] < keys[child]) child++;
                if (keys[child] >= key) break;
                keys[i] = keys[child];
                values[i] = values[child];
                i = child;
            }
            keys[i] = key;
            values[i] = value;
        }
    }
}
