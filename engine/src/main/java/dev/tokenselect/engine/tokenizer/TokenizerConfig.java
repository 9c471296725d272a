package dev.tokenselect.engine.tokenizer;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The parts of tokenizer_config.json the engine needs: the named special tokens, the chat template(s) and
 * {@code split_special_tokens} (which transformers passes on to the Rust tokenizer as its default).
 * Token fields may be plain strings or AddedToken-style objects with a "content" field.
 */
record TokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken,
                       Map<String, String> chatTemplates, boolean splitSpecialTokens) {

    static final TokenizerConfig EMPTY = new TokenizerConfig(null, null, null, null, Map.of(), false);

    static TokenizerConfig fromJson(JsonNode root, String source) {
        if (!root.isObject()) throw new TokenizerFormatException(source, "expected a JSON object at top level");
        return new TokenizerConfig(
                tokenField(root, "bos_token", source),
                tokenField(root, "eos_token", source),
                tokenField(root, "pad_token", source),
                tokenField(root, "unk_token", source),
                chatTemplates(root.get("chat_template"), source),
                JsonSupport.optionalBoolean(root, "split_special_tokens", false, source, "tokenizer_config"));
    }

    TokenizerConfig withChatTemplates(Map<String, String> templates) {
        return new TokenizerConfig(bosToken, eosToken, padToken, unkToken, templates, splitSpecialTokens);
    }

    private static String tokenField(JsonNode root, String field, String source) {
        JsonNode value = root.get(field);
        if (JsonSupport.isAbsent(value)) return null;
        if (value.isString()) return value.stringValue();
        if (value.isObject()) return JsonSupport.requiredString(value, "content", source, "field '" + field + "'");
        throw new TokenizerFormatException(source, "field '" + field + "' must be a string or an object with 'content'");
    }

    /** A single template is stored under "default"; a list of {name, template} keeps its names. */
    static Map<String, String> chatTemplates(JsonNode value, String source) {
        if (JsonSupport.isAbsent(value)) return Map.of();
        if (value.isString()) return Map.of("default", value.stringValue());
        if (value.isArray()) {
            Map<String, String> templates = new LinkedHashMap<>();
            for (JsonNode entry : value) {
                templates.put(JsonSupport.requiredString(entry, "name", source, "chat_template entry"),
                        JsonSupport.requiredString(entry, "template", source, "chat_template entry"));
            }
            return Collections.unmodifiableMap(templates);
        }
        throw new TokenizerFormatException(source, "field 'chat_template' must be a string or a list of {name, template}");
    }
}
