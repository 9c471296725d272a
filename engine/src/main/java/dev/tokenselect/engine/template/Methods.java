package dev.tokenselect.engine.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Python methods of str, dict, list and tuple as a template sees them through {@code obj.method(...)}. Methods that
 * would mutate a container are blocked the way Jinja2's ImmutableSandboxedEnvironment blocks them (the attribute is
 * an "unsafe" undefined, so calling it is a SecurityError).
 */
final class Methods {

    private static final Set<String> STR_METHODS = Set.of("capitalize", "casefold", "center", "count", "encode",
            "endswith", "expandtabs", "find", "format", "format_map", "index", "isalnum", "isalpha", "isascii",
            "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle",
            "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix",
            "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines",
            "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill");
    private static final Set<String> DICT_METHODS = Set.of("copy", "fromkeys", "get", "items", "keys", "values");
    private static final Set<String> DICT_MUTATORS = Set.of("clear", "pop", "popitem", "setdefault", "update");
    private static final Set<String> LIST_METHODS = Set.of("copy", "count", "index");
    private static final Set<String> LIST_MUTATORS = Set.of("append", "clear", "extend", "insert", "pop", "remove",
            "reverse", "sort");

    private Methods() {
    }

    /** A method bound to its receiver. */
    record BoundMethod(Object receiver, String method) implements PyCallable {

        @Override
        public Object call(Interpreter interpreter, Args args) {
            return switch (receiver) {
                case String s -> callStr(s, method, args);
                case Map<?, ?> m -> callDict(m, method, args);
                case List<?> l -> callList(l, method, args);
                default -> throw new IllegalStateException(method);
            };
        }

        @Override
        public String name() {
            return PyValues.typeName(receiver) + "." + method;
        }
    }

    /** The attribute {@code name} of {@code obj} if it is one of these methods, else {@link PyValues#MISSING}. */
    static Object lookup(Object obj, String name) {
        switch (obj) {
            case null -> {
                return PyValues.MISSING;
            }
            case String s when STR_METHODS.contains(name) -> {
                return new BoundMethod(s, name);
            }
            case Map<?, ?> m when DICT_METHODS.contains(name) -> {
                return new BoundMethod(m, name);
            }
            case Map<?, ?> m when DICT_MUTATORS.contains(name) -> {
                return Undefined.unsafe(m, name);
            }
            case List<?> t when (t instanceof PyTuple || t instanceof PyRange)
                    && (name.equals("count") || name.equals("index")) -> {
                return new BoundMethod(t, name);
            }
            case List<?> t when t instanceof PyTuple || t instanceof PyRange -> {
                return PyValues.MISSING;
            }
            case List<?> l when LIST_METHODS.contains(name) -> {
                return new BoundMethod(l, name);
            }
            case List<?> l when LIST_MUTATORS.contains(name) -> {
                return Undefined.unsafe(l, name);
            }
            default -> {
                return PyValues.MISSING;
            }
        }
    }

    private static long intArg(Object value, String what) {
        if (!PyValues.isInt(value)) {
            throw PyError.type("'" + PyValues.typeName(value) + "' object cannot be interpreted as an integer ("
                    + what + ")");
        }
        return PyOps.toLongIndex(value);
    }

    private static String strArg(Object value, String method) {
        if (value instanceof String s) {
            return s;
        }
        throw PyError.type(method + "() argument must be str, not " + PyValues.typeName(value));
    }

    private static Object optionalBound(Object value) {
        if (value != null && !PyValues.isInt(value)) {
            throw PyError.type("slice indices must be integers or None or have an __index__ method");
        }
        return value;
    }

    static Object callStr(String s, String method, Args a) {
        return switch (method) {
            case "startswith", "endswith" -> {
                a.check(method, "prefix", "start", "end");
                yield PyStrings.startsOrEndsWith(s, a.required(0, "prefix", method), optionalBound(a.get(1, "start",
                        null)), optionalBound(a.get(2, "end", null)), method.equals("endswith"));
            }
            case "strip", "lstrip", "rstrip" -> {
                a.check(method, "chars");
                yield PyStrings.strip(s, a.get(0, "chars", null), !method.equals("rstrip"), !method.equals("lstrip"));
            }
            case "split", "rsplit" -> {
                a.check(method, "sep", "maxsplit");
                Object sep = a.get(0, "sep", null);
                long max = intArg(a.get(1, "maxsplit", -1L), "maxsplit");
                String separator = sep == null ? null : strArg(sep, method);
                yield method.equals("split") ? PyStrings.split(s, separator, max)
                        : PyStrings.rsplit(s, separator, max);
            }
            case "splitlines" -> {
                a.check(method, "keepends");
                yield PyStrings.splitlines(s, PyValues.truthy(a.get(0, "keepends", false)));
            }
            case "replace" -> {
                a.check(method, "old", "new", "count");
                yield PyStrings.replace(s, strArg(a.required(0, "old", method), method),
                        strArg(a.required(1, "new", method), method), intArg(a.get(2, "count", -1L), "count"));
            }
            case "upper" -> PyStrings.upper(noArgs(a, method, s));
            case "lower", "casefold" -> PyStrings.lower(noArgs(a, method, s));
            case "title" -> PyStrings.title(noArgs(a, method, s));
            case "capitalize" -> PyStrings.capitalize(noArgs(a, method, s));
            case "swapcase" -> PyStrings.swapcase(noArgs(a, method, s));
            case "find", "rfind", "index", "rindex" -> {
                a.check(method, "sub", "start", "end");
                long at = PyStrings.find(s, strArg(a.required(0, "sub", method), method),
                        optionalBound(a.get(1, "start", null)), optionalBound(a.get(2, "end", null)),
                        method.startsWith("r"));
                if (at < 0 && method.contains("index")) {
                    throw PyError.value("substring not found");
                }
                yield at;
            }
            case "count" -> {
                a.check(method, "sub", "start", "end");
                yield PyStrings.count(s, strArg(a.required(0, "sub", method), method),
                        optionalBound(a.get(1, "start", null)), optionalBound(a.get(2, "end", null)));
            }
            case "format" -> PyFormat.format(s, a);
            case "format_map" -> {
                a.check(method, "mapping");
                Object mapping = a.required(0, "mapping", method);
                if (!(mapping instanceof Map<?, ?> m)) {
                    throw PyError.type("format_map() argument must be a mapping");
                }
                Map<String, Object> keywords = new LinkedHashMap<>();
                m.forEach((k, v) -> keywords.put(PyValues.str(k), v));
                yield PyFormat.format(s, new Args(List.of(), keywords));
            }
            case "join" -> {
                a.check(method, "iterable");
                StringBuilder out = new StringBuilder();
                int i = 0;
                for (var it = PyValues.iterator(a.required(0, "iterable", method)); it.hasNext(); i++) {
                    Object item = it.next();
                    if (!(item instanceof String text)) {
                        throw PyError.type("sequence item " + i + ": expected str instance, "
                                + PyValues.typeName(item) + " found");
                    }
                    if (i > 0) {
                        out.append(s);
                    }
                    out.append(text);
                }
                yield out.toString();
            }
            case "isalpha" -> PyStrings.all(noArgs(a, method, s), Character::isLetter);
            case "isdecimal" -> PyStrings.all(noArgs(a, method, s), Character::isDigit);
            case "isdigit" -> PyStrings.all(noArgs(a, method, s), PyStrings::isDigit);
            case "isnumeric" -> PyStrings.all(noArgs(a, method, s), PyStrings::isNumeric);
            case "isalnum" -> PyStrings.all(noArgs(a, method, s), cp -> Character.isLetter(cp)
                    || PyStrings.isNumeric(cp));
            case "isspace" -> PyStrings.all(noArgs(a, method, s), PyStrings::isSpace);
            case "isascii" -> noArgs(a, method, s).chars().allMatch(c -> c < 0x80);
            case "isprintable" -> noArgs(a, method, s).codePoints().allMatch(PyStrings::isPrintable);
            case "islower" -> PyStrings.isLowerStr(noArgs(a, method, s));
            case "isupper" -> PyStrings.isUpperStr(noArgs(a, method, s));
            case "istitle" -> PyStrings.isTitleStr(noArgs(a, method, s));
            case "center", "ljust", "rjust" -> {
                a.check(method, "width", "fillchar");
                String fill = strArg(a.get(1, "fillchar", " "), method);
                if (fill.codePointCount(0, fill.length()) != 1) {
                    throw PyError.type("The fill character must be exactly one character long");
                }
                char align = method.equals("center") ? '^' : method.equals("ljust") ? '<' : '>';
                yield PyStrings.pad(s, intArg(a.required(0, "width", method), "width"), fill, align);
            }
            case "zfill" -> {
                a.check(method, "width");
                yield PyStrings.zfill(s, intArg(a.required(0, "width", method), "width"));
            }
            case "partition", "rpartition" -> {
                a.check(method, "sep");
                String sep = strArg(a.required(0, "sep", method), method);
                if (sep.isEmpty()) {
                    throw PyError.value("empty separator");
                }
                int at = method.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) {
                    yield method.equals("partition") ? PyTuple.of(s, "", "") : PyTuple.of("", "", s);
                }
                yield PyTuple.of(s.substring(0, at), sep, s.substring(at + sep.length()));
            }
            case "removeprefix" -> {
                a.check(method, "prefix");
                String prefix = strArg(a.required(0, "prefix", method), method);
                yield s.startsWith(prefix) ? s.substring(prefix.length()) : s;
            }
            case "removesuffix" -> {
                a.check(method, "suffix");
                String suffix = strArg(a.required(0, "suffix", method), method);
                yield !suffix.isEmpty() && s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
            }
            default -> throw new PyError("NotImplementedError", "str." + method + "() is not supported");
        };
    }

    private static String noArgs(Args a, String method, String s) {
        a.check(method);
        return s;
    }

    static Object callDict(Map<?, ?> m, String method, Args a) {
        return switch (method) {
            case "get" -> {
                a.check(method, "key", "default");
                Object key = a.required(0, "key", method);
                PyValues.checkHashable(key);
                Object value = PyValues.dictGet(m, key);
                yield value == PyValues.MISSING ? a.get(1, "default", null) : value;
            }
            case "items" -> {
                a.check(method);
                List<Object> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(PyTuple.of(k, v)));
                yield new DictView("dict_items", items);
            }
            case "keys" -> {
                a.check(method);
                yield new DictView("dict_keys", new ArrayList<>(m.keySet()));
            }
            case "values" -> {
                a.check(method);
                yield new DictView("dict_values", new ArrayList<>(m.values()));
            }
            case "copy" -> {
                a.check(method);
                yield new LinkedHashMap<Object, Object>(m);
            }
            default -> throw new PyError("NotImplementedError", "dict." + method + "() is not supported");
        };
    }

    static Object callList(List<?> l, String method, Args a) {
        return switch (method) {
            case "count" -> {
                a.check(method, "value");
                Object value = a.required(0, "value", method);
                yield l.stream().filter(x -> PyValues.eq(x, value)).count();
            }
            case "index" -> {
                a.check(method, "value", "start", "stop");
                Object value = a.required(0, "value", method);
                int[] range = PyStrings.range(l.size(), optionalBound(a.get(1, "start", null)),
                        optionalBound(a.get(2, "stop", null)));
                for (int i = range[0]; i < range[1]; i++) {
                    if (PyValues.eq(l.get(i), value)) {
                        yield (long) i;
                    }
                }
                throw PyError.value(PyValues.repr(value) + " is not in " + PyValues.typeName(l));
            }
            case "copy" -> {
                a.check(method);
                yield new ArrayList<Object>(l);
            }
            default -> throw new PyError("NotImplementedError", "list." + method + "() is not supported");
        };
    }
}
