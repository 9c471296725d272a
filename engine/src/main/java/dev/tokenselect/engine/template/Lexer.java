package dev.tokenselect.engine.template;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Splits a template into tokens with Jinja2's whitespace rules as configured by transformers
 * ({@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}):
 * <ul>
 *   <li>{@code {%-}/{{-}/{#-} strip all whitespace before the tag, {@code -%}}/{@code -}}}/{@code -#}} all after;</li>
 *   <li>lstrip_blocks removes spaces/tabs between a line start and a {@code {%}/{@code {#} tag (not {@code {{});</li>
 *   <li>trim_blocks removes one newline right after {@code %}} or {@code #}} (not {@code }}});</li>
 *   <li>{@code {%+} and {@code +%}} opt out of lstrip/trim; one trailing newline of the template is dropped.</li>
 * </ul>
 */
final class Lexer {

    private static final String[] OPERATORS_2 = {"//", "**", "==", "!=", ">=", "<="};
    private static final String OPERATORS_1 = "+-/*%~[](){}><=.:|,;";

    private final String src;
    private final int[] lineStarts;
    private final List<Token> tokens = new ArrayList<>();
    private boolean lineStarting = true;

    private Lexer(String source) {
        String normalized = source.replace("\r\n", "\n").replace('\r', '\n');
        if (normalized.endsWith("\n")) {
            normalized = normalized.substring(0, normalized.length() - 1); // keep_trailing_newline=False
        }
        this.src = normalized;
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                starts.add(i + 1);
            }
        }
        this.lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.run();
        return lexer.tokens;
    }

    private Pos pos(int offset) {
        int lo = 0;
        int hi = lineStarts.length - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (lineStarts[mid] <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return new Pos(lo + 1, offset - lineStarts[lo] + 1);
    }

    private TemplateException error(int offset, String message) {
        return pos(offset).error(message);
    }

    private void emit(Token.Type type, Object value, int offset) {
        tokens.add(new Token(type, value, pos(offset)));
    }

    private int skipSpace(int i) {
        while (i < src.length() && PyStrings.isSpace(src.charAt(i))) {
            i++;
        }
        return i;
    }

    private void run() {
        int pos = 0;
        int n = src.length();
        while (pos < n) {
            int tag = findTagStart(pos);
            if (tag < 0) {
                emit(Token.Type.DATA, src.substring(pos), pos);
                break;
            }
            char kind = src.charAt(tag + 1);
            int p = tag + 2;
            char sign = 0;
            if (p < n && (src.charAt(p) == '-' || src.charAt(p) == '+')) {
                sign = src.charAt(p++);
            }
            int rawEnd = kind == '%' ? matchRawBegin(p) : -1;
            String text = leftStrip(src.substring(pos, tag), sign, kind != '{');
            if (!text.isEmpty()) {
                emit(Token.Type.DATA, text, pos);
            }
            if (rawEnd >= 0) {
                lineStarting = src.charAt(rawEnd - 1) == '\n';
                pos = lexRaw(rawEnd, tag);
            } else if (kind == '#') {
                pos = skipComment(p, tag);
            } else {
                emit(kind == '{' ? Token.Type.VARIABLE_BEGIN : Token.Type.BLOCK_BEGIN, null, tag);
                pos = lexTag(p, kind == '%', tag);
            }
        }
        emit(Token.Type.EOF, null, n);
    }

    private int findTagStart(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char next = src.charAt(i + 1);
            if (next == '{' || next == '%' || next == '#') {
                return i;
            }
        }
        return -1;
    }

    /** The whitespace control Jinja applies to the text before a tag ({@code sign} is '-', '+' or 0). */
    private String leftStrip(String text, char sign, boolean lstripEligible) {
        if (sign == '-') {
            int end = text.length();
            while (end > 0 && PyStrings.isSpace(text.charAt(end - 1))) {
                end--;
            }
            return text.substring(0, end);
        }
        if (sign != '+' && lstripEligible) {
            int lineStart = text.lastIndexOf('\n') + 1;
            if ((lineStart > 0 || lineStarting) && lineStart < text.length()) {
                for (int i = lineStart; i < text.length(); i++) {
                    if (!PyStrings.isSpace(text.charAt(i))) {
                        return text;
                    }
                }
                return text.substring(0, lineStart);
            }
        }
        return text;
    }

    /** End offset of a {@code {% raw %}} tag whose sign has been consumed up to {@code p}, or -1. */
    private int matchRawBegin(int p) {
        int q = skipSpace(p);
        if (!src.startsWith("raw", q)) {
            return -1;
        }
        q = skipSpace(q + 3);
        if (src.startsWith("-%}", q)) {
            return skipSpace(q + 3);
        }
        return src.startsWith("%}", q) ? q + 2 : -1;
    }

    private int lexRaw(int bodyStart, int tagOffset) {
        for (int j = src.indexOf("{%", bodyStart); j >= 0; j = src.indexOf("{%", j + 1)) {
            int k = j + 2;
            char sign = 0;
            if (k < src.length() && (src.charAt(k) == '-' || src.charAt(k) == '+')) {
                sign = src.charAt(k++);
            }
            k = skipSpace(k);
            if (!src.startsWith("endraw", k)) {
                continue;
            }
            k = skipSpace(k + 6);
            int end = tagEnd(k, true);
            if (end < 0) {
                continue;
            }
            String body = leftStrip(src.substring(bodyStart, j), sign, true);
            if (!body.isEmpty()) {
                emit(Token.Type.DATA, body, bodyStart);
            }
            lineStarting = src.charAt(end - 1) == '\n';
            return end;
        }
        throw error(tagOffset, "Missing end of raw directive");
    }

    /**
     * If a block end ({@code %}} with '+'/'-' variants) starts at {@code k}, its end offset including the whitespace
     * it swallows; otherwise -1.
     */
    private int tagEnd(int k, boolean block) {
        String close = block ? "%}" : "}}";
        if (block && src.startsWith("+" + close, k)) {
            return k + 3;
        }
        if (src.startsWith("-" + close, k)) {
            return skipSpace(k + 3);
        }
        if (src.startsWith(close, k)) {
            int end = k + 2;
            if (block && end < src.length() && src.charAt(end) == '\n') {
                end++; // trim_blocks
            }
            return end;
        }
        return -1;
    }

    private int skipComment(int p, int tagOffset) {
        for (int j = p; j < src.length(); j++) {
            char c = src.charAt(j);
            int end = -1;
            if ((c == '+' || c == '-') && src.startsWith("#}", j + 1)) {
                end = c == '+' ? j + 3 : skipSpace(j + 3);
            } else if (c == '#' && src.startsWith("#}", j)) {
                end = j + 2;
                if (end < src.length() && src.charAt(end) == '\n') {
                    end++; // trim_blocks applies to comments too
                }
            }
            if (end >= 0) {
                lineStarting = src.charAt(end - 1) == '\n';
                return end;
            }
        }
        throw error(tagOffset, "Missing end of comment tag");
    }

    private int lexTag(int p, boolean block, int tagOffset) {
        Deque<Character> brackets = new ArrayDeque<>();
        int n = src.length();
        while (true) {
            p = skipSpace(p);
            if (p >= n) {
                throw error(tagOffset, "unexpected end of template, expected '" + (block ? "%}" : "}}")
                        + "' to close the tag opened here");
            }
            if (brackets.isEmpty()) {
                int end = tagEnd(p, block);
                if (end >= 0) {
                    emit(block ? Token.Type.BLOCK_END : Token.Type.VARIABLE_END, null, p);
                    lineStarting = src.charAt(end - 1) == '\n';
                    return end;
                }
            }
            char c = src.charAt(p);
            if (c >= '0' && c <= '9') {
                p = lexNumber(p);
            } else if (c == '_' || Character.isLetter(c) || Character.isSurrogate(c)) {
                int q = p;
                while (q < n && isNamePart(src.codePointAt(q))) {
                    q += Character.charCount(src.codePointAt(q));
                }
                if (q == p) {
                    throw error(p, "unexpected char " + PyValues.repr(String.valueOf(c)));
                }
                emit(Token.Type.NAME, src.substring(p, q), p);
                p = q;
            } else if (c == '\'' || c == '"') {
                p = lexString(p);
            } else {
                String op = null;
                for (String candidate : OPERATORS_2) {
                    if (src.startsWith(candidate, p)) {
                        op = candidate;
                        break;
                    }
                }
                if (op == null && OPERATORS_1.indexOf(c) >= 0) {
                    op = String.valueOf(c);
                }
                if (op == null) {
                    throw error(p, "unexpected char " + PyValues.repr(String.valueOf(c)));
                }
                trackBrackets(op, brackets, p);
                emit(Token.Type.OPERATOR, op, p);
                p += op.length();
            }
        }
    }

    private void trackBrackets(String op, Deque<Character> brackets, int offset) {
        switch (op) {
            case "(" -> brackets.push(')');
            case "[" -> brackets.push(']');
            case "{" -> brackets.push('}');
            case ")", "]", "}" -> {
                if (brackets.isEmpty()) {
                    throw error(offset, "unexpected '" + op + "'");
                }
                char expected = brackets.pop();
                if (expected != op.charAt(0)) {
                    throw error(offset, "unexpected '" + op + "', expected '" + expected + "'");
                }
            }
            default -> {
            }
        }
    }

    private static boolean isNamePart(int cp) {
        if (cp == '_' || Character.isLetterOrDigit(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.CONNECTOR_PUNCTUATION || type == Character.LETTER_NUMBER;
    }

    // ---------------------------------------------------------------- numbers

    /** End of {@code (\d+_)*\d+} starting at i, or -1 when no digit is there. */
    private int digits(int i) {
        if (i >= src.length() || !isAsciiDigit(src.charAt(i))) {
            return -1;
        }
        while (true) {
            while (i < src.length() && isAsciiDigit(src.charAt(i))) {
                i++;
            }
            if (i + 1 < src.length() && src.charAt(i) == '_' && isAsciiDigit(src.charAt(i + 1))) {
                i++;
            } else {
                return i;
            }
        }
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private int exponent(int i) {
        if (i < src.length() && (src.charAt(i) == 'e' || src.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < src.length() && (src.charAt(j) == '+' || src.charAt(j) == '-')) {
                j++;
            }
            return digits(j);
        }
        return -1;
    }

    private int lexNumber(int p) {
        int intEnd = digits(p);
        int end = -1;
        // Jinja's float regex; a number right after '.' is never a float (so foo.0.1 is two subscripts).
        if (p == 0 || src.charAt(p - 1) != '.') {
            int fracEnd = intEnd < src.length() && src.charAt(intEnd) == '.' ? digits(intEnd + 1) : -1;
            if (fracEnd > 0 && exponent(fracEnd) > 0) {
                end = exponent(fracEnd);
            } else if (exponent(intEnd) > 0) {
                end = exponent(intEnd);
            } else if (fracEnd > 0) {
                end = fracEnd;
            }
        }
        if (end > 0) {
            String text = src.substring(p, end).replace("_", "");
            emit(Token.Type.FLOAT, Double.parseDouble(text), p);
            return end;
        }
        return lexInteger(p);
    }

    private int lexInteger(int p) {
        int n = src.length();
        if (src.charAt(p) == '0' && p + 1 < n) {
            char base = Character.toLowerCase(src.charAt(p + 1));
            int radix = base == 'b' ? 2 : base == 'o' ? 8 : base == 'x' ? 16 : 0;
            if (radix > 0) {
                int q = p + 2;
                StringBuilder digits = new StringBuilder();
                while (q < n) {
                    int at = q;
                    if (src.charAt(at) == '_') {
                        at++;
                    }
                    if (at < n && Character.digit(src.charAt(at), radix) >= 0) {
                        digits.append(src.charAt(at));
                        q = at + 1;
                    } else {
                        break;
                    }
                }
                if (!digits.isEmpty()) {
                    emit(Token.Type.INTEGER, PyValues.normalizeInt(new BigInteger(digits.toString(), radix)), p);
                    return q;
                }
            }
        }
        int q = p + 1;
        if (src.charAt(p) == '0') {
            // "0(_?0)*": a decimal literal may not have leading zeros.
            while (q < n && (src.charAt(q) == '0' || (src.charAt(q) == '_' && q + 1 < n && src.charAt(q + 1) == '0'))) {
                q += src.charAt(q) == '_' ? 2 : 1;
            }
        } else {
            while (q < n && (isAsciiDigit(src.charAt(q))
                    || (src.charAt(q) == '_' && q + 1 < n && isAsciiDigit(src.charAt(q + 1))))) {
                q += src.charAt(q) == '_' ? 2 : 1;
            }
        }
        String text = src.substring(p, q).replace("_", "");
        emit(Token.Type.INTEGER, PyValues.normalizeInt(new BigInteger(text)), p);
        return q;
    }

    // ---------------------------------------------------------------- strings

    private int lexString(int p) {
        char quote = src.charAt(p);
        int i = p + 1;
        while (i < src.length()) {
            char c = src.charAt(i);
            if (c == '\\') {
                i += 2;
            } else if (c == quote) {
                emit(Token.Type.STRING, unescape(src.substring(p + 1, i), p), p);
                return i + 1;
            } else {
                i++;
            }
        }
        throw error(p, "unexpected char " + PyValues.repr(String.valueOf(quote)) + " (unterminated string)");
    }

    /** Python's "unicode-escape" decoding, which Jinja applies to string literals. */
    private String unescape(String body, int offset) {
        if (body.indexOf('\\') < 0) {
            return body;
        }
        StringBuilder out = new StringBuilder(body.length());
        int i = 0;
        int n = body.length();
        while (i < n) {
            char c = body.charAt(i++);
            if (c != '\\' || i >= n) {
                out.append(c);
                continue;
            }
            char e = body.charAt(i++);
            switch (e) {
                case '\n' -> {
                    // a backslash-newline is a line continuation
                }
                case '\\', '\'', '"' -> out.append(e);
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + len > n || !body.substring(i, i + len).chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
                        throw error(offset, "truncated \\" + e + " escape in string literal");
                    }
                    int cp = Integer.parseUnsignedInt(body.substring(i, i + len), 16);
                    if (!Character.isValidCodePoint(cp)) {
                        throw error(offset, "illegal Unicode character in string literal");
                    }
                    out.appendCodePoint(cp);
                    i += len;
                }
                case 'N' -> {
                    int close = body.indexOf('}', i);
                    if (i >= n || body.charAt(i) != '{' || close < 0) {
                        throw error(offset, "malformed \\N character escape in string literal");
                    }
                    try {
                        out.appendCodePoint(Character.codePointOf(body.substring(i + 1, close)));
                    } catch (IllegalArgumentException unknown) {
                        throw error(offset, "unknown Unicode character name in string literal");
                    }
                    i = close + 1;
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int value = e - '0';
                        for (int k = 0; k < 2 && i < n && body.charAt(i) >= '0' && body.charAt(i) <= '7'; k++) {
                            value = value * 8 + body.charAt(i++) - '0';
                        }
                        out.append((char) value);
                    } else {
                        out.append('\\').append(e); // unknown escapes stay as written
                    }
                }
            }
        }
        return out.toString();
    }
}
