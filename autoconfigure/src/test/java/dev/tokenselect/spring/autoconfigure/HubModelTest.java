package dev.tokenselect.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.tokenselect.engine.Engine;
import dev.tokenselect.engine.hub.HubClient;

/**
 * {@code spring.ai.tokenselect.model} as a repo id: the model is downloaded from a Hub (here a local HTTP server
 * speaking the Hub's protocol, serving the needle model's files) into the Hugging Face cache and loaded from there.
 */
class HubModelTest {

    private static final String REPO = "tokenselect/needle-14m";
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final Path FILES = Path.of(TokenSelectAutoConfigurationTest.MODEL);
    private static final List<String> SERVED = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "model.safetensors");

    @TempDir
    Path tmp;
    HttpServer server;
    final AtomicInteger downloads = new AtomicInteger();

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/api/models/" + REPO + "/revision/main", ex -> {
            StringBuilder siblings = new StringBuilder();
            for (String f : SERVED) {
                siblings.append(siblings.isEmpty() ? "" : ",").append("{\"rfilename\":\"").append(f).append("\"}");
            }
            send(ex, ("{\"sha\":\"" + COMMIT + "\",\"siblings\":[" + siblings + "]}").getBytes());
        });
        server.createContext("/" + REPO + "/resolve/" + COMMIT + "/", ex -> {
            String name = ex.getRequestURI().getPath().substring(("/" + REPO + "/resolve/" + COMMIT + "/").length());
            if (!SERVED.contains(name)) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            byte[] body = Files.readAllBytes(FILES.resolve(name));
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(body) + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", Long.toString(body.length));
            ex.getResponseHeaders().add("X-Repo-Commit", COMMIT);
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().add("Content-Length", Long.toString(body.length));
                ex.sendResponseHeaders(200, -1);
                ex.close();
                return;
            }
            downloads.incrementAndGet();
            send(ex, body);
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static void send(HttpExchange ex, byte[] body) throws IOException {
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private ApplicationContextRunner runner() {
        HubClient hub = HubClient.builder().endpoint("http://127.0.0.1:" + server.getAddress().getPort())
                .cacheDir(tmp.resolve("hub")).build();
        return new ApplicationContextRunner().withConfiguration(TokenSelectAutoConfigurationTest.ALL)
                .withBean(HubClient.class, () -> hub)
                .withPropertyValues("spring.ai.tokenselect.model=" + REPO, "spring.ai.tokenselect.backend=cpu",
                        "spring.ai.tokenselect.threads=2", "spring.ai.tokenselect.kv-capacity-tokens=4096",
                        "spring.ai.tokenselect.cache-dir=" + tmp.resolve("kv"));
    }

    @Test
    void aRepoIdIsDownloadedIntoTheHubCacheOnceAndServesChat() {
        runner().run(ctx -> {
            assertThat(ctx).hasNotFailed();
            Path dir = ctx.getBean(Engine.class).model().directory();
            assertThat(dir.toString()).contains("models--tokenselect--needle-14m").contains(COMMIT);
            assertThat(ctx.getBean(ChatModel.class).call("What is the special code for Ada?")).isNotNull();
        });
        assertThat(downloads.get()).isEqualTo(SERVED.size());
        runner().run(ctx -> assertThat(ctx).hasNotFailed()); // the second start finds every file in the cache
        assertThat(downloads.get()).isEqualTo(SERVED.size());
    }
}
