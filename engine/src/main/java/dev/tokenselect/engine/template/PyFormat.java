package dev.tokenselect.engine.template;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;

/**
 * Python string formatting: printf-style {@code "%s" % x} (also the {@code format} filter) and {@code str.format}.
 * Covers the conversions templates use; anything else fails loudly instead of formatting differently.
 */
final class PyFormat {

    private PyFormat() {
    }

    // ---------------------------------------------------------------- printf style

    static String percent(String format, Object args) {
        List<?> positional = args instanceof PyTuple t ? t : java.util.Collections.singletonList(args);
        // CPython treats any non-tuple, non-str argument with __getitem__ as a mapping, which also silences
        // "not all arguments converted".
        boolean mappingLike = args instanceof Map || args instanceof Undefined
                || (args instanceof List && !(args instanceof PyTuple));
        Map<?, ?> mapping = args instanceof Map<?, ?> m ? m : null;
        StringBuilder out = new StringBuilder();
        int next = 0;
        boolean usedMapping = false;
        int i = 0;
        int n = format.length();
        while (i < n) {
            char c = format.charAt(i++);
            if (c != '%') {
                out.append(c);
                continue;
            }
            if (i >= n) {
                throw PyError.value("incomplete format");
            }
            Object value = null;
            boolean haveValue = false;
            if (format.charAt(i) == '(') {
                int close = format.indexOf(')', i);
                if (close < 0) {
                    throw PyError.value("incomplete format key");
                }
                if (mapping == null) {
                    throw PyError.type(mappingLike ? "list indices must be integers or slices, not str"
                            : "format requires a mapping");
                }
                Object key = format.substring(i + 1, close);
                value = PyValues.dictGet(mapping, key);
                if (value == PyValues.MISSING) {
                    throw new PyError("KeyError", PyValues.repr(key));
                }
                haveValue = true;
                usedMapping = true;
                i = close + 1;
            }
            String flags = "";
            while (i < n && "-+ #0".indexOf(format.charAt(i)) >= 0) {
                flags += format.charAt(i++);
            }
            int width = -1;
            if (i < n && format.charAt(i) == '*') {
                width = (int) PyOps.toLongIndex(positional.get(next++));
                i++;
            } else {
                int start = i;
                while (i < n && Character.isDigit(format.charAt(i))) {
                    i++;
                }
                if (i > start) {
                    width = Integer.parseInt(format.substring(start, i));
                }
            }
            int precision = -1;
            if (i < n && format.charAt(i) == '.') {
                i++;
                if (i < n && format.charAt(i) == '*') {
                    precision = (int) PyOps.toLongIndex(positional.get(next++));
                    i++;
                } else {
                    int start = i;
                    while (i < n && Character.isDigit(format.charAt(i))) {
                        i++;
                    }
                    precision = i > start ? Integer.parseInt(format.substring(start, i)) : 0;
                }
            }
            while (i < n && "hlL".indexOf(format.charAt(i)) >= 0) {
                i++;
            }
            if (i >= n) {
                throw PyError.value("incomplete format");
            }
            char type = format.charAt(i++);
            if (type == '%') {
                out.append('%');
                continue;
            }
            if (!haveValue) {
                if (next >= positional.size()) {
                    throw PyError.type("not enough arguments for format string");
                }
                value = positional.get(next++);
            }
            String body = convert(value, type, flags, precision);
            char align = flags.contains("-") ? '<' : '>';
            if (flags.contains("0") && align == '>' && "diouxXeEfFgG".indexOf(type) >= 0) {
                body = zeroPad(body, width);
            }
            out.append(PyStrings.pad(body, width, " ", align));
        }
        if (!usedMapping && !mappingLike && next < positional.size()) {
            throw PyError.type("not all arguments converted during string formatting");
        }
        return out.toString();
    }

    private static String zeroPad(String body, int width) {
        if (width <= body.length()) {
            return body;
        }
        int signLength = !body.isEmpty() && "+- ".indexOf(body.charAt(0)) >= 0 ? 1 : 0;
        return body.substring(0, signLength) + "0".repeat(width - body.length()) + body.substring(signLength);
    }

    private static String convert(Object value, char type, String flags, int precision) {
        String sign = flags.contains("+") ? "+" : flags.contains(" ") ? " " : "";
        return switch (type) {
            case 's' -> {
                String s = PyValues.str(value);
                yield precision >= 0 ? new String(PyStrings.codePoints(s), 0,
                        Math.min(precision, s.codePointCount(0, s.length()))) : s;
            }
            case 'r', 'a' -> {
                String s = PyValues.repr(value);
                yield precision >= 0 ? s.substring(0, Math.min(precision, s.length())) : s;
            }
            case 'd', 'i', 'u' -> withSign(integerOf(value, type).toString(), sign);
            case 'x' -> withSign(integerOf(value, type).toString(16), sign);
            case 'X' -> withSign(integerOf(value, type).toString(16).toUpperCase(), sign);
            case 'o' -> withSign(integerOf(value, type).toString(8), sign);
            case 'c' -> value instanceof String s ? s : Character.toString((int) PyOps.toLongIndex(value));
            case 'f', 'F', 'e', 'E', 'g', 'G' -> withSign(formatFloat(floatOf(value, type), type,
                    precision < 0 ? 6 : precision, flags.contains("#")), sign);
            default -> throw PyError.value("unsupported format character '" + type + "'");
        };
    }

    private static String withSign(String digits, String sign) {
        return digits.startsWith("-") ? digits : sign + digits;
    }

    private static BigInteger integerOf(Object value, char type) {
        if (PyValues.isInt(value)) {
            return PyOps.big(value);
        }
        if (value instanceof Double d && type != 'x' && type != 'X' && type != 'o') {
            if (!Double.isFinite(d)) {
                throw new PyError("OverflowError", "cannot convert float infinity or NaN to integer");
            }
            return new BigDecimal(d).toBigInteger();
        }
        throw PyError.type("%" + type + " format: a real number is required, not " + PyValues.typeName(value));
    }

    private static double floatOf(Object value, char type) {
        if (PyValues.isNumber(value)) {
            return PyOps.toDouble(value);
        }
        throw PyError.type("must be real number, not " + PyValues.typeName(value));
    }

    /** %f/%e/%g formatting with Python's exact (round-half-even on the binary value) rounding. */
    static String formatFloat(double d, char type, int precision, boolean alternate) {
        if (Double.isNaN(d)) {
            return Character.isUpperCase(type) ? "NAN" : "nan";
        }
        if (Double.isInfinite(d)) {
            String s = d > 0 ? "inf" : "-inf";
            return Character.isUpperCase(type) ? s.toUpperCase() : s;
        }
        String sign = d < 0 || (d == 0 && 1 / d < 0) ? "-" : "";
        BigDecimal exact = new BigDecimal(Math.abs(d));
        String body = switch (Character.toLowerCase(type)) {
            case 'f' -> fixed(exact, precision, alternate);
            case 'e' -> scientific(exact, precision, alternate);
            default -> general(exact, precision, alternate);
        };
        return sign + (Character.isUpperCase(type) ? body.toUpperCase() : body);
    }

    private static String fixed(BigDecimal exact, int precision, boolean alternate) {
        String s = exact.setScale(precision, RoundingMode.HALF_EVEN).toPlainString();
        return precision == 0 && alternate ? s + "." : s;
    }

    private static String scientific(BigDecimal exact, int precision, boolean alternate) {
        int exponent;
        String digits;
        if (exact.signum() == 0) {
            exponent = 0;
            digits = "0".repeat(precision + 1);
        } else {
            BigDecimal rounded = exact.round(new MathContext(precision + 1, RoundingMode.HALF_EVEN));
            digits = rounded.unscaledValue().toString();
            exponent = digits.length() - 1 - rounded.scale();
            if (digits.length() < precision + 1) {
                digits = digits + "0".repeat(precision + 1 - digits.length());
            } else if (digits.length() > precision + 1) {
                digits = digits.substring(0, precision + 1); // trailing zeros only
            }
        }
        StringBuilder out = new StringBuilder().append(digits.charAt(0));
        if (precision > 0 || alternate) {
            out.append('.');
        }
        out.append(digits, 1, digits.length());
        out.append('e').append(exponent < 0 ? '-' : '+');
        int abs = Math.abs(exponent);
        return out.append(abs < 10 ? "0" : "").append(abs).toString();
    }

    private static String general(BigDecimal exact, int precision, boolean alternate) {
        int p = precision == 0 ? 1 : precision;
        int exponent;
        if (exact.signum() == 0) {
            exponent = 0;
        } else {
            BigDecimal rounded = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            exponent = rounded.precision() - 1 - rounded.scale();
        }
        String s = exponent >= -4 && exponent < p ? fixed(exact, p - 1 - exponent, alternate)
                : scientific(exact, p - 1, alternate);
        if (alternate) {
            return s;
        }
        // %g drops trailing zeros (and a bare decimal point) from the mantissa.
        int e = s.indexOf('e');
        String mantissa = e < 0 ? s : s.substring(0, e);
        String tail = e < 0 ? "" : s.substring(e);
        if (mantissa.contains(".")) {
            mantissa = mantissa.replaceAll("0+$", "");
            if (mantissa.endsWith(".")) {
                mantissa = mantissa.substring(0, mantissa.length() - 1);
            }
        }
        return mantissa + tail;
    }

    // ---------------------------------------------------------------- str.format

    static String format(String template, Args args) {
        StringBuilder out = new StringBuilder();
        int auto = 0;
        int i = 0;
        int n = template.length();
        while (i < n) {
            char c = template.charAt(i);
            if (c == '{') {
                if (i + 1 < n && template.charAt(i + 1) == '{') {
                    out.append('{');
                    i += 2;
                    continue;
                }
                int close = matchingBrace(template, i);
                String field = template.substring(i + 1, close);
                i = close + 1;
                String spec = "";
                String conversion = null;
                int colon = field.indexOf(':');
                if (colon >= 0) {
                    spec = field.substring(colon + 1);
                    field = field.substring(0, colon);
                }
                int bang = field.indexOf('!');
                if (bang >= 0) {
                    conversion = field.substring(bang + 1);
                    field = field.substring(0, bang);
                }
                Object value;
                int end = firstAccessor(field);
                String head = field.substring(0, end);
                if (head.isEmpty()) {
                    value = positional(args, auto++);
                } else if (head.chars().allMatch(Character::isDigit)) {
                    value = positional(args, Integer.parseInt(head));
                } else if (args.keywords.containsKey(head)) {
                    value = args.keywords.get(head);
                } else {
                    throw new PyError("KeyError", PyValues.repr(head));
                }
                value = accessors(value, field.substring(end));
                if (conversion != null) {
                    value = switch (conversion) {
                        case "s" -> PyValues.str(value);
                        case "r", "a" -> PyValues.repr(value);
                        default -> throw PyError.value("Unknown conversion specifier " + conversion);
                    };
                }
                if (spec.contains("{")) {
                    spec = format(spec, args);
                }
                out.append(formatSpec(value, spec));
            } else if (c == '}') {
                if (i + 1 < n && template.charAt(i + 1) == '}') {
                    out.append('}');
                    i += 2;
                    continue;
                }
                throw PyError.value("Single '}' encountered in format string");
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int matchingBrace(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            if (s.charAt(i) == '{') {
                depth++;
            } else if (s.charAt(i) == '}' && --depth == 0) {
                return i;
            }
        }
        throw PyError.value("expected '}' before end of string");
    }

    private static int firstAccessor(String field) {
        for (int i = 0; i < field.length(); i++) {
            if (field.charAt(i) == '.' || field.charAt(i) == '[') {
                return i;
            }
        }
        return field.length();
    }

    private static Object accessors(Object value, String rest) {
        int i = 0;
        while (i < rest.length()) {
            if (rest.charAt(i) == '.') {
                int end = firstAccessor(rest.substring(i + 1)) + i + 1;
                value = PyValues.getattr(value, rest.substring(i + 1, end));
                i = end;
            } else {
                int close = rest.indexOf(']', i);
                if (close < 0) {
                    throw PyError.value("Missing ']' in format string");
                }
                String key = rest.substring(i + 1, close);
                value = PyValues.getitem(value, key.chars().allMatch(Character::isDigit) && !key.isEmpty()
                        ? (Object) Long.parseLong(key) : key);
                i = close + 1;
            }
        }
        return value;
    }

    private static Object positional(Args args, int index) {
        if (index >= args.positional.size()) {
            throw new PyError("IndexError", "Replacement index " + index + " out of range for positional args tuple");
        }
        return args.positional.get(index);
    }

    /** Python's format-spec mini-language for str, int and float. */
    static String formatSpec(Object value, String spec) {
        if (spec.isEmpty()) {
            return PyValues.str(value);
        }
        int i = 0;
        String fill = " ";
        char align = 0;
        if (spec.length() >= 2 && "<>^=".indexOf(spec.charAt(1)) >= 0) {
            fill = spec.substring(0, 1);
            align = spec.charAt(1);
            i = 2;
        } else if ("<>^=".indexOf(spec.charAt(0)) >= 0) {
            align = spec.charAt(0);
            i = 1;
        }
        String sign = "";
        if (i < spec.length() && "+- ".indexOf(spec.charAt(i)) >= 0) {
            sign = spec.substring(i, i + 1);
            i++;
        }
        boolean alternate = false;
        if (i < spec.length() && spec.charAt(i) == '#') {
            alternate = true;
            i++;
        }
        if (i < spec.length() && spec.charAt(i) == '0') {
            if (align == 0) {
                fill = "0";
                align = '=';
            }
            i++;
        }
        int start = i;
        while (i < spec.length() && Character.isDigit(spec.charAt(i))) {
            i++;
        }
        int width = i > start ? Integer.parseInt(spec.substring(start, i)) : -1;
        String grouping = "";
        if (i < spec.length() && (spec.charAt(i) == ',' || spec.charAt(i) == '_')) {
            grouping = spec.substring(i, i + 1);
            i++;
        }
        int precision = -1;
        if (i < spec.length() && spec.charAt(i) == '.') {
            start = ++i;
            while (i < spec.length() && Character.isDigit(spec.charAt(i))) {
                i++;
            }
            precision = Integer.parseInt(spec.substring(start, i));
        }
        char type = i < spec.length() ? spec.charAt(i++) : 0;
        if (i != spec.length()) {
            throw PyError.value("Invalid format specifier '" + spec + "'");
        }
        String body;
        boolean numeric = PyValues.isNumber(value); // a bool with a non-empty spec formats as an int
        if (value instanceof String s) {
            if (type != 0 && type != 's') {
                throw PyError.value("Unknown format code '" + type + "' for object of type 'str'");
            }
            body = precision >= 0 ? new String(PyStrings.codePoints(s), 0,
                    Math.min(precision, s.codePointCount(0, s.length()))) : s;
        } else if (numeric && (type == 0 || "dxXobn".indexOf(type) >= 0) && PyValues.isInt(value)) {
            BigInteger v = PyOps.big(value);
            String digits = switch (type) {
                case 'x' -> (alternate ? "0x" : "") + v.abs().toString(16);
                case 'X' -> (alternate ? "0X" : "") + v.abs().toString(16).toUpperCase();
                case 'o' -> (alternate ? "0o" : "") + v.abs().toString(8);
                case 'b' -> (alternate ? "0b" : "") + v.abs().toString(2);
                default -> group(v.abs().toString(), grouping);
            };
            body = (v.signum() < 0 ? "-" : sign.equals("-") ? "" : sign) + digits;
        } else if (numeric && (type == 0 || "eEfFgG%".indexOf(type) >= 0)) {
            double d = PyOps.toDouble(value);
            String formatted;
            if (type == 0 && precision < 0) {
                formatted = PyValues.floatRepr(d);
            } else if (type == 0) {
                throw PyError.value("float format without a presentation type is not supported");
            } else if (type == '%') {
                formatted = formatFloat(d * 100, 'f', precision < 0 ? 6 : precision, alternate) + "%";
            } else {
                formatted = formatFloat(d, type, precision < 0 ? 6 : precision, alternate);
            }
            boolean negative = formatted.startsWith("-");
            String digits = negative ? formatted.substring(1) : formatted;
            if (!grouping.isEmpty()) {
                int dot = digits.indexOf('.');
                String whole = dot < 0 ? digits : digits.substring(0, dot);
                digits = group(whole, grouping) + (dot < 0 ? "" : digits.substring(dot));
            }
            body = (negative ? "-" : sign.equals("-") ? "" : sign) + digits;
        } else {
            throw PyError.value("Unsupported format specifier '" + spec + "' for object of type '"
                    + PyValues.typeName(value) + "'");
        }
        if (align == 0) {
            align = value instanceof String ? '<' : '>';
        }
        if (align == '=') {
            int signLength = !body.isEmpty() && "+- ".indexOf(body.charAt(0)) >= 0 ? 1 : 0;
            int missing = width - body.codePointCount(0, body.length());
            return missing <= 0 ? body : body.substring(0, signLength) + fill.repeat(missing)
                    + body.substring(signLength);
        }
        return align == '^' ? centerFormat(body, width, fill) : PyStrings.pad(body, width, fill, align);
    }

    /** format()'s centering puts the extra fill character on the right (unlike str.center). */
    private static String centerFormat(String body, int width, String fill) {
        int missing = width - body.codePointCount(0, body.length());
        if (missing <= 0) {
            return body;
        }
        return fill.repeat(missing / 2) + body + fill.repeat(missing - missing / 2);
    }

    private static String group(String digits, String separator) {
        if (separator.isEmpty()) {
            return digits;
        }
        StringBuilder out = new StringBuilder();
        int first = digits.length() % 3;
        for (int i = 0; i < digits.length(); i++) {
            if (i > 0 && (i - first) % 3 == 0) {
                out.append(separator);
            }
            out.append(digits.charAt(i));
        }
        return out.toString();
    }
}
