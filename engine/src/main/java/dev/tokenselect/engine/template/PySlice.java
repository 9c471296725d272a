package dev.tokenselect.engine.template;

import java.util.ArrayList;
import java.util.List;

/** A Python slice {@code [start:stop:step]}; each part is None (null) or an int. */
record PySlice(Object start, Object stop, Object step) {

    /** Whether Python would accept these bounds (ints or None); otherwise the subscript is a TypeError. */
    boolean valid() {
        return (start == null || PyValues.isInt(start)) && (stop == null || PyValues.isInt(stop))
                && (step == null || PyValues.isInt(step));
    }

    /** CPython's {@code slice.indices(length)}: {start, stop, step} clamped to the sequence. */
    int[] indices(int length) {
        long stepValue = step == null ? 1 : PyOps.toLongIndex(step);
        if (stepValue == 0) {
            throw PyError.value("slice step cannot be zero");
        }
        long lower = stepValue < 0 ? -1 : 0;
        long upper = stepValue < 0 ? length - 1 : length;
        long startValue = start == null ? (stepValue < 0 ? upper : lower) : clamp(PyOps.toLongIndex(start), length,
                lower, upper);
        long stopValue = stop == null ? (stepValue < 0 ? lower : upper) : clamp(PyOps.toLongIndex(stop), length,
                lower, upper);
        int clampedStep = (int) Math.max(Math.min(stepValue, Integer.MAX_VALUE), -Integer.MAX_VALUE);
        return new int[] {(int) startValue, (int) stopValue, clampedStep};
    }

    private static long clamp(long index, int length, long lower, long upper) {
        if (index < 0) {
            index += length;
            return Math.max(index, lower);
        }
        return Math.min(index, upper);
    }

    /** The selected positions of a sequence of {@code length} elements, in order. */
    List<Integer> positions(int length) {
        int[] idx = indices(length);
        List<Integer> out = new ArrayList<>();
        if (idx[2] > 0) {
            for (long i = idx[0]; i < idx[1]; i += idx[2]) {
                out.add((int) i);
            }
        } else {
            for (long i = idx[0]; i > idx[1]; i += idx[2]) {
                out.add((int) i);
            }
        }
        return out;
    }

    List<Object> apply(List<?> list) {
        List<Object> out = new ArrayList<>();
        for (int i : positions(list.size())) {
            out.add(list.get(i));
        }
        return out;
    }
}
