package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.prefix.CorpusFixture.LogCapture;
import dev.tokenselect.engine.prefix.PrefixStore.SegmentRecord;
import dev.tokenselect.engine.select.AttentionSpec;

/** Corpora across restarts: restore instead of prefill, identical outputs, and every way a file can go bad. */
class CorpusPersistenceTest {

    @TempDir
    static Path models;
    static Path model;
    static Path otherModel;
    static int[] referenceIds;
    static String referenceText;
    static final String QUESTION = "When did the replacement parts arrive?";
    static final SamplingParams GREEDY = SamplingParams.builder().maxTokens(4).ignoreEos(true).build();

    @TempDir
    Path cache;

    @BeforeAll
    static void setUp() throws Exception {
        model = CorpusFixture.writeModel(models.resolve("qwen3"), 7);
        otherModel = CorpusFixture.writeModel(models.resolve("qwen3-other"), 8);
        // The reference: no cache at all, the whole prompt in one sequence.
        try (Engine e = CorpusFixture.open(model)) {
            CorpusPrompts p = new CorpusPrompts(e.tokenizer());
            int[] prompt = CorpusPrompts.concat(p.corpusTokens(CorpusFixture.documents()), p.questionTokens(QUESTION));
            GenerationResult r = e.generator(512).generate(AttentionSpec.full(), prompt, GREEDY, TokenListener.NONE);
            referenceIds = r.ids();
            referenceText = r.text();
        }
    }

    PersistentPrefixes persistence() {
        return new PersistentPrefixes(cache, new FilePrefixStore(cache),
                PersistentPrefixes.Options.defaults().withOrphanGrace(Duration.ZERO));
    }

    record Run(CorpusManager.CorpusInfo info, CorpusManager.Answer answer, long prefilled, long restored) {
    }

    Run registerAndAsk(Path modelDir) {
        try (Engine e = CorpusFixture.open(modelDir);
             CorpusManager m = new CorpusManager(e, persistence(), CorpusManager.Options.defaults())) {
            CorpusManager.CorpusInfo info = m.register("plant", CorpusFixture.documents());
            CorpusManager.Answer a = m.ask("plant", QUESTION, GREEDY, TokenListener.NONE);
            return new Run(info, a, m.prefilledTokens(), m.restoredTokens());
        }
    }

    @Test
    void restartRestoresTheCorpusWithoutPrefillAndAnswersIdentically() throws Exception {
        Run first = registerAndAsk(model);
        int n = first.info().tokens();
        assertTrue(n > 100, "corpus of " + n + " tokens");
        assertEquals(n, first.info().prefilledTokens());
        assertEquals(n, first.prefilled());
        assertArrayEquals(referenceIds, first.answer().result().ids());
        assertEquals(referenceText, first.answer().result().text());
        assertEquals(n, first.answer().cachedPrefixTokens());
        assertEquals(1, CorpusFixture.segmentFiles(cache));

        Run second = registerAndAsk(model); // a restart: new engine, new pool, same directory
        assertEquals(0, second.prefilled(), "no prefill after a restart");
        assertEquals(0, second.info().prefilledTokens());
        assertEquals(n, second.info().restoredTokens());
        assertArrayEquals(referenceIds, second.answer().result().ids());
        assertEquals(referenceText, second.answer().result().text());

        // Asking without registering: the corpus comes from the catalog, restored.
        try (Engine e = CorpusFixture.open(model);
             CorpusManager m = new CorpusManager(e, persistence(), CorpusManager.Options.defaults())) {
            assertEquals(List.of("plant"), m.names());
            CorpusManager.Answer a = m.ask("plant", QUESTION, GREEDY, TokenListener.NONE);
            assertArrayEquals(referenceIds, a.result().ids());
            assertEquals(0, m.prefilledTokens());
            assertEquals(n, m.restoredTokens());
            assertEquals(QUESTION.length() > 0, a.prefilledTokens() > 0);
        }
    }

    /** A corpus whose last document changed: after a restart its unchanged leading blocks come from disk. */
    @Test
    void anEditedCorpusRestoresItsUnchangedBlocksAndPrefillsTheRest() throws Exception {
        Run first = registerAndAsk(model);
        List<CorpusPrompts.Document> edited = new java.util.ArrayList<>(CorpusFixture.documents());
        edited.set(2, new CorpusPrompts.Document("gamma", "Gamma protocol, revised: the east hatch stays shut."));
        int[] editedReference;
        int sharedTokens;
        try (Engine e = CorpusFixture.open(model)) {
            CorpusPrompts p = new CorpusPrompts(e.tokenizer());
            int[] before = p.corpusTokens(CorpusFixture.documents());
            int[] after = p.corpusTokens(edited);
            int common = 0;
            while (common < Math.min(before.length, after.length) && before[common] == after[common]) {
                common++;
            }
            sharedTokens = common / 16 * 16; // whole blocks of 16 tokens
            assertTrue(sharedTokens >= 32, "the documents before the edit fill whole blocks: " + common);
            int[] prompt = CorpusPrompts.concat(after, p.questionTokens(QUESTION));
            editedReference = e.generator(512).generate(AttentionSpec.full(), prompt, GREEDY, TokenListener.NONE).ids();
        }
        try (Engine e = CorpusFixture.open(model);
             CorpusManager m = new CorpusManager(e, persistence(), CorpusManager.Options.defaults())) {
            CorpusManager.CorpusInfo info = m.register("plant", edited);
            assertEquals(sharedTokens, m.restoredTokens(), "the unchanged blocks were read from disk");
            assertEquals(info.tokens() - sharedTokens, info.prefilledTokens(), "only the edited part was prefilled");
            CorpusManager.Answer a = m.ask("plant", QUESTION, GREEDY, TokenListener.NONE);
            assertArrayEquals(editedReference, a.result().ids(), "the same answer as a prefill from scratch");
        }
        assertTrue(first.info().tokens() > sharedTokens);
    }

    @Test
    void logitsWithARestoredPrefixEqualAFreshPrefillBitForBit() {
        try (Engine e = CorpusFixture.open(model)) {
            PersistentPrefixes pp = persistence();
            KvAccess kv = KvAccess.of(e.backend());
            PrefixCache cache1 = new PrefixCache(kv);
            CorpusPrompts p = new CorpusPrompts(e.tokenizer());
            int[] corpus = p.corpusTokens(CorpusFixture.documents());
            int[] question = p.questionTokens(QUESTION);
            CacheKey key = CacheKey.full(ModelFingerprint.of(e.model()), "salt-a", 16);
            try (Sequence s = e.backend().newSequence()) {
                e.backend().forward(s, corpus);
                pp.persist(kv, s, corpus, key, false);
            }
            float[] fresh;
            try (Sequence s = e.backend().newSequence()) {
                fresh = e.backend().forward(s, CorpusPrompts.concat(corpus, question));
            }
            PrefixCache cache2 = new PrefixCache(kv); // as after a restart: nothing cached in memory
            try (Sequence s = e.backend().newSequence()) {
                assertTrue(pp.restore(cache2, s, corpus, key));
                assertEquals(corpus.length, s.length());
                assertArrayEquals(fresh, e.backend().forward(s, question));
            }
            assertEquals(BlockCount.of(corpus.length), pp.restoredBlocks());
            // another salt never finds it
            try (Sequence s = e.backend().newSequence()) {
                assertFalse(pp.restore(cache2, s, corpus, key.withSalt("salt-b")));
            }
            cache1.close();
            cache2.close();
        }
    }

    private static final class BlockCount {
        static long of(int tokens) {
            return (tokens + 15) / 16;
        }
    }

    enum Fault { TRUNCATED, FLIPPED_BYTE, WRONG_MODEL, WRONG_VERSION, FILE_DELETED, FILE_WITHOUT_ROW, ROW_WITHOUT_FILE }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void aBadSegmentIsDiscardedLoggedAndRecomputed(Fault fault) throws Exception {
        Run first = registerAndAsk(model);
        int n = first.info().tokens();
        FilePrefixStore store = new FilePrefixStore(cache);
        SegmentRecord seg = store.segments().getFirst();
        Path file = cache.resolve(seg.fileName());
        switch (fault) {
            case TRUNCATED -> {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.truncate(ch.size() - 100);
                }
            }
            case FLIPPED_BYTE -> {
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    long at = f.length() - 4 - 1000; // inside the last block's bytes
                    f.seek(at);
                    int b = f.read();
                    f.seek(at);
                    f.write(b ^ 0x10);
                }
            }
            case WRONG_MODEL -> rewriteHeader(file, h -> new SegmentFile.Header(h.version(), new byte[32], h.segmentId(),
                    h.geometry(), h.dtype(), h.order(), h.chunkAlignment(), h.attentionKey(), h.tokens(), h.chain(),
                    h.blockCount(), h.blockBytes(), h.headerBytes()));
            case WRONG_VERSION -> {
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.seek(SegmentFile.VERSION_OFFSET);
                    f.writeInt(SegmentFile.VERSION + 1);
                }
            }
            case FILE_DELETED, ROW_WITHOUT_FILE -> Files.delete(file);
            case FILE_WITHOUT_ROW -> store.deleteSegment(seg.segmentId()); // crash after the rename, before the insert
        }
        try (LogCapture log = new LogCapture()) {
            Run after = registerAndAsk(model);
            assertEquals(n, after.prefilled(), fault + ": recomputed");
            assertEquals(0, after.restored());
            assertArrayEquals(referenceIds, after.answer().result().ids(), fault + ": a correct answer");
            assertEquals(referenceText, after.answer().result().text());
            String expected = switch (fault) {
                case TRUNCATED -> "truncated";
                case FLIPPED_BYTE -> "checksum mismatch in block";
                case WRONG_MODEL -> "model fingerprint";
                case WRONG_VERSION -> "format version " + (SegmentFile.VERSION + 1);
                case FILE_DELETED, ROW_WITHOUT_FILE -> "is gone";
                case FILE_WITHOUT_ROW -> "no catalog row names it";
            };
            assertTrue(log.text().contains(expected), fault + ": log says why:\n" + log.text());
        }
        // The recomputed segment is sound again: the next start restores it.
        Run again = registerAndAsk(model);
        assertEquals(0, again.prefilled());
        assertArrayEquals(referenceIds, again.answer().result().ids());
        assertEquals(1, CorpusFixture.segmentFiles(cache));
        assertEquals(1, new FilePrefixStore(cache).segments().size());
    }

    interface HeaderEdit {
        SegmentFile.Header apply(SegmentFile.Header h);
    }

    static void rewriteHeader(Path file, HeaderEdit edit) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            SegmentFile.Header h = SegmentFile.readHeader(ch);
            byte[] bytes = SegmentFile.encodeHeader(edit.apply(h));
            assertEquals(h.headerBytes(), bytes.length);
            ch.write(java.nio.ByteBuffer.wrap(bytes), 0);
        }
    }

    @Test
    void anotherModelNeverUsesTheSegment() throws Exception {
        Run first = registerAndAsk(model);
        Run other = registerAndAsk(otherModel);
        assertEquals(other.info().tokens(), other.prefilled(), "a different model prefills");
        assertNotEquals(first.info().segmentId(), other.info().segmentId());
        assertEquals(2, CorpusFixture.segmentFiles(cache));
    }

    @Test
    void sizeLimitEvictsTheOldestUnpinnedSegments() throws Exception {
        try (Engine e = CorpusFixture.open(model)) {
            KvAccess kv = KvAccess.of(e.backend());
            CorpusPrompts p = new CorpusPrompts(e.tokenizer());
            int[] corpus = p.corpusTokens(CorpusFixture.documents());
            CacheKey key = CacheKey.full(ModelFingerprint.of(e.model()), "", 16);
            FilePrefixStore store = new FilePrefixStore(cache);
            long one;
            try (Sequence s = e.backend().newSequence()) {
                e.backend().forward(s, corpus);
                PersistentPrefixes unlimited = new PersistentPrefixes(cache, store, PersistentPrefixes.Options.defaults());
                SegmentRecord pinned = unlimited.persist(kv, s, corpus, key.withSalt("pinned"), true);
                one = pinned.bytes();
                PersistentPrefixes limited = new PersistentPrefixes(cache, store,
                        PersistentPrefixes.Options.defaults().withMaxBytes(2 * one + one / 2));
                SegmentRecord a = limited.persist(kv, s, corpus, key.withSalt("a"), false);
                Thread.sleep(5);
                SegmentRecord b = limited.persist(kv, s, corpus, key.withSalt("b"), false);
                assertEquals(2, store.segments().size(), "over the limit: the oldest unpinned (a) went");
                assertTrue(store.segment(pinned.segmentId()).isPresent());
                assertTrue(store.segment(b.segmentId()).isPresent());
                assertFalse(store.segment(a.segmentId()).isPresent());
                assertFalse(Files.exists(cache.resolve(a.fileName())));
            }
        }
    }

    @Test
    void concurrentRegistrationsPrefillOnce() throws Exception {
        try (Engine e = CorpusFixture.open(model);
             CorpusManager m = new CorpusManager(e, persistence(), CorpusManager.Options.defaults())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                Callable<CorpusManager.CorpusInfo> reg = () -> m.register("plant", CorpusFixture.documents());
                List<Future<CorpusManager.CorpusInfo>> fs = pool.invokeAll(List.of(reg, reg, reg, reg));
                int n = fs.getFirst().get().tokens();
                int total = 0;
                for (Future<CorpusManager.CorpusInfo> f : fs) {
                    total += f.get().prefilledTokens();
                }
                assertEquals(n, total);
                assertEquals(n, m.prefilledTokens(), "prefilled once");
            } finally {
                pool.shutdown();
            }
            assertTrue(m.unregister("plant"));
            assertEquals(0, CorpusFixture.segmentFiles(cache), "removing the corpus deletes its segment");
            assertEquals(List.of(), m.names());
        }
    }

    @Test
    void documentsCannotInjectControlTokens() {
        try (Engine e = CorpusFixture.open(model)) {
            CorpusPrompts p = new CorpusPrompts(e.tokenizer());
            int[] ids = p.corpusTokens(CorpusFixture.documents());
            int imStart = e.tokenizer().tokenToId("<|im_start|>").getAsInt();
            assertEquals(1, Arrays.stream(ids).filter(id -> id == imStart).count(), "only the template's own <|im_start|>");
        }
    }
}
