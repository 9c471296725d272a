package dev.tokenselect.engine.select;

import java.util.Arrays;

/**
 * The {@code k} largest values' indices in ascending index order. Ties go to the lower index, so
 * every backend selects the same set: ties are common (at the first layer an un-rotated key
 * depends only on its token id, so repeated words tie exactly).
 */
public final class TopK {

    private TopK() {
    }

    public static int[] ascending(float[] values, int count, int k) {
        if (k <= 0) {
            return new int[0];
        }
        if (k >= count) {
            int[] all = new int[count];
            Arrays.setAll(all, i -> i);
            return all;
        }
        // A min-heap of the best k seen, ordered by (value, -index): its root is the weakest member.
        int[] heap = new int[k];
        int size = 0;
        for (int i = 0; i < count; i++) {
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, values);
            } else if (better(i, heap[0], values)) {
                heap[0] = i;
                siftDown(heap, k, values);
            }
        }
        Arrays.sort(heap);
        return heap;
    }

    /** Higher value wins; on equal values the lower index wins. */
    private static boolean better(int a, int b, float[] v) {
        return v[a] > v[b] || (v[a] == v[b] && a < b);
    }

    private static void siftUp(int[] heap, int i, float[] v) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!better(heap[parent], heap[i], v)) {
                break;
            }
            swap(heap, i, parent);
            i = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] v) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int r = l + 1;
            int weakest = i;
            if (l < size && better(heap[weakest], heap[l], v)) {
                weakest = l;
            }
            if (r < size && better(heap[weakest], heap[r], v)) {
                weakest = r;
            }
            if (weakest == i) {
                return;
            }
            swap(heap, i, weakest);
            i = weakest;
        }
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
