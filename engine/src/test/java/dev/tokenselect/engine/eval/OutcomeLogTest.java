package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutcomeLogTest {

    @TempDir
    Path dir;

    @Test
    void jsonLinesRoundTripAndProgressLinesAreRead() throws Exception {
        Path file = dir.resolve("outcomes.jsonl");
        EvalHarness.Outcome a = new EvalHarness.Outcome("niah_single_noise", 4096, "ts-2048", 0, 42L, 4093, "167671",
                List.of("167671"), true, Map.of("cache_hit_rate", 0.5, "selections", 12));
        OutcomeLog.append(file, a);
        Files.writeString(file, Files.readString(file)
                + "INFO: a log line in between\n"
                + "niah_multikey len 8192 sample 2 (8188 tokens) full: WRONG \"016770\" (0.3 s)\n");
        List<EvalHarness.Outcome> read = OutcomeLog.read(file);
        assertEquals(2, read.size());
        EvalHarness.Outcome first = read.get(0);
        assertEquals(a.task(), first.task());
        assertEquals(a.seed(), first.seed());
        assertEquals(a.expected(), first.expected());
        assertTrue(first.correct());
        assertEquals(0.5, ((Number) first.stats().get("cache_hit_rate")).doubleValue());
        EvalHarness.Outcome second = read.get(1);
        assertEquals("niah_multikey", second.task());
        assertEquals(8192, second.length());
        assertEquals("full", second.policy());
        assertEquals(2, second.sample());
        assertEquals("016770", second.generated());
        assertFalse(second.correct());
    }
}
