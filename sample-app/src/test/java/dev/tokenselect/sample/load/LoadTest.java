package dev.tokenselect.sample.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.tokenselect.engine.serve.InferenceService;
import dev.tokenselect.sample.AppTestBase;
import dev.tokenselect.sample.Multipart.Part;
import dev.tokenselect.sample.Needles;
import tools.jackson.databind.JsonNode;

/**
 * Concurrent streaming chats against the running app over loopback, for a bounded time: half through the chat page's
 * endpoint, half through the OpenAI-compatible one, all on one corpus. Every stream must complete without an error,
 * and once the load stops the KV pool and the heap must be back at their idle levels. Not part of the build: run with
 * {@code ./mvnw -o -pl sample-app -am test -Dtest=LoadTest -Dgroups=load -Dsurefire.excludedGroups=none
 * -Dsurefire.failIfNoSpecifiedTests=false} ({@code -Dload.clients=16 -Dload.seconds=120} are the defaults).
 */
@Tag("load")
class LoadTest extends AppTestBase {

    static final int CLIENTS = Integer.getInteger("load.clients", 16);
    static final int SECONDS = Integer.getInteger("load.seconds", 120);
    static final int WARMUP_SECONDS = Integer.getInteger("load.warmup-seconds", 15);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);

    @Autowired
    InferenceService service;

    /** One finished stream. */
    record Result(boolean complete, String error, double ttftMs, double totalMs, int completionTokens,
                  double decodeTokensPerSecond, boolean correct) {
    }

    @Test
    void sixteenConcurrentStreamingChatsForTwoMinutes() throws Exception {
        deleteAllCorpora();
        upload("load", List.of(Part.text("notes.txt", Needles.notes(Needles.KEY, Needles.CODE))));
        int corpusTokens = awaitReady("load", Duration.ofSeconds(120)).path("tokens").asInt();

        run(Duration.ofSeconds(WARMUP_SECONDS)); // JIT, connection pools, the corpus resident
        Idle idle = idle();

        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        AtomicLong peakHeap = new AtomicLong();
        AtomicLong peakBlocks = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            peakHeap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
            peakBlocks.accumulateAndGet(service.stats().kvBlocksUsed(), Math::max);
        }, 0, 200, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        List<Result> results;
        try {
            results = run(Duration.ofSeconds(SECONDS));
        } finally {
            sampler.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Idle after = idle();

        List<Result> failed = results.stream().filter(r -> !r.complete()).toList();
        List<Double> ttft = results.stream().map(Result::ttftMs).sorted().toList();
        long tokens = results.stream().mapToLong(Result::completionTokens).sum();
        double meanDecode = results.stream().mapToDouble(Result::decodeTokensPerSecond).average().orElse(0);
        long correct = results.stream().filter(Result::correct).count();
        String report = String.format(Locale.ROOT, """
                | figure | value |
                |---|---|
                | clients, duration | %d concurrent streams, %.0f s (after a %d s warm-up) |
                | corpus | %,d tokens, resident in CPU memory |
                | streams completed | %,d (%.2f per second), %d failed or incomplete |
                | answers with the needle's code | %,d of %,d |
                | answer tokens | %,d (%.1f per second over all streams) |
                | time to first token (client) | p50 %.0f ms, p95 %.0f ms, max %.0f ms |
                | decode speed of one stream | %.1f tokens/s (mean) |
                | KV blocks in use | idle %d, peak %d, after %d (of %d) |
                | heap | idle %.1f MiB after GC, peak %.1f MiB in use (sampled every 200 ms), after %.1f MiB after GC |
                """, CLIENTS, seconds, WARMUP_SECONDS, corpusTokens, results.size(), results.size() / seconds,
                failed.size(), correct, results.size(), tokens, tokens / seconds, percentile(ttft, 50),
                percentile(ttft, 95), ttft.isEmpty() ? 0 : ttft.get(ttft.size() - 1), meanDecode, idle.kvBlocks,
                peakBlocks.get(), after.kvBlocks, service.stats().kvBlocksTotal(), idle.heapBytes / 1048576.0,
                peakHeap.get() / 1048576.0, after.heapBytes / 1048576.0);
        System.out.println("LOAD " + Instant.now() + "\n" + report);
        Files.writeString(Path.of("target", "load-report.md"), report);

        assertThat(failed).as("failed or incomplete streams").isEmpty();
        assertThat(results.size()).isGreaterThan(CLIENTS);
        assertThat(after.kvBlocks).as("KV blocks back to idle").isEqualTo(idle.kvBlocks);
        assertThat(peakBlocks.get()).isGreaterThan(idle.kvBlocks); // the load did take blocks
        assertThat(after.heapBytes).as("heap back to idle").isLessThan(idle.heapBytes + 64L * 1024 * 1024);
        deleteAllCorpora();
    }

    record Idle(long kvBlocks, long heapBytes) {
    }

    /** The levels once nothing runs: the engine's pool, and the heap after a collection. */
    Idle idle() throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long blocks = service.stats().kvBlocksUsed();
        while (System.nanoTime() < end) { // a stream's sequence is released just after its last event
            Thread.sleep(200);
            long now = service.stats().kvBlocksUsed();
            if (now == blocks) {
                break;
            }
            blocks = now;
        }
        long heap = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(300);
            heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return new Idle(blocks, heap);
    }

    /** {@link #CLIENTS} threads asking one after another until the time is up; every request ends by itself. */
    List<Result> run(Duration duration) throws Exception {
        long deadline = System.nanoTime() + duration.toNanos();
        ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                boolean openAi = c % 2 == 1;
                running.add(clients.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        results.add(openAi ? openAiStream() : chatStream());
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get(duration.toSeconds() + REQUEST_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
            }
        } finally {
            clients.shutdownNow();
        }
        return new ArrayList<>(results);
    }

    Result chatStream() {
        long start = System.nanoTime();
        try {
            HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/api/chat"))
                    .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                    .header("Accept", "text/event-stream").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"corpus\": \"load\", \"message\": \"" + Needles.QUESTION + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                return failed("status " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
            }
            long first = 0;
            StringBuilder text = new StringBuilder();
            JsonNode stats = null;
            String event = null;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("event:")) {
                        event = line.substring(6).strip();
                    } else if (line.startsWith("data:")) {
                        JsonNode data = JSON.readTree(line.substring(5));
                        switch (event == null ? "" : event) {
                            case "delta" -> {
                                if (first == 0) {
                                    first = System.nanoTime();
                                }
                                text.append(data.path("text").asString());
                            }
                            case "stats" -> stats = data;
                            case "error" -> {
                                return failed("error event: " + data.path("message").asString());
                            }
                            default -> {
                                return failed("unknown event " + event);
                            }
                        }
                    }
                }
            }
            if (stats == null) {
                return failed("the stream ended without its stats event");
            }
            long end = System.nanoTime();
            return new Result(true, null, ((first == 0 ? end : first) - start) / 1e6, (end - start) / 1e6,
                    stats.path("completionTokens").asInt(), stats.path("tokensPerSecond").asDouble(),
                    text.toString().contains(Needles.CODE));
        } catch (Exception e) {
            return failed(e.toString());
        }
    }

    Result openAiStream() {
        long start = System.nanoTime();
        try {
            HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/v1/chat/completions"))
                    .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/json")
                    .header("Authorization", "Bearer " + API_KEY).POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\": \"corpus:load\", \"stream\": true, \"stream_options\": {\"include_usage\": true}, "
                                    + "\"messages\": [{\"role\": \"user\", \"content\": \"" + Needles.QUESTION + "\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                return failed("status " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
            }
            long first = 0;
            StringBuilder text = new StringBuilder();
            boolean done = false;
            String finish = null;
            int completion = 0;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.startsWith("data:")) {
                        continue;
                    }
                    String data = line.substring(5).strip();
                    if (data.equals("[DONE]")) {
                        done = true;
                        continue;
                    }
                    JsonNode chunk = JSON.readTree(data);
                    if (chunk.has("error")) {
                        return failed("error chunk: " + chunk.path("error").path("message").asString());
                    }
                    if (chunk.has("usage")) {
                        completion = chunk.path("usage").path("completion_tokens").asInt();
                    }
                    for (JsonNode choice : chunk.path("choices")) {
                        String delta = choice.path("delta").path("content").asString("");
                        if (!delta.isEmpty() && first == 0) {
                            first = System.nanoTime();
                        }
                        text.append(delta);
                        if (!choice.path("finish_reason").isNull() && choice.has("finish_reason")) {
                            finish = choice.path("finish_reason").asString();
                        }
                    }
                }
            }
            if (!done || finish == null) {
                return failed("the stream ended without " + (done ? "a finish reason" : "[DONE]"));
            }
            long end = System.nanoTime();
            double decodeSeconds = first == 0 ? 0 : (end - first) / 1e9;
            return new Result(true, null, ((first == 0 ? end : first) - start) / 1e6, (end - start) / 1e6, completion,
                    decodeSeconds > 0 && completion > 1 ? (completion - 1) / decodeSeconds : 0,
                    text.toString().contains(Needles.CODE));
        } catch (Exception e) {
            return failed(e.toString());
        }
    }

    static Result failed(String why) {
        return new Result(false, why, 0, 0, 0, 0, false);
    }

    static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
