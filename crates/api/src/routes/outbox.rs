//! The email outbox, for administrators: what waits, what was sent, what was parked after
//! too many failed attempts, and putting a parked email back in the queue.
//!
//! The outbox holds personal data (addresses, subjects): administrators only. Bodies are not
//! shown here; they are in the database and, once sent, in the recipients' mailboxes.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use claimdesk_store::{OutboxEntry, OutboxStatus, Requeue};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::accounts::{Role, Staff};
use crate::app::AppState;
use crate::i18n::Lang;
use crate::problem::{ApiError, FieldError, Problem};

/// The most messages one listing gives.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `parked`; every message when absent.
    status: Option<String>,
    /// At most this many messages (1 to 1000, 100 by default), in queue order.
    limit: Option<String>,
}

/// One queued email, without its body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxItem {
    /// The message's id, derived from its event, template and recipient.
    pub id: String,
    /// The claim it is about.
    pub claim: Option<String>,
    /// Which email: `filed`, `answered`, `reminder`, `new_claim`...
    pub template: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    /// `pending`, `sent` or `parked`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub event_id: String,
    pub event_position: u64,
    pub message_id: String,
}

/// A listing of the outbox, with how many messages each status has.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxListing {
    pub messages: Vec<OutboxItem>,
    /// Every status with its count: `pending`, `sent`, `parked`.
    pub counts: std::collections::BTreeMap<String, u64>,
}

impl From<&OutboxEntry> for OutboxItem {
    fn from(entry: &OutboxEntry) -> OutboxItem {
        let message = &entry.message;
        OutboxItem {
            id: entry.id.clone(),
            claim: claimdesk_claims::number_of_stream(&message.stream_id).map(str::to_owned),
            template: message.template.clone(),
            recipient: message.recipient.clone(),
            language: message.language.clone(),
            subject: message.subject.clone(),
            status: entry.status.as_str().to_owned(),
            attempts: entry.attempts,
            next_attempt_at: entry.next_attempt_at,
            last_error: entry.last_error.clone(),
            created_at: entry.created_at,
            sent_at: entry.sent_at,
            event_id: message.event_id.to_string(),
            event_position: message.position,
            message_id: message.message_id.clone(),
        }
    }
}

/// The outbox's messages, of one status or all, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/outbox",
    tag = "administration",
    operation_id = "admin_outbox",
    params(OutboxQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The messages and the counts.", body = OutboxListing),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: an unknown `status` or a `limit` \
            out of range.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login))]
pub async fn list(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<OutboxListing>, ApiError> {
    staff.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => match text.parse::<OutboxStatus>() {
            Ok(status) => Some(status),
            Err(_) => {
                errors.push(FieldError::new("status", "invalid", lang));
                None
            }
        },
    };
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
            _ => {
                errors.push(FieldError::new("limit", "invalid", lang));
                DEFAULT_LIMIT
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let entries = state.store.outbox_list(status, limit).await?;
    let counts = state.store.outbox_counts().await?;
    Ok(Json(OutboxListing {
        messages: entries.iter().map(OutboxItem::from).collect(),
        counts: counts
            .into_iter()
            .map(|(status, n)| (status.as_str().to_owned(), n))
            .collect(),
    }))
}

/// Puts a parked message back in the queue, due at once, its attempts counted from zero.
#[utoipa::path(
    post,
    path = "/api/v1/admin/outbox/{id}/retry",
    tag = "administration",
    operation_id = "admin_outbox_retry",
    params(("id" = String, Path, description = "The message's id.")),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The message, pending again.", body = OutboxItem),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such message.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict` (`not_parked`): the message is not parked.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, notification = %id))]
pub async fn retry(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<OutboxItem>, ApiError> {
    staff.require(&[Role::Admin])?;
    match state.store.outbox_requeue(&id).await? {
        Requeue::Requeued(entry) => {
            tracing::info!("parked email put back in the queue");
            Ok(Json(OutboxItem::from(&entry)))
        }
        Requeue::NotParked(_) => Err(ApiError::Conflict("not_parked")),
        Requeue::NotFound => Err(ApiError::NotFound),
    }
}

/// Appends the outbox and timer gauges to a Prometheus text exposition; nothing when the
/// store does not answer (the store's own gauge shows that).
pub async fn write_metrics(state: &AppState, out: &mut String) {
    out.push_str("# HELP claimdesk_outbox_messages Emails in the outbox, by status.\n");
    out.push_str("# TYPE claimdesk_outbox_messages gauge\n");
    match state.store.outbox_counts().await {
        Ok(counts) => {
            for (status, n) in counts {
                out.push_str(&format!(
                    "claimdesk_outbox_messages{{status=\"{status}\"}} {n}\n"
                ));
            }
        }
        Err(error) => tracing::warn!(error = %error, "cannot count the outbox for metrics"),
    }
    out.push_str("# HELP claimdesk_timers Deadline and reminder timers waiting, by kind.\n");
    out.push_str("# TYPE claimdesk_timers gauge\n");
    match state.store.timers_list(None).await {
        Ok(timers) => {
            let mut kinds = std::collections::BTreeMap::<String, u64>::new();
            for timer in timers {
                *kinds.entry(timer.kind).or_default() += 1;
            }
            for (kind, n) in kinds {
                out.push_str(&format!("claimdesk_timers{{kind=\"{kind}\"}} {n}\n"));
            }
        }
        Err(error) => tracing::warn!(error = %error, "cannot count the timers for metrics"),
    }
}
