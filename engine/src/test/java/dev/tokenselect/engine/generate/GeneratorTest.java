package dev.tokenselect.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The generation loop on a real model directory: streaming, stop strings, EOS, limits. */
class GeneratorTest {

    @TempDir
    static Path dir;
    static Engine engine;
    static JsonNode fixture;

    @BeforeAll
    static void open() throws Exception {
        try (InputStream in = GeneratorTest.class.getResourceAsStream("/fixtures/models/qwen3.json")) {
            fixture = JsonMapper.builder().build().readTree(in);
        }
        SyntheticModelWriter.write(dir, (ObjectNode) fixture.get("config"), fixture.get("generation_config"),
                fixture.get("seed").asLong(), DType.BF16, 1,
                Path.of(GeneratorTest.class.getResource("/tokenizers/qwen3").toURI()));
        engine = Engine.open(dir, new EngineOptions("cpu", 0, 0, 4096, 16));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static int[] prompt() {
        JsonNode ids = fixture.get("prompt_ids");
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i).asInt();
        }
        return out;
    }

    private static int[] greedy() {
        JsonNode ids = fixture.get("greedy_ids");
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i).asInt();
        }
        return out;
    }

    @Test
    void streamedDeltasAddUpToTheTextAndTheDecodedIds() {
        List<String> deltas = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        GenerationResult r = engine.generator(512).generate(prompt(), SamplingParams.builder().maxTokens(24).ignoreEos(true).build(),
                new TokenListener() {
                    @Override
                    public void onText(String delta) {
                        deltas.add(delta);
                    }

                    @Override
                    public void onToken(int id) {
                        ids.add(id);
                    }
                });
        assertArrayEquals(greedy(), r.ids());
        assertEquals(String.join("", deltas), r.text());
        assertEquals(engine.tokenizer().decode(r.ids(), true), r.text());
        assertEquals(24, ids.size());
        assertTrue(deltas.stream().noneMatch(d -> d.contains("\uFFFD")), "no split characters");
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(24, r.stats().generatedTokens());
    }

    @Test
    void aStopStringEndsTheOutputBeforeIt() {
        GenerationResult full = engine.generator(512).generate(prompt(), SamplingParams.builder().maxTokens(24)
                .ignoreEos(true).build(), TokenListener.NONE);
        String text = full.text();
        // a stop string from the middle of the greedy text: the output is what came before it
        int cut = text.length() / 2;
        String stop = text.substring(cut, Math.min(text.length(), cut + 3));
        StringBuilder streamed = new StringBuilder();
        GenerationResult r = engine.generator(512).generate(prompt(), SamplingParams.builder().maxTokens(24)
                .ignoreEos(true).stopStrings(List.of(stop)).build(), streamed::append);
        assertEquals(FinishReason.STOP_STRING, r.finishReason());
        assertEquals(text.substring(0, text.indexOf(stop)), r.text());
        assertEquals(r.text(), streamed.toString());
        assertTrue(r.ids().length < 24);
    }

    @Test
    void eosEndsGenerationAndIsKeptInTheIds() {
        int first = greedy()[0];
        Generator g = new Generator(engine.backend(), engine.tokenizer(), Set.of(first));
        GenerationResult r = g.generate(prompt(), SamplingParams.greedy(10), TokenListener.NONE);
        assertArrayEquals(new int[] {first}, r.ids());
        assertEquals(FinishReason.EOS, r.finishReason());
        assertEquals("", r.text());
    }

    @Test
    void chunkedPrefillGivesTheSameTokens() {
        GenerationResult chunked = engine.generator(7).generate(prompt(), SamplingParams.builder().maxTokens(24)
                .ignoreEos(true).build(), TokenListener.NONE);
        assertArrayEquals(greedy(), chunked.ids());
    }

    @Test
    void badRequestsAreRejectedWithoutTouchingTheEngine() {
        Generator g = engine.generator(512);
        var empty = assertThrows(IllegalArgumentException.class,
                () -> g.generate(new int[0], SamplingParams.greedy(4), TokenListener.NONE));
        assertTrue(empty.getMessage().contains("empty"));
        var outside = assertThrows(IllegalArgumentException.class,
                () -> g.generate(new int[] {1, 999_999_999}, SamplingParams.greedy(4), TokenListener.NONE));
        assertTrue(outside.getMessage().contains("vocabulary"));
        assertFalse(g.generate(prompt(), SamplingParams.greedy(1), TokenListener.NONE).ids().length == 0);
    }

    @Test
    void topKSamplingFromTheBestCandidatesDrawsWhatTheWholeRowsDraw() {
        SamplingParams p = SamplingParams.builder().temperature(1.2).topK(30).topP(0.95).seed(5L).maxTokens(16)
                .ignoreEos(true).build();
        GenerationResult r = engine.generator(512).generate(prompt(), p, TokenListener.NONE);
        // the same draws from whole logits rows, one forward pass per token
        Sampler sampler = new Sampler(p);
        int[] ids = new int[16];
        try (var seq = engine.backend().newSequence()) {
            float[] logits = engine.backend().forward(seq, prompt());
            for (int i = 0; i < ids.length; i++) {
                ids[i] = sampler.sample(logits, new int[0], 0);
                if (i + 1 < ids.length) {
                    logits = engine.backend().forward(seq, new int[] {ids[i]}, true);
                }
            }
        }
        assertArrayEquals(ids, r.ids());
        assertTrue(java.util.Arrays.stream(ids).distinct().count() > 2, "sampled, not a constant token");
    }
}
