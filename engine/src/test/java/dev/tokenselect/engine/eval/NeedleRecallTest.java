package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/** How much of the asked codes the selections behind an answer kept. */
class NeedleRecallTest {

    private static final Path MODEL = Path.of("..", "models", "needle-14m");

    @Test
    void countsTheCodesTokensInEachAnswerMakingSelection() {
        // two codes: tokens 100-103 and 200-201 of a 300-token prompt
        NeedleRecall r = new NeedleRecall(List.of("111111", "222222"), new int[][] {{100, 104}, {200, 202}},
                List.of("111111", "222222"), 300);
        r.selected(0, false, 256, new int[] {1, 2, 3}); // an earlier chunk: not an answer's
        r.selected(0, false, 300, new int[] {0, 100, 101, 102, 103, 200, 201, 299}); // all 6
        r.selected(1, false, 300, new int[] {100, 102, 150, 201}); // 3 of 6
        r.selected(0, true, 301, null); // the whole cache attended
        r.selected(1, true, 301, new int[] {0, 1, 2, 299, 300}); // none
        Map<String, Object> s = r.stats();
        assertEquals(4L, s.get(NeedleRecall.SELECTIONS));
        assertEquals((1 + 0.5 + 1 + 0) / 4, (double) s.get(NeedleRecall.MEAN), 1e-4);
        assertEquals(0.5, (double) s.get(NeedleRecall.COMPLETE), 1e-4);
        assertEquals(2, r.decodeSelections());
        assertEquals(List.of(1.0, 0.25), s.get(NeedleRecall.BY_LAYER));
        assertTrue(new NeedleRecall(List.of("1"), new int[][] {{1, 2}}, List.of("1"), 10).stats().isEmpty(),
                "nothing traced, nothing said");
    }

    @Test
    void eachNeedlesCodeIsCountedApart() {
        // the asked code at 10-12, another needle's at 20-23
        NeedleRecall r = new NeedleRecall(List.of("111111", "222222"), new int[][] {{10, 12}, {20, 24}},
                List.of("111111"), 50);
        r.selected(0, false, 50, new int[] {10, 20, 21, 22, 23}); // asked 1/2, other 4/4
        r.selected(1, true, 51, new int[] {11, 30}); // asked 1/2, other 0/4
        assertEquals(Map.of("111111", 0.5, "222222", 0.5), r.stats().get(NeedleRecall.BY_CODE));
        assertEquals(0.5, (double) r.stats().get(NeedleRecall.MEAN), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> new NeedleRecall(List.of("1"), new int[0][], List.of(), 5));
        assertThrows(IllegalArgumentException.class,
                () -> new NeedleRecall(List.of("1"), new int[][] {{0, 1}}, List.of("2"), 5));
    }

    /** The report's table of wrong answers naming another needle: the asked, the named and the other codes kept. */
    @Test
    void theReportComparesTheAskedCodeWithTheNamedOne() {
        List<EvalPolicy> policies = EvalPolicy.parseList("ts-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_multikey"), List.of(4096), policies, 3, 1, 8);
        Map<String, Object> byCode = Map.of("111111", 0.2, "222222", 0.9, "333333", 0.4, "444444", 0.6);
        List<EvalHarness.Outcome> outcomes = List.of(
                // names another needle's code: counted
                new EvalHarness.Outcome("niah_multikey", 4096, "ts-64", 0, 1, 4090, "222222", List.of("111111"), false,
                        Map.of(NeedleRecall.BY_CODE, byCode)),
                // names a code in no needle: not counted
                new EvalHarness.Outcome("niah_multikey", 4096, "ts-64", 1, 2, 4090, "999999", List.of("111111"), false,
                        Map.of(NeedleRecall.BY_CODE, byCode)),
                // right: not counted
                new EvalHarness.Outcome("niah_multikey", 4096, "ts-64", 2, 3, 4090, "111111", List.of("111111"), true,
                        Map.of(NeedleRecall.BY_CODE, byCode)));
        String md = new EvalReport(config, outcomes, "m", "cpu").markdown();
        assertTrue(md.contains("| niah_multikey | ts-64 | 4K | 1 | 0.200 | 0.900 | 0.500 |"), md);
    }

    @Test
    void decodeStepsTheTraceDidNotSeeAreRefusedWithTheFix() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> EvalHarness.requireTraced(6L, 0));
        assertTrue(e.getMessage().contains("-Dtokenselect.cuda.graphSelection=false"), e.getMessage());
        EvalHarness.requireTraced(6L, 48); // seen
        EvalHarness.requireTraced(0L, 0); // an answer of one token has no decode step
    }

    @Test
    void keptInCountsTheAscendingSelectionWithinARange() {
        int[] sel = {0, 5, 6, 7, 10, 20};
        assertEquals(3, NeedleRecall.keptIn(sel, 5, 8));
        assertEquals(4, NeedleRecall.keptIn(sel, 4, 11));
        assertEquals(0, NeedleRecall.keptIn(sel, 11, 20));
        assertEquals(1, NeedleRecall.keptIn(sel, 11, 21));
        assertEquals(0, NeedleRecall.keptIn(sel, 21, 30));
    }

    @Test
    void aCodesSpanIsItsTokensInTheRealPrompt() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(MODEL);
        ChatFormat chat = EvalHarness.chatFormat(tokenizer);
        for (String task : List.of("niah_multivalue", "niah_multikey")) {
            EvalSample sample = EvalTasks.generate(task, EvalSeeds.sampleSeed(1, EvalTasks.TASKS.indexOf(task), 3), 2048,
                    EvalHarness.counter(tokenizer, chat));
            String text = EvalHarness.promptText(chat, sample.user());
            int[] ids = EvalHarness.promptIds(tokenizer, chat, sample.user());
            int[][] spans = NeedleRecall.spans(tokenizer, chat == null, text, ids, sample.expected());
            assertEquals(sample.expected().size(), spans.length);
            for (int i = 0; i < spans.length; i++) {
                String code = sample.expected().get(i);
                String decoded = tokenizer.decode(Arrays.copyOfRange(ids, spans[i][0], spans[i][1]), false);
                assertTrue(decoded.contains(code), decoded + " holds " + code);
                // no token more than the code needs: dropping either end's token loses a digit
                assertFalse(tokenizer.decode(Arrays.copyOfRange(ids, spans[i][0] + 1, spans[i][1]), false).contains(code));
                assertFalse(tokenizer.decode(Arrays.copyOfRange(ids, spans[i][0], spans[i][1] - 1), false).contains(code));
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> NeedleRecall.spans(tokenizer, false, "no code here", new int[] {1, 2}, List.of("123456")));
    }

    /**
     * Through the harness on the CPU backend: one selection per layer for the prompt's last chunk and per
     * decode step; a budget over the prompt attends to everything; full attention is not traced.
     */
    @Test
    void theHarnessTracesEveryNeedleOfAMultiKeyHaystack() {
        List<EvalPolicy> policies = EvalPolicy.parseList("ts-64", 16, 64, 0.9, 256, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_multikey"), List.of(1024), policies, 1, 5, 8);
        try (Engine engine = Engine.open(MODEL, new EngineOptions("cpu", 0, 2, 2048, 32))) {
            EvalHarness.Outcome o = EvalHarness.run(engine, config, s -> { }, x -> { }, List.of(), true).getFirst();
            @SuppressWarnings("unchecked")
            Map<String, Object> byCode = (Map<String, Object>) o.stats().get(NeedleRecall.BY_CODE);
            assertEquals(EvalTasks.needleCodes("niah_multikey", o.seed()), List.copyOf(byCode.keySet()));
            assertEquals(((Number) o.stats().get(NeedleRecall.MEAN)).doubleValue(),
                    ((Number) byCode.get(o.expected().getFirst())).doubleValue(), 1e-3, "the asked code is one of them");
        }
    }

    /**
     * ts-K-needles: every selection of the answer attends each needle sentence, so each code's tokens are
     * kept in every traced selection, where the plain policy with the same tiny budget keeps less.
     */
    @Test
    void theNeedlesPolicyAttendsEveryNeedleSentence() {
        List<EvalPolicy> policies = EvalPolicy.parseList("ts-16,ts-16-needles", 16, 64, 0.9, 256, 16);
        assertTrue(policies.get(1).keepsNeedles());
        assertFalse(policies.get(0).keepsNeedles());
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_multikey"), List.of(1024), policies, 1, 5, 8);
        try (Engine engine = Engine.open(MODEL, new EngineOptions("cpu", 0, 2, 2048, 32))) {
            List<EvalHarness.Outcome> out = EvalHarness.run(engine, config, s -> { }, x -> { }, List.of(), false);
            EvalHarness.Outcome plain = out.get(0);
            EvalHarness.Outcome oracle = out.get(1);
            assertEquals("ts-16-needles", oracle.policy());
            assertFalse(plain.stats().containsKey(NeedleRecall.MEAN), "no trace asked for the plain policy");
            @SuppressWarnings("unchecked")
            Map<String, Object> byCode = (Map<String, Object>) oracle.stats().get(NeedleRecall.BY_CODE);
            assertEquals(4, byCode.size());
            for (Object kept : byCode.values()) {
                assertEquals(1.0, ((Number) kept).doubleValue(), 1e-9, byCode.toString());
            }
            assertEquals(1.0, ((Number) oracle.stats().get(NeedleRecall.COMPLETE)).doubleValue(), 1e-9);
            // the needles' tokens on top of a 96-token budget, in the selections after them
            double plainAttended = ((Number) plain.stats().get("mean_selected_tokens")).doubleValue();
            double oracleAttended = ((Number) oracle.stats().get("mean_selected_tokens")).doubleValue();
            assertTrue(oracleAttended > plainAttended, plainAttended + " vs " + oracleAttended);
        }
    }

    @Test
    void aNeedleSentencesSpanIsItsTokensInTheRealPrompt() throws Exception {
        Tokenizer tokenizer = Tokenizer.load(MODEL);
        ChatFormat chat = EvalHarness.chatFormat(tokenizer);
        long seed = EvalSeeds.sampleSeed(1, EvalTasks.TASKS.indexOf("niah_multiquery"), 2);
        EvalSample sample = EvalTasks.generate("niah_multiquery", seed, 2048, EvalHarness.counter(tokenizer, chat));
        String text = EvalHarness.promptText(chat, sample.user());
        int[] ids = EvalHarness.promptIds(tokenizer, chat, sample.user());
        List<String> sentences = EvalTasks.needleSentences("niah_multiquery", seed);
        assertEquals(4, sentences.size());
        int[][] spans = NeedleRecall.spans(tokenizer, chat == null, text, ids, sentences);
        List<String> codes = EvalTasks.needleCodes("niah_multiquery", seed);
        for (int i = 0; i < spans.length; i++) {
            assertTrue(sentences.get(i).contains(codes.get(i)), "the same needle order");
            assertTrue(tokenizer.decode(Arrays.copyOfRange(ids, spans[i][0], spans[i][1]), false).contains(sentences.get(i)));
        }
        int[] tokens = EvalHarness.tokensOf(spans);
        assertEquals(Arrays.stream(spans).mapToInt(sp -> sp[1] - sp[0]).sum(), tokens.length, "disjoint spans");
        for (int i = 1; i < tokens.length; i++) {
            assertTrue(tokens[i] > tokens[i - 1]);
        }
    }

    @Test
    void theHarnessTracesEveryTokenSelectAnswerOfANeedleTask() {
        List<EvalPolicy> policies = EvalPolicy.parseList("full,ts-64,ts-2048", 16, 64, 0.9, 256, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_single_noise"), List.of(1024), policies, 1, 5, 8);
        try (Engine engine = Engine.open(MODEL, new EngineOptions("cpu", 0, 2, 2048, 32))) {
            int layers = engine.model().config().numLayers();
            List<EvalHarness.Outcome> out = EvalHarness.run(engine, config, s -> { }, o -> { }, List.of(), true);
            assertEquals(3, out.size());
            EvalHarness.Outcome full = out.get(0);
            EvalHarness.Outcome small = out.get(1);
            EvalHarness.Outcome whole = out.get(2);
            assertFalse(full.stats().containsKey(NeedleRecall.MEAN), "full attention has no selection");
            for (EvalHarness.Outcome o : List.of(small, whole)) {
                long steps = ((Number) o.stats().get("decode_steps")).longValue();
                assertEquals(layers * (1 + steps), ((Number) o.stats().get(NeedleRecall.SELECTIONS)).longValue(), o.toString());
                double mean = ((Number) o.stats().get(NeedleRecall.MEAN)).doubleValue();
                assertTrue(mean >= 0 && mean <= 1, o.toString());
            }
            assertEquals(1.0, ((Number) whole.stats().get(NeedleRecall.MEAN)).doubleValue(), 1e-9);
            assertEquals(Map.of(small.expected().getFirst(), small.stats().get(NeedleRecall.MEAN)),
                    small.stats().get(NeedleRecall.BY_CODE), "one needle: its code is the asked one");
            assertEquals(1.0, ((Number) whole.stats().get(NeedleRecall.COMPLETE)).doubleValue(), 1e-9);
            String md = new EvalReport(config, out, "m", "cpu").markdown();
            assertTrue(md.contains("### The asked codes in the selections"), md);
            assertTrue(md.contains("| niah_single_noise | ts-2048 | 1K |"), md);
            // every layer of the whole-cache budget kept every code token
            assertTrue(md.contains("| niah_single_noise | ts-2048 | 1K | 1 " + (whole.correct() ? "right" : "wrong") + " |"
                    + " 1.000 |".repeat(layers)), md);
        }
    }
}
