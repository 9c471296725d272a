package dev.tokenselect.engine.select;

/** The model's rotary embedding, applied in place to one head vector at a position. */
@FunctionalInterface
public interface Rotator {

    void rotate(float[] x, int offset, int position);
}
