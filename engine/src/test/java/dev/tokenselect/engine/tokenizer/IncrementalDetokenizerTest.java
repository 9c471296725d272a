package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class IncrementalDetokenizerTest {

    private static List<String> stream(Tokenizer tokenizer, int[] ids, boolean skipSpecial) {
        IncrementalDetokenizer detokenizer = tokenizer.newIncrementalDetokenizer(skipSpecial);
        List<String> deltas = new ArrayList<>();
        for (int id : ids) deltas.add(detokenizer.accept(id));
        deltas.add(detokenizer.flush());
        assertFalse(detokenizer.hasPendingBytes());
        return deltas;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "😀😃😄 emoji 👨‍👩‍👧‍👦 family 🇰🇷 flag 🏳️‍🌈",
            "안녕하세요, 만나서 반갑습니다. 스트리밍 디코딩 테스트!",
            "mixed: 日本語のテキスト、中文，한국어 and English — with “quotes” …",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𓀀𓀁 (supplementary planes)",
    })
    void deltasNeverSplitCharactersAndConcatenateToDecode(String text) {
        for (Tokenizer tokenizer : List.of(TestTokenizers.qwen3(), TestTokenizers.llama31())) {
            int[] ids = tokenizer.encode(text, false);
            List<String> deltas = stream(tokenizer, ids, false);
            boolean heldBack = false;
            for (String delta : deltas) {
                assertFalse(delta.contains("\uFFFD"), "delta with a replacement character: " + delta);
                if (!delta.isEmpty()) {
                    assertFalse(Character.isLowSurrogate(delta.charAt(0)), "delta starts inside a surrogate pair");
                    assertFalse(Character.isHighSurrogate(delta.charAt(delta.length() - 1)), "delta ends inside a surrogate pair");
                }
                heldBack |= delta.isEmpty();
            }
            assertTrue(heldBack, "these texts have characters spread over several tokens");
            assertEquals(tokenizer.decode(ids), String.join("", deltas));
            assertEquals(text, String.join("", deltas));
        }
    }

    @Test
    void specialTokensCanBeSkippedOrEmitted() {
        Tokenizer qwen = TestTokenizers.qwen3();
        int[] ids = qwen.encode("<|im_start|>assistant\n안녕 😀<|im_end|>", false);
        assertEquals(qwen.decode(ids, false), String.join("", stream(qwen, ids, false)));
        assertEquals(qwen.decode(ids, true), String.join("", stream(qwen, ids, true)));
        assertEquals("assistant\n안녕 😀", String.join("", stream(qwen, ids, true)));
        IncrementalDetokenizer emitting = qwen.newIncrementalDetokenizer(false);
        assertEquals("<|im_end|>", emitting.accept(151645));
        assertEquals("", qwen.newIncrementalDetokenizer(true).accept(151645));
    }

    @Test
    void incompleteCharacterAtTheEndFlushesLikeDecode() {
        Tokenizer qwen = TestTokenizers.qwen3();
        int[] ids = qwen.encode("ok \uD80C\uDC00", false); // U+13000 spans three tokens
        int[] truncated = java.util.Arrays.copyOf(ids, ids.length - 1);
        IncrementalDetokenizer detokenizer = qwen.newIncrementalDetokenizer(false);
        StringBuilder out = new StringBuilder();
        for (int id : truncated) out.append(detokenizer.accept(id));
        assertTrue(detokenizer.hasPendingBytes());
        assertEquals("ok ", out.toString());
        out.append(detokenizer.flush());
        assertEquals(qwen.decode(truncated), out.toString());
        assertEquals("ok \uFFFD", out.toString());
    }

    @Test
    void arbitraryIdSequencesMatchDecodeIncludingInvalidUtf8() {
        // Random ids produce plenty of invalid byte sequences; replacement characters must land exactly
        // where a whole-sequence decode puts them.
        Random random = new Random(1234);
        for (Tokenizer tokenizer : List.of(TestTokenizers.qwen3(), TestTokenizers.llama31())) {
            for (int round = 0; round < 300; round++) {
                int[] ids = new int[1 + random.nextInt(40)];
                for (int i = 0; i < ids.length; i++) {
                    // Bias towards the single-byte tokens, where partial UTF-8 sequences live.
                    ids[i] = random.nextInt(3) == 0 ? random.nextInt(tokenizer.vocabSize() + 50) : 100 + random.nextInt(156);
                }
                for (boolean skip : new boolean[] {false, true}) {
                    assertEquals(tokenizer.decode(ids, skip), String.join("", stream(tokenizer, ids, skip)));
                }
            }
        }
    }
}
