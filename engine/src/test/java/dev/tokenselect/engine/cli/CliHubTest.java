package dev.tokenselect.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.hub.LocalHub;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code download} and {@code --model REPO_ID} in a separate JVM, so that the environment variables
 * (HF_ENDPOINT, HF_HUB_CACHE, HF_HUB_OFFLINE) are really read from the environment.
 */
class CliHubTest {

    private static final String REPO = "tiny-org/tiny-qwen3";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    static Path tmp;
    static LocalHub hub;
    static LocalHub.Repo repo;

    @BeforeAll
    static void startHub() throws Exception {
        hub = new LocalHub();
        repo = hub.add(REPO, LocalHub.qwen3Repo(tmp), LocalHub.Access.PUBLIC);
    }

    @AfterAll
    static void stopHub() {
        hub.close();
    }

    record Run(int exitCode, String stdout, String stderr) {
        JsonNode json() {
            assertEquals(1, stdout.strip().lines().count(), "exactly one line on stdout: " + stdout);
            return JSON.readTree(stdout.strip());
        }
    }

    private static Run cli(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-modules") || a.startsWith("--enable-native-access")).toList());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_") || k.startsWith("HUGGING") || k.equals("TRANSFORMERS_OFFLINE")
                || k.equals("XDG_CACHE_HOME"));
        pb.environment().put("HF_HOME", tmp.resolve("hf-home").toString()); // no token file of this machine's user
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "stdout", ".txt");
        Path err = Files.createTempFile(tmp, "stderr", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI finished");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void downloadPrintsTheSnapshotInTheCacheOfHfHubCacheOrCacheDir() throws Exception {
        Path cache = tmp.resolve("cache-download");
        Run r = cli(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString()), "download", REPO, "--json");
        assertEquals(0, r.exitCode(), r.stderr());
        Path snapshot = cache.resolve("models--tiny-org--tiny-qwen3/snapshots").resolve(repo.commit());
        assertEquals(snapshot.toString(), r.json().get("path").asString());
        assertTrue(Files.isRegularFile(snapshot.resolve("model-00002-of-00002.safetensors")));
        assertTrue(r.stderr().contains("Downloading model-00001-of-00002.safetensors"), "progress on stderr: " + r.stderr());

        Path other = tmp.resolve("cache-dir-option");
        Run plain = cli(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString()),
                "download", REPO, "--revision", repo.commit(), "--cache-dir", other.toString());
        assertEquals(0, plain.exitCode(), plain.stderr());
        assertEquals(other.resolve("models--tiny-org--tiny-qwen3/snapshots").resolve(repo.commit()).toString(), plain.stdout().strip());
    }

    @Test
    void modelTakesARepoIdOnlineThenOfflineFromTheCache() throws Exception {
        Path cache = tmp.resolve("cache-model");
        Run online = cli(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString()),
                "tokenize", "--model", REPO, "--text", "Hello world", "--json");
        assertEquals(0, online.exitCode(), online.stderr());
        assertEquals("[9707,1879]", online.json().get("ids").toString());

        hub.clearRequests();
        Run offline = cli(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString(), "HF_HUB_OFFLINE", "1"),
                "tokenize", "--model", REPO, "--text", "Hello world", "--json");
        assertEquals(0, offline.exitCode(), offline.stderr());
        assertEquals("[9707,1879]", offline.json().get("ids").toString());
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void offlineWithoutTheModelFailsWithOneJsonError() throws Exception {
        Path empty = tmp.resolve("cache-empty");
        Run r = cli(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", empty.toString(), "TRANSFORMERS_OFFLINE", "1"),
                "download", REPO, "--json");
        assertEquals(1, r.exitCode());
        String error = r.json().get("error").asString();
        assertTrue(error.startsWith("Offline mode is on (HF_HUB_OFFLINE) and Hugging Face repo '" + REPO + "'"), error);
        assertTrue(error.contains(empty.toString()), error);

        Run model = cli(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", empty.toString(), "HF_HUB_OFFLINE", "1"),
                "generate", "--model", REPO, "--prompt", "Hi", "--max-tokens", "4", "--json");
        assertEquals(1, model.exitCode(), model.stderr());
        assertTrue(model.json().get("error").asString().contains("Download it while online"), model.stdout());
    }
}
