package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import dev.tokenselect.engine.prefix.CorpusPrompts.Turn;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * A corpus that opens the first user turn, the question ending it: the prompt renders as the template renders that
 * one user message, and the trained needle model (taught on "text, then question" in one user turn) answers from it.
 */
class CorpusUserTurnTest {

    private static final Path MODEL = Path.of("..", "models", "needle-14m");

    @TempDir
    Path cache;

    static String notes(String key, String code) {
        return notes(key, code, 300);
    }

    static String notes(String key, String code, int n) {
        StringBuilder sb = new StringBuilder();
        String[] noise = {"The grass is green.", "The sky is blue.", "The sun is yellow.", "Here we go.",
                "There and back again."};
        for (int i = 0; i < n; i++) {
            sb.append(noise[i % noise.length]).append(' ');
            if (i == n / 2) {
                sb.append("The special code for ").append(key).append(" is ").append(code).append(". ");
            }
        }
        return sb.toString().strip();
    }

    static Engine open() {
        return Engine.open(MODEL, new EngineOptions("cpu", 0, 2, 8192, 32));
    }

    static Map<String, Object> message(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    @Test
    void theCorpusAndTheQuestionShareOneUserTurn() {
        try (Engine e = open()) {
            CorpusPrompts prompts = new CorpusPrompts(e.tokenizer(), Turn.USER);
            List<Document> docs = List.of(new Document("notes.txt", notes("falcon", "318274")));
            int[] corpus = prompts.corpusTokens(docs);
            String question = "What is the special code for falcon?";
            String expected = ChatFormat.of(e.tokenizer()).render(
                    List.of(message("user", CorpusPrompts.corpusText(docs) + "\n\n" + question)), null, true, Map.of());
            int[] asked = CorpusPrompts.concat(corpus, prompts.questionTokens(question));
            assertEquals(expected, e.tokenizer().decode(asked));
            assertTrue(expected.startsWith("<|im_start|>user\n"), expected.substring(0, 20));

            int[] conversation = prompts.conversationTokens(corpus, List.of(message("user", question)), null, Map.of());
            assertArrayEquals(asked, conversation, "the corpus is the whole prefix of the conversation");
            assertTrue(prompts.madeHere(corpus));
            assertFalse(new CorpusPrompts(e.tokenizer(), Turn.SYSTEM).madeHere(corpus));

            // a later turn follows the first, which still holds the corpus
            List<Map<String, Object>> turns = List.of(message("user", question), message("assistant", "318274"),
                    message("user", "And for lantern?"));
            int[] followUp = prompts.conversationTokens(corpus, turns, null, Map.of());
            assertArrayEquals(corpus, Arrays.copyOf(followUp, corpus.length));
            assertTrue(e.tokenizer().decode(followUp).endsWith(
                    "318274<|im_end|>\n<|im_start|>user\nAnd for lantern?<|im_end|>\n<|im_start|>assistant\n"));

            // a system message of the conversation comes first, so the corpus is not the prefix, but its text is there
            int[] withSystem = prompts.conversationTokens(corpus,
                    List.of(message("system", "Be brief."), message("user", question)), null, Map.of());
            assertEquals(ChatFormat.of(e.tokenizer()).render(List.of(message("system", "Be brief."),
                            message("user", CorpusPrompts.corpusText(docs) + "\n\n" + question)), null, true, Map.of()),
                    e.tokenizer().decode(withSystem));
        }
    }

    @Test
    void theNeedleModelAnswersFromACorpusInTheUserTurn() {
        SamplingParams greedy = SamplingParams.greedy(12);
        String[][] needles = {{"falcon", "318274"}, {"lantern", "902113"}, {"copper", "557120"}, {"violin", "640981"},
                {"glacier", "731904"}, {"harbor", "205618"}};
        try (Engine e = open();
             CorpusManager m = new CorpusManager(e, null, new CorpusManager.Options(AttentionSpec.full(), 512, Turn.USER))) {
            int right = 0;
            StringBuilder answers = new StringBuilder();
            for (String[] n : needles) {
                m.register(n[0], List.of(new Document("notes.txt", notes(n[0], n[1]))));
                String answer = m.ask(n[0], "What is the special code for " + n[0] + "?", greedy, TokenListener.NONE)
                        .result().text();
                right += answer.contains(n[1]) ? 1 : 0;
                answers.append(n[1]).append(" -> ").append(answer).append("; ");
            }
            // a 14M model: nearly every code, not necessarily all (the system-turn layout gets almost none)
            assertTrue(right >= 5, "right " + right + " of 6: " + answers);
        }
    }

    @Test
    void aCorpusCataloguedInTheSystemTurnMustBeRegisteredAgainForTheUserTurn() {
        List<Document> docs = List.of(new Document("notes.txt", notes("falcon", "318274")));
        try (Engine e = open(); CorpusManager m = new CorpusManager(e, persistence(), CorpusManager.Options.defaults())) {
            m.register("notes", docs);
        }
        try (Engine e = open(); CorpusManager m = new CorpusManager(e, persistence(),
                new CorpusManager.Options(AttentionSpec.full(), 512, Turn.USER))) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> m.corpusTokens("notes"));
            assertTrue(error.getMessage().contains("register it again"), error.getMessage());
            assertEquals(0, m.register("notes", docs).restoredTokens(), "registered again: prefilled, not restored");
            assertTrue(new CorpusPrompts(e.tokenizer(), Turn.USER).madeHere(m.corpusTokens("notes")));
        }
    }

    PersistentPrefixes persistence() {
        return new PersistentPrefixes(cache, new FilePrefixStore(cache),
                PersistentPrefixes.Options.defaults().withOrphanGrace(Duration.ZERO));
    }
}
