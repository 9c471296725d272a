-- Catalog of the TokenSelect prefix cache: models, persisted KV segments (files in the cache directory),
-- registered corpora and their documents. See dev.tokenselect.engine.prefix.PrefixStore.

CREATE TABLE models (
    fingerprint   CHAR(64) PRIMARY KEY,           -- SHA-256 of config.json and tensor metadata/samples
    name          TEXT,
    architecture  TEXT,
    first_seen    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE segments (
    segment_id        CHAR(64) PRIMARY KEY,       -- SHA-256 over model, salt, attention, block size, tokens
    model_fingerprint CHAR(64) NOT NULL REFERENCES models (fingerprint) ON DELETE CASCADE,
    head_hash         CHAR(64),                   -- hash of the last publishable full block of the chain
    chain_blocks      INTEGER  NOT NULL CHECK (chain_blocks >= 0),
    tokens            INTEGER  NOT NULL CHECK (tokens > 0),
    bytes             BIGINT   NOT NULL CHECK (bytes >= 0),
    file_name         TEXT     NOT NULL,          -- relative to the cache directory
    pinned            BOOLEAN  NOT NULL DEFAULT FALSE,
    created           TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX segments_by_head ON segments (model_fingerprint, head_hash);
CREATE INDEX segments_by_last_use ON segments (pinned, last_used);

CREATE TABLE corpora (
    id                BIGSERIAL PRIMARY KEY,
    model_fingerprint CHAR(64) NOT NULL REFERENCES models (fingerprint) ON DELETE CASCADE,
    name              TEXT     NOT NULL,
    salt              TEXT     NOT NULL DEFAULT '',
    attention_key     TEXT     NOT NULL,
    segment_id        CHAR(64),                   -- no foreign key: a segment may be discarded and recomputed
    token_count       INTEGER  NOT NULL,
    tokens            BYTEA    NOT NULL,          -- int32 little-endian token ids of the corpus prefix
    created           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (model_fingerprint, name)
);

CREATE TABLE documents (
    corpus_id BIGINT  NOT NULL REFERENCES corpora (id) ON DELETE CASCADE,
    ordinal   INTEGER NOT NULL,
    title     TEXT,
    sha256    CHAR(64) NOT NULL,
    chars     BIGINT  NOT NULL,
    PRIMARY KEY (corpus_id, ordinal)
);
