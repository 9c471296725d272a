package dev.tokenselect.engine.tokenizer;

import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Builds small tokenizer.json documents (a byte-level alphabet plus a few merges and added tokens) so that
 * features the real Qwen/Llama files don't use (lstrip, rstrip, single_word, normalized added tokens, other
 * Split behaviors, legacy merges, TemplateProcessing with two specials) can be tested.
 */
final class SyntheticTokenizerJson {

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** Merges in rank order; the merged tokens get ids 256, 257, ... */
    static final String[][] MERGES = {
            {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "hello"},
            {"w", "o"}, {"wo", "r"}, {"wor", "l"}, {"worl", "d"}, {"Ġ", "world"},
            {"1", "2"}, {"12", "3"},
    };
    static final int MASK = 268;
    static final int EOS = 269;
    static final int DOG = 270;
    static final int CAP = 271;
    static final int BOS = 272;

    private SyntheticTokenizerJson() {
    }

    static ObjectNode base(boolean legacyMerges) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.add(addedToken(MASK, "[MASK]", true, true, false, false, false));
        added.add(addedToken(EOS, "<eos>", true, false, true, false, false));
        added.add(addedToken(DOG, "dog", false, false, false, true, true));
        added.add(addedToken(CAP, "<Cap>", false, false, false, true, false));
        added.add(addedToken(BOS, "<bos>", true, false, false, false, false));
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        ObjectNode template = root.putObject("post_processor");
        template.put("type", "TemplateProcessing");
        ArrayNode single = template.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<bos>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        single.addObject().putObject("SpecialToken").put("id", "<eos>").put("type_id", 0);
        ArrayNode pair = template.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<bos>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode specials = template.putObject("special_tokens");
        ObjectNode bos = specials.putObject("<bos>").put("id", "<bos>");
        bos.putArray("ids").add(BOS);
        bos.putArray("tokens").add("<bos>");
        ObjectNode eos = specials.putObject("<eos>").put("id", "<eos>");
        eos.putArray("ids").add(EOS);
        eos.putArray("tokens").add("<eos>");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        ArrayNode merges = model.putArray("merges");
        int next = 256;
        for (String[] merge : MERGES) {
            vocab.put(merge[0] + merge[1], next++);
            if (legacyMerges) merges.add(merge[0] + " " + merge[1]);
            else merges.addArray().add(merge[0]).add(merge[1]);
        }
        return root;
    }

    static ObjectNode addedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip,
                                 boolean normalized, boolean singleWord) {
        ObjectNode t = JSON.createObjectNode();
        t.put("id", id).put("content", content).put("single_word", singleWord).put("lstrip", lstrip)
                .put("rstrip", rstrip).put("normalized", normalized).put("special", special);
        return t;
    }

    static ObjectNode byteLevel(boolean addPrefixSpace, boolean useRegex) {
        return JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", addPrefixSpace)
                .put("trim_offsets", true).put("use_regex", useRegex);
    }

    static ObjectNode split(String kind, String pattern, String behavior, boolean invert) {
        ObjectNode split = JSON.createObjectNode().put("type", "Split");
        split.putObject("pattern").put(kind, pattern);
        return split.put("behavior", behavior).put("invert", invert);
    }

    static ObjectNode sequence(String type, String field, List<ObjectNode> parts) {
        ObjectNode seq = JSON.createObjectNode().put("type", type);
        ArrayNode array = seq.putArray(field);
        parts.forEach(array::add);
        return seq;
    }

    /** The variants exercised by {@code SyntheticTokenizerTest}, by name. */
    static ObjectNode variant(String name) {
        ObjectNode root;
        switch (name) {
            case "nfkc-lowercase-gpt2" -> {
                root = base(true);
                root.set("normalizer", sequence("Sequence", "normalizers",
                        List.of(JSON.createObjectNode().put("type", "NFKC"), JSON.createObjectNode().put("type", "Lowercase"))));
                root.set("pre_tokenizer", byteLevel(true, true));
            }
            case "merged-with-previous-removed" -> {
                root = base(false);
                ((ObjectNode) root.get("model")).put("ignore_merges", true);
                root.set("pre_tokenizer", sequence("Sequence", "pretokenizers", List.of(
                        split("Regex", "\\d", "MergedWithPrevious", false),
                        split("String", "-", "Removed", false),
                        byteLevel(false, false))));
            }
            case "merged-with-next-contiguous-invert" -> {
                root = base(false);
                root.set("pre_tokenizer", sequence("Sequence", "pretokenizers", List.of(
                        split("Regex", "[aeiou]", "MergedWithNext", false),
                        split("Regex", "\\s+", "Contiguous", true),
                        byteLevel(false, false))));
            }
            case "digits-gpt2" -> {
                root = base(true);
                root.set("pre_tokenizer", sequence("Sequence", "pretokenizers", List.of(
                        JSON.createObjectNode().put("type", "Digits").put("individual_digits", false),
                        byteLevel(false, true))));
            }
            default -> throw new IllegalArgumentException(name);
        }
        return root;
    }

    static final List<String> VARIANTS = List.of(
            "nfkc-lowercase-gpt2", "merged-with-previous-removed", "merged-with-next-contiguous-invert", "digits-gpt2");

    static final List<String> TEXTS = List.of(
            "Hello world", "hello [MASK] world", "hello   [MASK]world", "x<eos>   y", "[MASK]<eos>  [MASK]",
            "a dog b", "hotdog dogs dog", "dog", "dog.dog", "<Cap> <CAP> <cap>", "\uFF48\uFF45\uFF4C\uFF4C\uFF4F world",
            "123-456 7a8b9", "aeiou xyz  qq", "\u03A3\u0391\u03A3 \u00C5", "  ", "");
}
