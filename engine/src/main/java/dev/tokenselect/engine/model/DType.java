package dev.tokenselect.engine.model;

/** Storage types of weights that the engine reads; arithmetic is always fp32 or wider. */
public enum DType {
    BF16("BF16", 2),
    F16("F16", 2),
    F32("F32", 4);

    private final String safetensorsName;
    private final int bytes;

    DType(String safetensorsName, int bytes) {
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public String safetensorsName() {
        return safetensorsName;
    }

    /** The safetensors dtype string, or null when the engine cannot compute with it. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    public static DType parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "bf16", "bfloat16" -> BF16;
            case "f16", "fp16", "float16", "half" -> F16;
            case "f32", "fp32", "float32", "float" -> F32;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "' (use bf16, f16 or f32)");
        };
    }
}
