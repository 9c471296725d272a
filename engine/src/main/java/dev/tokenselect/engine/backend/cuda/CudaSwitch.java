package dev.tokenselect.engine.backend.cuda;

import java.util.Locale;

/**
 * The on/off settings of the CUDA backend's paths ({@code -Dtokenselect.cuda.NAME=true|false}): a
 * value other than true or false is refused with the setting named, not read as the default.
 */
final class CudaSwitch {

    private CudaSwitch() {
    }

    /** {@code -Dtokenselect.cuda.name}, {@code defaultValue} where it is not set. */
    static boolean flag(String name, boolean defaultValue) {
        String property = "tokenselect.cuda." + name;
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            return defaultValue;
        }
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("-D" + property + "=" + v + ": use true or false (default "
                    + defaultValue + ")");
        };
    }
}
