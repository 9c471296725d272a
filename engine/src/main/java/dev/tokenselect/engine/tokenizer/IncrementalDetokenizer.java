package dev.tokenselect.engine.tokenizer;

import java.util.Arrays;

/**
 * Turns generated ids into text one id at a time, for streaming.
 *
 * <p>A byte-level token may end in the middle of a UTF-8 character (an emoji is often two or three tokens), so
 * the bytes of an incomplete character are held back until a later token completes it. Invalid bytes become
 * U+FFFD exactly where {@link Tokenizer#decode(int[], boolean)} would put them, so the concatenation of all
 * returned deltas plus {@link #flush()} equals {@code decode(allIds, skipSpecialTokens)}.
 *
 * <p>Not thread-safe: use one per generation stream.
 */
public final class IncrementalDetokenizer {

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private byte[] pending = new byte[16];
    private int pendingLength;

    IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id and returns the text that became complete (possibly empty, never a partial character). */
    public String accept(int tokenId) {
        byte[] bytes = tokenizer.tokenBytes(tokenId, skipSpecialTokens);
        if (bytes == null || bytes.length == 0) return "";
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        return drain(false);
    }

    /** Adds several ids and returns the concatenated delta. */
    public String accept(int[] tokenIds) {
        StringBuilder out = new StringBuilder();
        for (int id : tokenIds) out.append(accept(id));
        return out.toString();
    }

    /**
     * Ends the stream: returns the text of any held-back bytes (U+FFFD for an incomplete character, as a full
     * decode would give) and resets, so the instance can be reused.
     */
    public String flush() {
        return drain(true);
    }

    /** Whether bytes of an incomplete character are being held back. */
    public boolean hasPendingBytes() {
        return pendingLength > 0;
    }

    private String drain(boolean endOfInput) {
        if (pendingLength == 0) return "";
        StringBuilder out = new StringBuilder(pendingLength);
        int consumed = Utf8.decode(pending, 0, pendingLength, endOfInput, out);
        System.arraycopy(pending, consumed, pending, 0, pendingLength - consumed);
        pendingLength -= consumed;
        return out.toString();
    }
}
