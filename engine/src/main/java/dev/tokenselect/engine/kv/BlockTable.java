package dev.tokenselect.engine.kv;

import java.util.Arrays;

/**
 * One sequence's view of a paged KV pool: the ids of its blocks in order and its length in tokens.
 * Token {@code p} lives in block {@code blockId(p / blockSize)}, slot {@code p % blockSize}.
 *
 * <p>Appending is two steps: {@link #reserve} makes room (all or nothing), the caller writes the new
 * tokens' K/V rows, and {@link #setLength} commits them. {@link #truncate} rolls back and returns
 * blocks that are no longer needed. Not thread-safe: a sequence is used by one thread at a time.
 */
public final class BlockTable implements AutoCloseable {

    private final BlockAllocator allocator;
    private final int blockSize;
    private int[] blocks = new int[4];
    private int numBlocks;
    private int length;
    private boolean closed;
    private int unchangedBelow = Integer.MAX_VALUE;

    public BlockTable(BlockAllocator allocator) {
        this.allocator = allocator;
        this.blockSize = allocator.blockSize();
    }

    /** Tokens committed to this sequence. */
    public int length() {
        return length;
    }

    public int blockSize() {
        return blockSize;
    }

    public int numBlocks() {
        return numBlocks;
    }

    /** Tokens the blocks held now can take without allocating. */
    public long capacity() {
        return (long) numBlocks * blockSize;
    }

    /** The id of the {@code index}-th block of this sequence. */
    public int blockId(int index) {
        if (index < 0 || index >= numBlocks) {
            throw new IndexOutOfBoundsException("block index " + index + " outside [0, " + numBlocks + ")");
        }
        return blocks[index];
    }

    /** The id of the block that holds token position {@code position}. */
    public int blockOf(int position) {
        return blockId(position / blockSize);
    }

    public int slotOf(int position) {
        return position % blockSize;
    }

    /** A copy of the block ids in order. */
    public int[] blockIds() {
        return Arrays.copyOf(blocks, numBlocks);
    }

    /**
     * Ensures the blocks can hold {@code newLength} tokens, allocating the missing ones.
     *
     * @throws dev.tokenselect.engine.backend.KvCapacityException when the pool has too few free blocks;
     *         the table and the pool are then left exactly as they were
     */
    public void reserve(long newLength) {
        checkOpen();
        int needed = BlockAllocator.blocksFor(newLength, blockSize);
        if (needed <= numBlocks) {
            return;
        }
        int[] fresh = allocator.allocate(needed - numBlocks, newLength);
        if (blocks.length < needed) {
            blocks = Arrays.copyOf(blocks, Math.max(needed, blocks.length * 2));
        }
        System.arraycopy(fresh, 0, blocks, numBlocks, fresh.length);
        numBlocks = needed;
    }

    /** Commits the length after the rows of positions {@code [length, newLength)} were written. */
    public void setLength(int newLength) {
        checkOpen();
        if (newLength < 0 || newLength > capacity()) {
            throw new IllegalArgumentException("length " + newLength + " outside [0, " + capacity()
                    + "]; reserve blocks first");
        }
        if (newLength < length) {
            unchangedBelow = Math.min(unchangedBelow, newLength);
        }
        length = newLength;
    }

    /**
     * The shortest length this table was cut back to since {@link #markUnchanged()} ({@link
     * Integer#MAX_VALUE} if none): rows of positions below it are the rows written before the mark, so
     * anything derived from them then (the device's key sketches) is still current there.
     */
    public int unchangedBelow() {
        return unchangedBelow;
    }

    /** Starts watching for cuts again (see {@link #unchangedBelow()}). */
    public void markUnchanged() {
        unchangedBelow = Integer.MAX_VALUE;
    }

    /**
     * Shortens the sequence to {@code newLength} tokens and releases the blocks past it (also blocks
     * reserved but never committed).
     */
    public void truncate(int newLength) {
        checkOpen();
        if (newLength < 0) {
            throw new IllegalArgumentException("negative length " + newLength);
        }
        int keep = BlockAllocator.blocksFor(newLength, blockSize);
        for (int i = numBlocks - 1; i >= keep; i--) {
            allocator.release(blocks[i]);
        }
        numBlocks = Math.min(numBlocks, keep);
        if (newLength < length) {
            unchangedBelow = Math.min(unchangedBelow, newLength);
            length = newLength;
        }
    }

    /**
     * Appends an existing full block held by another sequence (prefix sharing): the block gains a
     * holder. Only allowed while this table ends on a block boundary.
     */
    public void appendShared(int blockId) {
        checkOpen();
        if (length != (long) numBlocks * blockSize) {
            throw new IllegalStateException("a shared block can only follow full blocks (length " + length
                    + ", " + numBlocks + " blocks of " + blockSize + ")");
        }
        allocator.retain(blockId);
        if (blocks.length == numBlocks) {
            blocks = Arrays.copyOf(blocks, blocks.length * 2);
        }
        blocks[numBlocks++] = blockId;
        length += blockSize;
    }

    /** Returns every block to the pool. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = numBlocks - 1; i >= 0; i--) {
            allocator.release(blocks[i]);
        }
        numBlocks = 0;
        length = 0;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the sequence is closed");
        }
    }
}
