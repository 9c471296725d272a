package dev.tokenselect.engine.serve;

import java.util.List;

/**
 * A snapshot of a service for health reports.
 *
 * @param kvBlocksUsed     KV blocks in use (by sequences or the prefix cache); -1 where the backend does not say
 * @param kvBlocksTotal    KV blocks in the pool; -1 where the backend does not say
 * @param cachedBlocks     blocks mapped by the prefix cache
 * @param residentCorpora  corpora whose prefix is resident now
 * @param prefixCaching    whether this backend shares prefixes (and so holds corpora)
 */
public record ServiceStats(String backend, String device, String model, String architecture, long kvBlocksUsed,
                           long kvBlocksTotal, int blockSize, int cachedBlocks, List<String> residentCorpora,
                           boolean prefixCaching, long requests, long cachedPrefixTokens, long prefilledTokens) {

    /** Share of the KV pool in use, 0 to 1; -1 where unknown. */
    public double kvUse() {
        return kvBlocksTotal <= 0 ? -1 : (double) kvBlocksUsed / kvBlocksTotal;
    }
}
