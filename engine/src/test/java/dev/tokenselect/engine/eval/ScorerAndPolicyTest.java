package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.select.AttentionSpec;

class ScorerAndPolicyTest {

    /** RULER's string_match_all: part credit for each expected string held, case ignored. */
    @Test
    void rulerScoreCountsEachExpectedStringAnAnswerHolds() {
        List<String> codes = List.of("328770", "822916", "258996", "919060");
        assertEquals(0.75, Scorer.rulerScore("328770, 822916, 919060, 291906", codes));
        assertFalse(Scorer.correct("328770, 822916, 919060, 291906", codes));
        assertEquals(1.0, Scorer.rulerScore("919060 258996 822916 328770", codes));
        assertEquals(0.0, Scorer.rulerScore("none of them", codes));
        assertEquals(1.0, Scorer.rulerScore("The Words: Apple, MANGO", List.of("apple", "mango")));
        assertFalse(Scorer.correct("The Words: Apple, MANGO", List.of("apple", "mango")));
        assertEquals(0.5, Scorer.rulerScore("VAR ABCDE", List.of("ABCDE", "FGHIJ")));
        assertThrows(IllegalArgumentException.class, () -> Scorer.rulerScore("x", List.of()));
    }

    @Test
    void exactMatchNeedsEveryExpectedString() {
        assertTrue(Scorer.correct("The special code is 042917.", List.of("042917")));
        assertTrue(Scorer.correct("042917", List.of("042917")));
        assertFalse(Scorer.correct("42917", List.of("042917")));
        assertFalse(Scorer.correct("04 2917", List.of("042917")));
        assertTrue(Scorer.correct("ABCDE, FGHIJ", List.of("FGHIJ", "ABCDE")));
        assertFalse(Scorer.correct("ABCDE", List.of("ABCDE", "FGHIJ")));
        assertFalse(Scorer.correct("", List.of("x")));
        assertThrows(IllegalArgumentException.class, () -> Scorer.correct("x", List.of()));
    }

    @Test
    void parsesPolicies() {
        List<EvalPolicy> ps = EvalPolicy.parseList(EvalPolicy.DEFAULTS, 128, 512, 0.9, 512, 16);
        assertEquals(List.of("full", "ts-512", "ts-2048", "ts-2048-nocache", "streaming-2048", "page-2048"),
                ps.stream().map(EvalPolicy::name).toList());
        assertEquals(AttentionSpec.Kind.FULL, ps.get(0).spec().kind());
        assertEquals(-1, ps.get(0).budget());
        assertEquals(0.9, ps.get(2).spec().params().theta());
        assertTrue(ps.get(2).spec().params().cacheEnabled());
        assertFalse(ps.get(3).spec().params().cacheEnabled());
        assertEquals(AttentionSpec.Kind.STREAMING, ps.get(4).spec().kind());
        assertEquals(ps.get(2).budget(), ps.get(4).budget(), "streaming gets TokenSelect's budget");
        assertEquals(AttentionSpec.Kind.PAGE, ps.get(5).spec().kind());
        assertEquals(2048, ps.get(5).spec().params().k());
        assertEquals(64, EvalPolicy.parse("ts-32", 8, 64, 0.9, 512, 16).spec().params().prefillChunk(),
                "the prefill chunk never exceeds n-local");
        EvalPolicy orig = EvalPolicy.parse("ts-2048-orig-nocache", 128, 512, 0.9, 512, 16);
        assertEquals("ts-2048-orig-nocache", orig.name());
        assertTrue(orig.spec().params().originalPositions());
        assertFalse(orig.spec().params().cacheEnabled());
        assertTrue(EvalPolicy.parse("ts-64-orig", 8, 64, 0.9, 512, 16).spec().params().originalPositions());
        assertFalse(ps.get(2).spec().params().originalPositions());
        EvalPolicy pooled = EvalPolicy.parse("ts-2048-orig-pool3-nocache", 128, 512, 0.9, 512, 16);
        assertEquals("ts-2048-orig-pool3-nocache", pooled.name());
        assertEquals(3, pooled.spec().params().votePool());
        assertEquals(0, ps.get(2).spec().params().votePool());
        EvalPolicy sketched = EvalPolicy.parse("ts-2048-pool3-int8-nocache", 128, 512, 0.9, 512, 16);
        assertEquals("ts-2048-pool3-int8-nocache", sketched.name());
        assertTrue(sketched.spec().params().int8Keys());
        assertFalse(ps.get(2).spec().params().int8Keys());
        EvalPolicy oracle = EvalPolicy.parse("ts-2048-int8-needles-nocache", 128, 512, 0.9, 512, 16);
        assertEquals("ts-2048-int8-needles-nocache", oracle.name());
        assertTrue(oracle.keepsNeedles() && oracle.isTokenSelect());
        assertFalse(sketched.keepsNeedles());
        for (String bad : new String[] {"ts", "ts-x", "ts-5-cache", "window", "page", "full,full", "ts-5-orig-orig",
                "ts-5-nocache-orig", "ts-5-pool3-orig", "ts-5-pool4", "ts-5-int8-pool3", "ts-5-nocache-int8", "ts-5-needles-int8", "streaming-5-needles"}) {
            assertThrows(IllegalArgumentException.class, () -> EvalPolicy.parseList(bad, 128, 512, 0.9, 512, 16), bad);
        }
    }
}
