package dev.tokenselect.engine.select;

/** Building selected-index lists: sinks, a middle part and the local window, ascending. */
final class Selections {

    private Selections() {
    }

    /** {@code [0, nInit) ∪ middle ∪ [length - nLocal, length)}; {@code middle} ascending inside the gap. */
    static int[] compose(int nInit, int[] middle, int nLocal, int length) {
        int[] s = new int[nInit + middle.length + nLocal];
        int j = 0;
        for (int t = 0; t < nInit; t++) {
            s[j++] = t;
        }
        for (int t : middle) {
            s[j++] = t;
        }
        for (int t = length - nLocal; t < length; t++) {
            s[j++] = t;
        }
        return s;
    }

    /**
     * {@code top} with those of {@code extra} in {@code [from, to)} merged in, ascending, each token once;
     * {@code top} itself when none is new.
     */
    static int[] union(int[] top, int[] extra, int from, int to) {
        int[] out = new int[top.length + extra.length];
        int i = 0, j = 0, n = 0;
        while (j < extra.length && extra[j] < from) {
            j++;
        }
        while (i < top.length || (j < extra.length && extra[j] < to)) {
            int t;
            if (j >= extra.length || extra[j] >= to || (i < top.length && top[i] <= extra[j])) {
                t = top[i++];
            } else {
                t = extra[j++];
            }
            if (n == 0 || out[n - 1] != t) {
                out[n++] = t;
            }
        }
        return n == top.length ? top : java.util.Arrays.copyOf(out, n);
    }
}
