package dev.tokenselect.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The Hugging Face message layout of tool calls, results and definitions, and the errors on bad JSON. */
class ToolMessagesTest {

    @Test
    void assistantTurnWithCallsInHuggingFaceLayout() {
        Map<String, Object> m = ToolMessages.assistantWithToolCalls(null, List.of(
                new ToolCall("call_0", "get_weather", "{\"city\": \"서울\", \"days\": 3, \"ratio\": 0.5, \"big\": "
                        + "123456789012345678901234567890, \"tags\": [\"a\", null], \"ok\": true}"),
                new ToolCall("call_1", "now", "")));
        assertEquals(List.of("role", "content", "tool_calls"), List.copyOf(m.keySet()));
        assertEquals("assistant", m.get("role"));
        assertEquals("", m.get("content"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> calls = (List<Map<String, Object>>) m.get("tool_calls");
        assertEquals(List.of("id", "type", "function"), List.copyOf(calls.get(0).keySet()));
        assertEquals("call_0", calls.get(0).get("id"));
        assertEquals("function", calls.get(0).get("type"));
        @SuppressWarnings("unchecked")
        Map<String, Object> function = (Map<String, Object>) calls.get(0).get("function");
        assertEquals("get_weather", function.get("name"));
        Map<?, ?> arguments = (Map<?, ?>) function.get("arguments");
        assertEquals(List.of("city", "days", "ratio", "big", "tags", "ok"), List.copyOf(arguments.keySet()));
        assertEquals("서울", arguments.get("city"));
        assertEquals(3L, arguments.get("days"));
        assertEquals(0.5, arguments.get("ratio"));
        assertEquals(new BigInteger("123456789012345678901234567890"), arguments.get("big"));
        assertEquals(java.util.Arrays.asList("a", null), arguments.get("tags"));
        assertEquals(true, arguments.get("ok"));
        @SuppressWarnings("unchecked")
        Map<String, Object> second = (Map<String, Object>) calls.get(1).get("function");
        assertEquals(Map.of(), second.get("arguments"));
    }

    @Test
    void toolResultNamesTheCall() {
        assertEquals(Map.of("role", "tool", "tool_call_id", "call_0", "name", "get_weather", "content", "{\"t\": 21}"),
                ToolMessages.toolResult("call_0", "get_weather", "{\"t\": 21}"));
        assertEquals(Map.of("role", "tool", "content", ""), ToolMessages.toolResult(null, null, null));
    }

    @Test
    void toolDefinitionInFunctionFormat() {
        Map<String, Object> tool = ToolMessages.toolDefinition("get_weather", "Weather now.",
                "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}");
        assertEquals(Map.of("type", "function", "function", Map.of("name", "get_weather", "description", "Weather now.",
                "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")),
                        "required", List.of("city")))), tool);
        assertEquals(Map.of("type", "function", "function", Map.of("name", "now",
                        "parameters", Map.of("type", "object", "properties", Map.of()))),
                ToolMessages.toolDefinition("now", null, " "));
    }

    @Test
    void badJsonIsRefusedNamingTheToolAndTheFix() {
        IllegalArgumentException notJson = assertThrows(IllegalArgumentException.class,
                () -> ToolMessages.assistantWithToolCalls("", List.of(new ToolCall("call_3", "get_weather", "{city: Seoul}"))));
        assertTrue(notJson.getMessage().contains("the arguments of tool call 'get_weather' (id call_3) is not valid JSON"),
                notJson.getMessage());
        assertTrue(notJson.getMessage().contains("give a JSON object such as"), notJson.getMessage());
        IllegalArgumentException array = assertThrows(IllegalArgumentException.class,
                () -> ToolMessages.toolDefinition("search", "Search.", "[\"query\"]"));
        assertTrue(array.getMessage().contains("the parameter schema of tool 'search' must be a JSON object"),
                array.getMessage());
        IllegalArgumentException noName = assertThrows(IllegalArgumentException.class,
                () -> ToolMessages.toolDefinition(" ", "x", null));
        assertTrue(noName.getMessage().contains("needs a name"), noName.getMessage());
    }
}
