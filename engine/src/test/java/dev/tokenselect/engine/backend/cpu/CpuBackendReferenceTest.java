package dev.tokenselect.engine.backend.cpu;

import static dev.tokenselect.engine.backend.cpu.ReferenceFixture.argmax;
import static dev.tokenselect.engine.backend.cpu.ReferenceFixture.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.Model;

/**
 * The CPU backend against Hugging Face transformers (fp32, eager attention) on synthetic models of
 * each supported architecture: last-position logits of the prompt within 1e-4 relative, and 24
 * greedy tokens decoded one at a time equal to transformers' (fixtures from
 * tools/make_reference_fixtures.py).
 */
class CpuBackendReferenceTest {

    static final double LOGITS_TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama_linear", "qwen2", "qwen3", "mistral"})
    void matchesTransformers(String name, @TempDir Path dir, TestReporter reporter) throws IOException {
        ReferenceFixture f = ReferenceFixture.load(name);
        f.write(dir);
        try (Model model = Model.load(dir); CpuBackend backend = new CpuBackend(model);
             Sequence seq = backend.newSequence()) {
            assertEquals(f.tensors(), ReferenceFixture.tensorsOf(model),
                    "tensor names and shapes written vs transformers' model");

            int[] prompt = f.promptIds();
            float[] logits = backend.forward(seq, prompt);
            double err = relativeError(logits, f.logits());
            reporter.publishEntry(name + ".logitsRelError", String.format(Locale.ROOT, "%.3e", err));
            System.out.printf(Locale.ROOT, "%s: prompt %d tokens, last-position logits relative error %.3e%n",
                    name, prompt.length, err);
            assertTrue(err <= LOGITS_TOLERANCE, name + ": relative error " + err + " > " + LOGITS_TOLERANCE);

            int[] expected = f.greedyIds();
            int[] greedy = new int[expected.length];
            for (int i = 0; i < greedy.length; i++) {
                greedy[i] = argmax(logits);
                logits = backend.forward(seq, new int[] {greedy[i]});
            }
            assertArrayEquals(expected, greedy, name + ": greedy continuation");
            assertEquals(prompt.length + greedy.length, seq.length());
        }
    }

    @Test
    void shardedWeightsGiveTheSameLogits(@TempDir Path dir) throws IOException {
        ReferenceFixture f = ReferenceFixture.load("qwen3");
        float[] single = promptLogits(f.write(dir.resolve("one"), DType.BF16, 1), f.promptIds());
        float[] sharded = promptLogits(f.write(dir.resolve("two"), DType.BF16, 2), f.promptIds());
        assertArrayEquals(single, sharded);
    }

    @ParameterizedTest
    @ValueSource(strings = {"f32", "f16"})
    void storageTypeDoesNotChangeTheResult(String dtype, @TempDir Path dir) throws IOException {
        // every synthetic weight is exact in bf16, f16 and f32, and all arithmetic is fp32
        ReferenceFixture f = ReferenceFixture.load("llama3");
        float[] bf16 = promptLogits(f.write(dir.resolve("bf16"), DType.BF16, 1), f.promptIds());
        float[] other = promptLogits(f.write(dir.resolve(dtype), DType.parse(dtype), 1), f.promptIds());
        assertArrayEquals(bf16, other);
        assertTrue(relativeError(other, f.logits()) <= LOGITS_TOLERANCE);
    }

    private static float[] promptLogits(Path dir, int[] prompt) {
        try (Model model = Model.load(dir); CpuBackend backend = new CpuBackend(model);
             Sequence seq = backend.newSequence()) {
            return backend.forward(seq, prompt);
        }
    }
}
