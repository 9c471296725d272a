package dev.tokenselect.engine.template;

/**
 * A chat template failed to compile or render. The message names the template position (1-based line and column)
 * and what went wrong; {@link #reason()} is the bare reason (for {@code raise_exception(msg)} exactly {@code msg}).
 */
public final class TemplateException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int line;
    private final int column;
    private final String reason;

    public TemplateException(String reason, int line, int column) {
        this(reason, line, column, null);
    }

    TemplateException(String reason, int line, int column, Throwable cause) {
        super(format(reason, line, column), cause);
        this.line = line;
        this.column = column;
        this.reason = reason;
    }

    private static String format(String reason, int line, int column) {
        return line > 0 ? "chat template line " + line + ", column " + column + ": " + reason : "chat template: " + reason;
    }

    /** 1-based template line of the failing construct, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** 1-based template column of the failing construct, or 0 when unknown. */
    public int column() {
        return column;
    }

    /** What went wrong, without the position. */
    public String reason() {
        return reason;
    }
}
