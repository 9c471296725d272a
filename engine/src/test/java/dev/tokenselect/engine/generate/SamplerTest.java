package dev.tokenselect.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final float[] LOGITS = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f, 0.5f};

    private static int[] draw(SamplingParams p, int n) {
        Sampler s = new Sampler(p);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(LOGITS.clone(), new int[0], 0);
        }
        return out;
    }

    @Test
    void onlyPlainGreedyLetsABackendReturnTheArgmaxAlone() {
        assertTrue(new Sampler(SamplingParams.greedy(4)).argmaxSuffices());
        SamplingParams greedy = SamplingParams.greedy(4);
        for (SamplingParams p : new SamplingParams[] {greedy.toBuilder().temperature(0.7).build(),
                greedy.toBuilder().repetitionPenalty(1.1).build(), greedy.toBuilder().frequencyPenalty(0.5).build(),
                greedy.toBuilder().presencePenalty(-0.5).build()}) {
            assertFalse(new Sampler(p).argmaxSuffices(), p.toString());
        }
        // a penalty can move the argmax: the plain argmax of these logits is id 1, the penalised one id 3
        float[] logits = {0f, 3f, 0f, 2.9f};
        Sampler penalised = new Sampler(greedy.toBuilder().repetitionPenalty(1.5).build());
        assertEquals(1, Sampler.argmax(logits));
        assertEquals(3, penalised.sample(logits.clone(), new int[] {1}, 1));
    }

    @Test
    void greedyTakesTheFirstMaximum() {
        assertEquals(1, new Sampler(SamplingParams.greedy(1)).sample(LOGITS.clone(), new int[0], 0));
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        SamplingParams p = SamplingParams.builder().temperature(1.5).seed(7L).build();
        assertArrayEquals(draw(p, 64), draw(p, 64));
        assertNotEquals(java.util.Arrays.toString(draw(p, 64)),
                java.util.Arrays.toString(draw(p.toBuilder().seed(8L).build(), 64)));
    }

    @Test
    void topKKeepsOnlyTheKBest() {
        int[] ids = draw(SamplingParams.builder().temperature(5).topK(2).seed(1L).build(), 400);
        Set<Integer> seen = new HashSet<>();
        for (int id : ids) {
            seen.add(id);
        }
        assertEquals(Set.of(1, 3), seen);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // softmax of LOGITS: ids 1 and 3 hold 0.384 each (0.768), id 2 0.141: p=0.8 needs exactly those three
        int[] ids = draw(SamplingParams.builder().temperature(1).topP(0.8).seed(3L).build(), 2000);
        Set<Integer> seen = new HashSet<>();
        for (int id : ids) {
            seen.add(id);
        }
        assertEquals(Set.of(1, 2, 3), seen);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        // p(id 2)/p(best) = e^-1 = 0.37; p(id 0)/p(best) = e^-2 = 0.135
        int[] ids = draw(SamplingParams.builder().temperature(1).minP(0.2).seed(5L).build(), 2000);
        Set<Integer> seen = new HashSet<>();
        for (int id : ids) {
            seen.add(id);
        }
        assertEquals(Set.of(1, 2, 3), seen);
    }

    @Test
    void samplingFollowsTheSoftmax() {
        int[] ids = draw(SamplingParams.builder().temperature(1).seed(11L).build(), 20000);
        int[] counts = new int[LOGITS.length];
        for (int id : ids) {
            counts[id]++;
        }
        double z = 0;
        for (float l : LOGITS) {
            z += Math.exp(l);
        }
        for (int i = 0; i < LOGITS.length; i++) {
            double expected = Math.exp(LOGITS[i]) / z;
            assertEquals(expected, counts[i] / 20000.0, 0.015, "token " + i);
        }
    }

    @Test
    void repetitionPenaltyAsTransformers() {
        float[] logits = {2.0f, -2.0f, 1.0f};
        Sampler.applyRepetitionPenalty(logits, new int[] {0, 1, 1}, 3, 2.0f);
        assertArrayEquals(new float[] {1.0f, -4.0f, 1.0f}, logits);
        // With the penalty the greedy choice moves from id 0 to id 2.
        int id = new Sampler(SamplingParams.builder().repetitionPenalty(4).build())
                .sample(new float[] {2.0f, -2.0f, 1.0f}, new int[] {0}, 1);
        assertEquals(2, id);
    }

    @Test
    void frequencyAndPresencePenaltiesCountOnlyGeneratedTokensAsOpenAiDefinesThem() {
        float[] logits = {2.0f, 2.0f, 1.0f, 0.5f};
        // history: prompt [3, 3], then generated [0, 0, 1]: id 3 is not penalized, id 0 twice, id 1 once
        Sampler.applyFrequencyAndPresencePenalties(logits, new int[] {3, 3, 0, 0, 1}, 2, 5, 0.5f, 0.25f);
        assertArrayEquals(new float[] {2.0f - 2 * 0.5f - 0.25f, 2.0f - 0.5f - 0.25f, 1.0f, 0.5f}, logits);
        // greedy after the penalties: id 0 drops to 0.75, id 1 to 1.25, id 2 stays at 1.0: id 1 wins
        SamplingParams p = SamplingParams.builder().frequencyPenalty(0.5).presencePenalty(0.25).build();
        assertEquals(1, new Sampler(p).sample(new float[] {2.0f, 2.0f, 1.0f, 0.5f}, new int[] {3, 3, 0, 0, 1}, 5, 2));
        // a larger presence penalty pushes both generated ids below id 2
        SamplingParams strong = SamplingParams.builder().presencePenalty(1.5).build();
        assertEquals(2, new Sampler(strong).sample(new float[] {2.0f, 2.0f, 1.0f, 0.5f}, new int[] {3, 3, 0, 0, 1}, 5, 2));
        // the prompt's ids are never penalized: id 3 stays where it was
        assertEquals(3, new Sampler(strong).sample(new float[] {0.0f, 0.0f, 0.0f, 0.5f}, new int[] {3, 3}, 2, 2));
    }

    @Test
    void zeroPenaltiesLeaveTheSamplerAsItWas() {
        SamplingParams plain = SamplingParams.builder().temperature(1.5).seed(7L).build();
        SamplingParams zero = plain.toBuilder().frequencyPenalty(0).presencePenalty(0).build();
        assertArrayEquals(draw(plain, 64), draw(zero, 64));
        assertEquals(plain, zero);
    }

    @Test
    void invalidParametersAreRejectedWithTheirName() {
        var e = assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().topP(0).build());
        assertTrue(e.getMessage().contains("top-p"));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().temperature(-1).build());
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().stopStrings(java.util.List.of("")).build());
        var nan = assertThrows(IllegalArgumentException.class, () -> SamplingParams.builder().frequencyPenalty(Double.NaN).build());
        assertTrue(nan.getMessage().contains("frequency"));
    }

    @Test
    void topKCandidatesInAnyOrderDrawTheTokensOfTheWholeRow() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        int vocab = 5000;
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) { // quantised: many ties, which the lower id wins
            logits[i] = Math.round(rnd.nextGaussian() * 8) / 4f;
        }
        for (int k : new int[] {1, 5, 40, 256}) {
            for (double topP : new double[] {1, 0.9}) {
                for (double minP : new double[] {0, 0.05}) {
                    SamplingParams p = SamplingParams.builder().temperature(0.7).topK(k).topP(topP).minP(minP)
                            .seed(11L).build();
                    Sampler whole = new Sampler(p);
                    Sampler fromCandidates = new Sampler(p);
                    assertEquals(k, fromCandidates.candidatesSuffice(vocab));
                    // the k best by (logit, lower id), shuffled, plus ids ranked below them
                    SortedCandidates ranked = new SortedCandidates(logits.clone(), vocab);
                    int count = k + 3;
                    int[] ids = new int[count];
                    for (int i = 0; i < count; i++) {
                        ids[i] = ranked.id(i);
                    }
                    for (int i = count - 1; i > 0; i--) {
                        int j = rnd.nextInt(i + 1);
                        int t = ids[i];
                        ids[i] = ids[j];
                        ids[j] = t;
                    }
                    float[] values = new float[count];
                    for (int i = 0; i < count; i++) {
                        values[i] = logits[ids[i]];
                    }
                    for (int draw = 0; draw < 200; draw++) {
                        int a = whole.sample(logits.clone(), new int[0], 0);
                        int b = fromCandidates.sampleCandidates(ids, values, count);
                        assertEquals(a, b, "k " + k + ", top-p " + topP + ", min-p " + minP + ", draw " + draw);
                    }
                }
            }
        }
    }

    @Test
    void candidatesSufficeOnlyForPenaltyFreeSamplingBoundedByASmallTopK() {
        SamplingParams sampled = SamplingParams.builder().temperature(0.8).topK(40).build();
        assertEquals(40, new Sampler(sampled).candidatesSuffice(151_936));
        assertEquals(0, new Sampler(SamplingParams.greedy(4)).candidatesSuffice(151_936));
        assertEquals(0, new Sampler(sampled.toBuilder().topK(0).build()).candidatesSuffice(151_936));
        assertEquals(0, new Sampler(sampled.toBuilder().topK(Sampler.MAX_CANDIDATES + 1).build())
                .candidatesSuffice(151_936));
        assertEquals(0, new Sampler(sampled).candidatesSuffice(40), "top-k of the whole vocabulary");
        assertEquals(0, new Sampler(sampled.toBuilder().repetitionPenalty(1.1).build()).candidatesSuffice(151_936));
        assertEquals(0, new Sampler(sampled.toBuilder().presencePenalty(0.5).build()).candidatesSuffice(151_936));
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(sampled).sampleCandidates(new int[] {1, 2}, new float[] {1f, 2f}, 2));
    }
}
