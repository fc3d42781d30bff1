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
/// This is the only place that knows old schemas: the command handler, the projections (live
/// and rebuilt) and the audit replay all read events through it. Each event type's schema
/// history is a chain of steps, one per version, applied in order; a version newer than the
/// code knows is refused rather than guessed. The steps so far:
///
/// | event type | from | to | step |
/// | --- | --- | --- | --- |
/// | `ClaimFiled` | 1 | 2 | adds `channel: "web"`: every claim was filed online before |
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

    let mut data = data;
    for from in schema_version..current {
        data = step(event_type, from, data)?;
    }
    Ok(data)
}

/// One step of an event type's schema history: from version `from` to `from + 1`.
fn step(event_type: &str, from: u32, data: Value) -> Result<Value, String> {
    match (event_type, from) {
        ("ClaimFiled", 1) => {
            let Value::Object(mut fields) = data else {
                return Err("ClaimFiled v1 data is not an object".to_owned());
            };
            fields
                .entry("channel")
                .or_insert_with(|| Value::String("web".to_owned()));
            Ok(Value::Object(fields))
        }
        _ => Err(format!(
            "no upcaster from {event_type} v{from} to v{}",
            from + 1
        )),
    }
}

#[cfg(test)]
mod tests {
    use claimdesk_domain::Channel;
    use serde_json::json;

    use super::*;

    /// A `ClaimFiled` as schema version 1 stored it: no `channel`.
    fn filed_v1() -> Value {
        json!({
            "number": "RC-2025-000001",
            "filed_at": "2025-01-31T09:05:00.000000Z",
            "language": "fr",
            "theme": "issuance_delay",
            "filing_place": "ompic_head_office",
            "subject": "Certificat",
            "request_number": "2025/1",
            "attachments": [],
            "personal": {
                "contact": {
                    "profile": "natural_person", "email": "a@example.ma",
                    "company_name": null, "last_name": null, "first_name": null,
                    "phone": null, "address": null, "city": null, "country": null
                },
                "message": "Bonjour"
            }
        })
    }

    #[test]
    fn claim_filed_v1_gains_the_web_channel() {
        let upcast = upcast("ClaimFiled", 1, filed_v1()).unwrap();
        assert_eq!(upcast["channel"], "web");
        let mut expected = filed_v1();
        expected["channel"] = json!("web");
        assert_eq!(upcast, expected, "nothing else changes");

        let event: ClaimEvent =
            serde_json::from_value(json!({"type": "ClaimFiled", "data": upcast})).unwrap();
        let ClaimEvent::ClaimFiled(filed) = event else {
            panic!("a ClaimFiled")
        };
        assert_eq!(filed.channel, Channel::Web);
    }

    #[test]
    fn current_versions_pass_through_and_unknown_ones_are_refused() {
        let mut v2 = filed_v1();
        v2["channel"] = json!("web");
        assert_eq!(upcast("ClaimFiled", 2, v2.clone()).unwrap(), v2);
        assert!(upcast("ClaimFiled", 3, v2.clone()).is_err());
        assert!(upcast("ClaimFiled", 0, v2.clone()).is_err());
        assert!(upcast("ClaimRouted", 1, json!({"entity": "x"})).is_ok());
        assert!(upcast("Nonsense", 1, json!({})).is_err());
        assert!(upcast("ClaimFiled", 1, json!([1])).is_err());
    }

    #[test]
    fn the_v1_form_is_what_the_current_form_lacks() {
        // The v1 fixture above must be exactly a current event minus `channel`, or the test
        // above would prove nothing about real v1 events.
        let mut current = filed_v1();
        current["channel"] = json!("web");
        let event: ClaimEvent =
            serde_json::from_value(json!({"type": "ClaimFiled", "data": current})).unwrap();
        let encoded = encode(&event);
        assert_eq!(encoded.schema_version, 2);
        let mut stripped = encoded.data.clone();
        stripped.as_object_mut().unwrap().remove("channel");
        assert_eq!(stripped, filed_v1());
    }
}
