package dev.tokenselect.engine.chat;

/**
 * Reads the tool calls out of a model's generated text, in the form the model's chat template taught it.
 *
 * <p>Parsers never throw on what a model writes: text that looks like a call but is not one (malformed JSON, no
 * name, truncated output) stays in the content, and the reason is logged at debug level.
 */
public interface ToolCallParser {

    /** Splits a complete reply into its text and its tool calls. */
    ParsedReply parse(String generatedText);

    /**
     * Where tool-call markup may begin in the text generated so far, or -1 when none can: a streaming consumer
     * shows the text before this index and holds back the rest until the reply ends (see
     * {@link ToolCallStreamSplitter}). The index never moves before text that an earlier, shorter text allowed.
     */
    int toolCallStart(String textSoFar);

    /** Whether the text generated so far may contain the start of a tool call (so it must not all be shown yet). */
    default boolean mayStartToolCall(String textSoFar) {
        return toolCallStart(textSoFar) >= 0;
    }

    /**
     * The parser matching this model's chat template (Qwen/Hermes {@code <tool_call>{json}</tool_call>} blocks;
     * Llama 3.1/3.2 JSON {@code {"name":..,"parameters":..}} and {@code <|python_tag|>} forms); a template without
     * tool support gets a parser that returns the text unchanged.
     */
    static ToolCallParser forFormat(ChatFormat format) {
        String source = format.toolTemplateSource();
        // What the template tells the model to write is the best evidence of what it was trained to write.
        if (source.contains("<tool_call>")) {
            return new HermesToolCallParser();
        }
        if (source.contains("<|start_header_id|>")
                && (source.contains("<|python_tag|>") || source.contains("\"parameters\": "))) {
            return new LlamaToolCallParser();
        }
        return NoToolCallParser.INSTANCE;
    }
}
