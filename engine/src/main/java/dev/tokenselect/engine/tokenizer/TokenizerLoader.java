package dev.tokenselect.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Reads the tokenizer.json schema into a {@link Tokenizer}, rejecting anything it cannot reproduce exactly. */
final class TokenizerLoader {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TokenizerLoader() {
    }

    static JsonNode parse(String json, String source) {
        return parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), source);
    }

    /** Parsing bytes directly avoids materializing a 10 MB String for large vocabularies. */
    static JsonNode parse(byte[] json, String source) {
        try {
            JsonNode root = JSON.readTree(json);
            if (root == null || root.isMissingNode()) throw new TokenizerFormatException(source, "file is empty");
            return root;
        } catch (JacksonException e) {
            throw new TokenizerFormatException(source, "invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    static Tokenizer load(JsonNode root, String source, TokenizerConfig config) {
        if (!root.isObject()) throw new TokenizerFormatException(source, "expected a JSON object at top level");
        String version = JsonSupport.optionalString(root, "version", source, "tokenizer");
        if (version != null && !version.equals("1.0")) {
            throw new TokenizerFormatException(source, "unsupported tokenizer.json version '" + version + "'");
        }
        JsonNode model = root.get("model");
        if (model == null || !model.isObject()) throw new TokenizerFormatException(source, "missing 'model' object");

        Normalizer normalizer = Normalizer.fromJson(root.get("normalizer"), source);
        PreTokenizer preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"), source);
        PostProcessor postProcessor = PostProcessor.fromJson(root.get("post_processor"), source);
        checkDecoder(root.get("decoder"), source);

        Map<String, Integer> vocab = readVocab(model, source);
        BytePairEncoder bpe = readBpe(model, vocab, source);

        // Added tokens: ids are assigned the way tokenizers' AddedVocabulary::add_tokens does; a file whose
        // declared ids disagree is rejected rather than guessed at.
        Map<String, Integer> addedIds = new HashMap<>();
        Map<Integer, AddedToken> addedById = new LinkedHashMap<>();
        Set<String> specialContents = new HashSet<>();
        int nextId = vocab.size();
        JsonNode addedNode = root.get("added_tokens");
        if (!JsonSupport.isAbsent(addedNode)) {
            if (!addedNode.isArray()) throw new TokenizerFormatException(source, "'added_tokens' must be an array");
            for (JsonNode t : addedNode) {
                String context = "added token";
                String content = JsonSupport.requiredString(t, "content", source, context);
                int declaredId = JsonSupport.requiredInt(t, "id", source, context + " '" + content + "'");
                boolean special = JsonSupport.optionalBoolean(t, "special", false, source, context);
                AddedToken token = new AddedToken(declaredId, content, special,
                        JsonSupport.optionalBoolean(t, "lstrip", false, source, context),
                        JsonSupport.optionalBoolean(t, "rstrip", false, source, context),
                        JsonSupport.optionalBoolean(t, "normalized", !special, source, context),
                        JsonSupport.optionalBoolean(t, "single_word", false, source, context));
                if (content.isEmpty()) continue;
                Integer existing = addedIds.get(content);
                if (existing != null && token.equals(addedById.get(existing))) continue;
                if (existing == null) existing = vocab.get(content);
                int id = existing != null ? existing : nextId++;
                if (id != declaredId) {
                    throw new TokenizerFormatException(source, "added token '" + content + "' declares id " + declaredId
                            + " but tokenizers would give it id " + id + " (ids must follow the model vocabulary)");
                }
                addedIds.put(content, id);
                if (special) specialContents.add(content);
                addedById.put(id, token);
            }
        }

        // Normalized added tokens are matched (and decoded) in their normalized form.
        Map<Integer, String> normalizedContent = new HashMap<>();
        for (AddedToken token : addedById.values()) {
            if (token.normalized()) {
                String normalized = normalizer.normalize(token.content());
                if (!normalized.equals(token.content())) normalizedContent.put(token.id(), normalized);
            }
        }

        int maxId = -1;
        for (int id : vocab.values()) maxId = Math.max(maxId, id);
        for (int id : addedById.keySet()) maxId = Math.max(maxId, id);
        String[] idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) idToToken[e.getValue()] = e.getKey();
        for (AddedToken token : addedById.values()) {
            idToToken[token.id()] = normalizedContent.getOrDefault(token.id(), token.content());
        }
        boolean[] special = new boolean[idToToken.length];
        for (int id = 0; id < idToToken.length; id++) {
            special[id] = idToToken[id] != null && specialContents.contains(idToToken[id]);
        }

        List<AddedToken> addedList = new ArrayList<>(addedById.values());
        AddedTokens matcher = new AddedTokens(addedList, normalizedContent);
        return new Tokenizer(source, normalizer, preTokenizer, matcher, bpe, postProcessor, vocab, addedIds,
                addedList, idToToken, special, config);
    }

    /** Only the byte-level decoder is supported: it is the one whose output we can reproduce byte for byte. */
    private static void checkDecoder(JsonNode decoder, String source) {
        if (JsonSupport.isAbsent(decoder)) {
            throw new TokenizerFormatException(source, "unsupported decoder: none (only ByteLevel is supported)");
        }
        String type = JsonSupport.requiredString(decoder, "type", source, "decoder");
        if (type.equals("ByteLevel")) return;
        if (type.equals("Sequence")) {
            JsonNode parts = JsonSupport.requiredArray(decoder, "decoders", source, "Sequence decoder");
            if (parts.size() == 0) throw new TokenizerFormatException(source, "unsupported decoder: empty Sequence");
            for (JsonNode part : parts) checkDecoder(part, source);
            return;
        }
        throw new TokenizerFormatException(source, "unsupported decoder type '" + type + "' (only ByteLevel is supported)");
    }

    private static Map<String, Integer> readVocab(JsonNode model, String source) {
        JsonNode vocabNode = JsonSupport.requiredObject(model, "vocab", source, "model");
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        for (Map.Entry<String, JsonNode> e : vocabNode.properties()) {
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw new TokenizerFormatException(source, "model.vocab: bad id for token '" + e.getKey() + "'");
            }
            vocab.put(e.getKey(), id.intValue());
        }
        return vocab;
    }

    private static BytePairEncoder readBpe(JsonNode model, Map<String, Integer> vocab, String source) {
        String type = JsonSupport.optionalString(model, "type", source, "model");
        if (type == null ? !model.has("merges") : !type.equals("BPE")) {
            throw new TokenizerFormatException(source, "unsupported model type '" + type + "' (only BPE is supported)");
        }
        JsonNode dropout = model.get("dropout");
        if (!JsonSupport.isAbsent(dropout) && (!dropout.isNumber() || dropout.doubleValue() != 0.0)) {
            throw new TokenizerFormatException(source, "unsupported BPE feature: dropout " + dropout + " (non-deterministic)");
        }
        if (JsonSupport.optionalBoolean(model, "byte_fallback", false, source, "model")) {
            throw new TokenizerFormatException(source, "unsupported BPE feature: byte_fallback");
        }
        String prefix = JsonSupport.optionalString(model, "continuing_subword_prefix", source, "model");
        String suffix = JsonSupport.optionalString(model, "end_of_word_suffix", source, "model");
        String unkToken = JsonSupport.optionalString(model, "unk_token", source, "model");
        int unkId = -1;
        if (unkToken != null) {
            Integer id = vocab.get(unkToken);
            if (id == null) throw new TokenizerFormatException(source, "model.unk_token '" + unkToken + "' is not in the vocabulary");
            unkId = id;
        }
        MergeTable merges = readMerges(JsonSupport.requiredArray(model, "merges", source, "model"), vocab,
                prefix == null ? 0 : prefix.length(), source);
        return new BytePairEncoder(vocab, merges, unkId,
                JsonSupport.optionalBoolean(model, "fuse_unk", false, source, "model"),
                JsonSupport.optionalBoolean(model, "ignore_merges", false, source, "model"),
                prefix, suffix);
    }

    /** Merges are either ["a", "b"] pairs or legacy "a b" strings; the rank is the position in the list. */
    private static MergeTable readMerges(JsonNode mergesNode, Map<String, Integer> vocab, int prefixLength, String source) {
        MergeTable table = new MergeTable(mergesNode.size());
        int rank = 0;
        for (JsonNode merge : mergesNode) {
            String left;
            String right;
            if (merge.isArray() && merge.size() == 2 && merge.get(0).isString() && merge.get(1).isString()) {
                left = merge.get(0).stringValue();
                right = merge.get(1).stringValue();
            } else if (merge.isString()) {
                String line = merge.stringValue();
                if (line.startsWith("#version")) continue;
                int space = line.indexOf(' ');
                if (space < 0 || line.indexOf(' ', space + 1) >= 0) {
                    throw new TokenizerFormatException(source, "model.merges: bad merge '" + line + "' at rank " + rank);
                }
                left = line.substring(0, space);
                right = line.substring(space + 1);
            } else {
                throw new TokenizerFormatException(source, "model.merges: bad merge " + merge + " at rank " + rank);
            }
            Integer leftId = vocab.get(left);
            Integer rightId = vocab.get(right);
            if (leftId == null || rightId == null || right.length() < prefixLength) {
                throw new TokenizerFormatException(source, "model.merges: merge '" + left + " " + right + "' uses a token not in the vocabulary");
            }
            String merged = left + right.substring(prefixLength);
            Integer mergedId = vocab.get(merged);
            if (mergedId == null) {
                throw new TokenizerFormatException(source, "model.merges: merged token '" + merged + "' is not in the vocabulary");
            }
            table.put(leftId, rightId, rank, mergedId);
            rank++;
        }
        return table;
    }
}
