package dev.tokenselect.engine.prefix;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.tokenselect.engine.backend.KvCapacityException;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;

/**
 * Shared prefixes of one backend's KV pool: block hash ({@link CacheKey#chain}) → block id. The cache
 * holds one reference on every block it maps, so a block outlives the sequence that computed it. Blocks
 * that no sequence uses and no corpus pins are evicted least recently used first when the pool needs
 * room ({@link #ensureFree}); within a chain, later blocks are older than earlier ones, so a chain is
 * shortened from its end.
 *
 * <p>Only full blocks are mapped; a block is never written again once mapped (sequences append after
 * it). Thread-safe.
 */
public final class PrefixCache implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PrefixCache.class.getName());

    private static final class Entry {
        final BlockHash hash;
        final int blockId;
        int pins;

        Entry(BlockHash hash, int blockId) {
            this.hash = hash;
            this.blockId = blockId;
        }
    }

    /** Access order: the first entries are the least recently used. */
    private final LinkedHashMap<BlockHash, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private final KvAccess kv;
    private final BlockAllocator allocator;
    private final HostBlockTier host;
    private long evictions;
    private boolean closed;

    public PrefixCache(KvAccess kv) {
        this(kv, 0);
    }

    /**
     * @param hostTierBytes host memory that keeps blocks evicted from the pool (see {@link HostBlockTier});
     *                      0 for none: evicted blocks are then dropped (persisted segments stay on disk)
     */
    public PrefixCache(KvAccess kv, long hostTierBytes) {
        this.kv = kv;
        this.allocator = kv.allocator();
        this.host = hostTierBytes > 0 ? new HostBlockTier(hostTierBytes, kv.blockBytes()) : null;
        // A full pool evicts cached prefixes that nobody uses before it refuses a sequence.
        allocator.setReclaimer(this::ensureFree);
    }

    /** The host-memory tier under the pool, or null. */
    public HostBlockTier hostTier() {
        return host;
    }

    public KvAccess kv() {
        return kv;
    }

    public int blockSize() {
        return kv.geometry().blockSize();
    }

    /** Blocks mapped. */
    public synchronized int size() {
        return entries.size();
    }

    public synchronized long evictions() {
        return evictions;
    }

    public synchronized boolean contains(BlockHash hash) {
        return entries.containsKey(hash);
    }

    /** The block mapped to {@code hash}, or -1; does not count as a use. */
    public synchronized int blockId(BlockHash hash) {
        Entry e = entries.get(hash);
        return e == null ? -1 : e.blockId;
    }

    public synchronized boolean isPinned(BlockHash hash) {
        Entry e = entries.get(hash);
        return e != null && e.pins > 0;
    }

    /** How many leading blocks of {@code chain} are mapped; those count as used (most recent first for the root). */
    public synchronized int match(BlockHash[] chain) {
        int n = 0;
        while (n < chain.length && entries.containsKey(chain[n])) {
            n++;
        }
        touch(chain, n);
        return n;
    }

    private void touch(BlockHash[] chain, int n) {
        for (int i = n - 1; i >= 0; i--) {
            entries.get(chain[i]); // access order: the root ends up most recently used
        }
    }

    /**
     * Starts an empty sequence with the longest shareable cached prefix of {@code prompt}: the blocks are
     * appended as shared (like {@code Backend.fork}); at least one token of the prompt is left to prefill,
     * so the caller gets logits.
     *
     * @return the prompt tokens now cached in {@code sequence}; prefill {@code prompt[returned...]}
     */
    public int attach(Sequence sequence, int[] prompt, CacheKey key) {
        checkKey(key);
        BlockTable table = kv.table(sequence);
        if (table.length() != 0) {
            throw new IllegalArgumentException("attach needs an empty sequence, this one holds " + table.length() + " tokens");
        }
        int candidates = Math.min(key.publishableBlocks(prompt.length), (prompt.length - 1) / key.blockSize());
        if (candidates <= 0) {
            return 0;
        }
        BlockHash[] chain = key.chain(prompt, candidates);
        promote(chain);
        synchronized (this) {
            int shared = key.shareableBlocks(match(chain));
            for (int b = 0; b < shared; b++) {
                table.appendShared(entries.get(chain[b]).blockId);
            }
            return shared * key.blockSize();
        }
    }

    /**
     * Maps the full blocks of {@code sequence} whose tokens are {@code tokens[0...]} (the sequence's
     * first tokens, e.g. its prompt) and whose K/V are final (see {@link CacheKey#publishableBlocks}).
     * Blocks already mapped under the same hash are left alone (the sequence keeps its private copy).
     *
     * @return the chain of the published prefix
     */
    public BlockHash[] publish(Sequence sequence, int[] tokens, CacheKey key) {
        checkKey(key);
        BlockTable table = kv.table(sequence);
        int blocks = Math.min(key.publishableBlocks(tokens.length), table.length() / key.blockSize());
        BlockHash[] chain = key.chain(tokens, blocks);
        synchronized (this) {
            checkOpen();
            // Insert the last block first, so the chain's end is the least recently used part.
            for (int b = blocks - 1; b >= 0; b--) {
                if (!entries.containsKey(chain[b])) {
                    int id = table.blockId(b);
                    allocator.retain(id);
                    entries.put(chain[b], new Entry(chain[b], id));
                }
            }
            touch(chain, blocks);
        }
        return chain;
    }

    /**
     * Maps a block the caller allocated and filled (a restore from disk), taking over the caller's
     * reference. If {@code hash} is already mapped, the caller's block is released and the mapped one kept.
     *
     * @return the block id now mapped to {@code hash}
     */
    public synchronized int adopt(BlockHash hash, int blockId) {
        checkOpen();
        Entry e = entries.get(hash);
        if (e != null) {
            allocator.release(blockId);
            return e.blockId;
        }
        entries.put(hash, new Entry(hash, blockId));
        return blockId;
    }

    /**
     * Takes one more reference on each mapped block of {@code chain[0, count)}, so that no eviction can
     * take it while the caller works (a restore allocating blocks may make the pool reclaim others).
     *
     * @return the held block ids, -1 where a hash is not mapped; give each back with
     *         {@code allocator().release(id)}
     */
    public synchronized int[] hold(BlockHash[] chain, int count) {
        int[] ids = new int[count];
        for (int i = 0; i < count; i++) {
            Entry e = entries.get(chain[i]);
            ids[i] = e == null ? -1 : e.blockId;
            if (e != null) {
                allocator.retain(e.blockId);
            }
        }
        return ids;
    }

    /** Pins the first {@code count} blocks of {@code chain} (all must be mapped): never evicted until unpinned. */
    public synchronized void pin(BlockHash[] chain, int count) {
        for (int i = 0; i < count; i++) {
            Entry e = entries.get(chain[i]);
            if (e == null) {
                throw new IllegalStateException("block " + chain[i] + " is not cached; publish before pinning");
            }
            e.pins++;
        }
    }

    public synchronized void unpin(BlockHash[] chain, int count) {
        for (int i = 0; i < count; i++) {
            Entry e = entries.get(chain[i]);
            if (e != null && e.pins > 0) {
                e.pins--;
            }
        }
    }

    /**
     * Evicts unpinned blocks no sequence uses, least recently used first, until the pool has
     * {@code blocks} free blocks or nothing more can be evicted. With a host tier the evicted blocks
     * are copied there first (outside this cache's lock: a backend's copy may take the backend's lock,
     * which a forward pass holds while it asks for blocks).
     *
     * @return whether the pool now has {@code blocks} free blocks
     */
    public boolean ensureFree(int blocks) {
        List<Entry> victims = new ArrayList<>();
        synchronized (this) {
            if (allocator.freeBlocks() >= blocks) {
                return true;
            }
            int wouldFree = allocator.freeBlocks();
            for (Entry e : entries.values()) {
                if (wouldFree >= blocks) {
                    break;
                }
                if (e.pins == 0 && allocator.refCount(e.blockId) == 1) {
                    victims.add(e);
                    wouldFree++;
                }
            }
            for (Entry e : victims) {
                entries.remove(e.hash); // the cache's reference now belongs to this call
                evictions++;
            }
        }
        try {
            if (host != null) {
                for (Entry e : victims) {
                    host.store(e.hash, slot -> kv.copyOut(e.blockId, slot));
                }
            }
        } finally {
            for (Entry e : victims) {
                allocator.release(e.blockId);
            }
        }
        if (!victims.isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, "prefix cache evicted {0} block(s){1}", victims.size(),
                    host != null ? " to host memory" : "");
        }
        return allocator.freeBlocks() >= blocks;
    }

    /**
     * Brings back from the host tier the blocks of {@code chain} that follow its pool-mapped part, as
     * far as they are there and the pool has room (copies outside this cache's lock).
     *
     * @return blocks brought back
     */
    public int promote(BlockHash[] chain) {
        if (host == null) {
            return 0;
        }
        int from;
        int[] held;
        synchronized (this) {
            checkOpen();
            from = 0;
            while (from < chain.length && entries.containsKey(chain[from])) {
                from++;
            }
            if (from == chain.length || !host.contains(chain[from])) {
                return 0;
            }
            held = hold(chain, from); // the allocations below must not evict the prefix they extend
        }
        List<Integer> taken = new ArrayList<>();
        try {
            for (int i = from; i < chain.length && host.contains(chain[i]); i++) {
                int id;
                try {
                    id = allocator.allocate(1, (long) (i + 1) * blockSize())[0];
                } catch (KvCapacityException e) {
                    break;
                }
                if (!host.take(chain[i], block -> kv.copyIn(id, block))) {
                    allocator.release(id);
                    break;
                }
                synchronized (this) {
                    int mapped = adopt(chain[i], id);
                    allocator.retain(mapped);
                    taken.add(mapped);
                }
            }
        } finally {
            for (int id : held) {
                if (id >= 0) {
                    allocator.release(id);
                }
            }
            for (int id : taken) {
                allocator.release(id);
            }
        }
        if (!taken.isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, "prefix cache brought {0} block(s) back from host memory", taken.size());
        }
        return taken.size();
    }

    /** Drops every unpinned mapping (blocks still used by sequences stay with them). */
    public synchronized void clearUnpinned() {
        for (Iterator<Map.Entry<BlockHash, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Entry e = it.next().getValue();
            if (e.pins == 0) {
                it.remove();
                allocator.release(e.blockId);
            }
        }
    }

    /** Releases every mapping. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        allocator.setReclaimer(null);
        if (host != null) {
            host.close();
        }
        for (Entry e : entries.values()) {
            allocator.release(e.blockId);
        }
        entries.clear();
    }

    private void checkKey(CacheKey key) {
        if (key.blockSize() != blockSize()) {
            throw new IllegalArgumentException("cache key for blocks of " + key.blockSize() + " tokens, but the pool's blocks hold "
                    + blockSize());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the prefix cache is closed");
        }
    }
}
