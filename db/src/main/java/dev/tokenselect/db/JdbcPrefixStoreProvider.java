package dev.tokenselect.db;

import java.nio.file.Path;

import org.postgresql.ds.PGSimpleDataSource;

import dev.tokenselect.engine.prefix.PrefixStore;
import dev.tokenselect.engine.prefix.PrefixStoreProvider;

/** {@code jdbc:postgresql:...} URLs (user and password as URL parameters): migrates the schema and opens the store. */
public final class JdbcPrefixStoreProvider implements PrefixStoreProvider {

    @Override
    public boolean supports(String url) {
        return url != null && url.startsWith("jdbc:postgresql:");
    }

    @Override
    public PrefixStore open(String url, Path cacheDir) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        JdbcPrefixStore.migrate(ds);
        return new JdbcPrefixStore(ds);
    }
}
