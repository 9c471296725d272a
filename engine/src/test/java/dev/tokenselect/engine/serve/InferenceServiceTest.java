package dev.tokenselect.engine.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.chat.ChatFormat;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.prefix.CorpusFixture;
import dev.tokenselect.engine.prefix.CorpusManager.CorpusInfo;
import dev.tokenselect.engine.prefix.CorpusPrompts;
import dev.tokenselect.engine.prefix.CorpusPrompts.Document;
import dev.tokenselect.engine.select.AttentionSpec;

/** The service on the trained needle model: batching, prefix sharing and corpora change no answer. */
class InferenceServiceTest {

    private static final Path MODEL = Path.of("..", "models", "needle-14m");

    static Engine engine;
    static InferenceService service;
    static ChatFormat chat;

    @BeforeAll
    static void open() {
        engine = Engine.open(MODEL, new EngineOptions("cpu", 0, 2, 32768, 32));
        service = new InferenceService(engine, null, InferenceService.Options.defaults());
        chat = ChatFormat.of(engine.tokenizer());
    }

    @AfterAll
    static void close() {
        service.close();
        engine.close();
    }

    private static Map<String, Object> message(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    private static int[] chatPrompt(String system, String user) {
        String text = chat.render(List.of(message("system", system), message("user", user)), null, true, Map.of());
        return engine.tokenizer().encode(text, false);
    }

    /** What plain generation, without queue or cache, gives. */
    private static GenerationResult alone(int[] prompt, SamplingParams params) {
        return engine.generator(512).generate(AttentionSpec.full(), prompt, params, TokenListener.NONE);
    }

    private static String haystack(int n) {
        StringBuilder sb = new StringBuilder("Some special codes are hidden in the following text. Read it and remember them.\n\n");
        for (int i = 0; i < n; i++) {
            sb.append("The grass is green. The sky is blue. The sun is yellow. Here we go. ");
            if (i == n / 3) {
                sb.append("The special code for Ada is 318274. ");
            }
            if (i == 2 * n / 3) {
                sb.append("The special code for Brook is 902113. ");
            }
        }
        return sb.toString();
    }

    @Test
    void eightConcurrentRequestsGetWhatEachGetsAlone() throws Exception {
        String system = haystack(20);
        String[] names = {"Ada", "Brook", "Cyril", "Dana", "Ada", "Brook", "Eve", "Fay"};
        List<int[]> prompts = new ArrayList<>();
        List<SamplingParams> params = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            prompts.add(chatPrompt(system, "What is the special code for " + names[i] + "?" + " ".repeat(i % 3)));
            params.add(SamplingParams.builder().maxTokens(8 + i).ignoreEos(i % 2 == 0).build());
        }
        List<CompletableFuture<Completion>> futures = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            futures.add(service.submit(InferenceRequest.of(prompts.get(i), params.get(i)), TokenListener.NONE));
        }
        boolean shared = false;
        for (int i = 0; i < names.length; i++) {
            Completion c = futures.get(i).get(120, TimeUnit.SECONDS);
            GenerationResult expected = alone(prompts.get(i), params.get(i));
            assertArrayEquals(expected.ids(), c.result().ids(), "request " + i);
            assertEquals(expected.text(), c.result().text());
            assertEquals(expected.finishReason(), c.result().finishReason());
            assertEquals(prompts.get(i).length, c.cachedPrefixTokens() + c.prefilledTokens());
            shared |= c.cachedPrefixTokens() > 0;
        }
        // the same system prompt, asked again: the cached blocks are attached, the answers stay the same
        Completion again = service.submit(InferenceRequest.of(prompts.get(0), params.get(0)), TokenListener.NONE)
                .get(60, TimeUnit.SECONDS);
        assertTrue(again.cachedPrefixTokens() >= prompts.get(0).length - 2 * 32,
                "the whole prompt but its last partial block comes from the cache: " + again.cachedPrefixTokens());
        assertArrayEquals(alone(prompts.get(0), params.get(0)).ids(), again.result().ids());
        assertTrue(shared || again.cachedPrefixTokens() > 0);
    }

    @Test
    void aCorpusQuestionForksTheResidentPrefixAndAnswersAsTheWholePromptWould() throws Exception {
        CorpusInfo info = service.registerCorpus("handbook", List.of(new Document("codes", haystack(30))));
        assertTrue(info.prefilledTokens() > 500, "prefilled once: " + info.prefilledTokens());
        assertTrue(service.stats().residentCorpora().contains("handbook"));
        SamplingParams greedy = SamplingParams.greedy(12);
        for (String q : List.of("What is the special code for Ada?", "What is the special code for Brook?")) {
            int[] prompt = service.corpusConversation("handbook", List.of(message("user", q)), null, Map.of());
            int corpus = service.corpusTokens("handbook").length;
            assertArrayEquals(service.corpusTokens("handbook"), Arrays.copyOf(prompt, corpus));
            Completion c = service.submit(InferenceRequest.of(prompt, greedy).withCorpus("handbook"), TokenListener.NONE)
                    .get(60, TimeUnit.SECONDS);
            assertEquals(corpus, c.cachedPrefixTokens());
            assertEquals(prompt.length - corpus, c.prefilledTokens());
            assertTrue(c.prefilledTokens() < 40, "only the question is prefilled: " + c.prefilledTokens());
            GenerationResult expected = alone(prompt, greedy);
            assertArrayEquals(expected.ids(), c.result().ids());
        }
        assertTrue(service.unregisterCorpus("handbook"));
        assertFalse(service.stats().residentCorpora().contains("handbook"));
    }

    @Test
    void aListenerThatThrowsEndsItsOwnRequestOnly() throws Exception {
        int[] prompt = chatPrompt("Be brief.", "What is the special code for Ada?");
        SamplingParams params = SamplingParams.builder().maxTokens(20).ignoreEos(true).build();
        CompletableFuture<Completion> cancelled = service.submit(InferenceRequest.of(prompt, params), new TokenListener() {
            int seen;

            @Override
            public void onText(String delta) {
            }

            @Override
            public void onToken(int id) {
                if (++seen == 3) {
                    throw new java.util.concurrent.CancellationException("the caller went away");
                }
            }
        });
        CompletableFuture<Completion> other = service.submit(InferenceRequest.of(prompt, params), TokenListener.NONE);
        ExecutionException e = assertThrows(ExecutionException.class, () -> cancelled.get(60, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("went away"));
        assertEquals(20, other.get(60, TimeUnit.SECONDS).result().ids().length);
    }

    @Test
    void withToolsInTheSystemTurnTheConversationStillStartsWithTheCorpusDocuments(@TempDir Path dir) throws Exception {
        Path model = CorpusFixture.writeModel(dir.resolve("qwen3"), 5);
        try (Engine qwen = CorpusFixture.open(model)) {
            CorpusPrompts prompts = new CorpusPrompts(qwen.tokenizer());
            int[] corpus = prompts.corpusTokens(CorpusFixture.documents());
            List<Map<String, Object>> tools = List.of(Map.of("type", "function", "function", Map.of("name", "weather",
                    "description", "The weather in a city", "parameters", Map.of("type", "object",
                            "properties", Map.of("city", Map.of("type", "string"))))));
            List<Map<String, Object>> conversation = List.of(message("user", "Is it warm in Paris?"));
            int[] plain = prompts.conversationTokens(corpus, conversation, null, Map.of("enable_thinking", false));
            assertArrayEquals(corpus, Arrays.copyOf(plain, corpus.length), "no tools: the whole corpus is the prefix");
            int[] withTools = prompts.conversationTokens(corpus, conversation, tools, Map.of("enable_thinking", false));
            String text = qwen.tokenizer().decode(withTools, false);
            assertTrue(text.contains("# Tools") && text.contains("\"name\": \"weather\""), text);
            // Qwen3 appends the tools to the system turn: the corpus's closing tokens differ, everything before is the same
            int tail = qwen.tokenizer().encode("<|im_end|>\n", false).length;
            assertArrayEquals(Arrays.copyOf(corpus, corpus.length - tail), Arrays.copyOf(withTools, corpus.length - tail));
            assertFalse(Arrays.equals(corpus, Arrays.copyOf(withTools, corpus.length)));
        }
    }
}
