package dev.tokenselect.engine.template;

import java.util.List;

/** Expression nodes of the template AST. */
sealed interface Expr {

    Pos pos();

    record Const(Object value, Pos pos) implements Expr {
    }

    record Name(String name, Pos pos) implements Expr {
    }

    record ListLiteral(List<Expr> items, Pos pos) implements Expr {
    }

    record TupleLiteral(List<Expr> items, Pos pos) implements Expr {
    }

    record DictLiteral(List<Expr> keys, List<Expr> values, Pos pos) implements Expr {
    }

    record GetAttr(Expr target, String name, Pos pos) implements Expr {
    }

    record GetItem(Expr target, Expr key, Pos pos) implements Expr {
    }

    /** {@code start:stop:step} inside a subscript; absent parts are null. */
    record Slice(Expr start, Expr stop, Expr step, Pos pos) implements Expr {
    }

    record Call(Expr callee, CallArgs args, Pos pos) implements Expr {
    }

    record Filter(Expr target, FilterCall filter, Pos pos) implements Expr {
    }

    record Test(Expr target, String name, CallArgs args, Pos pos) implements Expr {
    }

    /** {@code op} is "-", "+" or "not". */
    record Unary(String op, Expr operand, Pos pos) implements Expr {
    }

    /** Arithmetic ({@code + - * / // % **}) and string concatenation {@code ~}. */
    record Binary(String op, Expr left, Expr right, Pos pos) implements Expr {
    }

    record And(Expr left, Expr right, Pos pos) implements Expr {
    }

    record Or(Expr left, Expr right, Pos pos) implements Expr {
    }

    /** A (possibly chained) comparison; ops are eq, ne, lt, le, gt, ge, in, notin. */
    record Compare(Expr first, List<String> ops, List<Expr> operands, Pos pos) implements Expr {
    }

    /** {@code then if test else otherwise}; otherwise may be null (yielding undefined). */
    record Conditional(Expr test, Expr then, Expr otherwise, Pos pos) implements Expr {
    }

    /** Call arguments as written: positionals, keywords, and optional {@code *args} / {@code **kwargs}. */
    record CallArgs(List<Expr> positional, List<String> keywordNames, List<Expr> keywordValues, Expr starArgs,
                    Expr starKwargs) {

        static final CallArgs NONE = new CallArgs(List.of(), List.of(), List.of(), null, null);
    }

    /** One {@code |name(args)} application. */
    record FilterCall(String name, CallArgs args, Pos pos) {
    }
}
