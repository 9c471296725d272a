package dev.tokenselect.engine.prefix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import dev.tokenselect.engine.backend.KvCapacityException;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.prefix.PrefixStore.SegmentRecord;

/**
 * Persisted prefix segments: files in a cache directory ({@link SegmentFile}) catalogued by a
 * {@link PrefixStore}. A segment is written once (temp name, fsync, atomic rename), then catalogued;
 * a restore checks every header field and every block checksum against what the caller expects and, on
 * any mismatch, discards the file and its row, logs why and reports a miss so the caller prefills: a
 * block that could be wrong is never served.
 *
 * <p>The directory is bounded by {@link Options#maxBytes}: after a write, the least recently used
 * unpinned segments are deleted. {@link #cleanup} (run by the constructor) removes rows whose file is
 * gone and files (and temp files) that no row names, once older than {@link Options#orphanGrace} (another
 * engine may be between its rename and its insert).
 */
public final class PersistentPrefixes {

    private static final System.Logger LOG = System.getLogger(PersistentPrefixes.class.getName());

    /**
     * @param maxBytes    the most bytes of segment files in the directory; {@code Long.MAX_VALUE} for no limit
     * @param orphanGrace files without a catalog row younger than this are left alone by cleanup
     */
    public record Options(long maxBytes, Duration orphanGrace) {
        public static Options defaults() {
            return new Options(Long.MAX_VALUE, Duration.ofMinutes(10));
        }

        public Options withMaxBytes(long bytes) {
            return new Options(bytes, orphanGrace);
        }

        public Options withOrphanGrace(Duration grace) {
            return new Options(maxBytes, grace);
        }
    }

    /** What {@link #cleanup} removed. */
    public record Cleanup(int rowsWithoutFile, int filesWithoutRow, int tempFiles) {
    }

    private final Path dir;
    private final PrefixStore store;
    private final Options options;
    private final AtomicLong restoredBlocks = new AtomicLong();
    private final AtomicLong discarded = new AtomicLong();
    private final Map<String, SegmentChain> chains = new java.util.concurrent.ConcurrentHashMap<>();

    public PersistentPrefixes(Path dir, PrefixStore store, Options options) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cache directory " + dir + ": " + e.getMessage(), e);
        }
        this.dir = dir;
        this.store = store;
        this.options = options;
        cleanup();
    }

    public Path directory() {
        return dir;
    }

    public PrefixStore store() {
        return store;
    }

    /** Blocks copied from disk into the pool so far. */
    public long restoredBlocks() {
        return restoredBlocks.get();
    }

    /** Segment files discarded as untrustworthy so far. */
    public long discarded() {
        return discarded.get();
    }

    public static String fileName(String segmentId) {
        return segmentId + SegmentFile.EXTENSION;
    }

    /** Removes catalog rows whose file is gone, and files and temp files no row names (older than the grace). */
    public Cleanup cleanup() {
        int rows = 0;
        int files = 0;
        int temps = 0;
        Set<String> named = new HashSet<>();
        for (SegmentRecord s : store.segments()) {
            if (!Files.exists(dir.resolve(s.fileName()))) {
                store.deleteSegment(s.segmentId());
                LOG.log(System.Logger.Level.WARNING, "catalog row of segment {0} removed: its file {1} is gone",
                        s.segmentId(), s.fileName());
                rows++;
            } else {
                named.add(s.fileName());
            }
        }
        Instant cutoff = Instant.now().minus(options.orphanGrace());
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            boolean temp = name.startsWith(".") && name.endsWith(AtomicFiles.TEMP_SUFFIX);
            boolean orphan = name.endsWith(SegmentFile.EXTENSION) && !named.contains(name);
            if (!temp && !orphan) {
                continue;
            }
            try {
                if (Files.getLastModifiedTime(p).toInstant().isAfter(cutoff)) {
                    continue;
                }
                // Another engine may have inserted the row since we listed the catalog.
                if (orphan && store.segment(name.substring(0, name.length() - SegmentFile.EXTENSION.length())).isPresent()) {
                    continue;
                }
                Files.deleteIfExists(p);
                LOG.log(System.Logger.Level.WARNING, "removed {0} from the cache directory: {1}", name,
                        temp ? "an unfinished write" : "no catalog row names it");
                if (temp) {
                    temps++;
                } else {
                    files++;
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot clean up {0}: {1}", p, e.getMessage());
            }
        }
        return new Cleanup(rows, files, temps);
    }

    /**
     * Writes the first {@code tokens.length} tokens of {@code sequence} (whose tokens they are) as a segment
     * and catalogues it; does nothing but mark it used (and pinned) when it is catalogued already.
     */
    public SegmentRecord persist(KvAccess kv, Sequence sequence, int[] tokens, CacheKey key, boolean pinned) {
        BlockTable table = kv.table(sequence);
        if (table.length() < tokens.length || tokens.length == 0) {
            throw new IllegalArgumentException("the sequence holds " + table.length() + " tokens, cannot persist " + tokens.length);
        }
        String id = key.segmentId(tokens);
        String name = fileName(id);
        Optional<SegmentRecord> existing = store.segment(id);
        Instant now = Instant.now();
        if (existing.isPresent() && Files.exists(dir.resolve(existing.get().fileName()))) {
            store.touchSegment(id, now);
            if (pinned && !existing.get().pinned()) {
                store.setPinned(id, true);
            }
            return existing.get();
        }
        existing.ifPresent(s -> store.deleteSegment(id));
        int bs = key.blockSize();
        int blockCount = BlockAllocator.blocksFor(tokens.length, bs);
        int[] blockIds = Arrays.copyOf(table.blockIds(), blockCount);
        int chainBlocks = key.publishableBlocks(tokens.length);
        BlockHash[] chain = key.chain(tokens, chainBlocks);
        HexFormat hex = HexFormat.of();
        SegmentFile.Header h = new SegmentFile.Header(SegmentFile.VERSION, hex.parseHex(key.modelFingerprint()),
                hex.parseHex(id), kv.geometry(), kv.segmentDtype(), ByteOrder.nativeOrder(), key.chunkAlignment(),
                key.attentionKey(), tokens, chain, blockCount, kv.blockBytes(), 0);
        long bytes;
        try {
            bytes = SegmentFile.write(dir.resolve(name), h, kv, blockIds);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write segment " + name + ": " + e.getMessage(), e);
        }
        SegmentRecord r = new SegmentRecord(id, key.modelFingerprint(), chainBlocks == 0 ? null : chain[chainBlocks - 1].hex(),
                chainBlocks, tokens.length, bytes, name, pinned, now, now);
        if (!store.insertSegment(r)) {
            store.touchSegment(id, now);
        }
        enforceLimit();
        return r;
    }

    /** Deletes the least recently used unpinned segments until the directory is within its limit. */
    public void enforceLimit() {
        List<SegmentRecord> all = new ArrayList<>(store.segments());
        long total = all.stream().mapToLong(SegmentRecord::bytes).sum();
        if (total <= options.maxBytes()) {
            return;
        }
        all.sort(Comparator.comparing(SegmentRecord::lastUsed, Comparator.nullsFirst(Comparator.naturalOrder())));
        for (SegmentRecord s : all) {
            if (total <= options.maxBytes()) {
                break;
            }
            if (s.pinned()) {
                continue;
            }
            delete(s);
            total -= s.bytes();
            LOG.log(System.Logger.Level.INFO, "evicted segment {0} ({1} bytes) to keep the cache directory under {2} bytes",
                    s.segmentId(), s.bytes(), options.maxBytes());
        }
    }

    /** Removes a segment's row and file. */
    public void delete(SegmentRecord s) {
        store.deleteSegment(s.segmentId());
        try {
            Files.deleteIfExists(dir.resolve(s.fileName()));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", s.fileName(), e.getMessage());
        }
    }

    /**
     * The longest persisted segment that is a prefix of {@code prompt} under {@code key}: its length in
     * tokens (a segment whose head block hash is in the prompt's chain and whose tokens, checked by its
     * id, are the prompt's first ones), or 0. Restore it with {@link #restore(PrefixCache, Sequence, int[], CacheKey)}
     * on exactly those tokens.
     */
    public int longestPrefix(int[] prompt, CacheKey key) {
        int blocks = key.publishableBlocks(prompt.length);
        if (blocks == 0) {
            return 0;
        }
        BlockHash[] chain = key.chain(prompt, blocks);
        List<String> heads = new ArrayList<>(blocks);
        for (BlockHash h : chain) {
            heads.add(h.hex());
        }
        Optional<SegmentRecord> row = store.longestByHead(key.modelFingerprint(), heads);
        if (row.isEmpty() || row.get().tokens() > prompt.length) {
            return 0;
        }
        int n = row.get().tokens();
        // The head proves the full blocks; a segment may also hold a partial last block, which must match too.
        return key.segmentId(Arrays.copyOf(prompt, n)).equals(row.get().segmentId()) ? n : 0;
    }

    /**
     * Restores the segment of exactly {@code tokens} under {@code key} into the empty {@code target}
     * sequence: its publishable blocks through {@code cache} (blocks already cached are shared, the others
     * are read from disk and then cached), the rest privately. On a miss or any doubt about the file
     * nothing changes (the file is discarded with a log line) and the result is false: prefill instead.
     */
    public boolean restore(PrefixCache cache, Sequence target, int[] tokens, CacheKey key) {
        String id = key.segmentId(tokens);
        Optional<SegmentRecord> row = store.segment(id);
        if (row.isEmpty()) {
            return false;
        }
        return restore(cache, target, row.get(), tokens, key);
    }

    private boolean restore(PrefixCache cache, Sequence target, SegmentRecord row, int[] tokens, CacheKey key) {
        KvAccess kv = cache.kv();
        BlockTable table = kv.table(target);
        if (table.length() != 0) {
            throw new IllegalArgumentException("restore needs an empty sequence");
        }
        Path file = dir.resolve(row.fileName());
        int bs = key.blockSize();
        int blockCount = BlockAllocator.blocksFor(tokens.length, bs);
        int chainBlocks = key.publishableBlocks(tokens.length);
        BlockHash[] chain = key.chain(tokens, chainBlocks);
        SegmentFile.Header h;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            h = SegmentFile.readHeader(ch);
            String mismatch = mismatch(h, kv, tokens, key, chain, row.segmentId());
            if (mismatch != null) {
                throw new SegmentFormatException(mismatch);
            }
            // Which blocks come from disk: all but the chain blocks cached already, which are held so that
            // the allocation below (which may make the pool reclaim cached blocks) cannot evict them.
            int[] held = cache.hold(chain, chainBlocks);
            int n;
            try {
                int[] fromDisk = new int[blockCount];
                n = 0;
                for (int b = 0; b < blockCount; b++) {
                    if (b >= chainBlocks || held[b] < 0) {
                        fromDisk[n++] = b;
                    }
                }
                int[] ids;
                try {
                    ids = kv.allocator().allocate(n, tokens.length);
                } catch (KvCapacityException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot restore segment {0}: {1}", row.segmentId(), e.getMessage());
                    return false;
                }
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(h.blockBytes(), 64);
                    for (int i = 0; i < n; i++) {
                        SegmentFile.readBlock(ch, h, fromDisk[i], buf);
                        kv.copyIn(ids[i], buf);
                    }
                } catch (IOException | RuntimeException e) {
                    for (int id : ids) {
                        kv.allocator().release(id);
                    }
                    throw e;
                }
                // Verified: hand the blocks over to the cache (chain) and to the sequence.
                int[] byBlock = new int[blockCount];
                Arrays.fill(byBlock, -1);
                for (int i = 0; i < n; i++) {
                    byBlock[fromDisk[i]] = ids[i];
                }
                synchronized (cache) {
                    for (int b = 0; b < blockCount; b++) {
                        if (b < chainBlocks) {
                            table.appendShared(held[b] >= 0 ? held[b] : cache.adopt(chain[b], byBlock[b]));
                        } else {
                            table.appendShared(byBlock[b]);
                            kv.allocator().release(byBlock[b]); // the table's reference is the only one left
                        }
                    }
                    table.setLength(tokens.length);
                }
            } finally {
                for (int id : held) {
                    if (id >= 0) {
                        kv.allocator().release(id);
                    }
                }
            }
            restoredBlocks.addAndGet(n);
        } catch (NoSuchFileException e) {
            LOG.log(System.Logger.Level.WARNING, "segment {0}: file {1} is gone; removing its catalog row and recomputing",
                    row.segmentId(), row.fileName());
            store.deleteSegment(row.segmentId());
            discarded.incrementAndGet();
            return false;
        } catch (IOException e) {
            discard(row, e.getMessage());
            table.truncate(0);
            return false;
        }
        store.touchSegment(row.segmentId(), Instant.now());
        return true;
    }

    /** What a partial match needs from a segment file's header, read once per segment. */
    private record SegmentChain(String fingerprint, String attentionKey, int chunkAlignment, BlockHash[] chain) {
    }

    /**
     * Brings into {@code cache} the longest run of leading blocks of {@code prompt} that a persisted
     * segment holds beyond what the cache has, even where the segment's tokens go on differently (an
     * edited last document, another question after the same corpus): its first blocks are still the
     * prompt's. Every block read is checked like a full restore (header, hash chain, CRC32C); a bad
     * file is discarded with a log line and nothing is brought in. The blocks land in the cache only;
     * {@link PrefixCache#attach} then shares them.
     *
     * @return blocks brought in from disk
     */
    public int restoreShared(PrefixCache cache, int[] prompt, CacheKey key) {
        int blocks = key.publishableBlocks(prompt.length);
        if (blocks == 0) {
            return 0;
        }
        BlockHash[] chain = key.chain(prompt, blocks);
        int cached = cache.match(chain);
        SegmentRecord best = null;
        int bestShared = cached;
        for (SegmentRecord row : store.segments()) {
            if (!row.modelFingerprint().equals(key.modelFingerprint()) || row.chainBlocks() <= bestShared) {
                continue;
            }
            SegmentChain sc = chainOf(row);
            if (sc == null || !sc.attentionKey().equals(key.attentionKey()) || sc.chunkAlignment() != key.chunkAlignment()) {
                continue;
            }
            int m = 0;
            int limit = Math.min(sc.chain().length, chain.length);
            while (m < limit && sc.chain()[m].equals(chain[m])) {
                m++;
            }
            m = key.shareableBlocks(m);
            if (m > bestShared) {
                best = row;
                bestShared = m;
            }
        }
        if (best == null) {
            return 0;
        }
        return readShared(cache, best, chain, cached, bestShared, key);
    }

    private SegmentChain chainOf(SegmentRecord row) {
        SegmentChain known = chains.get(row.segmentId());
        if (known != null) {
            return known;
        }
        try (FileChannel ch = FileChannel.open(dir.resolve(row.fileName()), StandardOpenOption.READ)) {
            SegmentFile.Header h = SegmentFile.readHeader(ch);
            SegmentChain sc = new SegmentChain(h.fingerprintHex(), h.attentionKey(), h.chunkAlignment(), h.chain());
            chains.put(row.segmentId(), sc);
            return sc;
        } catch (IOException e) {
            return null; // unreadable now: a full restore of it would discard it with the reason
        }
    }

    /** Reads blocks [from, to) of {@code row}'s file, whose chain starts like {@code chain}, into the cache. */
    private int readShared(PrefixCache cache, SegmentRecord row, BlockHash[] chain, int from, int to, CacheKey key) {
        KvAccess kv = cache.kv();
        try (FileChannel ch = FileChannel.open(dir.resolve(row.fileName()), StandardOpenOption.READ)) {
            SegmentFile.Header h = SegmentFile.readHeader(ch);
            String mismatch = prefixMismatch(h, kv, key, chain, to);
            if (mismatch != null) {
                throw new SegmentFormatException(mismatch);
            }
            int[] held = cache.hold(chain, from); // the allocation below must not evict the prefix these extend
            int[] ids;
            try {
                try {
                    ids = kv.allocator().allocate(to - from, (long) to * key.blockSize());
                } catch (KvCapacityException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot restore blocks of segment {0}: {1}", row.segmentId(),
                            e.getMessage());
                    return 0;
                }
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(h.blockBytes(), 64);
                    for (int b = from; b < to; b++) {
                        SegmentFile.readBlock(ch, h, b, buf);
                        kv.copyIn(ids[b - from], buf);
                    }
                } catch (IOException | RuntimeException e) {
                    for (int id : ids) {
                        kv.allocator().release(id);
                    }
                    throw e;
                }
                for (int b = from; b < to; b++) {
                    cache.adopt(chain[b], ids[b - from]); // the cache takes over the allocation's reference
                }
            } finally {
                for (int id : held) {
                    if (id >= 0) {
                        kv.allocator().release(id);
                    }
                }
            }
            restoredBlocks.addAndGet(to - from);
            store.touchSegment(row.segmentId(), Instant.now());
            LOG.log(System.Logger.Level.INFO, "restored {0} shared block(s) of segment {1} from disk", to - from,
                    row.segmentId());
            return to - from;
        } catch (NoSuchFileException e) {
            LOG.log(System.Logger.Level.WARNING, "segment {0}: file {1} is gone; removing its catalog row and recomputing",
                    row.segmentId(), row.fileName());
            store.deleteSegment(row.segmentId());
            chains.remove(row.segmentId());
            discarded.incrementAndGet();
            return 0;
        } catch (IOException e) {
            discard(row, e.getMessage());
            return 0;
        }
    }

    /** The checks of {@link #mismatch} that concern a segment's first {@code blocks} blocks only. */
    private static String prefixMismatch(SegmentFile.Header h, KvAccess kv, CacheKey key, BlockHash[] chain, int blocks) {
        String general = headerMismatch(h, kv, key);
        if (general != null) {
            return general;
        }
        if (h.chain().length < blocks || h.blockCount() < blocks
                || !Arrays.equals(Arrays.copyOf(h.chain(), blocks), Arrays.copyOf(chain, blocks))) {
            return "block hash chain differs from the catalogued one";
        }
        // the hashes were read from the file too: they must be the hashes of its own token ids
        if (h.tokens().length < blocks * key.blockSize()) {
            return "the file holds fewer token ids than its chain covers";
        }
        if (!Arrays.equals(key.chain(h.tokens(), blocks), Arrays.copyOf(chain, blocks))) {
            return "the file's token ids do not hash to its chain";
        }
        return null;
    }

    /** Model, geometry, dtype and how the KV was computed: what every use of a segment file needs. */
    private static String headerMismatch(SegmentFile.Header h, KvAccess kv, CacheKey key) {
        if (!h.fingerprintHex().equals(key.modelFingerprint())) {
            return "model fingerprint " + h.fingerprintHex() + " is not this model's " + key.modelFingerprint();
        }
        if (!h.geometry().equals(kv.geometry())) {
            return "KV geometry " + h.geometry() + " differs from the pool's " + kv.geometry();
        }
        if (h.dtype() != kv.segmentDtype() || h.order() != ByteOrder.nativeOrder()) {
            return "dtype " + h.dtype() + " / byte order " + h.order() + " differs from the pool's " + kv.precision()
                    + " (dtype " + kv.segmentDtype() + ") " + ByteOrder.nativeOrder();
        }
        if (h.blockBytes() != kv.blockBytes()) {
            return "block size in bytes " + h.blockBytes() + " differs from " + kv.blockBytes();
        }
        if (!h.attentionKey().equals(key.attentionKey()) || h.chunkAlignment() != key.chunkAlignment()) {
            return "prefilled with '" + h.attentionKey() + "', wanted '" + key.attentionKey() + "'";
        }
        return null;
    }

    private static String mismatch(SegmentFile.Header h, KvAccess kv, int[] tokens, CacheKey key, BlockHash[] chain,
                                   String segmentId) {
        String general = headerMismatch(h, kv, key);
        if (general != null) {
            return general;
        }
        if (!h.segmentIdHex().equals(segmentId) || !Arrays.equals(h.tokens(), tokens)) {
            return "token ids differ from the catalogued segment";
        }
        if (!Arrays.equals(h.chain(), chain)) {
            return "block hash chain differs (salt or tokens)";
        }
        if (h.blockCount() != BlockAllocator.blocksFor(tokens.length, key.blockSize())) {
            return "block count " + h.blockCount() + " does not cover " + tokens.length + " tokens";
        }
        return null;
    }

    private void discard(SegmentRecord row, String why) {
        LOG.log(System.Logger.Level.WARNING, "discarding KV segment {0} ({1}): {2}; the prefix will be recomputed",
                row.segmentId(), row.fileName(), why);
        discarded.incrementAndGet();
        chains.remove(row.segmentId());
        delete(row);
    }
}
