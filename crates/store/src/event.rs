//! The types every backend speaks: what a caller appends and what a reader gets back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A stream's version: the number of events it holds. The first event has version 1.
pub type Version = u64;

/// A position in the store's global order. The first event ever stored has position 1;
/// `0` means "before everything".
pub type Position = u64;

/// What the caller expects of the stream when appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must be exactly at this version (`0` is the same as `NoStream`).
    Exact(Version),
}

/// Who did it, when and why: the part of the envelope the caller chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Who caused the event: `client`, `agent:<login>`, `system`, ...
    pub actor: String,
    /// The id shared by everything done for one request or process.
    pub correlation_id: Uuid,
    /// The id of the message (request, event) that caused this one.
    pub causation_id: Option<Uuid>,
}

/// An event to append, before the store gives it a place.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub data: serde_json::Value,
}

/// A stored event with its whole envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    pub stream_id: String,
    pub version: Version,
    pub position: Position,
    pub event_type: String,
    pub schema_version: u32,
    /// When the store accepted the event, in UTC, to the microsecond.
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub data: serde_json::Value,
    /// Hex SHA-256 of the previous event of the same stream (`None` for version 1).
    pub prev_hash: Option<String>,
    /// Hex SHA-256 over `prev_hash` and this event's envelope and data; see [`crate::hash`].
    pub hash: String,
}

/// What a successful append reports: only ever returned once the events are committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// The stream's version after the append.
    pub version: Version,
    /// The global position of the last appended event.
    pub position: Position,
}
