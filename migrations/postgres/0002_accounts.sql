-- Staff accounts: agents of a handling entity, auditors, analysts and administrators.
--
-- Accounts are created from the command line and are disabled, never deleted, so that every
-- login named as an actor in the event history stays an account. `password_hash` is an
-- argon2id PHC string: the password itself is never stored. What a role means, and that only
-- an agent has an entity, is the API's business; the table only keeps them. Logins are listed
-- in COLLATE "C" order, byte for byte, as on SQLite.
CREATE TABLE accounts (
    login         TEXT COLLATE "C" PRIMARY KEY CHECK (login <> ''),
    role          TEXT NOT NULL CHECK (role <> ''),
    entity        TEXT CHECK (entity <> ''),
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Revoking an account's sessions finds its tokens by subject.
CREATE INDEX tokens_subject ON tokens (kind, subject);
