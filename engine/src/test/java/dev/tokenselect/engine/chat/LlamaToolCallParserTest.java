package dev.tokenselect.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Llama 3.1/3.2 calls: bare JSON with "parameters", and the {@code <|python_tag|>} forms. */
class LlamaToolCallParserTest {

    private final ToolCallParser parser = new LlamaToolCallParser();

    @Test
    void aReplyThatIsOneJsonCall() {
        ParsedReply r = parser.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"San Francisco, CA\", "
                + "\"unit\": \"fahrenheit\"}}");
        assertEquals(List.of(new ToolCall("call_0", "get_weather",
                "{\"city\":\"San Francisco, CA\",\"unit\":\"fahrenheit\"}")), r.toolCalls());
        assertEquals("", r.content());
    }

    @Test
    void pythonTagThenJsonAsDecodedWithSpecialTokens() {
        ParsedReply r = parser.parse("<|python_tag|>{\"name\": \"get_local_time\", \"parameters\": "
                + "{\"timezone\": \"Europe/Paris\"}}");
        assertEquals(List.of(new ToolCall("call_0", "get_local_time", "{\"timezone\":\"Europe/Paris\"}")),
                r.toolCalls());
        assertEquals("", r.content());
    }

    @Test
    void builtinToolCallAfterPythonTag() {
        ParsedReply r = parser.parse("<|python_tag|>brave_search.call(query=\"Menlo Park \\\"weather\\\" today\", "
                + "count=3, safe=True)");
        assertEquals(List.of(new ToolCall("call_0", "brave_search",
                "{\"query\":\"Menlo Park \\\"weather\\\" today\",\"count\":3,\"safe\":true}")), r.toolCalls());
        assertEquals("", r.content());
    }

    @Test
    void severalCallsSeparatedBySemicolonsOrNewlines() {
        ParsedReply r = parser.parse("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\"}}; "
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Busan\"}}\n"
                + "{\"name\": \"get_local_time\", \"arguments\": {\"timezone\": \"Asia/Seoul\"}}");
        assertEquals(List.of(new ToolCall("call_0", "get_weather", "{\"city\":\"Seoul\"}"),
                new ToolCall("call_1", "get_weather", "{\"city\":\"Busan\"}"),
                new ToolCall("call_2", "get_local_time", "{\"timezone\":\"Asia/Seoul\"}")), r.toolCalls());
        assertEquals("", r.content());
    }

    @Test
    void textAroundACallOnItsOwnLine() {
        ParsedReply r = parser.parse("I'll look up the weather first.\n"
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"東京\"}}\nThen I can answer.");
        assertEquals(List.of(new ToolCall("call_0", "get_weather", "{\"city\":\"東京\"}")), r.toolCalls());
        assertEquals("I'll look up the weather first.\n\nThen I can answer.", r.content());
    }

    @Test
    void jsonThatIsNotACallStaysProse() {
        for (String text : List.of(
                "Here is the config:\n{\"name\": \"server\", \"port\": 8080}",
                "Use {\"name\": \"f\", \"parameters\": {}} inside a sentence, mid-line.",
                "{\"parameters\": {\"x\": 1}}",
                "{\"name\": \"f\", \"parameters\": \"not an object\"}",
                "function f() {\n  return 1;\n}",
                "{ this is not json }")) {
            ParsedReply r = parser.parse(text);
            assertEquals(List.of(), r.toolCalls(), text);
            assertEquals(text, r.content(), text);
        }
    }

    @Test
    void malformedOrTruncatedCallsStayContent() {
        for (String text : List.of(
                "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seoul\",}}",
                "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Seo",
                "<|python_tag|>print(1 + 1)",
                "<|python_tag|>brave_search.call(query=\"unterminated)",
                "<|python_tag|>wolfram_alpha.call(query=undefined_name)")) {
            ParsedReply r = parser.parse(text);
            assertEquals(List.of(), r.toolCalls(), text);
            assertEquals(text, r.content(), text);
        }
    }

    @Test
    void unicodeAndNestedParameters() {
        ParsedReply r = parser.parse("{\"name\": \"book\", \"parameters\": {\"guest\": \"Zoë Ünal 🙂\", "
                + "\"note\": \"\\ud55c\\uad6d\\uc5b4 {ok}\", \"rooms\": [{\"beds\": 2}], \"late\": false}}");
        assertEquals("{\"guest\":\"Zoë Ünal 🙂\",\"note\":\"한국어 {ok}\",\"rooms\":[{\"beds\":2}],\"late\":false}",
                r.toolCalls().getFirst().argumentsJson());
    }

    @Test
    void toolCallStartHoldsLineStartObjectsThatMayBeCalls() {
        assertEquals(-1, parser.toolCallStart("The answer is 42."));
        assertEquals(0, parser.toolCallStart("{\"na"));
        assertEquals(2, parser.toolCallStart("  {\"name\": \"f\", \"parameters\": {}}"));
        assertEquals(7, parser.toolCallStart("Sure.\n\n{\"name\": \"f\""));
        assertEquals(-1, parser.toolCallStart("Config:\n{\"port\": 8080}\nDone"), "a finished non-call object");
        assertEquals(-1, parser.toolCallStart("Inline {\"name\": \"f\""), "mid-line braces are prose");
        assertEquals(5, parser.toolCallStart("Text <|python"));
        assertEquals(5, parser.toolCallStart("Text <|python_tag|>brave_search.call("));
        assertTrue(parser.mayStartToolCall("{"));
        assertFalse(parser.mayStartToolCall("no braces"));
    }
}
