-- Staff accounts: agents of a handling entity, auditors, analysts and administrators.
--
-- Accounts are created from the command line and are disabled, never deleted, so that every
-- login named as an actor in the event history stays an account. `password_hash` is an
-- argon2id PHC string: the password itself is never stored. Times are INTEGER microseconds
-- since the Unix epoch, as for the other service records. What a role means, and that only
-- an agent has an entity, is the API's business; the table only keeps them.
CREATE TABLE accounts (
    login         TEXT PRIMARY KEY CHECK (login <> ''),
    role          TEXT NOT NULL CHECK (role <> ''),
    entity        TEXT CHECK (entity <> ''),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Revoking an account's sessions finds its tokens by subject.
CREATE INDEX tokens_subject ON tokens (kind, subject);
