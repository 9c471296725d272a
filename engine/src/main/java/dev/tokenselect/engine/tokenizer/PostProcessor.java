package dev.tokenselect.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The {@code post_processor} section of tokenizer.json, reduced to what affects ids of a single sequence:
 * TemplateProcessing adds special tokens (e.g. Llama's BOS); ByteLevel only adjusts offsets, which we don't keep.
 */
interface PostProcessor {

    PostProcessor NONE = (ids, addSpecialTokens) -> ids;

    int[] process(int[] ids, boolean addSpecialTokens);

    static PostProcessor fromJson(JsonNode node, String source) {
        if (JsonSupport.isAbsent(node)) return NONE;
        String type = JsonSupport.requiredString(node, "type", source, "post_processor");
        return switch (type) {
            case "ByteLevel" -> NONE;
            case "Sequence" -> {
                List<PostProcessor> steps = new ArrayList<>();
                for (JsonNode child : JsonSupport.requiredArray(node, "processors", source, "Sequence post_processor")) {
                    steps.add(fromJson(child, source));
                }
                yield (ids, addSpecialTokens) -> {
                    for (PostProcessor step : steps) ids = step.process(ids, addSpecialTokens);
                    return ids;
                };
            }
            case "TemplateProcessing" -> templateFromJson(node, source);
            default -> throw new TokenizerFormatException(source, "unsupported post_processor type '" + type + "'");
        };
    }

    /**
     * The "single" template: a list of pieces, each either the input sequence or a special token whose ids come
     * from the template's own {@code special_tokens} table.
     */
    private static PostProcessor templateFromJson(JsonNode node, String source) {
        String context = "TemplateProcessing post_processor";
        Map<String, int[]> specialIds = new HashMap<>();
        JsonNode specials = node.get("special_tokens");
        if (!JsonSupport.isAbsent(specials)) {
            for (Map.Entry<String, JsonNode> e : specials.properties()) {
                JsonNode idsNode = JsonSupport.requiredArray(e.getValue(), "ids", source, context + " special token '" + e.getKey() + "'");
                int[] ids = new int[idsNode.size()];
                for (int i = 0; i < ids.length; i++) {
                    JsonNode id = idsNode.get(i);
                    if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                        throw new TokenizerFormatException(source, context + ": bad id for special token '" + e.getKey() + "'");
                    }
                    ids[i] = id.intValue();
                }
                specialIds.put(e.getKey(), ids);
            }
        }
        // Each entry: null means "the input sequence", otherwise the ids to insert.
        List<int[]> pieces = new ArrayList<>();
        for (JsonNode piece : JsonSupport.requiredArray(node, "single", source, context)) {
            if (piece.isObject() && piece.has("Sequence")) {
                String id = JsonSupport.requiredString(piece.get("Sequence"), "id", source, context + " Sequence piece");
                if (!id.equals("A")) {
                    throw new TokenizerFormatException(source, context + ": single template refers to sequence '" + id + "'");
                }
                pieces.add(null);
            } else if (piece.isObject() && piece.has("SpecialToken")) {
                String id = JsonSupport.requiredString(piece.get("SpecialToken"), "id", source, context + " SpecialToken piece");
                pieces.add(requireSpecial(specialIds, id, source, context));
            } else if (piece.isString()) {
                // The textual form used by the Python API: "$A", "$0", "[CLS]", optionally with ":type_id".
                String text = piece.stringValue();
                int colon = text.lastIndexOf(':');
                String name = colon > 0 ? text.substring(0, colon) : text;
                if (name.equals("$") || name.equals("$A") || name.equals("$a") || name.equals("$0")) {
                    pieces.add(null);
                } else if (name.startsWith("$")) {
                    throw new TokenizerFormatException(source, context + ": single template refers to sequence '" + name + "'");
                } else {
                    pieces.add(requireSpecial(specialIds, name, source, context));
                }
            } else {
                throw new TokenizerFormatException(source, context + ": unrecognized template piece " + piece);
            }
        }
        return (ids, addSpecialTokens) -> {
            if (!addSpecialTokens) return ids;
            IntList out = new IntList(ids.length + pieces.size());
            for (int[] piece : pieces) out.addAll(piece == null ? ids : piece);
            return out.toArray();
        };
    }

    private static int[] requireSpecial(Map<String, int[]> specialIds, String id, String source, String context) {
        int[] ids = specialIds.get(id);
        if (ids == null) {
            throw new TokenizerFormatException(source, context + ": special token '" + id + "' missing from special_tokens");
        }
        return ids;
    }
}
