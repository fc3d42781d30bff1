-- The event store's own schema on PostgreSQL: the event log and its head counter, the
-- projections' documents and checkpoints, and the service's short-lived records.
--
-- Text columns that are compared for order use COLLATE "C" so that PostgreSQL orders them
-- byte for byte, as SQLite does, whatever the server's default collation.

-- The log's head: one row, incremented by every append inside its transaction. Its row lock
-- serializes appenders until they commit, which is what makes positions gap-free and
-- committed in order (see crates/store/src/postgres/mod.rs).
CREATE TABLE event_head (
    id       SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL CHECK (position >= 0)
);
INSERT INTO event_head (id, position) VALUES (1, 0);

CREATE TABLE events (
    position       BIGINT PRIMARY KEY CHECK (position > 0),
    event_id       UUID NOT NULL,
    stream_id      TEXT COLLATE "C" NOT NULL CHECK (stream_id <> ''),
    version        BIGINT NOT NULL CHECK (version > 0),
    event_type     TEXT NOT NULL,
    schema_version BIGINT NOT NULL CHECK (schema_version >= 0),
    -- Microsecond precision, as every value the store writes.
    recorded_at    TIMESTAMPTZ NOT NULL,
    actor          TEXT NOT NULL,
    correlation_id UUID NOT NULL,
    causation_id   UUID,
    -- The exact canonical JSON text that was hashed: never re-encoded by the database.
    data           TEXT NOT NULL,
    prev_hash      TEXT,
    hash           TEXT NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

-- History is append-only. Whoever bypasses this (a superuser disabling the trigger) is then
-- caught by the hash chain.
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER events_immutable
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

CREATE TABLE checkpoints (
    projection         TEXT NOT NULL,
    projection_version BIGINT NOT NULL,
    position           BIGINT NOT NULL CHECK (position >= 0),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, projection_version)
);

CREATE TABLE documents (
    projection         TEXT NOT NULL,
    projection_version BIGINT NOT NULL,
    collection         TEXT COLLATE "C" NOT NULL,
    doc_key            TEXT COLLATE "C" NOT NULL,
    partition_key      TEXT COLLATE "C",
    sort_key           TEXT COLLATE "C",
    body               TEXT NOT NULL,
    PRIMARY KEY (projection, projection_version, collection, doc_key)
);

CREATE INDEX documents_listing
    ON documents (projection, projection_version, collection, partition_key, sort_key, doc_key);

CREATE TABLE captchas (
    id          TEXT PRIMARY KEY,
    answer_hash TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE INDEX captchas_expiry ON captchas (expires_at);

CREATE TABLE uploads (
    token      TEXT PRIMARY KEY,
    filename   TEXT NOT NULL,
    size       BIGINT NOT NULL CHECK (size >= 0),
    media_type TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX uploads_created ON uploads (created_at);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX tokens_expiry ON tokens (expires_at);

CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('started', 'completed')),
    response_status INTEGER,
    response_body   TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, idem_key),
    CHECK ((status = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL))
);
