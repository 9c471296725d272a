package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Lossy decoding must replace each maximal ill-formed subpart with one U+FFFD, like Rust and Python. */
class Utf8Test {

    private static String decode(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) b[i] = (byte) bytes[i];
        return Utf8.decodeLossy(b, 0, b.length);
    }

    @Test
    void unicodeStandardExample() {
        // The example of Unicode 15, section 3.9 (U+FFFD substitution of maximal subparts).
        assertEquals("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd",
                decode(0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64));
    }

    @Test
    void validSequences() {
        assertEquals("aé€😀", decode(0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80));
    }

    @Test
    void overlongsSurrogatesAndOutOfRange() {
        assertEquals("\uFFFD\uFFFD", decode(0xC0, 0xAF));
        assertEquals("\uFFFD\uFFFD\uFFFD", decode(0xE0, 0x80, 0xAF));
        assertEquals("\uFFFD\uFFFD\uFFFD", decode(0xED, 0xA0, 0x80));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", decode(0xF4, 0x90, 0x80, 0x80));
        assertEquals("\uFFFD\uFFFD\uFFFD\uFFFD", decode(0xF8, 0x88, 0x80, 0x80));
        assertEquals("\uFFFD", decode(0xFF));
    }

    @Test
    void truncatedSequenceIsOneReplacement() {
        assertEquals("\uFFFD", decode(0xF0, 0x9F, 0x98));
        assertEquals("x\uFFFDy", decode(0x78, 0xE2, 0x82, 0x79));
    }

    @Test
    void streamingStopsBeforeAnIncompleteCharacter() {
        byte[] b = {0x61, (byte) 0xF0, (byte) 0x9F, (byte) 0x98};
        StringBuilder out = new StringBuilder();
        assertEquals(1, Utf8.decode(b, 0, b.length, false, out));
        assertEquals("a", out.toString());
        // But an already-invalid tail is emitted at once.
        byte[] bad = {0x61, (byte) 0xF0, 0x41};
        StringBuilder out2 = new StringBuilder();
        assertEquals(3, Utf8.decode(bad, 0, bad.length, false, out2));
        assertEquals("a\uFFFDA", out2.toString());
    }
}
