package dev.tokenselect.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks encode and decode against reference outputs recorded with Hugging Face transformers
 * (fixtures/tokenizer/*.json; decoded with skip_special_tokens=False, clean_up_tokenization_spaces=False).
 * A missing fixture file is a failure, not a skip.
 */
class TransformersFixturesTest {

    record FixtureCase(String model, String transformersVersion, int index, String text, boolean addSpecialTokens,
                       int[] ids, String decoded) {
        @Override
        public String toString() {
            return model + " #" + index + (addSpecialTokens ? " +special " : " ") + TestTokenizers.escape(text);
        }
    }

    static Stream<FixtureCase> cases() throws IOException {
        List<FixtureCase> all = new ArrayList<>();
        all.addAll(load(TestTokenizers.QWEN3));
        all.addAll(load(TestTokenizers.LLAMA3_1));
        return all.stream();
    }

    private static List<FixtureCase> load(String model) throws IOException {
        String path = "/fixtures/tokenizer/" + model + ".json";
        JsonNode root;
        try (InputStream in = TransformersFixturesTest.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing transformers fixture " + path);
            root = JsonMapper.builder().build().readTree(in);
        }
        String version = root.path("transformers_version").asString("?");
        List<FixtureCase> cases = new ArrayList<>();
        JsonNode list = root.get("cases");
        if (list == null || !list.isArray() || list.isEmpty()) throw new IllegalStateException("no cases in " + path);
        int index = 0;
        for (JsonNode c : list) {
            JsonNode idsNode = c.get("ids");
            int[] ids = new int[idsNode.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = idsNode.get(i).intValue();
            cases.add(new FixtureCase(model, version, index++, c.get("text").stringValue(),
                    c.get("add_special_tokens").booleanValue(), ids, c.get("decoded").stringValue()));
        }
        return cases;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void encodeMatchesTransformers(FixtureCase c) {
        int[] actual = TestTokenizers.get(c.model()).encode(c.text(), c.addSpecialTokens());
        assertArrayEquals(c.ids(), actual, () -> "transformers " + c.transformersVersion() + " gave "
                + Arrays.toString(c.ids()) + " but we gave " + Arrays.toString(actual));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void decodeMatchesTransformers(FixtureCase c) {
        assertEquals(c.decoded(), TestTokenizers.get(c.model()).decode(c.ids(), false));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void streamingDecodeMatchesTransformers(FixtureCase c) {
        IncrementalDetokenizer detokenizer = TestTokenizers.get(c.model()).newIncrementalDetokenizer(false);
        StringBuilder streamed = new StringBuilder();
        for (int id : c.ids()) {
            String delta = detokenizer.accept(id);
            assertFalse(delta.indexOf('\uFFFD') >= 0 && c.decoded().indexOf('\uFFFD') < 0, "delta split a character");
            streamed.append(delta);
        }
        streamed.append(detokenizer.flush());
        assertEquals(c.decoded(), streamed.toString());
    }
}
