package dev.tokenselect.engine.chat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

import dev.tokenselect.engine.tokenizer.Tokenizer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The chat formats of the repository's real tokenizers, loaded through {@link Tokenizer#load(Path)} once per JVM:
 * <ul>
 * <li>{@code qwen3}: Qwen3's tokenizer and template (Hermes-style tool calls);</li>
 * <li>{@code llama3_1_instruct}: the Llama 3.1 tokenizer with Llama-3.1-8B-Instruct's template, shipped as a
 * {@code chat_template.jinja} (tokenizers/llama3_1_instruct) the way recent model repositories ship it;</li>
 * <li>{@code llama3_1}: the Llama 3.1 tokenizer with its Llama 3 template, which has no tool support.</li>
 * </ul>
 */
final class ChatFormats {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private ChatFormats() {
    }

    static ChatFormat get(String model) {
        return ChatFormat.of(tokenizer(model));
    }

    static Tokenizer tokenizer(String model) {
        return LOADED.computeIfAbsent(model, m -> {
            try {
                return Tokenizer.load(modelDir(m));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static Path modelDir(String model) throws IOException {
        boolean instruct = model.equals("llama3_1_instruct");
        String tokenizer = instruct ? "llama3_1" : model;
        Path dir = Files.createTempDirectory("chat-format-" + model);
        try (InputStream in = new GZIPInputStream(resource("/tokenizers/" + tokenizer + "/tokenizer.json.gz"))) {
            Files.copy(in, dir.resolve(Tokenizer.TOKENIZER_FILE));
        }
        JsonNode config;
        try (InputStream in = resource("/tokenizers/" + tokenizer + "/tokenizer_config.json")) {
            config = JSON.readTree(in);
        }
        if (instruct) {
            // The instruct model's files differ from the base tokenizer's only in the template.
            ((ObjectNode) config).remove("chat_template");
            try (InputStream in = resource("/tokenizers/llama3_1_instruct/chat_template.jinja")) {
                Files.copy(in, dir.resolve(Tokenizer.CHAT_TEMPLATE_FILE));
            }
        }
        Files.writeString(dir.resolve(Tokenizer.CONFIG_FILE), JSON.writeValueAsString(config));
        for (String file : new String[] {Tokenizer.TOKENIZER_FILE, Tokenizer.CONFIG_FILE, Tokenizer.CHAT_TEMPLATE_FILE}) {
            dir.resolve(file).toFile().deleteOnExit();
        }
        dir.toFile().deleteOnExit();
        return dir;
    }

    static InputStream resource(String path) {
        InputStream in = ChatFormats.class.getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException("missing test resource " + path);
        }
        return in;
    }
}
