package dev.tokenselect.sample.corpus;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.ai.document.Document;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import dev.tokenselect.engine.prefix.CorpusProgress;
import dev.tokenselect.spring.ai.corpus.CorpusService;

/**
 * Makes corpora resident in the background, one at a time (a prefill takes every core), and keeps each one's
 * progress for the corpora page. Every change to the engine's corpora goes through its one worker thread, so a
 * registration and a removal of the same corpus never overlap.
 */
@Component
public class CorpusPreparer implements DisposableBean {

    private static final Logger LOG = LoggerFactory.getLogger(CorpusPreparer.class);

    /** What the worker is doing about a corpus. */
    public enum State { QUEUED, PREPARING, FAILED }

    /** A snapshot for the page: the state, the engine's last progress report, or the reason it failed. */
    public record Preparation(State state, CorpusProgress progress, String error, Instant since) {
    }

    private static final class Job {
        final String name;
        final boolean replace;
        final Instant since = Instant.now();
        volatile State state = State.QUEUED;
        volatile CorpusProgress progress;
        volatile String error;
        volatile boolean cancelled;
        /** documents changed while it ran: run once more when done */
        volatile boolean again;

        Job(String name, boolean replace) {
            this.name = name;
            this.replace = replace;
        }

        Preparation snapshot() {
            return new Preparation(state, progress, error, since);
        }
    }

    private final CorpusService corpora;
    private final CorpusRepository repository;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "corpus-preparer");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();

    public CorpusPreparer(CorpusService corpora, CorpusRepository repository) {
        this.corpora = corpora;
        this.repository = repository;
    }

    /**
     * Queues the corpus's registration with its current documents.
     *
     * @param replace its documents changed: a resident or catalogued version is removed first
     */
    public synchronized void prepare(String name, boolean replace) {
        Job existing = jobs.get(name);
        if (existing != null && existing.state == State.QUEUED) {
            return; // it reads the documents when it runs
        }
        if (existing != null && existing.state == State.PREPARING) {
            existing.again = true;
            return;
        }
        Job job = new Job(name, replace);
        jobs.put(name, job);
        worker.submit(() -> run(job));
    }

    public Optional<Preparation> preparation(String name) {
        Job job = jobs.get(name);
        return job == null ? Optional.empty() : Optional.of(job.snapshot());
    }

    /** Stops a queued or running registration and removes the corpus from the engine; waits for the worker. */
    public void remove(String name) {
        Job job;
        synchronized (this) {
            job = jobs.remove(name);
            if (job != null) {
                job.cancelled = true;
            }
        }
        Future<?> removal = worker.submit(() -> {
            corpora.unregister(name);
        });
        try {
            removal.get(5, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while removing corpus '" + name + "'", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("corpus '" + name + "' could not be removed from the engine: "
                    + e.getMessage(), e);
        }
    }

    private void run(Job job) {
        if (job.cancelled) {
            return;
        }
        job.state = State.PREPARING;
        try {
            List<Document> documents = repository.texts(job.name).stream()
                    .map(d -> new Document(d.id().toString(), d.text(), Map.of("title", d.fileName())))
                    .toList();
            if (documents.isEmpty()) {
                jobs.remove(job.name, job);
                return;
            }
            if (job.replace && corpora.exists(job.name)) {
                corpora.unregister(job.name);
            }
            var info = corpora.register(job.name, documents, progress -> {
                if (job.cancelled) { // ends the registration at its next chunk
                    throw new CancellationException("corpus '" + job.name + "' was removed");
                }
                job.progress = progress;
            });
            LOG.info("corpus {}: {} tokens ready ({} prefilled, {} restored)", job.name, info.tokens(),
                    info.prefilledTokens(), info.restoredTokens());
            finished(job);
        } catch (CancellationException e) {
            LOG.info("corpus {}: registration stopped, the corpus was removed", job.name);
        } catch (RuntimeException e) {
            LOG.warn("corpus {}: registration failed: {}", job.name, e.getMessage(), e);
            job.error = e.getMessage() == null ? e.toString() : e.getMessage();
            job.state = State.FAILED;
            if (job.again) {
                finished(job);
            }
        }
    }

    private synchronized void finished(Job job) {
        if (jobs.get(job.name) != job) {
            return;
        }
        jobs.remove(job.name);
        if (job.again && !job.cancelled) {
            prepare(job.name, true);
        }
    }

    @Override
    public void destroy() {
        jobs.values().forEach(j -> j.cancelled = true);
        worker.shutdownNow();
        try {
            worker.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
