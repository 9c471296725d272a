package dev.tokenselect.engine.template;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2 resolves variables per frame at compile time (jinja2/idtracking.py): a name that a frame assigns before it
 * ever reads it starts out undefined in that frame, even if the render context or an outer frame has a value, and
 * even when a nested loop or macro reads it before the assignment runs. This is a port of that analysis; it yields,
 * per frame (template root, loop body/else/filter, macro, with, set block, filter block, generation block), the names
 * to bind as undefined on entry. Everything else falls through to outer scopes and the context, as at runtime.
 */
final class ScopeAnalysis {

    private enum Load { PARAMETER, RESOLVE, ALIAS, UNDEFINED }

    /** Frames by their AST node (a for loop's node keys its body frame; else and filter frames have own maps). */
    private final Map<Object, Set<String>> frames = new IdentityHashMap<>();
    private final Map<Object, Set<String>> elseFrames = new IdentityHashMap<>();
    private final Map<Object, Set<String>> testFrames = new IdentityHashMap<>();

    private ScopeAnalysis() {
    }

    static ScopeAnalysis of(List<Node> root) {
        ScopeAnalysis analysis = new ScopeAnalysis();
        Symbols symbols = new Symbols(null);
        FrameVisitor visitor = new FrameVisitor(symbols);
        root.forEach(visitor::statement);
        analysis.record(analysis.frames, root, symbols);
        analysis.nested(root, symbols);
        return analysis;
    }

    /** Names that start undefined in the frame of {@code node} (the root body, a loop body, macro, with...). */
    Set<String> frame(Object node) {
        return frames.getOrDefault(node, Set.of());
    }

    Set<String> elseFrame(Node.For loop) {
        return elseFrames.getOrDefault(loop, Set.of());
    }

    Set<String> testFrame(Node.For loop) {
        return testFrames.getOrDefault(loop, Set.of());
    }

    private void record(Map<Object, Set<String>> into, Object frame, Symbols symbols) {
        Set<String> names = new HashSet<>();
        symbols.refs.forEach((name, ident) -> {
            if (symbols.loads.get(ident) == Load.UNDEFINED) {
                names.add(name);
            }
        });
        if (!names.isEmpty()) {
            into.put(frame, Set.copyOf(names));
        }
    }

    /** Analyzes the frames nested directly in {@code body} (through ifs, which are not frames). */
    private void nested(List<Node> body, Symbols parent) {
        for (Node node : body) {
            switch (node) {
                case Node.If branch -> {
                    branch.bodies().forEach(b -> nested(b, parent));
                    nested(branch.elseBody(), parent);
                }
                case Node.For loop -> {
                    Symbols frame = new Symbols(parent);
                    FrameVisitor v = new FrameVisitor(frame);
                    frame.declareParameter("loop");
                    v.declareTarget(loop.target());
                    loop.body().forEach(v::statement);
                    record(frames, loop, frame);
                    nested(loop.body(), frame);
                    if (!loop.elseBody().isEmpty()) {
                        Symbols otherwise = new Symbols(parent);
                        FrameVisitor ov = new FrameVisitor(otherwise);
                        loop.elseBody().forEach(ov::statement);
                        record(elseFrames, loop, otherwise);
                        nested(loop.elseBody(), otherwise);
                    }
                    if (loop.filter() != null) {
                        Symbols test = new Symbols(parent);
                        FrameVisitor tv = new FrameVisitor(test);
                        tv.declareTarget(loop.target());
                        tv.expr(loop.filter());
                        record(testFrames, loop, test);
                    }
                }
                case Node.Macro macro -> {
                    Symbols frame = new Symbols(parent);
                    FrameVisitor v = new FrameVisitor(frame);
                    macro.params().forEach(frame::declareParameter);
                    for (String special : List.of("varargs", "kwargs")) {
                        frame.declareParameter(special);
                    }
                    macro.defaults().forEach(v::expr);
                    macro.body().forEach(v::statement);
                    record(frames, macro, frame);
                    nested(macro.body(), frame);
                }
                case Node.With with -> {
                    Symbols frame = new Symbols(parent);
                    FrameVisitor v = new FrameVisitor(frame);
                    with.targets().forEach(v::declareTarget);
                    with.body().forEach(v::statement);
                    record(frames, with, frame);
                    nested(with.body(), frame);
                }
                case Node.SetBlock set -> nestedBody(set, set.body(), parent);
                case Node.FilterBlock block -> {
                    Symbols frame = new Symbols(parent);
                    FrameVisitor v = new FrameVisitor(frame);
                    block.body().forEach(v::statement);
                    block.filters().forEach(v::filterArgs);
                    record(frames, block, frame);
                    nested(block.body(), frame);
                }
                case Node.Scoped scoped -> nestedBody(scoped, scoped.body(), parent);
                default -> {
                }
            }
        }
    }

    private void nestedBody(Object key, List<Node> body, Symbols parent) {
        Symbols frame = new Symbols(parent);
        FrameVisitor v = new FrameVisitor(frame);
        body.forEach(v::statement);
        record(frames, key, frame);
        nested(body, frame);
    }

    /** Port of idtracking.Symbols. */
    private static final class Symbols {

        final Symbols parent;
        final int level;
        Map<String, String> refs = new HashMap<>();
        Map<String, Load> loads = new HashMap<>();
        Set<String> stores = new HashSet<>();

        Symbols(Symbols parent) {
            this.parent = parent;
            this.level = parent == null ? 0 : parent.level + 1;
        }

        Symbols copy() {
            Symbols rv = new Symbols(parent);
            rv.refs = new HashMap<>(refs);
            rv.loads = new HashMap<>(loads);
            rv.stores = new HashSet<>(stores);
            return rv;
        }

        private String defineRef(String name, Load load) {
            String ident = "l_" + level + "_" + name;
            refs.put(name, ident);
            loads.put(ident, load);
            return ident;
        }

        String findRef(String name) {
            for (Symbols s = this; s != null; s = s.parent) {
                String ref = s.refs.get(name);
                if (ref != null) {
                    return ref;
                }
            }
            return null;
        }

        void store(String name) {
            stores.add(name);
            if (!refs.containsKey(name)) {
                if (parent != null && parent.findRef(name) != null) {
                    defineRef(name, Load.ALIAS);
                    return;
                }
                defineRef(name, Load.UNDEFINED);
            }
        }

        void declareParameter(String name) {
            stores.add(name);
            defineRef(name, Load.PARAMETER);
        }

        void load(String name) {
            if (findRef(name) == null) {
                defineRef(name, Load.RESOLVE);
            }
        }

        void branchUpdate(List<Symbols> branches) {
            Set<String> branchStores = new HashSet<>();
            for (Symbols branch : branches) {
                branchStores.addAll(branch.stores);
            }
            branchStores.removeAll(stores);
            for (Symbols branch : branches) {
                refs.putAll(branch.refs);
                loads.putAll(branch.loads);
                stores.addAll(branch.stores);
            }
            for (String name : branchStores) {
                String target = findRef(name);
                if (parent != null && parent.findRef(name) != null) {
                    loads.put(target, Load.ALIAS);
                    continue;
                }
                loads.put(target, Load.RESOLVE);
            }
        }
    }

    /** Port of idtracking.FrameSymbolVisitor: what a frame itself reads and writes, in source order. */
    private static final class FrameVisitor {

        Symbols symbols;

        FrameVisitor(Symbols symbols) {
            this.symbols = symbols;
        }

        void declareTarget(Node.Target target) {
            switch (target) {
                case Node.Target.Name name -> symbols.declareParameter(name.name());
                case Node.Target.Unpack unpack -> unpack.items().forEach(this::declareTarget);
                case Node.Target.NamespaceAttr attr -> symbols.load(attr.name());
            }
        }

        void storeTarget(Node.Target target) {
            switch (target) {
                case Node.Target.Name name -> symbols.store(name.name());
                case Node.Target.Unpack unpack -> unpack.items().forEach(this::storeTarget);
                case Node.Target.NamespaceAttr attr -> symbols.load(attr.name());
            }
        }

        void statement(Node node) {
            switch (node) {
                case Node.Text text -> {
                }
                case Node.Output output -> expr(output.expr());
                case Node.If branch -> visitIf(branch, 0);
                case Node.For loop -> expr(loop.iterable()); // the body is a frame of its own
                case Node.Set set -> {
                    expr(set.value());
                    storeTarget(set.target());
                }
                case Node.SetBlock set -> storeTarget(set.target());
                case Node.Macro macro -> symbols.store(macro.name());
                case Node.FilterBlock block -> block.filters().forEach(this::filterArgs);
                case Node.With with -> with.values().forEach(this::expr);
                case Node.Scoped scoped -> {
                }
                case Node.Break b -> {
                }
                case Node.Continue c -> {
                }
            }
        }

        /** Jinja's If holds one test; the elifs are If nodes visited together in one "elif" branch. */
        private void visitIf(Node.If branch, int index) {
            expr(branch.tests().get(index));
            Symbols original = symbols;
            List<Symbols> branches = new ArrayList<>();
            branches.add(inner(original, () -> branch.bodies().get(index).forEach(this::statement)));
            if (index == 0) {
                branches.add(inner(original, () -> {
                    for (int i = 1; i < branch.tests().size(); i++) {
                        visitIf(branch, i);
                    }
                }));
                branches.add(inner(original, () -> branch.elseBody().forEach(this::statement)));
            } else {
                branches.add(inner(original, () -> { }));
                branches.add(inner(original, () -> { }));
            }
            original.branchUpdate(branches);
        }

        private Symbols inner(Symbols original, Runnable visit) {
            Symbols copy = original.copy();
            symbols = copy;
            visit.run();
            symbols = original;
            return copy;
        }

        void filterArgs(Expr.FilterCall filter) {
            args(filter.args());
        }

        private void args(Expr.CallArgs args) {
            args.positional().forEach(this::expr);
            args.keywordValues().forEach(this::expr);
            if (args.starArgs() != null) {
                expr(args.starArgs());
            }
            if (args.starKwargs() != null) {
                expr(args.starKwargs());
            }
        }

        void expr(Expr e) {
            switch (e) {
                case Expr.Const c -> {
                }
                case Expr.Name n -> symbols.load(n.name());
                case Expr.ListLiteral l -> l.items().forEach(this::expr);
                case Expr.TupleLiteral t -> t.items().forEach(this::expr);
                case Expr.DictLiteral d -> {
                    for (int i = 0; i < d.keys().size(); i++) {
                        expr(d.keys().get(i));
                        expr(d.values().get(i));
                    }
                }
                case Expr.GetAttr g -> expr(g.target());
                case Expr.GetItem g -> {
                    expr(g.target());
                    expr(g.key());
                }
                case Expr.Slice s -> {
                    for (Expr part : new Expr[] {s.start(), s.stop(), s.step()}) {
                        if (part != null) {
                            expr(part);
                        }
                    }
                }
                case Expr.Call c -> {
                    expr(c.callee());
                    args(c.args());
                }
                case Expr.Filter f -> {
                    expr(f.target());
                    filterArgs(f.filter());
                }
                case Expr.Test t -> {
                    expr(t.target());
                    args(t.args());
                }
                case Expr.Unary u -> expr(u.operand());
                case Expr.Binary b -> {
                    expr(b.left());
                    expr(b.right());
                }
                case Expr.And a -> {
                    expr(a.left());
                    expr(a.right());
                }
                case Expr.Or o -> {
                    expr(o.left());
                    expr(o.right());
                }
                case Expr.Compare c -> {
                    expr(c.first());
                    c.operands().forEach(this::expr);
                }
                case Expr.Conditional c -> {
                    expr(c.test());
                    expr(c.then());
                    if (c.otherwise() != null) {
                        expr(c.otherwise());
                    }
                }
            }
        }
    }
}
