package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OnigurumaRegexTest {

    private static boolean finds(String regex, String text) {
        return OnigurumaRegex.compile(regex, "test").matcher(text).find();
    }

    @Test
    void whitespaceAndClassesAreUnicodeAware() {
        for (String ws : new String[] {"\u3000", "\u00a0", "\u2003", "\u0085", "\u1680", "\u2028", "\u202f", "\u205f"}) {
            assertTrue(finds("^\\s$", ws), () -> "\\s should match U+" + Integer.toHexString(ws.charAt(0)));
            assertFalse(finds("\\S", ws));
        }
        assertFalse(finds("\\s", "\u200b"), "zero-width space is not White_Space");
        assertTrue(finds("^\\p{L}+$", "한국어Ελλάδα"));
        assertTrue(finds("^\\p{N}$", "٣"));
        assertTrue(finds("^(?i:'s)$", "'S"));
    }

    @Test
    void rubySyntaxDifferencesAreTranslated() {
        assertEquals("[0-9a-fA-F]+", OnigurumaRegex.translate("\\h+", "test"));
        assertEquals("(?s:.)", OnigurumaRegex.translate("(?m:.)", "test"));
        assertTrue(finds("(?m:a.b)", "a\nb"), "Ruby's m option lets the dot match a newline");
        assertFalse(finds("a.b", "a\nb"));
        assertTrue(finds("^b", "a\nb"), "^ is a line anchor in Ruby syntax");
        assertTrue(finds("\\p{Han}", "漢"));
        assertTrue(finds("[]a]", "]"));
    }

    @Test
    void constructsThatWouldSilentlyChangeMeaningAreRejected() {
        for (String regex : new String[] {"[[:alpha:]]", "a\\Kb", "(?~abc)", "\\p{NoSuchProperty}", "(unclosed"}) {
            TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> OnigurumaRegex.compile(regex, "tokenizer.json"));
            assertTrue(e.getMessage().startsWith("tokenizer.json: "), e.getMessage());
        }
    }
}
