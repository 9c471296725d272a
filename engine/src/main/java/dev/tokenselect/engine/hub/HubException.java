package dev.tokenselect.engine.hub;

/**
 * A model could not be resolved or downloaded: an unknown, gated or private repo, a revision that
 * does not exist, a corrupt download, offline mode without a cached snapshot. The message names the
 * repo, the file or the cache directory and says what to do.
 */
public class HubException extends RuntimeException {

    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
