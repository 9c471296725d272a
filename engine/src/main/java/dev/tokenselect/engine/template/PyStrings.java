package dev.tokenselect.engine.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Python {@code str} behaviour on Java strings. Python indexes strings by code point, so everything index-based
 * (len, [i], slices, find) works on code points, keeping emoji and other supplementary characters whole.
 */
final class PyStrings {

    private PyStrings() {
    }

    /** Python's {@code str.isspace()} for one character (also what {@code \s} and {@code strip()} use). */
    static boolean isSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0
                || (cp > 0xff && Character.isSpaceChar(cp));
    }

    /** Python's {@code str.isprintable()} for one character. */
    static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                 Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                 Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    static List<Object> characters(String s) {
        List<Object> out = new ArrayList<>(s.length());
        s.codePoints().forEach(cp -> out.add(Character.toString(cp)));
        return out;
    }

    static int[] codePoints(String s) {
        return s.codePoints().toArray();
    }

    static Object charAt(String s, long index) {
        if (index >= 0 && index < s.length() && !hasSurrogates(s)) {
            return String.valueOf(s.charAt((int) index));
        }
        int[] cps = codePoints(s);
        if (index < 0) {
            index += cps.length;
        }
        return index >= 0 && index < cps.length ? Character.toString(cps[(int) index]) : PyValues.MISSING;
    }

    private static boolean hasSurrogates(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    static String slice(String s, PySlice slice) {
        if ((slice.step() == null || PyOps.toLongIndex(slice.step()) == 1) && !hasSurrogates(s)) {
            int[] idx = slice.indices(s.length());
            return idx[1] > idx[0] ? s.substring(idx[0], idx[1]) : "";
        }
        int[] cps = codePoints(s);
        StringBuilder out = new StringBuilder();
        for (int i : slice.positions(cps.length)) {
            out.appendCodePoint(cps[i]);
        }
        return out.toString();
    }

    /** The {@code [start, end)} code point range Python's find/count/startswith use for optional bounds. */
    static int[] range(int length, Object start, Object end) {
        int[] idx = new PySlice(start, end, null).indices(length);
        return new int[] {idx[0], Math.max(idx[0], idx[1])};
    }

    /**
     * CPython's ADJUST_INDICES for str.find/count/startswith: negative bounds count from the end, end is capped at the
     * length, but start is not, so a start past the end matches nothing (not even "").
     */
    static long[] adjustIndices(int length, Object start, Object end) {
        long s = start == null ? 0 : PyOps.toLongIndex(start);
        long e = end == null ? length : PyOps.toLongIndex(end);
        if (e > length) {
            e = length;
        } else if (e < 0) {
            e = Math.max(0, e + length);
        }
        if (s < 0) {
            s = Math.max(0, s + length);
        }
        return new long[] {s, e};
    }

    private static String window(int[] cps, long[] r) {
        return r[1] > r[0] ? new String(cps, (int) r[0], (int) (r[1] - r[0])) : "";
    }

    // ---------------------------------------------------------------- stripping and splitting

    static String strip(String s, Object chars, boolean left, boolean right) {
        int[] cps = codePoints(s);
        int[] set = chars == null ? null : codePoints(requireStr(chars, "strip arg"));
        int begin = 0;
        int end = cps.length;
        if (left) {
            while (begin < end && stripped(cps[begin], set)) {
                begin++;
            }
        }
        if (right) {
            while (end > begin && stripped(cps[end - 1], set)) {
                end--;
            }
        }
        return new String(cps, begin, end - begin);
    }

    private static boolean stripped(int cp, int[] set) {
        if (set == null) {
            return isSpace(cp);
        }
        for (int c : set) {
            if (c == cp) {
                return true;
            }
        }
        return false;
    }

    static String requireStr(Object value, String what) {
        if (value instanceof String s) {
            return s;
        }
        throw PyError.type(what + " must be str or None, not " + PyValues.typeName(value));
    }

    /** Python's {@code str.split(sep, maxsplit)}; a null separator splits on runs of whitespace. */
    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        long remaining = maxsplit < 0 ? Long.MAX_VALUE : maxsplit;
        if (sep == null) {
            int n = s.length();
            int i = 0;
            while (remaining-- > 0) {
                while (i < n && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i == n) {
                    break;
                }
                int j = i;
                i++;
                while (i < n && !isSpace(s.charAt(i))) {
                    i++;
                }
                out.add(s.substring(j, i));
            }
            if (i < n) {
                while (i < n && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i != n) {
                    out.add(s.substring(i));
                }
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw PyError.value("empty separator");
        }
        int i = 0;
        while (remaining-- > 0) {
            int j = s.indexOf(sep, i);
            if (j < 0) {
                break;
            }
            out.add(s.substring(i, j));
            i = j + sep.length();
        }
        out.add(s.substring(i));
        return out;
    }

    /** Python's {@code str.rsplit(sep, maxsplit)}. */
    static List<Object> rsplit(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        long remaining = maxsplit < 0 ? Long.MAX_VALUE : maxsplit;
        if (sep == null) {
            int i = s.length() - 1;
            while (remaining-- > 0) {
                while (i >= 0 && isSpace(s.charAt(i))) {
                    i--;
                }
                if (i < 0) {
                    break;
                }
                int j = i;
                i--;
                while (i >= 0 && !isSpace(s.charAt(i))) {
                    i--;
                }
                out.add(s.substring(i + 1, j + 1));
            }
            if (i >= 0) {
                while (i >= 0 && isSpace(s.charAt(i))) {
                    i--;
                }
                if (i >= 0) {
                    out.add(s.substring(0, i + 1));
                }
            }
            java.util.Collections.reverse(out);
            return out;
        }
        if (sep.isEmpty()) {
            throw PyError.value("empty separator");
        }
        int end = s.length();
        while (remaining-- > 0) {
            int j = s.lastIndexOf(sep, end - sep.length());
            if (j < 0) {
                break;
            }
            out.add(s.substring(j + sep.length(), end));
            end = j;
        }
        out.add(s.substring(0, end));
        java.util.Collections.reverse(out);
        return out;
    }

    private static boolean isLineBreak(char c) {
        return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d || c == 0x1e
                || c == 0x85 || c == 0x2028 || c == 0x2029;
    }

    /** Python's {@code str.splitlines(keepends)}. */
    static List<Object> splitlines(String s, boolean keepends) {
        List<Object> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            int j = i;
            while (j < n && !isLineBreak(s.charAt(j))) {
                j++;
            }
            int eol = j;
            if (j < n) {
                if (s.charAt(j) == '\r' && j + 1 < n && s.charAt(j + 1) == '\n') {
                    j += 2;
                } else {
                    j++;
                }
                if (keepends) {
                    eol = j;
                }
            }
            out.add(s.substring(i, eol));
            i = j;
        }
        return out;
    }

    // ---------------------------------------------------------------- searching

    /** Python's {@code str.find} (or {@code rfind}) in code point units; -1 when absent. */
    static long find(String s, String sub, Object start, Object end, boolean last) {
        if (start == null && end == null) {
            int at = last ? s.lastIndexOf(sub) : s.indexOf(sub);
            return at < 0 ? -1 : s.codePointCount(0, at);
        }
        int[] cps = codePoints(s);
        long[] r = adjustIndices(cps.length, start, end);
        if (r[1] - r[0] < sub.codePointCount(0, sub.length())) {
            return -1;
        }
        String window = window(cps, r);
        int at = last ? window.lastIndexOf(sub) : window.indexOf(sub);
        return at < 0 ? -1 : r[0] + window.codePointCount(0, at);
    }

    static long count(String s, String sub, Object start, Object end) {
        int[] cps = codePoints(s);
        long[] r = adjustIndices(cps.length, start, end);
        if (r[1] - r[0] < 0) {
            return 0;
        }
        String window = window(cps, r);
        if (sub.isEmpty()) {
            return window.codePointCount(0, window.length()) + 1;
        }
        long count = 0;
        for (int i = window.indexOf(sub); i >= 0; i = window.indexOf(sub, i + sub.length())) {
            count++;
        }
        return count;
    }

    static boolean startsOrEndsWith(String s, Object affix, Object start, Object end, boolean ends) {
        if (start == null && end == null && affix instanceof String text) {
            return ends ? s.endsWith(text) : s.startsWith(text); // the common case, without copying
        }
        if (affix instanceof PyTuple options) {
            for (Object option : options) {
                if (startsOrEndsWith(s, option, start, end, ends)) {
                    return true;
                }
            }
            return false;
        }
        int[] cps = codePoints(s);
        long[] r = adjustIndices(cps.length, start, end);
        if (affix instanceof String text && r[1] - r[0] < text.codePointCount(0, text.length())) {
            return false;
        }
        String window = window(cps, r);
        if (!(affix instanceof String text)) {
            throw PyError.type((ends ? "endswith" : "startswith") + " first arg must be str or a tuple of str, not "
                    + PyValues.typeName(affix));
        }
        return ends ? window.endsWith(text) : window.startsWith(text);
    }

    static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder();
        if (old.isEmpty()) {
            // Python inserts the replacement before every character (and at the end), up to count times.
            int[] cps = codePoints(s);
            int i = 0;
            for (; i < cps.length && count > 0; i++, count--) {
                out.append(replacement).appendCodePoint(cps[i]);
            }
            if (i == cps.length && count > 0) {
                out.append(replacement);
                return out.toString();
            }
            return out.append(new String(cps, i, cps.length - i)).toString();
        }
        int i = 0;
        while (count-- > 0) {
            int j = s.indexOf(old, i);
            if (j < 0) {
                break;
            }
            out.append(s, i, j).append(replacement);
            i = j + old.length();
        }
        return out.append(s.substring(i)).toString();
    }

    // ---------------------------------------------------------------- case

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    private static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }

    private static String titleCase(int cp) {
        int title = Character.toTitleCase(cp);
        if (title != cp || !Character.isLowerCase(cp)) {
            return Character.toString(title);
        }
        // Characters without a single-character title form (e.g. "ß") use the full upper-case mapping's shape.
        String upper = upper(Character.toString(cp));
        return upper.length() <= 1 ? upper : upper.substring(0, 1) + lower(upper.substring(1));
    }

    /** Python's {@code str.title()}: upper-case after any uncased character, lower-case otherwise. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            out.append(previousCased ? lower(Character.toString(cp)) : titleCase(cp));
            previousCased = isCased(cp);
        }
        return out.toString();
    }

    /** Python's {@code str.capitalize()}: first character title-cased, the rest lower-cased. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return titleCase(first) + lower(s.substring(Character.charCount(first)));
    }

    static String swapcase(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            String c = Character.toString(cp);
            out.append(Character.isUpperCase(cp) ? lower(c) : Character.isLowerCase(cp) ? upper(c) : c);
        });
        return out.toString();
    }

    static boolean isLowerStr(String s) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isLowerCase(cp);
        }
        return cased;
    }

    static boolean isUpperStr(String s) {
        boolean cased = false;
        for (int cp : codePoints(s)) {
            if (Character.isLowerCase(cp) || Character.isTitleCase(cp)) {
                return false;
            }
            cased |= Character.isUpperCase(cp);
        }
        return cased;
    }

    static boolean isTitleStr(String s) {
        boolean cased = false;
        boolean previousCased = false;
        for (int cp : codePoints(s)) {
            if (Character.isUpperCase(cp) || Character.isTitleCase(cp)) {
                if (previousCased) {
                    return false;
                }
                previousCased = true;
                cased = true;
            } else if (Character.isLowerCase(cp)) {
                if (!previousCased) {
                    return false;
                }
                previousCased = true;
                cased = true;
            } else {
                previousCased = false;
            }
        }
        return cased;
    }

    /** Python's per-character predicates ({@code isalpha} ...): true when non-empty and every character matches. */
    static boolean all(String s, java.util.function.IntPredicate predicate) {
        return !s.isEmpty() && s.codePoints().allMatch(predicate);
    }

    static boolean isNumeric(int cp) {
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    static boolean isDigit(int cp) {
        return Character.isDigit(cp) || Character.getType(cp) == Character.OTHER_NUMBER
                && Character.getNumericValue(cp) >= 0 && Character.getNumericValue(cp) <= 9;
    }

    // ---------------------------------------------------------------- padding

    static String pad(String s, long width, String fill, char align) {
        int length = s.codePointCount(0, s.length());
        if (width <= length) {
            return s;
        }
        int total = (int) (width - length);
        int left = switch (align) {
            case '<' -> 0;
            case '>' -> total;
            // str.center puts the extra character on the left when the string length is odd (CPython's rule).
            default -> (int) (total / 2 + (total & width & 1));
        };
        return fill.repeat(left) + s + fill.repeat(total - left);
    }

    static String zfill(String s, long width) {
        int length = s.codePointCount(0, s.length());
        if (width <= length) {
            return s;
        }
        String zeros = "0".repeat((int) (width - length));
        if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
            return s.charAt(0) + zeros + s.substring(1);
        }
        return zeros + s;
    }
}
