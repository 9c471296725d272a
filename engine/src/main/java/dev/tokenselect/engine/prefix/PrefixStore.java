package dev.tokenselect.engine.prefix;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The catalog of persisted prefix segments and registered corpora (the persistence SPI). The segment
 * files themselves live in a cache directory managed by {@link PersistentPrefixes}; the catalog says
 * which files exist, what they hold and which are pinned. Two engines may share one catalog and
 * directory: implementations are safe across threads and processes, and {@link #lock} serializes work
 * on one key across all of them.
 *
 * <p>Implementations: {@link FilePrefixStore} (a JSON index in the cache directory) and the JDBC store
 * of the {@code tokenselect-db} module (PostgreSQL, Flyway).
 */
public interface PrefixStore extends AutoCloseable {

    /** A model whose segments are catalogued. */
    record ModelRecord(String fingerprint, String name, String architecture, Instant firstSeen) {
    }

    /**
     * One persisted segment: a file holding the K/V of {@code tokens} tokens from position 0.
     *
     * @param segmentId   {@link CacheKey#segmentId}, 64 hex digits; also names the file
     * @param headHash    the hash of the last publishable full block ({@link CacheKey#chain}), null if none
     * @param chainBlocks publishable full blocks (the chain's length)
     * @param fileName    the file's name inside the cache directory
     */
    record SegmentRecord(String segmentId, String modelFingerprint, String headHash, int chainBlocks, int tokens,
                         long bytes, String fileName, boolean pinned, Instant created, Instant lastUsed) {
        public SegmentRecord {
            Objects.requireNonNull(segmentId);
            Objects.requireNonNull(modelFingerprint);
            Objects.requireNonNull(fileName);
        }

        public SegmentRecord withPinned(boolean p) {
            return new SegmentRecord(segmentId, modelFingerprint, headHash, chainBlocks, tokens, bytes, fileName, p, created, lastUsed);
        }

        public SegmentRecord withLastUsed(Instant t) {
            return new SegmentRecord(segmentId, modelFingerprint, headHash, chainBlocks, tokens, bytes, fileName, pinned, created, t);
        }
    }

    /** One document of a corpus, in order. */
    record DocumentRecord(int ordinal, String title, String sha256, long chars) {
    }

    /**
     * A registered corpus: its prompt tokens (the rendered documents) and the segment that holds their K/V.
     *
     * @param salt         the cache salt of its blocks ("" for none)
     * @param attentionKey {@link CacheKey#attentionKey()} it was prefilled with
     */
    record CorpusRecord(String modelFingerprint, String name, String salt, String attentionKey, String segmentId,
                        int[] tokens, List<DocumentRecord> documents, Instant created) {
        public CorpusRecord {
            Objects.requireNonNull(modelFingerprint);
            Objects.requireNonNull(name);
            salt = salt == null ? "" : salt;
            documents = List.copyOf(documents);
        }
    }

    /** An exclusive hold on a key, across threads and processes sharing the store. */
    interface Lock extends AutoCloseable {
        @Override
        void close();
    }

    void upsertModel(ModelRecord model);

    Optional<ModelRecord> model(String fingerprint);

    Optional<SegmentRecord> segment(String segmentId);

    /**
     * The segment of {@code modelFingerprint} whose head hash is one of {@code headHashes} (the hex hashes
     * of a prompt's chain, in order) with the longest chain, if any.
     */
    Optional<SegmentRecord> longestByHead(String modelFingerprint, List<String> headHashes);

    /** Adds a segment; false (and nothing changes) when one with this id is catalogued already. */
    boolean insertSegment(SegmentRecord segment);

    void deleteSegment(String segmentId);

    void touchSegment(String segmentId, Instant lastUsed);

    void setPinned(String segmentId, boolean pinned);

    /** Every catalogued segment, of all models. */
    List<SegmentRecord> segments();

    /** Adds or replaces the corpus {@code (modelFingerprint, name)} with its documents. */
    void putCorpus(CorpusRecord corpus);

    Optional<CorpusRecord> corpus(String modelFingerprint, String name);

    List<CorpusRecord> corpora(String modelFingerprint);

    boolean deleteCorpus(String modelFingerprint, String name);

    /** Blocks until no other holder (thread or process) of {@code key} is left. */
    Lock lock(String key);

    @Override
    void close();
}
