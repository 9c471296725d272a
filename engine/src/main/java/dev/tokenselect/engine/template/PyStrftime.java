package dev.tokenselect.engine.template;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's {@code datetime.strftime} in the C locale (as used by {@code strftime_now}), with glibc's {@code %-d}. */
final class PyStrftime {

    private PyStrftime() {
    }

    static String format(LocalDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean unpadded = false;
            if (d == '-' && i + 1 < format.length()) {
                unpadded = true;
                d = format.charAt(++i);
            }
            String field = switch (d) {
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'd' -> two(t.getDayOfMonth());
                case 'e' -> String.format("%2d", t.getDayOfMonth());
                case 'm' -> two(t.getMonthValue());
                case 'y' -> two(t.getYear() % 100);
                case 'Y' -> Integer.toString(t.getYear());
                case 'H' -> two(t.getHour());
                case 'I' -> two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12);
                case 'M' -> two(t.getMinute());
                case 'S' -> two(t.getSecond());
                case 'f' -> String.format("%06d", t.getNano() / 1000);
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'j' -> String.format("%03d", t.getDayOfYear());
                case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
                case 'u' -> Integer.toString(t.getDayOfWeek().getValue());
                case 'F' -> format(t, "%Y-%m-%d");
                case 'T' -> format(t, "%H:%M:%S");
                case 'D' -> format(t, "%m/%d/%y");
                case 'R' -> format(t, "%H:%M");
                case 'c' -> format(t, "%a %b %e %H:%M:%S %Y");
                case 'x' -> format(t, "%m/%d/%y");
                case 'X' -> format(t, "%H:%M:%S");
                case 'Z', 'z' -> ""; // naive datetime, as datetime.now() is
                case 'n' -> "\n";
                case 't' -> "\t";
                case '%' -> "%";
                default -> "%" + (unpadded ? "-" : "") + d;
            };
            if (unpadded && Character.isDigit(field.isEmpty() ? 'x' : field.charAt(0))) {
                field = field.replaceFirst("^0+(?=\\d)", "");
            } else if (unpadded) {
                field = field.strip();
            }
            out.append(field);
        }
        return out.toString();
    }

    private static String two(int value) {
        return value < 10 ? "0" + value : Integer.toString(value);
    }
}
