package dev.tokenselect.engine.template;

import java.util.Iterator;

/**
 * A lazy, single-pass Python iterator (the generators returned by {@code map}, {@code select}, {@code unique},
 * {@code reverse}, ...): truthy, without a length, exhausted after one traversal, exactly as in Jinja2.
 */
final class PyIterator implements Iterator<Object> {

    private final String kind;
    private final Iterator<?> source;

    PyIterator(String kind, Iterator<?> source) {
        this.kind = kind;
        this.source = source;
    }

    String kind() {
        return kind;
    }

    @Override
    public boolean hasNext() {
        return source.hasNext();
    }

    @Override
    public Object next() {
        return source.next();
    }
}
