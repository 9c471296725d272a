package dev.tokenselect.engine.template;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Evaluated call arguments with Python's positional/keyword binding rules. */
final class Args {

    static final Args EMPTY = new Args(List.of(), Map.of());

    final List<Object> positional;
    final Map<String, Object> keywords;

    Args(List<Object> positional, Map<String, Object> keywords) {
        this.positional = positional;
        this.keywords = keywords;
    }

    static Args of(Object... positional) {
        return new Args(Arrays.asList(positional), Map.of());
    }

    int size() {
        return positional.size();
    }

    /** Whether parameter {@code name} (at position {@code index}) was passed. */
    boolean has(int index, String name) {
        return index < positional.size() || keywords.containsKey(name);
    }

    Object get(int index, String name, Object fallback) {
        if (index < positional.size()) {
            return positional.get(index);
        }
        return keywords.containsKey(name) ? keywords.get(name) : fallback;
    }

    Object required(int index, String name, String function) {
        if (!has(index, name)) {
            throw PyError.type(function + "() missing required argument: '" + name + "'");
        }
        return get(index, name, null);
    }

    /** Rejects what Python would reject for a function whose parameters are {@code names}. */
    Args check(String function, String... names) {
        if (positional.size() > names.length) {
            throw PyError.type(function + "() takes at most " + names.length + " argument(s) (" + positional.size()
                    + " given)");
        }
        List<String> known = Arrays.asList(names);
        for (String keyword : keywords.keySet()) {
            int index = known.indexOf(keyword);
            if (index < 0) {
                throw PyError.type(function + "() got an unexpected keyword argument '" + keyword + "'");
            }
            if (index < positional.size()) {
                throw PyError.type(function + "() got multiple values for argument '" + keyword + "'");
            }
        }
        return this;
    }

    /** The same arguments without the first {@code count} positionals (for filters that forward the rest). */
    Args dropPositional(int count) {
        return new Args(positional.subList(Math.min(count, positional.size()), positional.size()),
                new LinkedHashMap<>(keywords));
    }
}
