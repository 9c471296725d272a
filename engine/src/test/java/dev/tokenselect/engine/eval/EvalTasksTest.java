package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.tokenizer.Tokenizer;

class EvalTasksTest {

    static List<String> tasks() {
        return EvalTasks.TASKS;
    }

    @ParameterizedTest
    @MethodSource("tasks")
    void deterministicForASeed(String task) {
        long seed = EvalSeeds.sampleSeed(7, EvalTasks.TASKS.indexOf(task), 3);
        EvalSample a = EvalTasks.generate(task, seed, 1500, EvalTasks.TokenCounter.approx());
        EvalSample b = EvalTasks.generate(task, seed, 1500, EvalTasks.TokenCounter.approx());
        assertEquals(a, b);
        EvalSample c = EvalTasks.generate(task, seed + 1, 1500, EvalTasks.TokenCounter.approx());
        assertNotEquals(a.user(), c.user());
    }

    /** The needles' codes from the seed alone are the codes in the haystack, at every length. */
    @ParameterizedTest
    @MethodSource("tasks")
    void needleCodesAreTheHaystacksCodes(String task) {
        Pattern needle = Pattern.compile("The special code for \\S+ is (\\d{6})\\.");
        for (int i = 0; i < 3; i++) {
            long seed = EvalSeeds.sampleSeed(1, EvalTasks.TASKS.indexOf(task), i);
            List<String> codes = EvalTasks.needleCodes(task, seed);
            for (int target : new int[] {600, 3000}) {
                EvalSample s = EvalTasks.generate(task, seed, target, EvalTasks.TokenCounter.approx());
                List<String> inHaystack = new ArrayList<>();
                Matcher m = needle.matcher(s.user());
                while (m.find()) {
                    inHaystack.add(m.group(1));
                }
                assertEquals(inHaystack.stream().sorted().toList(), codes.stream().sorted().toList(), task + " at " + target);
                assertTrue(codes.containsAll(s.expected()) || !task.startsWith("niah_"), task);
            }
            assertEquals(task.startsWith("niah_") ? (task.startsWith("niah_single") ? 1 : 4) : 0, codes.size(), task);
        }
    }

    @ParameterizedTest
    @MethodSource("tasks")
    void hitsTheTargetLengthWithTheModelTokenizer(String task) {
        Tokenizer tok = EvalTestSupport.qwen3();
        ChatFormat chat = EvalHarness.chatFormat(tok);
        EvalTasks.TokenCounter counter = EvalHarness.counter(tok, chat);
        for (int target : new int[] {4096, 8192}) {
            for (int i = 0; i < 2; i++) {
                EvalSample s = EvalTasks.generate(task, EvalSeeds.sampleSeed(1, EvalTasks.TASKS.indexOf(task), i), target, counter);
                int n = EvalHarness.promptIds(tok, chat, s.user()).length;
                assertTrue(n <= target && n >= target - Math.max(64, target / 50),
                        task + " at " + target + ": " + n + " tokens");
            }
        }
    }

    @Test
    void approximateCounterStaysCloseToo() {
        for (String task : EvalTasks.TASKS) {
            EvalSample s = EvalTasks.generate(task, EvalSeeds.sampleSeed(2, 0, 0), 3000, EvalTasks.TokenCounter.approx());
            int n = EvalTasks.TokenCounter.approx().prompt(s.user());
            assertTrue(n <= 3000 && n >= 3000 - 64, task + ": " + n);
        }
    }

    @ParameterizedTest
    @MethodSource("tasks")
    void answersArePresentExactlyWhereTheyShouldBe(String task) {
        for (int i = 0; i < 20; i++) {
            EvalSample s = EvalTasks.generate(task, EvalSeeds.sampleSeed(3, EvalTasks.TASKS.indexOf(task), i), 800,
                    EvalTasks.TokenCounter.approx());
            String context = s.user().substring(0, s.user().lastIndexOf("\n\n"));
            String question = s.user().substring(s.user().lastIndexOf("\n\n") + 2);
            assertTrue(Scorer.correct(s.answer(), s.expected()), "the reference answer scores");
            assertEquals(1.0, Scorer.rulerScore(s.answer(), s.expected()), "the reference answer scores in full");
            switch (task) {
                case "niah_single_noise", "niah_single_prose", "niah_multikey", "niah_multivalue", "niah_multiquery" -> {
                    for (String code : s.expected()) {
                        assertEquals(1, count(context, code), task + ": code " + code + " once in the haystack");
                        assertFalse(question.contains(code));
                    }
                    Matcher m = Pattern.compile("What (?:is|are) (?:all )?the special codes? for (.*)\\?").matcher(question);
                    assertTrue(m.matches(), question);
                    for (String key : m.group(1).split(", | and ")) {
                        int needles = count(context, "special code for " + key + " is");
                        assertEquals(task.equals("niah_multivalue") ? 4 : 1, needles, key);
                        assertEquals(needles, countWord(context, key), "the key occurs only in its needles: " + key);
                    }
                }
                case "vt" -> {
                    String value = question.replaceAll("\\D", "");
                    assertEquals(1, count(context, " = " + value + "."));
                    assertEquals(1, count(context, value));
                    for (int k = 0; k < 4; k++) {
                        String name = s.expected().get(k);
                        assertEquals(1, count(context, "VAR " + name + " ="), name + " assigned once");
                        if (k > 0) {
                            assertTrue(context.indexOf("VAR " + name + " =") > context.indexOf("VAR " + s.expected().get(k - 1) + " ="),
                                    "the chain is in order");
                        }
                    }
                }
                case "cwe" -> {
                    Map<String, Integer> freq = new HashMap<>();
                    String list = context.substring(context.indexOf("\n\n") + 2, context.length() - 1);
                    for (String w : list.split(", ")) {
                        freq.merge(w, 1, Integer::sum);
                    }
                    int minCommon = s.expected().stream().mapToInt(freq::get).min().orElseThrow();
                    int maxRare = freq.entrySet().stream().filter(e -> !s.expected().contains(e.getKey()))
                            .mapToInt(Map.Entry::getValue).max().orElse(0);
                    assertEquals(3, s.expected().size());
                    assertTrue(minCommon > maxRare, "common " + minCommon + " vs rare " + maxRare);
                }
                case "kv" -> {
                    String key = question.substring(question.indexOf('"') + 1, question.lastIndexOf('"'));
                    assertEquals(1, count(context, "\"" + key + "\": \"" + s.answer() + "\""));
                    assertEquals(1, count(context, key));
                    assertEquals(1, count(context, s.answer()));
                }
                default -> throw new AssertionError(task);
            }
        }
    }

    @Test
    void heldOutSeedsDifferFromTrainingSeeds() {
        Set<Long> seen = new HashSet<>();
        for (long user : new long[] {0, 1, 42, -5, Long.MAX_VALUE}) {
            for (int t = 0; t < EvalTasks.TASKS.size(); t++) {
                for (int i = 0; i < 50; i++) {
                    long s = EvalSeeds.sampleSeed(user, t, i);
                    assertTrue(EvalSeeds.isEvalSeed(s));
                    assertFalse(EvalSeeds.isTrainingSeed(s));
                    assertTrue(seen.add(s) || user == Long.MAX_VALUE, "distinct seeds");
                }
            }
        }
        // The training script's seeds: (run seed << 32) | counter, run seed < 2^28.
        long training = ((1L << 28) - 1) << 32 | 0xFFFF_FFFFL;
        assertTrue(EvalSeeds.isTrainingSeed(training));
        assertFalse(EvalSeeds.isEvalSeed(training));
        EvalSample eval = EvalTasks.generate("niah_single_noise", EvalSeeds.sampleSeed(1, 0, 0), 600, EvalTasks.TokenCounter.approx());
        EvalSample train = EvalTasks.generate("niah_single_noise", 1234L << 32, 600, EvalTasks.TokenCounter.approx());
        assertNotEquals(eval.expected(), train.expected());
        assertThrows(IllegalArgumentException.class, () -> EvalSeeds.sampleSeed(1, 0, EvalSeeds.MAX_SAMPLES));
    }

    @Test
    void rendersLikeTheTrainingScript() {
        // tools/train/tasks.py: instruction, blank line, haystack, blank line, question.
        EvalSample s = EvalTasks.generate("niah_single_noise", 5, 300, EvalTasks.TokenCounter.approx());
        assertTrue(s.user().startsWith(EvalTasks.INSTRUCTION_NIAH + "\n\nThe grass is green."), s.user());
        assertTrue(s.user().endsWith("\n\nWhat is the special code for " + s.user().replaceAll("(?s).*for (\\w+)\\?$", "$1") + "?"));
        assertTrue(s.answer().matches("\\d{6}"));
        assertThrows(IllegalArgumentException.class, () -> EvalTasks.generate("nope", 1, 300, EvalTasks.TokenCounter.approx()));
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    private static int countWord(String text, String word) {
        Matcher m = Pattern.compile("\\b" + Pattern.quote(word) + "\\b").matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
