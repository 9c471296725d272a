package dev.tokenselect.engine.template;

import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The global functions a transformers chat template can call: Jinja2's {@code range}, {@code dict},
 * {@code namespace}, {@code joiner} plus transformers' {@code raise_exception} and {@code strftime_now}.
 */
final class Globals {

    /** Jinja2's sandbox refuses ranges longer than this. */
    static final int MAX_RANGE = 100_000;

    private static final Map<String, PyCallable> FUNCTIONS = new LinkedHashMap<>();

    static {
        register("range", Globals::range);
        register("dict", (in, args) -> toDict("dict", args));
        register("namespace", (in, args) -> {
            Namespace ns = new Namespace();
            ns.attributes.putAll(toDict("namespace", args));
            return ns;
        });
        register("joiner", (in, args) -> {
            args.check("joiner", "sep");
            Object separator = args.get(0, "sep", ", ");
            boolean[] used = {false};
            return new Function("joiner", (in2, args2) -> {
                if (!used[0]) {
                    used[0] = true;
                    return "";
                }
                return separator;
            });
        });
        register("raise_exception", (in, args) -> {
            args.check("raise_exception", "message");
            // transformers raises jinja2.TemplateError(message): the message is the whole error.
            throw new PyError(null, PyValues.str(args.required(0, "message", "raise_exception")));
        });
        register("strftime_now", (in, args) -> {
            args.check("strftime_now", "format");
            Object format = args.required(0, "format", "strftime_now");
            if (!(format instanceof String f)) {
                throw PyError.type("strftime() argument 1 must be str, not " + PyValues.typeName(format));
            }
            return PyStrftime.format(LocalDateTime.now(in.clock()), f);
        });
    }

    private Globals() {
    }

    /** A named global function. */
    record Function(String name, Body body) implements PyCallable {

        @Override
        public Object call(Interpreter interpreter, Args args) {
            return body.call(interpreter, args);
        }
    }

    @FunctionalInterface
    interface Body {
        Object call(Interpreter interpreter, Args args);
    }

    private static void register(String name, Body body) {
        FUNCTIONS.put(name, new Function(name, body));
    }

    /** The global named {@code name}, or null. */
    static Object get(String name) {
        return FUNCTIONS.get(name);
    }

    private static Object range(Interpreter in, Args args) {
        if (!args.keywords.isEmpty()) {
            throw PyError.type("range() takes no keyword arguments");
        }
        if (args.size() < 1 || args.size() > 3) {
            throw PyError.type("range expected at most 3 arguments, got " + args.size());
        }
        long[] v = new long[args.size()];
        for (int i = 0; i < v.length; i++) {
            Object x = args.positional.get(i);
            if (!PyValues.isInt(x)) {
                throw PyError.type("'" + PyValues.typeName(x) + "' object cannot be interpreted as an integer");
            }
            v[i] = PyOps.toLongIndex(x);
        }
        long start = v.length == 1 ? 0 : v[0];
        long stop = v.length == 1 ? v[0] : v[1];
        long step = v.length == 3 ? v[2] : 1;
        if (step == 0) {
            throw PyError.value("range() arg 3 must not be zero");
        }
        PyRange range = new PyRange(start, stop, step);
        if (range.size() > MAX_RANGE) {
            throw new PyError("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE ("
                    + MAX_RANGE + ").");
        }
        return range;
    }

    /** Python's {@code dict(mapping_or_pairs, **kwargs)}. */
    static Map<Object, Object> toDict(String function, Args args) {
        if (args.size() > 1) {
            throw PyError.type(function + " expected at most 1 argument, got " + args.size());
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        if (args.size() == 1) {
            Object source = args.positional.get(0);
            if (source instanceof Map<?, ?> map) {
                map.forEach((k, v) -> PyValues.dictPut(out, k, v));
            } else {
                int i = 0;
                for (var it = PyValues.iterator(source); it.hasNext(); i++) {
                    List<Object> pair = PyValues.toList(it.next());
                    if (pair.size() != 2) {
                        throw PyError.value("dictionary update sequence element #" + i + " has length "
                                + pair.size() + "; 2 is required");
                    }
                    PyValues.dictPut(out, pair.get(0), pair.get(1));
                }
            }
        }
        args.keywords.forEach((k, v) -> PyValues.dictPut(out, k, v));
        return out;
    }
}
