//! The hash chain that makes an alteration of stored history detectable.
//!
//! Every event's `hash` is the lowercase hex SHA-256 of its *canonical bytes*: these twelve
//! fields in this order, each written as its length in bytes (a big-endian `u64`) followed by
//! its UTF-8 bytes:
//!
//! | # | field | text |
//! | --- | --- | --- |
//! | 1 | `prev_hash` | the stream's previous event's `hash`; empty for version 1 |
//! | 2 | `event_id` | hyphenated lowercase UUID |
//! | 3 | `stream_id` | as given |
//! | 4 | `version` | decimal |
//! | 5 | `position` | decimal |
//! | 6 | `event_type` | as given |
//! | 7 | `schema_version` | decimal |
//! | 8 | `recorded_at` | RFC 3339, UTC, 6 fractional digits, `Z`: `2025-01-31T09:05:00.000042Z` |
//! | 9 | `actor` | as given |
//! | 10 | `correlation_id` | hyphenated lowercase UUID |
//! | 11 | `causation_id` | hyphenated lowercase UUID; empty when absent |
//! | 12 | `data` | the stored JSON text, [`canonical_json`] of the event's data |
//!
//! Because each event names its predecessor's hash, changing, inserting or deleting an event
//! in the middle of a stream breaks the chain from that point on; [`verify_chain`] finds the
//! first break. Deleting the *last* events of a stream leaves a shorter chain that verifies:
//! that is caught instead by the global order, whose positions are gap-free.
//!
//! The data is hashed as the exact text the store keeps: compact JSON with object keys sorted
//! by their UTF-8 bytes, whatever features `serde_json` was built with. The stores refuse to
//! read back a data text that is not in that form ([`crate::StoreError::Corrupt`]), so an
//! edit that keeps the JSON's meaning (spacing, key order) is reported too.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Position, RecordedEvent, Version};

/// The fields of an event that its hash covers.
#[derive(Debug, Clone, Copy)]
pub struct HashedFields<'a> {
    pub prev_hash: Option<&'a str>,
    pub event_id: Uuid,
    pub stream_id: &'a str,
    pub version: Version,
    pub position: Position,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub actor: &'a str,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    /// The canonical JSON text of the data, as stored.
    pub data: &'a str,
}

impl<'a> HashedFields<'a> {
    /// The fields of a recorded event; `data` must be the canonical text of `event.data`.
    pub fn of(event: &'a RecordedEvent, data: &'a str) -> Self {
        HashedFields {
            prev_hash: event.prev_hash.as_deref(),
            event_id: event.event_id,
            stream_id: &event.stream_id,
            version: event.version,
            position: event.position,
            event_type: &event.event_type,
            schema_version: event.schema_version,
            recorded_at: event.recorded_at,
            actor: &event.actor,
            correlation_id: event.correlation_id,
            causation_id: event.causation_id,
            data,
        }
    }
}

/// The hex SHA-256 of an event's canonical bytes (see the module docs).
pub fn event_hash(fields: &HashedFields<'_>) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };

    field(fields.prev_hash.unwrap_or("").as_bytes());
    field(fields.event_id.hyphenated().to_string().as_bytes());
    field(fields.stream_id.as_bytes());
    field(fields.version.to_string().as_bytes());
    field(fields.position.to_string().as_bytes());
    field(fields.event_type.as_bytes());
    field(fields.schema_version.to_string().as_bytes());
    field(format_recorded_at(fields.recorded_at).as_bytes());
    field(fields.actor.as_bytes());
    field(fields.correlation_id.hyphenated().to_string().as_bytes());
    let causation = fields.causation_id.map(|id| id.hyphenated().to_string());
    field(causation.as_deref().unwrap_or("").as_bytes());
    field(fields.data.as_bytes());

    hex::encode(hasher.finalize())
}

/// `recorded_at` as it is hashed: RFC 3339, UTC, six fractional digits, `Z`.
pub fn format_recorded_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The canonical text of a JSON value: compact, object keys sorted by their UTF-8 bytes.
///
/// This is what `serde_json::to_string` writes for a `Value` when `serde_json` keeps objects
/// in a `BTreeMap` (its default), but it does not depend on that: a crate elsewhere in the
/// build enabling `preserve_order` must not change stored hashes.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;

    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&scalar_json(&Value::String(key.clone())));
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar_json(scalar)),
    }
}

fn scalar_json(value: &serde_json::Value) -> String {
    // Serializing a null, bool, number or string cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Where and why a stream's chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hash chain broken at version {version} (position {position}): {reason}")]
pub struct ChainBreak {
    /// The version of the first event that does not verify.
    pub version: Version,
    pub position: Position,
    pub reason: BreakReason,
}

/// What is wrong with the event a [`ChainBreak`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakReason {
    /// The event belongs to another stream than the first event given.
    OtherStream { stream_id: String },
    /// The versions are not 1, 2, 3, ...: an event is missing or out of place.
    VersionGap { expected: Version },
    /// Positions must grow with versions.
    PositionNotIncreasing { previous: Position },
    /// `prev_hash` does not name the previous event's hash.
    BrokenLink {
        expected: Option<String>,
        found: Option<String>,
    },
    /// The stored hash is not the hash of the event's fields: something was altered.
    HashMismatch { stored: String, computed: String },
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BreakReason::OtherStream { stream_id } => {
                write!(f, "the event belongs to stream {stream_id}")
            }
            BreakReason::VersionGap { expected } => write!(f, "expected version {expected}"),
            BreakReason::PositionNotIncreasing { previous } => {
                write!(f, "position not above the previous event's {previous}")
            }
            BreakReason::BrokenLink { expected, found } => write!(
                f,
                "prev_hash is {}, the previous event's hash is {}",
                found.as_deref().unwrap_or("absent"),
                expected.as_deref().unwrap_or("absent"),
            ),
            BreakReason::HashMismatch { stored, computed } => {
                write!(f, "stored hash {stored}, computed {computed}")
            }
        }
    }
}

/// Checks a whole stream, oldest first, as [`crate::EventStore::read_stream`] returns it:
/// versions 1, 2, 3... of one stream, each linked to its predecessor's hash, each hash
/// recomputed from the event's fields. An empty slice verifies.
pub fn verify_chain(events: &[RecordedEvent]) -> Result<(), ChainBreak> {
    let mut previous: Option<&RecordedEvent> = None;

    for (i, event) in events.iter().enumerate() {
        let brk = |reason| ChainBreak {
            version: event.version,
            position: event.position,
            reason,
        };

        if let Some(first) = events.first() {
            if event.stream_id != first.stream_id {
                let stream_id = event.stream_id.clone();
                return Err(brk(BreakReason::OtherStream { stream_id }));
            }
        }

        let expected = i as Version + 1;
        if event.version != expected {
            return Err(brk(BreakReason::VersionGap { expected }));
        }

        if let Some(prev) = previous {
            if event.position <= prev.position {
                let previous = prev.position;
                return Err(brk(BreakReason::PositionNotIncreasing { previous }));
            }
        }

        let expected_link = previous.map(|prev| prev.hash.clone());
        if event.prev_hash != expected_link {
            let found = event.prev_hash.clone();
            return Err(brk(BreakReason::BrokenLink {
                expected: expected_link,
                found,
            }));
        }

        let data = canonical_json(&event.data);
        let computed = event_hash(&HashedFields::of(event, &data));
        if computed != event.hash {
            let stored = event.hash.clone();
            return Err(brk(BreakReason::HashMismatch { stored, computed }));
        }

        previous = Some(event);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(data: &str) -> HashedFields<'_> {
        HashedFields {
            prev_hash: None,
            event_id: Uuid::parse_str("6f1c3c55-2f4b-4d0e-9a55-0b8c2f1e9d01").unwrap(),
            stream_id: "claim-RC-2025-000001",
            version: 1,
            position: 42,
            event_type: "ClaimFiled",
            schema_version: 1,
            recorded_at: "2025-01-31T09:05:00.000042Z".parse().unwrap(),
            actor: "client",
            correlation_id: Uuid::parse_str("0b8c2f1e-9d01-4d0e-9a55-6f1c3c552f4b").unwrap(),
            causation_id: None,
            data,
        }
    }

    #[test]
    fn canonical_json_is_compact_with_sorted_keys() {
        let value = json!({"z": 1, "a": [true, null, 1.5, "é\"\n"], "M": {"b": {}, "a": []}});
        let text = canonical_json(&value);
        assert_eq!(
            text,
            r#"{"M":{"a":[],"b":{}},"a":[true,null,1.5,"é\"\n"],"z":1}"#
        );
        let reparsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canonical_json(&reparsed), text);
    }

    #[test]
    fn canonical_text_survives_parsing() {
        // The stores parse the stored text and hash its canonical form again: any float
        // that does not come back bit for bit would make a sound event look altered.
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut floats = vec![
            0.1,
            1.0 / 3.0,
            2.2250738585072014e-308,
            f64::MAX,
            5e-324,
            -0.0,
        ];
        floats.extend(
            (0..200_000)
                .map(|_| f64::from_bits(rng.random()))
                .filter(|f| f.is_finite()),
        );
        for float in floats {
            let value = json!({"amount": float, "list": [float]});
            let text = canonical_json(&value);
            let reparsed: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(canonical_json(&reparsed), text, "{float:e}");
        }
    }

    #[test]
    fn hash_matches_the_documented_byte_layout() {
        // Computed independently (Python's hashlib over the documented layout).
        let data = r#"{"subject":"name"}"#;
        assert_eq!(
            event_hash(&fields(data)),
            "d9a33fd0e4462a3df6d4f89421a1c33554f85909697c465d09fbcc605f4f55c8",
        );
    }

    #[test]
    fn every_field_changes_the_hash() {
        let data = r#"{"subject":"name"}"#;
        let base = event_hash(&fields(data));
        let other = Uuid::new_v4();
        let variants: Vec<HashedFields<'_>> = vec![
            HashedFields {
                prev_hash: Some("00"),
                ..fields(data)
            },
            HashedFields {
                event_id: other,
                ..fields(data)
            },
            HashedFields {
                stream_id: "claim-RC-2025-000002",
                ..fields(data)
            },
            HashedFields {
                version: 2,
                ..fields(data)
            },
            HashedFields {
                position: 43,
                ..fields(data)
            },
            HashedFields {
                event_type: "ClaimClosed",
                ..fields(data)
            },
            HashedFields {
                schema_version: 2,
                ..fields(data)
            },
            HashedFields {
                recorded_at: "2025-01-31T09:05:00.000043Z".parse().unwrap(),
                ..fields(data)
            },
            HashedFields {
                actor: "agent:x",
                ..fields(data)
            },
            HashedFields {
                correlation_id: other,
                ..fields(data)
            },
            HashedFields {
                causation_id: Some(other),
                ..fields(data)
            },
            HashedFields {
                data: r#"{"subject":"nam"}"#,
                ..fields(data)
            },
        ];
        for variant in variants {
            assert_ne!(event_hash(&variant), base, "{variant:?}");
        }
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        // Moving a character from one field to the next must change the hash.
        let data = r#"{}"#;
        let a = HashedFields {
            stream_id: "ab",
            event_type: "c",
            ..fields(data)
        };
        let b = HashedFields {
            stream_id: "a",
            event_type: "bc",
            ..fields(data)
        };
        assert_ne!(event_hash(&a), event_hash(&b));
    }

    fn chain(n: usize) -> Vec<RecordedEvent> {
        let mut events: Vec<RecordedEvent> = Vec::new();
        for i in 0..n {
            let f = fields("");
            let mut event = RecordedEvent {
                event_id: Uuid::new_v4(),
                stream_id: f.stream_id.to_owned(),
                version: i as u64 + 1,
                position: 10 * (i as u64 + 1),
                event_type: "Noted".to_owned(),
                schema_version: 1,
                recorded_at: f.recorded_at,
                actor: "client".to_owned(),
                correlation_id: f.correlation_id,
                causation_id: None,
                data: json!({"n": i}),
                prev_hash: events.last().map(|e| e.hash.clone()),
                hash: String::new(),
            };
            let data = canonical_json(&event.data);
            event.hash = event_hash(&HashedFields::of(&event, &data));
            events.push(event);
        }
        events
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&[]), Ok(()));
        assert_eq!(verify_chain(&chain(5)), Ok(()));
    }

    #[test]
    fn altered_data_is_found() {
        let mut events = chain(4);
        events[2].data = json!({"n": 99});
        let brk = verify_chain(&events).unwrap_err();
        assert_eq!((brk.version, brk.position), (3, 30));
        assert!(
            matches!(brk.reason, BreakReason::HashMismatch { .. }),
            "{brk}"
        );
    }

    #[test]
    fn a_removed_event_is_found() {
        let mut events = chain(4);
        events.remove(1);
        let brk = verify_chain(&events).unwrap_err();
        assert_eq!(brk.version, 3);
        assert_eq!(brk.reason, BreakReason::VersionGap { expected: 2 });
    }

    #[test]
    fn a_rehashed_event_still_breaks_the_next_link() {
        // A forger who recomputes the altered event's hash breaks its successor's link.
        let mut events = chain(4);
        events[1].actor = "mallory".to_owned();
        let data = canonical_json(&events[1].data);
        events[1].hash = event_hash(&HashedFields::of(&events[1], &data));
        let brk = verify_chain(&events).unwrap_err();
        assert_eq!(brk.version, 3);
        assert!(
            matches!(brk.reason, BreakReason::BrokenLink { .. }),
            "{brk}"
        );
    }

    #[test]
    fn a_chain_must_start_at_version_one() {
        let events = chain(3);
        let brk = verify_chain(&events[1..]).unwrap_err();
        assert_eq!(brk.reason, BreakReason::VersionGap { expected: 1 });
    }

    #[test]
    fn events_of_another_stream_are_refused() {
        let mut events = chain(2);
        events[1].stream_id = "other".to_owned();
        let brk = verify_chain(&events).unwrap_err();
        assert_eq!(
            brk.reason,
            BreakReason::OtherStream {
                stream_id: "other".to_owned()
            }
        );
    }
}
