package dev.tokenselect.engine.backend;

/** The KV pool cannot hold a sequence of the requested length; nothing was changed. */
public class KvCapacityException extends RuntimeException {

    public KvCapacityException(String message) {
        super(message);
    }
}
