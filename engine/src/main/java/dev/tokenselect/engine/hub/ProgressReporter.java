package dev.tokenselect.engine.hub;

import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Reports one file's download: to the log at most every {@link #LOG_INTERVAL_NANOS} (a multi-GB
 * shard takes minutes), to the listener at most every {@link DownloadListener#INTERVAL_MILLIS}.
 */
final class ProgressReporter {

    private static final System.Logger LOG = System.getLogger(ProgressReporter.class.getName());
    static final long LOG_INTERVAL_NANOS = 2_000_000_000L;
    private static final long LISTENER_INTERVAL_NANOS = DownloadListener.INTERVAL_MILLIS * 1_000_000L;

    private final String repoId;
    private final String file;
    private final long total;
    private final DownloadListener listener;
    private final LongSupplier clock;

    private long startNanos;
    private long startBytes;
    private long bytes;
    private long lastLogNanos;
    private long lastLogBytes;
    private long lastListenerNanos;
    private double rate;

    ProgressReporter(String repoId, String file, long total, DownloadListener listener, LongSupplier clock) {
        this.repoId = repoId;
        this.file = file;
        this.total = total;
        this.listener = listener;
        this.clock = clock;
    }

    /** A transfer begins with {@code have} bytes already on disk (0, or a resumed partial file). */
    void start(long have) {
        long now = clock.getAsLong();
        startNanos = now;
        lastLogNanos = now;
        lastListenerNanos = now;
        startBytes = have;
        bytes = have;
        lastLogBytes = have;
        LOG.log(System.Logger.Level.INFO, () -> have > 0
                ? String.format(Locale.ROOT, "Resuming %s from %s at %s of %s", file, repoId, mb(have), size())
                : String.format(Locale.ROOT, "Downloading %s (%s) from %s", file, size(), repoId));
        notifyListener(false);
    }

    void advance(long bytesOnDisk) {
        bytes = bytesOnDisk;
        long now = clock.getAsLong();
        if (now - lastLogNanos >= LOG_INTERVAL_NANOS) {
            rate = (bytes - lastLogBytes) * 1e9 / (now - lastLogNanos);
            lastLogNanos = now;
            lastLogBytes = bytes;
            LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT, "%s: %s of %s%s, %.1f MB/s",
                    file, mb(bytes), size(), total > 0 ? String.format(Locale.ROOT, " (%.0f%%)", 100.0 * bytes / total) : "",
                    rate / 1e6));
        }
        if (now - lastListenerNanos >= LISTENER_INTERVAL_NANOS) {
            if (now > startNanos) {
                rate = (bytes - startBytes) * 1e9 / (now - startNanos);
            }
            lastListenerNanos = now;
            notifyListener(false);
        }
    }

    void finish() {
        long nanos = Math.max(1, clock.getAsLong() - startNanos);
        rate = (bytes - startBytes) * 1e9 / nanos;
        LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT, "Downloaded %s: %s in %.1f s (%.1f MB/s)",
                file, mb(bytes - startBytes), nanos / 1e9, rate / 1e6));
        notifyListener(true);
    }

    private void notifyListener(boolean done) {
        listener.onProgress(new DownloadProgress(repoId, file, bytes, total, rate, done));
    }

    private String size() {
        return total >= 0 ? mb(total) : "unknown size";
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
