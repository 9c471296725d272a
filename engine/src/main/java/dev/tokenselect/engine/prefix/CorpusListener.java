package dev.tokenselect.engine.prefix;

/**
 * Hears a corpus registration's progress: a first event when it starts restoring or prefilling, one per prefill
 * chunk, then {@code PERSISTING} (with persistence) and {@code READY}. Called on the registering thread, so it
 * should return quickly; an exception it throws ends the registration.
 */
@FunctionalInterface
public interface CorpusListener {

    CorpusListener NONE = progress -> { };

    void onProgress(CorpusProgress progress);
}
