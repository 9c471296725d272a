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

    @Test
    void aGzipFileReadsAsItsPlainLinesAndAnotherFileNamedGzIsRefusedByName() throws Exception {
        Path plain = dir.resolve("outcomes.jsonl");
        for (int i = 0; i < 3; i++) {
            OutcomeLog.append(plain, new EvalHarness.Outcome("niah_multikey", 32768, "ts-2048", i, 7L + i, 32760,
                    "0" + i, List.of("0" + i), i != 1, Map.of("cache_hit_rate", 0.25 * i)));
        }
        Path gz = dir.resolve("outcomes.jsonl.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(Files.readAllBytes(plain));
        }
        assertTrue(Files.size(gz) < Files.size(plain));
        assertEquals(OutcomeLog.read(plain), OutcomeLog.read(gz));
        assertEquals(3, OutcomeLog.read(gz).size());
        assertFalse(OutcomeLog.read(gz).get(1).correct());

        Path notGzip = dir.resolve("plain.jsonl.gz");
        Files.copy(plain, notGzip);
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> OutcomeLog.read(notGzip));
        assertTrue(e.getMessage().contains("plain.jsonl.gz") && e.getMessage().contains("not a gzip file"), e.getMessage());
    }
}
