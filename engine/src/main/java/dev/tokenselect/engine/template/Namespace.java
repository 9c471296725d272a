package dev.tokenselect.engine.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** Jinja2's {@code namespace(...)}: a mutable attribute bag, the only way to carry state out of a for loop. */
final class Namespace {

    final Map<Object, Object> attributes = new LinkedHashMap<>();

    boolean has(String name) {
        return attributes.containsKey(name);
    }

    Object get(String name) {
        return attributes.get(name);
    }

    void set(String name, Object value) {
        attributes.put(name, value);
    }
}
