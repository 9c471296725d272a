package dev.tokenselect.engine.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/**
 * Loads the real Qwen3 and Llama 3.1 tokenizers shipped (gzipped) in the test resources, through the production
 * {@link Tokenizer#load(Path)} path. Each is loaded once per JVM: parsing ~10 MB of JSON takes about a second.
 */
final class TestTokenizers {

    static final String QWEN3 = "qwen3";
    static final String LLAMA3_1 = "llama3_1";

    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private TestTokenizers() {
    }

    static Tokenizer qwen3() {
        return get(QWEN3);
    }

    static Tokenizer llama31() {
        return get(LLAMA3_1);
    }

    static Tokenizer get(String model) {
        return LOADED.computeIfAbsent(model, m -> {
            try {
                return Tokenizer.load(modelDir(m));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A temporary model directory holding the plain tokenizer.json and tokenizer_config.json. */
    static Path modelDir(String model) throws IOException {
        Path dir = Files.createTempDirectory("tokenizer-" + model);
        dir.toFile().deleteOnExit();
        try (InputStream in = new GZIPInputStream(resource("/tokenizers/" + model + "/tokenizer.json.gz"))) {
            Files.copy(in, dir.resolve(Tokenizer.TOKENIZER_FILE), StandardCopyOption.REPLACE_EXISTING);
        }
        try (InputStream in = resource("/tokenizers/" + model + "/tokenizer_config.json")) {
            Files.copy(in, dir.resolve(Tokenizer.CONFIG_FILE), StandardCopyOption.REPLACE_EXISTING);
        }
        dir.resolve(Tokenizer.TOKENIZER_FILE).toFile().deleteOnExit();
        dir.resolve(Tokenizer.CONFIG_FILE).toFile().deleteOnExit();
        return dir;
    }

    static InputStream resource(String path) {
        InputStream in = TestTokenizers.class.getResourceAsStream(path);
        if (in == null) throw new IllegalStateException("missing test resource " + path);
        return in;
    }

    /** Test names with control and non-ASCII characters made visible. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(80).forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7F) out.appendCodePoint(cp);
            else if (cp == '\n') out.append("\\n");
            else out.append(String.format("\\u{%X}", cp));
        });
        if (text.codePointCount(0, text.length()) > 80) out.append("...");
        return out.toString();
    }
}
