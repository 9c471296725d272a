package dev.tokenselect.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.model.synthetic.SyntheticWeights;

/** The Java generator reproduces the values tools/synthetic_weights.py computes with numpy. */
class SyntheticWeightsTest {

    @Test
    void matchesThePythonGenerator() {
        // numpy: tensor_values(20261127, 'model.layers.0.self_attn.q_proj.weight', (4, 8))[0]
        float[] expectedRow = {-0.125f, -0.08984375f, -0.31640625f, -0.26171875f, -0.1484375f, -0.11328125f,
                -0.21484375f, -0.4375f};
        SyntheticWeights w = new SyntheticWeights(20261127, "model.layers.0.self_attn.q_proj.weight", new long[] {4, 8});
        float[] row = new float[8];
        for (int i = 0; i < 8; i++) {
            row[i] = w.value(i);
        }
        assertArrayEquals(expectedRow, row);
        // numpy: tensor_values(1, 'model.norm.weight', (8,))
        float[] expectedNorm = {1.0625f, 1.0625f, 0.890625f, 1.0625f, 1.0625f, 1.015625f, 0.875f, 1.109375f};
        SyntheticWeights n = new SyntheticWeights(1, "model.norm.weight", new long[] {8});
        float[] norm = new float[8];
        for (int i = 0; i < 8; i++) {
            norm[i] = n.value(i);
        }
        assertArrayEquals(expectedNorm, norm);
    }
}
