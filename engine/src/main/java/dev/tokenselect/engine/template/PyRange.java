package dev.tokenselect.engine.template;

import java.util.AbstractList;

/** Python's {@code range} object: a lazy immutable sequence of ints that prints as {@code range(0, 3)}. */
final class PyRange extends AbstractList<Object> {

    final long start;
    final long stop;
    final long step;
    private final int size;

    PyRange(long start, long stop, long step) {
        this.start = start;
        this.stop = stop;
        this.step = step;
        long count = step > 0 ? Math.max(0, (stop - start + step - 1) / step)
                : Math.max(0, (start - stop - step - 1) / -step);
        this.size = (int) Math.min(count, Integer.MAX_VALUE);
    }

    @Override
    public Object get(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(index);
        }
        return start + index * step;
    }

    @Override
    public int size() {
        return size;
    }

    PyRange slice(PySlice slice) {
        // CPython's compute_slice: the bounds are mapped through the range, not normalized.
        int[] idx = slice.indices(size);
        return new PyRange(start + idx[0] * step, start + idx[1] * step, step * idx[2]);
    }

    String repr() {
        return "range(" + start + ", " + stop + (step == 1 ? "" : ", " + step) + ")";
    }
}
