//! Claim events to and from the store's envelope.
//!
//! Every stored event carries its type name and schema version. Reading goes through
//! [`upcast`] first, so an event stored under an older schema reaches every reader (the
//! command handler, projections, rebuilds, audit replays) in its current shape.

use claimdesk_domain::ClaimEvent;
use claimdesk_store::{NewEvent, RecordedEvent};
use serde_json::{json, Value};
use uuid::Uuid;

/// Prefix of every claim stream's id.
pub const STREAM_PREFIX: &str = "claim-";

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error(
        "event {event_type} v{schema_version} at position {position} is not understood: {reason}"
    )]
    Unreadable {
        event_type: String,
        schema_version: u32,
        position: u64,
        reason: String,
    },
}

/// The stream that holds claim `number`.
pub fn stream_id(number: &str) -> String {
    format!("{STREAM_PREFIX}{number}")
}

/// The claim number of a claim stream, or `None` for another kind of stream.
pub fn number_of_stream(stream: &str) -> Option<&str> {
    stream.strip_prefix(STREAM_PREFIX)
}

/// The envelope body of a new event, with a fresh time-ordered id.
pub fn encode(event: &ClaimEvent) -> NewEvent {
    let tagged = serde_json::to_value(event).expect("claim events always serialize");
    let data = tagged.get("data").cloned().unwrap_or(Value::Null);
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        data,
    }
}

/// The claim event stored in `recorded`, upcast to its current schema.
pub fn decode(recorded: &RecordedEvent) -> Result<ClaimEvent, CodecError> {
    let unreadable = |reason: String| CodecError::Unreadable {
        event_type: recorded.event_type.clone(),
        schema_version: recorded.schema_version,
        position: recorded.position,
        reason,
    };
    let data = upcast(
        &recorded.event_type,
        recorded.schema_version,
        recorded.data.clone(),
    )
    .map_err(unreadable)?;
    let tagged = json!({ "type": recorded.event_type, "data": data });
    serde_json::from_value(tagged).map_err(|e| unreadable(e.to_string()))
}

/// Brings an event's data from the schema it was stored under to the current one.
///
/// Each event type's schema history is a chain of steps, one per version; a version newer
/// than the code knows is refused rather than guessed.
pub fn upcast(event_type: &str, schema_version: u32, data: Value) -> Result<Value, String> {
    let current = ClaimEvent::current_schema_version(event_type)
        .ok_or_else(|| format!("unknown event type {event_type}"))?;
    if schema_version > current {
        return Err(format!(
            "schema version {schema_version} is newer than {current}"
        ));
    }
    if schema_version == 0 {
        return Err("schema version 0 does not exist".to_owned());
    }
    // Every type is at version 1 so far: there is no step to take yet.
    Ok(data)
}
