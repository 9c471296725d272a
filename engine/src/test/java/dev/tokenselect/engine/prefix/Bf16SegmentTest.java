package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.backend.cuda.Bf16;
import dev.tokenselect.engine.kv.BlockAllocator;
import dev.tokenselect.engine.kv.BlockTable;
import dev.tokenselect.engine.kv.KvGeometry;

/**
 * Segments of a pool that keeps its KV in bf16 (the CUDA pool's precision) hold bf16 blocks: half the
 * bytes, dtype 2 in the header, restored bit for bit, and never taken by a pool of another precision.
 * The bf16 pool here is the CPU pool seen through bf16, so the test runs where no GPU is.
 */
class Bf16SegmentTest {

    @TempDir
    static Path models;
    static Path model;

    @TempDir
    Path cache;

    @BeforeAll
    static void setUp() throws Exception {
        model = CorpusFixture.writeModel(models.resolve("qwen3"), 7);
    }

    /** The CPU pool as a bf16 pool: blocks leave it rounded to bf16 and come back widened. */
    record Bf16View(KvAccess pool) implements KvAccess {

        @Override
        public KvGeometry geometry() {
            return pool.geometry();
        }

        @Override
        public BlockAllocator allocator() {
            return pool.allocator();
        }

        @Override
        public BlockTable table(Sequence sequence) {
            return pool.table(sequence);
        }

        @Override
        public void copyOut(int blockId, MemorySegment dst) {
            long floats = pool.blockBytes() / 4;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment f = arena.allocate(pool.blockBytes(), 64);
                pool.copyOut(blockId, f);
                for (long i = 0; i < floats; i++) {
                    dst.setAtIndex(ValueLayout.JAVA_SHORT, i, Bf16.fromFloat(f.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
                }
            }
        }

        @Override
        public void copyIn(int blockId, MemorySegment src) {
            long floats = pool.blockBytes() / 4;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment f = arena.allocate(pool.blockBytes(), 64);
                for (long i = 0; i < floats; i++) {
                    f.setAtIndex(ValueLayout.JAVA_FLOAT, i, Bf16.toFloat(src.getAtIndex(ValueLayout.JAVA_SHORT, i)));
                }
                pool.copyIn(blockId, f);
            }
        }

        @Override
        public String precision() {
            return "bf16";
        }
    }

    @Test
    void bf16BlocksPersistAtHalfTheBytesAndRestoreBitForBit() throws Exception {
        try (Engine e = CorpusFixture.open(model)) {
            KvAccess fp32 = KvAccess.of(e.backend());
            KvAccess bf16 = new Bf16View(fp32);
            assertEquals(fp32.blockBytes() / 2, bf16.blockBytes());
            PersistentPrefixes pp = new PersistentPrefixes(cache, new FilePrefixStore(cache),
                    PersistentPrefixes.Options.defaults().withOrphanGrace(Duration.ZERO));
            CorpusPrompts p = new CorpusPrompts(e.tokenizer());
            int[] corpus = p.corpusTokens(CorpusFixture.documents());
            int[] question = p.questionTokens("When did the replacement parts arrive?");
            CacheKey key = CacheKey.full(ModelFingerprint.of(e.model()), "", 16);
            float[] expected;
            try (Sequence s = e.backend().newSequence()) {
                e.backend().forward(s, corpus);
                pp.persist(bf16, s, corpus, key, false);
                // what a bf16 pool holds: every block rounded to bf16 in place
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(bf16.blockBytes(), 64);
                    for (int id : fp32.table(s).blockIds()) {
                        bf16.copyOut(id, buf);
                        bf16.copyIn(id, buf);
                    }
                }
                expected = e.backend().forward(s, question);
            }

            Path segment;
            try (var files = Files.list(cache)) {
                segment = files.filter(f -> f.toString().endsWith(SegmentFile.EXTENSION)).findFirst().orElseThrow();
            }
            SegmentFile.Header h;
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
                h = SegmentFile.readHeader(ch);
            }
            assertEquals(SegmentFile.DTYPE_BF16, h.dtype());
            assertEquals(bf16.blockBytes(), h.blockBytes());
            long blocks = (corpus.length + 15) / 16;
            assertTrue(Files.size(segment) < blocks * (fp32.blockBytes() / 2 + 4) + (1 << 20),
                    "the file holds bf16 blocks: " + Files.size(segment) + " bytes for " + blocks + " blocks");

            // the bf16 pool restores it: the same logits as the rounded prefill, bit for bit
            try (PrefixCache restored = new PrefixCache(bf16); Sequence s = e.backend().newSequence()) {
                assertTrue(pp.restore(restored, s, corpus, key));
                assertEquals(corpus.length, s.length());
                assertArrayEquals(expected, e.backend().forward(s, question));
            }
            // a pool of another precision never takes it: the header's dtype is not its own
            long discarded = pp.discarded();
            try (PrefixCache other = new PrefixCache(fp32); Sequence s = e.backend().newSequence()) {
                assertFalse(pp.restore(other, s, corpus, key));
                assertEquals(0, s.length());
            }
            assertEquals(discarded + 1, pp.discarded());
        }
    }
}
