package dev.tokenselect.engine.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Calls written as Hermes-style blocks, the form Qwen2.5/Qwen3 templates teach:
 * <pre>{@code
 * <tool_call>
 * {"name": "get_weather", "arguments": {"city": "Seoul"}}
 * </tool_call>
 * }</pre>
 * Several blocks may follow each other, with text before or after. A block the output ends inside (no closing tag)
 * still counts when its JSON is complete, since generation may stop right after the object.
 */
final class HermesToolCallParser implements ToolCallParser {

    private static final System.Logger LOG = System.getLogger(HermesToolCallParser.class.getName());

    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";

    @Override
    public ParsedReply parse(String text) {
        StringBuilder content = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        int pos = 0;
        while (true) {
            int open = text.indexOf(OPEN, pos);
            if (open < 0) {
                content.append(text, pos, text.length());
                break;
            }
            content.append(text, pos, open);
            int bodyStart = open + OPEN.length();
            int close = text.indexOf(CLOSE, bodyStart);
            int nextOpen = text.indexOf(OPEN, bodyStart);
            int bodyEnd;
            int blockEnd;
            if (nextOpen >= 0 && (close < 0 || nextOpen < close)) {
                bodyEnd = blockEnd = nextOpen; // an unclosed block followed by another
            } else if (close >= 0) {
                bodyEnd = close;
                blockEnd = close + CLOSE.length();
            } else {
                bodyEnd = blockEnd = text.length();
            }
            String body = text.substring(bodyStart, bodyEnd).strip();
            try {
                if (!body.startsWith("{") || ToolCallJson.valueEnd(body, 0) != body.length()) {
                    throw new ToolCallJson.NotACall("the block does not hold exactly one JSON object");
                }
                calls.add(ToolCallJson.readCall(body, calls.size(), false));
            } catch (ToolCallJson.NotACall e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "kept a " + OPEN + " block as text: " + e.getMessage()
                        + ": " + ToolCallJson.excerpt(body));
                content.append(text, open, blockEnd);
            }
            pos = blockEnd;
        }
        return new ParsedReply(content.toString().strip(), calls);
    }

    @Override
    public int toolCallStart(String text) {
        int open = text.indexOf(OPEN);
        if (open >= 0) {
            return open;
        }
        // The text may end in the first characters of the tag ("<tool_c"): hold those back until the next delta.
        for (int k = Math.min(OPEN.length() - 1, text.length()); k > 0; k--) {
            if (text.regionMatches(text.length() - k, OPEN, 0, k)) {
                return text.length() - k;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "hermes <tool_call> blocks";
    }
}
