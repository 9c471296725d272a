package dev.tokenselect.engine.tokenizer;

/**
 * Lossy UTF-8 decoding with the Unicode "maximal subpart" replacement rule, which is what Rust's
 * {@code String::from_utf8_lossy} (used by the tokenizers decoders) and Python's {@code errors="replace"} do.
 * We do not rely on the JDK decoder so that streaming and whole-text decoding are guaranteed to agree.
 */
final class Utf8 {

    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {
    }

    static String decodeLossy(byte[] bytes, int offset, int length) {
        StringBuilder out = new StringBuilder(length);
        decode(bytes, offset, length, true, out);
        return out.toString();
    }

    /**
     * Decodes {@code bytes[offset, offset+length)} into {@code out}.
     *
     * @param endOfInput when false, a trailing sequence that is a valid but incomplete prefix of a character is
     *                   left undecoded, because later bytes may complete it
     * @return the number of bytes consumed
     */
    static int decode(byte[] bytes, int offset, int length, boolean endOfInput, StringBuilder out) {
        int i = offset;
        int end = offset + length;
        while (i < end) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) lo = 0xA0;
                if (b0 == 0xED) hi = 0x9F;
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) lo = 0x90;
                if (b0 == 0xF4) hi = 0x8F;
            } else {
                out.append(REPLACEMENT);
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            int got = 0;
            while (got < need && j < end) {
                int b = bytes[j] & 0xFF;
                // Only the first continuation byte has a restricted range (excludes overlongs and surrogates).
                int min = got == 0 ? lo : 0x80;
                int max = got == 0 ? hi : 0xBF;
                if (b < min || b > max) break;
                cp = (cp << 6) | (b & 0x3F);
                got++;
                j++;
            }
            if (got == need) {
                out.appendCodePoint(cp);
                i = j;
            } else if (j == end && !endOfInput) {
                return i - offset; // incomplete but still valid: wait for more bytes
            } else {
                out.append(REPLACEMENT); // one replacement for the whole maximal subpart
                i = j;
            }
        }
        return i - offset;
    }
}
