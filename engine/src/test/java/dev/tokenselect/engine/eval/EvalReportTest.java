package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        return report(List.of(1024, 4096));
    }

    private static EvalReport report(List<Integer> lengths) {
        List<EvalPolicy> policies = EvalPolicy.parseList("full,ts-64,ts-64-nocache,streaming-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_single_noise", "kv"), lengths,
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
        // kept from 1K: full keeps all 4 questions; ts-64 none of its 2
        assertTrue(md.contains("| policy | 4K |"), md);
        assertTrue(md.contains("| full | 100.0% (100-100), 4 / 4 of 4 |"), md);
        assertTrue(md.contains("| ts-64 | 0.0% (0-0), 0 / 2 of 4 |"), md);
        // lengths given longest first: the reference is still the shortest
        String rev = report(List.of(4096, 1024)).markdown();
        assertTrue(rev.contains("### Accuracy kept from 1K"), rev);
        assertTrue(rev.contains("| ts-64 | 0.0% (0-0), 0 / 2 of 4 |"), rev);
        assertEquals(Map.of(1024, 1.0, 4096, 1.0), r.summary().get("full"));
        assertEquals(0.5, r.summary().get("streaming-64").get(1024));
    }

    /** Tasks that expect several strings get RULER's score beside exact match; a single-string run gets none. */
    @Test
    void rulerScoreTableGivesPartCreditWhereSeveralStringsAreExpected() {
        List<EvalPolicy> policies = EvalPolicy.parseList("ts-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_multiquery"), List.of(4096, 65536), policies, 2, 9, 8);
        List<String> codes = List.of("111111", "222222", "333333", "444444");
        List<EvalHarness.Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            outcomes.add(new EvalHarness.Outcome("niah_multiquery", 4096, "ts-64", i, i, 4090,
                    "111111, 222222, 333333, 444444", codes, true, Map.of()));
            outcomes.add(new EvalHarness.Outcome("niah_multiquery", 65536, "ts-64", i, i, 65530,
                    i == 0 ? "111111, 222222, 333333, 555555" : "111111, 222222, 333333, 444444", codes, i == 1, Map.of()));
        }
        String md = new EvalReport(config, outcomes, "models/tiny", "cpu").markdown();
        assertTrue(md.contains("### RULER's score"), md);
        assertTrue(md.contains("| niah_multiquery | ts-64 | 1.00 | 0.88 |"), md);
        assertTrue(md.contains("| ts-64 | 50.0% (0-100), 1 / 2 of 2 |"), md);
        assertTrue(md.contains("| ts-64 | 87.5% (75-100), 1.8 / 2 of 2 |"), md);
        assertFalse(report().markdown().contains("RULER's score"), "single-string tasks: exact match is RULER's score");
        EvalReport r = new EvalReport(config, outcomes, "models/tiny", "cpu");
        assertEquals(Map.of(4096, 1.0, 65536, 0.875), r.summary(Score.RULER).get("ts-64"));
        assertEquals(Map.of(4096, 1.0, 65536, 0.5), r.summary().get("ts-64"));
    }

    /**
     * A wrong answer's codes sorted by where they come from: another needle of the same haystack, or no
     * needle; correct answers and tasks without codes add nothing, and a row without wrong codes is left out.
     */
    @Test
    void wrongCodesTellADistractorFromAnInventedCode() {
        List<EvalPolicy> policies = EvalPolicy.parseList("full,ts-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_multikey", "kv"), List.of(4096), policies, 3,
                1, 8);
        long[] seeds = new long[3];
        List<EvalHarness.Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            seeds[i] = EvalSeeds.sampleSeed(1, EvalTasks.TASKS.indexOf("niah_multikey"), i);
            EvalSample s = EvalTasks.generate("niah_multikey", seeds[i], 800, EvalTasks.TokenCounter.approx());
            String asked = s.expected().getFirst();
            String other = EvalTasks.needleCodes("niah_multikey", seeds[i]).stream().filter(c -> !c.equals(asked))
                    .findFirst().orElseThrow();
            String invented = asked.equals("000001") || other.equals("000001") ? "000002" : "000001";
            // full: right twice, then another needle's code; ts-64: another needle's code, an invented one, both
            String full = i < 2 ? asked : other;
            String ts = switch (i) {
                case 0 -> other;
                case 1 -> invented;
                default -> other + ", " + invented;
            };
            outcomes.add(new EvalHarness.Outcome("niah_multikey", 4096, "full", i, seeds[i], 4000, full, s.expected(),
                    full.contains(asked), Map.of()));
            outcomes.add(new EvalHarness.Outcome("niah_multikey", 4096, "ts-64", i, seeds[i], 4000, ts, s.expected(),
                    ts.contains(asked), Map.of()));
            outcomes.add(new EvalHarness.Outcome("kv", 4096, "ts-64", i, seeds[i], 4000, "123456", List.of("abcdef12"),
                    false, Map.of()));
        }
        EvalReport r = new EvalReport(config, outcomes, "models/tiny", "cpu");
        assertEquals(new WrongCodes(1, 1), r.wrongCodes("niah_multikey", "full", 4096));
        assertEquals(new WrongCodes(2, 4), r.wrongCodes("niah_multikey", "ts-64", 4096));
        assertEquals(WrongCodes.NONE, r.wrongCodes("kv", "ts-64", 4096));
        String md = r.markdown();
        assertTrue(md.contains("| niah_multikey | full | 1 / 1 |"), md);
        assertTrue(md.contains("| niah_multikey | ts-64 | 2 / 4 |"), md);
        assertFalse(md.contains("| kv | ts-64 | – |"), md);
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

    /** The y axis names what is drawn: the same series as exact match and as RULER's score differ only there. */
    @Test
    void plotNamesItsScoreOnTheAxis() {
        Map<String, Map<Integer, Double>> series = report().summary();
        BufferedImage exact = AccuracyPlot.draw("t", Score.EXACT, series, 4096);
        BufferedImage ruler = AccuracyPlot.draw("t", Score.RULER, series, 4096);
        int differ = 0;
        int rightOfAxisLabel = 0;
        for (int y = 0; y < exact.getHeight(); y++) {
            for (int x = 0; x < exact.getWidth(); x++) {
                if (exact.getRGB(x, y) != ruler.getRGB(x, y)) {
                    differ++;
                    rightOfAxisLabel += x > 40 ? 1 : 0;
                }
            }
        }
        assertNotEquals(0, differ);
        assertEquals(0, rightOfAxisLabel, "only the rotated axis label, at the left edge, differs");
    }
}
