package dev.tokenselect.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.cli.Main;
import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** {@code corpus add/ask/list --jdbc-url}: the CLI on a real PostgreSQL catalog. */
class CorpusCliJdbcTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static EmbeddedPostgres pg;
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        model = tmp.resolve("model");
        ObjectNode config = JSON.createObjectNode();
        config.putArray("architectures").add("LlamaForCausalLM");
        config.put("hidden_size", 32);
        config.put("intermediate_size", 64);
        config.put("num_hidden_layers", 2);
        config.put("num_attention_heads", 4);
        config.put("num_key_value_heads", 2);
        config.put("vocab_size", 151936);
        config.put("rope_theta", 10000.0);
        config.put("tie_word_embeddings", true);
        SyntheticModelWriter.write(model, config, null, 3, DType.BF16, 1,
                Path.of("../engine/src/test/resources/tokenizers/qwen3").toAbsolutePath());
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    private static JsonNode cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                args);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        return JSON.readTree(out.toString(StandardCharsets.UTF_8).strip());
    }

    @Test
    void aCorpusAddedThroughTheCliIsCataloguedInPostgresAndRestored() throws Exception {
        String url = pg.getJdbcUrl("postgres", "postgres");
        Path doc = Files.writeString(tmp.resolve("doc.txt"), "The archive keeps letters and maps. ".repeat(40));
        Path cache = tmp.resolve("kv");
        JsonNode added = cli("corpus", "add", "--model", model.toString(), "--cache", cache.toString(), "--jdbc-url", url,
                "--name", "archive", "--file", doc.toString(), "--json");
        int tokens = added.get("tokens").asInt();
        assertEquals(tokens, added.get("prefilled_tokens").asInt());
        // a new engine (a new CLI run): the PostgreSQL catalog points it at the segment, nothing is prefilled
        JsonNode asked = cli("corpus", "ask", "--model", model.toString(), "--cache", cache.toString(), "--jdbc-url", url,
                "--name", "archive", "--question", "What is kept?", "--max-tokens", "4", "--json");
        assertEquals(tokens, asked.get("stats").get("cached_prefix_tokens").asInt());
        assertEquals(tokens, asked.get("stats").get("restored_tokens").asInt());
        JsonNode listed = cli("corpus", "list", "--model", model.toString(), "--cache", cache.toString(), "--jdbc-url", url,
                "--json");
        assertTrue(listed.toString().contains("archive"), listed.toString());
        try (var c = pg.getPostgresDatabase().getConnection();
             ResultSet rs = c.createStatement().executeQuery("select count(*) from segments")) {
            rs.next();
            assertEquals(1, rs.getInt(1), "one persisted segment in the catalog");
        }
    }
}
