package dev.tokenselect.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

/** The pages and the engine line they show. */
class SampleApplicationTest extends AppTestBase {

    @Test
    void servesTheChatAndCorporaPagesWithTheirScriptsAndStyles() throws Exception {
        HttpResponse<String> chat = get("/");
        assertThat(chat.statusCode()).isEqualTo(200);
        assertThat(chat.body()).contains("<title>Chat · TokenSelect document Q&amp;A</title>", "chat.js");
        HttpResponse<String> corpora = get("/corpora.html");
        assertThat(corpora.statusCode()).isEqualTo(200);
        assertThat(corpora.body()).contains("id=\"upload\"", "corpora.js");
        for (String asset : new String[] {"/app.css", "/common.js", "/chat.js", "/corpora.js"}) {
            assertThat(get(asset).statusCode()).as(asset).isEqualTo(200);
        }
        // no page loads anything from elsewhere
        assertThat(chat.body() + corpora.body()).doesNotContain("http://", "https://");
    }

    @Test
    void theEngineInfoNamesTheDefaultModelAndItsKvSize() throws Exception {
        JsonNode info = json(get("/api/info"));
        assertThat(info.path("model").asString()).isEqualTo("needle-14m");
        assertThat(info.path("architecture").asString()).isEqualTo("LlamaForCausalLM");
        assertThat(info.path("backend").asString()).isEqualTo("cpu");
        // 8 layers x 2 KV heads x 64 dims x (K and V) x 4 bytes
        assertThat(info.path("kvBytesPerToken").asLong()).isEqualTo(8L * 2 * 64 * 2 * 4);
        assertThat(info.path("kvBlocksTotal").asLong()).isEqualTo(16384 / 32);
        assertThat(info.path("corpusTurn").asString()).isEqualTo("user");
        assertThat(info.path("maxFileBytes").asLong()).isEqualTo(MAX_FILE_KB * 1024L);
        assertThat(info.path("apiKeyRequired").asBoolean()).isTrue();
    }
}
