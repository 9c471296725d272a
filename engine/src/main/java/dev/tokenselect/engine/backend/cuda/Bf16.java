package dev.tokenselect.engine.backend.cuda;

/** bfloat16 conversions as the device does them (round to nearest even; NaN kept a quiet NaN). */
public final class Bf16 {

    private Bf16() {
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) 0x7fc0;
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** {@code f} rounded to bf16 and back. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
