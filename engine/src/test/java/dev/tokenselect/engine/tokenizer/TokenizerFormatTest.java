package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** Malformed or unsupported files must fail loudly, naming the file and the problem. */
class TokenizerFormatTest {

    @TempDir
    Path dir;

    private static String json(ObjectNode node) {
        return SyntheticTokenizerJson.JSON.writeValueAsString(node);
    }

    private static String mutated(Consumer<ObjectNode> change) {
        ObjectNode root = SyntheticTokenizerJson.variant("nfkc-lowercase-gpt2");
        change.accept(root);
        return json(root);
    }

    private static ObjectNode model(ObjectNode root) {
        return (ObjectNode) root.get("model");
    }

    private static void assertRejected(String tokenizerJson, String... expectedFragments) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizer.fromJson(tokenizerJson, null));
        assertTrue(e.getMessage().startsWith("tokenizer.json: "), e.getMessage());
        for (String fragment : expectedFragments) assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void theSyntheticBaselineLoads() {
        Tokenizer tokenizer = Tokenizer.fromJson(mutated(root -> { }), null);
        assertEquals(273, tokenizer.vocabSize());
    }

    @Test
    void badJson() {
        assertRejected("{\"model\": {", "invalid JSON");
        assertRejected("", "empty");
        assertRejected("[1, 2]", "top level");
    }

    @Test
    void unsupportedModels() {
        assertRejected(mutated(root -> model(root).put("type", "WordPiece")), "unsupported model type 'WordPiece'");
        assertRejected(mutated(root -> model(root).put("type", "Unigram")), "unsupported model type 'Unigram'");
        assertRejected(mutated(root -> model(root).put("byte_fallback", true)), "byte_fallback");
        assertRejected(mutated(root -> model(root).put("dropout", 0.1)), "dropout");
        assertRejected(mutated(root -> root.remove("model")), "missing 'model'");
        assertRejected(mutated(root -> model(root).put("unk_token", "<unk>")), "unk_token");
    }

    @Test
    void unsupportedPipelineComponents() {
        assertRejected(mutated(root -> root.putObject("pre_tokenizer").put("type", "Metaspace")),
                "unsupported pre_tokenizer type 'Metaspace'");
        assertRejected(mutated(root -> root.putObject("normalizer").put("type", "Precompiled")),
                "unsupported normalizer type 'Precompiled'");
        assertRejected(mutated(root -> root.putObject("decoder").put("type", "WordPiece")),
                "unsupported decoder type 'WordPiece'");
        assertRejected(mutated(root -> root.putNull("decoder")), "decoder");
        assertRejected(mutated(root -> root.putObject("post_processor").put("type", "RobertaProcessing")),
                "unsupported post_processor type 'RobertaProcessing'");
        assertRejected(mutated(root -> root.set("pre_tokenizer", SyntheticTokenizerJson.split("Regex", "[[:alpha:]]+", "Isolated", false))),
                "POSIX bracket");
        assertRejected(mutated(root -> root.set("pre_tokenizer", SyntheticTokenizerJson.split("Regex", "a", "Shuffled", false))),
                "Split behavior 'Shuffled'");
        assertRejected(mutated(root -> root.put("version", "2.0")), "version '2.0'");
    }

    @Test
    void inconsistentVocabularies() {
        assertRejected(mutated(root -> model(root).withArray("merges").add("zz yy")), "merge 'zz yy'");
        assertRejected(mutated(root -> model(root).withArray("merges").add("a b c")), "bad merge 'a b c'");
        assertRejected(mutated(root -> model(root).withArray("merges").add("a b")), "merged token 'ab'");
    }

    @Test
    void badTokenizerConfig() {
        String good = mutated(root -> { });
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizer.fromJson(good, "{oops"));
        assertTrue(e.getMessage().startsWith("tokenizer_config.json: invalid JSON"), e.getMessage());
        e = assertThrows(TokenizerFormatException.class, () -> Tokenizer.fromJson(good, "{\"eos_token\": 5}"));
        assertTrue(e.getMessage().contains("eos_token"), e.getMessage());
    }

    @Test
    void configTokensMayBeObjectsAndTemplatesMayBeNamed() {
        String config = """
                {"bos_token": {"__type": "AddedToken", "content": "<bos>", "special": true},
                 "eos_token": "<eos>", "pad_token": null,
                 "chat_template": [{"name": "default", "template": "{{ messages }}"},
                                   {"name": "tool_use", "template": "{{ tools }}"}]}
                """;
        Tokenizer tokenizer = Tokenizer.fromJson(mutated(root -> { }), config);
        assertEquals(OptionalInt.of(SyntheticTokenizerJson.BOS), tokenizer.bosTokenId());
        assertEquals(OptionalInt.of(SyntheticTokenizerJson.EOS), tokenizer.eosTokenId());
        assertEquals(OptionalInt.empty(), tokenizer.padTokenId());
        assertEquals(Optional.of("{{ messages }}"), tokenizer.chatTemplate());
        assertEquals(Map.of("default", "{{ messages }}", "tool_use", "{{ tools }}"), tokenizer.chatTemplates());
    }

    @Test
    void splitSpecialTokensFromConfigBecomesTheDefault() {
        Tokenizer splitting = Tokenizer.fromJson(mutated(root -> { }), "{\"split_special_tokens\": true}");
        int[] ids = splitting.encode("[MASK]dog", false);
        assertEquals(SyntheticTokenizerJson.DOG, ids[ids.length - 1], "non-special added tokens still match");
        assertTrue(java.util.Arrays.stream(ids).noneMatch(id -> id == SyntheticTokenizerJson.MASK));
        assertEquals(SyntheticTokenizerJson.MASK, splitting.encode("[MASK]", false, false)[0]);
    }

    @Test
    void loadNamesTheMissingFile() throws IOException {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        Files.writeString(dir.resolve("tokenizer.json"), mutated(root -> { }));
        e = assertThrows(NoSuchFileException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
    }

    @Test
    void loadReportsTheFullPathOfABadFile() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), mutated(root -> model(root).put("type", "WordLevel")));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("tokenizer.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("WordLevel"), e.getMessage());
        assertEquals(dir.resolve("tokenizer.json").toString(), e.source());
    }

    @Test
    void loadFallsBackToChatTemplateJinja() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), mutated(root -> { }));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<eos>\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}");
        Tokenizer tokenizer = Tokenizer.load(dir);
        assertEquals(Optional.of("{% for m in messages %}{{ m.content }}{% endfor %}"), tokenizer.chatTemplate());
        assertEquals(OptionalInt.of(SyntheticTokenizerJson.EOS), tokenizer.eosTokenId());
    }
}
