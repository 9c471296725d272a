package dev.tokenselect.engine.prefix;

import java.io.IOException;

/** A segment file that cannot be trusted: bad magic, version, header checksum, length or block checksum. */
public final class SegmentFormatException extends IOException {
    public SegmentFormatException(String message) {
        super(message);
    }
}
