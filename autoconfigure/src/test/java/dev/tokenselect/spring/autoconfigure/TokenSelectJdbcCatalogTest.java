package dev.tokenselect.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.document.Document;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.tokenselect.db.JdbcPrefixStore;
import dev.tokenselect.engine.prefix.CorpusManager.CorpusInfo;
import dev.tokenselect.engine.prefix.PrefixStore;
import dev.tokenselect.spring.ai.corpus.CorpusService;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/** With a DataSource (a real embedded PostgreSQL) the catalog's migrations run and corpora are catalogued there. */
class TokenSelectJdbcCatalogTest {

    static EmbeddedPostgres pg;

    @TempDir
    Path cache;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stop() throws Exception {
        pg.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(TokenSelectAutoConfigurationTest.ALL)
                .withBean(DataSource.class, () -> pg.getPostgresDatabase())
                .withPropertyValues("spring.ai.tokenselect.model=" + TokenSelectAutoConfigurationTest.MODEL,
                        "spring.ai.tokenselect.backend=cpu", "spring.ai.tokenselect.threads=2",
                        "spring.ai.tokenselect.kv-capacity-tokens=8192", "spring.ai.tokenselect.cache-dir=" + cache);
    }

    @Test
    void theApplicationsOwnFlywayMigrationsAndTheCatalogsLiveSideBySide() throws Exception {
        DataSource app = pg.getDatabase("postgres", "postgres");
        try (Connection c = app.getConnection()) {
            c.createStatement().execute("CREATE DATABASE side_by_side");
        }
        DataSource ds = pg.getDatabase("postgres", "side_by_side");
        org.flywaydb.core.Flyway appFlyway = org.flywaydb.core.Flyway.configure().dataSource(ds).load();
        appFlyway.migrate(); // the application's V1, at Flyway's default location
        new ApplicationContextRunner().withConfiguration(TokenSelectAutoConfigurationTest.ALL)
                .withBean(DataSource.class, () -> ds)
                .withPropertyValues("spring.ai.tokenselect.model=" + TokenSelectAutoConfigurationTest.MODEL,
                        "spring.ai.tokenselect.backend=cpu", "spring.ai.tokenselect.kv-capacity-tokens=4096",
                        "spring.ai.tokenselect.cache-dir=" + cache)
                .run(ctx -> assertThat(ctx.getBean(PrefixStore.class)).isInstanceOf(JdbcPrefixStore.class));
        // the application's Flyway still validates (it sees none of ours), and ours recorded its own
        assertThat(appFlyway.migrate().migrationsExecuted).isZero();
        appFlyway.validate();
        try (Connection c = ds.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM " + JdbcPrefixStore.HISTORY_TABLE
                     + " WHERE version = '1' AND success")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
        try (Connection c = ds.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM app_notes, corpora")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero(); // both schemas are there
        }
    }

    @Test
    void springBootsFlywayMigratesTheApplicationFirstThenTheCatalogFollows() throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection()) {
            c.createStatement().execute("CREATE DATABASE boot_flyway");
        }
        DataSource ds = pg.getDatabase("postgres", "boot_flyway");
        // the catalog would otherwise leave tables in the schema, and the application's Flyway refuses a non-empty
        // schema without a history table
        new ApplicationContextRunner()
                .withConfiguration(TokenSelectAutoConfigurationTest.ALL)
                .withConfiguration(org.springframework.boot.autoconfigure.AutoConfigurations.of(
                        org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration.class))
                .withBean(DataSource.class, () -> ds)
                .withPropertyValues("spring.ai.tokenselect.model=" + TokenSelectAutoConfigurationTest.MODEL,
                        "spring.ai.tokenselect.backend=cpu", "spring.ai.tokenselect.kv-capacity-tokens=4096",
                        "spring.ai.tokenselect.cache-dir=" + cache)
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    assertThat(ctx.getBean(PrefixStore.class)).isInstanceOf(JdbcPrefixStore.class);
                });
        try (Connection c = ds.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT (SELECT count(*) FROM flyway_schema_history "
                     + "WHERE version = '1' AND success), (SELECT count(*) FROM " + JdbcPrefixStore.HISTORY_TABLE
                     + " WHERE version = '1' AND success), (SELECT count(*) FROM app_notes, corpora)")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the application's V1").isEqualTo(1);
            assertThat(rs.getInt(2)).as("the catalog's V1").isEqualTo(1);
            assertThat(rs.getInt(3)).isZero();
        }
    }

    @Test
    void theDataSourceHoldsTheCatalogAndASecondContextRestoresTheCorpus() throws Exception {
        List<Document> docs = List.of(new Document("The special code for Ada is 318274.", java.util.Map.of("file_name", "a.txt")));
        runner().run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(PrefixStore.class)).isInstanceOf(JdbcPrefixStore.class);
            CorpusInfo info = ctx.getBean(CorpusService.class).register("handbook", docs);
            assertThat(info.prefilledTokens()).isPositive();
        });
        try (Connection c = pg.getPostgresDatabase().getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT c.name, d.title, c.token_count FROM corpora c "
                     + "JOIN documents d ON d.corpus_id = c.id")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("handbook");
            assertThat(rs.getString(2)).isEqualTo("a.txt");
            assertThat(rs.getInt(3)).isPositive();
        }
        runner().run(ctx -> {
            CorpusService corpora = ctx.getBean(CorpusService.class);
            assertThat(corpora.list()).contains("handbook");
            CorpusInfo again = corpora.register("handbook", docs);
            assertThat(again.restoredTokens()).isEqualTo(again.tokens());
            assertThat(again.prefilledTokens()).isZero();
        });
    }
}
