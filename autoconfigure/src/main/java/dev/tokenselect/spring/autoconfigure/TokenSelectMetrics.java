package dev.tokenselect.spring.autoconfigure;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import dev.tokenselect.engine.serve.Completion;
import dev.tokenselect.engine.serve.CompletionObserver;
import dev.tokenselect.engine.serve.InferenceService;

/**
 * Micrometer meters of the engine, named by what they count: tokens generated and their rate, time to first token,
 * prompt tokens served from the prefix cache against those prefilled, TokenSelect's selection-cache hits and misses,
 * and the KV pool and resident corpora as gauges.
 */
public class TokenSelectMetrics implements CompletionObserver {

    private final InferenceService service;
    private final AtomicLong selectionHits = new AtomicLong();
    private final AtomicLong selectionMisses = new AtomicLong();
    private Counter generatedTokens;
    private DistributionSummary decodeRate;
    private Timer timeToFirstToken;
    private Counter prefixCacheHitTokens;
    private Counter prefilledTokens;
    private Counter selectionCacheHits;
    private Counter selectionCacheMisses;

    /** Registers the meters and starts counting the service's requests. */
    public TokenSelectMetrics(InferenceService service, MeterRegistry registry) {
        this.service = service;
        generatedTokens = Counter.builder("tokenselect.generated.tokens").baseUnit("tokens")
                .description("Tokens generated").register(registry);
        decodeRate = DistributionSummary.builder("tokenselect.decode.tokens.per.second").baseUnit("tokens/s")
                .description("Decode rate of each reply (tokens after the first per second)").register(registry);
        timeToFirstToken = Timer.builder("tokenselect.time.to.first.token")
                .description("From the request leaving the queue to its first token (prefill)").register(registry);
        prefixCacheHitTokens = Counter.builder("tokenselect.prefix.cache.hit.tokens").baseUnit("tokens")
                .description("Prompt tokens served from the prefix cache or a resident corpus").register(registry);
        prefilledTokens = Counter.builder("tokenselect.prefill.tokens").baseUnit("tokens")
                .description("Prompt tokens run through the model").register(registry);
        selectionCacheHits = Counter.builder("tokenselect.selection.cache.hits")
                .description("Decode-step selections reused from TokenSelect's selection cache (per layer)")
                .register(registry);
        selectionCacheMisses = Counter.builder("tokenselect.selection.cache.misses")
                .description("Decode-step selections made afresh (per layer)").register(registry);
        Gauge.builder("tokenselect.selection.cache.hit.rate", this, m -> m.hitRate())
                .description("Share of selections reused from the selection cache since start").register(registry);
        Gauge.builder("tokenselect.kv.blocks.used", service, s -> s.stats().kvBlocksUsed())
                .description("KV blocks in use by requests, corpora and the prefix cache").register(registry);
        Gauge.builder("tokenselect.kv.blocks.total", service, s -> s.stats().kvBlocksTotal())
                .description("KV blocks in the pool").register(registry);
        Gauge.builder("tokenselect.corpora.resident", service, s -> s.stats().residentCorpora().size())
                .description("Corpora whose prefix is resident").register(registry);
        service.addObserver(this);
    }

    private double hitRate() {
        long hits = selectionHits.get();
        long total = hits + selectionMisses.get();
        return total == 0 ? 0 : (double) hits / total;
    }

    @Override
    public void onCompletion(Completion c) {
        var stats = c.result().stats();
        generatedTokens.increment(stats.generatedTokens());
        if (stats.decodeTokensPerSecond() > 0) {
            decodeRate.record(stats.decodeTokensPerSecond());
        }
        timeToFirstToken.record(Duration.ofNanos(stats.prefillNanos()));
        prefixCacheHitTokens.increment(c.cachedPrefixTokens());
        prefilledTokens.increment(c.prefilledTokens());
        long hits = count(stats.attention(), "cache_hits");
        long misses = count(stats.attention(), "cache_misses");
        selectionHits.addAndGet(hits);
        selectionMisses.addAndGet(misses);
        selectionCacheHits.increment(hits);
        selectionCacheMisses.increment(misses);
    }

    private static long count(Map<String, Object> attention, String key) {
        return attention.get(key) instanceof Number n ? n.longValue() : 0;
    }
}
