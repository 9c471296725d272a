package dev.tokenselect.engine.serve;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.BatchScheduler;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.generate.SequenceSource;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.prefix.CacheKey;
import dev.tokenselect.engine.prefix.CorpusListener;
import dev.tokenselect.engine.prefix.CorpusManager;
import dev.tokenselect.engine.prefix.CorpusManager.CorpusInfo;
import dev.tokenselect.engine.prefix.CorpusPrompts;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import dev.tokenselect.engine.prefix.CorpusStatus;
import dev.tokenselect.engine.prefix.KvAccess;
import dev.tokenselect.engine.prefix.ModelFingerprint;
import dev.tokenselect.engine.prefix.PersistentPrefixes;
import dev.tokenselect.engine.prefix.PrefixCache;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * An engine serving many threads at once. Every generation goes through one {@link BatchScheduler} (continuous
 * batching: each request has its own sequence, sampler and stop conditions, decode steps are shared), and starts
 * from what the pool already holds:
 * <ul>
 *   <li>a request on a resident corpus forks the corpus's sequence and prefills only what follows it;</li>
 *   <li>an ordinary request attaches the longest cached prefix of its prompt and publishes its own prompt blocks
 *       when it ends, so the next request with the same system prompt or document skips that part.</li>
 * </ul>
 * Corpora are registered on the caller's thread (a long prefill does not hold up the queue); the backend is safe
 * for distinct sequences on different threads.
 *
 * <p>Blocks the pool evicts go to a host-memory tier ({@link Options#hostCacheBytes()}) and come back
 * from there before a prompt is prefilled or a segment read from disk.
 */
public final class InferenceService implements AutoCloseable {

    /**
     * @param attention      the default attention of requests, and the attention corpora are prefilled with
     * @param prefillChunk   prompt tokens per forward call
     * @param maxBatch       most requests decoded together; more wait in the queue
     * @param hostCacheBytes host memory that keeps prefix blocks evicted from the KV pool (a tier between
     *                       the pool and disk); 0 for none, -1 for the default: 4 GiB under a GPU pool,
     *                       none under the CPU pool (which is host memory already)
     * @param corpusTurn     which chat turn holds a corpus
     */
    public record Options(AttentionSpec attention, int prefillChunk, int maxBatch, long hostCacheBytes,
                          CorpusPrompts.Turn corpusTurn) {
        public Options {
            if (prefillChunk < 1 || maxBatch < 1) {
                throw new IllegalArgumentException("the prefill chunk and the batch must be positive (were "
                        + prefillChunk + ", " + maxBatch + ")");
            }
            if (hostCacheBytes < -1) {
                throw new IllegalArgumentException("hostCacheBytes must be -1 (default), 0 (none) or a size, was "
                        + hostCacheBytes);
            }
            java.util.Objects.requireNonNull(corpusTurn, "corpusTurn");
        }

        /** The default host tier, corpora in the system turn. */
        public Options(AttentionSpec attention, int prefillChunk, int maxBatch) {
            this(attention, prefillChunk, maxBatch, -1);
        }

        /** Corpora in the system turn. */
        public Options(AttentionSpec attention, int prefillChunk, int maxBatch, long hostCacheBytes) {
            this(attention, prefillChunk, maxBatch, hostCacheBytes, CorpusPrompts.Turn.SYSTEM);
        }

        /** The host tier's size for a pool of {@code backend}. */
        long hostCacheBytesFor(Backend backend) {
            if (hostCacheBytes >= 0) {
                return hostCacheBytes;
            }
            return "cpu".equals(backend.name()) ? 0 : 4L << 30;
        }

        public static Options defaults() {
            return new Options(AttentionSpec.full(), Generator.DEFAULT_PREFILL_CHUNK, 8);
        }
    }

    private final Engine engine;
    private final Backend backend;
    private final Options options;
    private final PrefixCache cache;
    private final CorpusManager corpora;
    private final CorpusPrompts prompts;
    private final String fingerprint;
    private final BatchScheduler scheduler;
    private final Map<AttentionSpec, CacheKey> keys = new ConcurrentHashMap<>();
    private final List<CompletionObserver> observers = new CopyOnWriteArrayList<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong cachedPrefixTokens = new AtomicLong();
    private final AtomicLong prefilledTokens = new AtomicLong();

    /**
     * @param persistence where corpora are persisted and catalogued; null to hold them in memory only
     */
    public InferenceService(Engine engine, PersistentPrefixes persistence, Options options) {
        this.engine = engine;
        this.backend = engine.backend();
        this.options = options;
        this.prompts = new CorpusPrompts(engine.tokenizer(), options.corpusTurn());
        this.fingerprint = ModelFingerprint.of(engine.model());
        KvAccess kv = kvAccess(backend);
        this.cache = kv == null ? null : new PrefixCache(kv, options.hostCacheBytesFor(backend));
        this.corpora = cache == null ? null
                : new CorpusManager(engine, cache, persistence, new CorpusManager.Options(options.attention(),
                        options.prefillChunk(), options.corpusTurn()));
        this.scheduler = new BatchScheduler(backend, engine.tokenizer(), engine.model().generation().eosTokenIds(),
                options.prefillChunk(), options.maxBatch());
    }

    private static KvAccess kvAccess(Backend backend) {
        try {
            return KvAccess.of(backend);
        } catch (UnsupportedOperationException e) {
            System.getLogger(InferenceService.class.getName()).log(System.Logger.Level.INFO,
                    "{0}: prefixes are not shared and corpora cannot be resident on this backend", e.getMessage());
            return null;
        }
    }

    public Engine engine() {
        return engine;
    }

    public Options options() {
        return options;
    }

    /** How corpora and the conversations after them become tokens. */
    public CorpusPrompts prompts() {
        return prompts;
    }

    public void addObserver(CompletionObserver observer) {
        observers.add(observer);
    }

    /**
     * Queues a generation; the future completes with its result or error. Thread-safe. The listener is called on
     * the service's worker: it must not block (a listener that throws ends its own request, which is how a caller
     * cancels).
     */
    public CompletableFuture<Completion> submit(InferenceRequest request, TokenListener listener) {
        AttentionSpec attention = request.attention() != null ? request.attention() : options.attention();
        int[] prompt = request.prompt();
        PreparedSource source;
        try {
            source = request.corpus() != null ? corpusSource(request.corpus(), prompt, attention, request)
                    : promptSource(prompt, attention, request.salt());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return scheduler.submit(source, prompt, request.params(), listener).thenApply(result -> {
            Completion c = new Completion(result, prompt.length, source.cached, prompt.length - source.cached,
                    request.corpus());
            requests.incrementAndGet();
            cachedPrefixTokens.addAndGet(c.cachedPrefixTokens());
            prefilledTokens.addAndGet(c.prefilledTokens());
            for (CompletionObserver o : observers) {
                o.onCompletion(c);
            }
            return c;
        });
    }

    /** Fills in {@link #cached} when the worker opens the sequence. */
    private abstract static class PreparedSource implements SequenceSource {
        volatile int cached;
    }

    private PreparedSource corpusSource(String name, int[] prompt, AttentionSpec attention, InferenceRequest request) {
        int[] corpus = corpusManager().corpusTokens(name); // makes it resident here, on the caller's thread
        boolean continues = prompt.length > corpus.length
                && Arrays.equals(prompt, 0, corpus.length, corpus, 0, corpus.length);
        if (!continues) {
            // the template folded the conversation into the corpus's turn: share the blocks the prompts have in common
            return promptSource(prompt, attention, "");
        }
        return new PreparedSource() {
            @Override
            public Prepared open() {
                Sequence seq = corpora.open(name, prompt.length - corpus.length + (long) request.params().maxTokens(),
                        attention);
                cached = corpus.length;
                return new Prepared(seq, corpus.length);
            }
        };
    }

    private PreparedSource promptSource(int[] prompt, AttentionSpec attention, String salt) {
        if (cache == null) {
            return new PreparedSource() {
                @Override
                public Prepared open() {
                    return new Prepared(backend.newSequence(attention), 0);
                }
            };
        }
        return new PreparedSource() {
            CacheKey key;

            @Override
            public Prepared open() {
                key = keys.computeIfAbsent(attention, a -> CacheKey.of(fingerprint, "", backend, cache.kv(), a,
                        options.prefillChunk())).withSalt(salt);
                Sequence seq = backend.newSequence(attention);
                try {
                    cached = cache.attach(seq, prompt, key);
                    return new Prepared(seq, cached);
                } catch (RuntimeException e) {
                    seq.close();
                    throw e;
                }
            }

            @Override
            public void finished(Sequence sequence) {
                cache.publish(sequence, prompt, key);
            }
        };
    }

    private CorpusManager corpusManager() {
        if (corpora == null) {
            throw new UnsupportedOperationException("the " + backend.name() + " backend does not share its KV pool with "
                    + "the prefix cache yet, so corpora cannot be resident on it; run on the cpu backend for corpora");
        }
        return corpora;
    }

    /** Registers (or re-attaches) a corpus: prefilled or restored once, pinned, persisted where persistence is on. */
    public CorpusInfo registerCorpus(String name, List<Document> documents) {
        return corpusManager().register(name, documents);
    }

    /** As {@link #registerCorpus(String, List)}, telling {@code listener} how the restore or prefill goes. */
    public CorpusInfo registerCorpus(String name, List<Document> documents, CorpusListener listener) {
        return corpusManager().register(name, documents, "", listener);
    }

    /** Size, pool memory and residence of every corpus resident here or catalogued for this model. */
    public List<CorpusStatus> corpusStatuses() {
        return corpora == null ? List.of() : corpora.statuses();
    }

    /** @return whether a corpus of that name existed */
    public boolean unregisterCorpus(String name) {
        return corpusManager().unregister(name);
    }

    /** Corpora resident here or catalogued for this model. */
    public List<String> corpusNames() {
        return corpora == null ? List.of() : corpora.names();
    }

    /** The corpus's prefix tokens (restored or prefilled first if it is only catalogued). */
    public int[] corpusTokens(String name) {
        return corpusManager().corpusTokens(name);
    }

    /** The whole prompt of a conversation held after a corpus ({@link CorpusPrompts#conversationTokens}). */
    public int[] corpusConversation(String corpus, List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                                    Map<String, Object> templateArgs) {
        return prompts.conversationTokens(corpusTokens(corpus), messages, tools, templateArgs);
    }

    public boolean sharesPrefixes() {
        return cache != null;
    }

    public ServiceStats stats() {
        long used = -1;
        long total = -1;
        int blockSize = 0;
        if (cache != null) {
            used = cache.kv().allocator().usedBlocks();
            total = cache.kv().allocator().numBlocks();
            blockSize = cache.blockSize();
        }
        return new ServiceStats(backend.name(), backend.device(), engine.model().directory().getFileName().toString(),
                engine.model().config().architecture().hfName(), used, total, blockSize,
                cache == null ? 0 : cache.size(), corpora == null ? List.of() : corpora.residentNames(),
                cache != null, requests.get(), cachedPrefixTokens.get(), prefilledTokens.get());
    }

    /** Finishes running requests, fails queued ones, releases corpora and the cache; the engine stays open. */
    @Override
    public void close() {
        scheduler.close();
        if (corpora != null) {
            corpora.close();
        }
        if (cache != null) {
            cache.close();
        }
    }
}
