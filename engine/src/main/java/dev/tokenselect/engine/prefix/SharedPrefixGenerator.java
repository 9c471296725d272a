package dev.tokenselect.engine.prefix;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * Generation with automatic prefix sharing: a request starts from the longest cached prefix of its
 * prompt (blocks shared, not copied), prefills only the rest, and publishes its own prompt blocks for
 * the requests after it. Requests with different salts (tenants) never share.
 */
public final class SharedPrefixGenerator {

    /** A generation and how much of its prompt came from the cache. */
    public record Result(GenerationResult generation, int cachedPrefixTokens, int prefilledTokens) {
        public Map<String, Object> stats() {
            Map<String, Object> m = new LinkedHashMap<>(generation.stats().toMap());
            m.put("cached_prefix_tokens", cachedPrefixTokens);
            m.put("prefilled_tokens", prefilledTokens);
            return m;
        }
    }

    private final Backend backend;
    private final Generator generator;
    private final PrefixCache cache;
    private final String modelFingerprint;
    private final int prefillChunk;

    public SharedPrefixGenerator(Backend backend, Generator generator, PrefixCache cache, String modelFingerprint,
                                 int prefillChunk) {
        this.backend = backend;
        this.generator = generator;
        this.cache = cache;
        this.modelFingerprint = modelFingerprint;
        this.prefillChunk = prefillChunk;
    }

    public Result generate(AttentionSpec attention, String salt, int[] prompt, SamplingParams params,
                           TokenListener listener) {
        CacheKey key = CacheKey.of(modelFingerprint, salt == null ? "" : salt, backend, cache.kv(), attention,
                prefillChunk);
        try (Sequence seq = backend.newSequence(attention)) {
            int cached = cache.attach(seq, prompt, key);
            GenerationResult result = generator.generate(seq, Arrays.copyOfRange(prompt, cached, prompt.length), params,
                    listener);
            cache.publish(seq, prompt, key);
            return new Result(result, cached, prompt.length - cached);
        }
    }
}
