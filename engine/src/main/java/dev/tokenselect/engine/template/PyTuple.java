package dev.tokenselect.engine.template;

import java.util.AbstractList;
import java.util.List;

/**
 * A Python tuple: an immutable list that prints as {@code (a, b)} and never equals a list. Optional field names make
 * it a named tuple (groupby's {@code grouper}/{@code list}).
 */
final class PyTuple extends AbstractList<Object> {

    private final Object[] items;
    private final List<String> fieldNames;

    PyTuple(List<?> items) {
        this(items, List.of());
    }

    PyTuple(List<?> items, List<String> fieldNames) {
        this.items = items.toArray();
        this.fieldNames = fieldNames;
    }

    static PyTuple of(Object... items) {
        return new PyTuple(java.util.Arrays.asList(items));
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }

    /** Whether this is a named tuple with a field called {@code name}. */
    boolean hasField(String name) {
        return fieldNames.contains(name);
    }

    Object field(String name) {
        return items[fieldNames.indexOf(name)];
    }
}
