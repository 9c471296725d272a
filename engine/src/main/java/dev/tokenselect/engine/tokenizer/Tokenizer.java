package dev.tokenselect.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer (byte-level BPE: Qwen, Llama 3, GPT-2 style) that produces the
 * same ids as transformers' fast tokenizers.
 *
 * <p>Encoding follows the tokenizers pipeline: added tokens are cut out of the raw text first, the remaining
 * text is normalized, pre-tokenized (regex split, then byte-level mapping), each piece is BPE-merged, and the
 * post-processor may add special tokens such as BOS. There is never any truncation.
 *
 * <p>Instances are immutable apart from an internal word cache and are safe to share between threads.
 */
public final class Tokenizer {

    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String CONFIG_FILE = "tokenizer_config.json";
    /** Recent transformers versions save the chat template beside the config instead of inside it. */
    public static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    private final String source;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final AddedTokens addedTokens;
    private final BytePairEncoder bpe;
    private final PostProcessor postProcessor;
    private final Map<String, Integer> vocab;
    private final Map<String, Integer> addedIds;
    private final List<AddedToken> addedTokenList;
    private final String[] idToToken;
    /** The bytes each id contributes to decoded text; null for ids that have no token. */
    private final byte[][] idToBytes;
    private final boolean[] special;
    private final Set<Integer> specialIds;
    private final TokenizerConfig config;

    Tokenizer(String source, Normalizer normalizer, PreTokenizer preTokenizer, AddedTokens addedTokens,
              BytePairEncoder bpe, PostProcessor postProcessor, Map<String, Integer> vocab,
              Map<String, Integer> addedIds, List<AddedToken> addedTokenList, String[] idToToken,
              boolean[] special, TokenizerConfig config) {
        this.source = source;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.addedTokens = addedTokens;
        this.bpe = bpe;
        this.postProcessor = postProcessor;
        this.vocab = vocab;
        this.addedIds = addedIds;
        this.addedTokenList = List.copyOf(addedTokenList);
        this.idToToken = idToToken;
        this.special = special;
        this.config = config;
        this.idToBytes = new byte[idToToken.length][];
        TreeSet<Integer> specials = new TreeSet<>();
        for (int id = 0; id < idToToken.length; id++) {
            if (idToToken[id] != null) idToBytes[id] = ByteLevel.decodeToken(idToToken[id]);
            if (special[id]) specials.add(id);
        }
        this.specialIds = Collections.unmodifiableSet(specials);
    }

    // ---------------------------------------------------------------- loading

    /**
     * Loads {@code tokenizer.json} and {@code tokenizer_config.json} from a model directory (and
     * {@code chat_template.jinja} when the config has no chat template).
     *
     * @throws NoSuchFileException       naming the missing file
     * @throws TokenizerFormatException if a file is malformed or uses an unsupported feature
     */
    public static Tokenizer load(Path modelDir) throws IOException {
        Path tokenizerFile = requireFile(modelDir, TOKENIZER_FILE);
        Path configFile = requireFile(modelDir, CONFIG_FILE);
        TokenizerConfig config = TokenizerConfig.fromJson(
                TokenizerLoader.parse(Files.readAllBytes(configFile), configFile.toString()), configFile.toString());
        Path templateFile = modelDir.resolve(CHAT_TEMPLATE_FILE);
        if (config.chatTemplates().isEmpty() && Files.isRegularFile(templateFile)) {
            config = config.withChatTemplates(Map.of("default", Files.readString(templateFile, StandardCharsets.UTF_8)));
        }
        String source = tokenizerFile.toString();
        return TokenizerLoader.load(TokenizerLoader.parse(Files.readAllBytes(tokenizerFile), source), source, config);
    }

    /**
     * Builds a tokenizer from the text of a tokenizer.json and, optionally, a tokenizer_config.json.
     *
     * @param tokenizerConfigJson may be null: then no bos/eos/pad names or chat template are known
     */
    public static Tokenizer fromJson(String tokenizerJson, String tokenizerConfigJson) {
        TokenizerConfig config = tokenizerConfigJson == null
                ? TokenizerConfig.EMPTY
                : TokenizerConfig.fromJson(TokenizerLoader.parse(tokenizerConfigJson, CONFIG_FILE), CONFIG_FILE);
        return TokenizerLoader.load(TokenizerLoader.parse(tokenizerJson, TOKENIZER_FILE), TOKENIZER_FILE, config);
    }

    /** Like {@link #fromJson(String, String)}, reading UTF-8 streams (e.g. a GZIPInputStream); closes neither. */
    public static Tokenizer fromJson(InputStream tokenizerJson, InputStream tokenizerConfigJson) throws IOException {
        TokenizerConfig config = tokenizerConfigJson == null
                ? TokenizerConfig.EMPTY
                : TokenizerConfig.fromJson(TokenizerLoader.parse(tokenizerConfigJson.readAllBytes(), CONFIG_FILE), CONFIG_FILE);
        return TokenizerLoader.load(TokenizerLoader.parse(tokenizerJson.readAllBytes(), TOKENIZER_FILE), TOKENIZER_FILE, config);
    }

    private static Path requireFile(Path dir, String name) throws NoSuchFileException {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, name + " not found in model directory " + dir);
        }
        return file;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Encodes text like transformers' {@code tokenizer.encode(text, add_special_tokens=...)}: special tokens
     * written in the text (e.g. {@code <|im_start|>}) are recognized as such, unless tokenizer_config.json sets
     * {@code split_special_tokens}.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        return encode(text, addSpecialTokens, config.splitSpecialTokens());
    }

    /**
     * @param splitSpecialTokens like transformers' {@code split_special_tokens=True}: special tokens in the text
     *                           are not matched but tokenized as ordinary text (use it for untrusted input that
     *                           must not inject control tokens); non-special added tokens still match
     */
    public int[] encode(String text, boolean addSpecialTokens, boolean splitSpecialTokens) {
        String input = replaceLoneSurrogates(text);
        IntList ids = new IntList(input.length() / 3 + 8);
        List<AddedTokens.Segment> rawSegments = new ArrayList<>();
        addedTokens.splitRaw(input, splitSpecialTokens, rawSegments);
        List<AddedTokens.Segment> normalizedSegments = new ArrayList<>();
        List<String> single = new ArrayList<>(1);
        for (AddedTokens.Segment raw : rawSegments) {
            if (raw.isToken()) {
                ids.add(raw.tokenId());
                continue;
            }
            normalizedSegments.clear();
            addedTokens.splitNormalized(normalizer.normalize(raw.text()), splitSpecialTokens, normalizedSegments);
            for (AddedTokens.Segment segment : normalizedSegments) {
                if (segment.isToken()) {
                    ids.add(segment.tokenId());
                    continue;
                }
                single.clear();
                single.add(segment.text());
                for (String word : preTokenizer.apply(single)) bpe.encode(word, ids);
            }
        }
        return postProcessor.process(ids.toArray(), addSpecialTokens);
    }

    /**
     * Rust strings cannot hold unpaired surrogates; Java's UTF-8 encoder would turn them into '?'. We use U+FFFD,
     * which is what the text would contain after any lossy UTF-8 round trip.
     */
    private static String replaceLoneSurrogates(String text) {
        StringBuilder fixed = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                i++;
                continue;
            }
            if (fixed == null) fixed = new StringBuilder(text);
            fixed.setCharAt(i, Utf8.REPLACEMENT);
        }
        return fixed == null ? text : fixed.toString();
    }

    // ---------------------------------------------------------------- decoding

    /** Decodes with special tokens kept, like transformers' {@code decode(ids)} without space clean-up. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text like transformers' {@code decode(ids, skip_special_tokens=...,
     * clean_up_tokenization_spaces=False)}: byte-level decoding, invalid UTF-8 becomes U+FFFD, ids without a
     * token (e.g. the padding rows of an embedding matrix) are ignored.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            byte[] b = tokenBytes(id, skipSpecialTokens);
            if (b != null) bytes.writeBytes(b);
        }
        byte[] all = bytes.toByteArray();
        return Utf8.decodeLossy(all, 0, all.length);
    }

    /** A streaming decoder for generated ids; see {@link IncrementalDetokenizer}. */
    public IncrementalDetokenizer newIncrementalDetokenizer(boolean skipSpecialTokens) {
        return new IncrementalDetokenizer(this, skipSpecialTokens);
    }

    /** The bytes id contributes to decoded text, or null when it contributes nothing. */
    byte[] tokenBytes(int id, boolean skipSpecialTokens) {
        if (id < 0 || id >= idToBytes.length) return null;
        if (skipSpecialTokens && special[id]) return null;
        return idToBytes[id];
    }

    // ---------------------------------------------------------------- vocabulary

    /** The id of a token string (an added token's content or a model-vocabulary token in byte-level form). */
    public OptionalInt tokenToId(String token) {
        Integer id = addedIds.get(token);
        if (id == null) id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of an id (byte-level form, e.g. "Ġworld"), like transformers' convert_ids_to_tokens. */
    public Optional<String> idToToken(int id) {
        return id < 0 || id >= idToToken.length ? Optional.empty() : Optional.ofNullable(idToToken[id]);
    }

    /** Max id + 1 over the model vocabulary and the added tokens (transformers' {@code len(tokenizer)}). */
    public int vocabSize() {
        return idToToken.length;
    }

    /** Ids of added tokens marked {@code special} (skipped by {@code decode(ids, true)}), ascending. */
    public Set<Integer> specialTokenIds() {
        return specialIds;
    }

    public boolean isSpecialToken(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** The added tokens, special or not, in file order. */
    public List<AddedToken> addedTokens() {
        return addedTokenList;
    }

    // ---------------------------------------------------------------- tokenizer_config.json

    public Optional<String> bosToken() {
        return Optional.ofNullable(config.bosToken());
    }

    public Optional<String> eosToken() {
        return Optional.ofNullable(config.eosToken());
    }

    public Optional<String> padToken() {
        return Optional.ofNullable(config.padToken());
    }

    public Optional<String> unkToken() {
        return Optional.ofNullable(config.unkToken());
    }

    public OptionalInt bosTokenId() {
        return idOf(config.bosToken());
    }

    public OptionalInt eosTokenId() {
        return idOf(config.eosToken());
    }

    public OptionalInt padTokenId() {
        return idOf(config.padToken());
    }

    /** The default chat template (Jinja source), if the model has one. */
    public Optional<String> chatTemplate() {
        Map<String, String> templates = config.chatTemplates();
        String template = templates.get("default");
        if (template == null && templates.size() == 1) template = templates.values().iterator().next();
        return Optional.ofNullable(template);
    }

    /** All chat templates by name ("default" for a single unnamed one). */
    public Map<String, String> chatTemplates() {
        return config.chatTemplates();
    }

    /** Where this tokenizer was read from, for messages. */
    public String source() {
        return source;
    }

    private OptionalInt idOf(String token) {
        return token == null ? OptionalInt.empty() : tokenToId(token);
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", vocabSize=" + vocabSize() + ", added=" + addedTokenList.size() + "]";
    }
}
