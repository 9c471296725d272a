package dev.tokenselect.engine.template;

/** A 1-based line/column in the template source, carried by tokens and AST nodes for error messages. */
record Pos(int line, int column) {

    static final Pos UNKNOWN = new Pos(0, 0);

    TemplateException error(String reason) {
        return new TemplateException(reason, line, column);
    }
}
