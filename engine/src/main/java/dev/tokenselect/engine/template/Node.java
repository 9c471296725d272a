package dev.tokenselect.engine.template;

import java.util.List;

/** Statement nodes of the template AST. */
sealed interface Node {

    record Text(String text) implements Node {
    }

    record Output(Expr expr) implements Node {
    }

    /** if / elif... / else: {@code tests.get(i)} guards {@code bodies.get(i)}. */
    record If(List<Expr> tests, List<List<Node>> bodies, List<Node> elseBody) implements Node {
    }

    record For(Target target, Expr iterable, Expr filter, List<Node> body, List<Node> elseBody, boolean recursive,
               Pos pos) implements Node {
    }

    record Set(Target target, Expr value, Pos pos) implements Node {
    }

    /** {@code {% set x | filters %}body{% endset %}}. */
    record SetBlock(Target target, List<Expr.FilterCall> filters, List<Node> body, Pos pos) implements Node {
    }

    /** A macro; {@code defaults} belong to the last {@code defaults.size()} parameters. */
    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body, Pos pos) implements Node {
    }

    record FilterBlock(List<Expr.FilterCall> filters, List<Node> body, Pos pos) implements Node {
    }

    record With(List<Target> targets, List<Expr> values, List<Node> body) implements Node {
    }

    /** A body with its own variable scope (transformers' {@code {% generation %}} block). */
    record Scoped(List<Node> body) implements Node {
    }

    record Break() implements Node {
    }

    record Continue() implements Node {
    }

    /** Assignment targets: a name, a tuple to unpack, or {@code namespace.attribute}. */
    sealed interface Target {

        record Name(String name) implements Target {
        }

        record Unpack(List<Target> items) implements Target {
        }

        record NamespaceAttr(String name, String attribute) implements Target {
        }
    }
}
