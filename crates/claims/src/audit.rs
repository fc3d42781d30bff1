//! What auditors see of a claim: its raw events with their whole envelope, the claim as it
//! stood at any instant, and whether its stored history is intact.
//!
//! Everything here works on events as the store returns them (never on read models), and
//! reads claim data through [`crate::codec::upcast`], the single place that knows old
//! schemas: an auditor sees each event in its current shape, and also as it was stored when
//! the two differ. The checks of the stored history are the store's own
//! ([`claimdesk_store::hash::verify_chain`]), so an auditor and the conformance suite agree on
//! what "intact" means.

use chrono::{DateTime, SecondsFormat, Utc};
use claimdesk_domain::{ClaimEvent, ClaimState};
use claimdesk_store::hash::{format_recorded_at, BreakReason, ChainBreak};
use claimdesk_store::{Position, RecordedEvent, Version};
use serde_json::{json, Value};

use crate::codec::{decode, upcast, CodecError};

/// An event's whole envelope as an auditor reads it.
///
/// `schema_version` is the version the event was stored under; `data` is its payload upcast
/// to `current_schema_version`, and `stored_data`, present only when the two differ, the
/// payload exactly as stored (and hashed). An event the code cannot read (an unknown type or a
/// version newer than the code) keeps its stored payload as `data` and says why in
/// `upcast_error`.
pub fn envelope(event: &RecordedEvent) -> Value {
    let mut envelope = json!({
        "event_id": event.event_id,
        "stream_id": event.stream_id,
        "position": event.position,
        "version": event.version,
        "type": event.event_type,
        "schema_version": event.schema_version,
        "recorded_at": format_recorded_at(event.recorded_at),
        "actor": event.actor,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    });
    match upcast(&event.event_type, event.schema_version, event.data.clone()) {
        Ok(data) => {
            let current = ClaimEvent::current_schema_version(&event.event_type);
            envelope["current_schema_version"] = json!(current);
            if data != event.data {
                envelope["stored_data"] = event.data.clone();
            }
            envelope["data"] = data;
        }
        Err(reason) => {
            envelope["data"] = event.data.clone();
            envelope["upcast_error"] = json!(reason);
        }
    }
    envelope
}

/// A claim folded from the events recorded up to an instant.
#[derive(Debug, Clone)]
pub struct AsOf {
    pub state: ClaimState,
    /// The stream version of the last event folded.
    pub version: Version,
    pub position: Position,
    /// When the store recorded the last event folded.
    pub recorded_at: DateTime<Utc>,
}

/// The claim as it stood at `at`: `events` (a stream, oldest first) recorded at or before
/// `at`, upcast and folded; `None` when none was recorded by then (before filing).
pub fn state_at(events: &[RecordedEvent], at: DateTime<Utc>) -> Result<Option<AsOf>, CodecError> {
    let mut folded: Option<AsOf> = None;
    for event in events.iter().take_while(|e| e.recorded_at <= at) {
        let decoded = decode(event)?;
        let as_of = folded.get_or_insert_with(|| AsOf {
            state: ClaimState::default(),
            version: 0,
            position: 0,
            recorded_at: event.recorded_at,
        });
        as_of.state.evolve(&decoded);
        as_of.version = event.version;
        as_of.position = event.position;
        as_of.recorded_at = event.recorded_at;
    }
    Ok(folded)
}

/// The claim state of `as_of` with its non-personal filing details, for an auditor.
pub fn state_json(as_of: &AsOf, at: DateTime<Utc>) -> Value {
    let state = &as_of.state;
    let filing = state.filing().map(|filing| {
        json!({
            "number": filing.number,
            "filed_at": filing.filed_at,
            "channel": filing.channel,
            "language": filing.language,
            "theme": filing.theme,
            "filing_place": filing.filing_place,
            "subject": filing.subject,
            "request_number": filing.request_number,
        })
    });
    let ratings: Vec<Value> = state
        .ratings()
        .iter()
        .map(|r| json!({"satisfaction": r.satisfaction, "at": r.at}))
        .collect();
    json!({
        "as_of": at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "version": as_of.version,
        "position": as_of.position,
        "last_recorded_at": format_recorded_at(as_of.recorded_at),
        "number": state.number(),
        "filing": filing,
        "status": state.status(),
        "entity": state.entity(),
        "routing_rule": state.routing_rule(),
        "answered_at": state.answered_at(),
        "auto_close_at": state.auto_close_at(),
        "first_answered_at": state.first_answered_at(),
        "satisfaction": state.satisfaction(),
        "ratings": ratings,
        "answers": state.answers(),
        "messages": state.messages(),
        "transfers": state.transfers(),
        "closures": state.closures(),
        "auto_closures": state.auto_closures(),
        "reopenings": state.reopenings(),
        "last_activity": state.last_activity(),
        "last_client_reaction_at": state.last_client_reaction_at(),
        "actions": state.actions(),
    })
}

/// A stable name for what breaks a chain: `other_stream`, `version_gap`,
/// `position_not_increasing`, `broken_link` or `hash_mismatch`.
pub fn reason_code(reason: &BreakReason) -> &'static str {
    match reason {
        BreakReason::OtherStream { .. } => "other_stream",
        BreakReason::VersionGap { .. } => "version_gap",
        BreakReason::PositionNotIncreasing { .. } => "position_not_increasing",
        BreakReason::BrokenLink { .. } => "broken_link",
        BreakReason::HashMismatch { .. } => "hash_mismatch",
    }
}

/// Where and why a chain breaks, for an auditor.
pub fn break_json(brk: &ChainBreak) -> Value {
    let mut out = json!({
        "version": brk.version,
        "position": brk.position,
        "reason": reason_code(&brk.reason),
        "detail": brk.reason.to_string(),
    });
    match &brk.reason {
        BreakReason::OtherStream { stream_id } => out["stream_id"] = json!(stream_id),
        BreakReason::VersionGap { expected } => out["expected_version"] = json!(expected),
        BreakReason::PositionNotIncreasing { previous } => {
            out["previous_position"] = json!(previous)
        }
        BreakReason::BrokenLink { expected, found } => {
            out["expected_prev_hash"] = json!(expected);
            out["found_prev_hash"] = json!(found);
        }
        BreakReason::HashMismatch { stored, computed } => {
            out["stored_hash"] = json!(stored);
            out["computed_hash"] = json!(computed);
        }
    }
    out
}

/// One line of a replayed timeline: the key facts of an event, personal texts shortened.
pub fn key_facts(event: &ClaimEvent) -> String {
    let short = |text: &str| {
        let mut chars = text.chars();
        let head: String = chars.by_ref().take(60).collect();
        let more = if chars.next().is_some() { "…" } else { "" };
        format!("{:?}", format!("{head}{more}"))
    };
    let files = |n: usize| match n {
        0 => String::new(),
        1 => ", 1 file".to_owned(),
        n => format!(", {n} files"),
    };
    match event {
        ClaimEvent::ClaimFiled(e) => format!(
            "number {}, theme {}, filed at {}, channel {:?}, language {}, subject {}{}",
            e.number,
            e.theme,
            e.filing_place,
            e.channel,
            e.language.code(),
            short(&e.subject),
            files(e.attachments.len())
        ),
        ClaimEvent::ClaimRouted(e) => format!("to entity {} (rule {})", e.entity, e.rule),
        ClaimEvent::ClaimTransferred(e) => format!(
            "from entity {} to {} by {}, reason {}",
            e.from,
            e.to,
            e.by,
            short(&e.personal.reason)
        ),
        ClaimEvent::ClaimAnswered(e) => format!(
            "by {}, closes by itself at {}, answer {}{}",
            e.by,
            e.auto_close_at,
            short(&e.personal.body),
            files(e.attachments.len())
        ),
        ClaimEvent::MessagePosted(e) => format!(
            "by {}, message {}{}",
            e.by,
            short(&e.personal.body),
            files(e.attachments.len())
        ),
        ClaimEvent::ClaimClosed(e) => {
            let rating = match e.satisfaction {
                Some(level) => format!("satisfaction {level}/5"),
                None => "no rating".to_owned(),
            };
            let comment = match &e.personal.comment {
                Some(comment) => format!(", comment {}", short(comment)),
                None => String::new(),
            };
            format!("by {}, {rating}{comment}", e.by)
        }
        ClaimEvent::ClaimReopened(e) => {
            format!("by {}, reason {}", e.by, short(&e.personal.reason))
        }
        ClaimEvent::ClaimAutoClosed(e) => {
            format!("answered at {}, due at {}", e.answered_at, e.due_at)
        }
    }
}
