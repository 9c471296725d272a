package dev.tokenselect.engine.prefix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.kv.KvGeometry;
import dev.tokenselect.engine.prefix.CorpusProgress.Stage;
import dev.tokenselect.engine.prefix.CorpusStatus.Residence;
import dev.tokenselect.engine.select.AttentionSpec;

/** A registration's progress events (prefill chunk by chunk, or a restore), and the corpora's listed residence. */
class CorpusProgressTest {

    @TempDir
    static Path models;
    static Path model;

    @TempDir
    Path cache;

    /** Small chunks, so the fixture corpus takes several forward passes. */
    static final CorpusManager.Options CHUNKED = new CorpusManager.Options(AttentionSpec.full(), 16);

    @BeforeAll
    static void writeModel() throws Exception {
        model = CorpusFixture.writeModel(models.resolve("qwen3"), 11);
    }

    PersistentPrefixes persistence() {
        return new PersistentPrefixes(cache, new FilePrefixStore(cache),
                PersistentPrefixes.Options.defaults().withOrphanGrace(Duration.ZERO));
    }

    @Test
    void aPrefillReportsEachChunkThenPersistingAndReady() {
        List<CorpusProgress> events = new ArrayList<>();
        try (Engine e = CorpusFixture.open(model); CorpusManager m = new CorpusManager(e, persistence(), CHUNKED)) {
            CorpusManager.CorpusInfo info = m.register("plant", CorpusFixture.documents(), "", events::add);
            int total = info.tokens();
            assertTrue(total > 48, "the corpus takes several 16-token chunks: " + total);

            assertEquals(new CorpusProgress("plant", Stage.PREFILLING, 0, total), events.get(0));
            List<CorpusProgress> prefill = events.stream().filter(p -> p.stage() == Stage.PREFILLING).toList();
            assertEquals(1 + (total + 15) / 16, prefill.size(), "the start, then one event per chunk: " + prefill);
            for (int i = 1; i < prefill.size(); i++) {
                assertEquals(Math.min(total, 16 * i), prefill.get(i).doneTokens());
                assertEquals(total, prefill.get(i).totalTokens());
            }
            assertEquals(Stage.PERSISTING, events.get(events.size() - 2).stage());
            CorpusProgress last = events.get(events.size() - 1);
            assertEquals(new CorpusProgress("plant", Stage.READY, total, total), last);
            assertEquals(1.0, last.fraction());

            // registering again: already resident, one READY event and nothing else
            events.clear();
            m.register("plant", CorpusFixture.documents(), "", events::add);
            assertEquals(List.of(new CorpusProgress("plant", Stage.READY, total, total)), events);
        }
    }

    @Test
    void afterARestartTheCorpusIsListedOnDiskAndItsRegistrationRestores() {
        int total;
        long kvBytes;
        try (Engine e = CorpusFixture.open(model); CorpusManager m = new CorpusManager(e, persistence(), CHUNKED)) {
            total = m.register("plant", CorpusFixture.documents()).tokens();
            List<CorpusStatus> statuses = m.statuses();
            assertEquals(1, statuses.size());
            CorpusStatus s = statuses.get(0);
            KvGeometry g = m.prefixCache().kv().geometry();
            kvBytes = (long) ((total + g.blockSize() - 1) / g.blockSize()) * g.blockBytes(); // the CPU pool is fp32
            assertEquals(new CorpusStatus("plant", total, kvBytes, s.persistedBytes(), Residence.HOST), s);
            assertTrue(s.persistedBytes() >= (long) total * g.bytesPerToken(), "the segment holds every token's K/V: "
                    + s.persistedBytes());
        }
        try (Engine e = CorpusFixture.open(model); CorpusManager m = new CorpusManager(e, persistence(), CHUNKED)) {
            CorpusStatus onDisk = m.statuses().get(0);
            assertEquals(Residence.DISK, onDisk.residence());
            assertEquals(total, onDisk.tokens());
            assertEquals(kvBytes, onDisk.kvBytes());
            assertTrue(onDisk.persistedBytes() > 0);

            List<CorpusProgress> events = new ArrayList<>();
            CorpusManager.CorpusInfo info = m.register("plant", CorpusFixture.documents(), "", events::add);
            assertEquals(total, info.restoredTokens());
            assertEquals(List.of(Stage.RESTORING, Stage.PERSISTING, Stage.READY),
                    events.stream().map(CorpusProgress::stage).toList());
            assertFalse(events.stream().anyMatch(p -> p.stage() == Stage.PREFILLING));
            assertEquals(Residence.HOST, m.statuses().get(0).residence());

            assertTrue(m.unregister("plant"));
            assertEquals(List.of(), m.statuses());
        }
    }

    @Test
    void withoutPersistenceOnlyResidentCorporaAreListed() {
        try (Engine e = CorpusFixture.open(model); CorpusManager m = new CorpusManager(e, null, CHUNKED)) {
            List<CorpusProgress> events = new ArrayList<>();
            int total = m.register("plant", CorpusFixture.documents(), "", events::add).tokens();
            assertFalse(events.stream().anyMatch(p -> p.stage() == Stage.PERSISTING || p.stage() == Stage.RESTORING));
            assertEquals(Stage.READY, events.get(events.size() - 1).stage());
            CorpusStatus s = m.statuses().get(0);
            assertEquals(0, s.persistedBytes());
            assertEquals(total, s.tokens());
            assertEquals(Residence.HOST, s.residence());
        }
    }
}
