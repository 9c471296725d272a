package dev.tokenselect.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/** The {@code normalizer} section of tokenizer.json: text rewriting applied before pre-tokenization. */
interface Normalizer {

    Normalizer IDENTITY = text -> text;

    String normalize(String text);

    static Normalizer fromJson(JsonNode node, String source) {
        if (node == null || node.isNull() || node.isMissingNode()) return IDENTITY;
        String type = JsonSupport.requiredString(node, "type", source, "normalizer");
        return switch (type) {
            case "NFC" -> unicode(java.text.Normalizer.Form.NFC);
            case "NFD" -> unicode(java.text.Normalizer.Form.NFD);
            case "NFKC" -> unicode(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> unicode(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> Normalizer::lowercasePerCodePoint;
            case "Sequence" -> {
                List<Normalizer> parts = new ArrayList<>();
                for (JsonNode child : JsonSupport.requiredArray(node, "normalizers", source, "Sequence normalizer")) {
                    parts.add(fromJson(child, source));
                }
                yield text -> {
                    for (Normalizer part : parts) text = part.normalize(text);
                    return text;
                };
            }
            default -> throw new TokenizerFormatException(source, "unsupported normalizer type '" + type + "'");
        };
    }

    private static Normalizer unicode(java.text.Normalizer.Form form) {
        return text -> LegacyUnicodeNormalizer.normalize(text, form);
    }

    /**
     * tokenizers lowercases char by char (Rust {@code char::to_lowercase}), so unlike {@link String#toLowerCase}
     * there is no final-sigma context rule; full (one-to-many) mappings still apply.
     */
    private static String lowercasePerCodePoint(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> {
            int lower = Character.toLowerCase(cp);
            if (cp == 0x0130) {
                out.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT)); // İ -> i + combining dot
            } else {
                out.appendCodePoint(lower);
            }
        });
        return out.toString();
    }
}
