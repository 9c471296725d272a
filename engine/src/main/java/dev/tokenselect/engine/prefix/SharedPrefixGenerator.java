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
 *
 * <p>With persistence, a prefix that proves shared (a request found at least {@code persistMinTokens}
 * of its prompt cached) is written to disk at that length, and a request whose prompt starts with a
 * persisted prefix longer than what memory holds restores it instead of prefilling it: after a restart
 * the common part of the prompts (a system prompt, a document) is read back, not recomputed.
 */
public final class SharedPrefixGenerator {

    /** A generation and how much of its prompt came from the cache. */
    public record Result(GenerationResult generation, int cachedPrefixTokens, int prefilledTokens, int restoredTokens) {
        public Map<String, Object> stats() {
            Map<String, Object> m = new LinkedHashMap<>(generation.stats().toMap());
            m.put("cached_prefix_tokens", cachedPrefixTokens);
            m.put("prefilled_tokens", prefilledTokens);
            m.put("restored_tokens", restoredTokens);
            return m;
        }
    }

    private final Backend backend;
    private final Generator generator;
    private final PrefixCache cache;
    private final String modelFingerprint;
    private final int prefillChunk;
    private final PersistentPrefixes persistence;
    private final int persistMinTokens;

    public SharedPrefixGenerator(Backend backend, Generator generator, PrefixCache cache, String modelFingerprint,
                                 int prefillChunk) {
        this(backend, generator, cache, modelFingerprint, prefillChunk, null, Integer.MAX_VALUE);
    }

    /**
     * @param persistence      where shared prefixes are persisted and restored from, or null
     * @param persistMinTokens the shortest shared prefix worth a file
     */
    public SharedPrefixGenerator(Backend backend, Generator generator, PrefixCache cache, String modelFingerprint,
                                 int prefillChunk, PersistentPrefixes persistence, int persistMinTokens) {
        this.backend = backend;
        this.generator = generator;
        this.cache = cache;
        this.modelFingerprint = modelFingerprint;
        this.prefillChunk = prefillChunk;
        this.persistence = persistence;
        this.persistMinTokens = persistMinTokens;
    }

    public Result generate(AttentionSpec attention, String salt, int[] prompt, SamplingParams params,
                           TokenListener listener) {
        CacheKey key = CacheKey.of(modelFingerprint, salt == null ? "" : salt, backend, cache.kv(), attention,
                prefillChunk);
        int restored = 0;
        if (persistence != null) {
            int onDisk = persistence.longestPrefix(prompt, key);
            int inMemory = 0;
            if (onDisk > 0) {
                BlockHash[] chain = key.chain(prompt, key.publishableBlocks(onDisk));
                cache.promote(chain); // host memory before disk
                inMemory = cache.match(chain) * key.blockSize();
            }
            // restore needs the whole segment (an empty sequence): only worth it beyond what memory already has,
            // and at least one prompt token must stay to be prefilled (its logits start the generation)
            if (onDisk > inMemory && onDisk < prompt.length) {
                try (Sequence probe = backend.newSequence(attention)) {
                    if (persistence.restore(cache, probe, Arrays.copyOf(prompt, onDisk), key)) {
                        restored = onDisk; // now in the cache: the attach below shares it
                    }
                }
            }
            if (restored == 0) { // no segment is a prefix of the prompt: one may still share its first blocks
                restored = persistence.restoreShared(cache, Arrays.copyOf(prompt, prompt.length - 1), key)
                        * key.blockSize();
            }
        }
        try (Sequence seq = backend.newSequence(attention)) {
            int cached = cache.attach(seq, prompt, key);
            GenerationResult result = generator.generate(seq, Arrays.copyOfRange(prompt, cached, prompt.length), params,
                    listener);
            cache.publish(seq, prompt, key);
            if (persistence != null && cached >= persistMinTokens && cached > restored) {
                // this prefix was computed once and used again: keep it across restarts
                persistence.persist(cache.kv(), seq, Arrays.copyOf(prompt, cached), key, false);
            }
            return new Result(result, cached, prompt.length - cached, Math.min(restored, cached));
        }
    }
}
