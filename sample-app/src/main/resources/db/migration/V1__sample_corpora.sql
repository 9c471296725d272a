-- The sample app's corpora and the documents uploaded into them. The engine's own catalog (persisted KV segments,
-- corpora as token prefixes) lives beside these tables under its own migration history.
create table sample_corpus (
    name       varchar(64) primary key,
    created_at timestamptz not null default now()
);

create table sample_document (
    id          uuid primary key,
    corpus_name varchar(64)  not null references sample_corpus (name) on delete cascade,
    ordinal     int          not null,
    file_name   varchar(255) not null,
    media_type  varchar(100) not null,
    size_bytes  bigint       not null,
    text        text         not null,
    created_at  timestamptz  not null default now(),
    unique (corpus_name, ordinal)
);
