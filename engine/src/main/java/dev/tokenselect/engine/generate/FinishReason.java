package dev.tokenselect.engine.generate;

/** Why generation ended. */
public enum FinishReason {
    /** The model produced one of its end-of-sequence tokens. */
    EOS,
    /** The text reached a stop string (the stop string itself is not part of the output). */
    STOP_STRING,
    /** The token limit was reached. */
    LENGTH
}
