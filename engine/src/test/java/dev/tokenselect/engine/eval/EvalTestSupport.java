package dev.tokenselect.engine.eval;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import dev.tokenselect.engine.tokenizer.Tokenizer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The real Qwen3 tokenizer (loaded once) and a tiny Qwen3 model from the test resources. */
final class EvalTestSupport {

    private static Tokenizer qwen3;

    private EvalTestSupport() {
    }

    static Path qwen3Resources() {
        try {
            return Path.of(EvalTestSupport.class.getResource("/tokenizers/qwen3").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A tiny random-weight Qwen3 (the model fixture's geometry and seed) with the real Qwen3 tokenizer
     * and chat template, written to {@code dir}.
     */
    static Path qwen3Model(Path dir) throws IOException {
        JsonNode fixture;
        try (InputStream in = EvalTestSupport.class.getResourceAsStream("/fixtures/models/qwen3.json")) {
            fixture = JsonMapper.builder().build().readTree(in);
        }
        SyntheticModelWriter.write(dir, (ObjectNode) fixture.get("config"), fixture.get("generation_config"),
                fixture.get("seed").asLong(), DType.BF16, 1, qwen3Resources());
        return dir;
    }

    static synchronized Tokenizer qwen3() {
        if (qwen3 == null) {
            try {
                Path dir = Files.createTempDirectory("eval-qwen3");
                try (InputStream in = new GZIPInputStream(Files.newInputStream(qwen3Resources().resolve("tokenizer.json.gz")))) {
                    Files.copy(in, dir.resolve(Tokenizer.TOKENIZER_FILE));
                }
                Files.copy(qwen3Resources().resolve(Tokenizer.CONFIG_FILE), dir.resolve(Tokenizer.CONFIG_FILE));
                qwen3 = Tokenizer.load(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return qwen3;
    }
}
