package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalReportTest {

    @TempDir
    Path tmp;

    private static EvalReport report() {
        List<EvalPolicy> policies = EvalPolicy.parseList("full,ts-64,ts-64-nocache,streaming-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_single_noise", "kv"), List.of(1024, 4096),
                policies, 2, 9, 8);
        List<EvalHarness.Outcome> outcomes = new ArrayList<>();
        for (int len : config.lengths()) {
            for (String task : config.tasks()) {
                for (int i = 0; i < 2; i++) {
                    for (EvalPolicy p : policies) {
                        boolean ok = p.name().equals("full") || (i == 0 && len == 1024);
                        Map<String, Object> stats = p.name().equals("ts-64")
                                ? Map.of("cache_hits", 3L, "cache_misses", 1L) : Map.of("cache_hits", 0L, "cache_misses", 0L);
                        outcomes.add(new EvalHarness.Outcome(task, len, p.name(), i, EvalSeeds.sampleSeed(9, 0, i), len - 10,
                                ok ? "123456" : "no", List.of("123456"), ok, stats));
                    }
                }
            }
        }
        return new EvalReport(config, outcomes, "models/tiny", "cpu");
    }

    @Test
    void tableListsEveryPolicyLengthAndTask() {
        EvalReport r = report();
        String md = r.markdown();
        for (String p : List.of("| full | all |", "| ts-64 | 144 |", "| ts-64-nocache | 144 |", "| streaming-64 | 144 |")) {
            assertTrue(md.contains(p), p + " in\n" + md);
        }
        assertTrue(md.contains("| policy | budget | 1K | 4K | samples per cell | cache hit rate |"), md);
        assertTrue(md.contains("| niah_single_noise | ts-64 | 0.50 | 0.00 | 2 | 0.75 |"), md);
        assertTrue(md.contains("| kv | ts-64-nocache | 0.50 | 0.00 | 2 | off |"), md);
        assertTrue(md.contains("| kv | full | 1.00 | 1.00 | 2 | – |"), md);
        assertTrue(md.contains("| ts-64 | 144 | 0.50 | 0.00 | 4 | 0.75 |"), md);
        assertTrue(md.contains("`0x" + Long.toHexString(EvalSeeds.sampleSeed(9, 0, 0)) + "`"), md);
        assertEquals(Map.of(1024, 1.0, 4096, 1.0), r.summary().get("full"));
        assertEquals(0.5, r.summary().get("streaming-64").get(1024));
    }

    @Test
    void writesBetweenMarkersAndKeepsTheRest() throws Exception {
        Path md = tmp.resolve("ACCURACY.md");
        Files.writeString(md, "# Accuracy\n\nmethod\n\n" + EvalReport.BEGIN + "\nold\n" + EvalReport.END + "\n\ntail\n");
        report().write(md);
        String text = Files.readString(md);
        assertTrue(text.startsWith("# Accuracy\n\nmethod\n\n" + EvalReport.BEGIN + "\n## Results"), text);
        assertTrue(text.endsWith(EvalReport.END + "\n\ntail\n"), text);
        assertTrue(!text.contains("\nold\n"));
        Path fresh = tmp.resolve("sub/new.md");
        report().write(fresh);
        assertTrue(Files.readString(fresh).startsWith(EvalReport.BEGIN));
    }

    @Test
    void plotDecodesWithTheExpectedSize() throws Exception {
        Path png = tmp.resolve("plot/accuracy.png");
        AccuracyPlot.write(png, "test", report().summary(), 4096);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(AccuracyPlot.WIDTH, img.getWidth());
        assertEquals(AccuracyPlot.HEIGHT, img.getHeight());
        // Something was drawn: the first series' colour appears, and the background is white.
        assertEquals(0xFFFFFF, img.getRGB(5, 5) & 0xFFFFFF);
        int blue = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xFFFFFF) == 0x1f77b4) {
                    blue++;
                }
            }
        }
        assertNotEquals(0, blue);
    }
}
