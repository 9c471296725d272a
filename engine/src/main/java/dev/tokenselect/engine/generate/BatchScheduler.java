package dev.tokenselect.engine.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.tokenselect.engine.backend.Backend;
import dev.tokenselect.engine.backend.Sequence;
import dev.tokenselect.engine.select.AttentionSpec;
import dev.tokenselect.engine.tokenizer.Tokenizer;

/**
 * The engine's request queue: any number of threads submit generations; one worker runs them with
 * continuous batching. New requests are prefilled as they arrive; every decode step then advances
 * all running requests in one {@link Backend#decode} pass (each weight read once for the whole
 * batch), and a request leaves the batch the step it finishes. State never mixes between requests:
 * each has its own sequence, sampler and stop conditions.
 */
public final class BatchScheduler implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BatchScheduler.class.getName());

    private record Request(SequenceSource source, int[] prompt, SamplingParams params, TokenListener listener,
                           CompletableFuture<GenerationResult> result) {
    }

    private record Running(Request request, Sequence sequence, GenerationRun run) {
    }

    private final Generator generator;
    private final Backend backend;
    private final Tokenizer tokenizer;
    private final Set<Integer> eosIds;
    private final int maxBatch;
    private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;
    private volatile int largestBatch;

    /**
     * @param maxBatch most requests decoded together; more wait in the queue
     */
    public BatchScheduler(Backend backend, Tokenizer tokenizer, Set<Integer> eosIds, int prefillChunk, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("the batch must hold at least one request, was " + maxBatch);
        }
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.eosIds = Set.copyOf(eosIds);
        this.generator = new Generator(backend, tokenizer, eosIds, prefillChunk);
        this.maxBatch = maxBatch;
        this.worker = Thread.ofPlatform().name("tokenselect-scheduler").daemon().start(this::loop);
    }

    /** Queues a generation; the future completes with its result (or its error). Thread-safe. */
    public CompletableFuture<GenerationResult> submit(AttentionSpec attention, int[] prompt, SamplingParams params,
                                                      TokenListener listener) {
        return submit(() -> new SequenceSource.Prepared(backend.newSequence(attention), 0), prompt, params, listener);
    }

    /**
     * Queues a generation whose sequence comes from {@code source} (opened on the worker when the request is
     * admitted): only the prompt tokens after the ones it already holds are prefilled. The whole prompt still
     * counts for the penalties and the stats' prompt length.
     */
    public CompletableFuture<GenerationResult> submit(SequenceSource source, int[] prompt, SamplingParams params,
                                                      TokenListener listener) {
        CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new IllegalStateException("the scheduler is closed"));
            return result;
        }
        try {
            GenerationRun.validate(prompt, backend.config().vocabSize());
        } catch (IllegalArgumentException e) {
            result.completeExceptionally(e);
            return result;
        }
        queue.add(new Request(source, prompt.clone(), params, listener, result));
        return result;
    }

    /** The most requests one decode step has advanced so far. */
    public int largestBatch() {
        return largestBatch;
    }

    private void loop() {
        List<Running> running = new ArrayList<>();
        while (!closed || !running.isEmpty()) {
            try {
                admit(running);
                if (running.isEmpty()) {
                    continue;
                }
                step(running);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // A failed batch step fails the requests in it; the queue keeps going.
                LOG.log(System.Logger.Level.ERROR, "decode step failed", e);
                for (Running r : running) {
                    finish(r, null, e);
                }
                running.clear();
            }
        }
        for (Request r; (r = queue.poll()) != null; ) {
            r.result().completeExceptionally(new IllegalStateException("the scheduler is closed"));
        }
    }

    /** Takes queued requests while the batch has room (waiting only when nothing runs) and prefills them. */
    private void admit(List<Running> running) throws InterruptedException {
        while (running.size() < maxBatch && !closed) {
            Request r = running.isEmpty() ? queue.poll(100, TimeUnit.MILLISECONDS) : queue.poll();
            if (r == null) {
                return;
            }
            Sequence seq = null;
            try {
                long start = System.nanoTime();
                SequenceSource.Prepared prepared = r.source().open();
                seq = prepared.sequence();
                int cached = prepared.cachedTokens();
                if (cached < 0 || cached >= r.prompt().length) {
                    throw new IllegalStateException("a sequence source must leave at least one of the prompt's "
                            + r.prompt().length + " tokens to prefill, it holds " + cached);
                }
                GenerationRun run = new GenerationRun(r.prompt(), r.params(), eosIds, tokenizer, r.listener());
                float[] logits = generator.prefill(seq, Arrays.copyOfRange(r.prompt(), cached, r.prompt().length));
                run.prefilled(System.nanoTime() - start);
                Running admitted = new Running(r, seq, run);
                if (run.finished() || run.accept(logits)) {
                    finish(admitted, run.result(backend, seq), null);
                } else {
                    running.add(admitted);
                }
            } catch (RuntimeException | Error e) {
                if (seq != null) {
                    seq.close();
                }
                r.result().completeExceptionally(e);
            }
        }
    }

    /** One decode step of every running request. */
    private void step(List<Running> running) {
        List<Sequence> sequences = new ArrayList<>(running.size());
        int[] tokens = new int[running.size()];
        for (int i = 0; i < running.size(); i++) {
            sequences.add(running.get(i).sequence());
            tokens[i] = running.get(i).run().lastToken();
        }
        largestBatch = Math.max(largestBatch, running.size());
        DecodeStep step = DecodeStep.run(backend, sequences, tokens, running.stream().map(Running::run).toList());
        List<Running> still = new ArrayList<>(running.size());
        for (int i = 0; i < running.size(); i++) {
            Running r = running.get(i);
            try {
                boolean ended = step.accept(i, r.run());
                if (ended) {
                    finish(r, r.run().result(backend, r.sequence()), null);
                } else {
                    still.add(r);
                }
            } catch (RuntimeException e) { // a listener that throws ends its own request only
                finish(r, null, e);
            }
        }
        running.clear();
        running.addAll(still);
    }

    private static void finish(Running r, GenerationResult result, Throwable error) {
        if (error == null) {
            try {
                r.request().source().finished(r.sequence());
            } catch (RuntimeException e) { // publishing a prefix for later requests is not part of this answer
                LOG.log(System.Logger.Level.WARNING, "after a finished request", e);
            }
        }
        r.sequence().close();
        if (error != null) {
            r.request().result().completeExceptionally(error);
        } else {
            r.request().result().complete(result);
        }
    }

    /** Finishes the running requests, fails the queued ones and stops the worker. */
    @Override
    public void close() {
        closed = true; // the worker sees it within one poll interval or one decode step
        try {
            worker.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
