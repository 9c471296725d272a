package dev.tokenselect.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ranked candidates and the sampler built on them against the plain definition: one full sort of
 * the vocabulary by (logit descending, id ascending), as the sampler did before it ranked lazily.
 */
class SortedCandidatesTest {

    private static final int VOCAB = 40_000;

    /** Peaked (a few clear winners), flat, and coarse (many exact ties) logits. */
    private static float[] logits(String shape, long seed) {
        Random r = new Random(seed);
        float[] l = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            double g = r.nextGaussian();
            l[i] = switch (shape) {
                case "peaked" -> (float) (g * 2 + (r.nextInt(5000) == 0 ? 25 : 0));
                case "flat" -> (float) (g * 0.3);
                default -> Math.round(g * 2) / 2f;
            };
        }
        return l;
    }

    private static int[] fullSort(float[] logits) {
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            keys[i] = SortedCandidates.key(logits[i], i);
        }
        Arrays.sort(keys);
        return Arrays.stream(keys).mapToInt(k -> (int) k).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"peaked", "flat", "coarse"})
    void ranksEqualOneFullSortAtEveryDepth(String shape) {
        float[] l = logits(shape, 1);
        int[] expected = fullSort(l);
        for (int limit : new int[] {1, 40, 256, 257, 5000, VOCAB}) {
            SortedCandidates c = new SortedCandidates(l, limit);
            int[] got = new int[limit];
            for (int rank = 0; rank < limit; rank++) {
                got[rank] = c.id(rank);
            }
            assertArrayEquals(Arrays.copyOf(expected, limit), got, shape + ", limit " + limit);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"peaked", "flat", "coarse"})
    void samplerDrawsWhatTheFullSortDefinitionDraws(String shape) {
        SamplingParams[] params = {
                SamplingParams.builder().temperature(0.7).seed(3L).build(),
                SamplingParams.builder().temperature(1.0).topK(40).seed(4L).build(),
                SamplingParams.builder().temperature(0.8).topP(0.9).seed(5L).build(),
                SamplingParams.builder().temperature(1.2).topK(500).topP(0.95).minP(0.01).seed(6L).build(),
                SamplingParams.builder().temperature(0.5).minP(0.1).seed(7L).build()};
        for (SamplingParams p : params) {
            Sampler sampler = new Sampler(p);
            RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(p.seed());
            for (int step = 0; step < 60; step++) {
                float[] l = logits(shape, 100 + step);
                int expected = fullSortSample(l.clone(), p, random);
                assertEquals(expected, sampler.sample(l, new int[0], 0), shape + " " + p + " step " + step);
            }
        }
    }

    /** The sampling rule written over one full sort (the definition the sampler must keep). */
    static int fullSortSample(float[] logits, SamplingParams p, RandomGenerator random) {
        int[] order = fullSort(logits);
        int n = p.topK() > 0 ? Math.min(p.topK(), order.length) : order.length;
        double max = logits[order[0]] / p.temperature();
        double[] probs = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = Math.exp(logits[order[i]] / p.temperature() - max);
            sum += probs[i];
        }
        for (int i = 0; i < n; i++) {
            probs[i] /= sum;
        }
        int keep = n;
        if (p.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += probs[i];
                if (cumulative >= p.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (p.minP() > 0) {
            int k = 1;
            while (k < keep && probs[k] >= p.minP() * probs[0]) {
                k++;
            }
            keep = k;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += probs[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= probs[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }
}
