package dev.tokenselect.spring.ai.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;

import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Spring AI messages and tools as the message and tool maps that Hugging Face chat templates read
 * ({@code {"role", "content", "tool_calls", ...}}, tools in the OpenAI function format).
 */
final class MessageMaps {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private MessageMaps() {
    }

    static List<Map<String, Object>> of(List<Message> messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Message m : messages) {
            switch (m.getMessageType()) {
                case SYSTEM -> out.add(message("system", m.getText()));
                case USER -> {
                    if (m instanceof UserMessage u && !u.getMedia().isEmpty()) {
                        throw new IllegalArgumentException("the TokenSelect chat model reads text only; this user message "
                                + "carries " + u.getMedia().size() + " media attachment(s): send their text instead");
                    }
                    out.add(message("user", m.getText()));
                }
                case ASSISTANT -> out.add(assistant((AssistantMessage) m));
                case TOOL -> {
                    for (ToolResponseMessage.ToolResponse r : ((ToolResponseMessage) m).getResponses()) {
                        Map<String, Object> tool = message("tool", r.responseData());
                        tool.put("tool_call_id", r.id());
                        tool.put("name", r.name());
                        out.add(tool);
                    }
                }
            }
        }
        return out;
    }

    private static Map<String, Object> assistant(AssistantMessage m) {
        Map<String, Object> map = message("assistant", m.getText());
        if (m.hasToolCalls()) {
            List<Map<String, Object>> calls = new ArrayList<>();
            for (AssistantMessage.ToolCall call : m.getToolCalls()) {
                Map<String, Object> function = new LinkedHashMap<>();
                function.put("name", call.name());
                function.put("arguments", arguments(call.arguments()));
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("id", call.id());
                c.put("type", "function");
                c.put("function", function);
                calls.add(c);
            }
            map.put("tool_calls", calls);
        }
        return map;
    }

    /** Templates render {@code arguments | tojson} or the string as is; a JSON object renders the same either way. */
    private static Object arguments(String json) {
        if (json == null || json.isBlank()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (JacksonException e) {
            return json;
        }
    }

    /** The tools in the OpenAI function format; null when there are none (templates test {@code tools is defined}). */
    static List<Map<String, Object>> tools(List<ToolCallback> callbacks) {
        if (callbacks == null || callbacks.isEmpty()) {
            return null;
        }
        List<Map<String, Object>> tools = new ArrayList<>();
        for (ToolCallback cb : callbacks) {
            ToolDefinition d = cb.getToolDefinition();
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", d.name());
            function.put("description", d.description());
            function.put("parameters", schema(d));
            tools.add(Map.of("type", "function", "function", function));
        }
        return tools;
    }

    private static Object schema(ToolDefinition d) {
        try {
            return JSON.readValue(d.inputSchema(), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (JacksonException e) {
            throw new IllegalArgumentException("tool '" + d.name() + "' has an input schema that is not a JSON object: "
                    + e.getOriginalMessage(), e);
        }
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content == null ? "" : content);
        return m;
    }
}
