package dev.tokenselect.sample.openai;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import dev.tokenselect.sample.chat.ChatQuery;
import dev.tokenselect.sample.chat.Conversations;
import dev.tokenselect.sample.corpus.CorpusLibrary;
import dev.tokenselect.sample.corpus.CorpusView;
import dev.tokenselect.sample.model.ServedModel;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import tools.jackson.databind.json.JsonMapper;

/**
 * An OpenAI-compatible API, so OpenAI's client libraries (and Spring AI's {@code OpenAiChatModel}) talk to the app:
 * {@code GET /v1/models} lists the bare model and {@code corpus:NAME} for each ready corpus;
 * {@code POST /v1/chat/completions} answers whole or, with {@code "stream": true}, as server-sent
 * {@code data:} chunks ending in {@code data: [DONE]}.
 */
@RestController
@RequestMapping("/v1")
class OpenAiController {

    private static final Logger LOG = LoggerFactory.getLogger(OpenAiController.class);
    /** Longest a streamed answer may take before the connection is closed. */
    static final long STREAM_TIMEOUT_MS = 10 * 60 * 1000L;

    private final Conversations conversations;
    private final CorpusLibrary library;
    private final ServedModel served;
    private final JsonMapper json;
    private final long started = Instant.now().getEpochSecond();

    OpenAiController(Conversations conversations, CorpusLibrary library, ServedModel served, JsonMapper json) {
        this.conversations = conversations;
        this.library = library;
        this.served = served;
        this.json = json;
    }

    @GetMapping("/models")
    Map<String, Object> models() {
        List<Map<String, Object>> data = new ArrayList<>();
        data.add(model(served.id()));
        for (CorpusView c : library.list()) {
            if ("ready".equals(c.status())) {
                data.add(model(Completions.CORPUS_PREFIX + c.name()));
            }
        }
        return Map.of("object", "list", "data", data);
    }

    private Map<String, Object> model(String id) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", started);
        m.put("owned_by", "tokenselect");
        return m;
    }

    @PostMapping(path = "/chat/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<ResponseBodyEmitter> completions(@RequestBody CompletionRequest request) throws IOException {
        String corpus = Completions.corpus(request, served.id());
        ChatQuery query = Completions.query(request, corpus);
        String model = request.model() == null || request.model().isBlank() ? served.id() : request.model();
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        if (!request.streaming()) {
            ChatResponse response = conversations.call(query);
            ResponseBodyEmitter body = new ResponseBodyEmitter();
            body.send(Completions.completion(id, created, model, response), MediaType.APPLICATION_JSON);
            body.complete();
            return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(body);
        }
        Flux<ChatResponse> answer = conversations.stream(query); // a missing corpus fails here, before the stream
        SseEmitter events = new SseEmitter(STREAM_TIMEOUT_MS);
        AtomicReference<ChatResponse> last = new AtomicReference<>();
        send(events, Completions.chunk(id, created, model, Map.of("role", "assistant", "content", ""), null));
        Disposable subscription = answer.subscribe(r -> {
            last.set(r);
            String text = r.getResult() == null ? null : r.getResult().getOutput().getText();
            if (text != null && !text.isEmpty()) {
                send(events, Completions.chunk(id, created, model, Map.of("content", text), null));
            }
        }, error -> {
            LOG.warn("streamed completion {} failed: {}", id, error.getMessage());
            trySend(events, OpenAiError.body(error.getMessage(), "server_error", null, null));
            events.complete();
        }, () -> {
            ChatResponse r = last.get();
            if (r != null) {
                trySend(events, Completions.chunk(id, created, model, Map.of(), Completions.finishReason(r)));
                if (request.includeUsage()) {
                    trySend(events, Completions.usageChunk(id, created, model, r));
                }
            }
            try {
                events.send(SseEmitter.event().data("[DONE]", MediaType.TEXT_PLAIN));
                events.complete();
            } catch (IOException | IllegalStateException e) {
                events.completeWithError(e);
            }
        });
        // a client that goes away ends the generation
        events.onCompletion(subscription::dispose);
        events.onTimeout(subscription::dispose);
        events.onError(e -> subscription.dispose());
        return ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM).body(events);
    }

    /** Sends one chunk as {@code data: JSON}; a client that is gone ends the subscription through the emitter. */
    private void send(SseEmitter events, Map<String, Object> chunk) {
        try {
            events.send(SseEmitter.event().data(json.writeValueAsString(chunk), MediaType.TEXT_PLAIN));
        } catch (IOException e) {
            throw new IllegalStateException("the client closed the stream", e);
        }
    }

    private void trySend(SseEmitter events, Map<String, Object> chunk) {
        try {
            send(events, chunk);
        } catch (IllegalStateException e) {
            LOG.debug("stream closed before its end: {}", e.getMessage());
        }
    }
}
