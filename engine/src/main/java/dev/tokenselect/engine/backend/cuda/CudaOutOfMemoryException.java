package dev.tokenselect.engine.backend.cuda;

import java.util.Locale;

/** A device allocation failed: what was asked for, and what the device had free of its total. */
public final class CudaOutOfMemoryException extends CudaUnavailableException {

    private final long requested;
    private final long free;
    private final long total;

    public CudaOutOfMemoryException(String what, long requested, long free, long total, Throwable cause) {
        super(String.format(Locale.ROOT, "CUDA out of memory allocating %s: %,d bytes requested, %,d bytes free of %,d"
                        + " total on the device; use a smaller model, a smaller KV capacity (--kv-tokens) or"
                        + " memory fraction, or --backend cpu", what, requested, free, total), cause);
        this.requested = requested;
        this.free = free;
        this.total = total;
    }

    public long requested() {
        return requested;
    }

    public long free() {
        return free;
    }

    public long total() {
        return total;
    }
}
