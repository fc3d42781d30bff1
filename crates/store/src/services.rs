//! The service's own records, kept in the same database as the events: short-lived ones
//! (captchas, uploads waiting to be attached, access tokens, idempotency keys) and staff
//! accounts. None of them is history: the short-lived ones may expire and be purged, and an
//! account is a login's current role and password, not a record of what it did.
//!
//! Accounts are never deleted, only disabled, so a login named in the event history stays
//! an account; logins are unique ([`StoreError::AccountExists`]) and listed in byte order.

use std::fmt;

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

/// A member of staff who logs in: an agent of one handling entity, an auditor, an analyst or
/// an administrator.
///
/// The store keeps the role and entity as text; the API gives them their meaning and checks
/// that only an agent has an entity. `Debug` does not show the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub login: String,
    /// `agent`, `auditor`, `analyst` or `admin`.
    pub role: String,
    /// The code of an agent's handling entity; `None` for the other roles.
    pub entity: Option<String>,
    /// The password's argon2id PHC string; never the password itself.
    pub password_hash: String,
    /// A disabled account cannot log in, and its sessions no longer open anything.
    pub disabled: bool,
    /// Kept to the microsecond, like every time the store writes.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("entity", &self.entity)
            .field("password_hash", &"***")
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
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

    /// Deletes every token of `kind` for `subject`, expired or not: the sessions of a disabled
    /// account. Answers how many there were.
    async fn token_delete_subject(&self, kind: &str, subject: &str) -> Result<u64, StoreError>;

    /// Stores a new account. A login already taken is [`StoreError::AccountExists`], an empty
    /// login, role or entity is [`StoreError::Invalid`]; either way nothing is stored.
    async fn account_insert(&self, account: &Account) -> Result<(), StoreError>;
    /// The account with this exact login, disabled or not.
    async fn account_get(&self, login: &str) -> Result<Option<Account>, StoreError>;
    /// Every account, ordered by login byte for byte.
    async fn account_list(&self) -> Result<Vec<Account>, StoreError>;
    /// Disables or enables the account; false when there is no such login. Setting the state
    /// it already has is not an error.
    async fn account_set_disabled(&self, login: &str, disabled: bool) -> Result<bool, StoreError>;

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
