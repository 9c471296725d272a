package dev.tokenselect.engine.chat;

import java.util.List;

/**
 * Splits a streamed reply into text that can be shown as it comes and text held back because it may be tool-call
 * markup, so that a user never sees {@code <tool_call>} or a call's JSON. Feed each generated delta to
 * {@link #accept}; when generation ends, {@link #finish} parses the whole reply and returns its calls together with
 * the held-back text that turned out to be plain content. Not thread-safe: one instance per reply.
 * <pre>{@code
 * ToolCallStreamSplitter splitter = new ToolCallStreamSplitter(ToolCallParser.forFormat(format));
 * generator.generate(..., delta -> show(splitter.accept(delta)));
 * ParsedReply end = splitter.finish();   // end.content(): the rest to show; end.toolCalls(): the calls
 * }</pre>
 */
public final class ToolCallStreamSplitter {

    private final ToolCallParser parser;
    private final StringBuilder text = new StringBuilder();
    private int shown;
    private boolean finished;

    public ToolCallStreamSplitter(ToolCallParser parser) {
        this.parser = parser;
    }

    /** Adds generated text; returns the part that is now safe to show ("" while everything new may be markup). */
    public String accept(String delta) {
        if (finished) {
            throw new IllegalStateException("the reply was finished; use a new splitter for the next reply");
        }
        text.append(delta);
        String all = text.toString();
        int start = parser.toolCallStart(all);
        int safe = start < 0 ? all.length() : Math.max(start, shown);
        String out = all.substring(shown, safe);
        shown = safe;
        return out;
    }

    /**
     * Ends the reply.
     *
     * @return the tool calls of the whole reply, and as content the text not yet returned by {@link #accept} with
     *         the markup removed (verbatim when the reply made no call, trimmed when it did)
     */
    public ParsedReply finish() {
        finished = true;
        String all = text.toString();
        ParsedReply whole = parser.parse(all);
        if (!whole.hasToolCalls()) {
            return new ParsedReply(all.substring(shown), List.of());
        }
        // The held-back text starts where markup may begin, so parsing it alone finds the same calls.
        return new ParsedReply(parser.parse(all.substring(shown)).content(), whole.toolCalls());
    }

    /** Everything generated so far. */
    public String text() {
        return text.toString();
    }
}
