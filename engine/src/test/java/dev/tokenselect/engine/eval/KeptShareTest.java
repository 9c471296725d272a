package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The share of the reference length's accuracy kept at a longer length, on the same questions. */
class KeptShareTest {

    private static EvalHarness.Outcome outcome(String task, int length, String policy, int sample, boolean correct) {
        return new EvalHarness.Outcome(task, length, policy, sample, sample, length - 3, correct ? "1" : "0", List.of("1"),
                correct, Map.of());
    }

    /** n questions; the first {@code ref} right at the reference length, of them the first {@code kept} right later too, plus {@code gained} others. */
    private static boolean[][] paired(int n, int ref, int kept, int gained) {
        boolean[] r = new boolean[n];
        boolean[] a = new boolean[n];
        for (int i = 0; i < ref; i++) {
            r[i] = true;
            a[i] = i < kept;
        }
        for (int i = ref; i < ref + gained; i++) {
            a[i] = true;
        }
        return new boolean[][] {r, a};
    }

    @Test
    void onlyQuestionsAnsweredAtBothLengthsCount() {
        List<EvalHarness.Outcome> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            all.add(outcome("vt", 4096, "ts", i, i < 8));
        }
        // the longer length ran samples 0-3 only: right on 0 and 1, and on sample 9, never asked at 4K
        for (int i = 0; i < 4; i++) {
            all.add(outcome("vt", 32768, "ts", i, i < 2));
        }
        all.add(outcome("kv", 32768, "ts", 9, true));
        // another policy's answers do not count
        all.add(outcome("vt", 32768, "full", 2, true));
        KeptShare k = KeptShare.of(all, "ts", 4096, 32768, Score.EXACT);
        assertEquals(4, k.questions());
        assertEquals(4, k.atReference());
        assertEquals(2, k.atLength());
        assertEquals(0.5, k.share());
        assertTrue(k.low() <= 0.5 && 0.5 <= k.high(), k.toString());
    }

    /** Four codes asked: three of them found later is no exact match but three quarters of RULER's score. */
    @Test
    void rulerScoreKeepsThePartOfEachAnswerThatStaysRight() {
        List<String> codes = List.of("111111", "222222", "333333", "444444");
        List<EvalHarness.Outcome> all = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            all.add(new EvalHarness.Outcome("niah_multivalue", 4096, "ts", i, i, 4090, "111111 222222 333333 444444",
                    codes, true, Map.of()));
            String later = i < 2 ? "111111 222222 333333 999999" : "111111 222222 333333 444444";
            all.add(new EvalHarness.Outcome("niah_multivalue", 65536, "ts", i, i, 65530, later, codes,
                    Scorer.correct(later, codes), Map.of()));
        }
        KeptShare exact = KeptShare.of(all, "ts", 4096, 65536, Score.EXACT);
        assertEquals(0.5, exact.share());
        KeptShare ruler = KeptShare.of(all, "ts", 4096, 65536, Score.RULER);
        assertEquals(4, ruler.questions());
        assertEquals(4.0, ruler.atReference());
        assertEquals(3.5, ruler.atLength());
        assertEquals(3.5 / 4, ruler.share(), 1e-12);
        assertTrue(ruler.low() <= ruler.share() && ruler.share() <= ruler.high(), ruler.toString());
    }

    @Test
    void theIntervalHoldsTheShareAndNarrowsWithMoreQuestions() {
        boolean[][] small = paired(225, 77, 66, 0);
        boolean[][] large = paired(900, 308, 264, 0);
        KeptShare s = KeptShare.of(small[0], small[1]);
        KeptShare l = KeptShare.of(large[0], large[1]);
        assertEquals(66.0 / 77, s.share(), 1e-12);
        assertEquals(264.0 / 308, l.share(), 1e-12);
        assertTrue(s.low() < s.share() && s.share() < s.high(), s.toString());
        assertTrue(l.low() < l.share() && l.share() < l.high(), l.toString());
        // the paired binomial's spread: about sqrt(kept share x lost share / right at reference) = 0.020 on 308
        double width = l.high() - l.low();
        assertTrue(width > 0.05 && width < 0.11, "width " + width);
        // four times the questions, about half the width
        double ratio = (s.high() - s.low()) / width;
        assertTrue(ratio > 1.6 && ratio < 2.5, "ratio " + ratio);
        // answers that move both ways widen it: 44 lost and 44 gained keep the same share with more spread
        boolean[][] moving = paired(900, 308, 220, 44);
        KeptShare m = KeptShare.of(moving[0], moving[1]);
        assertEquals(264.0 / 308, m.share(), 1e-12);
        assertTrue(m.high() - m.low() > width, m + " against " + l);
    }

    @Test
    void theSameInputsGiveTheSameInterval() {
        boolean[][] p = paired(300, 100, 85, 5);
        assertEquals(KeptShare.of(p[0], p[1]), KeptShare.of(p[0], p[1]));
    }

    @Test
    void nothingRightAtTheReferenceHasNoShare() {
        boolean[][] p = paired(50, 0, 0, 3);
        KeptShare k = KeptShare.of(p[0], p[1]);
        assertTrue(Double.isNaN(k.share()));
        assertTrue(Double.isNaN(k.low()) && Double.isNaN(k.high()));
        assertEquals(3, k.atLength());
    }
}
