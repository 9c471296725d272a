package dev.tokenselect.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.document.Document;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.tokenselect.spring.ai.chat.TokenSelectChatModel;
import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;
import dev.tokenselect.spring.ai.chat.TokenSelectUsage;
import dev.tokenselect.spring.ai.corpus.CorpusAdvisor;
import dev.tokenselect.spring.ai.corpus.CorpusService;

/**
 * A {@code ChatClient} on the auto-configured chat model, answering with the trained needle model on the CPU:
 * streaming, corpora through {@link CorpusAdvisor}, many threads, observations.
 */
class ChatClientIntegrationTest {

    @TempDir
    Path cache;

    private final TestObservationRegistry observations = TestObservationRegistry.create();

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(TokenSelectAutoConfigurationTest.ALL)
                .withBean(io.micrometer.observation.ObservationRegistry.class, () -> observations)
                .withPropertyValues("spring.ai.tokenselect.model=" + TokenSelectAutoConfigurationTest.MODEL,
                        "spring.ai.tokenselect.backend=cpu", "spring.ai.tokenselect.threads=2",
                        "spring.ai.tokenselect.kv-capacity-tokens=32768", "spring.ai.tokenselect.cache-dir=" + cache,
                        "spring.ai.tokenselect.chat.options.max-tokens=16");
    }

    static String haystack(int n) {
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
    void aStreamedAnswerArrivesInPiecesThatMakeUpTheCalledAnswer() {
        runner().run(ctx -> {
            ChatClient client = ChatClient.create(ctx.getBean(ChatModel.class));
            String question = "What is the special code for Ada?";
            ChatResponse called = client.prompt().system(haystack(12)).user(question).call().chatResponse();
            String answer = called.getResult().getOutput().getText();
            List<String> chunks = client.prompt().system(haystack(12)).user(question).stream().content()
                    .collectList().block(Duration.ofSeconds(60));
            assertThat(chunks).hasSizeGreaterThan(1);
            assertThat(String.join("", chunks)).isEqualTo(answer);
            assertThat(answer).isNotBlank();
            assertThat(called.getResult().getMetadata().getFinishReason()).isIn(TokenSelectChatModel.STOP,
                    TokenSelectChatModel.LENGTH);
            assertThat(called.getMetadata().getModel()).isEqualTo("needle-14m");
            Usage usage = called.getMetadata().getUsage();
            assertThat(usage.getPromptTokens()).isGreaterThan(100);
            assertThat(usage.getCompletionTokens()).isBetween(1, 16);
            // the two requests were observed through Spring AI's chat-model observation
            TestObservationRegistryAssert.assertThat(observations)
                    .hasNumberOfObservationsWithNameEqualTo("gen_ai.client.operation", 2)
                    .hasObservationWithNameEqualTo("gen_ai.client.operation").that()
                    .hasLowCardinalityKeyValue("gen_ai.system", TokenSelectChatModel.PROVIDER)
                    .hasLowCardinalityKeyValue("gen_ai.response.model", "needle-14m")
                    .hasBeenStopped();
        });
    }

    /** A cache salt per tenant: a tenant's repeated prompt reuses its own cached prefix and never another's. */
    @Test
    void aCacheSaltSharesPrefixesWithinATenantOnly() {
        runner().run(ctx -> {
            ChatClient client = ChatClient.create(ctx.getBean(ChatModel.class));
            String system = haystack(30);
            java.util.function.Function<String, Usage> ask = salt -> client.prompt().system(system)
                    .user("What is the special code for Ada?")
                    .options(TokenSelectChatOptions.builder().cacheSalt(salt)).call().chatResponse().getMetadata()
                    .getUsage();
            Usage first = ask.apply("tenant-a");
            assertThat(first.getCacheReadInputTokens()).isZero();
            assertThat(ask.apply("tenant-a").getCacheReadInputTokens()).isGreaterThan(300L); // the shared system prompt
            assertThat(ask.apply("tenant-b").getCacheReadInputTokens()).isZero(); // same tokens, another tenant
            assertThat(ask.apply("tenant-b").getCacheReadInputTokens()).isGreaterThan(300L);
        });
    }

    @Test
    void theCorpusAdvisorReusesTheCorpusPrefixForEveryQuestion() {
        runner().run(ctx -> {
            CorpusService corpora = ctx.getBean(CorpusService.class);
            var info = corpora.register("handbook", List.of(new Document(haystack(40), Map.of("title", "codes"))));
            assertThat(info.tokens()).isGreaterThan(800);
            ChatModel model = ctx.getBean(ChatModel.class);
            ChatClient client = ChatClient.builder(model)
                    .defaultAdvisors(CorpusAdvisor.builder(corpora).corpus("handbook").build()).build();

            ChatResponse first = client.prompt().user("What is the special code for Ada?").call().chatResponse();
            ChatResponse second = client.prompt().user("What is the special code for Brook?").call().chatResponse();
            for (ChatResponse r : List.of(first, second)) {
                Usage usage = r.getMetadata().getUsage();
                TokenSelectUsage tokens = (TokenSelectUsage) usage.getNativeUsage();
                assertThat(usage.getCacheReadInputTokens()).isEqualTo((long) info.tokens());
                assertThat(tokens.cachedPrefixTokens()).isEqualTo(info.tokens());
                assertThat(tokens.prefilledTokens()).isEqualTo(usage.getPromptTokens() - info.tokens()).isLessThan(40);
                assertThat((String) r.getMetadata().get(TokenSelectChatModel.CORPUS)).isEqualTo("handbook");
            }
            // the small model answers in the form it was trained for (a six-digit code); the corpus sits in the
            // system turn here, not in the user turn it was trained on, so which code it picks is not asserted
            assertThat(first.getResult().getOutput().getText()).containsPattern("\\d{6}");

            // per request, through the advisor parameter, with an advisor that has no default corpus
            ChatClient perRequest = ChatClient.builder(model).defaultAdvisors(CorpusAdvisor.builder(corpora).build()).build();
            ChatResponse withParam = perRequest.prompt().user("What is the special code for Ada?")
                    .advisors(a -> a.param(CorpusAdvisor.CORPUS, "handbook")).call().chatResponse();
            assertThat(withParam.getMetadata().getUsage().getCacheReadInputTokens()).isEqualTo((long) info.tokens());
            assertThat(withParam.getResult().getOutput().getText()).isEqualTo(first.getResult().getOutput().getText());
            ChatResponse without = perRequest.prompt().user("What is the special code for Ada?").call().chatResponse();
            assertThat(without.getMetadata().getUsage().getPromptTokens()).isLessThan(40);

            // a streamed corpus answer is the same answer
            String streamed = String.join("", client.prompt().user("What is the special code for Brook?").stream()
                    .content().collectList().block(Duration.ofSeconds(60)));
            assertThat(streamed).isEqualTo(second.getResult().getOutput().getText());

            assertThatThrownBy(() -> perRequest.prompt().user("?").advisors(a -> a.param(CorpusAdvisor.CORPUS, "nope"))
                    .call().content()).hasMessageContaining("no corpus named 'nope'").hasMessageContaining("handbook");
        });
    }

    @Test
    void withTheCorpusInTheUserTurnTheNeedleModelAnswersFromTheCorpus() {
        runner().withPropertyValues("spring.ai.tokenselect.corpus-turn=user").run(ctx -> {
            CorpusService corpora = ctx.getBean(CorpusService.class);
            // the layout the model was trained on: the text, then the question, in one user turn
            String notes = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
                    .repeat(30) + "The special code for falcon is 318274. "
                    + "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ".repeat(30);
            var info = corpora.register("notes", List.of(new Document(notes.strip(), Map.of("title", "notes.txt"))));
            ChatClient client = ChatClient.builder(ctx.getBean(ChatModel.class))
                    .defaultAdvisors(CorpusAdvisor.builder(corpora).corpus("notes").build()).build();
            ChatResponse r = client.prompt().user("What is the special code for falcon?").call().chatResponse();
            assertThat(r.getResult().getOutput().getText()).contains("318274");
            assertThat(r.getMetadata().getUsage().getCacheReadInputTokens()).isEqualTo((long) info.tokens());
        });
        runner().withPropertyValues("spring.ai.tokenselect.corpus-turn=assistant").run(ctx ->
                assertThat(ctx).hasFailed().getFailure()
                        .hasStackTraceContaining("spring.ai.tokenselect.corpus-turn: corpus turn 'assistant' is neither "
                                + "'system' nor 'user'; set it to system or user"));
    }

    @Test
    void eightConcurrentStreamsGiveTheGreedyAnswersOfTheSameQuestionsAskedOneAtATime() {
        runner().run(ctx -> {
            ChatClient client = ChatClient.create(ctx.getBean(ChatModel.class));
            String[] names = {"Ada", "Brook", "Cyril", "Dana", "Ada", "Brook", "Eve", "Fay"};
            List<String> alone = new ArrayList<>();
            for (int i = 0; i < names.length; i++) {
                alone.add(client.prompt().system(haystack(6 + i)).user("What is the special code for " + names[i] + "?")
                        .options(TokenSelectChatOptions.builder().maxTokens(10 + i)).call().content());
            }
            ExecutorService pool = Executors.newFixedThreadPool(names.length);
            try {
                List<Future<String>> together = new ArrayList<>();
                for (int i = 0; i < names.length; i++) {
                    int n = i;
                    Callable<String> streamed = () -> String.join("", client.prompt().system(haystack(6 + n))
                            .user("What is the special code for " + names[n] + "?")
                            .options(TokenSelectChatOptions.builder().maxTokens(10 + n)).stream().content()
                            .collectList().block(Duration.ofSeconds(120)));
                    together.add(pool.submit(streamed));
                }
                for (int i = 0; i < names.length; i++) {
                    assertThat(together.get(i).get()).as("question %d", i).isEqualTo(alone.get(i));
                }
            } finally {
                pool.shutdownNow();
            }
        });
    }
}
