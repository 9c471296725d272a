package dev.tokenselect.engine.chat;

import java.util.Objects;

/**
 * One function call the model asked for.
 *
 * @param id            the call's id; models of the Qwen and Llama families write none, so the parser numbers the
 *                      calls of a reply {@code call_0}, {@code call_1}, ... and a tool result refers to that id
 * @param name          the function's name
 * @param argumentsJson the arguments as a JSON object text, e.g. {@code {"city":"Seoul"}}
 */
public record ToolCall(String id, String name, String argumentsJson) {

    public ToolCall {
        Objects.requireNonNull(id, "tool call id");
        Objects.requireNonNull(name, "tool call name");
        Objects.requireNonNull(argumentsJson, "tool call arguments (use \"{}\" for none)");
    }
}
