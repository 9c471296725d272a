package dev.tokenselect.engine.backend.cpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of worker threads, created with the backend, and a parallel for over index ranges.
 * The calling thread works too, so {@code threads - 1} workers are started. Between jobs a worker
 * spins briefly (a decode step issues a few hundred short jobs back to back, and waking a parked
 * thread costs more than most of them), then parks, so an idle backend uses no CPU.
 *
 * <p>One job runs at a time; callers on other threads (other sequences) wait their turn.
 */
final class Parallel implements AutoCloseable {

    @FunctionalInterface
    interface RangeBody {
        void run(int lo, int hi);
    }

    /** How long an idle worker spins for the next job before parking. */
    private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock submit = new ReentrantLock();
    private volatile Job job;
    private volatile boolean shutdown;
    /** Per worker: parked (or about to park) waiting for a job. */
    private final AtomicInteger[] parked;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicInteger[threads - 1];
        int pool = POOLS.incrementAndGet();
        for (int i = 0; i < workers.length; i++) {
            int id = i;
            parked[i] = new AtomicInteger();
            workers[i] = Thread.ofPlatform().daemon().name("tokenselect-cpu-" + pool + "-" + (i + 1))
                    .start(() -> workLoop(id));
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} in chunks of {@code chunk} indices (the last may be
     * shorter) on all threads; returns when every chunk is done, rethrowing the first failure.
     */
    void forRange(int n, int chunk, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int chunks = (n + chunk - 1) / chunk;
        if (workers.length == 0 || chunks <= 1) {
            body.run(0, n);
            return;
        }
        submit.lock();
        try {
            if (shutdown) {
                throw new IllegalStateException("the CPU backend's threads are shut down");
            }
            Job j = new Job(body, n, chunk, chunks);
            job = j;
            for (int i = 0; i < workers.length; i++) {
                if (parked[i].get() != 0) {
                    LockSupport.unpark(workers[i]);
                }
            }
            j.work();
            while (j.done.get() < chunks) {
                Thread.onSpinWait();
            }
            j.rethrow();
        } finally {
            submit.unlock();
        }
    }

    /** A chunk size that gives each thread about {@code perThread} chunks, a multiple of {@code align}. */
    int chunkFor(int n, int perThread, int align, int minChunk) {
        int target = Math.max(1, threads * perThread);
        int c = Math.max(minChunk, (n + target - 1) / target);
        return (c + align - 1) / align * align;
    }

    private void workLoop(int id) {
        Job seen = null;
        long idleSince = System.nanoTime();
        while (!shutdown) {
            Job j = job;
            if (j != null && j != seen) {
                seen = j;
                j.work();
                idleSince = System.nanoTime();
                continue;
            }
            if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
                continue;
            }
            parked[id].set(1);
            if (job == seen && !shutdown) {
                LockSupport.park(this);
            }
            parked[id].set(0);
            idleSince = System.nanoTime();
        }
    }

    private static final class Job {
        final RangeBody body;
        final int n;
        final int chunk;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunk, int chunks) {
            this.body = body;
            this.n = n;
            this.chunk = chunk;
            this.chunks = chunks;
        }

        void work() {
            int i;
            while ((i = next.getAndIncrement()) < chunks) {
                try {
                    int lo = i * chunk;
                    body.run(lo, Math.min(n, lo + chunk));
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void rethrow() {
            Throwable t = failure;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    @Override
    public void close() {
        shutdown = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
