package dev.tokenselect.engine.select;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts of one sequence's selections. Selections and cache hits count per layer; steps,
 * selected and attended tokens count once per forward chunk (at the first layer).
 */
public final class SelectionStats {

    private long selections;
    private long cacheHits;
    private long cacheMisses;
    private long selectionSteps;
    private long fullAttentionSteps;
    private long selectedTokens;
    private long decodeSteps;
    private long decodeAttended;
    private long decodeContext;

    void selection() {
        selections++;
    }

    void cacheHit() {
        cacheHits++;
    }

    void cacheMiss() {
        cacheMisses++;
    }

    /** One chunk at the first layer: how many tokens it attends to against how many are cached. */
    void step(int attended, int context, boolean selected, boolean decoding) {
        if (selected) {
            selectionSteps++;
            selectedTokens += attended;
        } else {
            fullAttentionSteps++;
        }
        if (decoding) {
            decodeSteps++;
            decodeAttended += attended;
            decodeContext += context;
        }
    }

    public long selections() {
        return selections;
    }

    public long cacheHits() {
        return cacheHits;
    }

    public long cacheMisses() {
        return cacheMisses;
    }

    public long selectionSteps() {
        return selectionSteps;
    }

    public long fullAttentionSteps() {
        return fullAttentionSteps;
    }

    public long selectedTokens() {
        return selectedTokens;
    }

    /** Cache hits over decode-time lookups (hits + misses); 0 when the cache was never consulted. */
    public double cacheHitRate() {
        long lookups = cacheHits + cacheMisses;
        return lookups == 0 ? 0 : (double) cacheHits / lookups;
    }

    public double meanSelectedTokens() {
        return selectionSteps == 0 ? 0 : (double) selectedTokens / selectionSteps;
    }

    /** Mean tokens attended per decode step, and the mean context they were chosen from. */
    public double meanDecodeAttended() {
        return decodeSteps == 0 ? 0 : (double) decodeAttended / decodeSteps;
    }

    public double meanDecodeContext() {
        return decodeSteps == 0 ? 0 : (double) decodeContext / decodeSteps;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("selections", selections);
        m.put("cache_hits", cacheHits);
        m.put("cache_misses", cacheMisses);
        m.put("cache_hit_rate", round(cacheHitRate()));
        m.put("selection_steps", selectionSteps);
        m.put("full_attention_steps", fullAttentionSteps);
        m.put("mean_selected_tokens", round(meanSelectedTokens()));
        m.put("decode_steps", decodeSteps);
        m.put("mean_decode_attended_tokens", round(meanDecodeAttended()));
        m.put("mean_decode_context_tokens", round(meanDecodeContext()));
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
