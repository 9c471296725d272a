package dev.tokenselect.engine.template;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks the AST of one template for one render. Scoping follows Jinja2: a for-loop iteration, macro call,
 * {@code with}, set-block and {@code generation} body get a fresh scope (so a plain {@code set} inside a loop does
 * not survive the iteration; {@code namespace} objects are how state escapes), while {@code if} does not.
 */
final class Interpreter {

    /** Deeper macro recursion than this is almost certainly a runaway template. */
    private static final int MAX_CALL_DEPTH = 256;

    /** A variable scope; lookups fall through to the parent, then to the render context and globals. */
    static final class Scope {

        final Scope parent;
        final Map<String, Object> vars = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }
    }

    private enum Flow { NORMAL, BREAK, CONTINUE }

    /** Bound in a frame for names Jinja2 starts as undefined there (see {@link ScopeAnalysis}). */
    private static final Object UNBOUND = new Object();

    private final Map<String, Object> context;
    private final Clock clock;
    private final ScopeAnalysis analysis;
    private Scope scope = new Scope(null);
    private StringBuilder out = new StringBuilder();
    private int callDepth;

    Interpreter(Map<String, Object> context, Clock clock, ScopeAnalysis analysis) {
        this.context = context;
        this.clock = clock;
        this.analysis = analysis;
    }

    /** A new scope under {@code parent} with the frame's initially-undefined names bound. */
    private static Scope frame(Scope parent, Set<String> undefinedNames) {
        Scope s = new Scope(parent);
        for (String name : undefinedNames) {
            s.vars.put(name, UNBOUND);
        }
        return s;
    }

    Clock clock() {
        return clock;
    }

    String render(List<Node> body) {
        scope = frame(null, analysis.frame(body));
        execute(body);
        return out.toString();
    }

    // ---------------------------------------------------------------- statements

    private Flow execute(List<Node> body) {
        for (Node node : body) {
            Flow flow = execute(node);
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    private Flow execute(Node node) {
        switch (node) {
            case Node.Text text -> out.append(text.text());
            case Node.Output output -> out.append(PyValues.str(eval(output.expr())));
            case Node.If branch -> {
                for (int i = 0; i < branch.tests().size(); i++) {
                    if (PyValues.truthy(eval(branch.tests().get(i)))) {
                        return execute(branch.bodies().get(i));
                    }
                }
                return execute(branch.elseBody());
            }
            case Node.For loop -> {
                return executeFor(loop, eval(loop.iterable()), 0, scope);
            }
            case Node.Set set -> assign(set.target(), eval(set.value()), set.pos());
            case Node.SetBlock set -> {
                Object value = capture(set.body(), set);
                for (Expr.FilterCall filter : set.filters()) {
                    value = applyFilter(filter, value);
                }
                assign(set.target(), value, set.pos());
            }
            case Node.Macro macro -> scope.vars.put(macro.name(), new Macro(macro, scope));
            case Node.FilterBlock block -> {
                Object value = capture(block.body(), block);
                for (Expr.FilterCall filter : block.filters()) {
                    value = applyFilter(filter, value);
                }
                out.append(PyValues.str(value));
            }
            case Node.With with -> {
                List<Object> values = new ArrayList<>();
                for (Expr value : with.values()) {
                    values.add(eval(value));
                }
                Scope inner = frame(scope, analysis.frame(with));
                scope = inner;
                try {
                    for (int i = 0; i < values.size(); i++) {
                        assign(with.targets().get(i), values.get(i), with.values().get(i).pos());
                    }
                    return execute(with.body());
                } finally {
                    scope = inner.parent;
                }
            }
            case Node.Scoped scoped -> {
                Scope inner = frame(scope, analysis.frame(scoped));
                scope = inner;
                try {
                    execute(scoped.body());
                } finally {
                    scope = inner.parent;
                }
            }
            case Node.Break ignored -> {
                return Flow.BREAK;
            }
            case Node.Continue ignored -> {
                return Flow.CONTINUE;
            }
        }
        return Flow.NORMAL;
    }

    /** Renders {@code body} in its own scope and returns the text instead of emitting it. */
    private String capture(List<Node> body, Node frameNode) {
        StringBuilder saved = out;
        Scope inner = frame(scope, analysis.frame(frameNode));
        out = new StringBuilder();
        scope = inner;
        try {
            execute(body);
            return out.toString();
        } finally {
            out = saved;
            scope = inner.parent;
        }
    }

    private Flow executeFor(Node.For loop, Object iterable, int depth0, Scope outer) {
        List<Object> items;
        try {
            items = PyValues.toList(iterable);
        } catch (PyError e) {
            throw located(e, loop.iterable().pos());
        }
        Scope saved = scope;
        scope = outer;
        try {
            if (loop.filter() != null) {
                // `for x in xs if cond`: filter first, so loop.index/length count only the kept items.
                List<Object> kept = new ArrayList<>();
                for (Object item : items) {
                    Scope test = frame(outer, analysis.testFrame(loop));
                    scope = test;
                    assign(loop.target(), item, loop.pos());
                    if (PyValues.truthy(eval(loop.filter()))) {
                        kept.add(item);
                    }
                    scope = outer;
                }
                items = kept;
            }
            LoopContext context = new LoopContext(items, depth0, loop.recursive()
                    ? children -> renderRecursion(loop, children, depth0 + 1, outer) : null);
            for (Object item : items) {
                context.advance();
                Scope iteration = frame(outer, analysis.frame(loop));
                iteration.vars.put("loop", context);
                scope = iteration;
                assign(loop.target(), item, loop.pos());
                Flow flow = execute(loop.body());
                scope = outer;
                if (flow == Flow.BREAK) {
                    break;
                }
            }
            if (items.isEmpty() && !loop.elseBody().isEmpty()) {
                Scope otherwise = frame(outer, analysis.elseFrame(loop));
                scope = otherwise;
                return execute(loop.elseBody());
            }
            return Flow.NORMAL;
        } finally {
            scope = saved;
        }
    }

    private String renderRecursion(Node.For loop, Object children, int depth0, Scope outer) {
        if (++callDepth > MAX_CALL_DEPTH) {
            callDepth--;
            throw new PyError("RecursionError", "maximum recursion depth exceeded in recursive loop");
        }
        StringBuilder saved = out;
        out = new StringBuilder();
        try {
            executeFor(loop, children, depth0, outer);
            return out.toString();
        } finally {
            out = saved;
            callDepth--;
        }
    }

    private void assign(Node.Target target, Object value, Pos pos) {
        switch (target) {
            case Node.Target.Name name -> scope.vars.put(name.name(), value);
            case Node.Target.Unpack unpack -> {
                List<Object> values;
                try {
                    values = PyValues.toList(value);
                } catch (PyError e) {
                    throw located(new PyError("TypeError", "cannot unpack non-iterable " + PyValues.typeName(value)
                            + " object"), pos);
                }
                int expected = unpack.items().size();
                if (values.size() > expected) {
                    throw pos.error("ValueError: too many values to unpack (expected " + expected + ")");
                }
                if (values.size() < expected) {
                    throw pos.error("ValueError: not enough values to unpack (expected " + expected + ", got "
                            + values.size() + ")");
                }
                for (int i = 0; i < expected; i++) {
                    assign(unpack.items().get(i), values.get(i), pos);
                }
            }
            case Node.Target.NamespaceAttr attr -> {
                Object ns = lookup(attr.name());
                if (!(ns instanceof Namespace namespace)) {
                    throw pos.error("TemplateRuntimeError: cannot assign attribute on non-namespace object");
                }
                namespace.set(attr.attribute(), value);
            }
        }
    }

    Object callMacro(Macro macro, Args args) {
        Node.Macro def = macro.definition;
        if (++callDepth > MAX_CALL_DEPTH) {
            callDepth--;
            throw new PyError("RecursionError", "maximum recursion depth exceeded calling macro '" + def.name() + "'");
        }
        Scope inner = frame(macro.closure, analysis.frame(def));
        Scope savedScope = scope;
        StringBuilder savedOut = out;
        scope = inner;
        try {
            List<String> params = def.params();
            int firstDefault = params.size() - def.defaults().size();
            for (int i = 0; i < params.size(); i++) {
                String name = params.get(i);
                Object value;
                if (i < args.size()) {
                    if (args.keywords.containsKey(name)) {
                        throw PyError.type("macro '" + def.name() + "' got multiple values for argument '" + name
                                + "'");
                    }
                    value = args.positional.get(i);
                } else if (args.keywords.containsKey(name)) {
                    value = args.keywords.get(name);
                } else if (i >= firstDefault) {
                    value = eval(def.defaults().get(i - firstDefault)); // may refer to earlier parameters
                } else {
                    value = Undefined.hint("parameter '" + name + "' was not provided");
                }
                inner.vars.put(name, value);
            }
            List<Object> extra = args.size() > params.size()
                    ? new ArrayList<>(args.positional.subList(params.size(), args.size())) : List.of();
            Map<Object, Object> extraKeywords = new LinkedHashMap<>();
            args.keywords.forEach((k, v) -> {
                if (!params.contains(k)) {
                    extraKeywords.put(k, v);
                }
            });
            inner.vars.put("varargs", new PyTuple(extra));
            inner.vars.put("kwargs", extraKeywords);
            out = new StringBuilder();
            execute(def.body());
            return out.toString();
        } finally {
            scope = savedScope;
            out = savedOut;
            callDepth--;
        }
    }

    // ---------------------------------------------------------------- expressions

    private Object lookup(String name) {
        for (Scope s = scope; s != null; s = s.parent) {
            Object value = s.vars.get(name);
            if (value != null || s.vars.containsKey(name)) {
                return value == UNBOUND ? Undefined.variable(name) : value;
            }
        }
        if (context.containsKey(name)) {
            return context.get(name);
        }
        Object global = Globals.get(name);
        return global != null ? global : Undefined.variable(name);
    }

    private static TemplateException located(PyError e, Pos pos) {
        return new TemplateException(e.describe(), pos.line(), pos.column(), e);
    }

    Object eval(Expr expr) {
        try {
            return evaluate(expr);
        } catch (PyError e) {
            throw located(e, expr.pos());
        }
    }

    private Object evaluate(Expr expr) {
        return switch (expr) {
            case Expr.Const c -> c.value();
            case Expr.Name n -> lookup(n.name());
            case Expr.ListLiteral list -> {
                List<Object> items = new ArrayList<>(list.items().size());
                for (Expr item : list.items()) {
                    items.add(eval(item));
                }
                yield items;
            }
            case Expr.TupleLiteral tuple -> {
                List<Object> items = new ArrayList<>(tuple.items().size());
                for (Expr item : tuple.items()) {
                    items.add(eval(item));
                }
                yield new PyTuple(items);
            }
            case Expr.DictLiteral dict -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < dict.keys().size(); i++) {
                    Object key = eval(dict.keys().get(i));
                    PyValues.dictPut(map, key, eval(dict.values().get(i)));
                }
                yield map;
            }
            case Expr.GetAttr attr -> PyValues.getattr(eval(attr.target()), attr.name());
            case Expr.GetItem item -> {
                Object target = eval(item.target());
                yield PyValues.getitem(target, eval(item.key()));
            }
            case Expr.Slice slice -> new PySlice(slice.start() == null ? null : eval(slice.start()),
                    slice.stop() == null ? null : eval(slice.stop()), slice.step() == null ? null : eval(slice.step()));
            case Expr.Call call -> {
                Object callee = eval(call.callee());
                Args args = evalArgs(call.args());
                yield call(callee, args);
            }
            case Expr.Filter filter -> applyFilter(filter.filter(), eval(filter.target()));
            case Expr.Test test -> Tests.apply(this, test.name(), eval(test.target()), evalArgs(test.args()));
            case Expr.Unary unary -> {
                Object operand = eval(unary.operand());
                yield switch (unary.op()) {
                    case "not" -> !PyValues.truthy(operand);
                    case "-" -> PyOps.negate(operand);
                    default -> PyOps.plus(operand);
                };
            }
            case Expr.Binary binary -> {
                Object left = eval(binary.left());
                Object right = eval(binary.right());
                yield binary.op().equals("~") ? PyValues.str(left) + PyValues.str(right)
                        : PyOps.binary(binary.op(), left, right);
            }
            case Expr.And and -> {
                Object left = eval(and.left());
                yield PyValues.truthy(left) ? eval(and.right()) : left;
            }
            case Expr.Or or -> {
                Object left = eval(or.left());
                yield PyValues.truthy(left) ? left : eval(or.right());
            }
            case Expr.Compare compare -> {
                Object left = eval(compare.first());
                for (int i = 0; i < compare.ops().size(); i++) {
                    Object right = eval(compare.operands().get(i));
                    if (!compare(compare.ops().get(i), left, right)) {
                        yield false;
                    }
                    left = right;
                }
                yield true;
            }
            case Expr.Conditional conditional -> {
                if (PyValues.truthy(eval(conditional.test()))) {
                    yield eval(conditional.then());
                }
                yield conditional.otherwise() != null ? eval(conditional.otherwise())
                        : Undefined.hint("the inline if-expression on line " + conditional.pos().line()
                                + " evaluated to false and no else section was defined.");
            }
        };
    }

    private static boolean compare(String op, Object left, Object right) {
        return switch (op) {
            case "eq" -> PyValues.eq(left, right);
            case "ne" -> !PyValues.eq(left, right);
            case "in" -> PyValues.contains(right, left);
            case "notin" -> !PyValues.contains(right, left);
            default -> PyValues.compare(op, left, right);
        };
    }

    Object call(Object callee, Args args) {
        if (callee instanceof PyCallable callable) {
            return callable.call(this, args);
        }
        if (callee instanceof Undefined u) {
            throw u.fail();
        }
        throw PyError.type("'" + PyValues.typeName(callee) + "' object is not callable");
    }

    private Object applyFilter(Expr.FilterCall filter, Object value) {
        Args args = evalArgs(filter.args());
        try {
            return Filters.apply(this, filter.name(), value, args);
        } catch (PyError e) {
            throw located(e, filter.pos());
        }
    }

    private Args evalArgs(Expr.CallArgs call) {
        if (call == Expr.CallArgs.NONE) {
            return Args.EMPTY;
        }
        List<Object> positional = new ArrayList<>(call.positional().size());
        for (Expr arg : call.positional()) {
            positional.add(eval(arg));
        }
        if (call.starArgs() != null) {
            Object extra = eval(call.starArgs());
            try {
                positional.addAll(PyValues.toList(extra));
            } catch (PyError e) {
                throw located(e, call.starArgs().pos());
            }
        }
        Map<String, Object> keywords = new LinkedHashMap<>();
        for (int i = 0; i < call.keywordNames().size(); i++) {
            keywords.put(call.keywordNames().get(i), eval(call.keywordValues().get(i)));
        }
        if (call.starKwargs() != null) {
            Object extra = eval(call.starKwargs());
            if (!(extra instanceof Map<?, ?> map)) {
                throw call.starKwargs().pos().error("TypeError: argument after ** must be a mapping, not "
                        + PyValues.typeName(extra));
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw call.starKwargs().pos().error("TypeError: keywords must be strings");
                }
                keywords.put(key, e.getValue());
            }
        }
        return new Args(positional, keywords);
    }
}
