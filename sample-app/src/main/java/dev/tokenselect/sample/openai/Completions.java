package dev.tokenselect.sample.openai;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.SystemMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.http.HttpStatus;

import dev.tokenselect.sample.chat.ChatQuery;
import dev.tokenselect.spring.ai.chat.TokenSelectChatModel;
import dev.tokenselect.spring.ai.chat.TokenSelectChatOptions;
import tools.jackson.databind.JsonNode;

/** Translation between OpenAI's chat completion objects and the app's questions and Spring AI's responses. */
final class Completions {

    static final String CORPUS_PREFIX = "corpus:";

    private Completions() {
    }

    /**
     * The corpus a request asks: the one its model names ({@code corpus:NAME}), or its {@code corpus} field; null for
     * the bare model.
     */
    static String corpus(CompletionRequest r, String servedModel) {
        String field = r.corpus() == null || r.corpus().isBlank() ? null : r.corpus();
        String model = r.model() == null || r.model().isBlank() ? servedModel : r.model();
        if (model.startsWith(CORPUS_PREFIX)) {
            String named = model.substring(CORPUS_PREFIX.length());
            if (field != null && !field.equals(named)) {
                throw OpenAiError.invalid("corpus", "The model names corpus '" + named + "' and the 'corpus' field names '"
                        + field + "': name one corpus, in either place.");
            }
            return named;
        }
        if (!model.equals(servedModel)) {
            throw new OpenAiError(HttpStatus.NOT_FOUND, "invalid_request_error", "model", "model_not_found",
                    "The model '" + model + "' does not exist: this server serves '" + servedModel + "', and '"
                            + CORPUS_PREFIX + "NAME' for each corpus (GET /v1/models lists them).");
        }
        return field;
    }

    static ChatQuery query(CompletionRequest r, String corpus) {
        if (r.messages() == null || r.messages().isEmpty()) {
            throw OpenAiError.invalid("messages", "'messages' must hold at least one message, for example "
                    + "[{\"role\": \"user\", \"content\": \"What is the special code for falcon?\"}].");
        }
        if (r.n() != null && r.n() != 1) {
            throw OpenAiError.invalid("n", "This server returns one choice per request: leave 'n' out or set it to 1.");
        }
        if (r.tools() != null && !r.tools().isNull() && !(r.tools().isArray() && r.tools().isEmpty())) {
            throw OpenAiError.invalid("tools", "This server does not call tools: send the request without 'tools'.");
        }
        List<Message> messages = new ArrayList<>();
        for (int i = 0; i < r.messages().size(); i++) {
            messages.add(message(r.messages().get(i), i));
        }
        TokenSelectChatOptions.Builder options = TokenSelectChatOptions.builder()
                .maxTokens(r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens())
                .temperature(r.temperature())
                .topP(r.topP())
                .seed(r.seed())
                .frequencyPenalty(r.frequencyPenalty())
                .presencePenalty(r.presencePenalty());
        List<String> stop = stop(r.stop());
        if (!stop.isEmpty()) {
            options.stopSequences(stop);
        }
        return new ChatQuery(corpus, messages, options.build());
    }

    private static Message message(CompletionRequest.Message m, int index) {
        String param = "messages[" + index + "]";
        String text = text(m.content(), param);
        String role = m.role() == null ? "" : m.role();
        return switch (role) {
            case "system", "developer" -> new SystemMessage(text);
            case "user" -> new UserMessage(text);
            case "assistant" -> new AssistantMessage(text);
            default -> throw OpenAiError.invalid(param + ".role", "Message " + index + " has role '" + role
                    + "': this server takes system, developer, user and assistant messages.");
        };
    }

    /** A string, or the text parts of a list of parts. */
    private static String text(JsonNode content, String param) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isString()) {
            return content.asString();
        }
        if (content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!"text".equals(part.path("type").asString(""))) {
                    throw OpenAiError.invalid(param + ".content", "Only text parts are read here; part type '"
                            + part.path("type").asString("") + "' is not.");
                }
                sb.append(part.path("text").asString(""));
            }
            return sb.toString();
        }
        throw OpenAiError.invalid(param + ".content", "A message's content is a string or a list of text parts.");
    }

    private static List<String> stop(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        if (stop.isString()) {
            return List.of(stop.asString());
        }
        if (stop.isArray()) {
            List<String> all = new ArrayList<>();
            stop.forEach(s -> all.add(s.asString()));
            return all;
        }
        throw OpenAiError.invalid("stop", "'stop' is a string or a list of strings.");
    }

    /** OpenAI's spelling of the finish reason. */
    static String finishReason(ChatResponse r) {
        String reason = r.getResult() == null ? null : r.getResult().getMetadata().getFinishReason();
        if (reason == null) {
            return null;
        }
        return switch (reason) {
            case TokenSelectChatModel.LENGTH -> "length";
            case TokenSelectChatModel.TOOL_CALLS -> "tool_calls";
            default -> "stop";
        };
    }

    static Map<String, Object> usage(ChatResponse r) {
        Usage u = r.getMetadata().getUsage();
        int prompt = u.getPromptTokens() == null ? 0 : u.getPromptTokens();
        int completion = u.getCompletionTokens() == null ? 0 : u.getCompletionTokens();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt_tokens", prompt);
        m.put("completion_tokens", completion);
        m.put("total_tokens", prompt + completion);
        m.put("prompt_tokens_details", Map.of("cached_tokens",
                u.getCacheReadInputTokens() == null ? 0 : u.getCacheReadInputTokens()));
        return m;
    }

    static Map<String, Object> completion(String id, long created, String model, ChatResponse r) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "assistant");
        message.put("content", r.getResult() == null ? "" : r.getResult().getOutput().getText());
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("message", message);
        choice.put("logprobs", null);
        choice.put("finish_reason", finishReason(r));
        Map<String, Object> m = head(id, "chat.completion", created, model);
        m.put("choices", List.of(choice));
        m.put("usage", usage(r));
        return m;
    }

    /** A stream chunk with one choice: its delta and finish reason (null until the last). */
    static Map<String, Object> chunk(String id, long created, String model, Map<String, Object> delta, String finish) {
        Map<String, Object> choice = new LinkedHashMap<>();
        choice.put("index", 0);
        choice.put("delta", delta);
        choice.put("logprobs", null);
        choice.put("finish_reason", finish);
        Map<String, Object> m = head(id, "chat.completion.chunk", created, model);
        m.put("choices", List.of(choice));
        return m;
    }

    /** The last chunk of a stream whose request asked for usage: no choices. */
    static Map<String, Object> usageChunk(String id, long created, String model, ChatResponse r) {
        Map<String, Object> m = head(id, "chat.completion.chunk", created, model);
        m.put("choices", List.of());
        m.put("usage", usage(r));
        return m;
    }

    private static Map<String, Object> head(String id, String object, long created, String model) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("object", object);
        m.put("created", created);
        m.put("model", model);
        m.put("system_fingerprint", null);
        return m;
    }
}
