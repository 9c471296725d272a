package dev.tokenselect.engine.kv;

import dev.tokenselect.engine.model.ModelConfig;

/**
 * The shape of a KV cache: what one block of {@code blockSize} tokens holds.
 *
 * <p>Layout of one block (fp32, native byte order), outermost first:
 * {@code [layer][K | V][kvHead][slot][headDim]}. Each token's key (and value) row of one KV head is
 * {@code headDim} contiguous floats, so single tokens can be gathered (TokenSelect) and a whole
 * head's rows of a block are contiguous too.
 */
public record KvGeometry(int numLayers, int numKvHeads, int headDim, int blockSize) {

    public static final int DEFAULT_BLOCK_SIZE = 32;

    public KvGeometry {
        if (numLayers <= 0 || numKvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV geometry needs positive layers, KV heads and head dim, got "
                    + numLayers + ", " + numKvHeads + ", " + headDim);
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("KV block size must be positive, got " + blockSize);
        }
    }

    public static KvGeometry of(ModelConfig config, int blockSize) {
        return new KvGeometry(config.numLayers(), config.numKvHeads(), config.headDim(), blockSize);
    }

    /** Bytes of one token row of one head (headDim fp32). */
    public long rowBytes() {
        return (long) headDim * Float.BYTES;
    }

    /** Bytes of one K (or V) plane of one layer in a block: all heads, all slots. */
    public long planeBytes() {
        return (long) numKvHeads * blockSize * rowBytes();
    }

    /** Bytes of one whole block: K and V of every layer. */
    public long blockBytes() {
        return 2L * numLayers * planeBytes();
    }

    /** Bytes of K and V of one token over all layers and heads. */
    public long bytesPerToken() {
        return 2L * numLayers * numKvHeads * rowBytes();
    }

    /** Byte offset, inside a block, of the key row of {@code (layer, kvHead, slot)}. */
    public long keyOffset(int layer, int kvHead, int slot) {
        return (2L * layer) * planeBytes() + ((long) kvHead * blockSize + slot) * rowBytes();
    }

    /** Byte offset, inside a block, of the value row of {@code (layer, kvHead, slot)}. */
    public long valueOffset(int layer, int kvHead, int slot) {
        return (2L * layer + 1) * planeBytes() + ((long) kvHead * blockSize + slot) * rowBytes();
    }
}
