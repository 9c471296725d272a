package dev.tokenselect.engine.prefix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The host-memory tier under a KV pool: blocks the {@link PrefixCache} evicts from the pool are copied
 * here (fp32, the pool's block layout) instead of being dropped, and are copied back into the pool
 * when a prompt needs them again, which is cheaper than a prefill and than a read from disk. Bounded
 * by a byte budget carved into block-sized slots of one off-heap allocation; least recently used
 * blocks leave first (they may still be on disk, see {@link PersistentPrefixes}).
 *
 * <p>Copies run outside this tier's lock (a slot being filled or emptied is owned by that caller), so
 * a backend copy that takes the backend's own lock never waits while this lock is held.
 */
public final class HostBlockTier implements AutoCloseable {

    private final Arena arena = Arena.ofShared();
    private final MemorySegment slab;
    private final long blockBytes;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Ready blocks in access order: the first entries are the least recently used. */
    private final LinkedHashMap<BlockHash, Integer> ready = new LinkedHashMap<>(64, 0.75f, true);
    private long stored;
    private long promoted;
    private long dropped;
    private boolean closed;

    /**
     * @param capacityBytes host memory for blocks (rounded down to whole blocks; at least one block)
     * @param blockBytes    bytes of one block as it travels ({@code KvAccess.blockBytes()})
     */
    public HostBlockTier(long capacityBytes, long blockBytes) {
        if (blockBytes <= 0) {
            throw new IllegalArgumentException("block bytes must be positive");
        }
        long n = capacityBytes / blockBytes;
        if (n < 1) {
            throw new IllegalArgumentException("a host tier of " + capacityBytes + " bytes holds no block of "
                    + blockBytes + " bytes; give it at least one block or turn it off (0)");
        }
        int slots = (int) Math.min(n, Integer.MAX_VALUE - 8);
        this.blockBytes = blockBytes;
        this.slab = arena.allocate(slots * blockBytes, 64);
        for (int i = 0; i < slots; i++) {
            free.add(i);
        }
    }

    /** Blocks held now. */
    public synchronized int size() {
        return ready.size();
    }

    public synchronized boolean contains(BlockHash hash) {
        return ready.containsKey(hash);
    }

    /** Blocks copied in from the pool, copied back to the pool, and dropped to make room. */
    public synchronized long[] counters() {
        return new long[] {stored, promoted, dropped};
    }

    /**
     * Keeps a copy of a block leaving the pool: {@code fill} writes the block into the given slot
     * (called without this tier's lock). The least recently used block makes room when the tier is full.
     */
    public void store(BlockHash hash, Consumer<MemorySegment> fill) {
        int slot;
        synchronized (this) {
            if (closed || ready.containsKey(hash)) {
                return;
            }
            if (free.isEmpty()) {
                Iterator<Map.Entry<BlockHash, Integer>> it = ready.entrySet().iterator();
                if (!it.hasNext()) {
                    return; // every slot is being filled or emptied by someone else right now
                }
                free.add(it.next().getValue());
                it.remove();
                dropped++;
            }
            slot = free.poll();
        }
        try {
            fill.accept(slotSegment(slot));
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                free.add(slot);
            }
            throw e;
        }
        synchronized (this) {
            if (closed || ready.containsKey(hash)) {
                free.add(slot);
                return;
            }
            ready.put(hash, slot);
            stored++;
        }
    }

    /**
     * Moves a block out of the tier: {@code drain} copies the slot (called without this tier's lock),
     * after which the slot is free. Returns false (and calls nothing) when the block is not here.
     */
    public boolean take(BlockHash hash, Consumer<MemorySegment> drain) {
        int slot;
        synchronized (this) {
            Integer s = ready.remove(hash);
            if (s == null) {
                return false;
            }
            slot = s;
        }
        try {
            drain.accept(slotSegment(slot));
        } finally {
            synchronized (this) {
                free.add(slot);
            }
        }
        synchronized (this) {
            promoted++;
        }
        return true;
    }

    private MemorySegment slotSegment(int slot) {
        return slab.asSlice(slot * blockBytes, blockBytes);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        ready.clear();
        free.clear();
        arena.close();
    }
}
