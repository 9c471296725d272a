package dev.tokenselect.engine.chat;

import java.util.List;
import java.util.Objects;

/**
 * A model's reply split into its text and the tool calls it made.
 *
 * @param content   the text with the tool-call markup removed, trimmed ("" when the reply was only calls)
 * @param toolCalls the calls in the order the model wrote them; empty when it made none
 */
public record ParsedReply(String content, List<ToolCall> toolCalls) {

    public ParsedReply {
        Objects.requireNonNull(content, "content");
        toolCalls = List.copyOf(toolCalls);
    }

    public boolean hasToolCalls() {
        return !toolCalls.isEmpty();
    }
}
