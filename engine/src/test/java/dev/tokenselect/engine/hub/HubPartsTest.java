package dev.tokenselect.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

/** The small rules: repo ids, ETags, ranges, origins, how often progress is logged. */
class HubPartsTest {

    @Test
    void repoIdsAreValidatedAsTheHubValidatesThem() {
        for (String ok : List.of("gpt2", "Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.2-1B", "a_b/c.d")) {
            assertTrue(RepoId.problem(ok).isEmpty(), ok);
        }
        for (String bad : List.of("", "a/b/c", "/abs/path", "./model", "org/-name", "org/name.", "org--x/name",
                "org/na..me", "org/name.git", "org/na me", "x".repeat(97))) {
            assertFalse(RepoId.problem(bad).isEmpty(), bad);
        }
        assertEquals("models--Qwen--Qwen2.5-0.5B-Instruct", RepoId.parse("Qwen/Qwen2.5-0.5B-Instruct").cacheFolderName());
        assertEquals("models--gpt2", RepoId.parse("gpt2").cacheFolderName());
    }

    @Test
    void etagsLoseTheirQuotesAndWeakMarker() {
        assertEquals("abc", FileMetadata.normalize("\"abc\""));
        assertEquals("abc", FileMetadata.normalize("W/\"abc\""));
        assertEquals("abc", FileMetadata.normalize("abc"));
        assertNull(FileMetadata.normalize("\"\""));
        assertNull(FileMetadata.normalize(null));
    }

    @Test
    void contentRangeStart() {
        assertEquals(100, BlobDownload.rangeStart("bytes 100-199/200"));
        assertEquals(-1, BlobDownload.rangeStart("bytes */200"));
        assertEquals(-1, BlobDownload.rangeStart(null));
    }

    @Test
    void theTokenIsSentOnlyToTheEndpointsOrigin() {
        URI hub = URI.create("https://huggingface.co");
        assertTrue(HubHttp.sameOrigin(URI.create("https://huggingface.co/api/models/x"), hub));
        assertTrue(HubHttp.sameOrigin(URI.create("https://HuggingFace.co:443/x"), hub));
        assertFalse(HubHttp.sameOrigin(URI.create("https://cdn-lfs.huggingface.co/x"), hub));
        assertFalse(HubHttp.sameOrigin(URI.create("http://huggingface.co/x"), hub));
        assertFalse(HubHttp.sameOrigin(URI.create("https://huggingface.co:8443/x"), hub));
    }

    @Test
    void resolveUrlsQuoteTheRevisionWhole() {
        HubHttp http = new HubHttp(URI.create("https://hub.example/mirror"), null, HubClient.DEFAULT_TIMEOUT, HubClient.DEFAULT_TIMEOUT);
        RepoId repo = RepoId.parse("org/name");
        assertEquals("https://hub.example/mirror/org/name/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json",
                http.resolveUri(repo, "refs/pr/1", "sub dir/a+b.json").toString());
        assertEquals("https://hub.example/mirror/api/models/org/name/revision/main", http.repoInfoUri(repo, "main").toString());
    }

    @Test
    void progressIsLoggedAtMostEveryTwoSecondsAndTheListenerAtMostEveryQuarterSecond() {
        AtomicLong now = new AtomicLong(0);
        List<DownloadProgress> events = new ArrayList<>();
        List<String> logged = new ArrayList<>();
        Logger jul = Logger.getLogger(ProgressReporter.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(handler);
        try {
            ProgressReporter p = new ProgressReporter("org/name", "model.safetensors", 10_000_000, events::add, now::get);
            p.start(0);
            // 10 s of transfer, a chunk every 10 ms at 1 MB/s
            for (int i = 1; i <= 1000; i++) {
                now.addAndGet(10_000_000L);
                p.advance(i * 10_000L);
            }
            p.finish();
        } finally {
            jul.removeHandler(handler);
        }
        List<String> progressLines = logged.stream().filter(m -> m.contains("MB/s") && m.startsWith("model.safetensors:")).toList();
        assertEquals(5, progressLines.size(), logged.toString());
        assertEquals("model.safetensors: 2.0 MB of 10.0 MB (20%), 1.0 MB/s", progressLines.getFirst());
        assertTrue(logged.getLast().startsWith("Downloaded model.safetensors: 10.0 MB in 10.0 s (1.0 MB/s)"), logged.getLast());
        assertEquals(1 + 40 + 1, events.size(), "start, every 250 ms, done");
        assertTrue(events.getLast().done());
        assertEquals(1_000_000.0, events.getLast().bytesPerSecond(), 1e-6);
    }
}
