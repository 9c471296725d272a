package dev.tokenselect.db;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.Presets;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.prefix.CorpusManager;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import dev.tokenselect.engine.prefix.PersistentPrefixes;
import dev.tokenselect.engine.prefix.PrefixStore;
import dev.tokenselect.engine.prefix.PrefixStore.CorpusRecord;
import dev.tokenselect.engine.prefix.PrefixStore.DocumentRecord;
import dev.tokenselect.engine.prefix.PrefixStore.SegmentRecord;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The catalog on a real (embedded) PostgreSQL: round trips, and two engines sharing it and a directory. */
class JdbcPrefixStoreTest {

    static EmbeddedPostgres pg;
    static DataSource ds;
    @TempDir
    static Path models;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        ds = pg.getPostgresDatabase();
        JdbcPrefixStore.migrate(ds);
        model = models.resolve("qwen3");
        ObjectNode config = Presets.tinyQwen3(151936);
        ObjectNode gen = JsonMapper.builder().build().createObjectNode();
        gen.putArray("eos_token_id").add(151645);
        SyntheticModelWriter.write(model, config, gen, 7, DType.BF16, 1,
                Path.of("../engine/src/test/resources/tokenizers/qwen3").toAbsolutePath());
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    @Test
    void catalogRoundTrips() {
        JdbcPrefixStore store = new JdbcPrefixStore(ds);
        String fp = "a".repeat(64);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        store.upsertModel(new PrefixStore.ModelRecord(fp, "tiny", "Qwen3ForCausalLM", now));
        assertEquals("tiny", store.model(fp).orElseThrow().name());
        SegmentRecord s = new SegmentRecord("1".repeat(64), fp, "2".repeat(64), 3, 50, 1234, "1.kvseg", false, now, now);
        assertTrue(store.insertSegment(s));
        assertFalse(store.insertSegment(s), "a second insert of one id changes nothing");
        assertEquals(s, store.segment(s.segmentId()).orElseThrow());
        SegmentRecord longer = new SegmentRecord("3".repeat(64), fp, "4".repeat(64), 5, 90, 99, "3.kvseg", false, now, now);
        store.insertSegment(longer);
        assertEquals(longer.segmentId(), store.longestByHead(fp, List.of("2".repeat(64), "4".repeat(64))).orElseThrow().segmentId());
        assertEquals(s.segmentId(), store.longestByHead(fp, List.of("2".repeat(64))).orElseThrow().segmentId());
        store.setPinned(s.segmentId(), true);
        store.touchSegment(s.segmentId(), now.plusSeconds(5));
        SegmentRecord back = store.segment(s.segmentId()).orElseThrow();
        assertTrue(back.pinned());
        assertEquals(now.plusSeconds(5), back.lastUsed());
        CorpusRecord c = new CorpusRecord(fp, "handbook", "tenant-1", "full", s.segmentId(), new int[] {1, 2, 151643},
                List.of(new DocumentRecord(0, "a", "b".repeat(64), 10), new DocumentRecord(1, "c", "d".repeat(64), 20)), now);
        store.putCorpus(c);
        CorpusRecord cb = store.corpus(fp, "handbook").orElseThrow();
        assertArrayEquals(c.tokens(), cb.tokens());
        assertEquals(c.documents(), cb.documents());
        assertEquals("tenant-1", cb.salt());
        store.putCorpus(new CorpusRecord(fp, "handbook", "", "full", null, new int[] {5}, List.of(), now));
        assertEquals(0, store.corpus(fp, "handbook").orElseThrow().documents().size(), "replaced");
        assertEquals(1, store.corpora(fp).size());
        assertTrue(store.deleteCorpus(fp, "handbook"));
        assertFalse(store.deleteCorpus(fp, "handbook"));
        store.deleteSegment(s.segmentId());
        store.deleteSegment(longer.segmentId());
        assertTrue(store.segment(s.segmentId()).isEmpty());
    }

    static List<Document> documents() {
        return List.of(new Document("one", "The north feeder relay failed three times in March."),
                new Document("two", "Replacement parts arrived on the twelfth and were installed the same day."));
    }

    @Test
    void twoEnginesShareOneCatalogAndDirectoryAndPrefillOnce(@TempDir Path cache) throws Exception {
        EngineOptions opts = new EngineOptions("cpu", 0, 1, 16 * 128, 16);
        PersistentPrefixes.Options po = PersistentPrefixes.Options.defaults().withOrphanGrace(Duration.ZERO);
        SamplingParams greedy = SamplingParams.builder().maxTokens(3).ignoreEos(true).build();
        try (Engine e1 = Engine.open(model, opts); Engine e2 = Engine.open(model, opts);
             CorpusManager m1 = new CorpusManager(e1, new PersistentPrefixes(cache, new JdbcPrefixStore(ds), po),
                     CorpusManager.Options.defaults());
             CorpusManager m2 = new CorpusManager(e2, new PersistentPrefixes(cache, new JdbcPrefixStore(ds), po),
                     CorpusManager.Options.defaults())) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<CorpusManager.CorpusInfo>> fs;
            try {
                Callable<CorpusManager.CorpusInfo> r1 = () -> m1.register("ops", documents());
                Callable<CorpusManager.CorpusInfo> r2 = () -> m2.register("ops", documents());
                fs = pool.invokeAll(List.of(r1, r2, r1, r2));
            } finally {
                pool.shutdown();
            }
            int n = fs.getFirst().get().tokens();
            assertEquals(n, m1.prefilledTokens() + m2.prefilledTokens(), "one engine prefilled, the other restored");
            assertEquals(n, m1.restoredTokens() + m2.restoredTokens());
            var a1 = m1.ask("ops", "When did the parts arrive?", greedy, TokenListener.NONE);
            var a2 = m2.ask("ops", "When did the parts arrive?", greedy, TokenListener.NONE);
            assertArrayEquals(a1.result().ids(), a2.result().ids());
            JdbcPrefixStore store = new JdbcPrefixStore(ds);
            assertEquals(1, store.segments().stream().filter(s -> s.modelFingerprint().equals(m1.modelFingerprint())).count());
            assertTrue(store.segments().getFirst().pinned());
            try (var files = Files.list(cache)) {
                assertEquals(1, files.filter(p -> p.toString().endsWith(".kvseg")).count());
            }
            // a third engine, later: restores without any prefill
            try (Engine e3 = Engine.open(model, opts);
                 CorpusManager m3 = new CorpusManager(e3, new PersistentPrefixes(cache, new JdbcPrefixStore(ds), po),
                         CorpusManager.Options.defaults())) {
                var a3 = m3.ask("ops", "When did the parts arrive?", greedy, TokenListener.NONE);
                assertArrayEquals(a1.result().ids(), a3.result().ids());
                assertEquals(0, m3.prefilledTokens());
            }
            assertTrue(m1.unregister("ops"));
        }
    }
}
