package dev.tokenselect.engine.model.synthetic;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Deterministic weights from (seed, tensor name, element index), mirrored by
 * {@code tools/synthetic_weights.py}: tests build a model of any real architecture on the fly and
 * compare with transformers run on exactly the same numbers. Every value is exact in bf16, f16 and f32.
 */
public final class SyntheticWeights {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final long stream;
    private final boolean norm;
    private final float scale;

    public SyntheticWeights(long seed, String name, long[] shape) {
        CRC32 crc = new CRC32();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        this.stream = (seed * GOLDEN) ^ crc.getValue();
        this.norm = name.endsWith("norm.weight");
        this.scale = (float) Math.scalb(1.0, -scaleExponent(name, shape));
    }

    static int scaleExponent(String name, long[] shape) {
        if (name.contains("embed_tokens") || name.startsWith("lm_head")) {
            return 0;
        }
        if (name.endsWith(".bias")) {
            return 3;
        }
        long fanIn = shape[shape.length - 1];
        return (63 - Long.numberOfLeadingZeros(fanIn)) / 2;
    }

    public float value(long index) {
        long r = splitmix64(stream + index);
        if (norm) {
            return 1.0f + ((int) (r >>> 60) - 8) / 64.0f;
        }
        return ((int) (r >>> 56) - 128) / 128.0f * scale;
    }

    static long splitmix64(long x) {
        long z = x + GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
