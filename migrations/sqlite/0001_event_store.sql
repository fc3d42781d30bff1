-- The event store's own schema on SQLite: the event log and its head counter, the
-- projections' documents and checkpoints, and the service's short-lived records.
--
-- Ids are stored as hyphenated lowercase UUID text. `recorded_at` is RFC 3339 text with six
-- fractional digits and `Z`, exactly as it is hashed. The service records' times are
-- INTEGER microseconds since the Unix epoch, so that comparisons with "now" are numeric.
-- Tables are STRICT: SQLite refuses a value of the wrong type instead of converting it.

-- The log's head: one row, incremented by every append inside its transaction.
CREATE TABLE event_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL CHECK (position >= 0)
) STRICT;
INSERT INTO event_head (id, position) VALUES (1, 0);

CREATE TABLE events (
    position       INTEGER PRIMARY KEY CHECK (position > 0),
    event_id       TEXT NOT NULL,
    stream_id      TEXT NOT NULL CHECK (stream_id <> ''),
    version        INTEGER NOT NULL CHECK (version > 0),
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL CHECK (schema_version >= 0),
    recorded_at    TEXT NOT NULL,
    actor          TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    causation_id   TEXT,
    -- The exact canonical JSON text that was hashed.
    data           TEXT NOT NULL,
    prev_hash      TEXT,
    hash           TEXT NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
) STRICT;

-- History is append-only. Whoever bypasses this (dropping the triggers) is then caught by
-- the hash chain.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: UPDATE refused');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable: DELETE refused');
END;

CREATE TABLE checkpoints (
    projection         TEXT NOT NULL,
    projection_version INTEGER NOT NULL,
    position           INTEGER NOT NULL CHECK (position >= 0),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (projection, projection_version)
) STRICT;

CREATE TABLE documents (
    projection         TEXT NOT NULL,
    projection_version INTEGER NOT NULL,
    collection         TEXT NOT NULL,
    doc_key            TEXT NOT NULL,
    partition_key      TEXT,
    sort_key           TEXT,
    body               TEXT NOT NULL,
    PRIMARY KEY (projection, projection_version, collection, doc_key)
) STRICT;

CREATE INDEX documents_listing
    ON documents (projection, projection_version, collection, partition_key, sort_key, doc_key);

CREATE TABLE captchas (
    id          TEXT PRIMARY KEY,
    answer_hash TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
) STRICT;

CREATE INDEX captchas_expiry ON captchas (expires_at);

CREATE TABLE uploads (
    token      TEXT PRIMARY KEY,
    filename   TEXT NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    media_type TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX uploads_created ON uploads (created_at);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX tokens_expiry ON tokens (expires_at);

CREATE TABLE idempotency_keys (
    scope           TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('started', 'completed')),
    response_status INTEGER,
    response_body   TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (scope, idem_key),
    CHECK ((status = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL))
) STRICT;
