package dev.tokenselect.sample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole app on a random port: the real needle-14m model on the CPU, a real embedded PostgreSQL, real HTTP. Every
 * test class extends this one, so they share one application context (one engine, one database).
 */
// the bundled needle-14m, set outright: the tests never look for or download the default Hub model
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.ai.tokenselect.model=../models/needle-14m", "sample.default-model="})
public abstract class AppTestBase {

    public static final String API_KEY = "test-key-5bd1";
    /** Small, so the too-large test sends little. */
    public static final int MAX_FILE_KB = 256;
    static final Path DATA = tempDir();

    public static final JsonMapper JSON = JsonMapper.builder().build();
    protected static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @LocalServerPort
    protected int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("sample.data-dir", DATA::toString);
        registry.add("spring.ai.tokenselect.cache-dir", () -> DATA.resolve("kv").toString());
        registry.add("spring.ai.tokenselect.backend", () -> "cpu");
        registry.add("spring.ai.tokenselect.kv-capacity-tokens", () -> "16384");
        registry.add("sample.upload.max-file-size", () -> MAX_FILE_KB + "KB");
        registry.add("sample.api-key", () -> API_KEY);
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("tokenselect-sample-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path dataDir() {
        return DATA;
    }

    protected String base() {
        return "http://localhost:" + port;
    }

    protected HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    protected HttpResponse<String> postJson(String path, String json, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    protected HttpResponse<String> delete(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Uploads files (name, content type, bytes) into a corpus as the page's form does. */
    protected HttpResponse<String> upload(String corpus, List<Multipart.Part> files) throws Exception {
        return Multipart.post(HTTP, URI.create(base() + "/api/corpora/" + corpus + "/documents"), files);
    }

    protected static JsonNode json(HttpResponse<String> r) {
        return JSON.readTree(r.body());
    }

    /** Waits until the corpus is ready and returns its listing; fails on {@code failed} or after the timeout. */
    protected JsonNode awaitReady(String corpus, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        JsonNode c = null;
        while (System.nanoTime() < end) {
            c = json(get("/api/corpora/" + corpus));
            String status = c.path("status").asString();
            if ("ready".equals(status)) {
                return c;
            }
            if ("failed".equals(status)) {
                throw new AssertionError("corpus " + corpus + " failed: " + c.path("error").asString());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("corpus " + corpus + " not ready after " + timeout + ": " + c);
    }

    /** Removes every corpus, so each test starts from none. */
    protected void deleteAllCorpora() throws Exception {
        for (JsonNode c : json(get("/api/corpora"))) {
            delete("/api/corpora/" + c.path("name").asString());
        }
    }

    protected static Map<String, String> sseHeaders() {
        return Map.of("Accept", "text/event-stream");
    }
}
