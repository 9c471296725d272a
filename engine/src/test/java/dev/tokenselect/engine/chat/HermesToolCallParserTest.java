package dev.tokenselect.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Qwen/Hermes {@code <tool_call>} blocks, on outputs of the shape Qwen2.5 and Qwen3 write. */
class HermesToolCallParserTest {

    private final ToolCallParser parser = new HermesToolCallParser();

    @Test
    void aReplyThatIsOneCall() {
        ParsedReply r = parser.parse("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\", "
                + "\"unit\": \"celsius\"}}\n</tool_call>");
        assertEquals(List.of(new ToolCall("call_0", "get_weather", "{\"city\":\"Seoul\",\"unit\":\"celsius\"}")),
                r.toolCalls());
        assertEquals("", r.content());
    }

    @Test
    void qwen3ThinkingThenTwoCalls() {
        String text = "<think>\nThe user wants weather and time for Busan. I'll call both tools.\n</think>\n\n"
                + "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Busan\"}}\n</tool_call>\n"
                + "<tool_call>\n{\"name\": \"get_local_time\", \"arguments\": {\"timezone\": \"Asia/Seoul\"}}\n"
                + "</tool_call>";
        ParsedReply r = parser.parse(text);
        assertEquals(List.of(new ToolCall("call_0", "get_weather", "{\"city\":\"Busan\"}"),
                new ToolCall("call_1", "get_local_time", "{\"timezone\":\"Asia/Seoul\"}")), r.toolCalls());
        assertEquals("<think>\nThe user wants weather and time for Busan. I'll call both tools.\n</think>",
                r.content());
    }

    @Test
    void textBeforeAndAfterTheCalls() {
        ParsedReply r = parser.parse("Let me check that for you.\n<tool_call>\n{\"name\": \"search\", \"arguments\": "
                + "{\"query\": \"JEP 508\"}}\n</tool_call>\nI will summarise once the results arrive.");
        assertEquals(List.of(new ToolCall("call_0", "search", "{\"query\":\"JEP 508\"}")), r.toolCalls());
        assertEquals("Let me check that for you.\n\nI will summarise once the results arrive.", r.content());
    }

    @Test
    void malformedJsonStaysContentAndLaterCallsStillCount() {
        String broken = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Seoul\"}\n</tool_call>";
        String good = "<tool_call>\n{\"name\": \"get_local_time\", \"arguments\": {\"timezone\": \"UTC\"}}\n</tool_call>";
        ParsedReply r = parser.parse(broken + "\n" + good);
        assertEquals(broken, r.content());
        assertEquals(List.of(new ToolCall("call_0", "get_local_time", "{\"timezone\":\"UTC\"}")), r.toolCalls());
    }

    @Test
    void blocksThatAreNotCallsStayContent() {
        for (String body : List.of("not json at all", "{\"arguments\": {\"x\": 1}}", "{\"name\": \"\", \"arguments\": {}}",
                "{\"name\": \"f\", \"arguments\": [1, 2]}", "[{\"name\": \"f\"}]", "{\"name\": \"f\"} {\"name\": \"g\"}",
                "{\"name\": \"f\", \"arguments\": \"{not json\"}", "")) {
            String text = "Answer: <tool_call>" + body + "</tool_call>";
            ParsedReply r = parser.parse(text);
            assertEquals(List.of(), r.toolCalls(), body);
            assertEquals(text, r.content(), body);
        }
    }

    @Test
    void unicodeArgumentsRawAndEscapedComeOutAsTheSameText() {
        ParsedReply raw = parser.parse("<tool_call>\n{\"name\": \"translate\", \"arguments\": {\"text\": "
                + "\"서울의 날씨 ☀️ 👨‍👩‍👧\", \"to\": \"ja\"}}\n</tool_call>");
        ParsedReply escaped = parser.parse("<tool_call>\n{\"name\": \"translate\", \"arguments\": {\"text\": "
                + "\"\\uc11c\\uc6b8\\uc758 \\ub0a0\\uc528 \\u2600\\ufe0f \\ud83d\\udc68\\u200d\\ud83d\\udc69\\u200d"
                + "\\ud83d\\udc67\", \"to\": \"ja\"}}\n</tool_call>");
        String expected = "{\"text\":\"서울의 날씨 ☀️ 👨‍👩‍👧\",\"to\":\"ja\"}";
        assertEquals(expected, raw.toolCalls().getFirst().argumentsJson());
        assertEquals(expected, escaped.toolCalls().getFirst().argumentsJson());
    }

    @Test
    void nestedArgumentsWithBracesInStrings() {
        ParsedReply r = parser.parse("<tool_call>\n{\"name\": \"run_sql\", \"arguments\": {\"query\": "
                + "\"SELECT '}' AS brace, \\\"x\\\"\", \"params\": [1, 2.5, null, {\"k\": true}]}}\n</tool_call>");
        assertEquals("{\"query\":\"SELECT '}' AS brace, \\\"x\\\"\",\"params\":[1,2.5,null,{\"k\":true}]}",
                r.toolCalls().getFirst().argumentsJson());
    }

    @Test
    void argumentsAsAJsonStringOrMissing() {
        ParsedReply r = parser.parse("<tool_call>{\"name\": \"a\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call>"
                + "<tool_call>{\"name\": \"b\"}</tool_call>");
        assertEquals(List.of(new ToolCall("call_0", "a", "{\"x\":1}"), new ToolCall("call_1", "b", "{}")),
                r.toolCalls());
    }

    @Test
    void aLastBlockWithoutItsClosingTagCountsWhenItsJsonIsComplete() {
        ParsedReply complete = parser.parse("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n");
        assertEquals(List.of(new ToolCall("call_0", "f", "{\"x\":1}")), complete.toolCalls());
        ParsedReply unclosedThenAnother = parser.parse("<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n"
                + "<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>");
        assertEquals(List.of(new ToolCall("call_0", "f", "{}"), new ToolCall("call_1", "g", "{}")),
                unclosedThenAnother.toolCalls());
        String truncated = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": ";
        ParsedReply cut = parser.parse(truncated);
        assertEquals(List.of(), cut.toolCalls());
        assertEquals(truncated.strip(), cut.content());
    }

    @Test
    void plainTextIsUntouchedApartFromTrimming() {
        ParsedReply r = parser.parse("  Paris is the capital of France. Use <b>bold</b> tags, not <tool>.\n");
        assertFalse(r.hasToolCalls());
        assertEquals("Paris is the capital of France. Use <b>bold</b> tags, not <tool>.", r.content());
    }

    @Test
    void toolCallStartHoldsTheTagAndItsFirstCharacters() {
        assertEquals(-1, parser.toolCallStart(""));
        assertEquals(-1, parser.toolCallStart("Hello there"));
        assertEquals(-1, parser.toolCallStart("a < b and <b>"));
        assertEquals(6, parser.toolCallStart("Hello <"));
        assertEquals(6, parser.toolCallStart("Hello <tool_c"));
        assertEquals(-1, parser.toolCallStart("Hello <tool_x"));
        assertEquals(6, parser.toolCallStart("Hello <tool_call>\n{\"na"));
        assertEquals(0, parser.toolCallStart("<tool_call>{}</tool_call> more text"));
        assertTrue(parser.mayStartToolCall("<tool_"));
        assertFalse(parser.mayStartToolCall("plain"));
    }
}
