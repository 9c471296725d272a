package dev.tokenselect.engine.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles a tokenizer.json regex (written for Oniguruma with Ruby syntax, which the tokenizers library uses)
 * into an equivalent {@link java.util.regex.Pattern}.
 *
 * <p>Semantics that differ and are handled:
 * <ul>
 *   <li>{@code \s \d \w \b} are Unicode-aware in Oniguruma; Java needs {@link Pattern#UNICODE_CHARACTER_CLASS}
 *       (which also makes {@code (?i)} Unicode case-insensitive, as in Oniguruma). General categories such as
 *       {@code \p{L}} are unaffected by that flag.</li>
 *   <li>In Ruby syntax {@code ^} and {@code $} are always line anchors and only {@code \n} ends a line:
 *       {@link Pattern#MULTILINE} plus {@link Pattern#UNIX_LINES}.</li>
 *   <li>The Ruby option {@code m} means "dot matches newline", i.e. Java's {@code s}.</li>
 *   <li>{@code \p{Han}}-style script names become Java's {@code \p{IsHan}}.</li>
 * </ul>
 * Constructs whose meaning would silently change (POSIX brackets, {@code \h}, {@code \K}, absent operator...)
 * are rejected with a {@link TokenizerFormatException}.
 */
final class OnigurumaRegex {

    static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE | Pattern.UNIX_LINES;

    private OnigurumaRegex() {
    }

    static Pattern compile(String regex, String source) {
        String translated = translate(regex, source);
        try {
            return Pattern.compile(translated, FLAGS);
        } catch (PatternSyntaxException e) {
            throw new TokenizerFormatException(source,
                    "unsupported pre-tokenizer regex " + quote(regex) + ": " + e.getDescription(), e);
        }
    }

    static String translate(String regex, String source) {
        StringBuilder out = new StringBuilder(regex.length() + 16);
        int classDepth = 0;
        int i = 0;
        int n = regex.length();
        while (i < n) {
            char c = regex.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) throw unsupported(regex, source, "trailing backslash");
                char e = regex.charAt(i + 1);
                switch (e) {
                    case 'p', 'P' -> {
                        int close = regex.indexOf('}', i);
                        if (i + 2 >= n || regex.charAt(i + 2) != '{' || close < 0) {
                            throw unsupported(regex, source, "\\" + e + " without {name}");
                        }
                        String name = regex.substring(i + 3, close);
                        boolean negate = e == 'P';
                        if (name.startsWith("^")) {
                            negate = !negate;
                            name = name.substring(1);
                        }
                        out.append('\\').append(negate ? 'P' : 'p').append('{').append(javaPropertyName(name, regex, source)).append('}');
                        i = close + 1;
                        continue;
                    }
                    case 'h', 'H' -> {
                        // Oniguruma's \h is a hex digit; Java's is horizontal whitespace.
                        if (classDepth > 0) {
                            if (e == 'H') throw unsupported(regex, source, "\\H inside a character class");
                            out.append("0-9a-fA-F");
                        } else {
                            out.append(e == 'h' ? "[0-9a-fA-F]" : "[^0-9a-fA-F]");
                        }
                        i += 2;
                        continue;
                    }
                    case 'K', 'y', 'Y', 'O', 'g', 'k' ->
                            throw unsupported(regex, source, "escape \\" + e);
                    default -> {
                        out.append(c).append(e);
                        i += 2;
                        continue;
                    }
                }
            }
            if (c == '[') {
                if (classDepth > 0 && i + 1 < n && regex.charAt(i + 1) == ':') {
                    throw unsupported(regex, source, "POSIX bracket expression");
                }
                classDepth++;
                out.append(c);
                i++;
                // A ']' right after '[' or '[^' is a literal in both dialects.
                if (i < n && regex.charAt(i) == '^') {
                    out.append('^');
                    i++;
                }
                if (i < n && regex.charAt(i) == ']') {
                    out.append("\\]");
                    i++;
                }
                continue;
            }
            if (c == ']' && classDepth > 0) {
                classDepth--;
                out.append(c);
                i++;
                continue;
            }
            if (c == '(' && classDepth == 0 && i + 1 < n && regex.charAt(i + 1) == '?') {
                i = translateGroupOpening(regex, i, out, source);
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    /** Handles {@code (?...}: inline options need Ruby's 'm' mapped to Java's 's'. */
    private static int translateGroupOpening(String regex, int i, StringBuilder out, String source) {
        int j = i + 2;
        if (j < regex.length() && regex.charAt(j) == '~') throw unsupported(regex, source, "absent operator (?~...)");
        if (j < regex.length() && regex.charAt(j) == '#') throw unsupported(regex, source, "comment group");
        int k = j;
        while (k < regex.length() && "imx-".indexOf(regex.charAt(k)) >= 0) k++;
        if (k > j && k < regex.length() && (regex.charAt(k) == ')' || regex.charAt(k) == ':')) {
            out.append("(?");
            for (int p = j; p < k; p++) {
                char opt = regex.charAt(p);
                out.append(opt == 'm' ? 's' : opt);
            }
            return k; // the ')' or ':' is copied by the main loop
        }
        out.append("(?");
        return j;
    }

    private static String javaPropertyName(String name, String regex, String source) {
        for (String candidate : new String[] {name, "Is" + name, "Is" + name.replace("_", "")}) {
            try {
                Pattern.compile("\\p{" + candidate + "}", FLAGS);
                return candidate;
            } catch (PatternSyntaxException ignored) {
                // try the next spelling
            }
        }
        throw unsupported(regex, source, "unicode property \\p{" + name + "}");
    }

    private static TokenizerFormatException unsupported(String regex, String source, String what) {
        return new TokenizerFormatException(source, "unsupported construct in regex " + quote(regex) + ": " + what);
    }

    private static String quote(String regex) {
        return "'" + regex + "'";
    }
}
