package dev.tokenselect.sample.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Multipart.Part;
import dev.tokenselect.sample.Needles;
import tools.jackson.databind.JsonNode;

/** The chat endpoint: text deltas as server-sent events while the engine decodes, then the answer's statistics. */
class ChatApiTest extends AppTestBase {

    record Event(String name, JsonNode data) {
    }

    @BeforeEach
    @AfterEach
    void clean() throws Exception {
        deleteAllCorpora();
    }

    List<Event> chat(String body) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/api/chat"))
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<Event> events = new ArrayList<>();
        String[] name = {null};
        r.body().forEach(line -> {
            if (line.startsWith("event:")) {
                name[0] = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                events.add(new Event(name[0], JSON.readTree(line.substring(5))));
            }
        });
        return events;
    }

    static String text(List<Event> events) {
        StringBuilder sb = new StringBuilder();
        events.stream().filter(e -> e.name().equals("delta")).forEach(e -> sb.append(e.data().path("text").asString()));
        return sb.toString();
    }

    @Test
    void aQuestionOnACorpusStreamsItsAnswerThenTheStatistics() throws Exception {
        upload("notes", List.of(Part.text("notes.txt", Needles.notes(Needles.KEY, Needles.CODE))));
        int tokens = awaitReady("notes", Duration.ofSeconds(60)).path("tokens").asInt();

        List<Event> events = chat("{\"corpus\": \"notes\", \"message\": \"" + Needles.QUESTION + "\"}");
        List<Event> deltas = events.stream().filter(e -> e.name().equals("delta")).toList();
        assertThat(deltas).hasSizeGreaterThan(2); // token by token, not one piece
        assertThat(text(events)).contains(Needles.CODE);
        Event last = events.get(events.size() - 1);
        assertThat(last.name()).isEqualTo("stats");
        JsonNode s = last.data();
        assertThat(s.path("corpus").asString()).isEqualTo("notes");
        assertThat(s.path("cachedTokens").asInt()).isEqualTo(tokens);
        assertThat(s.path("promptTokens").asInt()).isGreaterThan(tokens);
        assertThat(s.path("prefilledTokens").asInt()).isEqualTo(s.path("promptTokens").asInt() - tokens).isLessThan(40);
        assertThat(s.path("completionTokens").asInt()).isPositive();
        assertThat(s.path("timeToFirstTokenMs").asDouble()).isPositive();
        assertThat(s.path("totalMs").asDouble()).isGreaterThanOrEqualTo(s.path("timeToFirstTokenMs").asDouble());
        assertThat(s.path("tokensPerSecond").asDouble()).isPositive();
        assertThat(s.path("contextTokensPerStep").asDouble()).isGreaterThan(tokens);
        assertThat(s.path("finishReason").asString()).isEqualTo("STOP");
    }

    @Test
    void aCorpusLongerThanTheBudgetIsAnsweredWithTokenSelectsSelection() throws Exception {
        // n-init + k + n-local = 2,688 tokens are attended in full; this corpus is longer
        upload("long", List.of(Part.text("long.txt", Needles.notes("copper", "557120", 700))));
        int tokens = awaitReady("long", Duration.ofSeconds(120)).path("tokens").asInt();
        assertThat(tokens).isGreaterThan(3000);
        JsonNode s = chat("{\"corpus\": \"long\", \"message\": \"What is the special code for copper?\"}")
                .stream().filter(e -> e.name().equals("stats")).findFirst().orElseThrow().data();
        assertThat(s.path("selectedTokensPerStep").asDouble()).isPositive();
        assertThat(s.path("attendedTokensPerStep").asDouble()).isLessThan(s.path("contextTokensPerStep").asDouble())
                .isLessThanOrEqualTo(128 + 2048 + 512 + 1);
        assertThat(s.path("selectionCacheHitRate").asDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void withoutACorpusTheModelAnswersAloneAndEarlierTurnsAreKept() throws Exception {
        List<Event> events = chat("{\"message\": \"Hello\", \"maxTokens\": 8, \"history\": "
                + "[{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"}]}");
        JsonNode s = events.get(events.size() - 1).data();
        assertThat(events.get(events.size() - 1).name()).isEqualTo("stats");
        assertThat(s.has("corpus")).isFalse();
        assertThat(s.path("completionTokens").asInt()).isBetween(1, 8);
        assertThat(s.path("promptTokens").asInt()).isGreaterThan(10); // the history is part of the prompt
    }

    @Test
    void aMissingCorpusOrQuestionIsRefusedBeforeAnyStream() throws Exception {
        var missing = postJson("/api/chat", "{\"corpus\": \"nope\", \"message\": \"?\"}");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).path("detail").asString()).contains("no corpus named 'nope'");
        var empty = postJson("/api/chat", "{\"message\": \" \"}");
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(json(empty).path("detail").asString()).contains("no message");
        var notJson = postJson("/api/chat", "{corpus");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(json(notJson).path("detail").asString()).contains("not the JSON");
    }

    @Test
    void aCorpusStillBeingPreparedIsRefusedWithItsProgress() throws Exception {
        upload("slow", List.of(Part.text("slow.txt", Needles.notes("amber", "424242", 1200))));
        var early = postJson("/api/chat", "{\"corpus\": \"slow\", \"message\": \"?\"}");
        assertThat(early.statusCode()).isEqualTo(409);
        assertThat(json(early).path("detail").asString()).contains("'slow' is still being prepared");
        awaitReady("slow", Duration.ofSeconds(180));
    }
}
