package dev.tokenselect.engine.tokenizer;

import tools.jackson.databind.JsonNode;

/** Small helpers so that every schema error names the file and the offending field. */
final class JsonSupport {

    private JsonSupport() {
    }

    static boolean isAbsent(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode();
    }

    static String requiredString(JsonNode parent, String field, String source, String context) {
        JsonNode value = parent.get(field);
        if (value == null || !value.isString()) {
            throw new TokenizerFormatException(source, context + ": missing or non-string field '" + field + "'");
        }
        return value.stringValue();
    }

    static JsonNode requiredArray(JsonNode parent, String field, String source, String context) {
        JsonNode value = parent.get(field);
        if (value == null || !value.isArray()) {
            throw new TokenizerFormatException(source, context + ": missing or non-array field '" + field + "'");
        }
        return value;
    }

    static JsonNode requiredObject(JsonNode parent, String field, String source, String context) {
        JsonNode value = parent.get(field);
        if (value == null || !value.isObject()) {
            throw new TokenizerFormatException(source, context + ": missing or non-object field '" + field + "'");
        }
        return value;
    }

    static boolean optionalBoolean(JsonNode parent, String field, boolean defaultValue, String source, String context) {
        JsonNode value = parent.get(field);
        if (isAbsent(value)) return defaultValue;
        if (!value.isBoolean()) {
            throw new TokenizerFormatException(source, context + ": field '" + field + "' must be a boolean");
        }
        return value.booleanValue();
    }

    /** A string field that may be absent or null. */
    static String optionalString(JsonNode parent, String field, String source, String context) {
        JsonNode value = parent.get(field);
        if (isAbsent(value)) return null;
        if (!value.isString()) {
            throw new TokenizerFormatException(source, context + ": field '" + field + "' must be a string");
        }
        return value.stringValue();
    }

    static int requiredInt(JsonNode parent, String field, String source, String context) {
        JsonNode value = parent.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0) {
            throw new TokenizerFormatException(source, context + ": missing or invalid non-negative integer '" + field + "'");
        }
        return value.intValue();
    }
}
