package dev.tokenselect.engine.tokenizer;

import java.text.Normalizer.Form;

/**
 * Unicode normalization as the tokenizers library does it. Its normalization tables date from Unicode 9, while
 * the JDK's are current, and the two disagree on characters added since (new combining marks get a combining
 * class, new scripts get canonical compositions). The old tables know nothing of those characters, so they
 * behave as plain starters that never compose or reorder: we cut the text around them, normalize the pieces
 * with the JDK, and keep them verbatim. Normalization of older characters is stable across Unicode versions,
 * so the result is exact.
 *
 * <p>The list below was obtained by comparing {@code java.text.Normalizer} (JDK 25) with tokenizers 0.23 for
 * NFC, NFD, NFKC and NFKD on every assigned code point, alone and next to combining marks.
 */
final class LegacyUnicodeNormalizer {

    /** Inclusive code point ranges, sorted. */
    private static final int[] OPAQUE = {
            0x07FD, 0x07FD, 0x0897, 0x089F, 0x08CA, 0x08D3, 0x09FE, 0x09FE, 0x0C3C, 0x0C3C, 0x0D3B, 0x0D3C,
            0x0EBA, 0x0EBA, 0x1715, 0x1715, 0x1ABF, 0x1ACE, 0x1DF6, 0x1DFA, 0x32FF, 0x32FF, 0xA7F2, 0xA7F4,
            0xA82C, 0xA82C, 0xAB69, 0xAB69, 0x105C9, 0x105C9, 0x105D2, 0x105D2, 0x105DA, 0x105DA,
            0x105E4, 0x105E4, 0x10781, 0x10785, 0x10787, 0x107B0, 0x107B2, 0x107BA, 0x10D24, 0x10D27,
            0x10D69, 0x10D6D, 0x10EAB, 0x10EAC, 0x10EFD, 0x10EFF, 0x10F46, 0x10F50, 0x10F82, 0x10F85,
            0x11070, 0x11070, 0x1133B, 0x1133B, 0x11382, 0x11385, 0x1138B, 0x1138B, 0x1138E, 0x1138E,
            0x11390, 0x11391, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7, 0x113C8, 0x113CE, 0x113D0,
            0x1145E, 0x1145E, 0x11839, 0x1183A, 0x11935, 0x11935, 0x11938, 0x11938, 0x1193D, 0x1193E,
            0x11943, 0x11943, 0x119E0, 0x119E0, 0x11A34, 0x11A34, 0x11A47, 0x11A47, 0x11A99, 0x11A99,
            0x11D42, 0x11D42, 0x11D44, 0x11D45, 0x11D97, 0x11D97, 0x11F41, 0x11F42, 0x1611E, 0x1611E,
            0x16121, 0x16129, 0x1612F, 0x1612F, 0x16D63, 0x16D63, 0x16D67, 0x16D6A, 0x16FF0, 0x16FF1,
            0x1CCD6, 0x1CCF9, 0x1E030, 0x1E06D, 0x1E08F, 0x1E08F, 0x1E130, 0x1E136, 0x1E2AE, 0x1E2AE,
            0x1E2EC, 0x1E2EF, 0x1E4EC, 0x1E4EF, 0x1E5EE, 0x1E5EF, 0x1F16C, 0x1F16C, 0x1FBF0, 0x1FBF9,
    };
    private static final int FIRST_OPAQUE = OPAQUE[0];

    private LegacyUnicodeNormalizer() {
    }

    static String normalize(String text, Form form) {
        StringBuilder out = null;
        int pieceStart = 0;
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            if (c < FIRST_OPAQUE) {
                i++;
                continue;
            }
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            if (isOpaque(cp)) {
                if (out == null) out = new StringBuilder(text.length() + 16);
                out.append(jdkNormalize(text.substring(pieceStart, i), form));
                out.appendCodePoint(cp);
                pieceStart = next;
            }
            i = next;
        }
        if (out == null) return jdkNormalize(text, form);
        return out.append(jdkNormalize(text.substring(pieceStart), form)).toString();
    }

    static boolean isOpaque(int cp) {
        int lo = 0;
        int hi = OPAQUE.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < OPAQUE[2 * mid]) hi = mid - 1;
            else if (cp > OPAQUE[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }

    private static String jdkNormalize(String text, Form form) {
        return java.text.Normalizer.isNormalized(text, form) ? text : java.text.Normalizer.normalize(text, form);
    }
}
