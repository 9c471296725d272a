package dev.tokenselect.engine.generate;

import java.util.List;

/**
 * How to pick each next token and when to stop. {@code temperature == 0} is greedy decoding.
 * Filters apply in transformers' order: repetition penalty, temperature, top-k, top-p, min-p; the
 * frequency and presence penalties (OpenAI's definition, over the generated tokens only) apply with the
 * repetition penalty, before anything else.
 *
 * @param topK              0 disables
 * @param topP              1 disables
 * @param minP              0 disables
 * @param repetitionPenalty 1 disables; divides positive and multiplies negative logits of seen tokens
 * @param frequencyPenalty  0 disables; subtracted from a token's logit once per time it was generated
 * @param presencePenalty   0 disables; subtracted from a token's logit once if it was generated at all
 * @param seed              null draws a seed from the system
 * @param stopStrings       generation ends before the first occurrence of any of these
 * @param ignoreEos         keep going past the model's end-of-sequence tokens
 */
public record SamplingParams(double temperature, int topK, double topP, double minP, double repetitionPenalty,
                             double frequencyPenalty, double presencePenalty, Long seed, int maxTokens,
                             List<String> stopStrings, boolean ignoreEos) {

    public SamplingParams {
        if (temperature < 0 || Double.isNaN(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, was " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0, was " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], was " + topP);
        }
        if (!(minP >= 0 && minP < 1)) {
            throw new IllegalArgumentException("min-p must be in [0, 1), was " + minP);
        }
        if (!(repetitionPenalty > 0)) {
            throw new IllegalArgumentException("repetition penalty must be > 0, was " + repetitionPenalty);
        }
        if (!Double.isFinite(frequencyPenalty) || !Double.isFinite(presencePenalty)) {
            throw new IllegalArgumentException("frequency and presence penalties must be finite numbers (were "
                    + frequencyPenalty + ", " + presencePenalty + ")");
        }
        if (maxTokens < 0) {
            throw new IllegalArgumentException("max tokens must be >= 0, was " + maxTokens);
        }
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        if (stopStrings.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stop strings must not be empty");
        }
    }

    public static SamplingParams greedy(int maxTokens) {
        return builder().maxTokens(maxTokens).build();
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repetitionPenalty(repetitionPenalty).frequencyPenalty(frequencyPenalty).presencePenalty(presencePenalty)
                .seed(seed).maxTokens(maxTokens).stopStrings(stopStrings)
                .ignoreEos(ignoreEos);
    }

    public static final class Builder {
        private double temperature;
        private int topK;
        private double topP = 1;
        private double minP;
        private double repetitionPenalty = 1;
        private double frequencyPenalty;
        private double presencePenalty;
        private Long seed;
        private int maxTokens = 256;
        private List<String> stopStrings = List.of();
        private boolean ignoreEos;

        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder stopStrings(List<String> v) { stopStrings = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, frequencyPenalty, presencePenalty,
                    seed, maxTokens, stopStrings, ignoreEos);
        }
    }
}
