package dev.tokenselect.engine.model;

import java.nio.file.Path;

/** A model directory that cannot be used as it is; the message names the file, the problem and the fix. */
public class ModelFormatException extends RuntimeException {

    private final Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
