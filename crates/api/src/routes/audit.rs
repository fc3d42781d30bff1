//! What auditors read (role `auditor`, and `admin`): a claim's raw events, the claim as it
//! stood at an instant, and whether its stored history is intact.
//!
//! What these endpoints promise:
//! - They read the claim's stream from the event store itself, never a read model, so what
//!   they show does not depend on any projection having caught up or being right.
//! - Event data is shown upcast to its current schema (`data`), and as stored when that
//!   differs (`stored_data`); see `claimdesk_claims::audit`.
//! - `verify` recomputes the stream's hash chain (`claimdesk_store::hash::verify_chain`:
//!   versions 1, 2, 3... without gap, each linked to its predecessor's hash, each hash
//!   recomputed from the stored fields) and names the first event that does not verify.
//!   Removing a stream's *last* events leaves a shorter chain that verifies; that is found by
//!   `claimdesk audit verify --all`, which also checks the global order for gaps.
//! - An unknown claim, or a claim number that does not parse, is the same 404.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use claimdesk_claims::audit;
use claimdesk_claims::stream_id;
use claimdesk_store::hash::verify_chain;
use claimdesk_store::{RecordedEvent, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::instrument;

use crate::accounts::{Role, Staff};
use crate::app::AppState;
use crate::i18n::Lang;
use crate::number;
use crate::problem::{ApiError, FieldError, Problem};

const AUDITORS: &[Role] = &[Role::Auditor, Role::Admin];

/// The claim number of the path, checked, and its stream; 404 when the number cannot be one.
fn claim(raw: &str) -> Result<(String, String), ApiError> {
    let number = number::normalize(raw).ok_or(ApiError::NotFound)?;
    let stream = stream_id(&number);
    Ok((number, stream))
}

/// The claim's events, oldest first; 404 when it has none.
async fn events_of(state: &AppState, stream: &str) -> Result<Vec<RecordedEvent>, ApiError> {
    let events = state.store.read_stream(stream).await?;
    if events.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(events)
}

/// Every event of the claim's stream with its whole envelope, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit/claims/{number}/events",
    tag = "audit",
    operation_id = "audit_claim_events",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The events: `event_id`, `stream_id`, `position`, \
            `version`, `type`, `schema_version` (as stored), `current_schema_version`, \
            `recorded_at`, `actor`, `correlation_id`, `causation_id`, `data` (upcast to the \
            current schema), `stored_data` (only when the stored form differs), `hash`, \
            `prev_hash`.", body = Vec<Object>),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an auditor nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn events(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff.require(AUDITORS)?;
    let (_, stream) = claim(&number)?;
    let events = events_of(&state, &stream).await?;
    let envelopes: Vec<Value> = events.iter().map(audit::envelope).collect();
    Ok(Json(Value::Array(envelopes)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StateQuery {
    /// The instant (RFC 3339); the events recorded at or before it are folded. Now when
    /// absent.
    at: Option<String>,
}

/// The claim as it stood at `at`, folded from the events recorded up to that instant.
#[utoipa::path(
    get,
    path = "/api/v1/audit/claims/{number}/state",
    tag = "audit",
    operation_id = "audit_claim_state",
    params(("number" = String, Path, description = "The claim's number."), StateQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The claim's state (status, entity, deadline, ratings, \
            counts, allowed client actions) and its non-personal filing details, with the \
            version and position of the last event folded.", body = Object),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an auditor nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or not yet filed at `at`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `at` is not an RFC 3339 time.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn state_at(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Path(number): Path<String>,
    Query(query): Query<StateQuery>,
) -> Result<Json<Value>, ApiError> {
    staff.require(AUDITORS)?;
    let at = match query.at.as_deref() {
        None => state.clock.now(),
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| ApiError::Validation(vec![FieldError::new("at", "invalid", lang)]))?,
    };
    let (_, stream) = claim(&number)?;
    let events = events_of(&state, &stream).await?;

    let as_of = audit::state_at(&events, at)
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(audit::state_json(&as_of, at)))
}

/// Whether the claim's stored history is intact, and if not, where and why it breaks.
#[utoipa::path(
    get,
    path = "/api/v1/audit/claims/{number}/verify",
    tag = "audit",
    operation_id = "audit_claim_verify",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "`intact`, the number of `events`, the `last_hash`, and \
            `break`: null, or the first event that does not verify (`version`, `position`, \
            `reason`: `hash_mismatch`, `broken_link`, `version_gap`, \
            `position_not_increasing`, `other_stream` or `unreadable`, and `detail`).",
            body = Object),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an auditor nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn verify(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff.require(AUDITORS)?;
    let (number, stream) = claim(&number)?;

    let events = match state.store.read_stream(&stream).await {
        Ok(events) if events.is_empty() => return Err(ApiError::NotFound),
        Ok(events) => events,
        // A stored data text that is not the canonical form it was hashed in: the store
        // refuses to hand it out, which is itself the finding.
        Err(StoreError::Corrupt(detail)) => {
            tracing::warn!(%detail, "a stored event cannot be read");
            let brk = json!({"reason": "unreadable", "detail": detail});
            return Ok(Json(report(&number, &stream, None, Some(brk))));
        }
        Err(other) => return Err(other.into()),
    };

    let brk = verify_chain(&events).err();
    if let Some(brk) = &brk {
        tracing::warn!(version = brk.version, position = brk.position, reason = %brk.reason,
            "the claim's history does not verify");
    }
    let brk = brk.as_ref().map(audit::break_json);
    Ok(Json(report(&number, &stream, Some(&events), brk)))
}

fn report(
    number: &str,
    stream: &str,
    events: Option<&[RecordedEvent]>,
    brk: Option<Value>,
) -> Value {
    let last = events.and_then(|events| events.last());
    json!({
        "number": number,
        "stream_id": stream,
        "intact": brk.is_none(),
        "events": events.map(<[RecordedEvent]>::len),
        "last_version": last.map(|e| e.version),
        "last_hash": last.map(|e| e.hash.as_str()),
        "break": brk,
    })
}
