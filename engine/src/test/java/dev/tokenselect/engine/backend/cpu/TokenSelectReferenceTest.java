package dev.tokenselect.engine.backend.cpu;

import static dev.tokenselect.engine.backend.cpu.ReferenceFixture.argmax;
import static dev.tokenselect.engine.backend.cpu.ReferenceFixture.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.model.Model;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.select.SelectionStats;
import tools.jackson.databind.JsonNode;

/**
 * TokenSelect on the CPU against the independent PyTorch implementation of DESIGN.md's semantics
 * ({@code tools/tokenselect_reference.py}): long prompts, small budgets, chunked prefill, decode with
 * and without the selection cache.
 */
class TokenSelectReferenceTest {

    @TempDir
    Path dir;

    private static SelectionParams params(JsonNode s) {
        return new SelectionParams(s.get("k").asInt(), s.get("n_init").asInt(), s.get("n_local").asInt(),
                s.get("theta").asDouble(), s.get("prefill_chunk").asInt(),
                s.has("original_positions") && s.get("original_positions").asBoolean());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ts_llama3", "ts_qwen2", "ts_qwen3", "ts_qwen3_cache", "ts_qwen2_orig"})
    void matchesTheIndependentReference(String name) throws IOException {
        ReferenceFixture f = ReferenceFixture.load("tokenselect", name);
        SelectionParams params = params(f.json().get("select"));
        int[] prompt = f.promptIds();
        assertTrue(prompt.length > 1000, "a long prompt");
        try (Model model = Model.load(f.write(dir)); CpuBackend backend = new CpuBackend(model);
             Sequence seq = backend.newSequence(AttentionSpec.tokenSelect(params))) {
            float[] logits = backend.forward(seq, prompt);
            double error = relativeError(logits, f.logits());
            assertTrue(error <= 1e-4, name + ": last-position logits differ by " + error);
            JsonNode prefillStats = f.json().get("prefill_stats");
            SelectionStats stats = seq.selectionStats();
            assertEquals(prefillStats.get("selections").asLong(), stats.selections(), "prefill selections");
            assertEquals(prefillStats.get("selection_steps").asLong(), stats.selectionSteps(), "prefill chunks that selected");

            int[] expected = f.greedyIds();
            int[] ours = new int[expected.length];
            for (int i = 0; i < expected.length; i++) {
                ours[i] = argmax(logits);
                logits = backend.forward(seq, new int[] {ours[i]}, true);
            }
            assertArrayEquals(expected, ours, name + ": greedy tokens");
            JsonNode s = f.json().get("stats");
            assertEquals(s.get("selections").asLong(), stats.selections(), "selections");
            assertEquals(s.get("cache_hits").asLong(), stats.cacheHits(), "selection-cache hits");
            assertEquals(s.get("selection_steps").asLong(), stats.selectionSteps(), "steps that selected");
            assertEquals(s.get("selected_tokens").asLong(), stats.selectedTokens(), "tokens attended over those steps");
            assertEquals(s.get("full_attention_steps").asLong(), stats.fullAttentionSteps(), "steps under the budget");
        }
    }

    /** With a budget that covers the context, TokenSelect is ordinary attention, bit for bit. */
    @Test
    void bitIdenticalToFullAttentionWhenTheBudgetCoversTheContext() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("tokenselect", "ts_qwen3");
        int[] prompt = f.promptIds();
        SelectionParams covering = new SelectionParams(prompt.length + 64, 4, 32, 0.9, 32);
        try (Model model = Model.load(f.write(dir)); CpuBackend backend = new CpuBackend(model)) {
            float[][] full = run(backend, AttentionSpec.full(), prompt, 6);
            float[][] selected = run(backend, AttentionSpec.tokenSelect(covering), prompt, 6);
            for (int i = 0; i < full.length; i++) {
                assertArrayEquals(full[i], selected[i], "step " + i);
            }
            // and a budget that does not cover it changes the result
            float[][] small = run(backend, AttentionSpec.tokenSelect(new SelectionParams(32, 4, 32, 2.0, 32)), prompt, 1);
            assertNotEquals(0.0, relativeError(small[0], full[0]));
        }
    }

    /**
     * Original positions (DESIGN.md's extension) against compacted ones. RoPE scores depend only on
     * the distance between query and key, so over a contiguous selection (the local window alone) the
     * two place every entry at the same distances and agree up to rounding; with sinks in front of the
     * window the sinks sit at different distances, and the results differ.
     */
    @Test
    void originalPositionsMoveOnlyWhatIsNotContiguous() throws IOException {
        ReferenceFixture f = ReferenceFixture.load("tokenselect", "ts_qwen2");
        int[] prompt = f.promptIds();
        try (Model model = Model.load(f.write(dir)); CpuBackend backend = new CpuBackend(model)) {
            SelectionParams window = new SelectionParams(0, 0, 64, 2.0, 32);
            float[][] compacted = run(backend, AttentionSpec.tokenSelect(window), prompt, 3);
            float[][] original = run(backend, AttentionSpec.tokenSelect(window.withOriginalPositions(true)), prompt, 3);
            for (int i = 0; i < compacted.length; i++) {
                double e = relativeError(original[i], compacted[i]);
                assertTrue(e < 1e-4, "step " + i + ": a contiguous selection at either position differs by " + e);
            }
            SelectionParams sinks = new SelectionParams(0, 16, 64, 2.0, 32);
            float[] a = run(backend, AttentionSpec.tokenSelect(sinks), prompt, 1)[0];
            float[] b = run(backend, AttentionSpec.tokenSelect(sinks.withOriginalPositions(true)), prompt, 1)[0];
            assertTrue(relativeError(a, b) > 1e-3, "sinks at their own positions change the result: " + relativeError(a, b));
        }
    }

    private static float[][] run(CpuBackend backend, AttentionSpec spec, int[] prompt, int steps) {
        float[][] out = new float[steps][];
        try (Sequence seq = backend.newSequence(spec)) {
            float[] logits = backend.forward(seq, prompt);
            for (int i = 0; i < steps; i++) {
                out[i] = logits;
                logits = backend.forward(seq, new int[] {argmax(logits)}, true);
            }
        }
        return out;
    }
}
