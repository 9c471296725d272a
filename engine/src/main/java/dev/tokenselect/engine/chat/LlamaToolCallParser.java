package dev.tokenselect.engine.chat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Calls in the forms the Llama 3.1/3.2 templates teach:
 * <ul>
 * <li>a JSON object {@code {"name": "get_weather", "parameters": {"city": "Seoul"}}} (custom tools), at the start
 * of the reply or of a line; several may follow each other, separated by whitespace or {@code ;};</li>
 * <li>the same after {@code <|python_tag|>}, or a built-in tool call {@code <|python_tag|>brave_search.call(query="...")}.
 * {@code <|python_tag|>} is a special token: it is in the text only where the reply is decoded keeping special
 * tokens (the engine's generation drops them, leaving the bare JSON).</li>
 * </ul>
 * An object only counts as a call when it has a name and object arguments, so JSON in prose stays prose.
 */
final class LlamaToolCallParser implements ToolCallParser {

    private static final System.Logger LOG = System.getLogger(LlamaToolCallParser.class.getName());

    static final String PYTHON_TAG = "<|python_tag|>";
    private static final Pattern BUILTIN_CALL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\.call\\(");
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?");

    /** Calls read from one place in the text, and where their markup ends. */
    private record Run(List<ToolCall> calls, int end) {
    }

    @Override
    public ParsedReply parse(String text) {
        StringBuilder content = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        int copied = 0;
        int i = 0;
        boolean callPosition = true; // at the start of the text or of a line, where a call may begin
        while (i < text.length()) {
            char c = text.charAt(i);
            if (text.startsWith(PYTHON_TAG, i)) {
                Run run = readRun(text, skipWhitespace(text, i + PYTHON_TAG.length()), calls.size(), true);
                if (run != null) {
                    content.append(text, copied, i);
                    calls.addAll(run.calls());
                    copied = i = run.end();
                } else {
                    int at = i;
                    LOG.log(System.Logger.Level.DEBUG, () -> "kept " + PYTHON_TAG + " and what follows as text: no call "
                            + "could be read from " + ToolCallJson.excerpt(text.substring(at + PYTHON_TAG.length())));
                    i += PYTHON_TAG.length();
                }
                callPosition = false;
                continue;
            }
            if (c == '{' && callPosition) {
                Run run = readRun(text, i, calls.size(), false);
                if (run != null) {
                    content.append(text, copied, i);
                    calls.addAll(run.calls());
                    copied = i = run.end();
                    callPosition = false;
                    continue;
                }
                int end = ToolCallJson.valueEnd(text, i);
                if (end < 0) {
                    int at = i;
                    LOG.log(System.Logger.Level.DEBUG, () -> "kept an unterminated JSON object as text (truncated "
                            + "output?): " + ToolCallJson.excerpt(text.substring(at)));
                    break; // everything after an unclosed brace is inside it
                }
                i = end;
                callPosition = false;
                continue;
            }
            if (c == '\n') {
                callPosition = true;
            } else if (!Character.isWhitespace(c)) {
                callPosition = false;
            }
            i++;
        }
        content.append(text, copied, text.length());
        return new ParsedReply(content.toString().strip(), calls);
    }

    @Override
    public int toolCallStart(String text) {
        int i = 0;
        boolean callPosition = true;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (text.startsWith(PYTHON_TAG, i)) {
                return i;
            }
            if (c == '{' && callPosition) {
                int end = ToolCallJson.valueEnd(text, i);
                if (end < 0 || ToolCallJson.looksLikeCall(text.substring(i, end))) {
                    return i; // a call, or an object not finished yet that may become one
                }
                i = end;
                callPosition = false;
                continue;
            }
            if (c == '\n') {
                callPosition = true;
            } else if (!Character.isWhitespace(c)) {
                callPosition = false;
            }
            i++;
        }
        for (int k = Math.min(PYTHON_TAG.length() - 1, text.length()); k > 0; k--) {
            if (text.regionMatches(text.length() - k, PYTHON_TAG, 0, k)) {
                return text.length() - k;
            }
        }
        return -1;
    }

    /** One or more calls from {@code start}, separated by whitespace or ';'; null when there is none. */
    private static Run readRun(String text, int start, int firstIndex, boolean afterTag) {
        List<ToolCall> calls = new ArrayList<>();
        int end = start;
        int pos = start;
        while (pos < text.length()) {
            try {
                if (text.charAt(pos) == '{') {
                    int objectEnd = ToolCallJson.valueEnd(text, pos);
                    if (objectEnd < 0) {
                        break;
                    }
                    calls.add(ToolCallJson.readCall(text.substring(pos, objectEnd), firstIndex + calls.size(), true));
                    end = objectEnd;
                } else if (afterTag && calls.isEmpty()) {
                    Matcher m = BUILTIN_CALL.matcher(text).region(pos, text.length());
                    if (!m.lookingAt()) {
                        break;
                    }
                    int close = closingParen(text, m.end());
                    if (close < 0) {
                        throw new ToolCallJson.NotACall("no closing parenthesis");
                    }
                    String arguments = ToolCallJson.JSON.writeValueAsString(
                            keywordArguments(text.substring(m.end(), close)));
                    calls.add(new ToolCall(ToolCallJson.idFor(firstIndex), m.group(1), arguments));
                    end = close + 1;
                    break; // a built-in call is alone after its tag
                } else {
                    break;
                }
            } catch (ToolCallJson.NotACall e) {
                int at = pos;
                LOG.log(System.Logger.Level.DEBUG, () -> "not a tool call (" + e.getMessage() + "), kept as text: "
                        + ToolCallJson.excerpt(text.substring(at)));
                break;
            }
            pos = skipWhitespace(text, end);
            if (pos < text.length() && text.charAt(pos) == ';') {
                pos = skipWhitespace(text, pos + 1);
            }
        }
        return calls.isEmpty() ? null : new Run(calls, end);
    }

    private static int skipWhitespace(String text, int pos) {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
        return pos;
    }

    /** The ')' closing a call's argument list, skipping quoted strings; -1 if there is none. */
    private static int closingParen(String text, int from) {
        char quote = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ')') {
                return i;
            }
        }
        return -1;
    }

    /** {@code query="x", count=3} as a map: Python string, number, True/False/None literals. */
    private static Map<String, Object> keywordArguments(String source) throws ToolCallJson.NotACall {
        Map<String, Object> arguments = new LinkedHashMap<>();
        int pos = skipWhitespace(source, 0);
        while (pos < source.length()) {
            int eq = source.indexOf('=', pos);
            if (eq < 0) {
                throw new ToolCallJson.NotACall("expected name=value in the argument list");
            }
            String key = source.substring(pos, eq).strip();
            if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new ToolCallJson.NotACall("bad argument name '" + key + "'");
            }
            pos = skipWhitespace(source, eq + 1);
            int valueEnd;
            Object value;
            if (pos < source.length() && (source.charAt(pos) == '"' || source.charAt(pos) == '\'')) {
                StringBuilder s = new StringBuilder();
                char quote = source.charAt(pos);
                int i = pos + 1;
                for (; i < source.length() && source.charAt(i) != quote; i++) {
                    char c = source.charAt(i);
                    if (c == '\\' && i + 1 < source.length()) {
                        char e = source.charAt(++i);
                        s.append(switch (e) {
                            case 'n' -> '\n';
                            case 't' -> '\t';
                            default -> e;
                        });
                    } else {
                        s.append(c);
                    }
                }
                if (i >= source.length()) {
                    throw new ToolCallJson.NotACall("unterminated string for '" + key + "'");
                }
                value = s.toString();
                valueEnd = i + 1;
            } else {
                int comma = source.indexOf(',', pos);
                valueEnd = comma < 0 ? source.length() : comma;
                String literal = source.substring(pos, valueEnd).strip();
                value = switch (literal) {
                    case "True" -> Boolean.TRUE;
                    case "False" -> Boolean.FALSE;
                    case "None" -> null;
                    default -> {
                        if (!NUMBER.matcher(literal).matches()) {
                            throw new ToolCallJson.NotACall("unsupported value '" + literal + "' for '" + key + "'");
                        }
                        yield literal.matches("-?\\d+") ? (Object) new BigInteger(literal)
                                : (Object) Double.valueOf(literal);
                    }
                };
            }
            arguments.put(key, value);
            pos = skipWhitespace(source, valueEnd);
            if (pos < source.length()) {
                if (source.charAt(pos) != ',') {
                    throw new ToolCallJson.NotACall("expected ',' after the value of '" + key + "'");
                }
                pos = skipWhitespace(source, pos + 1);
            }
        }
        return arguments;
    }

    @Override
    public String toString() {
        return "llama JSON / <|python_tag|> calls";
    }
}
