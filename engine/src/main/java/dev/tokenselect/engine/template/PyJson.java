package dev.tokenselect.engine.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, which transformers uses for the {@code tojson} filter: {@code ", "} and {@code ": "}
 * separators by default ({@code ","} between items once indenting), insertion-ordered keys, non-ASCII kept as is
 * unless {@code ensure_ascii}, and Python's float repr.
 */
final class PyJson {

    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    private PyJson(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
    }

    /**
     * @param indent None, an int (number of spaces) or a str
     * @param separators None or an (item, key) pair
     */
    static String dumps(Object value, boolean ensureAscii, Object indent, Object separators, boolean sortKeys) {
        String indentText = switch (indent) {
            case null -> null;
            case String s -> s;
            case Object o when PyValues.isInt(o) -> " ".repeat((int) Math.max(0, PyOps.toLongIndex(o)));
            default -> throw PyError.type("indent must be None, an int or a str, not " + PyValues.typeName(indent));
        };
        String item = indentText == null ? ", " : ",";
        String key = ": ";
        if (separators != null) {
            if (!(separators instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof String a)
                    || !(pair.get(1) instanceof String b)) {
                throw PyError.type("separators must be an (item_separator, key_separator) pair of strings");
            }
            item = a;
            key = b;
        }
        StringBuilder out = new StringBuilder();
        new PyJson(ensureAscii, indentText, item, key, sortKeys).encode(value, out, 0);
        return out.toString();
    }

    private void newline(StringBuilder out, int level) {
        if (indent != null) {
            out.append('\n').append(indent.repeat(level));
        }
    }

    private void encode(Object value, StringBuilder out, int level) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case String s -> string(s, out);
            case Double d -> out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d)
                    ? (d > 0 ? "Infinity" : "-Infinity") : PyValues.floatRepr(d));
            case Object o when PyValues.isInt(o) -> out.append(PyValues.str(o));
            case PyRange range -> throw PyError.type("Object of type range is not JSON serializable");
            case List<?> list -> {
                if (list.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    if (i > 0) {
                        out.append(itemSeparator);
                    }
                    newline(out, level + 1);
                    encode(list.get(i), out, level + 1);
                }
                newline(out, level);
                out.append(']');
            }
            case Map<?, ?> map -> {
                if (map.isEmpty()) {
                    out.append("{}");
                    return;
                }
                List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
                if (sortKeys) {
                    entries.sort((x, y) -> PyValues.sortCompare(x.getKey(), y.getKey()));
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : entries) {
                    if (!first) {
                        out.append(itemSeparator);
                    }
                    first = false;
                    newline(out, level + 1);
                    string(key(e.getKey()), out);
                    out.append(keySeparator);
                    encode(e.getValue(), out, level + 1);
                }
                newline(out, level);
                out.append('}');
            }
            default -> throw PyError.type("Object of type " + PyValues.typeName(value) + " is not JSON serializable");
        }
    }

    private static String key(Object key) {
        return switch (key) {
            case String s -> s;
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : PyValues.floatRepr(d);
            case Object o when PyValues.isInt(o) -> PyValues.str(o);
            default -> throw PyError.type("keys must be str, int, float, bool or None, not "
                    + PyValues.typeName(key));
        };
    }

    private void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c)); // UTF-16 units: surrogate pairs as Python does
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
