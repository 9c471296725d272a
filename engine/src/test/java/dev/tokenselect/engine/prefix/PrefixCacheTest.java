package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.TinyModels;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/** Prefix sharing through the block-hash chain: shared block ids, refcounts, bit-identical logits. */
class PrefixCacheTest {

    @TempDir
    static Path dir;
    static Model model;
    static CpuBackend backend;
    static String fingerprint;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(TinyModels.write(dir.resolve("m"), TinyModels.qwen3Config(), DType.BF16, 1));
        backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(16).withKvCapacityTokens(16 * 64)
                .withThreads(2));
        fingerprint = ModelFingerprint.of(model);
    }

    @AfterAll
    static void close() {
        backend.close();
        model.close();
    }

    static int[] tokens(long seed, int n) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + r.nextInt(500);
        }
        return t;
    }

    static int[] concat(int[] a, int aLen, int[] b) {
        int[] out = Arrays.copyOf(a, aLen + b.length);
        System.arraycopy(b, 0, out, aLen, b.length);
        return out;
    }

    float[] fresh(int[] prompt, AttentionSpec spec, int chunk) {
        try (Sequence s = backend.newSequence(spec)) {
            return new Generator(backend, null, Set.of(), chunk).prefill(s, prompt);
        }
    }

    @Test
    void twoRequestsWithACommonPrefixShareItsBlocksAndLogitsAreBitIdentical() {
        KvAccess kv = KvAccess.of(backend);
        BlockAllocator alloc = kv.allocator();
        int usedBefore = alloc.usedBlocks();
        PrefixCache cache = new PrefixCache(kv);
        CacheKey key = CacheKey.full(fingerprint, "", 16);
        int[] a = tokens(1, 70);
        int[] b = concat(a, 50, tokens(2, 30)); // 50 common tokens: 3 full blocks of 16
        float[] logitsA;
        int[] idsA;
        try (Sequence sa = backend.newSequence()) {
            assertEquals(0, cache.attach(sa, a, key));
            logitsA = backend.forward(sa, a);
            BlockHash[] chain = cache.publish(sa, a, key);
            assertEquals(4, chain.length);
            assertEquals(4, cache.size());
            idsA = kv.table(sa).blockIds();
            for (int i = 0; i < 4; i++) {
                assertEquals(2, alloc.refCount(idsA[i]), "sequence + cache");
            }
            assertEquals(1, alloc.refCount(idsA[4]), "the partial block is private");

            try (Sequence sb = backend.newSequence()) {
                int cached = cache.attach(sb, b, key);
                assertEquals(48, cached);
                BlockTable tb = kv.table(sb);
                for (int i = 0; i < 3; i++) {
                    assertEquals(idsA[i], tb.blockId(i), "shared block " + i);
                    assertEquals(3, alloc.refCount(idsA[i]));
                }
                int before = alloc.usedBlocks();
                float[] viaCache = backend.forward(sb, Arrays.copyOfRange(b, cached, b.length));
                assertEquals(before + 2, alloc.usedBlocks(), "only the suffix's blocks are new: 80 tokens = 5 blocks, 3 shared");
                assertArrayEquals(fresh(b, AttentionSpec.full(), 512), viaCache, "bit for bit equal to an unshared run");
                assertEquals(b.length, sb.length());
            }
        }
        // the cache keeps the prefix alive after the sequence that made it is gone
        for (int i = 0; i < 4; i++) {
            assertEquals(1, alloc.refCount(idsA[i]));
        }
        // the same prompt again: everything but the last token... the partial block is recomputed
        try (Sequence again = backend.newSequence()) {
            int cached = cache.attach(again, a, key);
            assertEquals(64, cached);
            assertArrayEquals(logitsA, backend.forward(again, Arrays.copyOfRange(a, cached, a.length)));
        }
        // a different salt or model never shares
        try (Sequence other = backend.newSequence()) {
            assertEquals(0, cache.attach(other, a, key.withSalt("tenant-2")));
            assertEquals(0, cache.attach(other, a, CacheKey.full("0".repeat(64), "", 16)));
        }
        assertNotEquals(key.chain(a, 1)[0], key.withSalt("x").chain(a, 1)[0]);
        cache.close();
        assertEquals(usedBefore, alloc.usedBlocks(), "every block returned");
    }

    @Test
    void lruEvictionSparesPinnedAndInUseBlocks() {
        KvAccess kv = KvAccess.of(backend);
        BlockAllocator alloc = kv.allocator();
        int usedBefore = alloc.usedBlocks();
        PrefixCache cache = new PrefixCache(kv);
        CacheKey key = CacheKey.full(fingerprint, "evict", 16);
        int[] p1 = tokens(11, 33);
        int[] p2 = tokens(12, 33);
        BlockHash[] c1;
        BlockHash[] c2;
        try (Sequence s = backend.newSequence()) {
            backend.forward(s, p1);
            c1 = cache.publish(s, p1, key);
        }
        try (Sequence s = backend.newSequence()) {
            backend.forward(s, p2);
            c2 = cache.publish(s, p2, key);
        }
        cache.pin(c1, 2);
        int free = alloc.freeBlocks();
        assertTrue(cache.ensureFree(free + 2), "p2's blocks can go");
        assertFalse(cache.contains(c2[0]));
        assertTrue(cache.contains(c1[0]) && cache.contains(c1[1]));
        assertFalse(cache.ensureFree(alloc.freeBlocks() + 1), "pinned blocks stay");
        cache.unpin(c1, 2);
        try (Sequence s = backend.newSequence()) {
            assertEquals(32, cache.attach(s, concat(p1, 33, new int[] {5}), key));
            assertFalse(cache.ensureFree(alloc.freeBlocks() + 1), "blocks in use by a sequence stay");
        }
        assertTrue(cache.ensureFree(alloc.freeBlocks() + 2));
        assertEquals(0, cache.size());
        assertEquals(usedBefore, alloc.usedBlocks());
        cache.close();
    }

    @Test
    void tokenSelectSharesOnlyChunkAlignedPrefixes() {
        KvAccess kv = KvAccess.of(backend);
        PrefixCache cache = new PrefixCache(kv);
        int chunk = 24;
        AttentionSpec spec = AttentionSpec.tokenSelect(new SelectionParams(8, 4, 24, 2.0, chunk));
        CacheKey key = CacheKey.of(fingerprint, "", backend, kv, spec, chunk);
        assertEquals(24, key.chunkAlignment());
        assertNotEquals(CacheKey.full(fingerprint, "", 16).attentionKey(), key.attentionKey());
        int[] a = tokens(21, 100);
        int[] b = concat(a, 70, tokens(22, 40));
        Generator gen = new Generator(backend, null, Set.of(), chunk);
        try (Sequence sa = backend.newSequence(spec)) {
            gen.prefill(sa, a);
            BlockHash[] chain = cache.publish(sa, a, key);
            assertEquals(6, chain.length, "96 tokens in complete chunks of 24: 6 blocks; the last chunk is private");
        }
        float[] reference = fresh(b, spec, chunk);
        try (Sequence sb = backend.newSequence(spec)) {
            int cached = cache.attach(sb, b, key);
            assertEquals(48, cached, "4 blocks (64 tokens) match, but only 48 end on a chunk boundary");
            float[] viaCache = gen.prefill(sb, Arrays.copyOfRange(b, cached, b.length));
            assertArrayEquals(reference, viaCache, "bit for bit equal to an unshared TokenSelect prefill");
        }
        // Why: sharing 64 tokens (not a chunk boundary) changes the chunking of the rest, and the result.
        try (Sequence source = backend.newSequence(spec)) {
            gen.prefill(source, a);
            try (Sequence misaligned = backend.fork(source, 64, spec)) {
                float[] wrong = gen.prefill(misaligned, Arrays.copyOfRange(b, 64, b.length));
                assertFalse(Arrays.equals(reference, wrong), "a misaligned share would not equal a fresh prefill");
            }
        }
        cache.close();
    }

    /** A full pool evicts unused cached prefixes on its own before refusing a sequence; pinned ones stay. */
    @Test
    void aFullPoolReclaimsUnpinnedCachedPrefixes() {
        KvAccess kv = KvAccess.of(backend);
        BlockAllocator allocator = kv.allocator();
        int freeAtStart = allocator.freeBlocks();
        try (PrefixCache cache = new PrefixCache(kv)) {
            CacheKey key = CacheKey.full(fingerprint, "reclaim", 16);
            int[] a = tokens(41, 16 * 40);
            BlockHash[] chain;
            try (Sequence s = backend.newSequence()) {
                backend.forward(s, a);
                chain = cache.publish(s, a, key);
            }
            assertEquals(freeAtStart - 40, allocator.freeBlocks(), "the cache holds 40 blocks after the sequence closed");
            // a sequence needing 50 of the 64 blocks: only 24 are free, the cache gives back what it must
            try (Sequence big = backend.newSequence()) {
                backend.forward(big, tokens(42, 16 * 50));
                assertEquals(50 * 16, big.length());
            }
            assertTrue(cache.evictions() >= 26, "evicted " + cache.evictions());
            // pinned blocks are never reclaimed: the same request now fails, cleanly
            try (Sequence s = backend.newSequence()) {
                backend.forward(s, a);
                chain = cache.publish(s, a, key);
            }
            cache.pin(chain, chain.length);
            try (Sequence big = backend.newSequence()) {
                var e = org.junit.jupiter.api.Assertions.assertThrows(dev.tokenselect.engine.backend.KvCapacityException.class,
                        () -> backend.forward(big, tokens(43, 16 * 50)));
                assertTrue(e.getMessage().contains("KV cache full"));
                assertEquals(0, big.length());
            }
            cache.unpin(chain, chain.length);
        }
        assertEquals(freeAtStart, allocator.freeBlocks(), "closing the cache returns its blocks");
    }

    /** Held blocks survive a reclaim that would otherwise take them (what a restore relies on). */
    @Test
    void heldBlocksAreNotEvicted() {
        KvAccess kv = KvAccess.of(backend);
        BlockAllocator allocator = kv.allocator();
        try (PrefixCache cache = new PrefixCache(kv)) {
            CacheKey key = CacheKey.full(fingerprint, "hold", 16);
            int[] a = tokens(51, 16 * 8);
            BlockHash[] chain;
            try (Sequence s = backend.newSequence()) {
                backend.forward(s, a);
                chain = cache.publish(s, a, key);
            }
            int[] held = cache.hold(chain, chain.length);
            assertTrue(Arrays.stream(held).allMatch(id -> id >= 0));
            cache.ensureFree(allocator.freeBlocks() + chain.length);
            assertEquals(chain.length, cache.match(chain), "nothing held was evicted");
            for (int id : held) {
                allocator.release(id);
            }
            assertTrue(cache.ensureFree(allocator.freeBlocks() + chain.length));
            assertEquals(0, cache.match(chain), "released, they can go");
        }
    }
}
