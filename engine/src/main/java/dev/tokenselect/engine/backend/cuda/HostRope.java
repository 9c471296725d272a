package dev.tokenselect.engine.backend.cuda;

import dev.tokenselect.engine.math.Rope;
import dev.tokenselect.engine.select.Rotator;

/**
 * RoPE on the host (HF rotate_half, angle = pos · invFreq in fp32, products rounded separately), as
 * the CPU backend and the device kernels compute it, from a table of cos and sin per position: the
 * selection policies rotate every query of a prefill chunk for their scoring query (a chunk of 512
 * queries of 28 heads at d 128 took 1.8M sines and cosines per layer when each rotation computed
 * its own). Also the self-test's CPU twins.
 */
final class HostRope implements Rotator {

    private final Rope rope;

    HostRope(float[] invFreq) {
        this.rope = new Rope(invFreq);
    }

    @Override
    public void rotate(float[] x, int off, int position) {
        Rope.rotate(x, off, rope.table(position + 1), position, rope.half());
    }
}
