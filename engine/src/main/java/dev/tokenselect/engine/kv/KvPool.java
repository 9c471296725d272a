package dev.tokenselect.engine.kv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A paged KV pool in host memory: {@link BlockAllocator} bookkeeping plus one off-heap segment per
 * block, laid out as {@link KvGeometry} describes (fp32, native byte order). Capacity is a number of
 * tokens and is not bounded by Java array sizes. A block's memory is allocated the first time the
 * block is handed out, so a large idle pool costs nothing; it is kept for reuse until {@link #close}.
 *
 * <p>Thread-safe for distinct sequences. Closing frees all memory; no forward pass may run then.
 */
public final class KvPool implements AutoCloseable {

    /** Rows are written and read in the platform's order; persisted blocks must say which. */
    public static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    private final KvGeometry geometry;
    private final Arena arena = Arena.ofShared();
    /** Grows with the blocks handed out; replaced (never mutated after publication) under the allocator's lock. */
    private volatile MemorySegment[] blocks = new MemorySegment[16];
    private final BlockAllocator allocator;
    private boolean closed;

    public KvPool(KvGeometry geometry, long capacityTokens) {
        if (capacityTokens <= 0) {
            throw new IllegalArgumentException("KV capacity must be positive, got " + capacityTokens + " tokens");
        }
        this.geometry = geometry;
        int numBlocks = BlockAllocator.blocksFor(capacityTokens, geometry.blockSize());
        this.allocator = new BlockAllocator(numBlocks, geometry.blockSize(), this::materialize);
    }

    /**
     * Called by the allocator, under its lock, for each block handed out for the first time. The id
     * reaches its user through that lock (and the worker threads through task submission), which
     * publishes the element; a grown array is published through the volatile field.
     */
    private void materialize(int blockId) {
        MemorySegment segment = arena.allocate(geometry.blockBytes(), 64);
        MemorySegment[] current = blocks;
        if (blockId < current.length) {
            current[blockId] = segment;
        } else {
            MemorySegment[] grown = Arrays.copyOf(current, Math.max(blockId + 1, 2 * current.length));
            grown[blockId] = segment;
            blocks = grown;
        }
    }

    public KvGeometry geometry() {
        return geometry;
    }

    public BlockAllocator allocator() {
        return allocator;
    }

    /** An empty block table for a new sequence. */
    public BlockTable newTable() {
        return new BlockTable(allocator);
    }

    /** The memory of a block that has been handed out at least once. */
    public MemorySegment block(int blockId) {
        MemorySegment[] b = blocks;
        MemorySegment s = blockId < b.length ? b[blockId] : null;
        if (s == null) {
            throw new IllegalStateException("block " + blockId + " was never allocated");
        }
        return s;
    }

    /** Host bytes held by materialized blocks. */
    public long bytesAllocated() {
        return allocator.materializedBlocks() * geometry.blockBytes();
    }

    /** Copies {@code headDim} floats from {@code src[srcOffset...]} into the key row of a token. */
    public void writeKey(BlockTable table, int layer, int kvHead, int position, float[] src, int srcOffset) {
        MemorySegment.copy(src, srcOffset, block(table.blockOf(position)), FLOAT,
                geometry.keyOffset(layer, kvHead, table.slotOf(position)), geometry.headDim());
    }

    /** Copies {@code headDim} floats from {@code src[srcOffset...]} into the value row of a token. */
    public void writeValue(BlockTable table, int layer, int kvHead, int position, float[] src, int srcOffset) {
        MemorySegment.copy(src, srcOffset, block(table.blockOf(position)), FLOAT,
                geometry.valueOffset(layer, kvHead, table.slotOf(position)), geometry.headDim());
    }

    public void readKey(BlockTable table, int layer, int kvHead, int position, float[] dst, int dstOffset) {
        MemorySegment.copy(block(table.blockOf(position)), FLOAT,
                geometry.keyOffset(layer, kvHead, table.slotOf(position)), dst, dstOffset, geometry.headDim());
    }

    public void readValue(BlockTable table, int layer, int kvHead, int position, float[] dst, int dstOffset) {
        MemorySegment.copy(block(table.blockOf(position)), FLOAT,
                geometry.valueOffset(layer, kvHead, table.slotOf(position)), dst, dstOffset, geometry.headDim());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        allocator.close();
        arena.close();
    }
}
