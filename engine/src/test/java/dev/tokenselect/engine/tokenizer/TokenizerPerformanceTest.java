package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Sanity bounds, not benchmarks: generous enough for a loaded 2-core CI machine, tight enough to catch an
 * accidentally quadratic BPE, regex or added-token scan.
 */
class TokenizerPerformanceTest {

    private static final String[] WORDS = {
            "the", "model", "tokenizer", "encodes", "long", "contexts", "quickly", "and", "correctly", "with",
            "byte-level", "BPE", "merges", "ranked", "by", "priority", "Spring", "inference", "engine", "cache",
            "안녕하세요", "세계", "日本語", "中文", "😀", "👍🏽", "naïve", "café", "Straße", "λ",
            "2024", "3.14159", "1,000,000", "0xDEADBEEF", "foo_bar", "fooBar()", "x += 1;", "{\"k\": [1, 2]}",
            "<|im_start|>", "<think>", "\n", "\n\n", "    ", "\t", "  ", ".", ",", "!", "?", "—",
    };

    /** Mixed prose, code, CJK, emoji and markup, with random identifiers so the word cache can't hide the BPE cost. */
    static String mixedText(int words, long seed) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(words * 7);
        for (int i = 0; i < words; i++) {
            if (random.nextInt(8) == 0) {
                int len = 3 + random.nextInt(12);
                for (int k = 0; k < len; k++) text.append((char) ('a' + random.nextInt(26)));
            } else {
                text.append(WORDS[random.nextInt(WORDS.length)]);
            }
            text.append(random.nextInt(5) == 0 ? "" : " ");
        }
        return text.toString();
    }

    @Test
    void encodesAHundredThousandTokensInWellUnderAFewSeconds() {
        for (Tokenizer tokenizer : new Tokenizer[] {TestTokenizers.qwen3(), TestTokenizers.llama31()}) {
            String text = mixedText(60_000, 42);
            tokenizer.encode(mixedText(2_000, 1), false); // warm up the JIT a little
            long start = System.nanoTime();
            int[] ids = tokenizer.encode(text, false);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(ids.length >= 100_000, "text should be at least 100K tokens, was " + ids.length);
            assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, tokenizer + " took " + took + " for " + ids.length + " tokens");
            assertEquals(text, tokenizer.decode(ids, false)); // the text is NFC-stable, so it round-trips exactly
        }
    }

    @Test
    void pathologicalInputsStayLinear() {
        Tokenizer tokenizer = TestTokenizers.qwen3();
        String spaces = " ".repeat(200_000);
        String letters = "a".repeat(200_000);
        String newlines = " \n".repeat(100_000);
        String digits = "9".repeat(100_000);
        String brackets = "<|".repeat(100_000);
        long start = System.nanoTime();
        for (String text : new String[] {spaces, letters, newlines, digits, brackets}) {
            assertEquals(text, tokenizer.decode(tokenizer.encode(text, false), false));
            assertEquals(text, TestTokenizers.llama31().decode(TestTokenizers.llama31().encode(text, false), false));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(Duration.ofSeconds(20)) < 0, "took " + took);
    }
}
