package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;

/** A long evaluation goes on across runs: answers already in the outcome file are taken, not generated again. */
class EvalResumeTest {

    @TempDir
    Path tmp;

    @Test
    void takesTheAnswersOfAnInterruptedRunAndGeneratesOnlyTheRest() throws Exception {
        Path model = EvalTestSupport.qwen3Model(tmp.resolve("model"));
        Path log = tmp.resolve("outcomes.jsonl");
        List<EvalPolicy> first = EvalPolicy.parseList("full", 16, 64, 0.9, 64, 16);
        List<EvalPolicy> both = EvalPolicy.parseList("full,streaming-64", 16, 64, 0.9, 64, 16);
        EvalHarness.Config interrupted = new EvalHarness.Config(List.of("niah_single_noise"), List.of(384), first, 2, 3, 6);
        EvalHarness.Config whole = new EvalHarness.Config(List.of("niah_single_noise"), List.of(384), both, 2, 3, 6);

        try (Engine engine = Engine.open(model, new EngineOptions("cpu", 0, 2, 4096, 32))) {
            List<EvalHarness.Outcome> done = EvalHarness.run(engine, interrupted, s -> { }, o -> OutcomeLog.append(log, o));
            assertEquals(2, done.size());

            List<EvalHarness.Outcome> earlier = OutcomeLog.read(log);
            assertEquals(2, earlier.size());
            List<EvalHarness.Outcome> generated = new ArrayList<>();
            List<String> progress = new ArrayList<>();
            List<EvalHarness.Outcome> all = EvalHarness.run(engine, whole, progress::add, generated::add, earlier);

            assertEquals(4, all.size());
            assertEquals(2, generated.size(), "only the policy the first run did not reach is generated");
            assertTrue(generated.stream().allMatch(o -> o.policy().equals("streaming-64")), generated.toString());
            assertEquals(2, progress.size());
            for (EvalHarness.Outcome before : done) {
                assertTrue(all.stream().anyMatch(o -> o.policy().equals("full") && o.sample() == before.sample()
                        && o.generated().equals(before.generated()) && o.seed() == before.seed()), before.toString());
            }
            // a different seed is a different evaluation: nothing is taken from the file
            EvalHarness.Config otherSeed = new EvalHarness.Config(List.of("niah_single_noise"), List.of(384), first, 1, 4, 6);
            List<EvalHarness.Outcome> fresh = new ArrayList<>();
            EvalHarness.run(engine, otherSeed, s -> { }, fresh::add, earlier);
            assertEquals(1, fresh.size());
        }
    }
}
