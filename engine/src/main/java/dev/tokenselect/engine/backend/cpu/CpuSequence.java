package dev.tokenselect.engine.backend.cpu;

import dev.tokenselect.engine.backend.PagedSequence;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.model.ModelConfig;
import dev.tokenselect.engine.select.AttentionPolicy;

/**
 * A sequence of the CPU backend: a block table into the backend's KV pool plus the activation
 * buffers of its forward passes (kept between calls, so decoding allocates nothing but the logits).
 * Used by one thread at a time; distinct sequences may run concurrently.
 */
public final class CpuSequence extends PagedSequence {

    private final CpuBackend backend;
    private Scratch scratch;

    CpuSequence(CpuBackend backend, BlockTable table, AttentionPolicy policy) {
        super(table, policy);
        this.backend = backend;
    }

    CpuBackend backend() {
        return backend;
    }

    boolean isClosed() {
        return blockTable().isClosed();
    }

    /** Activation buffers for a chunk of up to {@code tokens} tokens. */
    Scratch scratch(ModelConfig c, int tokens) {
        if (scratch == null || scratch.tokens < tokens) {
            scratch = new Scratch(c, tokens);
        }
        return scratch;
    }

    /** Returns the sequence's blocks to the pool. Idempotent. */
    @Override
    public void close() {
        blockTable().close();
        scratch = null;
    }

    /** Row-major {@code [tokens, dim]} activations of one forward chunk. */
    static final class Scratch {
        final int tokens;
        final float[] x;
        final float[] xb;
        final float[] q;
        final float[] k;
        final float[] v;
        final float[] att;
        final float[] gate;
        final float[] up;
        final float[][] qkv;
        final float[][] gateUp;
        final float[][] hidden;

        Scratch(ModelConfig c, int tokens) {
            this.tokens = tokens;
            x = new float[tokens * c.hiddenSize()];
            xb = new float[tokens * c.hiddenSize()];
            q = new float[tokens * c.queryDim()];
            k = new float[tokens * c.kvDim()];
            v = new float[tokens * c.kvDim()];
            att = new float[tokens * c.queryDim()];
            gate = new float[tokens * c.intermediateSize()];
            up = new float[tokens * c.intermediateSize()];
            qkv = new float[][] {q, k, v};
            gateUp = new float[][] {gate, up};
            hidden = new float[][] {xb};
        }
    }
}
