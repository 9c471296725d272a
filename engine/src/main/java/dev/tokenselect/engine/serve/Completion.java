package dev.tokenselect.engine.serve;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.tokenselect.engine.generate.GenerationResult;

/**
 * A finished request.
 *
 * @param cachedPrefixTokens prompt tokens that came from the prefix cache or the resident corpus
 * @param prefilledTokens    prompt tokens run through the model for this request
 * @param corpus             the corpus the prompt continued, or null
 */
public record Completion(GenerationResult result, int promptTokens, int cachedPrefixTokens, int prefilledTokens,
                         String corpus) {

    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>(result.stats().toMap());
        m.put("cached_prefix_tokens", cachedPrefixTokens);
        m.put("prefilled_tokens", prefilledTokens);
        m.put("finish_reason", result.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        return m;
    }
}
