package dev.tokenselect.engine.prefix;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import dev.tokenselect.engine.prefix.PrefixStore.CorpusRecord;
import dev.tokenselect.engine.prefix.PrefixStore.DocumentRecord;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * Resident corpora of one engine: a named, ordered set of documents rendered as a stable prefix
 * ({@link CorpusPrompts}), prefilled once (or restored from disk), held by a resident sequence and pinned
 * in the {@link PrefixCache} so its blocks are never evicted. A question forks the resident sequence
 * (sharing every full block, copying the partial last one) and prefills only the question.
 *
 * <p>Registration is idempotent: concurrent registrations of one corpus in this manager wait for a single
 * prefill, and registrations in other engines sharing the {@link PrefixStore} and directory wait on the
 * store's lock and then restore the segment the first one wrote. Thread-safe.
 */
public final class CorpusManager implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CorpusManager.class.getName());

    /**
     * @param attention    how corpora and questions are prefilled and decoded
     * @param prefillChunk prompt tokens per forward call
     * @param turn         which chat turn holds the corpus
     */
    public record Options(AttentionSpec attention, int prefillChunk, CorpusPrompts.Turn turn) {
        public Options {
            java.util.Objects.requireNonNull(turn, "turn");
        }

        /** The corpus in the system turn. */
        public Options(AttentionSpec attention, int prefillChunk) {
            this(attention, prefillChunk, CorpusPrompts.Turn.SYSTEM);
        }

        public static Options defaults() {
            return new Options(AttentionSpec.full(), Generator.DEFAULT_PREFILL_CHUNK);
        }
    }

    /**
     * The outcome of a registration.
     *
     * @param prefilledTokens tokens this call ran through the model (0 when restored or already resident)
     * @param restoredTokens  tokens this call restored from a persisted segment
     * @param alreadyResident the corpus was resident before this call (or another call registered it meanwhile)
     */
    public record CorpusInfo(String name, int tokens, int prefilledTokens, int restoredTokens, boolean alreadyResident,
                             String segmentId) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("tokens", tokens);
            m.put("prefilled_tokens", prefilledTokens);
            m.put("restored_tokens", restoredTokens);
            return m;
        }
    }

    /** An answer and how much of its prompt came from the cache. */
    public record Answer(GenerationResult result, int cachedPrefixTokens, int prefilledTokens, int restoredTokens) {
        public Map<String, Object> stats() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cached_prefix_tokens", cachedPrefixTokens);
            m.put("prefilled_tokens", prefilledTokens);
            m.put("restored_tokens", restoredTokens);
            m.putAll(result.stats().toMap());
            m.put("finish_reason", result.finishReason().name().toLowerCase(java.util.Locale.ROOT));
            return m;
        }
    }

    private static final class Resident {
        final String name;
        final int[] tokens;
        final CacheKey key;
        final Sequence sequence;
        final BlockHash[] chain;
        final String segmentId;
        final int restoredTokens;

        Resident(String name, int[] tokens, CacheKey key, Sequence sequence, BlockHash[] chain, String segmentId,
                 int restoredTokens) {
            this.name = name;
            this.tokens = tokens;
            this.key = key;
            this.sequence = sequence;
            this.chain = chain;
            this.segmentId = segmentId;
            this.restoredTokens = restoredTokens;
        }
    }

    private final Backend backend;
    private final KvAccess kv;
    private final PrefixCache cache;
    private final Generator generator;
    private final CorpusPrompts prompts;
    private final String fingerprint;
    private final PersistentPrefixes persistence;
    private final PrefixStore store;
    private final Options options;
    private final boolean ownsCache;
    private final CacheKey baseKey;
    private final ConcurrentHashMap<String, CompletableFuture<Resident>> residents = new ConcurrentHashMap<>();
    private final AtomicLong prefilledTokens = new AtomicLong();
    private final AtomicLong restoredTokens = new AtomicLong();

    /**
     * @param persistence where segments are persisted and the catalog lives; null for memory only
     */
    public CorpusManager(Engine engine, PersistentPrefixes persistence, Options options) {
        this(engine, null, persistence, options);
    }

    /**
     * @param cache the backend's prefix cache, shared with other users of the pool (a pool has one cache: it
     *              is the pool's reclaimer); null for a cache of this manager's own, closed with it
     */
    public CorpusManager(Engine engine, PrefixCache cache, PersistentPrefixes persistence, Options options) {
        this.backend = engine.backend();
        this.kv = cache != null ? cache.kv() : KvAccess.of(backend);
        this.ownsCache = cache == null;
        this.cache = cache != null ? cache : new PrefixCache(kv);
        this.generator = engine.generator(options.prefillChunk());
        this.prompts = new CorpusPrompts(engine.tokenizer(), options.turn());
        this.fingerprint = ModelFingerprint.of(engine.model());
        this.persistence = persistence;
        this.store = persistence == null ? null : persistence.store();
        this.options = options;
        this.baseKey = CacheKey.of(fingerprint, "", backend, kv, options.attention(), options.prefillChunk());
        if (store != null) {
            store.upsertModel(new PrefixStore.ModelRecord(fingerprint, engine.model().directory().getFileName().toString(),
                    engine.model().config().architecture().hfName(), Instant.now()));
        }
    }

    public PrefixCache prefixCache() {
        return cache;
    }

    public String modelFingerprint() {
        return fingerprint;
    }

    public CorpusPrompts prompts() {
        return prompts;
    }

    /** Tokens run through the model to build corpora, over this manager's life. */
    public long prefilledTokens() {
        return prefilledTokens.get();
    }

    /** Tokens restored from persisted segments for corpora, over this manager's life. */
    public long restoredTokens() {
        return restoredTokens.get();
    }

    /** Registers (or re-attaches) a corpus with no cache salt. */
    public CorpusInfo register(String name, List<Document> documents) {
        return register(name, documents, "", CorpusListener.NONE);
    }

    /** As {@link #register(String, List, String, CorpusListener)} without a listener. */
    public CorpusInfo register(String name, List<Document> documents, String salt) {
        return register(name, documents, salt, CorpusListener.NONE);
    }

    /**
     * Makes {@code name} resident: tokenized once, restored from disk when a valid segment exists, prefilled
     * otherwise, pinned, persisted and catalogued.
     *
     * @param salt     a per-corpus or per-tenant cache salt; blocks under different salts are never shared
     * @param listener hears the restore or prefill as it goes (a UI's progress bar), then READY
     * @throws IllegalStateException when {@code name} is resident with other documents
     */
    public CorpusInfo register(String name, List<Document> documents, String salt, CorpusListener listener) {
        int[] tokens = prompts.corpusTokens(documents);
        CacheKey key = baseKey.withSalt(salt);
        String segmentId = key.segmentId(tokens);
        CompletableFuture<Resident> mine = new CompletableFuture<>();
        CompletableFuture<Resident> existing = residents.putIfAbsent(name, mine);
        if (existing != null) {
            Resident r = join(existing);
            if (!r.segmentId.equals(segmentId)) {
                throw new IllegalStateException("corpus '" + name + "' is registered with other documents or salt; "
                        + "remove it first");
            }
            listener.onProgress(new CorpusProgress(name, CorpusProgress.Stage.READY, tokens.length, tokens.length));
            return new CorpusInfo(name, tokens.length, 0, 0, true, segmentId);
        }
        int before = (int) prefilledTokens.get();
        Resident r;
        try {
            r = load(name, tokens, key, listener);
            mine.complete(r);
        } catch (RuntimeException | Error e) {
            residents.remove(name, mine);
            mine.completeExceptionally(e);
            throw e;
        }
        if (store != null) {
            List<DocumentRecord> docs = new ArrayList<>();
            for (int i = 0; i < documents.size(); i++) {
                Document d = documents.get(i);
                docs.add(new DocumentRecord(i, d.title(), sha256(d.text()), d.text().length()));
            }
            store.putCorpus(new CorpusRecord(fingerprint, name, salt, key.attentionKey(), segmentId, tokens, docs, Instant.now()));
        }
        listener.onProgress(new CorpusProgress(name, CorpusProgress.Stage.READY, tokens.length, tokens.length));
        return new CorpusInfo(name, tokens.length, r.restoredTokens > 0 ? 0 : Math.max(0, (int) prefilledTokens.get() - before),
                r.restoredTokens, false, segmentId);
    }

    /** Builds the resident sequence: restore, or share what the cache has and prefill the rest; pin; persist. */
    private Resident load(String name, int[] tokens, CacheKey key, CorpusListener listener) {
        String segmentId = key.segmentId(tokens);
        try (PrefixStore.Lock ignored = store == null ? () -> { } : store.lock("segment:" + segmentId)) {
            Sequence seq = backend.newSequence(options.attention());
            try {
                int restored = 0;
                boolean persisted = persistence != null && store.segment(segmentId).isPresent();
                if (persisted) {
                    listener.onProgress(new CorpusProgress(name, CorpusProgress.Stage.RESTORING, 0, tokens.length));
                }
                if (persisted && persistence.restore(cache, seq, tokens, key)) {
                    restored = tokens.length;
                    restoredTokens.addAndGet(restored);
                    LOG.log(System.Logger.Level.INFO, "corpus {0}: restored {1} tokens from disk", name, restored);
                } else {
                    if (persistence != null) { // an older version of this corpus may share its first blocks
                        int blocks = persistence.restoreShared(cache, tokens, key);
                        if (blocks > 0) {
                            restoredTokens.addAndGet((long) blocks * key.blockSize());
                        }
                    }
                    int shared = cache.attach(seq, tokens, key);
                    cache.ensureFree(BlockAllocator.blocksFor(tokens.length, key.blockSize()) - shared / key.blockSize());
                    listener.onProgress(new CorpusProgress(name, CorpusProgress.Stage.PREFILLING, shared, tokens.length));
                    generator.prefill(seq, java.util.Arrays.copyOfRange(tokens, shared, tokens.length),
                            (done, total) -> listener.onProgress(new CorpusProgress(name, CorpusProgress.Stage.PREFILLING,
                                    shared + done, tokens.length)));
                    prefilledTokens.addAndGet(tokens.length - shared);
                    LOG.log(System.Logger.Level.INFO, "corpus {0}: prefilled {1} tokens ({2} shared from the cache)",
                            name, tokens.length - shared, shared);
                }
                BlockHash[] chain = cache.publish(seq, tokens, key);
                cache.pin(chain, chain.length);
                if (persistence != null) {
                    listener.onProgress(new CorpusProgress(name, CorpusProgress.Stage.PERSISTING, tokens.length,
                            tokens.length));
                    persistence.persist(kv, seq, tokens, key, true);
                    store.setPinned(segmentId, true);
                }
                return new Resident(name, tokens, key, seq, chain, segmentId, restored);
            } catch (RuntimeException | Error e) {
                seq.close();
                throw e;
            }
        }
    }

    /** The resident corpus, re-attached from the catalog (restored or prefilled) if this engine has not loaded it yet. */
    private Resident resident(String name) {
        CompletableFuture<Resident> f = residents.get(name);
        if (f != null) {
            return join(f);
        }
        Optional<CorpusRecord> rec = store == null ? Optional.empty() : store.corpus(fingerprint, name);
        if (rec.isEmpty()) {
            throw new IllegalArgumentException("no corpus named '" + name + "' for this model; register it first");
        }
        CorpusRecord c = rec.get();
        if (!c.attentionKey().equals(baseKey.attentionKey())) {
            throw new IllegalArgumentException("corpus '" + name + "' was prefilled with '" + c.attentionKey()
                    + "', this engine runs '" + baseKey.attentionKey() + "'; register it again");
        }
        if (!prompts.madeHere(c.tokens())) {
            throw new IllegalArgumentException("corpus '" + name + "' was registered in another chat turn than this "
                    + "engine's " + prompts.turn().name().toLowerCase(java.util.Locale.ROOT) + " turn; register it again");
        }
        CompletableFuture<Resident> mine = new CompletableFuture<>();
        CompletableFuture<Resident> existing = residents.putIfAbsent(name, mine);
        if (existing != null) {
            return join(existing);
        }
        try {
            Resident r = load(name, c.tokens(), baseKey.withSalt(c.salt()), CorpusListener.NONE);
            mine.complete(r);
            return r;
        } catch (RuntimeException | Error e) {
            residents.remove(name, mine);
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /** Asks {@code question} against the corpus {@code name}: shares its prefix, prefills the question, generates. */
    public Answer ask(String name, String question, SamplingParams params, TokenListener listener) {
        return askTokens(name, prompts.questionTokens(question), params, listener);
    }

    /** As {@link #ask}, with the tokens that follow the corpus given directly. */
    public Answer askTokens(String name, int[] suffix, SamplingParams params, TokenListener listener) {
        Resident r = resident(name);
        try (Sequence seq = open(name, suffix.length + (long) params.maxTokens(), options.attention())) {
            GenerationResult result = generator.generate(seq, suffix, params, listener);
            return new Answer(result, r.tokens.length, suffix.length, r.restoredTokens);
        }
    }

    /**
     * A new sequence that holds the corpus's whole prefix (full blocks shared, the partial last one copied), for a
     * request that appends up to {@code extraTokens} tokens with {@code attention}; room for those is reclaimed from
     * unused cached prefixes first.
     */
    public Sequence open(String name, long extraTokens, AttentionSpec attention) {
        Resident r = resident(name);
        int n = r.tokens.length;
        cache.ensureFree(BlockAllocator.blocksFor(n + extraTokens, r.key.blockSize()) - n / r.key.blockSize());
        return backend.fork(r.sequence, n, attention);
    }

    /** Names of the corpora resident in this engine now (not those only catalogued). */
    public List<String> residentNames() {
        List<String> names = new ArrayList<>();
        residents.forEach((name, f) -> {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                names.add(name);
            }
        });
        names.sort(null);
        return names;
    }

    /**
     * Every corpus resident here or catalogued for this model, by name: its size, the pool memory it takes when
     * resident, and where its K/V are now. Corpora still being registered are left out. Reads the catalog; restores
     * nothing.
     */
    public List<CorpusStatus> statuses() {
        Map<String, CorpusStatus> byName = new java.util.TreeMap<>();
        CorpusStatus.Residence pool = kv instanceof KvAccess.Cuda ? CorpusStatus.Residence.DEVICE
                : CorpusStatus.Residence.HOST;
        residents.forEach((name, f) -> {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                Resident r = f.join();
                byName.put(name, new CorpusStatus(name, r.tokens.length, kvBytes(r.tokens.length),
                        persistedBytes(r.segmentId), pool));
            }
        });
        if (store != null) {
            for (CorpusRecord c : store.corpora(fingerprint)) {
                if (!residents.containsKey(c.name())) {
                    byName.put(c.name(), new CorpusStatus(c.name(), c.tokens().length, kvBytes(c.tokens().length),
                            persistedBytes(c.segmentId()), CorpusStatus.Residence.DISK));
                }
            }
        }
        return List.copyOf(byName.values());
    }

    /** Bytes of the whole KV blocks that {@code tokens} tokens take in this pool, at its precision. */
    public long kvBytes(int tokens) {
        return BlockAllocator.blocksFor(tokens, kv.geometry().blockSize()) * kv.blockBytes();
    }

    private long persistedBytes(String segmentId) {
        return store == null ? 0 : store.segment(segmentId).map(PrefixStore.SegmentRecord::bytes).orElse(0L);
    }

    /** The attention the corpora are prefilled with. */
    public AttentionSpec attention() {
        return options.attention();
    }

    /** The corpus's prefix tokens. */
    public int[] corpusTokens(String name) {
        return resident(name).tokens.clone();
    }

    /** Names of corpora resident here or catalogued for this model. */
    public List<String> names() {
        List<String> names = new ArrayList<>(residents.keySet());
        if (store != null) {
            for (CorpusRecord c : store.corpora(fingerprint)) {
                if (!names.contains(c.name())) {
                    names.add(c.name());
                }
            }
        }
        names.sort(null);
        return names;
    }

    /**
     * Unregisters a corpus: its resident sequence is closed, its blocks unpinned (left to LRU eviction), its
     * catalog row removed and its segment file deleted unless another corpus uses the same segment.
     *
     * @return whether a corpus of that name existed
     */
    public boolean unregister(String name) {
        boolean found = false;
        String segmentId = null;
        CompletableFuture<Resident> f = residents.remove(name);
        if (f != null) {
            Resident r = join(f);
            cache.unpin(r.chain, r.chain.length);
            r.sequence.close();
            segmentId = r.segmentId;
            found = true;
        }
        if (store != null) {
            Optional<CorpusRecord> rec = store.corpus(fingerprint, name);
            if (rec.isPresent()) {
                segmentId = rec.get().segmentId();
                found |= store.deleteCorpus(fingerprint, name);
            }
            String id = segmentId;
            if (id != null && store.corpora(fingerprint).stream().noneMatch(c -> id.equals(c.segmentId()))) {
                store.segment(id).ifPresent(persistence::delete);
            }
        }
        return found;
    }

    @Override
    public void close() {
        for (CompletableFuture<Resident> f : residents.values()) {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                f.join().sequence.close();
            }
        }
        residents.clear();
        if (ownsCache) {
            cache.close();
        }
    }

    private static Resident join(CompletableFuture<Resident> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    static String sha256(String text) {
        var md = Sha256.newDigest();
        return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
