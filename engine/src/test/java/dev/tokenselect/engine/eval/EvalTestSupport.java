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

/** The real Qwen3 tokenizer from the test resources, loaded once. */
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
