package dev.tokenselect.engine.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device buffer of 4-byte words that is reallocated, half again as large as asked, when a request
 * does not fit; its contents are not kept across a reallocation.
 */
final class GrowingBuffer {

    private final CudaDevice dev;
    private final String what;
    private CUdeviceptr ptr;
    private long words;

    GrowingBuffer(CudaDevice dev, String what) {
        this.dev = dev;
        this.what = what;
    }

    /** Words the buffer holds now (0 before the first request). */
    long words() {
        return words;
    }

    /** The buffer, at least {@code need} words long. */
    CUdeviceptr ensure(long need) {
        if (need > words) {
            dev.free(ptr);
            ptr = null;
            long cap = Math.max(need, words * 3 / 2);
            words = 0;
            ptr = dev.alloc(4L * cap, what); // on failure the buffer stays empty
            words = cap;
        }
        return ptr;
    }
}
