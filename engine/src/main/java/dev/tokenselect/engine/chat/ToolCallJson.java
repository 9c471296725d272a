package dev.tokenselect.engine.chat;

import java.util.Map;

import dev.tokenselect.engine.template.ChatTemplate;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The JSON the tool-call parsers and message builders read and write (Jackson, already the engine's JSON library). */
final class ToolCallJson {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** Why a piece of generated text that looked like a tool call is not one; the text then stays content. */
    static final class NotACall extends Exception {
        NotACall(String reason) {
            super(reason, null, false, false);
        }
    }

    private ToolCallJson() {
    }

    /** The id of the index-th call of a reply: the models write none, and a tool result must name one. */
    static String idFor(int index) {
        return "call_" + index;
    }

    /**
     * The end (exclusive) of the JSON object or array opening at {@code start}, matching brackets outside strings;
     * -1 when the text ends first. Only the nesting is checked here: the parse that follows checks the rest.
     */
    static int valueEnd(CharSequence text, int start) {
        int depth = 0;
        boolean inString = false;
        for (int i = start; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    return i + 1;
                }
            }
        }
        return -1;
    }

    static JsonNode parse(String json) throws NotACall {
        try {
            return JSON.readTree(json);
        } catch (JacksonException e) {
            throw new NotACall("invalid JSON: " + e.getOriginalMessage());
        }
    }

    /**
     * A call written as {@code {"name": ..., "arguments": {...}}} (Hermes/Qwen) or {@code {"name": ...,
     * "parameters": {...}}} (Llama); arguments given as a JSON string holding an object are accepted too, since
     * models write both.
     *
     * @param argumentsRequired whether an object without arguments is no call: outside call markup, JSON with just
     *                          a "name" is more likely data than a call
     */
    static ToolCall readCall(String objectText, int index, boolean argumentsRequired) throws NotACall {
        JsonNode call = parse(objectText);
        if (call == null || !call.isObject()) {
            throw new NotACall("not a JSON object");
        }
        JsonNode name = call.get("name");
        if (name == null || !name.isString() || name.stringValue().isBlank()) {
            throw new NotACall("no \"name\" string");
        }
        JsonNode arguments = call.has("arguments") ? call.get("arguments") : call.get("parameters");
        if (arguments == null && argumentsRequired) {
            throw new NotACall("no \"parameters\" or \"arguments\"");
        }
        if (arguments == null || arguments.isNull()) {
            return new ToolCall(idFor(index), name.stringValue(), "{}");
        }
        if (arguments.isString()) {
            arguments = parse(arguments.stringValue());
        }
        if (!arguments.isObject()) {
            throw new NotACall("the arguments of '" + name.stringValue() + "' are not a JSON object");
        }
        return new ToolCall(idFor(index), name.stringValue(), JSON.writeValueAsString(arguments));
    }

    /** Whether an object outside call markup has the shape of a call (a name and object arguments). */
    static boolean looksLikeCall(String objectText) {
        try {
            readCall(objectText, 0, true);
            return true;
        } catch (NotACall e) {
            return false;
        }
    }

    /**
     * A JSON object text as the insertion-ordered map a chat template reads (what Python's json.loads gives).
     *
     * @param what names the text in the error, e.g. "the arguments of tool call 'get_weather'"
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> objectToMap(String json, String what, String example) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(what + " is not valid JSON (" + e.getOriginalMessage()
                    + "): " + excerpt(json) + "; give a JSON object such as " + example, e);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(what + " must be a JSON object, not " + excerpt(json)
                    + "; give a JSON object such as " + example);
        }
        return (Map<String, Object>) ChatTemplate.fromJson(node);
    }

    static String excerpt(String text) {
        return text.length() <= 80 ? "'" + text + "'" : "'" + text.substring(0, 77) + "...'";
    }
}
