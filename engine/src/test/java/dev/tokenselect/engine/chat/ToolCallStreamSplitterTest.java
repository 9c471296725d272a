package dev.tokenselect.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.tokenselect.engine.tokenizer.IncrementalDetokenizer;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * Streaming: replies are cut into the deltas generation produces (the real tokenizer's tokens, decoded
 * incrementally as the generator does) and into every two-piece split; the shown text never contains markup, and
 * shown text plus {@link ToolCallStreamSplitter#finish()}'s content is the reply's content.
 */
class ToolCallStreamSplitterTest {

    private static final String QWEN_CALLS = "Let me check both.\n<tool_call>\n{\"name\": \"get_weather\", "
            + "\"arguments\": {\"city\": \"서울\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_local_time\", "
            + "\"arguments\": {\"timezone\": \"Asia/Seoul\"}}\n</tool_call>";
    private static final String LLAMA_CALL = "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Zürich\"}}";
    private static final String PROSE = "Use the <b>tag</b>, a < b, and this JSON:\n{\"port\": 8080}\nDone. ☀️";

    private static List<String> tokenDeltas(String model, String text) {
        Tokenizer tokenizer = ChatFormats.tokenizer(model);
        IncrementalDetokenizer detokenizer = tokenizer.newIncrementalDetokenizer(true);
        List<String> deltas = new ArrayList<>();
        for (int id : tokenizer.encode(text, false)) {
            deltas.add(detokenizer.accept(id));
        }
        deltas.add(detokenizer.flush());
        assertEquals(text, String.join("", deltas), "the deltas must add up to the text");
        return deltas;
    }

    private record Streamed(String shown, ParsedReply end) {
    }

    private static Streamed stream(ToolCallParser parser, List<String> deltas) {
        ToolCallStreamSplitter splitter = new ToolCallStreamSplitter(parser);
        StringBuilder shown = new StringBuilder();
        for (String delta : deltas) {
            shown.append(splitter.accept(delta));
        }
        return new Streamed(shown.toString(), splitter.finish());
    }

    @Test
    void qwenCallsAreHeldBackTokenByToken() {
        ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get("qwen3"));
        Streamed s = stream(parser, tokenDeltas("qwen3", QWEN_CALLS));
        assertEquals("Let me check both.\n", s.shown());
        assertEquals("", s.end().content());
        assertEquals(parser.parse(QWEN_CALLS).toolCalls(), s.end().toolCalls());
        assertEquals(2, s.end().toolCalls().size());
    }

    @Test
    void llamaJsonCallIsNeverShown() {
        ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get("llama3_1_instruct"));
        Streamed s = stream(parser, tokenDeltas("llama3_1", LLAMA_CALL));
        assertEquals("", s.shown());
        assertEquals(List.of(new ToolCall("call_0", "get_weather", "{\"city\":\"Zürich\"}")), s.end().toolCalls());
    }

    @Test
    void proseWithoutCallsComesOutWhole() {
        for (String model : List.of("qwen3", "llama3_1_instruct")) {
            ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get(model));
            Streamed s = stream(parser, tokenDeltas(model.equals("qwen3") ? "qwen3" : "llama3_1", PROSE));
            assertEquals(PROSE, s.shown() + s.end().content(), model);
            assertFalse(s.end().hasToolCalls(), model);
        }
    }

    @Test
    void everyTwoPieceSplitGivesTheSameResult() {
        Map<ToolCallParser, List<String>> textsByParser = Map.of(
                new HermesToolCallParser(), List.of(QWEN_CALLS, PROSE,
                        "Broken: <tool_call>{\"name\": \"f\", \"arguments\": {</tool_call> end"),
                new LlamaToolCallParser(), List.of("Sure.\n" + LLAMA_CALL + "\nAnything else?", PROSE,
                        "<|python_tag|>brave_search.call(query=\"x\")", LLAMA_CALL + "; " + LLAMA_CALL,
                        "Truncated:\n{\"name\": \"f\", \"parameters\": {\"x\""));
        for (Map.Entry<ToolCallParser, List<String>> e : textsByParser.entrySet()) {
            ToolCallParser parser = e.getKey();
            for (String text : e.getValue()) {
                ParsedReply whole = parser.parse(text);
                for (int cut = 0; cut <= text.length(); cut++) {
                    Streamed s = stream(parser, List.of(text.substring(0, cut), text.substring(cut)));
                    String where = parser + " / cut " + cut + " of " + text;
                    assertEquals(whole.toolCalls(), s.end().toolCalls(), where);
                    if (whole.hasToolCalls()) {
                        assertFalse(s.shown().contains("<tool_call>") || s.shown().contains("\"name\"")
                                || s.shown().contains("python_tag"), where);
                        assertTrue(whole.content().startsWith(s.shown().strip()), where);
                    } else {
                        assertEquals(text, s.shown() + s.end().content(), where);
                    }
                }
            }
        }
    }

    @Test
    void aPartialTagIsReleasedOnceItIsNotTheTag() {
        ToolCallStreamSplitter splitter = new ToolCallStreamSplitter(new HermesToolCallParser());
        assertEquals("x ", splitter.accept("x <to"));
        assertEquals("<tomato", splitter.accept("mato"));
        assertEquals(" ", splitter.accept(" <tool_call>{\"name\": \"f\"}"));
        assertEquals("", splitter.accept("</tool_call>"));
        ParsedReply end = splitter.finish();
        assertEquals(List.of(new ToolCall("call_0", "f", "{}")), end.toolCalls());
        assertEquals("", end.content());
        assertEquals("x <tomato <tool_call>{\"name\": \"f\"}</tool_call>", splitter.text());
        assertThrows(IllegalStateException.class, () -> splitter.accept("more"));
    }

    @Test
    void withoutToolSupportEverythingStreams() {
        ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get("llama3_1"));
        Streamed s = stream(parser, List.of("<tool_call>", "{\"name\": \"f\", \"parameters\": {}}"));
        assertEquals("<tool_call>{\"name\": \"f\", \"parameters\": {}}", s.shown());
        assertEquals("", s.end().content());
    }
}
