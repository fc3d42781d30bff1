//! What agents of the handling entities do: read their queue, answer, exchange, transfer.
//!
//! An agent sees and acts on its own entity's claims only; another entity's claim is a 404,
//! exactly like an unknown one. Administrators act on every entity's claims.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use claimdesk_domain::ClaimCommand;
use claimdesk_projections::agent_queue::{self, AgentQueue};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::instrument;

use crate::accounts::{Role, Staff};
use crate::app::AppState;
use crate::extract::ReqJson;
use crate::i18n::Lang;
use crate::number;
use crate::problem::{ApiError, FieldError, Problem};
use crate::reference::Reference;
use crate::routes::claims::{
    attachments, detail_after, detail_document, history_document, render_detail, render_history,
    run, serve_attachment, timestamp, MessageRequest,
};
use crate::routing::Routing;

const HANDLERS: &[Role] = &[Role::Agent, Role::Admin];

/// The claim named in the path, if this staff member may handle it; else the same 404 as an
/// unknown claim.
pub(crate) async fn handled_claim(
    state: &AppState,
    staff: &Staff,
    raw: &str,
) -> Result<Value, ApiError> {
    staff.require(HANDLERS)?;
    let number = number::normalize(raw).ok_or(ApiError::NotFound)?;
    let doc = detail_document(state, &number)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mine = match staff.role {
        Role::Admin => true,
        _ => staff.entity.is_some() && doc["entity"].as_str() == staff.entity.as_deref(),
    };
    if mine {
        Ok(doc)
    } else {
        Err(ApiError::NotFound)
    }
}

pub(crate) fn number_of(doc: &Value) -> String {
    doc["number"].as_str().unwrap_or_default().to_owned()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// For administrators: the entity whose queue to read.
    entity: Option<String>,
}

/// The entity's claims that wait on it, longest waiting first, with how long each has waited.
///
/// An agent reads its own entity's queue; an administrator names the entity.
#[utoipa::path(
    get,
    path = "/api/v1/agent/queue",
    tag = "agents",
    operation_id = "agent_queue",
    params(QueueQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The queue.", body = crate::openapi::Queue),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: an administrator without \
            `?entity=`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login))]
pub async fn queue(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Query(query): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(queue_view(&state, &staff, query.entity, lang).await?))
}

/// The queue of `staff`'s entity (or, for an administrator, of `entity`), in the API's shape.
pub(crate) async fn queue_view(
    state: &AppState,
    staff: &Staff,
    entity: Option<String>,
    lang: Lang,
) -> Result<Value, ApiError> {
    staff.require(HANDLERS)?;
    let entity = match (staff.role, &staff.entity, entity) {
        (Role::Admin, _, Some(entity)) => entity,
        (_, Some(own), _) => own.clone(),
        (_, None, _) => {
            let error = FieldError::new("entity", "required", lang);
            return Err(ApiError::Validation(vec![error]));
        }
    };
    let id = state
        .projections
        .id(AgentQueue::NAME)
        .ok_or_else(|| ApiError::internal("the agent queue projection is not running"))?;
    let documents = state
        .store
        .list(id, agent_queue::COLLECTION, Some(&entity))
        .await?;

    let now = state.clock.now();
    let reference = Reference::load();
    let items: Vec<Value> = documents
        .iter()
        .map(|doc| {
            let body = &doc.body;
            let since = body["waiting_since"].as_str().and_then(parse_time);
            let waited = since.map(|since| (now - since).num_seconds().max(0));
            let code = |field: &str| body[field].as_str().unwrap_or_default().to_owned();
            json!({
                "number": body["number"],
                "subject": body["subject"],
                "theme": body["theme"],
                "theme_label": reference.label("themes", &code("theme"), lang),
                "filing_place": body["filing_place"],
                "filing_place_label": reference.label("filing_places", &code("filing_place"), lang),
                "language": body["language"],
                "filed_at": body["filed_at"],
                "waiting_since": body["waiting_since"],
                "waiting_seconds": waited,
                "reason": body["reason"],
                "reopen_count": body["reopen_count"],
            })
        })
        .collect();
    let label = Routing::load().label(&entity, lang);
    Ok(json!({"entity": entity, "entity_label": label, "claims": items}))
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A claim of the entity.
#[utoipa::path(
    get,
    path = "/api/v1/agent/claims/{number}",
    tag = "agents",
    operation_id = "agent_claim_detail",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The claim.", body = crate::openapi::ClaimDetail),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or another entity's.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn detail(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = handled_claim(&state, &staff, &number).await?;
    Ok(Json(render_detail(&doc, lang)))
}

/// What happened to a claim of the entity, oldest first, with the staff's logins.
#[utoipa::path(
    get,
    path = "/api/v1/agent/claims/{number}/history",
    tag = "agents",
    operation_id = "agent_claim_history",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The entries, oldest first.",
            body = Vec<crate::openapi::HistoryEntry>),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or another entity's.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn history(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Path(number): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = handled_claim(&state, &staff, &number).await?;
    let history = history_document(&state, &number_of(&doc)).await?;
    Ok(Json(render_history(&history, lang, true)))
}

/// A file of a claim of the entity, as a download under its original name.
#[utoipa::path(
    get,
    path = "/api/v1/agent/claims/{number}/attachments/{id}",
    tag = "agents",
    operation_id = "agent_claim_attachment",
    params(
        ("number" = String, Path, description = "The claim's number."),
        ("id" = String, Path, description = "The file's `id`, from the detail or the history."),
    ),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "The file, with the media type judged at upload.",
            content(
                ("application/pdf"), ("image/jpeg"), ("image/png"), ("image/gif"),
                ("image/webp"), ("image/tiff"), ("image/bmp"), ("image/heif"),
                ("application/zip"),
            ),
            headers(("Content-Disposition" = String,
                description = "`attachment`, with the file's original name."))),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim or file, or another \
            entity's.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number, attachment = %id))]
pub async fn attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let doc = handled_claim(&state, &staff, &number).await?;
    serve_attachment(&state, &number_of(&doc), &id).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnswerRequest {
    /// The answer; not blank.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    body: Option<String>,
    /// Upload tokens, at most 10.
    #[serde(default)]
    attachments: Vec<String>,
    /// Close the claim with the answer, in one action.
    #[serde(default)]
    close: bool,
}

/// The entity answers.
///
/// The claim then waits on the client, and closes by itself if the client does not react
/// before the deadline; with `close: true` it closes at once.
#[utoipa::path(
    post,
    path = "/api/v1/agent/claims/{number}/answer",
    tag = "agents",
    operation_id = "agent_answer",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    request_body = AnswerRequest,
    responses(
        (status = 201, description = "Answered: the claim after it.",
            body = crate::openapi::ClaimDetail),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or another entity's.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the claim's state forbids it (`reason`: \
            `claim_closed`, ...) or it changed meanwhile (`concurrent_change`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn answer(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Path(number): Path<String>,
    ReqJson(request): ReqJson<AnswerRequest>,
) -> Result<Response, ApiError> {
    let body = request.body.unwrap_or_default();
    let reply = Reply::Answer {
        close: request.close,
    };
    let doc = reply_to(
        &state,
        &staff,
        &number,
        lang,
        reply,
        body,
        &request.attachments,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(render_detail(&doc, lang))).into_response())
}

/// What an entity writes to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// An answer, which starts the automatic closure's deadline, or closes at once.
    Answer { close: bool },
    /// A message that is not an answer (asking for a document, say).
    Message,
}

/// `staff` writes to the client of claim `raw` (a number as typed); gives the claim's detail
/// document after it.
pub(crate) async fn reply_to(
    state: &AppState,
    staff: &Staff,
    raw: &str,
    lang: Lang,
    reply: Reply,
    body: String,
    uploads: &[String],
) -> Result<Value, ApiError> {
    let doc = handled_claim(state, staff, raw).await?;
    let files = attachments(state, uploads, "attachments", lang).await?;
    let now = state.clock.now();
    let deadline =
        chrono::Duration::from_std(state.settings.auto_close_after).map_err(ApiError::internal)?;
    let (at, auto_close_at) = (timestamp(now), timestamp(now + deadline));
    let by = staff.actor();
    let command = |_: &_| match reply {
        Reply::Answer { close } => ClaimCommand::Answer {
            by: by.clone(),
            body: body.clone(),
            attachments: files.clone(),
            at,
            auto_close_at,
            close,
        },
        Reply::Message => ClaimCommand::PostMessage {
            by: by.clone(),
            body: body.clone(),
            attachments: files.clone(),
            at,
        },
    };
    let number = number_of(&doc);
    run(state, &number, &by.to_string(), lang, command).await?;
    detail_after(state, &number).await
}

/// The entity writes to the client without answering (asking for a document, say).
#[utoipa::path(
    post,
    path = "/api/v1/agent/claims/{number}/messages",
    tag = "agents",
    operation_id = "agent_post_message",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Sent: the claim after it.",
            body = crate::openapi::ClaimDetail),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or another entity's.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the claim's state forbids it (`reason`: \
            `claim_closed`, ...) or it changed meanwhile (`concurrent_change`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn post_message(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Path(number): Path<String>,
    ReqJson(request): ReqJson<MessageRequest>,
) -> Result<Response, ApiError> {
    let body = request.body.unwrap_or_default();
    let reply = Reply::Message;
    let doc = reply_to(
        &state,
        &staff,
        &number,
        lang,
        reply,
        body,
        &request.attachments,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(render_detail(&doc, lang))).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TransferRequest {
    /// The code of the entity to hand the claim to.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    entity: Option<String>,
    /// Why; not blank.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    reason: Option<String>,
}

/// Hands the claim to another entity, saying why.
#[utoipa::path(
    post,
    path = "/api/v1/agent/claims/{number}/transfer",
    tag = "agents",
    operation_id = "agent_transfer",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("staff_token" = [])),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "Transferred: the claim after it.",
            body = crate::openapi::ClaimDetail),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an agent nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or another entity's.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the claim's state forbids it (`reason`: \
            `claim_closed`, ...) or it changed meanwhile (`concurrent_change`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, claim = %number))]
pub async fn transfer(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    Path(number): Path<String>,
    ReqJson(request): ReqJson<TransferRequest>,
) -> Result<Json<Value>, ApiError> {
    let to = request.entity.unwrap_or_default();
    let reason = request.reason.unwrap_or_default();
    let doc = transfer_claim(&state, &staff, &number, lang, to, reason).await?;
    Ok(Json(render_detail(&doc, lang)))
}

/// `staff` hands claim `raw` (a number as typed) to entity `to`, saying why; gives the
/// claim's detail document after it. An unknown entity is a field error on `entity`.
pub(crate) async fn transfer_claim(
    state: &AppState,
    staff: &Staff,
    raw: &str,
    lang: Lang,
    to: String,
    reason: String,
) -> Result<Value, ApiError> {
    let doc = handled_claim(state, staff, raw).await?;
    if Routing::load().entity(&to).is_none() {
        let code = if to.is_empty() {
            "required"
        } else {
            "unknown_code"
        };
        return Err(ApiError::Validation(vec![FieldError::new(
            "entity", code, lang,
        )]));
    }
    let at = timestamp(state.clock.now());
    let by = staff.actor();
    let command = |_: &_| ClaimCommand::Transfer {
        to: to.clone(),
        by: by.clone(),
        reason: reason.clone(),
        at,
    };
    let number = number_of(&doc);
    run(state, &number, &by.to_string(), lang, command).await?;
    detail_after(state, &number).await
}
