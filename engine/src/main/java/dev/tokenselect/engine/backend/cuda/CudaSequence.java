package dev.tokenselect.engine.backend.cuda;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.select.AttentionPolicy;
import dev.tokenselect.engine.select.SelectionStats;
import jcuda.driver.CUdeviceptr;

/**
 * A sequence of the CUDA backend: a block table into the backend's device KV pool (bookkept on the
 * host, mirrored to the device before each forward pass) and its attention policy.
 */
public final class CudaSequence implements Sequence {

    private final CudaBackend backend;
    private final BlockTable table;
    private final AttentionPolicy policy;
    /** The block ids on the device, and how many it has room for / holds now. */
    CUdeviceptr deviceTable;
    int deviceCapacity;
    int[] uploaded = new int[0];
    /** The device's greedy token for the last forward pass. */
    int lastArgmax = -1;

    CudaSequence(CudaBackend backend, BlockTable table, AttentionPolicy policy) {
        this.backend = backend;
        this.table = table;
        this.policy = policy;
    }

    AttentionPolicy policy() {
        return policy;
    }

    CudaBackend backend() {
        return backend;
    }

    public BlockTable blockTable() {
        return table;
    }

    @Override
    public int length() {
        return table.length();
    }

    @Override
    public SelectionStats selectionStats() {
        return policy.stats();
    }

    @Override
    public int maxChunk() {
        return policy.maxChunk();
    }

    /** The argmax of the last forward pass's logits, computed on the device (greedy decoding). */
    public int greedyToken() {
        return lastArgmax;
    }

    boolean isClosed() {
        return table.isClosed();
    }

    /** Returns the blocks to the pool and frees the device block table. Idempotent. */
    @Override
    public void close() {
        if (table.isClosed()) {
            return;
        }
        table.close();
        backend.release(this);
    }
}
