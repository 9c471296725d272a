package dev.tokenselect.engine.backend.cuda;

import java.util.Locale;

/**
 * How many candidates each block of TokenSelect's radix top-k takes ({@code ts_radix_hist},
 * {@code ts_radix_count}, {@code ts_radix_write}; blocks of 1024 threads):
 * {@code -Dtokenselect.cuda.selectChunk=auto} (the default) or N, a multiple of 1024 from 1024 to 65,536.
 * Measured on an H200 (a layer's top-k of 2,048 by vote): 1,024 per block is fastest up to 131K
 * candidates (0.018-0.020 ms against 0.031 with 8,192), 4,096 at 524K and 1M (0.025 and 0.031 ms), 1,024 the
 * slowest at 1M (0.073 ms): the chunk has to grow with the count, which {@link #auto} does.
 */
final class SelectChunk {

    static final String PROPERTY = "tokenselect.cuda.selectChunk";
    /** The setting's value for {@link #auto}: the kernels derive the chunk from the count they run on. */
    static final int AUTO = 0;
    static final int MAX = 65_536;
    /** {@link #auto} aims at this many blocks. */
    static final int AUTO_BLOCKS = 256;
    static final int AUTO_MAX = 8192;

    private SelectChunk() {
    }

    /**
     * About {@value #AUTO_BLOCKS} blocks of 1024 to {@value #AUTO_MAX} candidates, the smallest power of two
     * chunk that keeps to that many blocks (ts_device_select.cu ts_auto_chunk computes the same). For a
     * power-of-two capacity it gives at least as many blocks as for any count up to it, so a step captured
     * for the capacity covers the count it runs on.
     */
    static int auto(int count) {
        int per = (int) ((count + (long) AUTO_BLOCKS - 1) / AUTO_BLOCKS);
        int chunk = CudaKernels.MIN_SELECT_CHUNK;
        while (chunk < per && chunk < AUTO_MAX) {
            chunk <<= 1;
        }
        return chunk;
    }

    /** The chunk a setting gives for {@code count} candidates. */
    static int resolve(int setting, int count) {
        return setting == AUTO ? auto(count) : setting;
    }

    /** The setting, or an error that names it and what it takes. */
    static int check(int chunk) {
        if (chunk != AUTO && !valid(chunk)) {
            throw new IllegalArgumentException("TokenSelect top-k chunk " + chunk + ": " + what());
        }
        return chunk;
    }

    static int parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) {
            return AUTO;
        }
        try {
            int chunk = Integer.parseInt(v);
            if (valid(chunk)) {
                return chunk;
            }
        } catch (NumberFormatException e) {
            // refused below, as any other value
        }
        throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": " + what());
    }

    private static boolean valid(int chunk) {
        return chunk >= CudaKernels.MIN_SELECT_CHUNK && chunk <= MAX && chunk % CudaKernels.MIN_SELECT_CHUNK == 0;
    }

    private static String what() {
        return "use auto (the default) or a multiple of " + CudaKernels.MIN_SELECT_CHUNK + " from "
                + CudaKernels.MIN_SELECT_CHUNK + " to " + MAX + " (-D" + PROPERTY + ")";
    }

    static int fromSystemProperty() {
        String v = System.getProperty(PROPERTY);
        return v == null || v.isBlank() ? AUTO : parse(v);
    }

    /** How a setting reads in reports. */
    static String label(int setting) {
        return setting == AUTO ? "auto" : Integer.toString(setting);
    }
}
