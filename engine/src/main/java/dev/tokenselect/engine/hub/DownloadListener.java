package dev.tokenselect.engine.hub;

/**
 * Receives download progress for a UI: a first event when a file starts, then at most every
 * {@value #INTERVAL_MILLIS} ms, and a last one with {@code done} set. Called on the downloading thread,
 * so it should return quickly.
 */
@FunctionalInterface
public interface DownloadListener {

    long INTERVAL_MILLIS = 250;

    DownloadListener NONE = progress -> { };

    void onProgress(DownloadProgress progress);
}
