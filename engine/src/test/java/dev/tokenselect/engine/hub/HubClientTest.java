package dev.tokenselect.engine.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.EngineOptions;
import dev.tokenselect.engine.generate.GenerationResult;
import dev.tokenselect.engine.generate.SamplingParams;
import dev.tokenselect.engine.generate.TokenListener;
import dev.tokenselect.engine.hub.LocalHub.Access;
import dev.tokenselect.engine.hub.LocalHub.Request;
import tools.jackson.databind.JsonNode;

/** Downloads from a Hub served on local ports, into a huggingface_hub cache in a temporary directory. */
class HubClientTest {

    private static final String REPO = "tiny-org/tiny-qwen3";
    private static final String SHARD = "model-00001-of-00002.safetensors";
    private static final Set<String> NEEDED = new TreeSet<>(List.of("config.json", "generation_config.json",
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
            "tokenizer.json", "tokenizer_config.json"));

    @TempDir
    static Path shared;
    static Map<String, byte[]> files;

    @TempDir
    Path cache;
    LocalHub hub;
    LocalHub.Repo repo;

    @BeforeAll
    static void writeModel() throws Exception {
        files = LocalHub.qwen3Repo(shared);
    }

    @BeforeEach
    void startHub() throws IOException {
        hub = new LocalHub();
        repo = hub.add(REPO, files, Access.PUBLIC);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private HubClient.Builder client() {
        return HubClient.builder().endpoint(hub.endpoint()).cacheDir(cache);
    }

    private Path repoDir() {
        return cache.resolve("models--tiny-org--tiny-qwen3");
    }

    private List<Request> cdnGets(byte[] file) {
        String sha = LocalHub.sha256Hex(file);
        return hub.requests().stream().filter(r -> r.server().equals("cdn") && r.path().endsWith(sha)).toList();
    }

    private static Set<String> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return new TreeSet<>(list.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void downloadsWhatInferenceNeedsIntoTheHuggingFaceCacheLayoutAndTheModelRuns() throws Exception {
        Path snapshot = client().build().resolve(REPO, null);

        assertEquals(repoDir().resolve("snapshots").resolve(repo.commit()), snapshot);
        assertEquals(repo.commit(), Files.readString(repoDir().resolve("refs").resolve("main")));
        assertEquals(NEEDED, names(snapshot));
        Set<String> blobs = new TreeSet<>();
        for (String name : NEEDED) {
            Path link = snapshot.resolve(name);
            String etag = name.endsWith(".safetensors") ? LocalHub.sha256Hex(files.get(name)) : LocalHub.gitBlobSha1(files.get(name));
            assertTrue(Files.isSymbolicLink(link), name);
            assertEquals(Path.of("..", "..", "blobs", etag), Files.readSymbolicLink(link), name);
            assertArrayEquals(files.get(name), Files.readAllBytes(link), name);
            blobs.add(etag);
        }
        assertEquals(blobs, names(repoDir().resolve("blobs")), "one blob per file, nothing left incomplete");
        assertTrue(Files.isDirectory(cache.resolve(".locks").resolve("models--tiny-org--tiny-qwen3")));
        for (Request r : hub.requests()) {
            assertFalse(r.path().matches(".*(pytorch_model\\.bin|\\.gguf|onnx/|README\\.md|\\.gitattributes)$"),
                    "requested a file inference does not need: " + r);
        }

        JsonNode fixture = LocalHub.qwen3Fixture();
        int[] prompt = ints(fixture.get("prompt_ids"));
        try (Engine engine = Engine.open(snapshot, new EngineOptions("cpu", 0, 0, 4096, 16))) {
            GenerationResult r = engine.generator(512).generate(prompt,
                    SamplingParams.builder().maxTokens(24).ignoreEos(true).build(), TokenListener.NONE);
            assertArrayEquals(ints(fixture.get("greedy_ids")), r.ids(), "greedy tokens of transformers");
        }
    }

    @Test
    void aSecondResolveOfTheRevisionRequestsNoFiles() {
        Path first = client().build().resolve(REPO, "main");
        hub.clearRequests();

        assertEquals(first, client().build().resolve(REPO, "main"));
        assertEquals(List.of("GET /api/models/tiny-org/tiny-qwen3/revision/main"), hub.paths("hub"));
        assertEquals(List.of(), hub.paths("cdn"));

        hub.clearRequests();
        assertEquals(first, client().build().resolve(REPO, repo.commit()), "the commit hash resolves to the same snapshot");
        assertEquals(List.of(), hub.paths("cdn"));
    }

    @Test
    void aDownloadBrokenOffHalfWayResumesWithARangeRequest() throws IOException {
        byte[] shard = files.get(SHARD);
        long half = shard.length / 2;
        hub.dropOnce(shard, half);

        Path snapshot = client().build().resolve(REPO, null);

        assertArrayEquals(shard, Files.readAllBytes(snapshot.resolve(SHARD)));
        List<Request> gets = cdnGets(shard);
        assertEquals(2, gets.size(), gets.toString());
        assertNull(gets.get(0).range());
        assertEquals("bytes=" + half + "-", gets.get(1).range());
        assertTrue(hub.requests().stream().anyMatch(r -> r.server().equals("hub") && r.method().equals("GET")
                && r.path().endsWith("/resolve/" + repo.commit() + "/" + SHARD) && ("bytes=" + half + "-").equals(r.range())),
                "the resumed request goes through the Hub's resolve URL again, with the range");
    }

    @Test
    void anIncompleteFileLeftByAnEarlierRunIsResumed() throws IOException {
        byte[] shard = files.get(SHARD);
        Path incomplete = repoDir().resolve("blobs").resolve(LocalHub.sha256Hex(shard) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, java.util.Arrays.copyOf(shard, 1000));

        Path snapshot = client().build().resolve(REPO, null);

        assertArrayEquals(shard, Files.readAllBytes(snapshot.resolve(SHARD)));
        List<Request> gets = cdnGets(shard);
        assertEquals(1, gets.size());
        assertEquals("bytes=1000-", gets.get(0).range());
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void aCompleteFileLeftBeforeTheRenameIsCheckedAndKeptWithoutARequest() throws IOException {
        byte[] shard = files.get(SHARD);
        Path incomplete = repoDir().resolve("blobs").resolve(LocalHub.sha256Hex(shard) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, shard);

        Path snapshot = client().build().resolve(REPO, null);

        assertArrayEquals(shard, Files.readAllBytes(snapshot.resolve(SHARD)));
        assertEquals(List.of(), cdnGets(shard));
    }

    @Test
    void aServerThatIgnoresTheRangeMakesTheDownloadStartOver() throws IOException {
        byte[] shard = files.get(SHARD);
        Path incomplete = repoDir().resolve("blobs").resolve(LocalHub.sha256Hex(shard) + ".incomplete");
        Files.createDirectories(incomplete.getParent());
        byte[] junk = new byte[1000];
        java.util.Arrays.fill(junk, (byte) 7); // not a prefix of the shard: only a restart gives the right bytes
        Files.write(incomplete, junk);
        hub.ignoreRange(true);

        Path snapshot = client().build().resolve(REPO, null);

        assertArrayEquals(shard, Files.readAllBytes(snapshot.resolve(SHARD)));
        assertEquals("bytes=1000-", cdnGets(shard).get(0).range(), "it asked for the rest, got the whole file");
    }

    @Test
    void aHashMismatchFailsNamingTheFileAndBothHashesAndLeavesNoBlob() throws IOException {
        byte[] shard = files.get(SHARD);
        byte[] served = shard.clone();
        served[served.length / 2] ^= 0x5a;
        hub.corrupt(shard);

        HubException e = assertThrows(HubException.class, () -> client().build().resolve(REPO, null));

        assertTrue(e.getMessage().contains(SHARD), e.getMessage());
        assertTrue(e.getMessage().contains("expected sha256 " + LocalHub.sha256Hex(shard)), e.getMessage());
        assertTrue(e.getMessage().contains("got " + LocalHub.sha256Hex(served)), e.getMessage());
        Path blob = repoDir().resolve("blobs").resolve(LocalHub.sha256Hex(shard));
        assertFalse(Files.exists(blob));
        assertFalse(Files.exists(Path.of(blob + ".incomplete")));
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(repo.commit()).resolve(SHARD)));
        assertFalse(Files.exists(repoDir().resolve("refs").resolve("main")), "no ref to an incomplete snapshot");
    }

    @Test
    void aGatedRepoWithoutTokenFailsSayingToSetHfToken() {
        hub.add("tiny-org/gated-qwen3", files, Access.GATED);

        HubException e = assertThrows(HubException.class, () -> client().build().resolve("tiny-org/gated-qwen3", null));
        assertTrue(e.getMessage().contains("'tiny-org/gated-qwen3' is gated (HTTP 401)"), e.getMessage());
        assertTrue(e.getMessage().contains("set HF_TOKEN"), e.getMessage());
        assertTrue(e.getMessage().contains(hub.endpoint() + "/tiny-org/gated-qwen3"), "where to request access: " + e.getMessage());

        Path snapshot = client().token(LocalHub.TOKEN).build().resolve("tiny-org/gated-qwen3", null);
        assertTrue(Files.isRegularFile(snapshot.resolve(SHARD)));
    }

    @Test
    void aPrivateRepoAnswered401SaysGatedOrPrivateAndToSetHfToken() {
        hub.add("tiny-org/private-qwen3", files, Access.PRIVATE);

        HubException e = assertThrows(HubException.class, () -> client().build().resolve("tiny-org/private-qwen3", null));
        assertTrue(e.getMessage().contains("'tiny-org/private-qwen3'"), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 401"), e.getMessage());
        assertTrue(e.getMessage().contains("gated or private"), e.getMessage());
        assertTrue(e.getMessage().contains("Set HF_TOKEN"), e.getMessage());

        HubException wrongToken = assertThrows(HubException.class,
                () -> client().token("hf_wrong").build().resolve("tiny-org/private-qwen3", null));
        assertTrue(wrongToken.getMessage().contains("refused the token from HF_TOKEN"), wrongToken.getMessage());
    }

    @Test
    void anUnknownRevisionFails404NamingTheRepoAndTheRevision() {
        HubException e = assertThrows(HubException.class, () -> client().build().resolve(REPO, "no-such-branch"));
        assertTrue(e.getMessage().contains("'" + REPO + "' has no revision 'no-such-branch' (HTTP 404)"), e.getMessage());
        assertEquals(List.of(), hub.paths("cdn"));
    }

    @Test
    void offlineModeResolvesFromTheCacheWithoutAnyRequest() {
        Path online = client().build().resolve(REPO, null);
        hub.clearRequests();

        HubClient offline = client().offline(true).build();
        assertEquals(online, offline.resolve(REPO, null));
        assertEquals(online, offline.resolve(REPO, repo.commit()));
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void offlineModeWithoutTheSnapshotFailsNamingTheRepoAndTheCache() {
        HubException e = assertThrows(HubException.class, () -> client().offline(true).build().resolve(REPO, null));

        assertTrue(e.getMessage().contains("Offline mode is on (HF_HUB_OFFLINE)"), e.getMessage());
        assertTrue(e.getMessage().contains("'" + REPO + "'"), e.getMessage());
        assertTrue(e.getMessage().contains(cache.toAbsolutePath().normalize().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("Download it while online"), e.getMessage());
        assertTrue(e.getMessage().contains("local directory"), e.getMessage());
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void anIncompleteCachedSnapshotIsNotUsedOffline() throws IOException {
        Path snapshot = client().build().resolve(REPO, null);
        byte[] second = files.get("model-00002-of-00002.safetensors");
        Files.delete(repoDir().resolve("blobs").resolve(LocalHub.sha256Hex(second))); // its link now dangles

        HubException e = assertThrows(HubException.class, () -> client().offline(true).build().resolve(REPO, null));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());

        hub.clearRequests();
        assertEquals(snapshot, client().build().resolve(REPO, null), "online, the missing file is fetched again");
        assertEquals(1, cdnGets(second).size());
        assertArrayEquals(second, Files.readAllBytes(snapshot.resolve("model-00002-of-00002.safetensors")));
        assertEquals(List.of(), cdnGets(files.get(SHARD)), "the files present are not downloaded again");
    }

    @Test
    void theTokenGoesToTheHubButNotAcrossTheRedirectToTheCdn() {
        client().token(LocalHub.TOKEN).build().resolve(REPO, null);

        List<Request> toHub = hub.requests().stream().filter(r -> r.server().equals("hub")).toList();
        List<Request> toCdn = hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
        assertFalse(toHub.isEmpty());
        assertFalse(toCdn.isEmpty());
        toHub.forEach(r -> assertEquals("Bearer " + LocalHub.TOKEN, r.authorization(), r.toString()));
        toCdn.forEach(r -> assertNull(r.authorization(), r.toString()));
    }

    @Test
    void theHubBeingUnreachableFallsBackToTheCachedSnapshot() {
        Path snapshot = client().build().resolve(REPO, null);
        String endpoint = hub.endpoint();
        hub.close();

        assertEquals(snapshot, HubClient.builder().endpoint(endpoint).cacheDir(cache).build().resolve(REPO, null));

        HubException e = assertThrows(HubException.class,
                () -> HubClient.builder().endpoint(endpoint).cacheDir(cache.resolve("empty")).build().resolve(REPO, null));
        assertTrue(e.getMessage().contains("Cannot reach the Hub at " + endpoint), e.getMessage());
    }

    @Test
    void concurrentResolvesDownloadEachBlobOnce() throws Exception {
        List<Path> results;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Path>> futures = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                futures.add(pool.submit(() -> client().build().resolve(REPO, null)));
            }
            results = new ArrayList<>();
            for (Future<Path> f : futures) {
                results.add(f.get());
            }
        }
        assertEquals(1, new TreeSet<>(results).size());
        for (String name : List.of(SHARD, "model-00002-of-00002.safetensors")) {
            assertArrayEquals(files.get(name), Files.readAllBytes(results.get(0).resolve(name)));
            assertEquals(1, cdnGets(files.get(name)).size(), name + " downloaded once");
        }
    }

    @Test
    void aRepoWithoutSafetensorsFailsBeforeDownloadingAnything() {
        hub.add("tiny-org/bin-only", Map.of("config.json", files.get("config.json"),
                "pytorch_model.bin", "weights".getBytes(StandardCharsets.UTF_8)), Access.PUBLIC);

        HubException e = assertThrows(HubException.class, () -> client().build().resolve("tiny-org/bin-only", null));
        assertTrue(e.getMessage().contains("has no safetensors weights"), e.getMessage());
        assertTrue(e.getMessage().contains("pytorch_model.bin"), e.getMessage());
        assertEquals(List.of("GET /api/models/tiny-org/bin-only/revision/main"), hub.paths("hub"));
    }

    @Test
    void localDirectoriesAreReturnedAsTheyAre() throws IOException {
        Path dir = shared.resolve("qwen3-source");
        assertEquals(dir, client().build().resolve(dir.toString(), null));

        Path noConfig = Files.createDirectories(cache.resolve("not-a-model"));
        HubException e = assertThrows(HubException.class, () -> client().build().resolve(noConfig.toString(), null));
        assertTrue(e.getMessage().contains("has no config.json"), e.getMessage());

        HubException missing = assertThrows(HubException.class, () -> client().build().resolve("/no/such/model-dir", null));
        assertTrue(missing.getMessage().contains("'/no/such/model-dir' does not exist"), missing.getMessage());
        assertEquals(List.of(), hub.requests());
    }

    @Test
    void theListenerSeesEachFileGrowToItsSize() {
        List<DownloadProgress> events = Collections.synchronizedList(new ArrayList<>());
        client().progressListener(events::add).build().resolve(REPO, null);

        for (String name : NEEDED) {
            List<DownloadProgress> mine = events.stream().filter(p -> p.file().equals(name)).toList();
            assertFalse(mine.isEmpty(), name);
            DownloadProgress last = mine.getLast();
            assertTrue(last.done(), name);
            assertEquals(files.get(name).length, last.bytes(), name);
            assertEquals(files.get(name).length, last.totalBytes(), name);
            assertEquals(100.0, last.percent(), 1e-9);
            for (int i = 1; i < mine.size(); i++) {
                assertTrue(mine.get(i).bytes() >= mine.get(i - 1).bytes(), name);
            }
            assertEquals(REPO, last.repoId());
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
