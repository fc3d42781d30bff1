//! Filing a claim, and what its client reads of it.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Datelike, Utc};
use claimdesk_claims::handler::{execute, CommandError};
use claimdesk_domain::{
    Actor, Attachment, ClaimCommand, ClaimStatus, Contact, DomainError, ErrorKind, Language,
    Timestamp,
};
use claimdesk_projections::{claim_detail, claim_history};
use claimdesk_store::{Metadata, Position};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::instrument;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{new_secret, ClaimAccess};
use crate::extract::{ClientIp, ReqJson};
use crate::i18n::Lang;
use crate::problem::{ApiError, FieldError, Problem};
use crate::ratelimit::ip_key;
use crate::reference::Reference;
use crate::routing::Routing;
use crate::validate::{validate_filing, FilingRequest, Profile, ValidContact};
use crate::{captcha, number};

/// How long a client waits at most for the read models to show its own write.
const READ_YOUR_WRITES: Duration = Duration::from_secs(5);
/// How long a claim's access token lasts.
const CLAIM_TOKEN_TTL: chrono::Duration = chrono::Duration::hours(2);

pub(crate) fn language(lang: Lang) -> Language {
    match lang {
        Lang::Fr => Language::Fr,
        Lang::Ar => Language::Ar,
    }
}

fn contact(valid: &ValidContact) -> Contact {
    Contact {
        profile: match valid.profile {
            Profile::NaturalPerson => claimdesk_domain::Profile::NaturalPerson,
            Profile::LegalPerson => claimdesk_domain::Profile::LegalPerson,
        },
        email: valid.email.clone(),
        company_name: valid.company_name.clone(),
        last_name: valid.last_name.clone(),
        first_name: valid.first_name.clone(),
        phone: valid.phone.clone(),
        address: valid.address.clone(),
        city: valid.city.clone(),
        country: valid.country.clone(),
    }
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp::from_micros(at.timestamp_micros())
}

/// Waits until the read models show `position`, so the client reads its own write.
pub(crate) async fn settle(state: &AppState, position: Position) {
    if !state.projections.wait_for(position, READ_YOUR_WRITES).await {
        tracing::warn!(
            position,
            "read models are behind; the response may precede them"
        );
    }
}

/// Resolves upload tokens into attachments; an unknown token is a field error.
pub(crate) async fn attachments(
    state: &AppState,
    tokens: &[String],
    field: &str,
    lang: Lang,
) -> Result<Vec<Attachment>, ApiError> {
    let mut found = Vec::with_capacity(tokens.len());
    let mut errors = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match state.store.upload_get(token).await? {
            Some(upload) => found.push(Attachment {
                id: Uuid::new_v4().simple().to_string(),
                filename: upload.filename,
                size: upload.size,
                media_type: upload.media_type,
                sha256: upload.sha256,
            }),
            None => errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "unknown_upload",
                lang,
            )),
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The domain's refusals as API errors: a state that forbids the command is a conflict, a bad
/// value is a validation error on its field.
pub(crate) fn command_error(error: CommandError, lang: Lang) -> ApiError {
    match error {
        CommandError::NotFound => ApiError::NotFound,
        CommandError::Contended | CommandError::StatusChanged => {
            ApiError::Conflict("concurrent_change")
        }
        CommandError::Refused(refusal) => domain_error(refusal, lang),
        CommandError::Store(e) => ApiError::internal(e),
        CommandError::Codec(e) => ApiError::internal(e),
    }
}

fn domain_error(error: DomainError, lang: Lang) -> ApiError {
    match error.kind() {
        ErrorKind::NotFound => ApiError::NotFound,
        ErrorKind::Conflict => ApiError::Conflict(error.code()),
        // An agent of another entity must not learn that the claim exists.
        ErrorKind::Forbidden if matches!(error, DomainError::WrongEntity { .. }) => {
            ApiError::NotFound
        }
        ErrorKind::Forbidden => ApiError::Forbidden,
        ErrorKind::Invalid => invalid(vec![error], lang),
    }
}

/// Content errors of a command as one 422 listing every field at fault.
///
/// Text errors use the same codes as the filing's fields (`blank`, `too_long` with its limit),
/// so a client handles one set of codes.
pub(crate) fn invalid(errors: Vec<DomainError>, lang: Lang) -> ApiError {
    let fields = errors
        .iter()
        .map(|e| {
            let field = e.field().unwrap_or("body");
            match e {
                DomainError::BlankText { .. } => FieldError::new(field, "blank", lang),
                DomainError::TextTooLong { max, .. } => {
                    FieldError::over_limit(field, "too_long", *max, lang)
                }
                other => FieldError::new(field, other.code(), lang),
            }
        })
        .collect();
    ApiError::Validation(fields)
}

/// Carries out a command decided by `decide` on claim `number` for `actor`, after checking
/// its content, and waits until the read models show it.
pub(crate) async fn run(
    state: &AppState,
    number: &str,
    actor: &str,
    lang: Lang,
    command: impl Fn(&claimdesk_domain::ClaimState) -> ClaimCommand,
) -> Result<claimdesk_claims::Executed, ApiError> {
    let metadata = Metadata {
        actor: actor.to_owned(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    };
    let errors = command(&claimdesk_domain::ClaimState::default()).input_errors();
    if !errors.is_empty() {
        return Err(invalid(errors, lang));
    }
    let done = execute(&state.store, number, &metadata, command)
        .await
        .map_err(|e| command_error(e, lang))?;
    tracing::info!(
        events = done.events.len(),
        position = done.append.position,
        "command stored"
    );
    settle(state, done.append.position).await;
    Ok(done)
}

/// Files a claim.
///
/// The claim is routed to its handling entity; the answer carries a claim token, so the
/// client can follow the claim at once.
#[utoipa::path(
    post,
    path = "/api/v1/claims",
    tag = "public",
    operation_id = "file_claim",
    request_body = crate::validate::FilingRequest,
    responses(
        (status = 201, description = "Filed.", body = crate::openapi::Filed),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`; or `captcha_invalid`: a wrong, expired or used captcha.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = tracing::field::Empty))]
pub async fn file(
    State(state): State<AppState>,
    lang: Lang,
    ReqJson(request): ReqJson<FilingRequest>,
) -> Result<Response, ApiError> {
    let filed = file_claim(&state, lang, &request, HumanProof::Captcha).await?;
    let body = json!({
        "number": filed.number,
        "status": ClaimStatus::Pending,
        "status_label": crate::i18n::status_label(lang, "pending"),
        "filed_at": filed.filed_at,
        "token": filed.token,
        "expires_at": filed.expires_at,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A claim just filed, with a claim token for its client.
pub(crate) struct Filed {
    pub number: String,
    pub filed_at: DateTime<Utc>,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// How a filing shows that a person sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HumanProof {
    /// The filing's own captcha answer, checked (and used up) here.
    Captcha,
    /// A captcha the caller has already checked and used up (the web wizard checks it at its
    /// first step).
    Verified,
}

/// Validates a filing, consumes its captcha, routes and stores the claim, and waits until
/// the read models show it. Nothing is stored unless every check passed.
pub(crate) async fn file_claim(
    state: &AppState,
    lang: Lang,
    request: &FilingRequest,
    proof: HumanProof,
) -> Result<Filed, ApiError> {
    let filing = validate_filing(request, lang).map_err(ApiError::Validation)?;
    let files = attachments(state, &filing.attachments, "claim.attachments", lang).await?;

    let now = state.clock.now();
    if proof == HumanProof::Captcha {
        let answer = filing.captcha(lang).map_err(ApiError::Validation)?;
        let hash = captcha::answer_hash(&answer.answer);
        if !state.store.captcha_consume(&answer.id, &hash, now).await? {
            return Err(ApiError::CaptchaInvalid);
        }
    }

    let route = Routing::load().route(&filing.theme, &filing.filing_place);
    let correlation = Uuid::now_v7();
    let metadata = Metadata {
        actor: "client".to_owned(),
        correlation_id: correlation,
        causation_id: None,
    };
    // A number already taken (astronomically rare) is refused by the domain: draw another.
    let mut outcome = None;
    for _ in 0..3 {
        let number = number::generate(now.year());
        let command = |_: &_| ClaimCommand::File {
            number: number.clone(),
            at: timestamp(now),
            language: language(filing.language),
            theme: filing.theme.clone(),
            filing_place: filing.filing_place.clone(),
            subject: filing.subject.clone(),
            request_number: filing.request_number.clone(),
            message: filing.message.clone(),
            attachments: files.clone(),
            contact: contact(&filing.contact),
            entity: route.entity.clone(),
            rule: route.rule.clone(),
        };
        match execute(&state.store, &number, &metadata, command).await {
            Ok(done) => {
                outcome = Some((number, done));
                break;
            }
            Err(CommandError::Refused(DomainError::AlreadyFiled)) => continue,
            Err(other) => return Err(command_error(other, lang)),
        }
    }
    let Some((number, done)) = outcome else {
        return Err(ApiError::internal(
            "three claim numbers in a row were taken",
        ));
    };
    tracing::Span::current().record("claim", number.as_str());
    tracing::info!(entity = %route.entity, "claim filed");
    settle(state, done.append.position).await;

    let (token, expires_at) = issue_claim_token(state, &number).await?;
    Ok(Filed {
        number,
        filed_at: now,
        token,
        expires_at,
    })
}

/// Checks a filing body for the wizard's steps: 204, or 422 with the field errors.
///
/// The captcha is optional here, and only its shape is checked.
#[utoipa::path(
    post,
    path = "/api/v1/claims/validate",
    tag = "public",
    operation_id = "validate_claim",
    request_body = crate::validate::FilingRequest,
    responses(
        (status = 204, description = "The body would pass."),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn validate(
    State(state): State<AppState>,
    lang: Lang,
    ReqJson(request): ReqJson<FilingRequest>,
) -> Result<StatusCode, ApiError> {
    let filing = validate_filing(&request, lang).map_err(ApiError::Validation)?;
    // Unknown upload tokens are found here too, not only when filing.
    attachments(&state, &filing.attachments, "claim.attachments", lang).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn issue_claim_token(
    state: &AppState,
    number: &str,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let (secret, token_hash) = new_secret();
    let expires_at = state.clock.now() + CLAIM_TOKEN_TTL;
    let token = claimdesk_store::services::Token {
        token_hash,
        kind: "claim".to_owned(),
        subject: number.to_owned(),
        expires_at,
    };
    state.store.token_insert(&token).await?;
    Ok((secret, expires_at))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AccessRequest {
    /// The claim's number.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    number: Option<String>,
    /// The email given when filing.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    email: Option<String>,
}

/// Opens a claim with its number and its client's email.
///
/// Both wrong and either wrong get the same 404, and repeated failures from one address are
/// rate limited.
#[utoipa::path(
    post,
    path = "/api/v1/claims/access",
    tag = "public",
    operation_id = "access_claim",
    request_body = AccessRequest,
    responses(
        (status = 200, description = "A claim token.", body = crate::openapi::AccessGranted),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no claim with this number and email.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `number` or `email` missing.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_requests`: too many failures from this \
            address.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[instrument(skip_all, fields(claim = tracing::field::Empty))]
pub async fn access(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    ReqJson(request): ReqJson<AccessRequest>,
) -> Result<Response, ApiError> {
    let grant = open_claim(
        &state,
        ip,
        request.number.as_deref(),
        request.email.as_deref(),
        lang,
    )
    .await?;
    let body = json!({"token": grant.token, "expires_at": grant.expires_at});
    Ok(Json(body).into_response())
}

/// A client's access to one claim, opened with its number and email.
pub(crate) struct Grant {
    pub number: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Opens claim `number` for the client who gives its `email`. Both wrong and either wrong
/// are the same 404, and failures from one address are rate limited.
pub(crate) async fn open_claim(
    state: &AppState,
    ip: std::net::IpAddr,
    number: Option<&str>,
    email: Option<&str>,
    lang: Lang,
) -> Result<Grant, ApiError> {
    let now = std::time::Instant::now();
    if let Some(retry_after) = state.access_failures.blocked(&ip_key(ip), now) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: retry_after.as_secs().max(1),
        });
    }
    let mut errors = Vec::new();
    let number = number.map(str::trim).unwrap_or_default();
    let email = email.map(str::trim).unwrap_or_default();
    if number.is_empty() {
        errors.push(FieldError::new("number", "required", lang));
    }
    if email.is_empty() {
        errors.push(FieldError::new("email", "required", lang));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }

    let found = match number::normalize(number) {
        Some(number) => detail_document(state, &number).await?,
        None => None,
    };
    let matches = found.as_ref().is_some_and(|doc| {
        doc["contact"]["email"]
            .as_str()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
    });
    let Some(doc) = found.filter(|_| matches) else {
        state.access_failures.record(&ip_key(ip), now);
        return Err(ApiError::NotFound);
    };
    let number = doc["number"].as_str().unwrap_or_default().to_owned();
    tracing::Span::current().record("claim", number.as_str());

    let (token, expires_at) = issue_claim_token(state, &number).await?;
    Ok(Grant {
        number,
        token,
        expires_at,
    })
}

pub(crate) async fn detail_document(
    state: &AppState,
    number: &str,
) -> Result<Option<Value>, ApiError> {
    let Some(id) = state.projections.id(claim_detail::ClaimDetail::NAME) else {
        return Err(ApiError::internal(
            "the claim detail projection is not running",
        ));
    };
    let doc = state
        .store
        .get(id, claim_detail::COLLECTION, number)
        .await?;
    Ok(doc.map(|d| d.body))
}

pub(crate) async fn history_document(state: &AppState, number: &str) -> Result<Value, ApiError> {
    let Some(id) = state.projections.id(claim_history::ClaimHistory::NAME) else {
        return Err(ApiError::internal(
            "the claim history projection is not running",
        ));
    };
    let doc = state
        .store
        .get(id, claim_history::COLLECTION, number)
        .await?;
    Ok(doc
        .map(|d| d.body)
        .unwrap_or_else(|| json!({"entries": []})))
}

/// The allowed client actions for a status, as the domain decides them.
fn actions(status: &Value) -> Value {
    let status: ClaimStatus =
        serde_json::from_value(status.clone()).unwrap_or(ClaimStatus::Pending);
    let actions = claimdesk_domain::Actions::for_status(status);
    let mut names = Vec::new();
    if actions.message {
        names.push("message");
    }
    if actions.close {
        names.push("close");
    }
    if actions.reopen {
        names.push("reopen");
    }
    json!(names)
}

fn public_attachments(list: &Value) -> Value {
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    json!(items
        .iter()
        .map(|a| json!({
            "id": a["id"], "filename": a["filename"], "size": a["size"],
            "media_type": a["media_type"],
        }))
        .collect::<Vec<_>>())
}

/// The claim detail in the API's shape, with labels in `lang`.
pub(crate) fn render_detail(doc: &Value, lang: Lang) -> Value {
    let reference = Reference::load();
    let code = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let status = code(&doc["status"]);
    let entity_label = doc["entity"]
        .as_str()
        .map(|e| Routing::load().label(e, lang));
    json!({
        "number": doc["number"],
        "filed_at": doc["filed_at"],
        "language": doc["language"],
        "theme": doc["theme"],
        "theme_label": reference.label("themes", &code(&doc["theme"]), lang),
        "filing_place": doc["filing_place"],
        "filing_place_label": reference.label("filing_places", &code(&doc["filing_place"]), lang),
        "subject": doc["subject"],
        "request_number": doc["request_number"],
        "message": doc["message"],
        "attachments": public_attachments(&doc["attachments"]),
        "contact": doc["contact"],
        "status": status,
        "status_label": crate::i18n::status_label(lang, &status),
        "entity": doc["entity"],
        "entity_label": entity_label,
        "answered_at": doc["answered_at"],
        "auto_close_at": doc["auto_close_at"],
        "satisfaction": doc["satisfaction"],
        "closed_at": doc["closed_at"],
        "reopen_count": doc["reopen_count"],
        "actions": actions(&doc["status"]),
    })
}

/// What a client is shown of who acted: never an agent's login.
fn client_actor(actor: &Value, lang: Lang) -> Value {
    match actor["kind"].as_str() {
        Some("agent") | Some("staff") => {
            let entity = actor["entity"].as_str();
            json!({
                "kind": "entity",
                "entity": entity,
                "label": entity.map(|e| Routing::load().label(e, lang)),
            })
        }
        Some(kind) => json!({"kind": kind}),
        None => json!({"kind": "system"}),
    }
}

pub(crate) fn render_history(doc: &Value, lang: Lang, staff_view: bool) -> Value {
    let entries = doc["entries"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    json!(entries
        .iter()
        .map(|e| {
            let kind = e["kind"].as_str().unwrap_or_default();
            let actor = if staff_view {
                e["actor"].clone()
            } else {
                client_actor(&e["actor"], lang)
            };
            json!({
                "at": e["at"],
                "kind": kind,
                "label": crate::i18n::history_label(lang, kind),
                "actor": actor,
                "message": e["message"],
                "attachments": public_attachments(&e["attachments"]),
                "satisfaction": e["satisfaction"],
                "entity": e["entity"],
                "entity_label": e["entity"].as_str().map(|code| Routing::load().label(code, lang)),
            })
        })
        .collect::<Vec<_>>())
}

/// The claim, with what its client may do now.
#[utoipa::path(
    get,
    path = "/api/v1/claims/{number}",
    tag = "client",
    operation_id = "claim_detail",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("claim_token" = [])),
    responses(
        (status = 200, description = "The claim.", body = crate::openapi::ClaimDetail),
        (status = 401, description = "`unauthorized`: no claim token, or a bad or expired \
            one.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or not this token's.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = %access.number))]
pub async fn detail(
    State(state): State<AppState>,
    lang: Lang,
    access: ClaimAccess,
) -> Result<Json<Value>, ApiError> {
    let doc = detail_document(&state, &access.number)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(render_detail(&doc, lang)))
}

/// What happened to the claim, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/claims/{number}/history",
    tag = "client",
    operation_id = "claim_history",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("claim_token" = [])),
    responses(
        (status = 200, description = "The entries, oldest first.",
            body = Vec<crate::openapi::HistoryEntry>),
        (status = 401, description = "`unauthorized`: no claim token, or a bad or expired \
            one.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or not this token's.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = %access.number))]
pub async fn history(
    State(state): State<AppState>,
    lang: Lang,
    access: ClaimAccess,
) -> Result<Json<Value>, ApiError> {
    let doc = history_document(&state, &access.number).await?;
    Ok(Json(render_history(&doc, lang, false)))
}

/// A file of the claim, as a download under its original name.
#[utoipa::path(
    get,
    path = "/api/v1/claims/{number}/attachments/{id}",
    tag = "client",
    operation_id = "claim_attachment",
    params(
        ("number" = String, Path, description = "The claim's number."),
        ("id" = String, Path, description = "The file's `id`, from the detail or the history."),
    ),
    security(("claim_token" = [])),
    responses(
        (status = 200, description = "The file, with the media type judged at upload.",
            content(
                ("application/pdf"), ("image/jpeg"), ("image/png"), ("image/gif"),
                ("image/webp"), ("image/tiff"), ("image/bmp"), ("image/heif"),
                ("application/zip"),
            ),
            headers(("Content-Disposition" = String,
                description = "`attachment`, with the file's original name."))),
        (status = 401, description = "`unauthorized`: no claim token, or a bad or expired \
            one.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim or file, or not this \
            token's.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = %access.number, attachment = %id))]
pub async fn attachment(
    State(state): State<AppState>,
    access: ClaimAccess,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    serve_attachment(&state, &access.number, &id).await
}

/// Serves a claim's file as a download under its original name, never rendered inline.
pub(crate) async fn serve_attachment(
    state: &AppState,
    number: &str,
    id: &str,
) -> Result<Response, ApiError> {
    let doc = detail_document(state, number)
        .await?
        .ok_or(ApiError::NotFound)?;
    let files = doc["files"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let file = files
        .iter()
        .find(|f| f["id"] == json!(id))
        .ok_or(ApiError::NotFound)?;
    let sha256 = file["sha256"].as_str().unwrap_or_default();
    let filename = file["filename"].as_str().unwrap_or("attachment");
    let media_type = file["media_type"]
        .as_str()
        .unwrap_or("application/octet-stream");

    let content = state.blobs.open(sha256).await?;
    let stream = tokio_util::io::ReaderStream::new(content);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Some(size) = file["size"].as_u64() {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(filename));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987 form.
fn content_disposition(filename: &str) -> HeaderValue {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let value = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MessageRequest {
    /// The message; not blank.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    pub body: Option<String>,
    /// Upload tokens, at most 10.
    #[serde(default)]
    pub attachments: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CloseRequest {
    /// How satisfied the client is, from 1 to 5.
    #[serde(default)]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 5)]
    satisfaction: Option<i64>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReopenRequest {
    /// Why the claim is reopened; not blank.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    reason: Option<String>,
}

/// The client writes to the handling entity.
///
/// An answered claim waits on its entity again.
#[utoipa::path(
    post,
    path = "/api/v1/claims/{number}/messages",
    tag = "client",
    operation_id = "claim_post_message",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("claim_token" = [])),
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
        (status = 401, description = "`unauthorized`: no claim token, or a bad or expired \
            one.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or not this token's.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the claim's state forbids it (`reason`: \
            `claim_closed`, `not_closed`, ...) or it changed meanwhile \
            (`concurrent_change`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = %access.number))]
pub async fn post_message(
    State(state): State<AppState>,
    lang: Lang,
    access: ClaimAccess,
    ReqJson(request): ReqJson<MessageRequest>,
) -> Result<Response, ApiError> {
    let body = request.body.unwrap_or_default();
    let doc = client_message(&state, &access.number, lang, body, &request.attachments).await?;
    Ok((StatusCode::CREATED, Json(render_detail(&doc, lang))).into_response())
}

/// The claim's detail document after a command, once the read models show it.
pub(crate) async fn detail_after(state: &AppState, number: &str) -> Result<Value, ApiError> {
    detail_document(state, number)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The client of claim `number` writes to its entity; gives the claim's detail document.
pub(crate) async fn client_message(
    state: &AppState,
    number: &str,
    lang: Lang,
    body: String,
    uploads: &[String],
) -> Result<Value, ApiError> {
    let files = attachments(state, uploads, "attachments", lang).await?;
    let at = timestamp(state.clock.now());
    let command = |_: &_| ClaimCommand::PostMessage {
        by: Actor::Client,
        body: body.clone(),
        attachments: files.clone(),
        at,
    };
    run(state, number, "client", lang, command).await?;
    detail_after(state, number).await
}

/// The client closes the claim with a satisfaction level and an optional comment.
#[utoipa::path(
    post,
    path = "/api/v1/claims/{number}/close",
    tag = "client",
    operation_id = "claim_close",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("claim_token" = [])),
    request_body = CloseRequest,
    responses(
        (status = 200, description = "Closed: the claim after it.",
            body = crate::openapi::ClaimDetail),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: no claim token, or a bad or expired \
            one.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or not this token's.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the claim's state forbids it (`reason`: \
            `claim_closed`, `not_closed`, ...) or it changed meanwhile \
            (`concurrent_change`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = %access.number))]
pub async fn close(
    State(state): State<AppState>,
    lang: Lang,
    access: ClaimAccess,
    ReqJson(request): ReqJson<CloseRequest>,
) -> Result<Json<Value>, ApiError> {
    let doc = client_close(
        &state,
        &access.number,
        lang,
        request.satisfaction,
        request.comment,
    )
    .await?;
    Ok(Json(render_detail(&doc, lang)))
}

/// The client closes claim `number` with a satisfaction level (required, 1 to 5) and an
/// optional comment; gives the claim's detail document.
pub(crate) async fn client_close(
    state: &AppState,
    number: &str,
    lang: Lang,
    satisfaction: Option<i64>,
    comment: Option<String>,
) -> Result<Value, ApiError> {
    let Some(level) = satisfaction else {
        return Err(ApiError::Validation(vec![FieldError::new(
            "satisfaction",
            "required",
            lang,
        )]));
    };
    let satisfaction = u8::try_from(level).unwrap_or(0);
    let at = timestamp(state.clock.now());
    let comment = comment.filter(|c| !claimdesk_domain::is_blank(c));
    let command = |_: &_| ClaimCommand::Close {
        satisfaction,
        comment: comment.clone(),
        at,
    };
    run(state, number, "client", lang, command).await?;
    detail_after(state, number).await
}

/// The client reopens a closed claim, saying why.
#[utoipa::path(
    post,
    path = "/api/v1/claims/{number}/reopen",
    tag = "client",
    operation_id = "claim_reopen",
    params(("number" = String, Path, description = "The claim's number.")),
    security(("claim_token" = [])),
    request_body = ReopenRequest,
    responses(
        (status = 200, description = "Reopened: the claim after it.",
            body = crate::openapi::ClaimDetail),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: no claim token, or a bad or expired \
            one.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such claim, or not this token's.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the claim's state forbids it (`reason`: \
            `claim_closed`, `not_closed`, ...) or it changed meanwhile \
            (`concurrent_change`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: fields to correct, each in \
            `errors`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(claim = %access.number))]
pub async fn reopen(
    State(state): State<AppState>,
    lang: Lang,
    access: ClaimAccess,
    ReqJson(request): ReqJson<ReopenRequest>,
) -> Result<Json<Value>, ApiError> {
    let reason = request.reason.unwrap_or_default();
    let doc = client_reopen(&state, &access.number, lang, reason).await?;
    Ok(Json(render_detail(&doc, lang)))
}

/// The client reopens closed claim `number`, saying why; gives the claim's detail document.
pub(crate) async fn client_reopen(
    state: &AppState,
    number: &str,
    lang: Lang,
    reason: String,
) -> Result<Value, ApiError> {
    let at = timestamp(state.clock.now());
    let command = |_: &_| ClaimCommand::Reopen {
        reason: reason.clone(),
        at,
    };
    run(state, number, "client", lang, command).await?;
    detail_after(state, number).await
}
