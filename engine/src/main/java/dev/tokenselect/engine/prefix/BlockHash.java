package dev.tokenselect.engine.prefix;

import java.util.Arrays;
import java.util.HexFormat;

/** A SHA-256 of one full KV block in a prefix chain (see {@link CacheKey#chain}). Immutable. */
public final class BlockHash {

    public static final int BYTES = 32;
    /** The parent of the first block. */
    public static final BlockHash ROOT = new BlockHash(new byte[BYTES]);

    private final byte[] bytes;
    private final int hash;

    private BlockHash(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    public static BlockHash of(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("a block hash has " + BYTES + " bytes, got " + bytes.length);
        }
        return new BlockHash(bytes.clone());
    }

    public static BlockHash ofHex(String hex) {
        return of(HexFormat.of().parseHex(hex));
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockHash b && Arrays.equals(bytes, b.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return hex().substring(0, 16);
    }
}
