package dev.tokenselect.engine.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the tool parts of a conversation in the layout Hugging Face chat templates read (the OpenAI function
 * format), for {@link ChatFormat#render}:
 * <pre>{@code
 * {"role": "assistant", "content": "...", "tool_calls": [{"id": "call_0", "type": "function",
 *      "function": {"name": "get_weather", "arguments": {"city": "Seoul"}}}]}
 * {"role": "tool", "tool_call_id": "call_0", "name": "get_weather", "content": "{\"temperature\": 21}"}
 * tools: [{"type": "function", "function": {"name": ..., "description": ..., "parameters": {...}}}]
 * }</pre>
 * Arguments and parameter schemas arrive as JSON text and are handed to the template as maps, as transformers
 * does: templates print them with {@code tojson}.
 */
public final class ToolMessages {

    private ToolMessages() {
    }

    /**
     * An assistant turn that called tools.
     *
     * @param content the text the model wrote besides the calls (null is taken as "")
     * @throws IllegalArgumentException when a call's arguments are not a JSON object text
     */
    public static Map<String, Object> assistantWithToolCalls(String content, List<ToolCall> toolCalls) {
        List<Map<String, Object>> calls = new ArrayList<>();
        for (ToolCall call : toolCalls) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", call.name());
            function.put("arguments", call.argumentsJson().isBlank() ? Map.of()
                    : ToolCallJson.objectToMap(call.argumentsJson(), "the arguments of tool call '" + call.name()
                            + "' (id " + call.id() + ")", "{\"city\": \"Seoul\"}"));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("id", call.id());
            entry.put("type", "function");
            entry.put("function", function);
            calls.add(entry);
        }
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "assistant");
        // Templates concatenate the content as a string; None would fail there.
        message.put("content", content == null ? "" : content);
        message.put("tool_calls", calls);
        return message;
    }

    /**
     * The result of one call, answering the assistant turn's call with the same id.
     *
     * @param toolCallId the {@link ToolCall#id()} answered (left out when null)
     * @param name       the tool's name (left out when null)
     * @param content what the tool returned, usually JSON text (null is taken as "")
     */
    public static Map<String, Object> toolResult(String toolCallId, String name, String content) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "tool");
        if (toolCallId != null) {
            message.put("tool_call_id", toolCallId);
        }
        if (name != null) {
            message.put("name", name);
        }
        message.put("content", content == null ? "" : content);
        return message;
    }

    /**
     * A {@code tools} list entry.
     *
     * @param description          what the tool does, for the model (left out when null)
     * @param parametersJsonSchema the JSON schema of the arguments; null or blank means no arguments
     * @throws IllegalArgumentException when the schema is not a JSON object text
     */
    public static Map<String, Object> toolDefinition(String name, String description, String parametersJsonSchema) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a tool definition needs a name: the model calls the tool by it");
        }
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", name);
        if (description != null) {
            function.put("description", description);
        }
        if (parametersJsonSchema == null || parametersJsonSchema.isBlank()) {
            Map<String, Object> empty = new LinkedHashMap<>();
            empty.put("type", "object");
            empty.put("properties", new LinkedHashMap<>());
            function.put("parameters", empty);
        } else {
            function.put("parameters", ToolCallJson.objectToMap(parametersJsonSchema, "the parameter schema of tool '"
                    + name + "'", "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}"));
        }
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        return tool;
    }
}
