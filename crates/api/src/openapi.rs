//! The API's OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations, and
//! the page that shows it.
//!
//! What this module promises:
//! - `GET /api-docs/openapi.json` serves [`ApiDoc::openapi`]: every route of [`crate::router`]
//!   and nothing else, each with its method, parameters, request body, every status it
//!   answers and the schema of each body. `crates/api/tests/openapi.rs` checks both
//!   directions against `app.rs`, and checks real responses of the router against the schemas.
//! - Many handlers build their bodies with `json!`; the structs below are the documented shape
//!   of those bodies, not what builds them. Their fields are in the order the handlers write
//!   them; a field that the handler always writes is required, even when its value may be null.
//! - What the router's layers do to every route is added here once, by [`Conventions`], as the
//!   layers themselves are: `?lang=` on every `/api/v1` operation; `Idempotency-Key` and its
//!   400, 409 and 422 on every `/api/v1` POST; a 500 problem on every `/api/v1` operation.
//! - `GET /docs` is one self-contained HTML page (no other file, no network) that reads the
//!   document and lets a reader try any operation from the browser.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::problem::PROBLEM_JSON;
use crate::routes;
use crate::validate::Profile;

/// The prefix of the versioned API.
pub const API_BASE: &str = "/api/v1";
/// The security scheme of a claim's bearer token (`POST /claims`, `POST /claims/access`).
pub const CLAIM_TOKEN: &str = "claim_token";
/// The security scheme of a staff session's bearer token (`POST /sessions`).
pub const STAFF_TOKEN: &str = "staff_token";

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "claimdesk",
        description = "Online claims: filing, following and answering them. Errors are \
            `application/problem+json` (schema `Problem`); labels and messages follow `?lang=` \
            or `Accept-Language` (`fr` by default, `ar`)."
    ),
    paths(
        routes::public::reference,
        routes::public::new_captcha,
        routes::public::upload,
        routes::claims::file,
        routes::claims::validate,
        routes::claims::access,
        routes::claims::detail,
        routes::claims::history,
        routes::claims::attachment,
        routes::claims::post_message,
        routes::claims::close,
        routes::claims::reopen,
        routes::sessions::create,
        routes::agent::queue,
        routes::agent::detail,
        routes::agent::history,
        routes::agent::attachment,
        routes::agent::answer,
        routes::agent::post_message,
        routes::agent::transfer,
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::metrics,
        routes::outbox::list,
        routes::outbox::retry,
        routes::admin::projections,
        routes::admin::rebuild,
        routes::audit::events,
        routes::audit::state_at,
        routes::audit::verify,
        routes::stats::satisfaction,
        document,
        page,
    ),
    modifiers(&Security, &Conventions),
    tags(
        (name = "public", description = "Reference data, captchas, uploads and filing: no \
            credentials."),
        (name = "client", description = "A claim followed by its client, with the claim's \
            bearer token."),
        (name = "agents", description = "Staff sessions, and what the handling entities' agents \
            do, with a staff bearer token."),
        (name = "operations", description = "Health, readiness, metrics and this \
            documentation."),
        (name = "audit", description = "A claim's raw events, its state at any instant and \
            whether its stored history is intact: auditors and administrators."),
        (name = "statistics", description = "Satisfaction statistics, without personal data: \
            analysts and administrators."),
        (name = "administration", description = "The read models: their progress, and \
            rebuilds from the events: administrators."),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serializes")
});

/// The OpenAPI document of this API, generated from the code.
#[utoipa::path(
    get,
    path = "/api-docs/openapi.json",
    tag = "operations",
    operation_id = "openapi_document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document.", body = Object,
            content_type = "application/json"),
    )
)]
pub async fn document() -> Response {
    let json = DOCUMENT.as_str();
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

/// The interactive API documentation: one HTML page, which needs nothing else.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    operation_id = "documentation_page",
    responses(
        (status = 200, description = "A self-contained HTML page.", body = String,
            content_type = "text/html"),
    )
)]
pub async fn page() -> Html<&'static str> {
    Html(include_str!("../static/docs.html"))
}

/// The two bearer schemes: a claim's token and a staff session's.
struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            CLAIM_TOKEN,
            bearer(
                "A claim's token, from `POST /api/v1/claims` or `POST /api/v1/claims/access`; \
                 it opens that claim only.",
            ),
        );
        components.add_security_scheme(
            STAFF_TOKEN,
            bearer("A staff session's token, from `POST /api/v1/sessions`."),
        );
    }
}

/// What the router's layers add to every `/api/v1` route (see the module's guarantees).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for (path, item) in api.paths.paths.iter_mut() {
            if !path.starts_with(API_BASE) {
                continue;
            }
            let operations = [
                (&mut item.get, false),
                (&mut item.put, false),
                (&mut item.delete, false),
                (&mut item.patch, false),
                (&mut item.post, true),
            ];
            for (operation, is_post) in operations {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                add_parameter(operation, lang_parameter());
                if is_post {
                    add_parameter(operation, idempotency_parameter());
                    add_problem(
                        operation,
                        400,
                        "`idempotency_key_invalid`: an empty or over-long \
                        `Idempotency-Key`.",
                    );
                    add_problem(
                        operation,
                        409,
                        "`idempotency_in_progress`: a request with this \
                        `Idempotency-Key` is still in flight.",
                    );
                    add_problem(
                        operation,
                        422,
                        "`idempotency_key_reused`: this \
                        `Idempotency-Key` was used for another body.",
                    );
                }
                add_problem(
                    operation,
                    500,
                    "`internal`: nothing the client can fix; the cause is \
                    logged, not shown.",
                );
            }
        }
    }
}

fn lang_parameter() -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["fr", "ar"]))
        .build();
    ParameterBuilder::new()
        .name("lang")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "The language of labels and messages; wins over `Accept-Language`. French by \
             default.",
        ))
        .schema(Some(schema))
        .build()
}

fn idempotency_parameter() -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(255))
        .build();
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The same key with the same body replays the first response (with \
             `Idempotent-Replayed: true`) instead of doing the work twice.",
        ))
        .schema(Some(schema))
        .build()
}

fn add_parameter(operation: &mut Operation, parameter: Parameter) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if !parameters.iter().any(|p| p.name == parameter.name) {
        parameters.push(parameter);
    }
}

/// Adds a problem response for `status`, or the reason to the one already documented.
fn add_problem(operation: &mut Operation, status: u16, reason: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(&status.to_string()) {
        Some(RefOr::T(response)) => {
            response.description = format!("{} Or {reason}", response.description);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            let response = ResponseBuilder::new()
                .description(upper_first(reason))
                .content(PROBLEM_JSON, content)
                .build();
            responses.insert(status.to_string(), RefOr::T(response));
        }
    }
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// The documented bodies. Each mirrors what a handler writes with `json!`.

/// A language of the service: `fr` (French, the default) or `ar` (Arabic).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Fr,
    Ar,
}

/// A choice of a reference list, labelled in the request's language.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReferenceItem {
    /// A stable code.
    pub code: String,
    pub label: String,
}

/// `GET /api/v1/reference`: the lists the filing form offers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reference {
    pub themes: Vec<ReferenceItem>,
    pub filing_places: Vec<ReferenceItem>,
    pub profiles: Vec<ReferenceItem>,
    /// ISO 3166-1 alpha-2 codes, Morocco first, then in the language's alphabetical order.
    pub countries: Vec<ReferenceItem>,
}

/// A new captcha, good for one filing until it expires.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Captcha {
    pub id: String,
    /// The picture to read, as a `data:image/png;base64,...` URL.
    pub image: String,
    pub expires_at: DateTime<Utc>,
}

/// The body of `POST /api/v1/uploads`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadForm {
    /// PDF, JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF or a ZIP of those; 20 MiB at most.
    #[schema(content_media_type = "application/octet-stream")]
    pub file: String,
}

/// A stored upload, to attach with its token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Upload {
    /// Put it in a claim's, message's or answer's `attachments`.
    pub token: String,
    /// The name sent, cleaned.
    pub filename: String,
    /// In bytes.
    pub size: u64,
    /// Judged from the content.
    pub media_type: String,
    /// The SHA-256 of the content, in hexadecimal.
    pub sha256: String,
}

/// A claim's status.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Waiting on the handling entity.
    Pending,
    /// Answered: waiting on the client, and closing by itself at `auto_close_at`.
    Answered,
    Closed,
}

/// A filed claim, and a token to follow it at once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Filed {
    pub number: String,
    pub status: ClaimStatus,
    pub status_label: String,
    pub filed_at: DateTime<Utc>,
    /// A claim token (scheme `claim_token`).
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A claim token, for the claim with that number and email.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessGranted {
    /// A claim token (scheme `claim_token`).
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A file of a claim, to download from its `attachments/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    /// In bytes.
    pub size: u64,
    pub media_type: String,
}

/// The client's contact details, as filed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    pub profile: Profile,
    pub email: String,
    #[schema(required = true)]
    pub company_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(required = true)]
    pub country: Option<String>,
}

/// What the client may do to the claim now.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientAction {
    Message,
    Close,
    Reopen,
}

/// A claim as its client or its handling entity sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimDetail {
    pub number: String,
    pub filed_at: DateTime<Utc>,
    /// The language the claim was filed in.
    pub language: Language,
    pub theme: String,
    #[schema(required = true)]
    pub theme_label: Option<String>,
    pub filing_place: String,
    #[schema(required = true)]
    pub filing_place_label: Option<String>,
    pub subject: String,
    pub request_number: String,
    pub message: String,
    /// The files filed with the claim.
    pub attachments: Vec<Attachment>,
    pub contact: Contact,
    pub status: ClaimStatus,
    pub status_label: String,
    /// The code of the handling entity.
    #[schema(required = true)]
    pub entity: Option<String>,
    #[schema(required = true)]
    pub entity_label: Option<String>,
    /// Set while the claim is answered.
    #[schema(required = true)]
    pub answered_at: Option<DateTime<Utc>>,
    /// When an answered claim closes by itself, unless the client reacts.
    #[schema(required = true)]
    pub auto_close_at: Option<DateTime<Utc>>,
    /// The latest rating the client gave when closing, 1 to 5.
    #[schema(required = true, minimum = 1, maximum = 5)]
    pub satisfaction: Option<u8>,
    #[schema(required = true)]
    pub closed_at: Option<DateTime<Utc>>,
    pub reopen_count: u32,
    pub actions: Vec<ClientAction>,
}

/// What happened to a claim.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    Filed,
    Routed,
    Transferred,
    Answered,
    ClientMessage,
    EntityMessage,
    /// Closed by the client.
    Closed,
    /// Closed by the entity with its answer.
    ClosedByEntity,
    /// Closed automatically, the client not having reacted to an answer in time.
    AutoClosed,
    Reopened,
}

/// Who acted. A client sees an entity, never an agent's login; staff see the login.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// The client.
    Client,
    /// For a client: the entity whose member of staff acted.
    Entity {
        #[schema(required = true)]
        entity: Option<String>,
        #[schema(required = true)]
        label: Option<String>,
    },
    /// For staff: an agent of a handling entity.
    Agent { login: String, entity: String },
    /// For staff: a member of staff outside the handling entities.
    Staff { login: String, role: String },
    /// The service itself, e.g. an automatic closure.
    System,
}

/// One event of a claim's history, in words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub kind: HistoryKind,
    pub label: String,
    pub actor: Actor,
    /// The message, answer, comment or reason that came with it.
    #[schema(required = true)]
    pub message: Option<String>,
    pub attachments: Vec<Attachment>,
    /// On a client's closure.
    #[schema(required = true, minimum = 1, maximum = 5)]
    pub satisfaction: Option<u8>,
    /// The entity a routing or a transfer gave the claim to.
    #[schema(required = true)]
    pub entity: Option<String>,
    #[schema(required = true)]
    pub entity_label: Option<String>,
}

/// A staff member's role.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Agent,
    Auditor,
    Analyst,
    Admin,
}

/// An open staff session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    /// A staff token (scheme `staff_token`).
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub role: StaffRole,
    /// An agent's entity; null for the other roles.
    #[schema(required = true)]
    pub entity: Option<String>,
}

/// Why a claim waits on its entity.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    Filed,
    ClientMessage,
    Reopened,
    Transferred,
}

/// A claim in an entity's queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueuedClaim {
    pub number: String,
    pub subject: String,
    pub theme: String,
    #[schema(required = true)]
    pub theme_label: Option<String>,
    pub filing_place: String,
    #[schema(required = true)]
    pub filing_place_label: Option<String>,
    pub language: Language,
    pub filed_at: DateTime<Utc>,
    pub waiting_since: DateTime<Utc>,
    /// Seconds since `waiting_since`.
    #[schema(required = true)]
    pub waiting_seconds: Option<i64>,
    pub reason: WaitReason,
    pub reopen_count: u32,
}

/// The claims that wait on an entity, longest waiting first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Queue {
    pub entity: String,
    pub entity_label: String,
    pub claims: Vec<QueuedClaim>,
}

/// Whether the store answered.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreReach {
    Reachable,
    Unreachable,
}

/// Why a projection waits at an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectionFailure {
    pub position: u64,
    pub error: String,
    pub attempts: u32,
}

/// A new copy of a read model being filled from the events, before it replaces the serving
/// one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectionRebuild {
    pub version: u32,
    pub generation: u32,
    /// The last store position the new copy applied.
    pub position: u64,
    /// The store's head when the copy was started: it serves once it has applied this.
    pub target: u64,
    /// Set while an event keeps failing in the new copy; the old copy keeps serving.
    #[schema(required = true)]
    pub failing: Option<ProjectionFailure>,
}

/// Where a read model stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectionState {
    pub name: String,
    /// The definition version of the copy that serves readers.
    pub version: u32,
    /// Which copy of the read model serves readers.
    pub generation: u32,
    /// The last store position the serving copy applied.
    pub position: u64,
    /// Set while an event keeps failing.
    #[schema(required = true)]
    pub failing: Option<ProjectionFailure>,
    /// The copy being filled to replace the serving one, while there is one.
    #[schema(required = true)]
    pub rebuild: Option<ProjectionRebuild>,
}

/// Whether the service can serve: the store answers and the read models are caught up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub store: StoreReach,
    /// The store's last position; absent when the store is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub head: Option<u64>,
    /// Absent when the store is unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub projections: Option<Vec<ProjectionState>>,
}
