package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.prefix.CorpusFixture;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code corpus add|ask|list|remove} with --json, through a fresh CLI per call (a restart each time). */
class CorpusCommandTest {

    @TempDir
    Path tmp;

    JsonNode run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new CorpusCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, c, p) -> {
            CliOutput.of(c).error(e);
            return 1;
        });
        int code = cli.execute(args);
        assertEquals(0, code, err.toString() + out);
        String s = out.toString().strip();
        assertEquals(1, s.lines().count(), "one JSON object: " + s);
        return JsonMapper.builder().build().readTree(s);
    }

    @Test
    void addAskListRemove() throws Exception {
        Path model = CorpusFixture.writeModel(tmp.resolve("m"), 3);
        Path cache = tmp.resolve("cache");
        Path doc = Files.writeString(tmp.resolve("a.txt"), "The relay failed in March. Parts arrived on the twelfth.");
        String[] common = {"--model", model.toString(), "--cache", cache.toString(), "--json", "--backend", "cpu",
                "--threads", "2", "--block-size", "16"};
        JsonNode add = run(cat(new String[] {"add", "--name", "ops", "--file", doc.toString()}, common));
        int tokens = add.get("tokens").asInt();
        assertTrue(tokens > 10);
        assertEquals(tokens, add.get("prefilled_tokens").asInt());

        JsonNode ask = run(cat(new String[] {"ask", "--name", "ops", "--question", "When?", "--max-tokens", "3", "--ignore-eos"}, common));
        assertEquals(3, ask.get("ids").size());
        assertEquals(tokens, ask.get("stats").get("cached_prefix_tokens").asInt());
        assertEquals(tokens, ask.get("stats").get("restored_tokens").asInt(), "restored from disk, not prefilled");
        assertTrue(ask.get("stats").get("prefilled_tokens").asInt() > 0);

        JsonNode list = run(cat(new String[] {"list"}, common));
        assertEquals("ops", list.get("corpora").get(0).get("name").asString());

        JsonNode remove = run(cat(new String[] {"remove", "--name", "ops"}, common));
        assertTrue(remove.get("removed").asBoolean());
        assertEquals(0, run(cat(new String[] {"list"}, common)).get("corpora").size());
    }

    static String[] cat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
