package dev.tokenselect.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;

import org.junit.jupiter.api.Test;

/** {@link ToolCallParser#forFormat} picks the call syntax each real template teaches. */
class ToolCallParserFormatTest {

    private static final String HERMES = "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>";
    private static final String LLAMA = "{\"name\": \"f\", \"parameters\": {\"x\": 1}}";
    /** Hermes blocks may sit mid-line; a Llama call must start a line. */
    private static final String HERMES_INLINE = "Calling <tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}</tool_call>";
    private static final List<ToolCall> CALL = List.of(new ToolCall("call_0", "f", "{\"x\":1}"));

    @Test
    void qwen3ReadsToolCallBlocks() {
        ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get("qwen3"));
        assertEquals(CALL, parser.parse(HERMES).toolCalls());
        assertEquals(CALL, parser.parse(HERMES_INLINE).toolCalls());
        assertEquals(List.of(), parser.parse(LLAMA).toolCalls());
    }

    @Test
    void llama31InstructReadsJsonCalls() {
        ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get("llama3_1_instruct"));
        assertEquals(CALL, parser.parse(LLAMA).toolCalls());
        assertEquals(CALL, parser.parse("<|python_tag|>" + LLAMA).toolCalls());
        assertEquals(List.of(), parser.parse(HERMES_INLINE).toolCalls());
    }

    @Test
    void aTemplateWithoutToolsReturnsTheTextUnchanged() {
        // The repository's Llama 3.1 tokenizer config carries the Llama 3 template, which renders no tools.
        ToolCallParser parser = ToolCallParser.forFormat(ChatFormats.get("llama3_1"));
        for (String text : List.of(HERMES, LLAMA, "  plain text\n")) {
            ParsedReply r = parser.parse(text);
            assertEquals(text, r.content());
            assertFalse(r.hasToolCalls());
            assertFalse(parser.mayStartToolCall(text));
        }
    }
}
