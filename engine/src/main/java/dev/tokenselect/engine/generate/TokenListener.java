package dev.tokenselect.engine.generate;

/** Receives a generation as it happens. Text deltas never split a character or a stop string. */
@FunctionalInterface
public interface TokenListener {

    TokenListener NONE = delta -> { };

    void onText(String delta);

    /** Each sampled id, before its text (which may still be incomplete) is known. */
    default void onToken(int id) {
    }
}
