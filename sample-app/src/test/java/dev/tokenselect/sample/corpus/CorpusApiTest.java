package dev.tokenselect.sample.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Multipart.Part;
import dev.tokenselect.sample.Needles;
import dev.tokenselect.sample.Pdfs;
import dev.tokenselect.spring.ai.corpus.CorpusService;
import tools.jackson.databind.JsonNode;

/** Uploads become corpora: prepared in the background with progress, listed with size, KV bytes and residence. */
class CorpusApiTest extends AppTestBase {

    static final long KV_BYTES_PER_TOKEN = 8L * 2 * 64 * 2 * 4;

    @Autowired
    CorpusService corpora;

    @BeforeEach
    @AfterEach
    void clean() throws Exception {
        deleteAllCorpora();
    }

    @Test
    void anUploadIsPreparedInTheBackgroundWithProgressThenListedWithItsSizeKvBytesAndResidence() throws Exception {
        var accepted = upload("notes", List.of(Part.text("notes.txt", Needles.notes("falcon", "318274", 600))));
        assertThat(accepted.statusCode()).isEqualTo(202);
        assertThat(json(accepted).path("status").asString()).isIn("queued", "preparing");

        List<JsonNode> progress = new ArrayList<>();
        JsonNode ready = null;
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (ready == null && System.nanoTime() < end) {
            JsonNode c = json(get("/api/corpora/notes"));
            if (c.has("progress")) {
                progress.add(c.path("progress"));
            }
            ready = "ready".equals(c.path("status").asString()) ? c : null;
            Thread.sleep(5);
        }
        assertThat(ready).as("ready within two minutes").isNotNull();
        int tokens = ready.path("tokens").asInt();
        assertThat(tokens).isGreaterThan(2500);
        // the prefill was seen part way: the engine's per-chunk reports reach the listing
        assertThat(progress).anySatisfy(p -> {
            assertThat(p.path("stage").asString()).isEqualTo("prefilling");
            assertThat(p.path("doneTokens").asInt()).isPositive().isLessThan(tokens);
            assertThat(p.path("totalTokens").asInt()).isEqualTo(tokens);
            assertThat(p.path("percent").asDouble()).isBetween(0.0, 100.0);
        });
        assertThat(ready.path("residence").asString()).isEqualTo("host");
        assertThat(ready.path("kvBytes").asLong()).isEqualTo((tokens + 31) / 32 * 32 * KV_BYTES_PER_TOKEN);
        assertThat(ready.path("persistedBytes").asLong()).isGreaterThanOrEqualTo(tokens * KV_BYTES_PER_TOKEN);
        JsonNode doc = ready.path("documents").get(0);
        assertThat(doc.path("fileName").asString()).isEqualTo("notes.txt");
        assertThat(doc.path("mediaType").asString()).isEqualTo("text/plain");
        assertThat(doc.path("chars").asLong()).isEqualTo(Needles.notes("falcon", "318274", 600).length());

        // the pool holds the corpus's blocks, pinned
        assertThat(json(get("/api/info")).path("kvBlocksUsed").asLong()).isGreaterThanOrEqualTo((tokens + 31) / 32);
        assertThat(json(get("/api/corpora")).findValuesAsString("name")).contains("notes");
    }

    @Test
    void pdfMarkdownHtmlAndTextFilesAreReadIntoOneCorpusAndMoreFilesPrepareItAgain() throws Exception {
        var first = upload("mixed", List.of(
                new Part("manual.pdf", "application/pdf", Pdfs.of("The special code for lantern is 902113.")),
                new Part("guide.md", "text/markdown", "# Guide\n\nThe special code for copper is 557120.\n"
                        .getBytes(StandardCharsets.UTF_8)),
                new Part("page.html", "text/html", ("<html><head><title>Page</title><script>var x = 1;</script></head>"
                        + "<body><p>The special code for violin is 640981.</p></body></html>").getBytes(StandardCharsets.UTF_8))));
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        JsonNode ready = awaitReady("mixed", Duration.ofSeconds(60));
        assertThat(ready.path("documents").findValuesAsString("mediaType"))
                .containsExactly("application/pdf", "text/markdown", "text/html");
        assertThat(ready.path("documents").findValuesAsString("fileName"))
                .containsExactly("manual.pdf", "guide.md", "page.html");
        int before = ready.path("tokens").asInt();

        assertThat(upload("mixed", List.of(Part.text("more.txt", Needles.notes("harbor", "205618", 40))))
                .statusCode()).isEqualTo(202);
        JsonNode again = awaitReady("mixed", Duration.ofSeconds(60));
        assertThat(again.path("documents")).hasSize(4);
        assertThat(again.path("tokens").asInt()).isGreaterThan(before + 150);
    }

    @Test
    void deletingACorpusRemovesItsDocumentsFilesAndKv() throws Exception {
        upload("gone", List.of(Part.text("a.txt", Needles.notes("anchor", "111222", 30))));
        JsonNode ready = awaitReady("gone", Duration.ofSeconds(60));
        String id = ready.path("documents").get(0).path("id").asString();
        assertThat(Files.exists(dataDir().resolve("files").resolve(id))).isTrue();
        assertThat(corpora.exists("gone")).isTrue();

        assertThat(delete("/api/corpora/gone").statusCode()).isEqualTo(204);
        var missing = get("/api/corpora/gone");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).path("detail").asString()).contains("no corpus named 'gone'");
        assertThat(Files.exists(dataDir().resolve("files").resolve(id))).isFalse();
        assertThat(corpora.exists("gone")).isFalse();
        assertThat(corpora.statuses()).noneMatch(s -> s.name().equals("gone"));
        assertThat(delete("/api/corpora/gone").statusCode()).isEqualTo(404);
    }
}
