package dev.tokenselect.sample.corpus;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The app's corpora and their documents in PostgreSQL (tables of the app's own Flyway migration). */
@Repository
public class CorpusRepository {

    /** A document as listed: no text. */
    public record DocumentSummary(UUID id, String fileName, String mediaType, long sizeBytes, long chars,
                                  Instant uploaded) {
    }

    /** A document with its text, to register. */
    public record DocumentText(UUID id, String fileName, String text) {
    }

    /** A new document. */
    public record NewDocument(UUID id, String fileName, String mediaType, long sizeBytes, String text) {
    }

    private final JdbcClient jdbc;

    public CorpusRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public List<String> names() {
        return jdbc.sql("select name from sample_corpus order by name").query(String.class).list();
    }

    public boolean exists(String name) {
        return jdbc.sql("select count(*) from sample_corpus where name = ?").param(name).query(Integer.class).single() > 0;
    }

    /** Adds the corpus if it is new, then the documents after its last one. */
    public void add(String corpus, List<NewDocument> documents) {
        jdbc.sql("insert into sample_corpus (name) values (?) on conflict (name) do nothing").param(corpus).update();
        // the row lock orders concurrent uploads into one corpus
        jdbc.sql("select name from sample_corpus where name = ? for update").param(corpus).query(String.class).single();
        int next = jdbc.sql("select coalesce(max(ordinal), -1) + 1 from sample_document where corpus_name = ?")
                .param(corpus).query(Integer.class).single();
        for (NewDocument d : documents) {
            jdbc.sql("insert into sample_document (id, corpus_name, ordinal, file_name, media_type, size_bytes, text) "
                            + "values (?, ?, ?, ?, ?, ?, ?)")
                    .params(d.id(), corpus, next++, d.fileName(), d.mediaType(), d.sizeBytes(), d.text()).update();
        }
    }

    public int documentCount(String corpus) {
        return jdbc.sql("select count(*) from sample_document where corpus_name = ?").param(corpus)
                .query(Integer.class).single();
    }

    public List<DocumentSummary> summaries(String corpus) {
        return jdbc.sql("select id, file_name, media_type, size_bytes, length(text) as chars, created_at "
                        + "from sample_document where corpus_name = ? order by ordinal")
                .param(corpus)
                .query((rs, i) -> new DocumentSummary(rs.getObject("id", UUID.class), rs.getString("file_name"),
                        rs.getString("media_type"), rs.getLong("size_bytes"), rs.getLong("chars"),
                        rs.getObject("created_at", OffsetDateTime.class).toInstant()))
                .list();
    }

    public List<DocumentText> texts(String corpus) {
        return jdbc.sql("select id, file_name, text from sample_document where corpus_name = ? order by ordinal")
                .param(corpus)
                .query((rs, i) -> new DocumentText(rs.getObject("id", UUID.class), rs.getString("file_name"),
                        rs.getString("text")))
                .list();
    }

    /** Removes the corpus and its documents; returns the removed documents' ids (their files go too). */
    public List<UUID> delete(String corpus) {
        List<UUID> ids = jdbc.sql("select id from sample_document where corpus_name = ?").param(corpus)
                .query(UUID.class).list();
        jdbc.sql("delete from sample_corpus where name = ?").param(corpus).update();
        return ids;
    }
}
