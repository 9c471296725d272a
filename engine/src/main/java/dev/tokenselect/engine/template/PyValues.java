package dev.tokenselect.engine.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Python semantics for the plain Java values a template works on: None is {@code null}, int is {@link Long} (or
 * {@link BigInteger} when it overflows), float is {@link Double}, bool is {@link Boolean}, str is {@link String}, list
 * is {@link List}, tuple is {@link PyTuple}, dict is {@link Map} (insertion ordered). Covers truthiness, str(), repr(),
 * ==, ordering, len(), iteration, {@code in}, and Jinja2's sandboxed attribute/item lookup.
 */
final class PyValues {

    /** Marks "lookup failed" inside attribute/item resolution (Python's AttributeError/LookupError/TypeError). */
    static final Object MISSING = new Object();

    private PyValues() {
    }

    // ---------------------------------------------------------------- conversion from Java

    /** Converts caller-supplied Java values into the canonical representation (copying collections). */
    static Object fromJava(Object value) {
        return switch (value) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case Double d -> d;
            case Float f -> f.doubleValue();
            case BigInteger b -> normalizeInt(b);
            case BigDecimal b -> b.doubleValue();
            case Character c -> c.toString();
            case Optional<?> o -> fromJava(o.orElse(null));
            case tools.jackson.databind.JsonNode node -> JsonValues.toJava(node);
            case PyTuple t -> t;
            case Map<?, ?> map -> {
                Map<Object, Object> copy = new LinkedHashMap<>();
                map.forEach((k, v) -> copy.put(fromJava(k), fromJava(v)));
                yield copy;
            }
            case Collection<?> collection -> {
                List<Object> copy = new ArrayList<>(collection.size());
                for (Object item : collection) {
                    copy.add(fromJava(item));
                }
                yield copy;
            }
            case Object[] array -> fromJava(java.util.Arrays.asList(array));
            case Enum<?> e -> e.name();
            case Undefined u -> u;
            case Namespace ns -> ns;
            case PyCallable c -> c;
            default -> throw new IllegalArgumentException(
                    "unsupported template value type " + value.getClass().getName());
        };
    }

    static Object normalizeInt(BigInteger value) {
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    // ---------------------------------------------------------------- type tests

    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Boolean || v instanceof BigInteger;
    }

    static boolean isNumber(Object v) {
        return isInt(v) || v instanceof Double;
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case Boolean b -> "bool";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Double d -> "float";
            case String s -> "str";
            case PyTuple t -> "tuple";
            case PyRange r -> "range";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            case DictView view -> view.kind();
            case PyIterator it -> it.kind();
            case Undefined u -> "Undefined";
            case Namespace ns -> "Namespace";
            case LoopContext loop -> "LoopContext";
            case Macro m -> "Macro";
            case PyCallable c -> "function";
            case PySlice s -> "slice";
            default -> v.getClass().getSimpleName();
        };
    }

    // ---------------------------------------------------------------- truthiness

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Undefined u -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case BigInteger b -> b.signum() != 0;
            case Double d -> d != 0.0;
            case String s -> !s.isEmpty();
            case Collection<?> c -> !c.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            case DictView view -> !view.items().isEmpty();
            default -> true;
        };
    }

    // ---------------------------------------------------------------- str() and repr()

    /** Python's {@code str(v)}, which is what {@code {{ v }}} prints. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Undefined u -> "";
            case Boolean b -> b ? "True" : "False";
            case Long l -> l.toString();
            case BigInteger b -> b.toString();
            case Double d -> floatRepr(d);
            default -> repr(v);
        };
    }

    static String repr(Object v) {
        StringBuilder out = new StringBuilder();
        repr(v, out);
        return out.toString();
    }

    private static void repr(Object v, StringBuilder out) {
        switch (v) {
            case null -> out.append("None");
            case String s -> stringRepr(s, out);
            case Undefined u -> out.append("Undefined");
            case PyTuple t -> {
                out.append('(');
                reprItems(t, out);
                if (t.size() == 1) {
                    out.append(',');
                }
                out.append(')');
            }
            case PyRange range -> out.append(range.repr());
            case List<?> list -> {
                out.append('[');
                reprItems(list, out);
                out.append(']');
            }
            case Map<?, ?> map -> reprMap(map, out);
            case DictView view -> {
                out.append(view.kind()).append("([");
                reprItems(view.items(), out);
                out.append("])");
            }
            case Namespace ns -> {
                out.append("<Namespace ");
                reprMap(ns.attributes, out);
                out.append('>');
            }
            case LoopContext loop -> out.append("<LoopContext ").append(loop.index0() + 1).append('/')
                    .append(loop.length()).append('>');
            case PyIterator it -> out.append('<').append(it.kind()).append(" object>");
            case Macro m -> out.append("<Macro '").append(m.name()).append("'>");
            case Methods.BoundMethod m -> out.append("<built-in method ").append(m.method()).append(" of ")
                    .append(typeName(m.receiver())).append(" object>");
            case PyCallable c -> out.append("<function ").append(c.name()).append('>');
            case PySlice s -> out.append("slice(").append(repr(s.start())).append(", ").append(repr(s.stop()))
                    .append(", ").append(repr(s.step())).append(')');
            default -> out.append(str(v));
        }
    }

    private static void reprItems(List<?> items, StringBuilder out) {
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(", ");
            }
            repr(items.get(i), out);
        }
    }

    private static void reprMap(Map<?, ?> map, StringBuilder out) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            repr(e.getKey(), out);
            out.append(": ");
            repr(e.getValue(), out);
        }
        out.append('}');
    }

    /** Python's string repr: single quotes unless the text has ' but no ", escapes for non-printables. */
    static void stringRepr(String s, StringBuilder out) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        out.append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') {
                out.append('\\').appendCodePoint(cp);
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\r') {
                out.append("\\r");
            } else if (cp < 0x20 || cp == 0x7f) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp < 0x7f || PyStrings.isPrintable(cp)) {
                out.appendCodePoint(cp);
            } else if (cp <= 0xff) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp <= 0xffff) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.append(String.format("\\U%08x", cp));
            }
        }
        out.append(quote);
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        // Double.toString gives the shortest uniquely identifying digits (JDK 19+), the same digits Python picks.
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int decimalPoint = digits.length() - exact.scale(); // value = 0.<digits> * 10^decimalPoint
        StringBuilder out = new StringBuilder();
        if (d < 0) {
            out.append('-');
        }
        if (decimalPoint > -4 && decimalPoint <= 16) {
            if (decimalPoint <= 0) {
                out.append("0.").append("0".repeat(-decimalPoint)).append(digits);
            } else if (decimalPoint >= digits.length()) {
                out.append(digits).append("0".repeat(decimalPoint - digits.length())).append(".0");
            } else {
                out.append(digits, 0, decimalPoint).append('.').append(digits, decimalPoint, digits.length());
            }
        } else {
            int exponent = decimalPoint - 1;
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            out.append('e').append(exponent < 0 ? '-' : '+');
            int abs = Math.abs(exponent);
            if (abs < 10) {
                out.append('0');
            }
            out.append(abs);
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- equality and ordering

    /** Python {@code ==}. */
    static boolean eq(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a instanceof Undefined || b instanceof Undefined) {
            return a instanceof Undefined && b instanceof Undefined;
        }
        if (a == null || b == null) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
            return PyOps.compareNumbers(a, b) == 0 && !isNaN(a) && !isNaN(b);
        }
        if (a instanceof String sa) {
            return b instanceof String sb && sa.equals(sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if (sequenceKind(a) != sequenceKind(b) || la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Object other = dictGet(mb, e.getKey());
                if (other == MISSING || !eq(e.getValue(), other)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof DictView va && b instanceof DictView vb) {
            return va.kind().equals(vb.kind()) && eq(va.items(), vb.items());
        }
        return false;
    }

    /** list, tuple and range never compare equal to each other. */
    static int sequenceKind(Object v) {
        return v instanceof PyTuple ? 1 : v instanceof PyRange ? 2 : 0;
    }

    private static boolean isNaN(Object v) {
        return v instanceof Double d && d.isNaN();
    }

    /** Python's {@code <, <=, >, >=} ({@code op} is one of "lt", "le", "gt", "ge"). */
    static boolean compare(String op, Object a, Object b) {
        if (a instanceof Undefined u) {
            throw u.fail();
        }
        if (b instanceof Undefined u) {
            throw u.fail();
        }
        if (isNumber(a) && isNumber(b)) {
            if (isNaN(a) || isNaN(b)) {
                return false;
            }
            return holds(op, PyOps.compareNumbers(a, b));
        }
        if (a instanceof String sa && b instanceof String sb) {
            return holds(op, PyStrings.compareCodePoints(sa, sb));
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && sequenceKind(a) == sequenceKind(b)
                && !(a instanceof PyRange)) {
            // Lexicographic: the first unequal pair decides, otherwise the lengths do.
            int n = Math.min(la.size(), lb.size());
            for (int i = 0; i < n; i++) {
                if (!eq(la.get(i), lb.get(i))) {
                    return compare(op, la.get(i), lb.get(i));
                }
            }
            return holds(op, Integer.compare(la.size(), lb.size()));
        }
        String symbol = switch (op) {
            case "lt" -> "<";
            case "le" -> "<=";
            case "gt" -> ">";
            default -> ">=";
        };
        throw PyError.type("'" + symbol + "' not supported between instances of '" + typeName(a) + "' and '"
                + typeName(b) + "'");
    }

    private static boolean holds(String op, int cmp) {
        return switch (op) {
            case "lt" -> cmp < 0;
            case "le" -> cmp <= 0;
            case "gt" -> cmp > 0;
            default -> cmp >= 0;
        };
    }

    /** A comparator with Python's {@code sorted()} semantics (only {@code <} is consulted). */
    static int sortCompare(Object a, Object b) {
        if (compare("lt", a, b)) {
            return -1;
        }
        return compare("lt", b, a) ? 1 : 0;
    }

    // ---------------------------------------------------------------- containers

    static int len(Object v) {
        return switch (v) {
            case null -> throw PyError.type("object of type 'NoneType' has no len()");
            case String s -> s.codePointCount(0, s.length());
            case Collection<?> c -> c.size();
            case Map<?, ?> m -> m.size();
            case DictView view -> view.items().size();
            case Undefined u -> 0;
            case LoopContext loop -> loop.length();
            case Namespace ns -> throw PyError.type("object of type 'Namespace' has no len()");
            default -> throw PyError.type("object of type '" + typeName(v) + "' has no len()");
        };
    }

    static boolean isIterable(Object v) {
        return v instanceof String || v instanceof Collection || v instanceof Map || v instanceof DictView
                || v instanceof PyIterator || v instanceof Undefined;
    }

    /** Python's {@code iter(v)}: a string yields its characters, a dict its keys; a generator is consumed. */
    static Iterator<Object> iterator(Object v) {
        return switch (v) {
            case null -> throw PyError.type("'NoneType' object is not iterable");
            case String s -> PyStrings.characters(s).iterator();
            case List<?> list -> new ArrayList<Object>(list).iterator();
            case Collection<?> c -> new ArrayList<Object>(c).iterator();
            case Map<?, ?> m -> new ArrayList<Object>(m.keySet()).iterator();
            case DictView view -> view.items().iterator();
            case PyIterator it -> it;
            case Undefined u -> java.util.Collections.emptyIterator();
            default -> throw PyError.type("'" + typeName(v) + "' object is not iterable");
        };
    }

    /** Materializes an iterable (consuming a generator) into a fresh list. */
    static List<Object> toList(Object v) {
        List<Object> out = new ArrayList<>();
        iterator(v).forEachRemaining(out::add);
        return out;
    }

    /** Python's {@code item in container}. */
    static boolean contains(Object container, Object item) {
        return switch (container) {
            case null -> throw PyError.type("argument of type 'NoneType' is not iterable");
            case String s -> {
                if (!(item instanceof String sub)) {
                    throw PyError.type("'in <string>' requires string as left operand, not " + typeName(item));
                }
                yield s.contains(sub);
            }
            case Map<?, ?> m -> {
                checkHashable(item);
                yield dictGet(m, item) != MISSING;
            }
            case Collection<?> c -> {
                for (Object x : c) {
                    if (eq(x, item)) {
                        yield true;
                    }
                }
                yield false;
            }
            case DictView view -> contains(view.items(), item);
            case PyIterator it -> {
                while (it.hasNext()) {
                    if (eq(it.next(), item)) {
                        yield true;
                    }
                }
                yield false;
            }
            case Undefined u -> false;
            default -> throw PyError.type("argument of type '" + typeName(container) + "' is not iterable");
        };
    }

    static void checkHashable(Object key) {
        if (key instanceof List<?> && !(key instanceof PyTuple) && !(key instanceof PyRange) || key instanceof Map
                || key instanceof Namespace || key instanceof DictView) {
            throw PyError.type("unhashable type: '" + typeName(key) + "'");
        }
        if (key instanceof PyTuple t) {
            t.forEach(PyValues::checkHashable);
        }
    }

    /** dict[key] with Python key equality (1 == 1.0 == True), or {@link #MISSING}. */
    static Object dictGet(Map<?, ?> map, Object key) {
        if (key instanceof String || key == null) {
            Object v = map.get(key);
            return v != null || map.containsKey(key) ? v : MISSING;
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (hashEquivalent(e.getKey(), key)) {
                return e.getValue();
            }
        }
        return MISSING;
    }

    private static boolean hashEquivalent(Object a, Object b) {
        return a instanceof String == b instanceof String && eq(a, b);
    }

    /** Puts with Python key semantics: an equal existing key keeps its identity, only the value changes. */
    static void dictPut(Map<Object, Object> map, Object key, Object value) {
        checkHashable(key);
        if (!(key instanceof String) && key != null) {
            for (Map.Entry<Object, Object> e : map.entrySet()) {
                if (hashEquivalent(e.getKey(), key)) {
                    e.setValue(value);
                    return;
                }
            }
        }
        map.put(key, value);
    }

    // ---------------------------------------------------------------- attribute and item access (sandboxed)

    /** {@code obj.name}: a Python attribute (method, namespace attribute...) first, then {@code obj['name']}. */
    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        Object attribute = rawGetattr(obj, name);
        if (attribute != MISSING) {
            return attribute;
        }
        Object item = rawGetitem(obj, name);
        return item != MISSING ? item : Undefined.member(obj, name);
    }

    /** {@code obj[key]}: the item first, then (for string keys) the attribute. */
    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        Object item = rawGetitem(obj, key);
        if (item != MISSING) {
            return item;
        }
        if (key instanceof String name) {
            Object attribute = rawGetattr(obj, name);
            if (attribute != MISSING) {
                return attribute;
            }
        }
        return Undefined.member(obj, key);
    }

    /** Python {@code getattr(obj, name)} for the attributes templates may see, or {@link #MISSING}. */
    static Object rawGetattr(Object obj, String name) {
        if (obj instanceof Namespace ns) {
            return ns.has(name) ? ns.get(name) : MISSING;
        }
        if (obj instanceof LoopContext loop) {
            return loop.attribute(name);
        }
        if (obj instanceof PyTuple t && t.hasField(name)) {
            return t.field(name);
        }
        return Methods.lookup(obj, name);
    }

    /** Python {@code obj[key]}, or {@link #MISSING} where Python raises TypeError/LookupError. */
    static Object rawGetitem(Object obj, Object key) {
        if (key instanceof PySlice slice) {
            return switch (obj) {
                case null -> MISSING;
                case String s -> PyStrings.slice(s, slice);
                case PyTuple t -> new PyTuple(slice.apply(t));
                case PyRange r -> r.slice(slice);
                case List<?> list -> slice.apply(list);
                default -> MISSING;
            };
        }
        return switch (obj) {
            case null -> MISSING;
            case Map<?, ?> map -> isHashable(key) ? dictGet(map, key) : MISSING;
            case List<?> list -> {
                if (!isInt(key)) {
                    yield MISSING;
                }
                long index = PyOps.toLongIndex(key);
                if (index < 0) {
                    index += list.size();
                }
                yield index >= 0 && index < list.size() ? list.get((int) index) : MISSING;
            }
            case String s -> {
                if (!isInt(key)) {
                    yield MISSING;
                }
                yield PyStrings.charAt(s, PyOps.toLongIndex(key));
            }
            default -> MISSING;
        };
    }

    private static boolean isHashable(Object key) {
        try {
            checkHashable(key);
            return true;
        } catch (PyError e) {
            return false;
        }
    }
}
