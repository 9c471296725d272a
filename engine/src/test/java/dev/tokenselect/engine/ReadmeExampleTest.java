package dev.tokenselect.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.generate.BatchScheduler;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;

/** The README's Java example, as written there, on the shipped model. */
class ReadmeExampleTest {

    @Test
    void theExampleRuns() throws Exception {
        StringBuilder printed = new StringBuilder();
        GenerationResult queued;
        try (Engine engine = Engine.open(Path.of("..", "models", "needle-14m"), EngineOptions.defaults())) {
            int[] prompt = engine.tokenizer().encode(
                    ChatFormat.of(engine.tokenizer()).render(List.of(Map.<String, Object>of("role", "user", "content", "Hi")),
                            null, true, Map.of()),
                    false);
            SamplingParams params = SamplingParams.builder().maxTokens(64).temperature(0.7).topP(0.9).seed(42L).build();
            GenerationResult r = engine.generator(512).generate(
                    AttentionSpec.tokenSelect(SelectionParams.defaults()), prompt, params, printed::append);
            assertEquals(r.text(), printed.toString());
            assertTrue(r.stats().toMap().containsKey("decode_tokens_per_s"));

            try (BatchScheduler queue = new BatchScheduler(engine.backend(), engine.tokenizer(),
                    engine.model().generation().eosTokenIds(), 512, 8)) {
                CompletableFuture<GenerationResult> answer = queue.submit(AttentionSpec.full(), prompt, params, delta -> { });
                queued = answer.get(60, TimeUnit.SECONDS);
            }
            // the same seed and prompt: the queue samples the same tokens (full attention and TokenSelect agree
            // here: the prompt is far below TokenSelect's budget)
            assertEquals(java.util.Arrays.toString(r.ids()), java.util.Arrays.toString(queued.ids()));
        }
    }
}
