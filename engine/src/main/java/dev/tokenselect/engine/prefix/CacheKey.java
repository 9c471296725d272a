package dev.tokenselect.engine.prefix;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.select.AttentionSpec;

/**
 * Everything besides the tokens that determines a prefix's KV: the model, an optional cache salt
 * (tenant or corpus), how the KV was computed and the block size. Part of every block hash, so two
 * keys that differ never share a block.
 *
 * <h2>When is sharing correct?</h2>
 * Under full causal attention a token's K/V depend only on the tokens before it, whatever the chunks
 * of the prefill were (the CPU backend computes them bit for bit the same way, see the tests): every
 * full block of a prompt can be shared, {@code chunkAlignment = 1}, and the attention key is {@code full}.
 *
 * <p>Under a selection policy (TokenSelect, streaming, page) a prefill chunk's K/V of layers above the
 * first depend on the whole chunk (its queries are averaged into the scoring query) and on the chunk
 * boundaries. We therefore (a) put the policy, its parameters and the effective prefill chunk {@code C}
 * into the attention key, and (b) only share block-aligned prefixes whose length is a multiple of
 * {@code C}, i.e. that end on a chunk boundary of a prefill that started at position 0: such a prefix's
 * K/V are a function of its own tokens only, and a sequence that continues from it chunks the rest at the
 * same boundaries ({@code C}, {@code 2C}, ...) as an unshared run would. Blocks of a prompt's last,
 * incomplete chunk are never published.
 *
 * @param modelFingerprint {@link ModelFingerprint}
 * @param salt             empty for none; a tenant's or corpus's salt separates its blocks from all others
 * @param attentionKey     {@code full}, or the policy with its parameters and prefill chunk
 * @param blockSize        tokens per KV block
 * @param chunkAlignment   shared prefixes are multiples of this many tokens (1 for full attention)
 */
public record CacheKey(String modelFingerprint, String salt, String attentionKey, int blockSize, int chunkAlignment) {

    public CacheKey {
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        salt = salt == null ? "" : salt;
        Objects.requireNonNull(attentionKey, "attentionKey");
        if (blockSize <= 0 || chunkAlignment <= 0) {
            throw new IllegalArgumentException("block size and chunk alignment must be positive");
        }
    }

    /** Full attention: every full block is shareable. */
    public static CacheKey full(String modelFingerprint, String salt, int blockSize) {
        return new CacheKey(modelFingerprint, salt, "full", blockSize, 1);
    }

    /**
     * The key of prefixes prefilled on {@code backend} with {@code attention}, by a generator that feeds
     * {@code prefillChunk} tokens per forward call (the effective chunk is the smallest of that, the
     * backend's and the policy's limits).
     */
    public static CacheKey of(String modelFingerprint, String salt, Backend backend, KvAccess kv,
                              AttentionSpec attention, int prefillChunk) {
        int blockSize = kv.geometry().blockSize();
        // KV kept at another precision (the CUDA pool's bf16) is a different KV: never mixed with fp32 blocks
        String precision = "fp32".equals(kv.precision()) ? "" : ";kv=" + kv.precision();
        if (attention.kind() == AttentionSpec.Kind.FULL) {
            return new CacheKey(modelFingerprint, salt, "full" + precision, blockSize, 1);
        }
        int chunk;
        try (Sequence probe = backend.newSequence(attention)) {
            chunk = Math.min(prefillChunk, probe.maxChunk());
        }
        String key = attention.name() + ":" + attention.params() + ",pageSize=" + attention.pageSize() + ",chunk=" + chunk
                + precision;
        return new CacheKey(modelFingerprint, salt, key, blockSize, chunk);
    }

    public CacheKey withSalt(String newSalt) {
        return new CacheKey(modelFingerprint, newSalt, attentionKey, blockSize, chunkAlignment);
    }

    /** Full blocks of a prompt of {@code length} tokens whose K/V depend on nothing after them. */
    public int publishableBlocks(int length) {
        long aligned = (long) (length / chunkAlignment) * chunkAlignment;
        return (int) (aligned / blockSize);
    }

    /** The most of {@code cachedBlocks} leading blocks that may be shared: a multiple of the chunk. */
    public int shareableBlocks(int cachedBlocks) {
        for (int b = cachedBlocks; b > 0; b--) {
            if (((long) b * blockSize) % chunkAlignment == 0) {
                return b;
            }
        }
        return 0;
    }

    /** The hash chain of the first {@code blocks} full blocks of {@code tokens}. */
    public BlockHash[] chain(int[] tokens, int blocks) {
        if ((long) blocks * blockSize > tokens.length) {
            throw new IllegalArgumentException(blocks + " blocks of " + blockSize + " need more than " + tokens.length + " tokens");
        }
        BlockHash[] out = new BlockHash[blocks];
        byte[] parent = BlockHash.ROOT.bytes();
        MessageDigest md = Sha256.newDigest();
        for (int b = 0; b < blocks; b++) {
            md.reset();
            Sha256.putString(md, "tokenselect-kv-block-v1");
            md.update(parent);
            Sha256.putString(md, modelFingerprint);
            Sha256.putString(md, salt);
            Sha256.putString(md, attentionKey);
            Sha256.putInt(md, blockSize);
            for (int i = b * blockSize, end = i + blockSize; i < end; i++) {
                Sha256.putInt(md, tokens[i]);
            }
            parent = md.digest();
            out[b] = BlockHash.of(parent);
        }
        return out;
    }

    /** The identity of a persisted segment holding exactly {@code tokens} (all of them, partial tail included). */
    public String segmentId(int[] tokens) {
        MessageDigest md = Sha256.newDigest();
        Sha256.putString(md, "tokenselect-kv-segment-v1");
        Sha256.putString(md, modelFingerprint);
        Sha256.putString(md, salt);
        Sha256.putString(md, attentionKey);
        Sha256.putInt(md, blockSize);
        Sha256.putInt(md, chunkAlignment);
        Sha256.putInt(md, tokens.length);
        for (int t : tokens) {
            Sha256.putInt(md, t);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
