package dev.tokenselect.engine.backend.cuda;

import dev.tokenselect.engine.backend.PagedSequence;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.select.AttentionPolicy;
import jcuda.driver.CUdeviceptr;

/**
 * A sequence of the CUDA backend: a block table into the backend's device KV pool (bookkept on the
 * host, mirrored to the device before each forward pass) and its attention policy().
 */
public final class CudaSequence extends PagedSequence {

    private final CudaBackend backend;
    /** The block ids on the device, and how many it has room for / holds now. */
    CUdeviceptr deviceTable;
    int deviceCapacity;
    int[] uploaded = new int[0];
    /** The device's greedy token for the last forward pass. */
    int lastArgmax = -1;
    /** Per layer, the tokens [0, n) whose int8 key sketches in the backend's pool are current. */
    private int[] sketchedTo = new int[0];

    CudaSequence(CudaBackend backend, BlockTable table, AttentionPolicy policy) {
        super(table, policy);
        this.backend = backend;
    }

    CudaBackend backend() {
        return backend;
    }

    /** The argmax of the last forward pass's logits, computed on the device (greedy decoding). */
    public int greedyToken() {
        return lastArgmax;
    }

    /** Tokens [0, n) of {@code layer} whose key sketches are current (rows rewritten since are not). */
    int sketchedTo(int layer) {
        int cut = blockTable().unchangedBelow();
        if (cut != Integer.MAX_VALUE) {
            for (int l = 0; l < sketchedTo.length; l++) {
                sketchedTo[l] = Math.min(sketchedTo[l], cut);
            }
            blockTable().markUnchanged();
        }
        return layer < sketchedTo.length ? sketchedTo[layer] : 0;
    }

    /** Records that tokens [0, n) of every one of {@code layers} layers have current key sketches. */
    void sketchedAll(int layers, int n) {
        sketchedTo(0); // apply any cut first, so it is not forgotten by the mark
        if (sketchedTo.length < layers) {
            sketchedTo = new int[layers];
        }
        java.util.Arrays.fill(sketchedTo, n);
    }

    /** Records that tokens [0, n) of {@code layer} have current key sketches. */
    void sketched(int layer, int n) {
        sketchedTo(layer); // apply any cut first, so it is not forgotten by the mark
        if (sketchedTo.length <= layer) {
            sketchedTo = java.util.Arrays.copyOf(sketchedTo, layer + 1);
        }
        sketchedTo[layer] = n;
    }

    boolean isClosed() {
        return blockTable().isClosed();
    }

    /** Returns the blocks to the pool and frees the device block blockTable(). Idempotent. */
    @Override
    public void close() {
        if (blockTable().isClosed()) {
            return;
        }
        blockTable().close();
        backend.release(this);
    }
}
