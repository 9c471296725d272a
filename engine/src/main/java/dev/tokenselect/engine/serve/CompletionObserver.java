package dev.tokenselect.engine.serve;

/** Told of every finished request (metrics); runs on the service's worker, so it must be quick and must not block. */
@FunctionalInterface
public interface CompletionObserver {

    void onCompletion(Completion completion);
}
