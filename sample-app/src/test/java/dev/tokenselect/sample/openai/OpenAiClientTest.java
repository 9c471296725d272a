package dev.tokenselect.sample.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;

import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Multipart.Part;
import dev.tokenselect.sample.Needles;
import tools.jackson.databind.JsonNode;

/**
 * Spring AI's own OpenAI client (on OpenAI's Java SDK) pointed at the app: models, a completion and a stream on a
 * corpus, errors in OpenAI's format, and the API key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiClientTest extends AppTestBase {

    @BeforeEach
    void corpus() throws Exception {
        if (!"ready".equals(json(get("/api/corpora/handbook")).path("status").asString())) {
            upload("handbook", List.of(Part.text("notes.txt", Needles.notes(Needles.KEY, Needles.CODE))));
            awaitReady("handbook", Duration.ofSeconds(60));
        }
    }

    @AfterAll
    void clean() throws Exception {
        deleteAllCorpora();
    }

    OpenAiChatModel client(String model, String key) {
        return OpenAiChatModel.builder().options(OpenAiChatOptions.builder().baseUrl(base() + "/v1").apiKey(key)
                .model(model).maxRetries(0).timeout(Duration.ofSeconds(60)).build()).build();
    }

    @Test
    void aCompletionOnACorpusNamedByTheModel() {
        ChatResponse r = client("corpus:handbook", API_KEY).call(new Prompt(Needles.QUESTION));
        assertThat(r.getResult().getOutput().getText()).contains(Needles.CODE);
        assertThat(r.getResult().getMetadata().getFinishReason()).isEqualToIgnoringCase("stop");
        assertThat(r.getMetadata().getModel()).isEqualTo("corpus:handbook");
        assertThat(r.getMetadata().getUsage().getPromptTokens()).isGreaterThan(1000);
        assertThat(r.getMetadata().getUsage().getCompletionTokens()).isPositive();
    }

    @Test
    void aStreamOnACorpusArrivesInPiecesThatMakeTheAnswer() {
        List<ChatResponse> chunks = client("corpus:handbook", API_KEY).stream(new Prompt(Needles.QUESTION))
                .collectList().block(Duration.ofSeconds(60));
        List<String> texts = chunks.stream().filter(c -> c.getResult() != null)
                .map(c -> c.getResult().getOutput().getText()).filter(t -> t != null && !t.isEmpty()).toList();
        assertThat(texts).hasSizeGreaterThan(2);
        assertThat(String.join("", texts)).contains(Needles.CODE);
    }

    @Test
    void theBareModelAnswersWithoutACorpusAndTheCorpusFieldSelectsOne() throws Exception {
        ChatResponse bare = client("needle-14m", API_KEY).call(new Prompt("Hello"));
        assertThat(bare.getMetadata().getUsage().getPromptTokens()).isLessThan(50);

        var withField = postJson("/v1/chat/completions", "{\"model\": \"needle-14m\", \"corpus\": \"handbook\", "
                + "\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \""
                + Needles.QUESTION + "\"}]}]}", "Authorization", "Bearer " + API_KEY);
        assertThat(withField.statusCode()).isEqualTo(200);
        JsonNode body = json(withField);
        assertThat(body.path("object").asString()).isEqualTo("chat.completion");
        assertThat(body.path("choices").get(0).path("message").path("content").asString()).contains(Needles.CODE);
        assertThat(body.path("usage").path("prompt_tokens_details").path("cached_tokens").asInt()).isGreaterThan(1000);
    }

    @Test
    void modelsListTheBareModelAndOnePerCorpus() throws Exception {
        var r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/v1/models"))
                .header("Authorization", "Bearer " + API_KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode models = json(r);
        assertThat(models.path("object").asString()).isEqualTo("list");
        assertThat(models.path("data").findValuesAsString("id")).containsExactly("needle-14m", "corpus:handbook");
        assertThat(models.path("data").get(0).path("object").asString()).isEqualTo("model");
    }

    @Test
    void anUnknownModelOrCorpusIsAnOpenAiError() throws Exception {
        var unknown = postJson("/v1/chat/completions", "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\", "
                + "\"content\": \"Hi\"}]}", "Authorization", "Bearer " + API_KEY);
        assertThat(unknown.statusCode()).isEqualTo(404);
        JsonNode error = json(unknown).path("error");
        assertThat(error.path("code").asString()).isEqualTo("model_not_found");
        assertThat(error.path("message").asString()).contains("'gpt-4o' does not exist", "needle-14m");
        var noMessages = postJson("/v1/chat/completions", "{\"model\": \"needle-14m\", \"messages\": []}",
                "Authorization", "Bearer " + API_KEY);
        assertThat(noMessages.statusCode()).isEqualTo(400);
        assertThat(json(noMessages).path("error").path("param").asString()).isEqualTo("messages");
        assertThatThrownBy(() -> client("corpus:nope", API_KEY).call(new Prompt("Hi")))
                .hasMessageContaining("no corpus named 'nope'");
    }

    @Test
    void withoutTheKeyOrWithAWrongOneV1Answers401InOpenAisFormat() throws Exception {
        var none = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        JsonNode missing = json(none).path("error");
        assertThat(missing.path("message").asString()).contains("didn't provide an API key");
        assertThat(missing.path("type").asString()).isEqualTo("invalid_request_error");

        var wrong = postJson("/v1/chat/completions", "{\"model\": \"needle-14m\", \"messages\": [{\"role\": \"user\", "
                + "\"content\": \"Hi\"}]}", "Authorization", "Bearer not-the-key");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(json(wrong).path("error").path("code").asString()).isEqualTo("invalid_api_key");

        assertThatThrownBy(() -> client("corpus:handbook", "not-the-key").call(new Prompt(Needles.QUESTION)))
                .hasMessageContaining("Incorrect API key");
        // the app's own API and pages need no key
        assertThat(get("/api/corpora").statusCode()).isEqualTo(200);
    }
}
