package dev.tokenselect.engine.template;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Renders the repository's real chat templates (tokenizers/*&#47;tokenizer_config.json) and compares with the text
 * Hugging Face transformers produced with {@code apply_chat_template(messages, tools=..., add_generation_prompt=...,
 * tokenize=False, **extra)} (fixtures/chat_template/*.json). A missing fixture file is a failure, not a skip.
 */
class ChatTemplateFixturesTest {

    static final List<String> MODELS = List.of("qwen3", "llama3_1");

    record FixtureCase(String model, String transformersVersion, String name, ChatTemplate template,
                       List<Map<String, Object>> messages, List<Map<String, Object>> tools,
                       boolean addGenerationPrompt, Map<String, Object> extra, String expected) {
        @Override
        public String toString() {
            return model + " / " + name;
        }
    }

    static JsonNode readResource(String path) throws IOException {
        try (InputStream in = ChatTemplateFixturesTest.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path);
            }
            return TemplateTestSupport.JSON.readTree(in);
        }
    }

    static Stream<FixtureCase> cases() throws IOException {
        List<FixtureCase> all = new ArrayList<>();
        for (String model : MODELS) {
            ChatTemplate template = ChatTemplate.fromTokenizerConfig(
                    readResource("/tokenizers/" + model + "/tokenizer_config.json"));
            JsonNode root = readResource("/fixtures/chat_template/" + model + ".json");
            JsonNode cases = root.get("cases");
            if (cases == null || !cases.isArray() || cases.isEmpty()) {
                throw new IllegalStateException("no cases in fixtures/chat_template/" + model + ".json");
            }
            for (JsonNode c : cases) {
                all.add(new FixtureCase(model, root.path("transformers_version").asString("?"),
                        c.get("name").stringValue(), template, listOfMaps(c.get("messages")),
                        listOfMaps(c.get("tools")), c.get("add_generation_prompt").booleanValue(),
                        map(c.get("extra")), c.get("text").stringValue()));
            }
        }
        return all.stream();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> listOfMaps(JsonNode node) {
        return node == null || node.isNull() ? null : (List<Map<String, Object>>) ChatTemplate.fromJson(node);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(JsonNode node) {
        return node == null || node.isNull() ? Map.of() : (Map<String, Object>) ChatTemplate.fromJson(node);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersExactlyLikeTransformers(FixtureCase c) {
        String rendered = c.template().render(c.messages(), c.addGenerationPrompt(), c.tools(), c.extra());
        assertEquals(c.expected(), rendered, () -> c + " (transformers " + c.transformersVersion() + ")");
    }
}
