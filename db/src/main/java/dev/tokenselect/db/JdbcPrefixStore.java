package dev.tokenselect.db;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;

import dev.tokenselect.engine.prefix.PrefixStore;

/**
 * The {@link PrefixStore} in PostgreSQL, plain JDBC over a {@link DataSource}; the schema comes from the
 * Flyway migrations in {@code db/tokenselect} ({@link #migrate}). Locks are session advisory locks, so
 * engines in other processes sharing the database wait on each other.
 */
public final class JdbcPrefixStore implements PrefixStore {

    private final DataSource dataSource;

    public JdbcPrefixStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Where the catalog's migrations live, and the table that records them. */
    public static final String MIGRATIONS = "classpath:db/tokenselect";
    public static final String HISTORY_TABLE = "tokenselect_schema_history";

    /**
     * Applies the catalog's migrations. They have their own location and history table, apart from Flyway's defaults
     * ({@code db/migration}, {@code flyway_schema_history}), so an application that migrates its own schema in the same
     * database with Flyway neither runs ours nor sees them as unknown.
     */
    public static void migrate(DataSource dataSource) {
        Flyway.configure().dataSource(dataSource).locations(MIGRATIONS).table(HISTORY_TABLE)
                .baselineOnMigrate(true).baselineVersion("0").load().migrate();
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T tx(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T t = work.run(c);
                c.commit();
                return t;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("catalog: " + e.getMessage(), e);
        }
    }

    private static Timestamp ts(Instant t) {
        return Timestamp.from(t == null ? Instant.now() : t);
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    @Override
    public void upsertModel(ModelRecord m) {
        tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO models (fingerprint, name, architecture, first_seen) "
                    + "VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING")) {
                ps.setString(1, m.fingerprint());
                ps.setString(2, m.name());
                ps.setString(3, m.architecture());
                ps.setTimestamp(4, ts(m.firstSeen()));
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public Optional<ModelRecord> model(String fingerprint) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT fingerprint, name, architecture, first_seen FROM models WHERE fingerprint = ?")) {
                ps.setString(1, fingerprint);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new ModelRecord(rs.getString(1), rs.getString(2), rs.getString(3),
                            instant(rs.getTimestamp(4)))) : Optional.<ModelRecord>empty();
                }
            }
        });
    }

    private static final String SEGMENT_COLUMNS = "segment_id, model_fingerprint, head_hash, chain_blocks, tokens, bytes, "
            + "file_name, pinned, created, last_used";

    private static SegmentRecord segment(ResultSet rs) throws SQLException {
        return new SegmentRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5), rs.getLong(6),
                rs.getString(7), rs.getBoolean(8), instant(rs.getTimestamp(9)), instant(rs.getTimestamp(10)));
    }

    private static List<SegmentRecord> segments(PreparedStatement ps) throws SQLException {
        List<SegmentRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(segment(rs));
            }
        }
        return out;
    }

    @Override
    public Optional<SegmentRecord> segment(String segmentId) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SEGMENT_COLUMNS + " FROM segments WHERE segment_id = ?")) {
                ps.setString(1, segmentId);
                return segments(ps).stream().findFirst();
            }
        });
    }

    @Override
    public Optional<SegmentRecord> longestByHead(String modelFingerprint, List<String> headHashes) {
        if (headHashes.isEmpty()) {
            return Optional.empty();
        }
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SEGMENT_COLUMNS + " FROM segments "
                    + "WHERE model_fingerprint = ? AND head_hash = ANY (?) ORDER BY chain_blocks DESC LIMIT 1")) {
                ps.setString(1, modelFingerprint);
                ps.setArray(2, c.createArrayOf("bpchar", headHashes.toArray()));
                return segments(ps).stream().findFirst();
            }
        });
    }

    @Override
    public boolean insertSegment(SegmentRecord s) {
        return tx(c -> {
            try (PreparedStatement m = c.prepareStatement("INSERT INTO models (fingerprint) VALUES (?) ON CONFLICT DO NOTHING")) {
                m.setString(1, s.modelFingerprint());
                m.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO segments (" + SEGMENT_COLUMNS + ") "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (segment_id) DO NOTHING")) {
                ps.setString(1, s.segmentId());
                ps.setString(2, s.modelFingerprint());
                ps.setString(3, s.headHash());
                ps.setInt(4, s.chainBlocks());
                ps.setInt(5, s.tokens());
                ps.setLong(6, s.bytes());
                ps.setString(7, s.fileName());
                ps.setBoolean(8, s.pinned());
                ps.setTimestamp(9, ts(s.created()));
                ps.setTimestamp(10, ts(s.lastUsed()));
                return ps.executeUpdate() == 1;
            }
        });
    }

    private void update(String sql, Object... args) {
        tx(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i] instanceof Instant t ? Timestamp.from(t) : args[i]);
                }
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public void deleteSegment(String segmentId) {
        update("DELETE FROM segments WHERE segment_id = ?", segmentId);
    }

    @Override
    public void touchSegment(String segmentId, Instant lastUsed) {
        update("UPDATE segments SET last_used = GREATEST(last_used, ?) WHERE segment_id = ?", lastUsed, segmentId);
    }

    @Override
    public void setPinned(String segmentId, boolean pinned) {
        update("UPDATE segments SET pinned = ? WHERE segment_id = ?", pinned, segmentId);
    }

    @Override
    public List<SegmentRecord> segments() {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + SEGMENT_COLUMNS + " FROM segments ORDER BY last_used")) {
                return segments(ps);
            }
        });
    }

    @Override
    public void putCorpus(CorpusRecord corpus) {
        tx(c -> {
            try (PreparedStatement m = c.prepareStatement("INSERT INTO models (fingerprint) VALUES (?) ON CONFLICT DO NOTHING")) {
                m.setString(1, corpus.modelFingerprint());
                m.executeUpdate();
            }
            long id;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO corpora (model_fingerprint, name, salt, attention_key, "
                    + "segment_id, token_count, tokens, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT (model_fingerprint, name) DO UPDATE SET salt = EXCLUDED.salt, "
                    + "attention_key = EXCLUDED.attention_key, segment_id = EXCLUDED.segment_id, "
                    + "token_count = EXCLUDED.token_count, tokens = EXCLUDED.tokens, created = EXCLUDED.created RETURNING id")) {
                ps.setString(1, corpus.modelFingerprint());
                ps.setString(2, corpus.name());
                ps.setString(3, corpus.salt());
                ps.setString(4, corpus.attentionKey());
                ps.setString(5, corpus.segmentId());
                ps.setInt(6, corpus.tokens().length);
                ps.setBytes(7, encode(corpus.tokens()));
                ps.setTimestamp(8, ts(corpus.created()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            try (PreparedStatement del = c.prepareStatement("DELETE FROM documents WHERE corpus_id = ?")) {
                del.setLong(1, id);
                del.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO documents (corpus_id, ordinal, title, sha256, chars) "
                    + "VALUES (?, ?, ?, ?, ?)")) {
                for (DocumentRecord d : corpus.documents()) {
                    ps.setLong(1, id);
                    ps.setInt(2, d.ordinal());
                    ps.setString(3, d.title());
                    ps.setString(4, d.sha256());
                    ps.setLong(5, d.chars());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return id;
        });
    }

    private static List<CorpusRecord> corpora(Connection c, String where, String... args) throws SQLException {
        List<CorpusRecord> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, model_fingerprint, name, salt, attention_key, segment_id, "
                + "tokens, created FROM corpora WHERE " + where + " ORDER BY name")) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    List<DocumentRecord> docs = new ArrayList<>();
                    try (PreparedStatement d = c.prepareStatement("SELECT ordinal, title, sha256, chars FROM documents "
                            + "WHERE corpus_id = ? ORDER BY ordinal")) {
                        d.setLong(1, rs.getLong(1));
                        try (ResultSet drs = d.executeQuery()) {
                            while (drs.next()) {
                                docs.add(new DocumentRecord(drs.getInt(1), drs.getString(2), drs.getString(3), drs.getLong(4)));
                            }
                        }
                    }
                    out.add(new CorpusRecord(rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getString(6), decode(rs.getBytes(7)), docs, instant(rs.getTimestamp(8))));
                }
            }
        }
        return out;
    }

    @Override
    public Optional<CorpusRecord> corpus(String modelFingerprint, String name) {
        return tx(c -> corpora(c, "model_fingerprint = ? AND name = ?", modelFingerprint, name).stream().findFirst());
    }

    @Override
    public List<CorpusRecord> corpora(String modelFingerprint) {
        return tx(c -> corpora(c, "model_fingerprint = ?", modelFingerprint));
    }

    @Override
    public boolean deleteCorpus(String modelFingerprint, String name) {
        return tx(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM corpora WHERE model_fingerprint = ? AND name = ?")) {
                ps.setString(1, modelFingerprint);
                ps.setString(2, name);
                return ps.executeUpdate() > 0;
            }
        });
    }

    @Override
    public Lock lock(String key) {
        long id = lockId(key);
        Connection c;
        try {
            c = dataSource.getConnection();
            c.setAutoCommit(true);
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_lock(?)")) {
                ps.setLong(1, id);
                ps.execute();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("catalog lock: " + e.getMessage(), e);
        }
        return () -> {
            try (c; PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                ps.setLong(1, id);
                ps.execute();
            } catch (SQLException e) {
                throw new IllegalStateException("catalog unlock: " + e.getMessage(), e);
            }
        };
    }

    static long lockId(String key) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(("tokenselect:" + key).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(h).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] encode(int[] tokens) {
        ByteBuffer b = ByteBuffer.allocate(tokens.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(tokens);
        return b.array();
    }

    static int[] decode(byte[] bytes) {
        int[] out = new int[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    @Override
    public void close() {
        // the DataSource belongs to the caller
    }
}
