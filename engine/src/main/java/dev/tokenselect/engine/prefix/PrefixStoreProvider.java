package dev.tokenselect.engine.prefix;

import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * Opens a {@link PrefixStore} for a catalog URL (e.g. {@code jdbc:postgresql://...}); found with
 * {@link ServiceLoader}, so the engine's CLI can use the PostgreSQL catalog when the {@code tokenselect-db}
 * jar is on the class path.
 */
public interface PrefixStoreProvider {

    boolean supports(String url);

    /** @param cacheDir the directory of the segment files, for providers that want to know it */
    PrefixStore open(String url, Path cacheDir);

    /** The first provider that supports {@code url}. */
    static PrefixStore forUrl(String url, Path cacheDir) {
        for (PrefixStoreProvider p : ServiceLoader.load(PrefixStoreProvider.class)) {
            if (p.supports(url)) {
                return p.open(url, cacheDir);
            }
        }
        throw new IllegalArgumentException("no catalog implementation for '" + url
                + "' on the class path; add the tokenselect-db jar for jdbc:postgresql URLs");
    }
}
