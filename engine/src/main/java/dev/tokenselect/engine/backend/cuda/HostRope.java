package dev.tokenselect.engine.backend.cuda;

import dev.tokenselect.engine.select.Rotator;

/**
 * RoPE on the host (HF rotate_half, angle = pos · invFreq in fp32, products rounded separately), as
 * the CPU backend and the device kernels compute it. Used for TokenSelect's scoring query, which the
 * Java policy rotates, and by the self-test's CPU twins.
 */
final class HostRope implements Rotator {

    private final float[] invFreq;

    HostRope(float[] invFreq) {
        this.invFreq = invFreq.clone();
    }

    @Override
    public void rotate(float[] x, int off, int position) {
        int half = invFreq.length;
        float pos = position;
        for (int i = 0; i < half; i++) {
            float angle = invFreq[i] * pos;
            float c = (float) Math.cos(angle);
            float s = (float) Math.sin(angle);
            float a = x[off + i];
            float b = x[off + half + i];
            x[off + i] = a * c - b * s;
            x[off + half + i] = b * c + a * s;
        }
    }
}
