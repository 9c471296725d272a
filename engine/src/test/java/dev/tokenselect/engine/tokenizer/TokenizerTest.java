package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenizerTest {

    private final Tokenizer qwen = TestTokenizers.qwen3();
    private final Tokenizer llama = TestTokenizers.llama31();

    @Test
    void qwenHelloWorld() {
        assertArrayEquals(new int[] {9707, 1879}, qwen.encode("Hello world", false));
        // Qwen has no BOS: add_special_tokens changes nothing.
        assertArrayEquals(new int[] {9707, 1879}, qwen.encode("Hello world", true));
    }

    @Test
    void llamaHelloWorldAndBos() {
        assertArrayEquals(new int[] {9906, 1917}, llama.encode("Hello world", false));
        assertArrayEquals(new int[] {128000, 9906, 1917}, llama.encode("Hello world", true));
        assertArrayEquals(new int[] {128000}, llama.encode("", true));
        assertArrayEquals(new int[0], llama.encode("", false));
    }

    @Test
    void specialTokensAreMatchedInText() {
        assertEquals(OptionalInt.of(151644), qwen.tokenToId("<|im_start|>"));
        assertArrayEquals(new int[] {151644, 872, 198, 13048, 151645}, qwen.encode("<|im_start|>user\nHi<|im_end|>", false));
        assertEquals(OptionalInt.of(128009), llama.tokenToId("<|eot_id|>"));
        int[] ids = llama.encode("Hi<|eot_id|>", false);
        assertEquals(128009, ids[ids.length - 1]);
    }

    @Test
    void splitSpecialTokensTreatsSpecialTokensAsText() {
        int[] ids = qwen.encode("<|im_start|>user<think>", false, true);
        assertFalse(Arrays.stream(ids).anyMatch(id -> id == 151644), Arrays.toString(ids));
        assertEquals(151667, ids[ids.length - 1], "<think> is not special, so it still matches");
        assertEquals("<|im_start|>user<think>", qwen.decode(ids));
    }

    @Test
    void configTokens() {
        assertEquals(Optional.of("<|im_end|>"), qwen.eosToken());
        assertEquals(OptionalInt.of(151645), qwen.eosTokenId());
        assertEquals(Optional.empty(), qwen.bosToken());
        assertEquals(OptionalInt.empty(), qwen.bosTokenId());
        assertEquals(OptionalInt.of(151643), qwen.padTokenId());
        assertEquals(OptionalInt.of(128000), llama.bosTokenId());
        assertEquals(OptionalInt.of(128009), llama.eosTokenId());
        assertTrue(qwen.chatTemplate().orElseThrow().contains("<|im_start|>"));
        assertTrue(llama.chatTemplate().orElseThrow().contains("<|start_header_id|>"));
    }

    @Test
    void vocabularyAndAddedTokens() {
        assertEquals(151669, qwen.vocabSize());
        assertEquals(128256, llama.vocabSize());
        assertEquals(26, qwen.addedTokens().size());
        assertEquals(256, llama.addedTokens().size());
        assertEquals(14, qwen.specialTokenIds().size());
        assertEquals(256, llama.specialTokenIds().size());
        assertTrue(qwen.isSpecialToken(151645));
        assertFalse(qwen.isSpecialToken(151667), "<think> is a non-special added token");
        assertFalse(qwen.isSpecialToken(1879));
        assertEquals(Optional.of("Ġworld"), qwen.idToToken(1879));
        assertEquals(OptionalInt.of(1879), qwen.tokenToId("Ġworld"));
        assertEquals(Optional.of("<think>"), qwen.idToToken(151667));
        assertEquals(Optional.empty(), qwen.idToToken(151669));
        assertEquals(Optional.empty(), qwen.idToToken(-1));
        assertEquals(OptionalInt.empty(), qwen.tokenToId("no such token"));
        List<AddedToken> added = qwen.addedTokens();
        assertEquals(new AddedToken(151667, "<think>", false, false, false, false, false), added.get(24));
    }

    @Test
    void decodeSkipsSpecialTokensOnRequest() {
        int[] ids = qwen.encode("<|im_start|>assistant\n<think>\nhm\n</think>\n\nOK<|im_end|>", false);
        assertEquals("<|im_start|>assistant\n<think>\nhm\n</think>\n\nOK<|im_end|>", qwen.decode(ids, false));
        assertEquals("assistant\n<think>\nhm\n</think>\n\nOK", qwen.decode(ids, true));
        assertEquals("Hello world", llama.decode(llama.encode("Hello world", true), true));
    }

    @Test
    void decodeIgnoresIdsWithoutToken() {
        // Embedding matrices are padded beyond the vocabulary; transformers decodes such ids to nothing.
        assertEquals("Hello", qwen.decode(new int[] {9707, 151700, -5, Integer.MAX_VALUE}));
    }

    @Test
    void decodeReplacesInvalidUtf8LikePython() {
        int[] hieroglyph = qwen.encode("\uD80C\uDC00", false); // U+13000, three byte-level tokens
        assertArrayEquals(new int[] {124373, 222, 222}, hieroglyph);
        assertEquals("\uFFFD", qwen.decode(Arrays.copyOf(hieroglyph, 2)));
        assertEquals("\uD80C\uDC00", qwen.decode(hieroglyph));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "The quick brown fox jumps over the lazy dog.",
            "안녕하세요! 오늘 날씨가 정말 좋네요. 한국어 토큰화 테스트입니다.",
            "emoji 😀👍🏽👨‍👩‍👧‍👦🇰🇷❤️‍🔥 and ZWJ",
            "public static void main(String[] args) {\n\tSystem.out.println(\"hi\");\n}\n",
            "whitespace   runs\t\t\tand\n\n\n\nnewlines \r\n\r\n   \u3000\u00a0\u2003 end   ",
            "mixed 日本語 中文 Ελληνικά Русский عربي हिन्दी ไทย",
            "numbers 0 12 345 6789 3.14159 -42 1e10 ½ ²",
            "control \u0000\u0001\u001f\u007f chars",
            "",
            " ",
    })
    void roundTrips(String text) {
        for (Tokenizer tokenizer : List.of(qwen, llama)) {
            assertEquals(text, tokenizer.decode(tokenizer.encode(text, false)), tokenizer.toString());
            assertEquals(text, tokenizer.decode(tokenizer.encode(text, true), true), tokenizer.toString());
        }
    }

    @Test
    void unicodeWhitespaceIsWhitespaceForTheRegex() {
        // Python/Rust \s is Unicode White_Space. "\s+(?!\S)" must keep all but the last U+3000 of a run apart
        // from the word; with an ASCII-only \s the run would be taken as punctuation and tokenized differently.
        assertArrayEquals(new int[] {87, 43429, 22441, 88}, qwen.encode("x\u3000\u3000\u3000y", false));
        assertArrayEquals(new int[] {64, 4102, 4102, 65}, qwen.encode("a\u00a0\u00a0b", false));
        assertArrayEquals(new int[] {64, 22441, 65}, qwen.encode("a\u3000b", false));
    }

    @Test
    void qwenAppliesNfcLlamaDoesNot() {
        String decomposed = "cafe\u0301";
        assertArrayEquals(qwen.encode("caf\u00e9", false), qwen.encode(decomposed, false));
        assertEquals("caf\u00e9", qwen.decode(qwen.encode(decomposed, false)));
        assertEquals(decomposed, llama.decode(llama.encode(decomposed, false)));
    }

    @Test
    void loneSurrogatesBecomeReplacementCharacters() {
        assertArrayEquals(qwen.encode("a\uFFFDb", false), qwen.encode("a\uD800b", false));
        assertArrayEquals(qwen.encode("\uFFFD", false), qwen.encode("\uDC00", false));
    }

    @Test
    void llamaIgnoreMergesEmitsWholeVocabularyWords() {
        // With ignore_merges a pre-token that is itself in the vocabulary is emitted without running BPE.
        int[] ids = llama.encode(" world", false);
        assertArrayEquals(new int[] {1917}, ids);
        assertEquals(OptionalInt.of(1917), llama.tokenToId("Ġworld"));
    }

    @Test
    void tokenizerIsSafeToShareBetweenThreads() throws Exception {
        String text = TokenizerPerformanceTest.mixedText(3_000, 7);
        int[] expected = qwen.encode(text, false);
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 5; i++) {
                    if (!Arrays.equals(expected, qwen.encode(text, false))) failures.incrementAndGet();
                }
            }));
        }
        for (Thread thread : threads) thread.join();
        assertEquals(0, failures.get());
    }

    @Test
    void addedTokenIdsMustMatchTokenizersAssignment() {
        var root = SyntheticTokenizerJson.base(false);
        ((tools.jackson.databind.node.ObjectNode) root.get("added_tokens").get(0)).put("id", 999);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                () -> Tokenizer.fromJson(SyntheticTokenizerJson.JSON.writeValueAsString(root), null));
        assertTrue(e.getMessage().contains("[MASK]") && e.getMessage().contains("999"), e.getMessage());
    }
}
