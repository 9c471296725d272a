package dev.tokenselect.engine.template;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Jinja2's tests ({@code x is defined}, {@code x is divisibleby 3}, ...) with Python semantics. */
final class Tests {

    @FunctionalInterface
    interface Test {
        boolean test(Interpreter in, Object value, Args args);
    }

    private static final Map<String, Test> TESTS = new HashMap<>();

    static {
        TESTS.put("odd", (in, v, a) -> PyValues.eq(PyOps.modulo(numeric(v), 2L), 1L));
        TESTS.put("even", (in, v, a) -> PyValues.eq(PyOps.modulo(numeric(v), 2L), 0L));
        TESTS.put("divisibleby", (in, v, a) -> {
            a.check("divisibleby", "num");
            return PyValues.eq(PyOps.modulo(numeric(v), a.required(0, "num", "divisibleby")), 0L);
        });
        TESTS.put("defined", (in, v, a) -> !(v instanceof Undefined));
        TESTS.put("undefined", (in, v, a) -> v instanceof Undefined);
        TESTS.put("filter", (in, v, a) -> v instanceof String s && Filters.exists(s));
        TESTS.put("test", (in, v, a) -> v instanceof String s && exists(s));
        TESTS.put("none", (in, v, a) -> v == null);
        TESTS.put("boolean", (in, v, a) -> v instanceof Boolean);
        TESTS.put("false", (in, v, a) -> Boolean.FALSE.equals(v));
        TESTS.put("true", (in, v, a) -> Boolean.TRUE.equals(v));
        TESTS.put("integer", (in, v, a) -> PyValues.isInt(v) && !(v instanceof Boolean));
        TESTS.put("float", (in, v, a) -> v instanceof Double);
        TESTS.put("lower", (in, v, a) -> PyStrings.isLowerStr(PyValues.str(v)));
        TESTS.put("upper", (in, v, a) -> PyStrings.isUpperStr(PyValues.str(v)));
        TESTS.put("string", (in, v, a) -> v instanceof String);
        TESTS.put("mapping", (in, v, a) -> v instanceof Map);
        // bool is a numbers.Number in Python, so `true is number` holds.
        TESTS.put("number", (in, v, a) -> PyValues.isNumber(v));
        // Python's test: len() works and __getitem__ exists (dicts and Undefined qualify, generators do not).
        TESTS.put("sequence", (in, v, a) -> v instanceof String || v instanceof Collection || v instanceof Map
                || v instanceof Undefined);
        TESTS.put("iterable", (in, v, a) -> PyValues.isIterable(v) || v instanceof LoopContext);
        // Undefined defines __call__ (to raise), so Python's callable() accepts it.
        TESTS.put("callable", (in, v, a) -> v instanceof PyCallable || v instanceof Undefined);
        TESTS.put("sameas", (in, v, a) -> {
            a.check("sameas", "other");
            return sameAs(v, a.required(0, "other", "sameas"));
        });
        TESTS.put("escaped", (in, v, a) -> false); // no Markup values: autoescape is off in transformers
        TESTS.put("in", (in, v, a) -> {
            a.check("in", "seq");
            return PyValues.contains(a.required(0, "seq", "in"), v);
        });
        Test eq = (in, v, a) -> PyValues.eq(v, other(a));
        Test ne = (in, v, a) -> !PyValues.eq(v, other(a));
        Test gt = (in, v, a) -> PyValues.compare("gt", v, other(a));
        Test ge = (in, v, a) -> PyValues.compare("ge", v, other(a));
        Test lt = (in, v, a) -> PyValues.compare("lt", v, other(a));
        Test le = (in, v, a) -> PyValues.compare("le", v, other(a));
        for (String name : List.of("==", "eq", "equalto")) {
            TESTS.put(name, eq);
        }
        for (String name : List.of("!=", "ne")) {
            TESTS.put(name, ne);
        }
        for (String name : List.of(">", "gt", "greaterthan")) {
            TESTS.put(name, gt);
        }
        for (String name : List.of(">=", "ge")) {
            TESTS.put(name, ge);
        }
        for (String name : List.of("<", "lt", "lessthan")) {
            TESTS.put(name, lt);
        }
        for (String name : List.of("<=", "le")) {
            TESTS.put(name, le);
        }
    }

    private static final Set<String> NAMES = Set.copyOf(TESTS.keySet());

    private Tests() {
    }

    static boolean exists(String name) {
        return NAMES.contains(name);
    }

    static boolean apply(Interpreter in, String name, Object value, Args args) {
        Test test = TESTS.get(name);
        if (test == null) {
            throw new PyError("TemplateRuntimeError", "No test named '" + name + "' found.");
        }
        return test.test(in, value, args);
    }

    private static Object numeric(Object value) {
        if (value instanceof Undefined u) {
            throw u.fail();
        }
        return value;
    }

    private static Object other(Args args) {
        if (args.size() != 1 || !args.keywords.isEmpty()) {
            throw PyError.type("comparison test expected 1 argument, got " + args.size());
        }
        return args.positional.get(0);
    }

    /** Python's {@code is}: None/True/False are singletons and small ints are cached; otherwise identity. */
    private static boolean sameAs(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a instanceof Boolean || b instanceof Boolean) {
            return a.equals(b);
        }
        if (a instanceof Long x && b instanceof Long y) {
            return x.equals(y) && x >= -5 && x <= 256;
        }
        return a == b;
    }
}
