package dev.tokenselect.engine.generate;

import java.util.Arrays;
import java.util.function.IntToDoubleFunction;
import java.util.function.IntUnaryOperator;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

import dev.tokenselect.engine.backend.Candidates;

/**
 * Picks the next token from logits. Greedy is an argmax (lowest id wins a tie, as torch.argmax);
 * sampling applies the filters of {@link SamplingParams} and draws from a seeded generator, so the
 * same seed, prompt and parameters give the same tokens. Not thread-safe: one sampler serves one
 * generation, whose tokens are drawn one after another.
 */
public final class Sampler {

    /** The largest top-k {@link #candidatesSuffice} lets a backend answer with candidates. */
    public static final int MAX_CANDIDATES = 256;

    private final SamplingParams params;
    private final RandomGenerator random;
    /** Softmax weights by id over the whole vocabulary (sampling without top-k), kept between tokens. */
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
        return params.isGreedy() && !penalised();
    }

    /** Whether a penalty changes the logits before the choice (then it needs the whole row). */
    private boolean penalised() {
        return params.repetitionPenalty() != 1 || params.frequencyPenalty() != 0 || params.presencePenalty() != 0;
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
        if (n < vocab) { // top-k bounds the candidates: their softmax, the denominator in rank order
            int[] ids = new int[n];
            float[] best = new float[n];
            for (int i = 0; i < n; i++) {
                ids[i] = ranked.id(i);
                best[i] = logits[ids[i]];
            }
            return drawRanked(ids, best, n);
        }
        double temperature = params.temperature();
        double max = logits[ranked.id(0)] / temperature;
        if (weight.length != vocab) {
            weight = new double[vocab]; // kept between tokens: a server samples many streams at once
        }
        double sum = 0;
        for (int id = 0; id < vocab; id++) {
            weight[id] = Math.exp(logits[id] / temperature - max);
            sum += weight[id];
        }
        double norm = sum;
        return draw(i -> weight[ranked.id(i)] / norm, ranked::id, vocab, true);
    }

    /**
     * How many candidates a backend may return instead of the whole logits row for this sampler's next
     * token: top-k when the token depends only on the k best logits (sampling bounded by a top-k below
     * the vocabulary and at most {@link #MAX_CANDIDATES}, no penalties), else 0.
     */
    public int candidatesSuffice(int vocab) {
        int k = params.topK();
        return !params.isGreedy() && !penalised() && k > 0 && k < vocab && k <= MAX_CANDIDATES ? k : 0;
    }

    /**
     * Samples from candidates alone: {@code ids[0, count)} with their logits, any order, holding the
     * top-k best ids of the step (ties to the lower id) for k = {@link #candidatesSuffice}. Draws the
     * same token as {@link #sample(float[], int[], int, int)} on the whole row with the same seed.
     */
    public int sampleCandidates(int[] ids, float[] logits, int count) {
        int k = params.topK();
        if (params.isGreedy() || k <= 0 || count < k) {
            throw new IllegalArgumentException("candidates need a sampler bounded by top-k (" + k + ") and at least"
                    + " that many candidates, got " + count);
        }
        Integer[] order = rank(ids, logits, count);
        int[] rankIds = new int[k];
        float[] rankLogits = new float[k];
        for (int i = 0; i < k; i++) {
            rankIds[i] = ids[order[i]];
            rankLogits[i] = logits[order[i]];
        }
        return drawRanked(rankIds, rankLogits, k);
    }

    /** Indices of the candidates in the rank order of SortedCandidates: higher logit first, the lower id on a tie. */
    private static Integer[] rank(int[] ids, float[] logits, int count) {
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a])
                : Integer.compare(ids[a], ids[b]));
        return order;
    }

    /** Draws from n candidates in rank order: their softmax at the temperature, summed in rank order. */
    private int drawRanked(int[] ids, float[] logits, int n) {
        double temperature = params.temperature();
        double max = logits[0] / temperature;
        double[] w = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            w[i] = Math.exp(logits[i] / temperature - max);
            sum += w[i];
        }
        double norm = sum;
        return draw(i -> w[i] / norm, i -> ids[i], n, false);
    }

    /**
     * The draw over n ranked candidates with probabilities {@code prob(rank)}: top-p and min-p keep a
     * prefix of the ranks, then one uniform number walks it. {@code wholeVocabulary}: the candidates
     * are every id, so when all are kept their probabilities add up to 1 by definition.
     */
    private int draw(IntToDoubleFunction prob, IntUnaryOperator id, int n, boolean wholeVocabulary) {
        int keep = keptCount(prob, n);
        double total = 0;
        if (keep == n && wholeVocabulary) {
            total = 1;
        } else {
            for (int i = 0; i < keep; i++) {
                total += prob.applyAsDouble(i);
            }
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            r -= prob.applyAsDouble(i);
            if (r < 0) {
                return id.applyAsInt(i);
            }
        }
        return id.applyAsInt(keep - 1);
    }

    /**
     * How many of the ranked candidates survive top-p and min-p (always at least one): the smallest
     * prefix whose probabilities reach top-p, cut where a probability falls below min-p times the best.
     */
    private int keptCount(IntToDoubleFunction prob, int n) {
        int keep = n;
        if (params.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += prob.applyAsDouble(i);
                if (cumulative >= params.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0) {
            double floor = params.minP() * prob.applyAsDouble(0);
            int k = 1;
            while (k < keep && prob.applyAsDouble(k) >= floor) {
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

    /** The ids of the n best logits in rank order (higher logit first, the lower id on a tie). */
    public static int[] bestIds(float[] logits, int n) {
        SortedCandidates ranked = new SortedCandidates(logits, Math.min(n, logits.length));
        int[] ids = new int[ranked.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = ranked.id(i);
        }
        return ids;
    }

    /**
     * The next token from a step's candidates ({@code Backend.decodeCandidates}): the best one when
     * greedy (the argmax's rule), else {@link #sampleCandidates}.
     */
    public int sample(Candidates candidates) {
        int[] ids = candidates.ids();
        float[] values = candidates.logits();
        if (params.isGreedy()) {
            return ids[rank(ids, values, ids.length)[0]];
        }
        return sampleCandidates(ids, values, ids.length);
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
