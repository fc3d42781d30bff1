-- The process manager's records: the outbox of emails and the durable timers.
--
-- Both are written by the process manager in the same transaction as its checkpoint (see
-- crates/store/src/process.rs), so each event queues its emails and sets its timers exactly
-- once. Times are INTEGER microseconds since the Unix epoch, given by the service's clock,
-- except `created_at`, the database's time of queuing.

-- One row per email to deliver. `id` is derived from the delivery key (event, template,
-- recipient), which is unique: a replayed event cannot queue the same email twice. `seq` is
-- the queue's order. A row is never deleted: a sent row is the record that it was sent.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    event_id        TEXT NOT NULL,
    template        TEXT NOT NULL CHECK (template <> ''),
    recipient       TEXT NOT NULL,
    stream_id       TEXT NOT NULL,
    position        INTEGER NOT NULL CHECK (position >= 0),
    language        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'parked')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- NULL: due at once.
    next_attempt_at INTEGER,
    -- Who holds the message for delivery, and until when.
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    CONSTRAINT outbox_delivery_key UNIQUE (event_id, template, recipient)
) STRICT;

CREATE INDEX outbox_queue ON outbox (status, seq);

-- At most one timer per stream and kind (`auto_close`, `reminder`). `position` is that of the
-- event that set it: a later event's timer replaces an earlier one, never the reverse, and a
-- cancellation removes only the timers set before it. `payload` is JSON for whoever fires it.
CREATE TABLE timers (
    stream_id      TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind <> ''),
    due_at         INTEGER NOT NULL,
    cause_event_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    position       INTEGER NOT NULL CHECK (position >= 0),
    payload        TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_owner    TEXT,
    lease_until    INTEGER,
    PRIMARY KEY (stream_id, kind)
) STRICT;

CREATE INDEX timers_due ON timers (due_at);
