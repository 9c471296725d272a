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
}
