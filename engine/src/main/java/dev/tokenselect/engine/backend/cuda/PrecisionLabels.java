package dev.tokenselect.engine.backend.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Function;

/** Parses the label of a precision switch; an unknown label is an error naming the property and the choices. */
final class PrecisionLabels {

    private PrecisionLabels() {
    }

    static <E extends Enum<E>> E parse(E[] values, Function<E, String> labelOf, String label, String property,
                                       String what) {
        for (E p : values) {
            if (labelOf.apply(p).equals(label.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + label + "' (-D" + property + "): use one of "
                + Arrays.stream(values).map(labelOf).toList());
    }

    /** The precision the system property names, {@code fallback} where it is not set. */
    static <E extends Enum<E>> E fromSystemProperty(E[] values, Function<E, String> labelOf, String property,
                                                    String what, E fallback) {
        String v = System.getProperty(property);
        return v == null || v.isBlank() ? fallback : parse(values, labelOf, v, property, what);
    }
}
