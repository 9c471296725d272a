package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.backend.cpu.CpuBackend;
import dev.tokenselect.engine.generate.Generator;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.model.TinyModels;

/** The host-memory tier: blocks evicted from the pool come back bit for bit instead of being recomputed. */
class HostBlockTierTest {

    @TempDir
    static Path dir;
    static Model model;
    static String fingerprint;

    @BeforeAll
    static void load() throws Exception {
        model = Model.load(TinyModels.write(dir.resolve("m"), TinyModels.qwen3Config(), DType.BF16, 3));
        fingerprint = ModelFingerprint.of(model);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static float[] prefill(CpuBackend backend, Sequence seq, int[] tokens) {
        return new Generator(backend, null, Set.of(), 64).prefill(seq, tokens);
    }

    @Test
    void aPrefixEvictedFromThePoolIsBroughtBackFromHostMemoryWithIdenticalLogits() {
        // a pool of 12 blocks of 16 tokens: a 96-token prompt (6 blocks) and then a 160-token one cannot both stay
        try (CpuBackend backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(16)
                .withKvCapacityTokens(16 * 12).withThreads(2))) {
            KvAccess kv = KvAccess.of(backend);
            PrefixCache cache = new PrefixCache(kv, 8 * kv.geometry().blockBytes());
            CacheKey key = CacheKey.full(fingerprint, "", 16);
            int[] prompt = PrefixCacheTest.tokens(7, 100);
            float[] first;
            try (Sequence s = backend.newSequence()) {
                first = prefill(backend, s, prompt);
                cache.publish(s, prompt, key);
            }
            float[] fresh;
            try (Sequence s = backend.newSequence()) { // needs all 12 blocks: the cached 6 must leave the pool
                fresh = prefill(backend, s, PrefixCacheTest.tokens(8, 185));
            }
            assertEquals(0, cache.size(), "the pool evicted the cached prefix");
            assertEquals(6, cache.hostTier().size(), "the evicted blocks were kept in host memory");

            try (Sequence s = backend.newSequence()) {
                int cached = cache.attach(s, prompt, key);
                assertEquals(96, cached, "all six blocks came back from host memory");
                assertEquals(6, cache.size());
                assertEquals(0, cache.hostTier().size(), "a block lives in one tier at a time");
                float[] again = new Generator(backend, null, Set.of(), 64).prefill(s,
                        java.util.Arrays.copyOfRange(prompt, cached, prompt.length));
                assertArrayEquals(first, again, "logits after a round trip through host memory are bit-identical");
            }
            long[] counters = cache.hostTier().counters();
            assertEquals(6, counters[0]);
            assertEquals(6, counters[1]);
            assertTrue(fresh.length > 0);
            cache.close();
        }
    }

    @Test
    void withoutAHostTierEvictedBlocksAreRecomputed() {
        try (CpuBackend backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(16)
                .withKvCapacityTokens(16 * 12).withThreads(2))) {
            KvAccess kv = KvAccess.of(backend);
            PrefixCache cache = new PrefixCache(kv);
            CacheKey key = CacheKey.full(fingerprint, "", 16);
            int[] prompt = PrefixCacheTest.tokens(7, 100);
            try (Sequence s = backend.newSequence()) {
                prefill(backend, s, prompt);
                cache.publish(s, prompt, key);
            }
            try (Sequence s = backend.newSequence()) {
                prefill(backend, s, PrefixCacheTest.tokens(8, 185));
            }
            try (Sequence s = backend.newSequence()) {
                assertEquals(0, cache.attach(s, prompt, key));
            }
            assertEquals(null, cache.hostTier());
            cache.close();
        }
    }

    @Test
    void theTierDropsItsLeastRecentlyUsedBlockWhenFull() {
        long blockBytes = 64;
        try (HostBlockTier tier = new HostBlockTier(3 * blockBytes, blockBytes); Arena arena = Arena.ofConfined()) {
            BlockHash[] h = CacheKey.full("m", "", 1).chain(new int[] {10, 11, 12, 13}, 4);
            for (int i = 0; i < 4; i++) {
                int value = i;
                tier.store(h[i], slot -> slot.fill((byte) value));
                if (i == 1) {
                    assertTrue(tier.contains(h[0])); // touch h[0]: h[1] becomes the least recently used
                    tier.take(h[0], slot -> { });
                    tier.store(h[0], slot -> slot.fill((byte) 0));
                }
            }
            assertEquals(3, tier.size());
            assertFalse(tier.contains(h[1]), "the least recently stored block left first");
            MemorySegment out = arena.allocate(blockBytes);
            assertTrue(tier.take(h[3], slot -> MemorySegment.copy(slot, 0, out, 0, blockBytes)));
            assertEquals(3, out.get(ValueLayout.JAVA_BYTE, 10));
            assertFalse(tier.take(h[3], slot -> { }), "taken blocks leave the tier");
            assertEquals(1, tier.counters()[2], "one block dropped");
        }
    }

    @Test
    void aTierSmallerThanOneBlockIsRefusedWithAClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HostBlockTier(100, 4096));
        assertTrue(e.getMessage().contains("holds no block"), e.getMessage());
    }
}
