package dev.tokenselect.engine.chat;

import java.util.List;

/** For templates without tool support: the model was never taught a call syntax, so its text is all content. */
enum NoToolCallParser implements ToolCallParser {
    INSTANCE;

    @Override
    public ParsedReply parse(String generatedText) {
        return new ParsedReply(generatedText, List.of());
    }

    @Override
    public int toolCallStart(String textSoFar) {
        return -1;
    }

    @Override
    public String toString() {
        return "no tool calls";
    }
}
