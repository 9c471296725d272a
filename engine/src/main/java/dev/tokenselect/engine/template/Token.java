package dev.tokenselect.engine.template;

/**
 * A lexer token. {@code value} is the decoded literal for STRING/INTEGER/FLOAT, the identifier for NAME, the operator
 * text for OPERATOR and the literal text for DATA.
 */
record Token(Type type, Object value, Pos pos) {

    enum Type {
        DATA, VARIABLE_BEGIN, VARIABLE_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF
    }

    boolean is(Type t) {
        return type == t;
    }

    boolean isOperator(String op) {
        return type == Type.OPERATOR && value.equals(op);
    }

    boolean isName(String name) {
        return type == Type.NAME && value.equals(name);
    }

    String describe() {
        return switch (type) {
            case DATA -> "template data";
            case VARIABLE_BEGIN -> "begin of print statement";
            case VARIABLE_END -> "end of print statement";
            case BLOCK_BEGIN -> "begin of statement block";
            case BLOCK_END -> "end of statement block";
            case EOF -> "end of template";
            case STRING -> "string literal";
            default -> String.valueOf(value);
        };
    }
}
