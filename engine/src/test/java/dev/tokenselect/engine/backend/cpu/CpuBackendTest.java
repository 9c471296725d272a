package dev.tokenselect.engine.backend.cpu;

import static dev.tokenselect.engine.backend.cpu.ReferenceFixture.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.tokenselect.engine.backend.KvCapacityException;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.model.Model;
import tools.jackson.databind.node.ObjectNode;

class CpuBackendTest {

    @TempDir
    static Path models;

    private static Model load(String fixture) throws IOException {
        Path dir = models.resolve(fixture);
        if (!dir.resolve("config.json").toFile().exists()) {
            ReferenceFixture.load(fixture).write(dir);
        }
        return Model.load(dir);
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(vocab);
        }
        return t;
    }

    private static float[] stepByStep(CpuBackend backend, int[] tokens) {
        try (Sequence seq = backend.newSequence()) {
            float[] logits = null;
            for (int t : tokens) {
                logits = backend.forward(seq, new int[] {t});
            }
            return logits;
        }
    }

    private static float[] prefill(CpuBackend backend, int[] tokens) {
        try (Sequence seq = backend.newSequence()) {
            return backend.forward(seq, tokens);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "qwen2", "mistral"})
    void prefillEqualsSingleTokenSteps(String fixture) throws IOException {
        try (Model model = load(fixture); CpuBackend backend = new CpuBackend(model)) {
            int[] prompt = ReferenceFixture.load(fixture).promptIds();
            float[] once = prefill(backend, prompt);
            float[] steps = stepByStep(backend, prompt);
            double err = relativeError(steps, once);
            assertTrue(err <= 1e-5, "prefill vs steps: " + err);
            // every output is accumulated in the same order in the GEMM and the GEMV kernels
            assertArrayEquals(once, steps);
        }
    }

    @Test
    void chunkingBlockSizeAndThreadsDoNotChangeTheResult() throws IOException {
        try (Model model = load("qwen3")) {
            int[] prompt = ReferenceFixture.load("qwen3").promptIds();
            float[] reference;
            try (CpuBackend backend = new CpuBackend(model)) {
                reference = prefill(backend, prompt);
            }
            CpuBackend.Options[] variants = {
                CpuBackend.Options.defaults().withMaxChunkTokens(7),
                CpuBackend.Options.defaults().withBlockSize(1),
                CpuBackend.Options.defaults().withBlockSize(5).withMaxChunkTokens(13),
                CpuBackend.Options.defaults().withThreads(1),
                CpuBackend.Options.defaults().withThreads(3).withBlockSize(64),
            };
            for (CpuBackend.Options o : variants) {
                try (CpuBackend backend = new CpuBackend(model, o)) {
                    assertArrayEquals(reference, prefill(backend, prompt), o.toString());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3", "mistral"})
    void longContextParallelAttentionEqualsSerial(String fixture) throws IOException {
        try (Model model = load(fixture);
             CpuBackend serial = new CpuBackend(model, CpuBackend.Options.defaults().withThreads(1));
             CpuBackend parallel = new CpuBackend(model, CpuBackend.Options.defaults().withThreads(2));
             Sequence a = serial.newSequence(); Sequence b = parallel.newSequence()) {
            int[] prompt = randomTokens(2100, model.config().vocabSize(), 7);
            assertArrayEquals(serial.forward(a, prompt), parallel.forward(b, prompt));
            for (int t : new int[] {11, 22, 33}) {
                assertArrayEquals(serial.forward(a, new int[] {t}), parallel.forward(b, new int[] {t}));
            }
        }
    }

    @Test
    @SuppressWarnings("try") // the sequence is closed inside its try block on purpose
    void kvCapacityOverflowThrowsAndLeavesTheSequenceUsable() throws IOException {
        try (Model model = load("llama3");
             CpuBackend backend = new CpuBackend(model,
                     CpuBackend.Options.defaults().withKvCapacityTokens(64).withBlockSize(16))) {
            int[] prompt = ReferenceFixture.load("llama3").promptIds(); // 60 tokens
            int[] more = Arrays.copyOf(prompt, 64);
            for (int i = 60; i < 64; i++) {
                more[i] = 1000 + i;
            }
            try (Sequence seq = backend.newSequence()) {
                backend.forward(seq, prompt);
                assertEquals(4, backend.kvPool().allocator().usedBlocks());
                KvCapacityException e = assertThrows(KvCapacityException.class,
                        () -> backend.forward(seq, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
                assertTrue(e.getMessage().contains("70 tokens") && e.getMessage().contains("kvCapacityTokens"),
                        e.getMessage());
                assertEquals(60, seq.length());
                assertEquals(4, backend.kvPool().allocator().usedBlocks());
                float[] logits = backend.forward(seq, Arrays.copyOfRange(more, 60, 64));
                assertEquals(64, seq.length());
                try (Sequence other = backend.newSequence()) {
                    assertThrows(KvCapacityException.class, () -> backend.forward(other, new int[] {1}));
                    assertEquals(0, other.length());
                }
                seq.close();
                assertEquals(0, backend.kvPool().allocator().usedBlocks());
                assertArrayEquals(prefill(backend, more), logits);
            }
        }
    }

    @Test
    void slidingWindowMatchesAPlainImplementation(@TempDir Path dir) throws IOException {
        ReferenceFixture f = ReferenceFixture.load("mistral");
        ObjectNode config = f.config().deepCopy();
        config.put("sliding_window", 8);
        f.write(dir.resolve("full"));
        ReferenceFixture windowed = new ReferenceFixture("models", "mistral-window", f.json().deepCopy());
        ((ObjectNode) windowed.json()).set("config", config);
        windowed.write(dir.resolve("window"));
        int[] tokens = Arrays.copyOf(f.promptIds(), 30);
        try (Model full = Model.load(dir.resolve("full")); Model window = Model.load(dir.resolve("window"));
             CpuBackend fullBackend = new CpuBackend(full); CpuBackend windowBackend = new CpuBackend(window)) {
            assertEquals(8, window.config().slidingWindow());
            float[] ours = prefill(windowBackend, tokens);
            float[] plain = NaiveForward.lastLogits(window, tokens);
            assertTrue(relativeError(ours, plain) <= 1e-5, "window vs plain: " + relativeError(ours, plain));
            assertArrayEquals(ours, stepByStep(windowBackend, tokens));
            // and the window matters: without it the logits differ
            float[] unwindowed = prefill(fullBackend, tokens);
            assertTrue(relativeError(unwindowed, NaiveForward.lastLogits(full, tokens)) <= 1e-5);
            assertNotEquals(0.0, relativeError(unwindowed, ours));
        }
    }

    @Test
    void sequencesReturnTheirBlocksAndAreCheckedForOwnership() throws IOException {
        try (Model model = load("qwen2")) {
            CpuBackend backend = new CpuBackend(model, CpuBackend.Options.defaults().withBlockSize(8));
            CpuBackend other = new CpuBackend(model);
            Sequence seq = backend.newSequence();
            backend.forward(seq, new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
            assertEquals(9, seq.length());
            assertEquals(2, backend.kvPool().allocator().usedBlocks());
            assertThrows(IllegalArgumentException.class, () -> other.forward(seq, new int[] {1}));
            assertThrows(IllegalArgumentException.class, () -> backend.forward(seq, new int[] {-1}));
            assertThrows(IllegalArgumentException.class,
                    () -> backend.forward(seq, new int[] {model.config().vocabSize()}));
            assertThrows(IllegalArgumentException.class, () -> backend.forward(seq, new int[0]));
            assertEquals(9, seq.length());
            seq.close();
            assertEquals(0, backend.kvPool().allocator().usedBlocks());
            assertThrows(IllegalStateException.class, () -> backend.forward(seq, new int[] {1}));
            Sequence late = backend.newSequence();
            backend.forward(late, new int[] {1});
            backend.close();
            late.close(); // after the pool is gone: harmless
            assertThrows(IllegalStateException.class, backend::newSequence);
            other.close();
        }
    }
}
