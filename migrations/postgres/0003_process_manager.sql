-- The process manager's records: the outbox of emails and the durable timers.
--
-- Both are written by the process manager in the same transaction as its checkpoint (see
-- crates/store/src/process.rs), so each event queues its emails and sets its timers exactly
-- once. Times come from the service's clock, except `created_at`, the database's time of
-- queuing. Several instances share these tables: due rows are claimed with
-- `FOR UPDATE SKIP LOCKED` and a lease (see crates/store/src/postgres/process.rs).

-- One row per email to deliver. `id` is derived from the delivery key (event, template,
-- recipient), which is unique: a replayed event cannot queue the same email twice. `seq` is
-- the queue's order. A row is never deleted: a sent row is the record that it was sent.
CREATE TABLE outbox (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    event_id        UUID NOT NULL,
    template        TEXT NOT NULL CHECK (template <> ''),
    recipient       TEXT NOT NULL,
    stream_id       TEXT COLLATE "C" NOT NULL,
    position        BIGINT NOT NULL CHECK (position >= 0),
    language        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'parked')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- NULL: due at once.
    next_attempt_at TIMESTAMPTZ,
    -- Who holds the message for delivery, and until when.
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at         TIMESTAMPTZ,
    CONSTRAINT outbox_delivery_key UNIQUE (event_id, template, recipient)
);

CREATE INDEX outbox_queue ON outbox (status, seq);

-- At most one timer per stream and kind (`auto_close`, `reminder`). `position` is that of the
-- event that set it: a later event's timer replaces an earlier one, never the reverse, and a
-- cancellation removes only the timers set before it. `payload` is JSON for whoever fires it.
CREATE TABLE timers (
    stream_id      TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL CHECK (kind <> ''),
    due_at         TIMESTAMPTZ NOT NULL,
    cause_event_id UUID NOT NULL,
    correlation_id UUID NOT NULL,
    position       BIGINT NOT NULL CHECK (position >= 0),
    payload        TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_owner    TEXT,
    lease_until    TIMESTAMPTZ,
    PRIMARY KEY (stream_id, kind)
);

CREATE INDEX timers_due ON timers (due_at);
