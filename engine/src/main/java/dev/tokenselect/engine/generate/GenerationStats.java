package dev.tokenselect.engine.generate;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts and timings of one generation.
 *
 * @param prefillNanos   time to run the prompt through the model (the first token's logits)
 * @param decodeNanos    time spent producing the tokens after the first
 * @param contextTokens  tokens cached at the end
 * @param attention      the attention policy's counts (selections, cache hits, tokens attended)
 */
public record GenerationStats(int promptTokens, int generatedTokens, long prefillNanos, long decodeNanos,
                              String backend, String device, int contextTokens, Map<String, Object> attention) {

    public double timeToFirstTokenMillis() {
        return prefillNanos / 1e6;
    }

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens / (prefillNanos / 1e9);
    }

    /** Tokens per second of the decode loop (the first token comes from the prefill). */
    public double decodeTokensPerSecond() {
        int steps = generatedTokens - 1;
        return steps <= 0 || decodeNanos == 0 ? 0 : steps / (decodeNanos / 1e9);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", backend);
        m.put("device", device);
        m.put("prompt_tokens", promptTokens);
        m.put("generated_tokens", generatedTokens);
        m.put("time_to_first_token_ms", round(timeToFirstTokenMillis()));
        m.put("prefill_tokens_per_s", round(prefillTokensPerSecond()));
        m.put("decode_tokens_per_s", round(decodeTokensPerSecond()));
        m.put("context_tokens", contextTokens);
        m.putAll(attention);
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
