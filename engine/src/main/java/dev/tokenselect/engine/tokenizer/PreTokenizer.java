package dev.tokenselect.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The {@code pre_tokenizer} section of tokenizer.json: splits normalized text into the pieces ("words") that BPE
 * encodes independently, possibly rewriting them (ByteLevel maps bytes to printable chars).
 */
interface PreTokenizer {

    PreTokenizer IDENTITY = pieces -> pieces;

    /** Returns the pieces after this step; empty pieces are dropped, as tokenizers does. */
    List<String> apply(List<String> pieces);

    static PreTokenizer fromJson(JsonNode node, String source) {
        if (JsonSupport.isAbsent(node)) return IDENTITY;
        String type = JsonSupport.requiredString(node, "type", source, "pre_tokenizer");
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode child : JsonSupport.requiredArray(node, "pretokenizers", source, "Sequence pre_tokenizer")) {
                    steps.add(fromJson(child, source));
                }
                yield pieces -> {
                    for (PreTokenizer step : steps) pieces = step.apply(pieces);
                    return pieces;
                };
            }
            case "Split" -> RegexSplitter.fromJson(node, source);
            case "ByteLevel" -> new ByteLevelPreTokenizer(
                    JsonSupport.optionalBoolean(node, "add_prefix_space", true, source, "ByteLevel pre_tokenizer"),
                    JsonSupport.optionalBoolean(node, "use_regex", true, source, "ByteLevel pre_tokenizer"));
            case "Digits" -> new RegexSplitter(
                    OnigurumaRegex.compile("\\p{N}", source),
                    JsonSupport.optionalBoolean(node, "individual_digits", false, source, "Digits pre_tokenizer")
                            ? RegexSplitter.Behavior.ISOLATED
                            : RegexSplitter.Behavior.CONTIGUOUS,
                    false);
            default -> throw new TokenizerFormatException(source, "unsupported pre_tokenizer type '" + type + "'");
        };
    }
}
