package dev.tokenselect.engine.generate;

import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token from logits. Greedy is an argmax (lowest id wins a tie, as torch.argmax);
 * sampling applies the filters of {@link SamplingParams} and draws from a seeded generator, so the
 * same seed, prompt and parameters give the same tokens. Not thread-safe: one sampler serves one
 * generation, whose tokens are drawn one after another.
 */
public final class Sampler {

    private final SamplingParams params;
    private final RandomGenerator random;
    /** Softmax weights by id; only the entries of the current candidates are meaningful. */
    private double[] weight = new double[0];

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
     * True when the next token is the plain argmax of the logits: greedy with no penalty that would
     * change them first, so a backend may return the argmax alone ({@code Backend.decodeArgmax}).
     */
    public boolean argmaxSuffices() {
        return params.isGreedy() && params.repetitionPenalty() == 1 && params.frequencyPenalty() == 0
                && params.presencePenalty() == 0;
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
        int vocab = logits.length;
        SortedCandidates ranked = new SortedCandidates(logits,
                params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab);
        int n = ranked.size();
        double temperature = params.temperature();
        double max = logits[ranked.id(0)] / temperature;
        // softmax weights of the candidates; the denominator in rank order when top-k bounds them
        if (weight.length != vocab) {
            weight = new double[vocab]; // kept between tokens: a server samples many streams at once
        }
        double sum = 0;
        if (n < vocab) {
            for (int i = 0; i < n; i++) {
                int id = ranked.id(i);
                weight[id] = Math.exp(logits[id] / temperature - max);
                sum += weight[id];
            }
        } else {
            for (int id = 0; id < vocab; id++) {
                weight[id] = Math.exp(logits[id] / temperature - max);
                sum += weight[id];
            }
        }
        int keep = keptCount(ranked, weight, sum);
        double total = 0;
        if (keep == vocab) {
            total = 1; // every normalised weight
        } else {
            for (int i = 0; i < keep; i++) {
                total += weight[ranked.id(i)] / sum;
            }
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= weight[ranked.id(i)] / sum;
            if (r < 0) {
                return ranked.id(i);
            }
        }
        return ranked.id(keep - 1);
    }

    /**
     * How many of the ranked candidates survive top-p and min-p (always at least one): the smallest
     * prefix whose probabilities reach top-p, cut where a probability falls below min-p times the best.
     */
    private int keptCount(SortedCandidates ranked, double[] weight, double sum) {
        int n = ranked.size();
        int keep = n;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += weight[ranked.id(i)] / sum;
                if (cumulative >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            double floor = params.minP() * (weight[ranked.id(0)] / sum);
            int k = 1;
            while (k < keep && weight[ranked.id(k)] / sum >= floor) {
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
