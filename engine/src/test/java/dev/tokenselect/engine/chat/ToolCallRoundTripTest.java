package dev.tokenselect.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.tokenselect.engine.template.ChatTemplate;
import dev.tokenselect.engine.template.TemplateException;
import tools.jackson.databind.JsonNode;

/**
 * Conversations with tool definitions, tool calls and tool results, built with {@link ToolMessages} and rendered
 * with the real Qwen3 and Llama 3.1 Instruct templates, against fixtures/chat_template/tool_calling.json: the same
 * conversations rendered by Jinja2 set up as transformers' apply_chat_template sets it up
 * ({@code tools/jinja_oracle/render.py --chat tools/jinja_oracle/tool_calling_cases.json ...}).
 */
class ToolCallRoundTripTest {

    private static final String SYSTEM = "You are a precise assistant. Answer briefly.";
    private static final String WEATHER_SCHEMA = """
            {"type": "object", "properties": {"city": {"type": "string", "description": "City name, e.g. Seoul"},
             "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}""";
    private static final String TIME_SCHEMA = """
            {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]}""";
    private static final String WEATHER_RESULT = "{\"temperature\": 21.5, \"sky\": \"맑음\"}";

    record Case(String model, String name, JsonNode fixture) {
        @Override
        public String toString() {
            return model + " / " + name;
        }
    }

    private static JsonNode fixture() throws IOException {
        try (InputStream in = ChatFormats.resource("/fixtures/chat_template/tool_calling.json")) {
            return ChatFormats.JSON.readTree(in);
        }
    }

    static Stream<Case> cases() throws IOException {
        List<Case> all = new ArrayList<>();
        for (JsonNode c : fixture().get("cases")) {
            all.add(new Case(c.get("model").stringValue(), c.get("name").stringValue(), c));
        }
        if (all.size() < 6) {
            throw new IllegalStateException("tool_calling.json lost cases: " + all.size());
        }
        return all.stream();
    }

    static Case fixtureCase(String model, String name) throws IOException {
        return cases().filter(c -> c.model().equals(model) && c.name().equals(name)).findFirst().orElseThrow();
    }

    static List<Map<String, Object>> tools() {
        return List.of(
                ToolMessages.toolDefinition("get_weather", "Get the current weather for a city.", WEATHER_SCHEMA),
                ToolMessages.toolDefinition("get_local_time", "Current local time in an IANA time zone.", TIME_SCHEMA));
    }

    /** The fixture's conversation rebuilt the way an integration builds it: tool parts through ToolMessages. */
    private static List<Map<String, Object>> rebuild(JsonNode messages) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode m : messages) {
            String role = m.get("role").stringValue();
            if (m.has("tool_calls")) {
                List<ToolCall> calls = new ArrayList<>();
                for (JsonNode call : m.get("tool_calls")) {
                    JsonNode function = call.get("function");
                    calls.add(new ToolCall(call.get("id").stringValue(), function.get("name").stringValue(),
                            ChatFormats.JSON.writeValueAsString(function.get("arguments"))));
                }
                out.add(ToolMessages.assistantWithToolCalls(m.get("content").stringValue(), calls));
            } else if (role.equals("tool")) {
                out.add(ToolMessages.toolResult(m.get("tool_call_id").stringValue(), m.get("name").stringValue(),
                        m.get("content").stringValue()));
            } else {
                out.add(Map.of("role", role, "content", m.get("content").stringValue()));
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersLikeTransformers(Case c) {
        List<Map<String, Object>> messages = rebuild(c.fixture().get("messages"));
        assertEquals(ChatTemplate.fromJson(c.fixture().get("messages")), messages, "ToolMessages layout");
        assertEquals(ChatTemplate.fromJson(c.fixture().get("tools")), tools(), "tool definitions layout");
        ChatFormat format = ChatFormats.get(c.model());
        if (c.fixture().has("error")) {
            // Llama 3.1's template refuses several calls in one turn; the reason must reach the caller.
            TemplateException e = assertThrows(TemplateException.class,
                    () -> format.render(messages, tools(), true, Map.of()));
            String reason = c.fixture().get("error").stringValue().replaceFirst("^TemplateError: ", "");
            assertTrue(e.getMessage().contains(reason), e.getMessage());
        } else {
            assertEquals(c.fixture().get("text").stringValue(), format.render(messages, tools(), true, Map.of()));
        }
    }

    /**
     * The loop an integration runs: parse what the model generated, answer the call with a tool result that names
     * the call's id, render the next prompt. The template writes the call back exactly as the model wrote it.
     */
    @Test
    void qwen3ParsedCallRendersBackAsGenerated() throws IOException {
        String generated = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"서울\", "
                + "\"unit\": \"celsius\"}}\n</tool_call>";
        String expected = fixtureCase("qwen3", "after_tool_result").fixture().get("text").stringValue();
        assertParsedRoundTrip("qwen3", generated, expected);
        assertTrue(expected.contains("<|im_start|>assistant\n" + generated + "<|im_end|>"));
    }

    @Test
    void llama31ParsedCallRendersBackAsGenerated() throws IOException {
        String generated = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"서울\", \"unit\": \"celsius\"}}";
        String expected = fixtureCase("llama3_1_instruct", "after_tool_result").fixture().get("text").stringValue();
        assertParsedRoundTrip("llama3_1_instruct", generated, expected);
        assertTrue(expected.contains("<|start_header_id|>assistant<|end_header_id|>\n\n" + generated + "<|eot_id|>"));
    }

    private static void assertParsedRoundTrip(String model, String generated, String expected) {
        ChatFormat format = ChatFormats.get(model);
        ParsedReply reply = ToolCallParser.forFormat(format).parse(generated);
        assertEquals(List.of(new ToolCall("call_0", "get_weather", "{\"city\":\"서울\",\"unit\":\"celsius\"}")),
                reply.toolCalls());
        assertEquals("", reply.content());
        ToolCall call = reply.toolCalls().getFirst();
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "system", "content", SYSTEM),
                Map.of("role", "user", "content", "What's the weather in Seoul? 🌤"),
                ToolMessages.assistantWithToolCalls(reply.content(), reply.toolCalls()),
                ToolMessages.toolResult(call.id(), call.name(), WEATHER_RESULT));
        assertEquals(call.id(), messages.get(3).get("tool_call_id"));
        assertEquals(expected, format.render(messages, tools(), true, Map.of()));
    }

    @Test
    void qwen3TwoCallsParseAndRenderBack() throws IOException {
        ChatFormat format = ChatFormats.get("qwen3");
        Case twoCalls = fixtureCase("qwen3", "two_calls_one_turn");
        String expected = twoCalls.fixture().get("text").stringValue();
        // What the model wrote in that turn is what the template rendered between the assistant header and <|im_end|>.
        String header = "<|im_start|>assistant\n";
        int from = expected.lastIndexOf(header, expected.lastIndexOf("<tool_call>")) + header.length();
        String generated = expected.substring(from, expected.indexOf("<|im_end|>", from));
        ParsedReply reply = ToolCallParser.forFormat(format).parse(generated);
        assertEquals("Let me look both up.", reply.content());
        assertEquals(List.of("call_0", "call_1"), reply.toolCalls().stream().map(ToolCall::id).toList());
        List<Map<String, Object>> messages = List.of(
                Map.of("role", "system", "content", SYSTEM),
                Map.of("role", "user", "content", "Weather and local time in Busan?"),
                ToolMessages.assistantWithToolCalls(reply.content(), reply.toolCalls()),
                ToolMessages.toolResult(reply.toolCalls().get(0).id(), "get_weather",
                        "{\"temperature\": 19, \"sky\": \"cloudy\"}"),
                ToolMessages.toolResult(reply.toolCalls().get(1).id(), "get_local_time", "14:07"));
        assertEquals(expected, format.render(messages, tools(), true, Map.of()));
    }
}
