package dev.tokenselect.engine.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** int8 key sketches: the quantisation rule, the scores' error bound, and the policy scoring with them. */
class KeySketchTest {

    @Test
    void theLargestComponentMapsTo127AndTiesGoToEven() {
        float[] key = {0.5f, -2.54f, 1.27f, 0.01f, 0f, 2.54f};
        float[] q = new float[6];
        float scale = KeySketch.quantize(key, 0, 6, q);
        assertEquals(2.54f / 127f, scale, 0f);
        // 127 / 2.54 = 50: 0.5 -> 25, -2.54 -> -127, 1.27 -> 63.5 -> 64 (even), 0.01 -> 0.5 -> 0 (even)
        assertArrayEquals(new float[] {25f, -127f, 64f, 0f, 0f, 127f}, q);
        float[] zero = new float[4];
        assertEquals(0f, KeySketch.quantize(zero, 0, 4, q));
        assertArrayEquals(new float[] {0f, 0f, 0f, 0f}, java.util.Arrays.copyOf(q, 4));
    }

    @Test
    void aSketchScoreIsWithinHalfAStepPerComponentOfTheExactOne() {
        Geometry geo = new Geometry(4, 2, 32);
        ArrayKeyAccess keys = new ArrayKeyAccess(geo, 1, 300, new Random(3));
        Random r = new Random(4);
        float[][] qbar = new float[4][32];
        for (float[] row : qbar) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        float[][] exact = new float[4][300];
        float[][] sketch = new float[4][300];
        keys.scores(0, qbar, 0, 300, exact);
        KeySketch.scores(keys, geo, 0, qbar, 0, 300, sketch);
        int differ = 0;
        for (int h = 0; h < 4; h++) {
            double l1 = 0;
            for (float v : qbar[h]) {
                l1 += Math.abs(v);
            }
            for (int t = 0; t < 300; t++) {
                float[] k = keys.keys[0][geo.kvHeadOf(h)][t];
                float max = 0;
                for (float v : k) {
                    max = Math.max(max, Math.abs(v));
                }
                // each component moves at most half a step (max / 127 / 2), plus the fp32 rounding
                double bound = l1 * max / 127 / 2 + 1e-4 * (1 + Math.abs(exact[h][t]));
                assertTrue(Math.abs(sketch[h][t] - exact[h][t]) <= bound, h + "," + t);
                differ += sketch[h][t] != exact[h][t] ? 1 : 0;
            }
        }
        assertTrue(differ > 1000, "the sketch is not the exact key: " + differ + " of 1200 scores differ");
    }

    @Test
    void aBackendThatKeepsSketchesSelectsOnThemAndIsNeverAskedForTheExactTopK() {
        Geometry geo = new Geometry(4, 2, 16);
        ArrayKeyAccess plain = new ArrayKeyAccess(geo, 1, 400, new Random(7));
        int[] calls = {0};
        KeyAccess keeps = new KeyAccess() {
            @Override
            public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
                throw new AssertionError("a backend that selects on its sketches is not asked for scores");
            }

            @Override
            public void key(int layer, int kvHead, int token, float[] out, int off) {
                throw new AssertionError("nor for keys to sketch");
            }

            @Override
            public int[] topCandidates(int layer, float[][] qbar, int from, int to, int k, int pool) {
                throw new AssertionError("the backend's exact top-k is not the sketched one");
            }

            @Override
            public int[] topCandidatesOnSketches(int layer, float[][] qbar, int from, int to, int k, int pool) {
                calls[0]++;
                float[][] s = new float[qbar.length][to - from];
                KeySketch.scores(plain, geo, layer, qbar, from, to, s);
                int[] top = TopK.ascending(HeadSoftVote.vote(s), to - from, k);
                for (int i = 0; i < top.length; i++) {
                    top[i] += from;
                }
                return top;
            }
        };
        SelectionParams int8 = new SelectionParams(64, 4, 16, 2.0, 16).withInt8Keys(true);
        float[] q = new float[geo.numHeads() * geo.headDim()];
        Random r = new Random(9);
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
        }
        int[] byBackend = new TokenSelectPolicy(int8, geo, 1).select(0, q, 1, 400, true, keeps,
                TokenSelectPolicyTest.NO_ROPE);
        int[] byPolicy = new TokenSelectPolicy(int8, geo, 1).select(0, q, 1, 400, true, plain,
                TokenSelectPolicyTest.NO_ROPE);
        assertEquals(1, calls[0]);
        assertArrayEquals(byPolicy, byBackend);
    }

    @Test
    void thePolicyScoresAgainstSketchesAndNeverAsksTheBackendForItsOwnTopK() {
        Geometry geo = new Geometry(4, 2, 16);
        ArrayKeyAccess plain = new ArrayKeyAccess(geo, 1, 400, new Random(7));
        KeyAccess noTopK = new KeyAccess() {
            @Override
            public void scores(int layer, float[][] qbar, int from, int to, float[][] out) {
                throw new AssertionError("sketched selection reads the keys, not the exact scores");
            }

            @Override
            public void key(int layer, int kvHead, int token, float[] out, int off) {
                plain.key(layer, kvHead, token, out, off);
            }

            @Override
            public int[] topCandidates(int layer, float[][] qbar, int from, int to, int k, int pool) {
                throw new AssertionError("the backend's top-k scores exact keys");
            }
        };
        SelectionParams exactParams = new SelectionParams(64, 4, 16, 2.0, 16);
        SelectionParams int8 = exactParams.withInt8Keys(true);
        float[] q = new float[geo.numHeads() * geo.headDim()];
        Random r = new Random(9);
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
        }
        int[] sketched = new TokenSelectPolicy(int8, geo, 1).select(0, q, 1, 400, true, noTopK,
                TokenSelectPolicyTest.NO_ROPE);
        int[] exact = new TokenSelectPolicy(exactParams, geo, 1).select(0, q, 1, 400, true, plain,
                TokenSelectPolicyTest.NO_ROPE);
        assertEquals(exact.length, sketched.length);
        // the same policy by hand: sketch scores, soft vote, top-k
        float[][] qbar = new float[4][16];
        ScoringQuery.compute(q, 1, geo, 16, TokenSelectPolicyTest.NO_ROPE, qbar, new float[16]);
        float[][] s = new float[4][400 - 4 - 16];
        KeySketch.scores(plain, geo, 0, qbar, 4, 400 - 16, s);
        int[] top = TopK.ascending(HeadSoftVote.vote(s), s[0].length, 64);
        for (int i = 0; i < top.length; i++) {
            assertEquals(top[i] + 4, sketched[4 + i], "selected entry " + i);
        }
        int same = 0;
        for (int i = 4; i < 4 + 64; i++) {
            int t = sketched[i];
            same += java.util.Arrays.stream(exact, 4, 4 + 64).anyMatch(e -> e == t) ? 1 : 0;
        }
        assertTrue(same >= 56, "int8 sketches keep most of the exact selection: " + same + " of 64");
    }

    @Test
    void theKeysOptionParsesAndNamesItsValues() {
        assertTrue(SelectionParams.parse("keys=int8", null).int8Keys());
        assertFalse(SelectionParams.parse("keys=exact,k=64", null).int8Keys());
        assertFalse(SelectionParams.defaults().int8Keys());
        var e = assertThrows(IllegalArgumentException.class, () -> SelectionParams.parse("keys=fp8", null));
        assertTrue(e.getMessage().contains("exact or int8") && e.getMessage().contains("fp8"), e.getMessage());
        assertTrue(SelectionParams.defaults().withInt8Keys(true).withPrefillChunk(64).int8Keys(),
                "the other withers keep the sketch setting");
    }
}
