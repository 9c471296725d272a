package dev.tokenselect.engine.template;

/**
 * A Python-level error (TypeError, UndefinedError, ...) raised by the value layer, which does not know template
 * positions; the interpreter turns it into a {@link TemplateException} at the expression that raised it.
 */
final class PyError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The Python exception class name, e.g. {@code TypeError}; null for {@code raise_exception} messages. */
    final String kind;

    PyError(String kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    static PyError type(String message) {
        return new PyError("TypeError", message);
    }

    static PyError value(String message) {
        return new PyError("ValueError", message);
    }

    String describe() {
        return kind == null ? getMessage() : kind + ": " + getMessage();
    }
}
