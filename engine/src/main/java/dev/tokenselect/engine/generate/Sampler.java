package dev.tokenselect.engine.generate;

import java.util.Arrays;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token from logits. Greedy is an argmax (lowest id wins a tie, as torch.argmax);
 * sampling applies the filters of {@link SamplingParams} and draws from a seeded generator, so the
 * same seed, prompt and parameters give the same tokens.
 */
public final class Sampler {

    private final SamplingParams params;
    private final RandomGenerator random;

    public Sampler(SamplingParams params) {
        this.params = params;
        long seed = params.seed() != null ? params.seed() : System.nanoTime() ^ Thread.currentThread().threadId();
        this.random = RandomGeneratorFactory.of("L64X128MixRandom").create(seed);
    }

    /** As {@link #sample(float[], int[], int, int)} with the whole history counted as generated. */
    public int sample(float[] logits, int[] history, int historyLength) {
        return sample(logits, history, historyLength, 0);
    }

    /**
     * @param logits       modified in place (penalties and temperature)
     * @param history      prompt and generated ids so far, for the penalties
     * @param promptLength how many of the history's first ids are the prompt (the frequency and presence
     *                     penalties count only the ids after them)
     */
    public int sample(float[] logits, int[] history, int historyLength, int promptLength) {
        if (params.repetitionPenalty() != 1) {
            applyRepetitionPenalty(logits, history, historyLength, (float) params.repetitionPenalty());
        }
        if (params.frequencyPenalty() != 0 || params.presencePenalty() != 0) {
            applyFrequencyAndPresencePenalties(logits, history, promptLength, historyLength,
                    (float) params.frequencyPenalty(), (float) params.presencePenalty());
        }
        if (params.isGreedy()) {
            return argmax(logits);
        }
        int[] order = candidates(logits);
        int n = order.length;
        double[] probs = new double[n];
        double max = logits[order[0]] / params.temperature();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = Math.exp(logits[order[i]] / params.temperature() - max);
            sum += probs[i];
        }
        for (int i = 0; i < n; i++) {
            probs[i] /= sum;
        }
        n = keptCount(probs, n);
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += probs[i];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            r -= probs[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    /** Ids sorted by logit, highest first (ties: lower id first), cut to top-k when set. */
    private int[] candidates(float[] logits) {
        int limit = params.topK() > 0 ? Math.min(params.topK(), logits.length) : logits.length;
        // One primitive sort of (descending logit, id) packed into longs: no boxing on a 150K vocabulary.
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            keys[i] = ((long) descendingKey(logits[i]) << 32) | i;
        }
        Arrays.sort(keys);
        int[] out = new int[limit];
        for (int i = 0; i < limit; i++) {
            out[i] = (int) keys[i];
        }
        return out;
    }

    /** An int that orders floats from highest to lowest when compared as signed ints. */
    private static int descendingKey(float f) {
        int bits = Float.floatToIntBits(f);
        int ascending = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
        return ~ascending;
    }

    /** How many of the sorted probabilities survive top-p and min-p (always at least one). */
    private int keptCount(double[] sorted, int n) {
        int keep = n;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += sorted[i];
                if (cumulative >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            double floor = params.minP() * sorted[0];
            int k = 1;
            while (k < keep && sorted[k] >= floor) {
                k++;
            }
            keep = k;
        }
        return Math.max(1, keep);
    }

    static void applyRepetitionPenalty(float[] logits, int[] history, int length, float penalty) {
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < length; i++) {
            int id = history[i];
            if (id >= 0 && id < logits.length && !seen[id]) {
                seen[id] = true;
                logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
            }
        }
    }

    /** OpenAI's penalties: {@code logit -= count * frequency + (count > 0 ? presence : 0)} over {@code ids[from, to)}. */
    static void applyFrequencyAndPresencePenalties(float[] logits, int[] ids, int from, int to, float frequency,
                                                   float presence) {
        java.util.Map<Integer, Integer> counts = new java.util.HashMap<>();
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (id >= 0 && id < logits.length) {
                counts.merge(id, 1, Integer::sum);
            }
        }
        for (var e : counts.entrySet()) {
            logits[e.getKey()] -= e.getValue() * frequency + presence;
        }
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
