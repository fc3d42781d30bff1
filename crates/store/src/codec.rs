//! What both backends share between the trait and their SQL: checking an append, building
//! the rows it writes, and turning stored rows back into events.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::hash::{canonical_json, event_hash, HashedFields};
use crate::services::{Account, IdempotencyStart};
use crate::{ExpectedVersion, Metadata, NewEvent, Position, RecordedEvent, StoreError, Version};

/// The current time, truncated to the microsecond: what every backend can store exactly.
pub(crate) fn now() -> DateTime<Utc> {
    truncate_micros(Utc::now())
}

pub(crate) fn truncate_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// A count or position on its way into a signed SQL integer.
pub(crate) fn to_sql(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{what} {value} is too large")))
}

/// A signed SQL integer read back as a count or position.
pub(crate) fn from_sql(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative: {value}")))
}

/// Refuses appends that no stream state could accept.
pub(crate) fn validate_append(stream: &str, events: &[NewEvent]) -> Result<(), StoreError> {
    if stream.is_empty() {
        return Err(StoreError::Invalid("the stream id is empty".to_owned()));
    }
    if events.is_empty() {
        return Err(StoreError::Invalid(
            "an append needs at least one event".to_owned(),
        ));
    }
    if let Some(event) = events.iter().find(|e| e.event_type.is_empty()) {
        let id = event.event_id;
        return Err(StoreError::Invalid(format!("event {id} has an empty type")));
    }

    let mut seen = HashSet::with_capacity(events.len());
    for event in events {
        if !seen.insert(event.event_id) {
            return Err(StoreError::DuplicateEvent {
                event_id: event.event_id,
            });
        }
    }
    Ok(())
}

/// Fails unless a stream at `actual` satisfies `expected`.
pub(crate) fn check_expected(
    stream: &str,
    expected: ExpectedVersion,
    actual: Version,
) -> Result<(), StoreError> {
    let ok = match expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => actual == 0,
        ExpectedVersion::Exact(version) => actual == version,
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::WrongExpectedVersion {
            stream: stream.to_owned(),
            expected,
            actual,
        })
    }
}

/// An event ready to insert, with the exact data text its hash covers.
pub(crate) struct Prepared {
    pub event: RecordedEvent,
    pub data: String,
}

/// Where the stream stands when an append is decided.
pub(crate) struct StreamTip {
    pub version: Version,
    pub hash: Option<String>,
}

/// Gives `events` their versions after `tip`, their positions from `first_position` on, and
/// their hashes, chained to the stream's last hash.
pub(crate) fn prepare(
    stream: &str,
    tip: StreamTip,
    first_position: Position,
    metadata: &Metadata,
    recorded_at: DateTime<Utc>,
    events: Vec<NewEvent>,
) -> Vec<Prepared> {
    let mut prev_hash = tip.hash;
    let mut prepared = Vec::with_capacity(events.len());

    for (i, new) in events.into_iter().enumerate() {
        let data = canonical_json(&new.data);
        let mut event = RecordedEvent {
            event_id: new.event_id,
            stream_id: stream.to_owned(),
            version: tip.version + i as u64 + 1,
            position: first_position + i as u64,
            event_type: new.event_type,
            schema_version: new.schema_version,
            recorded_at,
            actor: metadata.actor.clone(),
            correlation_id: metadata.correlation_id,
            causation_id: metadata.causation_id,
            data: new.data,
            prev_hash: prev_hash.take(),
            hash: String::new(),
        };
        event.hash = event_hash(&HashedFields::of(&event, &data));
        prev_hash = Some(event.hash.clone());
        prepared.push(Prepared { event, data });
    }
    prepared
}

/// A stored event as its columns hold it, before checks.
pub(crate) struct StoredRow {
    pub position: i64,
    pub event_id: Uuid,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i64,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub data: String,
    pub prev_hash: Option<String>,
    pub hash: String,
}

impl StoredRow {
    /// The event, provided its numbers fit and its data text is the canonical JSON that was
    /// hashed. A data text edited without changing its meaning would still parse to the same
    /// value and verify, so it is refused here.
    pub(crate) fn into_event(self) -> Result<RecordedEvent, StoreError> {
        let position = from_sql(self.position, "an event position")?;
        let corrupt =
            |what: String| StoreError::Corrupt(format!("event at position {position}: {what}"));

        let data: serde_json::Value = serde_json::from_str(&self.data)
            .map_err(|e| corrupt(format!("data is not JSON ({e})")))?;
        if canonical_json(&data) != self.data {
            return Err(corrupt(
                "data is not in the canonical form it was hashed in".to_owned(),
            ));
        }
        let schema_version = u32::try_from(self.schema_version).map_err(|_| {
            corrupt(format!(
                "schema version {} out of range",
                self.schema_version
            ))
        })?;

        Ok(RecordedEvent {
            event_id: self.event_id,
            stream_id: self.stream_id,
            version: from_sql(self.version, "an event version")?,
            position,
            event_type: self.event_type,
            schema_version,
            recorded_at: self.recorded_at,
            actor: self.actor,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            data,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// A second record with the same id is the caller's mistake, not a database failure.
pub(crate) fn unique_as_invalid(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Invalid(format!("this {what} already exists"))
        }
        _ => StoreError::Database(error),
    }
}

/// A login already taken is its own error; any other failure is the database's.
pub(crate) fn unique_as_account_exists(error: sqlx::Error, login: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AccountExists {
            login: login.to_owned(),
        },
        _ => StoreError::Database(error),
    }
}

/// Refuses an account that the table would refuse anyway, with a message saying why.
pub(crate) fn validate_account(account: &Account) -> Result<(), StoreError> {
    let empty = if account.login.is_empty() {
        Some("login")
    } else if account.role.is_empty() {
        Some("role")
    } else if account.entity.as_deref() == Some("") {
        Some("entity")
    } else {
        None
    };
    match empty {
        Some(what) => Err(StoreError::Invalid(format!("an account's {what} is empty"))),
        None => Ok(()),
    }
}

/// Compares two hex hashes in time independent of where they differ.
pub(crate) fn same_hash(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What `idempotency_begin` reports about a key that was already there.
pub(crate) fn found_idempotency_key(
    request_hash: &str,
    stored_hash: &str,
    status: &str,
    response_status: Option<i64>,
    response_body: Option<String>,
) -> Result<IdempotencyStart, StoreError> {
    if stored_hash != request_hash {
        return Ok(IdempotencyStart::Mismatch);
    }
    match (status, response_status, response_body) {
        ("started", _, _) => Ok(IdempotencyStart::InProgress),
        ("completed", Some(status), Some(body)) => {
            let status = u16::try_from(status)
                .map_err(|_| StoreError::Corrupt(format!("response status {status}")))?;
            Ok(IdempotencyStart::Completed { status, body })
        }
        (status, _, _) => Err(StoreError::Corrupt(format!(
            "idempotency key in state {status}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_hash_compares_whole_strings() {
        assert!(same_hash("abc", "abc"));
        assert!(!same_hash("abc", "abd"));
        assert!(!same_hash("abc", "ab"));
        assert!(same_hash("", ""));
    }

    #[test]
    fn now_has_whole_microseconds() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn expected_versions() {
        use ExpectedVersion::*;
        assert!(check_expected("s", Any, 0).is_ok());
        assert!(check_expected("s", Any, 7).is_ok());
        assert!(check_expected("s", NoStream, 0).is_ok());
        assert!(check_expected("s", Exact(0), 0).is_ok());
        assert!(check_expected("s", Exact(3), 3).is_ok());
        for (expected, actual) in [(NoStream, 1), (Exact(0), 2), (Exact(3), 2), (Exact(3), 4)] {
            match check_expected("s", expected, actual) {
                Err(StoreError::WrongExpectedVersion {
                    actual: a,
                    expected: e,
                    ..
                }) => {
                    assert_eq!((a, e), (actual, expected));
                }
                other => panic!("{expected:?} at {actual}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_batch_repeating_an_event_id_is_refused() {
        let event = NewEvent {
            event_id: Uuid::new_v4(),
            event_type: "Noted".to_owned(),
            schema_version: 1,
            data: serde_json::json!({}),
        };
        let id = event.event_id;
        let refused = validate_append("s", &[event.clone(), event.clone()]);
        assert!(matches!(refused, Err(StoreError::DuplicateEvent { event_id }) if event_id == id));
        assert!(matches!(
            validate_append("s", &[]),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            validate_append("", &[event]),
            Err(StoreError::Invalid(_))
        ));
    }
}
