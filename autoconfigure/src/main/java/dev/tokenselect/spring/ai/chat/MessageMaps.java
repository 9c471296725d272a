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

import dev.tokenselect.engine.chat.ToolCall;
import dev.tokenselect.engine.chat.ToolMessages;

/**
 * Spring AI messages and tools as the message and tool maps that Hugging Face chat templates read
 * ({@code {"role", "content", "tool_calls", ...}}, tools in the OpenAI function format).
 */
final class MessageMaps {

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
                        out.add(ToolMessages.toolResult(r.id(), r.name(), r.responseData()));
                    }
                }
            }
        }
        return out;
    }

    private static Map<String, Object> assistant(AssistantMessage m) {
        if (!m.hasToolCalls()) {
            return message("assistant", m.getText());
        }
        List<ToolCall> calls = new ArrayList<>();
        for (AssistantMessage.ToolCall call : m.getToolCalls()) {
            calls.add(new ToolCall(call.id(), call.name(), call.arguments() == null ? "" : call.arguments()));
        }
        return ToolMessages.assistantWithToolCalls(m.getText(), calls);
    }

    /** The tools in the OpenAI function format; null when there are none (templates test {@code tools is defined}). */
    static List<Map<String, Object>> tools(List<ToolCallback> callbacks) {
        if (callbacks == null || callbacks.isEmpty()) {
            return null;
        }
        List<Map<String, Object>> tools = new ArrayList<>();
        for (ToolCallback cb : callbacks) {
            ToolDefinition d = cb.getToolDefinition();
            tools.add(ToolMessages.toolDefinition(d.name(), d.description(), d.inputSchema()));
        }
        return tools;
    }

    /** The engine's parsed calls as Spring AI's. */
    static List<AssistantMessage.ToolCall> toolCalls(List<ToolCall> calls) {
        List<AssistantMessage.ToolCall> out = new ArrayList<>(calls.size());
        for (ToolCall c : calls) {
            out.add(new AssistantMessage.ToolCall(c.id(), "function", c.name(), c.argumentsJson()));
        }
        return out;
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content == null ? "" : content);
        return m;
    }
}
