package dev.tokenselect.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Many threads at once through continuous batching get exactly what each gets alone. */
class BatchSchedulerTest {

    @TempDir
    static Path dir;
    static Engine engine;
    static int[] prompt;

    @BeforeAll
    static void open() throws Exception {
        JsonNode f;
        try (InputStream in = BatchSchedulerTest.class.getResourceAsStream("/fixtures/tokenselect/ts_qwen3.json")) {
            f = JsonMapper.builder().build().readTree(in);
        }
        SyntheticModelWriter.write(dir, (ObjectNode) f.get("config"), f.get("generation_config"), f.get("seed").asLong(),
                DType.BF16, 1, Path.of(BatchSchedulerTest.class.getResource("/tokenizers/qwen3").toURI()));
        engine = Engine.open(dir, new EngineOptions("cpu", 0, 0, 32768, 16));
        prompt = new int[f.get("prompt_ids").size()];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = f.get("prompt_ids").get(i).asInt();
        }
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static AttentionSpec spec(int i) {
        return i % 2 == 0 ? AttentionSpec.full() : AttentionSpec.tokenSelect(new SelectionParams(32, 4, 32, 0.9, 32));
    }

    private static int[] promptOf(int i) {
        return Arrays.copyOf(prompt, 200 + 97 * i); // different lengths: requests join and leave at different steps
    }

    /**
     * Greedy requests, two sampled ones (one bounded by top-k), one greedy with a repetition penalty
     * and one top-k request: batches holding the penalised or the unbounded request take the logits
     * rows, then greedy and top-k requests the best candidates, and the last greedy ones (6 and 7) the
     * argmax alone.
     */
    private static SamplingParams paramsOf(int i) {
        SamplingParams.Builder b = SamplingParams.builder().maxTokens(6 + 3 * i).ignoreEos(true);
        if (i == 1) {
            b.temperature(0.8).seed(41L);
        } else if (i == 4) {
            b.temperature(0.8).topK(20).seed(44L);
        } else if (i == 5) {
            b.temperature(1.1).topK(5).topP(0.9).seed(45L);
        } else if (i == 2) {
            b.repetitionPenalty(1.3);
        }
        return b.build();
    }

    @Test
    void eightConcurrentStreamsEqualTheSameQuestionsAskedOneAtATime() throws Exception {
        int n = 8;
        List<GenerationResult> alone = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            alone.add(engine.generator(512).generate(spec(i), promptOf(i), paramsOf(i), TokenListener.NONE));
        }
        try (BatchScheduler scheduler = new BatchScheduler(engine.backend(), engine.tokenizer(),
                engine.model().generation().eosTokenIds(), 512, 8)) {
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            List<StringBuilder> streamed = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                StringBuilder text = new StringBuilder();
                streamed.add(text);
                futures.add(null);
                threads.add(Thread.ofPlatform().start(() -> futures.set(k,
                        scheduler.submit(spec(k), promptOf(k), paramsOf(k), text::append))));
            }
            for (Thread t : threads) {
                t.join();
            }
            for (int i = 0; i < n; i++) {
                GenerationResult r = futures.get(i).get(120, TimeUnit.SECONDS);
                assertArrayEquals(alone.get(i).ids(), r.ids(), "request " + i);
                assertEquals(alone.get(i).text(), r.text());
                assertEquals(r.text(), streamed.get(i).toString(), "the stream of request " + i);
                assertEquals(alone.get(i).stats().attention(), r.stats().attention(), "selection counts of request " + i);
            }
            assertTrue(scheduler.largestBatch() > 1, "decode steps were batched: " + scheduler.largestBatch());
        }
        assertEquals(0, engine.backend() instanceof dev.tokenselect.engine.backend.cpu.CpuBackend cpu
                ? cpu.kvPool().allocator().usedBlocks() : 0, "every sequence returned its blocks");
    }

    @Test
    void badRequestsAndFailingListenersFailAlone() throws Exception {
        try (BatchScheduler scheduler = new BatchScheduler(engine.backend(), engine.tokenizer(), java.util.Set.of(), 512, 2)) {
            var bad = scheduler.submit(AttentionSpec.full(), new int[] {1, -5}, SamplingParams.greedy(2), TokenListener.NONE);
            var e = assertThrows(ExecutionException.class, bad::get);
            assertTrue(e.getCause().getMessage().contains("vocabulary"));
            TokenListener throwing = delta -> {
                throw new IllegalStateException("client went away");
            };
            var failing = scheduler.submit(AttentionSpec.full(), promptOf(0), SamplingParams.builder().maxTokens(8)
                    .ignoreEos(true).build(), throwing);
            var fine = scheduler.submit(AttentionSpec.full(), promptOf(1), SamplingParams.builder().maxTokens(8)
                    .ignoreEos(true).build(), TokenListener.NONE);
            assertEquals(8, fine.get(60, TimeUnit.SECONDS).ids().length);
            var thrown = assertThrows(ExecutionException.class, () -> failing.get(60, TimeUnit.SECONDS));
            assertTrue(thrown.getCause().getMessage().contains("client went away"));
        }
    }
}
