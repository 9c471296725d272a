package dev.tokenselect.engine.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jinja2's built-in filters with transformers' {@code tojson} override. Filters that return generators in Jinja2
 * ({@code map}, {@code select}, {@code unique}, {@code reverse}, ...) return lazy single-pass {@link PyIterator}s here
 * too, so e.g. {@code |length} on them fails exactly as it does in Python.
 */
final class Filters {

    @FunctionalInterface
    interface Filter {
        Object apply(Interpreter in, Object value, Args args);
    }

    /** Every Jinja2 filter name: unknown names are a compile error; known but unported ones fail when used. */
    private static final Set<String> JINJA_FILTERS = Set.of("abs", "attr", "batch", "capitalize", "center", "count",
            "d", "default", "dictsort", "e", "escape", "filesizeformat", "first", "float", "forceescape", "format",
            "groupby", "indent", "int", "join", "last", "length", "list", "lower", "items", "map", "min", "max",
            "pprint", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr",
            "slice", "sort", "string", "striptags", "sum", "title", "trim", "truncate", "unique", "upper",
            "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr", "tojson");

    private static final Pattern TITLE_SPLIT = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}_]+");

    private static final Map<String, Filter> FILTERS = new HashMap<>();

    static {
        FILTERS.put("abs", (in, v, a) -> {
            a.check("abs");
            return abs(v);
        });
        FILTERS.put("attr", (in, v, a) -> {
            a.check("attr", "name");
            if (v instanceof Undefined u) {
                throw u.fail();
            }
            String name = PyValues.str(a.required(0, "name", "attr"));
            Object attribute = PyValues.rawGetattr(v, name);
            return attribute == PyValues.MISSING ? Undefined.member(v, name) : attribute;
        });
        FILTERS.put("batch", (in, v, a) -> {
            a.check("batch", "linecount", "fill_with");
            long size = intValue(a.required(0, "linecount", "batch"));
            Object fill = a.get(1, "fill_with", null);
            List<Object> rows = new ArrayList<>();
            List<Object> row = new ArrayList<>();
            for (Iterator<Object> it = PyValues.iterator(v); it.hasNext(); ) {
                if (row.size() == size) {
                    rows.add(row);
                    row = new ArrayList<>();
                }
                row.add(it.next());
            }
            if (!row.isEmpty()) {
                while (fill != null && row.size() < size) {
                    row.add(fill);
                }
                rows.add(row);
            }
            return generator(rows.iterator());
        });
        FILTERS.put("capitalize", (in, v, a) -> PyStrings.capitalize(PyValues.str(noArgs(a, "capitalize", v))));
        FILTERS.put("center", (in, v, a) -> {
            a.check("center", "width");
            return PyStrings.pad(PyValues.str(v), intValue(a.get(0, "width", 80L)), " ", '^');
        });
        Filter length = (in, v, a) -> (long) PyValues.len(noArgs(a, "length", v));
        FILTERS.put("count", length);
        FILTERS.put("length", length);
        Filter defaultFilter = (in, v, a) -> {
            a.check("default", "default_value", "boolean");
            boolean useBoolean = PyValues.truthy(a.get(1, "boolean", false));
            return v instanceof Undefined || (useBoolean && !PyValues.truthy(v)) ? a.get(0, "default_value", "") : v;
        };
        FILTERS.put("d", defaultFilter);
        FILTERS.put("default", defaultFilter);
        FILTERS.put("dictsort", Filters::dictsort);
        Filter escape = (in, v, a) -> escape(PyValues.str(noArgs(a, "escape", v)));
        FILTERS.put("e", escape);
        FILTERS.put("escape", escape);
        FILTERS.put("forceescape", escape);
        FILTERS.put("first", (in, v, a) -> {
            Iterator<Object> it = PyValues.iterator(noArgs(a, "first", v));
            return it.hasNext() ? it.next() : Undefined.hint("No first item, sequence was empty.");
        });
        FILTERS.put("last", (in, v, a) -> last(noArgs(a, "last", v)));
        FILTERS.put("float", (in, v, a) -> {
            a.check("float", "default");
            return toFloat(v, a.get(0, "default", 0.0));
        });
        FILTERS.put("int", (in, v, a) -> {
            a.check("int", "default", "base");
            return toInt(v, a.get(0, "default", 0L), a.get(1, "base", 10L));
        });
        FILTERS.put("format", (in, v, a) -> {
            if (a.size() > 0 && !a.keywords.isEmpty()) {
                throw new PyError("FilterArgumentError",
                        "can't handle positional and keyword arguments at the same time");
            }
            Object args = a.keywords.isEmpty() ? new PyTuple(a.positional) : new LinkedHashMap<Object, Object>(
                    a.keywords);
            return PyFormat.percent(PyValues.str(v), args);
        });
        FILTERS.put("groupby", Filters::groupby);
        FILTERS.put("indent", Filters::indent);
        FILTERS.put("items", (in, v, a) -> {
            noArgs(a, "items", v);
            if (v instanceof Undefined) {
                return generator(Collections.emptyIterator());
            }
            if (!(v instanceof Map<?, ?> map)) {
                throw PyError.type("Can only get item pairs from a mapping.");
            }
            List<Object> pairs = new ArrayList<>();
            map.forEach((k, x) -> pairs.add(PyTuple.of(k, x)));
            return generator(pairs.iterator());
        });
        FILTERS.put("join", (in, v, a) -> {
            a.check("join", "d", "attribute");
            String separator = PyValues.str(a.get(0, "d", ""));
            Object attribute = a.get(1, "attribute", null);
            Iterator<Object> it = PyValues.iterator(v);
            if (attribute != null) {
                it = mapped(it, attrGetter(attribute, null, false));
            }
            StringBuilder out = new StringBuilder();
            for (boolean first = true; it.hasNext(); first = false) {
                if (!first) {
                    out.append(separator);
                }
                out.append(PyValues.str(it.next()));
            }
            return out.toString();
        });
        FILTERS.put("list", (in, v, a) -> PyValues.toList(noArgs(a, "list", v)));
        FILTERS.put("lower", (in, v, a) -> PyStrings.lower(PyValues.str(noArgs(a, "lower", v))));
        FILTERS.put("upper", (in, v, a) -> PyStrings.upper(PyValues.str(noArgs(a, "upper", v))));
        FILTERS.put("map", Filters::map);
        FILTERS.put("min", (in, v, a) -> minOrMax(v, a, "min"));
        FILTERS.put("max", (in, v, a) -> minOrMax(v, a, "max"));
        FILTERS.put("select", (in, v, a) -> select(in, v, a, false, true));
        FILTERS.put("reject", (in, v, a) -> select(in, v, a, false, false));
        FILTERS.put("selectattr", (in, v, a) -> select(in, v, a, true, true));
        FILTERS.put("rejectattr", (in, v, a) -> select(in, v, a, true, false));
        FILTERS.put("replace", (in, v, a) -> {
            a.check("replace", "old", "new", "count");
            Object count = a.get(2, "count", null);
            return PyStrings.replace(PyValues.str(v), PyValues.str(a.required(0, "old", "replace")),
                    PyValues.str(a.required(1, "new", "replace")), count == null ? -1 : intValue(count));
        });
        FILTERS.put("reverse", (in, v, a) -> reverse(noArgs(a, "reverse", v)));
        FILTERS.put("round", Filters::round);
        // markupsafe.Markup(value) is a str; autoescape is off, so marking safe changes nothing else.
        FILTERS.put("safe", (in, v, a) -> PyValues.str(noArgs(a, "safe", v)));
        FILTERS.put("slice", Filters::slice);
        FILTERS.put("sort", Filters::sort);
        FILTERS.put("string", (in, v, a) -> PyValues.str(noArgs(a, "string", v)));
        FILTERS.put("sum", (in, v, a) -> {
            a.check("sum", "attribute", "start");
            Object attribute = a.get(0, "attribute", null);
            Iterator<Object> it = PyValues.iterator(v);
            if (attribute != null) {
                it = mapped(it, attrGetter(attribute, null, false));
            }
            Object total = a.get(1, "start", 0L);
            while (it.hasNext()) {
                total = PyOps.binary("+", total, it.next());
            }
            return total;
        });
        FILTERS.put("title", (in, v, a) -> jinjaTitle(PyValues.str(noArgs(a, "title", v))));
        FILTERS.put("tojson", (in, v, a) -> {
            // transformers: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
            a.check("tojson", "ensure_ascii", "indent", "separators", "sort_keys");
            return PyJson.dumps(v, PyValues.truthy(a.get(0, "ensure_ascii", false)), a.get(1, "indent", null),
                    a.get(2, "separators", null), PyValues.truthy(a.get(3, "sort_keys", false)));
        });
        FILTERS.put("trim", (in, v, a) -> {
            a.check("trim", "chars");
            return PyStrings.strip(PyValues.str(v), a.get(0, "chars", null), true, true);
        });
        FILTERS.put("truncate", Filters::truncate);
        FILTERS.put("unique", (in, v, a) -> {
            a.check("unique", "case_sensitive", "attribute");
            Function<Object, Object> key = attrGetter(a.get(1, "attribute", null), null,
                    !PyValues.truthy(a.get(0, "case_sensitive", false)));
            List<Object> seen = new ArrayList<>();
            return generator(filtered(PyValues.iterator(v), item -> {
                Object k = key.apply(item);
                PyValues.checkHashable(k);
                for (Object s : seen) {
                    if (PyValues.eq(s, k)) {
                        return false;
                    }
                }
                seen.add(k);
                return true;
            }));
        });
        FILTERS.put("wordcount", (in, v, a) -> {
            Matcher m = WORD.matcher(PyValues.str(noArgs(a, "wordcount", v)));
            long count = 0;
            while (m.find()) {
                count++;
            }
            return count;
        });
    }

    private Filters() {
    }

    static boolean exists(String name) {
        return JINJA_FILTERS.contains(name);
    }

    static Object apply(Interpreter in, String name, Object value, Args args) {
        Filter filter = FILTERS.get(name);
        if (filter == null) {
            if (JINJA_FILTERS.contains(name)) {
                throw new PyError("NotImplementedError", "the '" + name + "' filter is not supported");
            }
            throw new PyError("TemplateRuntimeError", "No filter named '" + name + "' found.");
        }
        return filter.apply(in, value, args);
    }

    // ---------------------------------------------------------------- helpers

    private static Object noArgs(Args a, String name, Object value) {
        a.check(name);
        return value;
    }

    static PyIterator generator(Iterator<?> source) {
        return new PyIterator("generator", source);
    }

    private static long intValue(Object v) {
        if (!PyValues.isInt(v)) {
            throw PyError.type("'" + PyValues.typeName(v) + "' object cannot be interpreted as an integer");
        }
        return PyOps.toLongIndex(v);
    }

    private static Iterator<Object> mapped(Iterator<Object> source, Function<Object, Object> f) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return source.hasNext();
            }

            @Override
            public Object next() {
                return f.apply(source.next());
            }
        };
    }

    private static Iterator<Object> filtered(Iterator<Object> source, Predicate<Object> keep) {
        return new Iterator<>() {
            private Object pending;
            private boolean ready;

            @Override
            public boolean hasNext() {
                while (!ready && source.hasNext()) {
                    Object candidate = source.next();
                    if (keep.test(candidate)) {
                        pending = candidate;
                        ready = true;
                    }
                }
                return ready;
            }

            @Override
            public Object next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                ready = false;
                return pending;
            }
        };
    }

    /** Jinja2's make_attrgetter: dotted path, integer parts as indexes, optional default and lower-casing. */
    static Function<Object, Object> attrGetter(Object attribute, Object fallback, boolean ignoreCase) {
        List<Object> parts = attributeParts(attribute);
        return item -> {
            Object value = item;
            for (Object part : parts) {
                value = PyValues.getitem(value, part);
                if (fallback != null && value instanceof Undefined) {
                    value = fallback;
                }
            }
            return ignoreCase && value instanceof String s ? PyStrings.lower(s) : value;
        };
    }

    private static List<Object> attributeParts(Object attribute) {
        if (attribute == null) {
            return List.of();
        }
        if (!(attribute instanceof String s)) {
            return List.of(attribute);
        }
        List<Object> parts = new ArrayList<>();
        for (Object part : PyStrings.split(s, ".", -1)) {
            String p = (String) part;
            parts.add(!p.isEmpty() && p.chars().allMatch(Character::isDigit) ? (Object) Long.parseLong(p) : p);
        }
        return parts;
    }

    /** make_multi_attrgetter: "a,b.c" yields a list of the looked-up values (the sort key). */
    private static Function<Object, Object> multiAttrGetter(Object attribute, boolean ignoreCase) {
        List<Function<Object, Object>> getters = new ArrayList<>();
        if (attribute instanceof String s) {
            for (Object part : PyStrings.split(s, ",", -1)) {
                getters.add(attrGetter(part, null, ignoreCase));
            }
        } else {
            getters.add(attrGetter(attribute, null, ignoreCase));
        }
        return item -> {
            List<Object> key = new ArrayList<>(getters.size());
            for (Function<Object, Object> getter : getters) {
                key.add(getter.apply(item));
            }
            return key;
        };
    }

    // ---------------------------------------------------------------- individual filters

    private static Object abs(Object v) {
        return switch (v) {
            case null -> throw PyError.type("'NoneType' object is not reversible");
            case Double d -> Math.abs(d);
            case BigInteger b -> PyValues.normalizeInt(b.abs());
            case Boolean b -> b ? 1L : 0L;
            case Long l -> l == Long.MIN_VALUE ? BigInteger.valueOf(l).negate() : (Object) Math.abs(l);
            case Undefined u -> throw u.fail();
            default -> throw PyError.type("bad operand type for abs(): '" + PyValues.typeName(v) + "'");
        };
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&#34;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static Object last(Object v) {
        return switch (v) {
            case null -> throw PyError.type("argument must be iterable");
            case String s -> s.isEmpty() ? Undefined.hint("No last item, sequence was empty.")
                    : Character.toString(s.codePointBefore(s.length()));
            case List<?> list -> list.isEmpty() ? Undefined.hint("No last item, sequence was empty.")
                    : list.get(list.size() - 1);
            case Map<?, ?> map -> map.isEmpty() ? Undefined.hint("No last item, sequence was empty.")
                    : new ArrayList<>(map.keySet()).getLast();
            case DictView view -> view.items().isEmpty() ? Undefined.hint("No last item, sequence was empty.")
                    : view.items().getLast();
            case Undefined u -> Undefined.hint("No last item, sequence was empty.");
            default -> throw PyError.type("'" + PyValues.typeName(v) + "' object is not reversible");
        };
    }

    private static Object reverse(Object v) {
        return switch (v) {
            case null -> throw PyError.type("bad operand type for abs(): 'NoneType'");
            case String s -> new StringBuilder(s).reverse().toString();
            case List<?> list -> {
                List<Object> copy = new ArrayList<>(list);
                Collections.reverse(copy);
                yield new PyIterator(list instanceof PyTuple ? "reversed" : "list_reverseiterator", copy.iterator());
            }
            case Map<?, ?> map -> {
                List<Object> keys = new ArrayList<>(map.keySet());
                Collections.reverse(keys);
                yield new PyIterator("dict_reversekeyiterator", keys.iterator());
            }
            case DictView view -> {
                List<Object> items = new ArrayList<>(view.items());
                Collections.reverse(items);
                yield new PyIterator(view.kind().replace("dict_", "dict_reverse") + "iterator", items.iterator());
            }
            default -> {
                // Not reversible (a generator): Jinja2 falls back to a reversed list.
                List<Object> items = PyValues.toList(v);
                Collections.reverse(items);
                yield items;
            }
        };
    }

    private static Object dictsort(Interpreter in, Object v, Args a) {
        a.check("dictsort", "case_sensitive", "by", "reverse");
        boolean caseSensitive = PyValues.truthy(a.get(0, "case_sensitive", false));
        Object by = a.get(1, "by", "key");
        boolean reverse = PyValues.truthy(a.get(2, "reverse", false));
        int position;
        if ("key".equals(by)) {
            position = 0;
        } else if ("value".equals(by)) {
            position = 1;
        } else {
            throw new PyError("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
        }
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new PyError("AttributeError", "'" + PyValues.typeName(v) + "' object has no attribute 'items'");
        }
        List<Object> items = new ArrayList<>();
        map.forEach((k, x) -> items.add(PyTuple.of(k, x)));
        Function<Object, Object> key = item -> {
            Object value = ((PyTuple) item).get(position);
            return !caseSensitive && value instanceof String s ? PyStrings.lower(s) : value;
        };
        return sorted(items, key, reverse);
    }

    private static List<Object> sorted(List<Object> items, Function<Object, Object> key, boolean reverse) {
        List<Object[]> decorated = new ArrayList<>(items.size());
        for (Object item : items) {
            decorated.add(new Object[] {key.apply(item), item});
        }
        // Stable like Python's sorted(); reverse=True keeps equal elements in their original order, as Python does.
        decorated.sort((x, y) -> reverse ? PyValues.sortCompare(y[0], x[0]) : PyValues.sortCompare(x[0], y[0]));
        List<Object> out = new ArrayList<>(items.size());
        for (Object[] d : decorated) {
            out.add(d[1]);
        }
        return out;
    }

    private static Object sort(Interpreter in, Object v, Args a) {
        a.check("sort", "reverse", "case_sensitive", "attribute");
        boolean reverse = PyValues.truthy(a.get(0, "reverse", false));
        boolean caseSensitive = PyValues.truthy(a.get(1, "case_sensitive", false));
        return sorted(PyValues.toList(v), multiAttrGetter(a.get(2, "attribute", null), !caseSensitive), reverse);
    }

    private static Object groupby(Interpreter in, Object v, Args a) {
        a.check("groupby", "attribute", "default", "case_sensitive");
        Object attribute = a.required(0, "attribute", "groupby");
        Object fallback = a.get(1, "default", null);
        boolean caseSensitive = PyValues.truthy(a.get(2, "case_sensitive", false));
        Function<Object, Object> key = attrGetter(attribute, fallback, !caseSensitive);
        Function<Object, Object> output = attrGetter(attribute, fallback, false);
        List<Object> out = new ArrayList<>();
        List<Object> group = null;
        Object groupKey = null;
        for (Object item : sorted(PyValues.toList(v), key, false)) {
            Object k = key.apply(item);
            if (group == null || !PyValues.eq(k, groupKey)) {
                if (group != null) {
                    out.add(groupTuple(group, output, caseSensitive, groupKey));
                }
                group = new ArrayList<>();
                groupKey = k;
            }
            group.add(item);
        }
        if (group != null) {
            out.add(groupTuple(group, output, caseSensitive, groupKey));
        }
        return out;
    }

    private static PyTuple groupTuple(List<Object> group, Function<Object, Object> output, boolean caseSensitive,
                                      Object key) {
        // Case-insensitive grouping reports the first member's real value rather than the lower-cased key.
        Object grouper = caseSensitive ? key : output.apply(group.getFirst());
        return new PyTuple(List.of(grouper, group), List.of("grouper", "list"));
    }

    private static Object indent(Interpreter in, Object v, Args a) {
        a.check("indent", "width", "first", "blank");
        Object width = a.get(0, "width", 4L);
        String indention = width instanceof String s ? s : " ".repeat((int) Math.max(0, intValue(width)));
        boolean first = PyValues.truthy(a.get(1, "first", false));
        boolean blank = PyValues.truthy(a.get(2, "blank", false));
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (!(v instanceof String text)) {
            throw PyError.type("unsupported operand type(s) for +=: '" + PyValues.typeName(v) + "' and 'str'");
        }
        String s = text + "\n"; // Jinja's quirk: splitlines() then never yields a trailing empty line
        List<Object> lines = PyStrings.splitlines(s, false);
        StringBuilder rv = new StringBuilder();
        if (blank) {
            for (int i = 0; i < lines.size(); i++) {
                if (i > 0) {
                    rv.append('\n').append(indention);
                }
                rv.append((String) lines.get(i));
            }
        } else {
            rv.append((String) lines.getFirst());
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                rv.append('\n');
                if (!line.isEmpty()) {
                    rv.append(indention).append(line);
                }
            }
        }
        return first ? indention + rv : rv.toString();
    }

    private static Object map(Interpreter in, Object v, Args a) {
        if (!PyValues.truthy(v)) {
            return generator(Collections.emptyIterator()); // Jinja: `if value:` before anything else
        }
        Function<Object, Object> f;
        if (a.size() == 0 && a.keywords.containsKey("attribute")) {
            Map<String, Object> rest = new LinkedHashMap<>(a.keywords);
            Object attribute = rest.remove("attribute");
            Object fallback = rest.remove("default");
            if (!rest.isEmpty()) {
                throw new PyError("FilterArgumentError", "Unexpected keyword argument '"
                        + rest.keySet().iterator().next() + "'");
            }
            f = attrGetter(attribute, fallback, false);
        } else {
            if (a.size() == 0) {
                throw new PyError("FilterArgumentError", "map requires a filter argument");
            }
            String name = PyValues.str(a.positional.get(0));
            Args rest = a.dropPositional(1);
            f = item -> apply(in, name, item, rest);
        }
        return generator(mapped(PyValues.iterator(v), f));
    }

    private static Object select(Interpreter in, Object v, Args a, boolean byAttribute, boolean keepMatches) {
        if (!PyValues.truthy(v)) {
            return generator(Collections.emptyIterator());
        }
        Function<Object, Object> transform = Function.identity();
        int offset = 0;
        if (byAttribute) {
            if (a.size() == 0) {
                throw new PyError("FilterArgumentError", "Missing parameter for attribute name");
            }
            transform = attrGetter(a.positional.get(0), null, false);
            offset = 1;
        }
        Predicate<Object> test;
        if (a.size() > offset) {
            String name = PyValues.str(a.positional.get(offset));
            Args rest = a.dropPositional(offset + 1);
            test = x -> Tests.apply(in, name, x, rest);
        } else {
            test = PyValues::truthy;
        }
        Function<Object, Object> t = transform;
        return generator(filtered(PyValues.iterator(v), item -> test.test(t.apply(item)) == keepMatches));
    }

    private static Object minOrMax(Object v, Args a, String which) {
        a.check(which, "case_sensitive", "attribute");
        Function<Object, Object> key = attrGetter(a.get(1, "attribute", null), null,
                !PyValues.truthy(a.get(0, "case_sensitive", false)));
        Iterator<Object> it = PyValues.iterator(v);
        if (!it.hasNext()) {
            return Undefined.hint("No aggregated item, sequence was empty.");
        }
        Object best = it.next();
        Object bestKey = key.apply(best);
        while (it.hasNext()) {
            Object item = it.next();
            Object k = key.apply(item);
            boolean better = which.equals("min") ? PyValues.compare("lt", k, bestKey)
                    : PyValues.compare("gt", k, bestKey);
            if (better) {
                best = item;
                bestKey = k;
            }
        }
        return best;
    }

    private static Object round(Interpreter in, Object v, Args a) {
        a.check("round", "precision", "method");
        Object precisionValue = a.get(0, "precision", 0L);
        Object method = a.get(1, "method", "common");
        if (!"common".equals(method) && !"ceil".equals(method) && !"floor".equals(method)) {
            throw new PyError("FilterArgumentError", "method must be common, ceil or floor");
        }
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        if (!PyValues.isNumber(v)) {
            throw PyError.type("type " + PyValues.typeName(v) + " doesn't define __round__ method");
        }
        int precision = (int) intValue(precisionValue);
        if ("common".equals(method)) {
            if (v instanceof Double d) {
                if (!Double.isFinite(d)) {
                    return d;
                }
                double r = new BigDecimal(d).setScale(precision, RoundingMode.HALF_EVEN).doubleValue();
                return r == 0 ? Math.copySign(0.0, d) : r;
            }
            BigInteger i = PyOps.big(v);
            if (precision >= 0) {
                return PyValues.normalizeInt(i);
            }
            return PyValues.normalizeInt(new BigDecimal(i).setScale(precision, RoundingMode.HALF_EVEN)
                    .toBigIntegerExact());
        }
        // Jinja: math.ceil/floor(value * 10**precision) / 10**precision, a float.
        Object scale = PyOps.power(10L, (long) precision);
        double scaled = PyOps.toDouble(PyOps.multiply(v, scale));
        if (!Double.isFinite(scaled)) {
            throw new PyError("OverflowError", "cannot convert float infinity to integer");
        }
        BigInteger whole = new BigDecimal("ceil".equals(method) ? Math.ceil(scaled) : Math.floor(scaled))
                .toBigInteger();
        return PyOps.trueDivide(PyValues.normalizeInt(whole), scale);
    }

    private static Object slice(Interpreter in, Object v, Args a) {
        a.check("slice", "slices", "fill_with");
        long slices = intValue(a.required(0, "slices", "slice"));
        Object fill = a.get(1, "fill_with", null);
        List<Object> seq = PyValues.toList(v);
        int length = seq.size();
        if (slices <= 0) {
            throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
        }
        long perSlice = length / slices;
        long withExtra = length % slices;
        long offset = 0;
        List<Object> out = new ArrayList<>();
        for (long n = 0; n < slices; n++) {
            long start = offset + n * perSlice;
            if (n < withExtra) {
                offset++;
            }
            long end = offset + (n + 1) * perSlice;
            List<Object> part = new ArrayList<>(seq.subList((int) Math.min(start, length), (int) Math.min(end,
                    length)));
            if (fill != null && n >= withExtra) {
                part.add(fill);
            }
            out.add(part);
        }
        return generator(out.iterator());
    }

    private static Object truncate(Interpreter in, Object v, Args a) {
        a.check("truncate", "length", "killwords", "end", "leeway");
        long length = intValue(a.get(0, "length", 255L));
        boolean killwords = PyValues.truthy(a.get(1, "killwords", false));
        String end = PyValues.str(a.get(2, "end", "..."));
        long leeway = intValue(a.get(3, "leeway", 5L) == null ? 5L : a.get(3, "leeway", 5L));
        int endLength = end.codePointCount(0, end.length());
        if (length < endLength) {
            throw new PyError("AssertionError", "expected length >= " + endLength + ", got " + length);
        }
        if (leeway < 0) {
            throw new PyError("AssertionError", "expected leeway >= 0, got " + leeway);
        }
        if (PyValues.len(v) <= length + leeway) {
            return v; // Jinja returns the value itself, whatever its type
        }
        if (!(v instanceof String s)) {
            throw PyError.type("truncate needs a string, not " + PyValues.typeName(v));
        }
        int[] cps = PyStrings.codePoints(s);
        String head = new String(cps, 0, (int) (length - endLength));
        if (killwords) {
            return head + end;
        }
        return PyStrings.rsplit(head, " ", 1).getFirst() + end;
    }

    static String jinjaTitle(String s) {
        StringBuilder out = new StringBuilder();
        Matcher m = TITLE_SPLIT.matcher(s);
        int last = 0;
        List<String> items = new ArrayList<>();
        while (m.find()) {
            items.add(s.substring(last, m.start()));
            items.add(m.group());
            last = m.end();
        }
        items.add(s.substring(last));
        for (String item : items) {
            if (!item.isEmpty()) {
                int first = item.codePointAt(0);
                int width = Character.charCount(first);
                out.append(PyStrings.upper(item.substring(0, width))).append(PyStrings.lower(item.substring(width)));
            }
        }
        return out.toString();
    }

    static Object toInt(Object v, Object fallback, Object base) {
        if (v instanceof Undefined u) {
            throw u.fail();
        }
        try {
            if (v instanceof String s) {
                return parseInt(s, (int) intValue(base));
            }
            if (PyValues.isInt(v)) {
                return PyValues.normalizeInt(PyOps.big(v));
            }
            if (v instanceof Double d) {
                if (Double.isNaN(d)) {
                    return fallback;
                }
                if (Double.isInfinite(d)) {
                    throw new PyError("OverflowError", "cannot convert float infinity to integer");
                }
                return PyValues.normalizeInt(new BigDecimal(d).toBigInteger());
            }
            return fallback;
        } catch (NumberFormatException notAnInt) {
            // "42.23"|int is 42: Jinja retries through float().
            Object f = toFloat(v, null);
            if (f instanceof Double d && Double.isFinite(d)) {
                return PyValues.normalizeInt(new BigDecimal(d).toBigInteger());
            }
            return fallback;
        }
    }

    /** Python's int(str, base), or NumberFormatException where Python raises ValueError. */
    private static BigInteger parseInt(String text, int base) {
        String s = PyStrings.strip(text, null, true, true);
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        String lower = s.toLowerCase();
        int radix = base;
        if (lower.length() > 1 && lower.charAt(0) == '0' && "xob".indexOf(lower.charAt(1)) >= 0) {
            int prefixRadix = lower.charAt(1) == 'x' ? 16 : lower.charAt(1) == 'o' ? 8 : 2;
            if (base == 0 || base == prefixRadix) {
                radix = prefixRadix;
                s = s.substring(2);
                if (s.startsWith("_")) {
                    s = s.substring(1);
                }
            }
        }
        if (radix == 0) {
            radix = 10;
            if (s.length() > 1 && s.replace("_", "").chars().allMatch(c -> c == '0') == false && s.startsWith("0")) {
                throw new NumberFormatException(text);
            }
        }
        if (radix < 2 || radix > 36 || s.isEmpty() || s.startsWith("_") || s.endsWith("_") || s.contains("__")) {
            throw new NumberFormatException(text);
        }
        BigInteger value = new BigInteger(s.replace("_", ""), radix);
        return negative ? value.negate() : value;
    }

    private static final Pattern FLOAT_TEXT = Pattern.compile(
            "[+-]?(?:(?:\\d(?:_?\\d)*)?\\.\\d(?:_?\\d)*|\\d(?:_?\\d)*\\.?)(?:[eE][+-]?\\d(?:_?\\d)*)?");

    static Object toFloat(Object v, Object fallback) {
        return switch (v) {
            case null -> fallback;
            case Undefined u -> throw u.fail();
            case Double d -> d;
            case String s -> {
                String t = PyStrings.strip(s, null, true, true);
                String lower = t.toLowerCase();
                String unsigned = lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower;
                double sign = lower.startsWith("-") ? -1 : 1;
                if (unsigned.equals("inf") || unsigned.equals("infinity")) {
                    yield sign * Double.POSITIVE_INFINITY;
                }
                if (unsigned.equals("nan")) {
                    yield Double.NaN;
                }
                yield FLOAT_TEXT.matcher(t).matches() ? Double.parseDouble(t.replace("_", "")) : fallback;
            }
            case Object o when PyValues.isInt(o) -> PyOps.toDouble(o);
            default -> fallback;
        };
    }
}
