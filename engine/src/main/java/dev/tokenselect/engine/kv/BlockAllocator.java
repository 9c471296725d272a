package dev.tokenselect.engine.kv;

import java.util.Arrays;
import java.util.function.IntPredicate;
import java.util.Locale;

import dev.tokenselect.engine.backend.KvCapacityException;

/**
 * Bookkeeping of a paged KV pool, independent of where the blocks' memory lives (host or device):
 * a fixed number of blocks of {@code blockSize} tokens, a free list and a reference count per block.
 *
 * <p>A block is handed out with count 1; {@link #retain} adds a holder (prefix sharing), {@link #release}
 * drops one and returns the block to the free list at zero. Released blocks are reused before blocks
 * never touched, so a pool that backs blocks lazily ({@link BlockMemory}) grows its memory only up to
 * the peak number of blocks in use, and the bookkeeping arrays grow the same way.
 *
 * <p>Thread-safe: sequences on different threads allocate from one pool.
 */
public final class BlockAllocator {

    private volatile IntPredicate reclaimer;

    /** Backs a block with memory the first time it is handed out. */
    @FunctionalInterface
    public interface BlockMemory {
        void materialize(int blockId);
    }

    private final int numBlocks;
    /**
     * Blocks {@code [0, preferred)} are handed out before the others (a pool whose first blocks are in
     * faster memory: device memory before the host memory a CUDA pool may extend into).
     */
    private final int preferred;
    private final int blockSize;
    private final BlockMemory memory;
    /**
     * Blocks {@code [0, fresh)} have been handed out at least once (and hold memory); the others have
     * never been touched. The arrays below grow with {@code fresh}, so bookkeeping costs nothing for
     * capacity that is never used either.
     */
    private int fresh;
    private int[] refCounts = new int[16];
    /** Released block ids below {@code preferred}; the top of the stack is {@code released[releasedCount - 1]}. */
    private int[] released = new int[16];
    private int releasedCount;
    /** Released block ids from {@code preferred} on, a stack like {@link #released}. */
    private int[] releasedLate = new int[16];
    private int releasedLateCount;
    private boolean closed;

    public BlockAllocator(int numBlocks, int blockSize, BlockMemory memory) {
        this(numBlocks, numBlocks, blockSize, memory);
    }

    /**
     * A pool whose blocks {@code [0, preferred)} are handed out first: free ones among them (released,
     * then never used) before any other.
     */
    public BlockAllocator(int numBlocks, int preferred, int blockSize, BlockMemory memory) {
        if (numBlocks <= 0) {
            throw new IllegalArgumentException("a KV pool needs at least one block, got " + numBlocks);
        }
        if (preferred < 0 || preferred > numBlocks) {
            throw new IllegalArgumentException("preferred blocks must be in [0, " + numBlocks + "], got " + preferred);
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("KV block size must be positive, got " + blockSize);
        }
        this.numBlocks = numBlocks;
        this.preferred = preferred;
        this.blockSize = blockSize;
        this.memory = memory;
    }

    /** Blocks handed out before the others ({@link #BlockAllocator(int, int, int, BlockMemory)}). */
    public int preferredBlocks() {
        return preferred;
    }

    /** Blocks needed for a capacity of {@code tokens} (ceil). */
    public static int blocksFor(long tokens, int blockSize) {
        long blocks = (tokens + blockSize - 1) / blockSize;
        if (blocks > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("KV capacity of " + tokens + " tokens in blocks of " + blockSize
                    + " needs more than 2^31 blocks; use a larger block size");
        }
        return (int) blocks;
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Capacity of the pool in tokens. */
    public long capacityTokens() {
        return (long) numBlocks * blockSize;
    }

    public synchronized int freeBlocks() {
        return closed ? 0 : numBlocks - fresh + releasedCount + releasedLateCount;
    }

    public synchronized int usedBlocks() {
        return closed ? 0 : fresh - releasedCount - releasedLateCount;
    }

    /** Blocks in use among the preferred ones. */
    public synchronized int usedPreferredBlocks() {
        return closed ? 0 : Math.min(fresh, preferred) - releasedCount;
    }

    /** Blocks that have ever been handed out, i.e. that hold memory in a lazily backed pool. */
    public synchronized int materializedBlocks() {
        return fresh;
    }

    public synchronized int refCount(int blockId) {
        checkId(blockId);
        return blockId < fresh ? refCounts[blockId] : 0;
    }

    /**
     * Hands out {@code count} blocks, each with reference count 1, or none at all. Released blocks
     * are reused (most recently released first) before blocks never used; those come in id order; and
     * preferred blocks come before the others.
     *
     * @param neededTokens the sequence length that asks for them, for the error message
     * @throws KvCapacityException when fewer than {@code count} blocks are free; nothing changes
     */
    public int[] allocate(int count, long neededTokens) {
        try {
            return allocateNow(count, neededTokens);
        } catch (KvCapacityException e) {
            // Outside this allocator's lock: the reclaimer (a prefix cache) takes its own lock and calls back in.
            IntPredicate r = reclaimer;
            if (r == null || !r.test(count)) {
                throw e;
            }
            return allocateNow(count, neededTokens);
        }
    }

    /**
     * Whom to ask for blocks when the pool is full: given the number of blocks wanted, it frees what
     * it can (a prefix cache evicting unpinned, unused prefixes) and answers whether that many are now
     * free. Null removes it.
     */
    public void setReclaimer(IntPredicate reclaimer) {
        this.reclaimer = reclaimer;
    }

    private synchronized int[] allocateNow(int count, long neededTokens) {
        if (closed) {
            throw new IllegalStateException("the KV pool is closed");
        }
        if (count < 0) {
            throw new IllegalArgumentException("negative block count " + count);
        }
        if (count > freeBlocks()) {
            throw new KvCapacityException(capacityMessage(count, neededTokens));
        }
        // preferred blocks (released, then never used) before the others (released, then never used)
        int reused = Math.min(count, releasedCount);
        int newPreferred = Math.min(count - reused, Math.max(0, preferred - fresh));
        int reusedLate = Math.min(count - reused - newPreferred, releasedLateCount);
        int newOnes = count - reused - reusedLate;
        // Back new blocks with memory before committing anything, so a failure (out of memory) changes nothing.
        if (refCounts.length < fresh + newOnes) {
            int n = (int) Math.min(numBlocks, Math.max(fresh + newOnes, 2L * refCounts.length));
            refCounts = Arrays.copyOf(refCounts, n);
        }
        if (memory != null) {
            for (int i = 0; i < newOnes; i++) {
                memory.materialize(fresh + i);
            }
        }
        int[] ids = new int[count];
        int i = 0;
        for (int j = 0; j < reused; j++) {
            ids[i++] = released[--releasedCount];
        }
        for (int j = 0; j < newPreferred; j++) {
            ids[i++] = fresh++;
        }
        for (int j = 0; j < reusedLate; j++) {
            ids[i++] = releasedLate[--releasedLateCount];
        }
        while (i < count) {
            ids[i++] = fresh++;
        }
        for (int id : ids) {
            refCounts[id] = 1;
        }
        return ids;
    }

    /** Adds a holder to a block in use (a second sequence sharing it as a prefix). */
    public synchronized void retain(int blockId) {
        checkId(blockId);
        if (blockId >= fresh || refCounts[blockId] <= 0) {
            throw new IllegalStateException("block " + blockId + " is free; only blocks in use can be shared");
        }
        refCounts[blockId]++;
    }

    /** Drops a holder; the block returns to the free list when none is left. A no-op once closed. */
    public synchronized void release(int blockId) {
        if (closed) {
            return;
        }
        checkId(blockId);
        if (blockId >= fresh || refCounts[blockId] <= 0) {
            throw new IllegalStateException("block " + blockId + " released more often than it was held");
        }
        if (--refCounts[blockId] == 0) {
            if (blockId < preferred) {
                if (releasedCount == released.length) {
                    released = Arrays.copyOf(released, Math.min(numBlocks, 2 * released.length));
                }
                released[releasedCount++] = blockId;
            } else {
                if (releasedLateCount == releasedLate.length) {
                    releasedLate = Arrays.copyOf(releasedLate, Math.min(numBlocks, 2 * releasedLate.length));
                }
                releasedLate[releasedLateCount++] = blockId;
            }
        }
    }

    /** After this, allocation fails and releases are ignored (the pool's memory is gone). */
    public synchronized void close() {
        closed = true;
        Arrays.fill(refCounts, 0);
    }

    private void checkId(int blockId) {
        if (blockId < 0 || blockId >= numBlocks) {
            throw new IndexOutOfBoundsException("block id " + blockId + " outside [0, " + numBlocks + ")");
        }
    }

    private String capacityMessage(int count, long neededTokens) {
        long used = (long) usedBlocks() * blockSize;
        return String.format(Locale.ROOT, "KV cache full: a sequence of %,d tokens needs %,d more block(s) of %d "
                        + "tokens, but only %,d of the pool's %,d blocks are free (KV capacity %,d tokens, block size "
                        + "%d, %,d tokens' worth of blocks in use). Raise the KV capacity option "
                        + "(--kv-tokens on the command line, kvCapacityTokens in the API) or close sequences that are no longer needed.",
                neededTokens, count, blockSize, freeBlocks(), numBlocks, capacityTokens(), blockSize, used);
    }
}
