package dev.tokenselect.engine.select;

import java.util.Locale;

/**
 * TokenSelect's parameters (DESIGN.md, "TokenSelect"): {@code k} selected tokens, {@code nInit}
 * attention sinks, {@code nLocal} recent tokens, the selection-cache threshold {@code theta}
 * ({@code > 1} disables the cache) and the prefill chunk, never above {@code nLocal}.
 * {@code originalPositions} is DESIGN.md's extension (off by default): the selected entries keep the
 * positions of their tokens and the queries theirs, instead of compacted positions. {@code votePool}
 * (odd, 0 = off) is the official code's {@code KERNEL_SIZE}, off there by default too: each candidate's
 * vote becomes the largest vote within {@code votePool / 2} candidates of it before the top-k, so the
 * neighbours of a strongly voted token come along. {@code int8Keys} (off by default) scores the
 * candidates against int8 sketches of their keys instead of the keys ({@link KeySketch}): the scoring
 * pass then reads half the bytes of bf16 keys (where the CUDA backend's pool keeps the sketches).
 */
public record SelectionParams(int k, int nInit, int nLocal, double theta, int prefillChunk, boolean originalPositions,
                              int votePool, boolean int8Keys) {

    public SelectionParams(int k, int nInit, int nLocal, double theta, int prefillChunk) {
        this(k, nInit, nLocal, theta, prefillChunk, false, 0, false);
    }

    public SelectionParams(int k, int nInit, int nLocal, double theta, int prefillChunk, boolean originalPositions) {
        this(k, nInit, nLocal, theta, prefillChunk, originalPositions, 0, false);
    }

    public SelectionParams(int k, int nInit, int nLocal, double theta, int prefillChunk, boolean originalPositions,
                           int votePool) {
        this(k, nInit, nLocal, theta, prefillChunk, originalPositions, votePool, false);
    }

    public static final int DEFAULT_K = 2048;
    public static final int DEFAULT_N_INIT = 128;
    public static final int DEFAULT_N_LOCAL = 512;
    public static final double DEFAULT_THETA = 0.9;
    public static final int DEFAULT_PREFILL_CHUNK = 512;
    /** The widest vote pooling: the device reads a candidate's whole window for each candidate. */
    public static final int MAX_VOTE_POOL = 255;

    public SelectionParams {
        if (k < 0 || nInit < 0) {
            throw new IllegalArgumentException("k and n-init must be >= 0 (k=" + k + ", n-init=" + nInit + ")");
        }
        if (nLocal < 1) {
            throw new IllegalArgumentException("n-local must be >= 1, was " + nLocal);
        }
        if (prefillChunk < 1 || prefillChunk > nLocal) {
            throw new IllegalArgumentException("the prefill chunk (" + prefillChunk + ") must be between 1 and n-local ("
                    + nLocal + "): a chunk must lie inside the local window");
        }
        if (Double.isNaN(theta)) {
            throw new IllegalArgumentException("theta must be a number");
        }
        if (votePool < 0 || votePool > 0 && votePool % 2 == 0 || votePool > MAX_VOTE_POOL) {
            throw new IllegalArgumentException("pool (the vote's max-pooling width) must be 0 or odd, at most "
                    + MAX_VOTE_POOL + ", was " + votePool);
        }
    }

    public static SelectionParams defaults() {
        return new SelectionParams(DEFAULT_K, DEFAULT_N_INIT, DEFAULT_N_LOCAL, DEFAULT_THETA, DEFAULT_PREFILL_CHUNK);
    }

    /** Tokens attended at most: sinks, selected and local window. */
    public int budget() {
        return nInit + k + nLocal;
    }

    public boolean cacheEnabled() {
        return theta <= 1;
    }

    public SelectionParams withPrefillChunk(int chunk) {
        return new SelectionParams(k, nInit, nLocal, theta, chunk, originalPositions, votePool, int8Keys);
    }

    public SelectionParams withOriginalPositions(boolean on) {
        return new SelectionParams(k, nInit, nLocal, theta, prefillChunk, on, votePool, int8Keys);
    }

    /** The same with the selection cache's threshold at {@code t} (-1: every decode step after the first hits). */
    public SelectionParams withTheta(double t) {
        return new SelectionParams(k, nInit, nLocal, t, prefillChunk, originalPositions, votePool, int8Keys);
    }

    public SelectionParams withInt8Keys(boolean on) {
        return new SelectionParams(k, nInit, nLocal, theta, prefillChunk, originalPositions, votePool, on);
    }

    public SelectionParams withVotePool(int width) {
        return new SelectionParams(k, nInit, nLocal, theta, prefillChunk, originalPositions, width, int8Keys);
    }

    /**
     * Parses {@code k=N,n-init=N,n-local=N,theta=X} (any subset; the rest keep their defaults). The
     * prefill chunk defaults to {@code min(512, n-local)}.
     */
    public static SelectionParams parse(String spec, Integer prefillChunk) {
        int k = DEFAULT_K;
        int nInit = DEFAULT_N_INIT;
        int nLocal = DEFAULT_N_LOCAL;
        double theta = DEFAULT_THETA;
        boolean original = false;
        int pool = 0;
        boolean int8Keys = false;
        if (spec != null && !spec.isBlank()) {
            for (String part : spec.split(",")) {
                String[] kv = part.split("=", 2);
                if (kv.length != 2) {
                    throw new IllegalArgumentException("bad selection option '" + part
                            + "': expected key=value, e.g. k=2048,n-init=128,n-local=512,theta=0.9");
                }
                String key = kv[0].trim().toLowerCase(Locale.ROOT).replace('_', '-');
                String value = kv[1].trim();
                try {
                    switch (key) {
                        case "k" -> k = Integer.parseInt(value);
                        case "n-init" -> nInit = Integer.parseInt(value);
                        case "n-local" -> nLocal = Integer.parseInt(value);
                        case "theta" -> theta = Double.parseDouble(value);
                        case "pool" -> pool = Integer.parseInt(value);
                        case "keys" -> int8Keys = switch (value.toLowerCase(Locale.ROOT)) {
                            case "exact" -> false;
                            case "int8" -> true;
                            default -> throw new IllegalArgumentException("selection option keys is exact or int8,"
                                    + " got '" + value + "'");
                        };
                        case "positions" -> original = switch (value.toLowerCase(Locale.ROOT)) {
                            case "compacted" -> false;
                            case "original" -> true;
                            default -> throw new IllegalArgumentException("selection option positions is compacted or"
                                    + " original, got '" + value + "'");
                        };
                        default -> throw new IllegalArgumentException("unknown selection option '" + kv[0]
                                + "': use k, n-init, n-local, theta, positions, pool and keys");
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("selection option '" + kv[0] + "' needs a number, got '" + value + "'");
                }
            }
        }
        int chunk = prefillChunk != null ? prefillChunk : Math.min(DEFAULT_PREFILL_CHUNK, nLocal);
        return new SelectionParams(k, nInit, nLocal, theta, chunk, original, pool, int8Keys);
    }
}
