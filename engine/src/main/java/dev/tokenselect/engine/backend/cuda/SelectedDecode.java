package dev.tokenselect.engine.backend.cuda;

import java.util.Arrays;

import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.select.TokenSelectPolicy;
import jcuda.driver.CUdeviceptr;

/**
 * The device side of a TokenSelect decode step replayed from a CUDA graph: per layer, the selection
 * cache's decision ({@code ts_decode_gate}), the selection on a miss ({@link CudaKernels#selectOnDevice}
 * in its captured form), the entry list's local window and attention over the entries, with no host
 * round trip. One sequence at a time holds the device's selection cache (the slot); it is uploaded
 * from the sequence's {@link TokenSelectPolicy} when the sequence takes the slot and handed back when
 * it leaves it, so host and device steps of one sequence share one cache.
 */
final class SelectedDecode {

    private final CudaDevice dev;
    private final CudaKernels k;
    private final int layers;
    private final int heads;
    private final int d;
    private final GrowingBuffer scratch;
    private SelectionParams params;
    private CUdeviceptr keptQ;
    private CUdeviceptr keptValid;
    private CUdeviceptr entries;
    private CUdeviceptr ctrl;
    private CUdeviceptr counters;
    private CudaSequence owner;
    private final int[] counted = new int[3];

    SelectedDecode(CudaDevice dev, CudaKernels k, int layers, int heads, int d) {
        this.dev = dev;
        this.k = k;
        this.layers = layers;
        this.heads = heads;
        this.d = d;
        this.scratch = new GrowingBuffer(dev, "TokenSelect selection scratch of the captured decode step");
    }

    /**
     * Gives the slot to {@code seq} (uploading its selection cache), sized for its parameters.
     *
     * @return false when the slot's buffers were reallocated, so graphs captured before are stale
     */
    boolean bind(CudaSequence seq, TokenSelectPolicy policy) {
        boolean same = true;
        if (!policy.params().equals(params)) {
            unbind();
            free();
            params = policy.params();
            int qDim = heads * d;
            keptQ = dev.alloc(4L * layers * qDim, "TokenSelect kept scoring queries");
            keptValid = dev.alloc(4L * layers, "TokenSelect kept flags");
            entries = dev.alloc(4L * layers * params.budget(), "TokenSelect entry lists");
            ctrl = dev.alloc(4L * 3, "TokenSelect step control");
            counters = dev.alloc(4L * 3, "TokenSelect counters");
            dev.fill32(counters, 0, 3);
            Arrays.fill(counted, 0);
            same = false;
        }
        if (owner != seq) {
            unbind();
            upload(policy);
            owner = seq;
        }
        return same;
    }

    /** Hands the slot's selection cache back to its sequence's policy (before a host step, or another sequence). */
    void unbind() {
        if (owner == null) {
            return;
        }
        if (!owner.isClosed() && owner.policy() instanceof TokenSelectPolicy policy) {
            int qDim = heads * d;
            int[] valid = new int[layers];
            dev.copyToHost(valid, keptValid, layers);
            for (int l = 0; l < layers; l++) {
                if (valid[l] == 0) {
                    policy.restoreKept(l, null, null);
                    continue;
                }
                float[] q = new float[qDim];
                dev.copyToHost(q, keptQ.withByteOffset(4L * l * qDim), qDim);
                int[] list = new int[params.budget()];
                dev.copyToHost(list, entries.withByteOffset(4L * l * params.budget()), list.length);
                policy.restoreKept(l, q, Arrays.copyOfRange(list, params.nInit(), params.nInit() + params.k()));
            }
        }
        owner = null;
    }

    /** Hands the slot's selection cache back to {@code seq}'s policy if {@code seq} holds the slot. */
    void handBack(CudaSequence seq) {
        if (owner == seq) {
            unbind();
        }
    }

    /** Forgets a closed sequence that held the slot. */
    void release(CudaSequence seq) {
        if (owner == seq) {
            owner = null;
        }
    }

    private void upload(TokenSelectPolicy policy) {
        int qDim = heads * d;
        int[] valid = new int[layers];
        for (int l = 0; l < layers; l++) {
            float[] q = policy.keptQuery(l);
            int[] top = policy.keptTop(l);
            if (q == null || top == null || top.length != params.k()) {
                continue;
            }
            valid[l] = 1;
            dev.copyToDevice(keptQ.withByteOffset(4L * l * qDim), q, qDim);
            int[] list = new int[params.budget()];
            for (int i = 0; i < params.nInit(); i++) {
                list[i] = i;
            }
            System.arraycopy(top, 0, list, params.nInit(), top.length);
            dev.copyToDevice(entries.withByteOffset(4L * l * params.budget()), list, list.length);
        }
        dev.copyToDevice(keptValid, valid, layers);
    }

    /** Sizes the selection scratch for {@code capacity} candidates; true when it moved (captured graphs are stale). */
    boolean ensureScratch(int capacity) {
        long need = (CudaKernels.selectScratchBytes(heads, capacity) + 3) / 4;
        boolean moves = scratch.words() < need;
        scratch.ensure(need);
        return moves;
    }

    private CUdeviceptr scratch(int capacity) {
        return scratch.ensure((CudaKernels.selectScratchBytes(heads, capacity) + 3) / 4);
    }

    /**
     * Launches (for capture) one layer's selection and attention: q the step's un-rotated query
     * (heads x d), table the sequence's block table on the device, step (token, position); the
     * candidates scored against int8 sketches of their keys where {@code sketches} is given.
     */
    void record(int layer, int capacity, CUdeviceptr q, CudaKernels.Kv kv, CUdeviceptr table, CUdeviceptr step,
                CUdeviceptr invFreq, CUdeviceptr qbar, CUdeviceptr att, CUdeviceptr partial, long partialFloats,
                CudaKernels.Sketches sketches) {
        SelectionParams p = params;
        int qDim = heads * d;
        CUdeviceptr list = entries.withByteOffset(4L * layer * p.budget());
        if (sketches != null) { // the gate also sketches the key this step appended
            k.tsDecodeGateSketch(q, invFreq, heads, p.nLocal(), p.nInit(), p.theta(), p.cacheEnabled(),
                    keptQ.withByteOffset(4L * layer * qDim), keptValid.withByteOffset(4L * layer), qbar, ctrl,
                    counters, step, kv, table, layer, sketches);
        } else {
            k.tsDecodeGate(q, invFreq, heads, d, p.nLocal(), p.nInit(), p.theta(), p.cacheEnabled(),
                    keptQ.withByteOffset(4L * layer * qDim), keptValid.withByteOffset(4L * layer), qbar, ctrl,
                    counters, step);
        }
        k.selectOnDevice(qbar, kv, table, layer, heads, p.nInit(), capacity, p.k(), p.nInit(), 0, p.nLocal(),
                scratch(capacity), list, ctrl, sketches, p.votePool());
        k.tsEntriesWindow(list, p.nInit(), p.k(), p.nLocal(), ctrl);
        k.attentionDecodeSelected(q, kv, table, layer, list, p.budget(), invFreq, heads, att, partial, partialFloats);
    }

    /** Cache hits, misses and selections since the last call. */
    int[] takeCounts() {
        int[] now = new int[3];
        dev.copyToHost(now, counters, 3);
        int[] delta = new int[3];
        for (int i = 0; i < 3; i++) {
            delta[i] = now[i] - counted[i];
            counted[i] = now[i];
        }
        return delta;
    }

    private void free() {
        for (CUdeviceptr p : new CUdeviceptr[] {keptQ, keptValid, entries, ctrl, counters}) {
            dev.free(p);
        }
        keptQ = keptValid = entries = ctrl = counters = null;
    }
}
