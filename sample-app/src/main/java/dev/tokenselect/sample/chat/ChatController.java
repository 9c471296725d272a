package dev.tokenselect.sample.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.tokenselect.sample.web.ApiProblem;
import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;
import reactor.core.publisher.Flux;

/**
 * The chat page's endpoint: {@code POST /api/chat} with {@code {"corpus", "message", "history"}} answers as a
 * server-sent event stream: {@code delta} events ({@code {"text"}}) as the engine decodes, then one {@code stats}
 * event ({@link ChatStats}), or an {@code error} event ({@code {"message"}}) if the answer fails midway. A missing
 * or unready corpus is refused before the stream starts (problem details, 404 or 409).
 */
@RestController
class ChatController {

    /** A turn of the conversation so far: {@code user} or {@code assistant}. */
    record Turn(String role, String content) {
    }

    /**
     * @param corpus    the corpus to ask; null or blank for none
     * @param message   the question
     * @param history   earlier turns of this conversation, oldest first
     * @param maxTokens longest answer; null for the configured default
     */
    record ChatRequest(String corpus, String message, List<Turn> history, Integer maxTokens) {
    }

    private final Conversations conversations;

    ChatController(Conversations conversations) {
        this.conversations = conversations;
    }

    @PostMapping(path = "/api/chat", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    Flux<ServerSentEvent<Object>> chat(@RequestBody ChatRequest request) {
        long start = System.nanoTime();
        if (request.message() == null || request.message().isBlank()) {
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "No question", "The request has no message: send the "
                    + "question as {\"message\": \"...\"}.");
        }
        List<Message> messages = new ArrayList<>();
        if (request.history() != null) {
            for (Turn t : request.history()) {
                messages.add("assistant".equals(t.role()) ? new AssistantMessage(t.content())
                        : new UserMessage(t.content()));
            }
        }
        messages.add(new UserMessage(request.message()));
        String corpus = request.corpus() == null || request.corpus().isBlank() ? null : request.corpus();
        TokenSelectChatOptions.Builder options = TokenSelectChatOptions.builder();
        if (request.maxTokens() != null) {
            options.maxTokens(request.maxTokens());
        }
        Flux<ChatResponse> answer = conversations.stream(new ChatQuery(corpus, messages, options.build()));
        AtomicLong firstText = new AtomicLong();
        AtomicReference<ChatResponse> last = new AtomicReference<>();
        Flux<ServerSentEvent<Object>> deltas = answer.concatMap(r -> {
            last.set(r);
            String text = r.getResult() == null ? null : r.getResult().getOutput().getText();
            if (text == null || text.isEmpty()) {
                return Flux.empty();
            }
            firstText.compareAndSet(0, System.nanoTime());
            return Flux.just(ServerSentEvent.<Object>builder(Map.of("text", text)).event("delta").build());
        });
        Flux<ServerSentEvent<Object>> stats = Flux.defer(() -> last.get() == null ? Flux.empty()
                : Flux.just(ServerSentEvent.<Object>builder(ChatStats.of(last.get(), start, firstText.get(),
                        System.nanoTime())).event("stats").build()));
        return deltas.concatWith(stats).onErrorResume(e -> Flux.just(ServerSentEvent.<Object>builder(
                Map.of("message", e.getMessage() == null ? e.toString() : e.getMessage())).event("error").build()));
    }
}
