package dev.tokenselect.engine.select;

import java.util.Locale;

/**
 * Which attention a request asks for: {@code full}, {@code tokenselect}, {@code streaming} (sinks and
 * window of the same parameters) or {@code page} (page-level selection of {@code pageSize} tokens).
 */
public record AttentionSpec(Kind kind, SelectionParams params, int pageSize) {

    public enum Kind { FULL, TOKENSELECT, STREAMING, PAGE }

    public static final int DEFAULT_PAGE_SIZE = 16;

    public static AttentionSpec full() {
        return new AttentionSpec(Kind.FULL, null, DEFAULT_PAGE_SIZE);
    }

    public static AttentionSpec tokenSelect(SelectionParams params) {
        return new AttentionSpec(Kind.TOKENSELECT, params, DEFAULT_PAGE_SIZE);
    }

    public AttentionSpec {
        if (kind != Kind.FULL && params == null) {
            throw new IllegalArgumentException("policy " + kind + " needs selection parameters");
        }
    }

    public static Kind kind(String name) {
        try {
            return Kind.valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown attention policy '" + name + "': use full, tokenselect, streaming or page");
        }
    }

    /**
     * @param maxChunk the backend's own chunk limit; selection policies may lower it to their prefill chunk
     */
    public AttentionPolicy newPolicy(Geometry geometry, int numLayers, int maxChunk) {
        return switch (kind) {
            case FULL -> new FullAttentionPolicy(maxChunk);
            case TOKENSELECT -> new TokenSelectPolicy(params, geometry, numLayers);
            case STREAMING -> new StreamingPolicy(params.nInit(), params.nLocal(), params.prefillChunk());
            case PAGE -> new PagePolicy(params, pageSize, geometry);
        };
    }

    public String name() {
        return kind.name().toLowerCase(Locale.ROOT);
    }
}
