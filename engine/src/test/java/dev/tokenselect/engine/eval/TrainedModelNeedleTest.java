package dev.tokenselect.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.select.SelectionParams;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * The model trained for long-context retrieval ({@code models/needle-14m}, see tools/train) finds a
 * needle in a 4K-token haystack with TokenSelect, while sinks plus a window of the same size, which
 * cannot see the needle, do not. Held-out samples of the Java task generator, CPU backend.
 */
class TrainedModelNeedleTest {

    private static final Path MODEL = Path.of("..", "models", "needle-14m");
    private static final int N_INIT = 128;
    private static final int N_LOCAL = 512;

    @Test
    void tokenSelectFindsTheNeedleThatSinksAndWindowCannotSee() {
        assertTrue(Files.isRegularFile(MODEL.resolve("model.safetensors")),
                "the trained model is missing at " + MODEL.toAbsolutePath() + " (it is part of the repository)");
        AttentionSpec tokenSelect = AttentionSpec.tokenSelect(new SelectionParams(512, N_INIT, N_LOCAL, 0.9, N_LOCAL));
        AttentionSpec streaming = new AttentionSpec(AttentionSpec.Kind.STREAMING,
                new SelectionParams(512, N_INIT, N_LOCAL, 0.9, N_LOCAL), 16);
        try (Engine engine = Engine.open(MODEL, new EngineOptions("cpu", 0, 0, 8192, 32))) {
            Tokenizer tokenizer = engine.tokenizer();
            ChatFormat chat = EvalHarness.chatFormat(tokenizer);
            EvalTasks.TokenCounter counter = EvalHarness.counter(tokenizer, chat);
            int tried = 0;
            int tokenSelectRight = 0;
            for (int i = 0; tried < 4 && i < 16; i++) {
                EvalSample sample = EvalTasks.generate("niah_single_noise", EvalSeeds.sampleSeed(7, 0, i), 4096, counter);
                int[] ids = EvalHarness.promptIds(tokenizer, chat, sample.user());
                int needleAt = needlePosition(tokenizer, ids, sample.expected().get(0));
                if (needleAt < N_INIT || needleAt >= ids.length - N_LOCAL) {
                    continue; // only needles that sinks + window cannot see
                }
                tried++;
                GenerationResult ts = engine.generator(N_LOCAL).generate(tokenSelect, ids, SamplingParams.greedy(12),
                        TokenListener.NONE);
                GenerationResult sw = engine.generator(N_LOCAL).generate(streaming, ids, SamplingParams.greedy(12),
                        TokenListener.NONE);
                assertTrue(ids.length > 3900 && ids.length <= 4096, "a 4K prompt: " + ids.length);
                if (Scorer.correct(ts.text(), sample.expected())) {
                    tokenSelectRight++;
                }
                assertTrue(!Scorer.correct(sw.text(), sample.expected()),
                        "sinks + window answered a needle at token " + needleAt + " that it cannot see: " + sw.text());
            }
            assertEquals(4, tried, "enough samples with the needle in the middle");
            assertTrue(tokenSelectRight >= 3, "TokenSelect found " + tokenSelectRight + " of 4 needles");
        }
    }

    /** The token index where the answer's digits first appear in the prompt. */
    private static int needlePosition(Tokenizer tokenizer, int[] ids, String answer) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            text.append(tokenizer.decode(new int[] {ids[i]}));
            if (text.indexOf(answer) >= 0) {
                return i;
            }
        }
        throw new AssertionError("the answer " + answer + " is not in the prompt");
    }
}
