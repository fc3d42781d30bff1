//! The service's own short-lived records, kept in the same database as the events:
//! captchas, uploads waiting to be attached, access tokens and idempotency keys.
//! None of them is history; they may expire and be purged.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An uploaded file, stored by content hash, waiting to be attached or already attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub token: String,
    pub filename: String,
    pub size: u64,
    pub media_type: String,
    /// Hex SHA-256 of the content: the blob's name in the content store.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// A bearer token, stored by its hash only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Hex SHA-256 of the secret the holder presents.
    pub token_hash: String,
    /// What the token opens: `claim`, `account`.
    pub kind: String,
    /// The claim number or the account login.
    pub subject: String,
    pub expires_at: DateTime<Utc>,
}

/// What [`Services::idempotency_begin`] found for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// The key is new and now reserved for this request.
    Started,
    /// The same key and request already completed with this response.
    Completed { status: u16, body: String },
    /// The same key is being processed by another request right now.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

#[async_trait]
pub trait Services: Send + Sync {
    async fn captcha_insert(
        &self,
        id: &str,
        answer_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Uses the captcha up: true only once, and only if the answer matches before expiry.
    /// A wrong answer also uses it up.
    async fn captcha_consume(
        &self,
        id: &str,
        answer_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    async fn upload_insert(&self, upload: &Upload) -> Result<(), StoreError>;
    async fn upload_get(&self, token: &str) -> Result<Option<Upload>, StoreError>;

    async fn token_insert(&self, token: &Token) -> Result<(), StoreError>;
    /// The unexpired token with this hash.
    async fn token_get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Token>, StoreError>;

    /// Reserves `key` within `scope` for a request whose body hashes to `request_hash`.
    async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, StoreError>;
    /// Records the response of a started key.
    async fn idempotency_complete(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError>;
    /// Frees a started key whose request failed without effect, so it may be retried.
    async fn idempotency_abandon(&self, scope: &str, key: &str) -> Result<(), StoreError>;
}
