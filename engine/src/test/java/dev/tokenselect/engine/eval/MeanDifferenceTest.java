package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Two groups' difference of means and its bootstrap interval. */
class MeanDifferenceTest {

    private static double[] normal(int n, double mean, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            // the sum of 12 uniforms less 6: mean 0, variance 1
            double s = -6;
            for (int j = 0; j < 12; j++) {
                s += r.nextDouble();
            }
            v[i] = mean + 0.2 * s;
        }
        return v;
    }

    @Test
    void aRealGapIsFoundAndNoGapIsNot() {
        double[] right = normal(60, 0.55, 1);
        double[] wrong = normal(240, 0.35, 2);
        MeanDifference gap = MeanDifference.of(right, wrong);
        assertEquals(java.util.Arrays.stream(right).average().orElseThrow()
                - java.util.Arrays.stream(wrong).average().orElseThrow(), gap.difference(), 1e-12);
        assertEquals(0.20, gap.difference(), 0.09, "within 3 standard errors of the true gap");
        assertTrue(gap.excludesZero(), gap.cell());
        assertTrue(gap.low() < gap.difference() && gap.difference() < gap.high());
        // standard error of the gap: 0.2 * sqrt(1/60 + 1/240) = 0.029, so the interval is about +-0.057
        assertEquals(0.114, gap.high() - gap.low(), 0.03);
        MeanDifference none = MeanDifference.of(normal(60, 0.4, 3), normal(240, 0.4, 4));
        assertFalse(none.excludesZero(), none.cell());
        assertEquals(none, MeanDifference.of(normal(60, 0.4, 3), normal(240, 0.4, 4)), "a fixed seed: the same every time");
    }

    @Test
    void aCellShowsTheSignedGapAndAnEmptyGroupNone() {
        assertEquals("+0.500 (+0.500, +0.500)", MeanDifference.of(new double[] {1, 1}, new double[] {0.5}).cell());
        assertEquals("–", MeanDifference.of(new double[0], new double[] {0.5}).cell());
    }

    /** The report's per-layer table gets a right − wrong row where both groups were traced. */
    @Test
    void theLayerTableShowsTheGapOfEachLayer() {
        List<EvalHarness.Outcome> outcomes = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            boolean right = i < 5;
            double layer1 = right ? 0.9 : 0.3;
            outcomes.add(new EvalHarness.Outcome("niah_multikey", 4096, "ts-64", i, i, 4090, "x", List.of("123456"),
                    right, Map.of(NeedleRecall.MEAN, 0.5, NeedleRecall.COMPLETE, 0.1,
                            NeedleRecall.BY_LAYER, List.of(0.5, layer1))));
        }
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_multikey"), List.of(4096),
                EvalPolicy.parseList("ts-64", 16, 64, 0.9, 64, 16), 20, 1, 8);
        String md = new EvalReport(config, outcomes, "m", "cpu").markdown();
        assertTrue(md.contains("| niah_multikey | ts-64 | 4K | right − wrong | +0.000 (+0.000, +0.000) |"
                + " +0.600 (+0.600, +0.600) |"), md);
    }
}
