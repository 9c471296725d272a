package dev.tokenselect.sample.openai;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.JsonNode;

/**
 * The body of {@code POST /v1/chat/completions}: OpenAI's fields that apply to a local model, and {@code corpus}, an
 * extra field naming the corpus to ask (the model {@code corpus:NAME} does the same).
 */
record CompletionRequest(
        String model,
        List<Message> messages,
        Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @JsonProperty("max_tokens") Integer maxTokens,
        @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
        Double temperature,
        @JsonProperty("top_p") Double topP,
        Long seed,
        JsonNode stop,
        @JsonProperty("frequency_penalty") Double frequencyPenalty,
        @JsonProperty("presence_penalty") Double presencePenalty,
        Integer n,
        JsonNode tools,
        String corpus) {

    /** A message; {@code content} is a string or a list of parts ({@code {"type": "text", "text"}}). */
    record Message(String role, JsonNode content) {
    }

    record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {
    }

    boolean streaming() {
        return Boolean.TRUE.equals(stream);
    }

    boolean includeUsage() {
        return streamOptions != null && Boolean.TRUE.equals(streamOptions.includeUsage());
    }
}
