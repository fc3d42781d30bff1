use uuid::Uuid;

use crate::{ExpectedVersion, Version};

/// What can go wrong in the store. Only [`StoreError::WrongExpectedVersion`] and
/// [`StoreError::CheckpointMoved`] are expected in normal operation: both mean "someone else
/// got there first" and are answered by re-deciding or refusing, never by a 500.
/// [`StoreError::DuplicateEvent`] is a conflict too (the event is already there), never a 500.
/// [`StoreError::AccountExists`] is the caller's to report (the login is taken), not a failure
/// of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream} is at version {actual}, expected {expected:?}")]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: Version,
    },
    /// An event with this id is already stored, or was given twice in one append; nothing
    /// was stored. A retried append whose first attempt did commit ends here.
    #[error("event {event_id} is already stored")]
    DuplicateEvent { event_id: Uuid },
    #[error("the checkpoint of projection {projection} moved")]
    CheckpointMoved { projection: String },
    /// An account with this login is already stored; nothing was stored. Its own variant, so
    /// that whoever creates accounts can say so instead of reporting a failure.
    #[error("an account with login {login} already exists")]
    AccountExists { login: String },
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration error")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
