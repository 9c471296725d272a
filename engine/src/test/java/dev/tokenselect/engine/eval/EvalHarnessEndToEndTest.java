package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;

/** The harness end to end on a tiny random-weight Qwen3 with the real Qwen3 tokenizer and chat template. */
class EvalHarnessEndToEndTest {

    @TempDir
    Path tmp;

    @Test
    void runsEveryPolicyAndLengthAndWritesTheReport() throws Exception {
        Path model = EvalTestSupport.qwen3Model(tmp.resolve("model"));

        List<EvalPolicy> policies = EvalPolicy.parseList("full,ts-64,ts-64-nocache,streaming-64,page-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config config = new EvalHarness.Config(List.of("niah_single_noise", "kv"), List.of(384, 768),
                policies, 2, 5, 6);
        List<String> progress = new ArrayList<>();
        List<EvalHarness.Outcome> outcomes;
        try (Engine engine = Engine.open(model, new EngineOptions("cpu", 0, 2, 4096, 32))) {
            outcomes = EvalHarness.run(engine, config, progress::add);
        }
        assertEquals(2 * 2 * 2 * policies.size(), outcomes.size());
        assertEquals(outcomes.size(), progress.size());
        for (EvalHarness.Outcome o : outcomes) {
            assertTrue(o.promptTokens() <= o.length() && o.promptTokens() >= o.length() - 64, o.toString());
            assertTrue(o.stats().containsKey("cache_hit_rate"), o.stats().toString());
        }
        // Sinks + window cannot see the needle that full attention sees: their answers differ somewhere.
        boolean differ = false;
        for (EvalHarness.Outcome full : outcomes) {
            if (full.policy().equals("full")) {
                for (EvalHarness.Outcome s : outcomes) {
                    if (s.policy().equals("streaming-64") && s.task().equals(full.task()) && s.length() == full.length()
                            && s.sample() == full.sample() && !s.generated().equals(full.generated())) {
                        differ = true;
                    }
                }
            }
        }
        assertTrue(differ, "streaming and full attention answered identically everywhere");
        // TokenSelect selected (the prompts exceed its budget of 144) and decoding consulted the cache.
        long hitsAndMisses = outcomes.stream().filter(o -> o.policy().equals("ts-64"))
                .mapToLong(o -> ((Number) o.stats().get("cache_hits")).longValue()
                        + ((Number) o.stats().get("cache_misses")).longValue()).sum();
        assertTrue(hitsAndMisses > 0);

        EvalReport report = new EvalReport(config, outcomes, model.toString(), "cpu");
        Path md = tmp.resolve("ACCURACY.md");
        report.write(md);
        String text = Files.readString(md);
        for (EvalPolicy p : policies) {
            assertTrue(text.contains("| " + p.name() + " |"), p.name());
            for (String task : config.tasks()) {
                assertTrue(text.contains("| " + task + " | " + p.name() + " |"), task + "/" + p.name());
            }
        }
        assertTrue(text.contains("| policy | budget | 384 | 768 |"), text);
        Map<String, Map<Integer, Double>> summary = report.summary();
        assertEquals(policies.size(), summary.size());
        summary.values().forEach(row -> assertEquals(List.of(384, 768), List.copyOf(row.keySet())));
        Path png = tmp.resolve("accuracy.png");
        AccuracyPlot.write(png, "tiny", summary, 4096);
        assertEquals(AccuracyPlot.WIDTH, ImageIO.read(png.toFile()).getWidth());
    }
}
