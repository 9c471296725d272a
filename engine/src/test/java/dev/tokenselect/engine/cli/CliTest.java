package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.model.DType;
import dev.tokenselect.engine.model.synthetic.SyntheticModelWriter;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CLI's JSON contract, end to end in-process: exactly one JSON object on stdout, values equal to
 * the transformers fixtures.
 */
class CliTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path tmp;
    static Path qwen3;
    static Path llama;
    static JsonNode qwen3Fixture;
    static JsonNode llamaFixture;

    @BeforeAll
    static void writeModels() throws Exception {
        qwen3Fixture = resource("/fixtures/models/qwen3.json");
        llamaFixture = resource("/fixtures/models/llama3.json");
        qwen3 = write(qwen3Fixture, "qwen3", "qwen3");
        llama = write(llamaFixture, "llama3", "llama3_1");
    }

    private static Path write(JsonNode fixture, String name, String tokenizer) throws IOException, URISyntaxException {
        Path dir = tmp.resolve(name);
        SyntheticModelWriter.write(dir, (ObjectNode) fixture.get("config"), fixture.get("generation_config"),
                fixture.get("seed").asLong(), DType.parse(fixture.get("storage_dtype").asString()), 1,
                Path.of(CliTest.class.getResource("/tokenizers/" + tokenizer).toURI()));
        return dir;
    }

    static JsonNode resource(String path) throws IOException {
        try (InputStream in = CliTest.class.getResourceAsStream(path)) {
            return JSON.readTree(in);
        }
    }

    record Run(int exitCode, String stdout, String stderr) {
        JsonNode json() {
            String trimmed = stdout.strip();
            assertEquals(1, trimmed.lines().count(), "exactly one line on stdout: " + stdout);
            return JSON.readTree(trimmed);
        }
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    /** Every command's help renders whole: no description that picocli's formatter refuses (a bare %). */
    @Test
    void everyCommandsHelpRendersWithoutFormatWarnings() {
        PrintStream systemErr = System.err;
        ByteArrayOutputStream traced = new ByteArrayOutputStream();
        System.setErr(new PrintStream(traced, true, StandardCharsets.UTF_8));
        try {
            for (String command : new picocli.CommandLine(new Main()).getSubcommands().keySet()) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                        StandardCharsets.UTF_8), command, "--help");
                String help = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
                assertTrue(help.contains("Usage: tokenselect " + command), command + ": " + help);
                assertTrue(!help.contains("Could not format"), command + ": " + help);
                if (command.equals("eval")) {
                    assertTrue(help.contains("90% of free GPU memory on CUDA"), help);
                }
            }
        } finally {
            System.setErr(systemErr);
        }
        String warnings = traced.toString(StandardCharsets.UTF_8);
        assertTrue(!warnings.contains("Could not format"), warnings);
    }

    @Test
    void tokenizeMatchesTransformers() throws IOException {
        JsonNode cases = resource("/fixtures/tokenizer/llama3_1.json").get("cases");
        for (JsonNode c : cases) {
            if (c.get("text").asString().isEmpty()) {
                continue;
            }
            String[] args = c.get("add_special_tokens").asBoolean()
                    ? new String[] {"tokenize", "--model", llama.toString(), "--text", c.get("text").asString(), "--json", "--add-special-tokens"}
                    : new String[] {"tokenize", "--model", llama.toString(), "--text", c.get("text").asString(), "--json"};
            Run r = cli(args);
            assertEquals(0, r.exitCode(), r.stderr());
            assertArrayEquals(ints(c.get("ids")), ints(r.json().get("ids")), c.get("text").asString());
        }
    }

    @Test
    void chatTemplateMatchesTransformers() throws IOException {
        for (JsonNode c : resource("/fixtures/chat_template/qwen3.json").get("cases")) {
            if (!c.get("add_generation_prompt").asBoolean() || !c.get("tools").isNull() || !c.get("extra").isEmpty()) {
                continue; // the CLI renders with a generation prompt, without tools or extra variables
            }
            Path messages = tmp.resolve(c.get("name").asString() + ".json");
            Files.writeString(messages, c.get("messages").toString());
            Run r = cli("chat-template", "--model", qwen3.toString(), "--messages", messages.toString(), "--json");
            assertEquals(0, r.exitCode(), r.stderr());
            assertEquals(c.get("text").asString(), r.json().get("text").asString(), c.get("name").asString());
            assertArrayEquals(ints(c.get("ids")), ints(r.json().get("ids")), c.get("name").asString());
        }
    }

    @Test
    void toolsFileIsRendered() throws IOException {
        JsonNode c = null;
        for (JsonNode x : resource("/fixtures/chat_template/qwen3.json").get("cases")) {
            if (x.get("name").asString().equals("tools_user_only")) {
                c = x;
            }
        }
        Path messages = Files.writeString(tmp.resolve("tool-messages.json"), c.get("messages").toString());
        Path tools = Files.writeString(tmp.resolve("tools.json"), c.get("tools").toString());
        Run r = cli("chat-template", "--model", qwen3.toString(), "--messages", messages.toString(), "--tools",
                tools.toString(), "--json");
        assertEquals(c.get("text").asString(), r.json().get("text").asString());
    }

    @Test
    void logitsMatchTransformers() {
        String ids = qwen3Fixture.get("prompt_ids").toString().replaceAll("[\\[\\] ]", "");
        Run r = cli("logits", "--model", qwen3.toString(), "--prompt-ids", ids, "--top", "8", "--json");
        assertEquals(0, r.exitCode(), r.stderr());
        JsonNode json = r.json();
        int[] expectedIds = java.util.Arrays.copyOf(ints(qwen3Fixture.get("top_ids")), 8);
        assertArrayEquals(expectedIds, ints(json.get("ids")));
        double scale = Math.abs(qwen3Fixture.get("top_values").get(0).asDouble());
        for (int i = 0; i < 8; i++) {
            assertEquals(qwen3Fixture.get("top_values").get(i).asDouble(), json.get("values").get(i).asDouble(), 1e-4 * scale);
        }
    }

    @Test
    void generateFromTextGivesTheGreedyTokensOfTransformers() {
        Run r = cli("generate", "--model", llama.toString(), "--prompt", llamaFixture.get("prompt_text").asString(),
                "--no-add-special-tokens", "--max-tokens", "24", "--ignore-eos", "--json");
        assertEquals(0, r.exitCode(), r.stderr());
        JsonNode json = r.json();
        assertArrayEquals(ints(llamaFixture.get("greedy_ids")), ints(json.get("ids")));
        assertEquals(llamaFixture.get("prompt_ids").size(), json.get("stats").get("prompt_tokens").asInt());
        assertEquals("length", json.get("stats").get("finish_reason").asString());
        assertTrue(json.get("stats").get("decode_tokens_per_s").asDouble() > 0);
        assertTrue(json.get("text").isString());
    }

    @Test
    void generateWithChatWrapsThePromptInTheTemplate() {
        // the fixture prompt is the chat template rendering of a system and a user message
        JsonNode messages = llamaFixture.get("prompt_messages");
        Run r = cli("generate", "--model", llama.toString(), "--chat", "--system", messages.get(0).get("content").asString(),
                "--prompt", messages.get(1).get("content").asString(), "--max-tokens", "24", "--ignore-eos", "--json");
        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(ints(llamaFixture.get("greedy_ids")), ints(r.json().get("ids")));
    }

    @Test
    void generateStopsAtEosUnlessIgnored() {
        // Make the model's first greedy token its EOS: generation ends after one token.
        int first = llamaFixture.get("greedy_ids").get(0).asInt();
        Path dir = tmp.resolve("llama-eos");
        try {
            JsonNode f = llamaFixture;
            ObjectNode gen = JSON.createObjectNode();
            gen.putArray("eos_token_id").add(first);
            SyntheticModelWriter.write(dir, (ObjectNode) f.get("config"), gen, f.get("seed").asLong(), DType.BF16, 1,
                    Path.of(CliTest.class.getResource("/tokenizers/llama3_1").toURI()));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        String ids = llamaFixture.get("prompt_ids").toString().replaceAll("[\\[\\] ]", "");
        JsonNode stopped = cli("generate", "--model", dir.toString(), "--prompt-ids", ids, "--max-tokens", "8", "--json").json();
        assertArrayEquals(new int[] {first}, ints(stopped.get("ids")));
        assertEquals("eos", stopped.get("stats").get("finish_reason").asString());
        JsonNode ignored = cli("generate", "--model", dir.toString(), "--prompt-ids", ids, "--max-tokens", "8",
                "--ignore-eos", "--json").json();
        assertEquals(8, ignored.get("ids").size());
    }

    @Test
    void samplingIsReproducibleWithASeed() {
        String[] args = {"generate", "--model", qwen3.toString(), "--prompt", "Once upon a time", "--max-tokens", "12",
                "--temperature", "1.0", "--top-p", "0.9", "--top-k", "50", "--seed", "7", "--ignore-eos", "--json"};
        JsonNode a = cli(args).json();
        JsonNode b = cli(args).json();
        assertEquals(a.get("ids"), b.get("ids"));
        assertEquals(12, a.get("ids").size());
    }

    @Test
    void tokenSelectThroughTheCli() throws IOException {
        JsonNode f = resource("/fixtures/tokenselect/ts_qwen2.json");
        Path dir = tmp.resolve("ts-qwen2");
        SyntheticModelWriter.write(dir, (ObjectNode) f.get("config"), f.get("generation_config"), f.get("seed").asLong(),
                DType.BF16, 1, null);
        Files.copy(qwen3.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(qwen3.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        JsonNode s = f.get("select");
        String ids = f.get("prompt_ids").toString().replaceAll("[\\[\\] ]", "");
        Run r = cli("generate", "--model", dir.toString(), "--prompt-ids", ids, "--max-tokens", "24", "--ignore-eos",
                "--select", "k=" + s.get("k").asInt() + ",n-init=" + s.get("n_init").asInt() + ",n-local="
                        + s.get("n_local").asInt() + ",theta=" + s.get("theta").asDouble(),
                "--prefill-chunk", String.valueOf(s.get("prefill_chunk").asInt()), "--json");
        assertEquals(0, r.exitCode(), r.stderr());
        JsonNode json = r.json();
        assertArrayEquals(ints(f.get("greedy_ids")), ints(json.get("ids")));
        JsonNode stats = json.get("stats");
        assertEquals("tokenselect", stats.get("policy").asString());
        // The reference ran 24 decode forwards; generation stops after sampling its 24th token, one forward
        // fewer. Every layer of every forward over the budget either selects or hits the cache.
        int layers = f.get("config").get("num_hidden_layers").asInt();
        JsonNode ref = f.get("stats");
        assertEquals(ref.get("selections").asLong() + ref.get("cache_hits").asLong() - layers,
                stats.get("selections").asLong() + stats.get("cache_hits").asLong());
        assertEquals(s.get("k").asInt() + s.get("n_init").asInt() + s.get("n_local").asInt(),
                stats.get("mean_decode_attended_tokens").asDouble(), 1e-9);
        // a streaming policy that cannot see the middle differs, and says so in its stats
        JsonNode streaming = cli("generate", "--model", dir.toString(), "--prompt-ids", ids, "--max-tokens", "4",
                "--policy", "streaming", "--select", "n-init=4,n-local=32", "--json").json();
        assertEquals("streaming", streaming.get("stats").get("policy").asString());
        assertEquals(36.0, streaming.get("stats").get("mean_decode_attended_tokens").asDouble(), 1e-9);
    }

    @Test
    void errorsAreOneJsonObjectAndExitCodeOne() throws IOException {
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("config.json"), "{\"architectures\": [\"FalconForCausalLM\"]}");
        Run r = cli("generate", "--model", broken.toString(), "--prompt", "hi", "--max-tokens", "2", "--json");
        assertEquals(1, r.exitCode());
        String error = r.json().get("error").asString();
        assertTrue(error.contains("config.json") && error.contains("unknown architecture 'FalconForCausalLM'"), error);
        assertTrue(r.stderr().contains("error: "));
        Run noGpu = cli("generate", "--model", qwen3.toString(), "--prompt", "hi", "--max-tokens", "2",
                "--backend", "cuda", "--json");
        if (noGpu.exitCode() != 0) { // the machine running the tests has no usable GPU: the message says so
            String message = noGpu.json().get("error").asString();
            assertTrue(message.contains("--backend cpu"), message);
        }
        Run badSelect = cli("generate", "--model", qwen3.toString(), "--prompt", "hi", "--max-tokens", "2",
                "--select", "k=8,n-local=16", "--prefill-chunk", "64", "--json");
        assertEquals(1, badSelect.exitCode());
        assertTrue(badSelect.json().get("error").asString().contains("local window"));
    }
}
