package dev.tokenselect.engine.tokenizer;

/**
 * A tokenizer file is malformed or uses a feature this implementation does not reproduce exactly.
 *
 * <p>We throw instead of approximating: a tokenizer that silently produces different ids than the model
 * was trained with degrades generation in ways that are very hard to notice.
 */
public final class TokenizerFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String source;

    public TokenizerFormatException(String source, String message) {
        super(source + ": " + message);
        this.source = source;
    }

    public TokenizerFormatException(String source, String message, Throwable cause) {
        super(source + ": " + message, cause);
        this.source = source;
    }

    /** The file (or other origin) the problem was found in. */
    public String source() {
        return source;
    }
}
