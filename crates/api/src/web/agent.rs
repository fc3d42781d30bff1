//! The agents' pages: sign in, the entity's queue, a claim with its history, answer and
//! message forms. Plain and dense, for all-day use.
//!
//! A page opens only with a live staff session in the agent's cookie; an agent sees its own
//! entity's claims only (another's is the same "not found" as an unknown number), exactly as
//! through the API, because the pages run the API's operations.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::accounts::{staff_of_secret, Role, Staff};
use crate::app::AppState;
use crate::extract::ClientIp;
use crate::problem::ApiError;
use crate::routes::agent::{handled_claim, number_of, queue_view, reply_to, transfer_claim, Reply};
use crate::routes::claims::{history_document, render_detail, render_history, serve_attachment};
use crate::routes::sessions::open_session;
use crate::routing::Routing;
use claimdesk_store::services::Upload;

use super::client::{details, history_list, kept_uploads, summary, upload_all};
use super::form::Form;
use super::layout::{self, Errors, Field, InputExtra, Switch};
use super::text::ta;
use super::{in_page, t, Ctx, PageError, STAFF_COOKIE};

/// The member of staff of the cookie's session; otherwise the rejection leads to the
/// sign-in page.
pub(super) struct SignedIn(pub Staff);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        signed_in(state, &ctx).await.map(SignedIn)
    }
}

/// The member of staff of the cookie's session, or the sign-in page to go to.
async fn signed_in(state: &AppState, ctx: &Ctx) -> Result<Staff, Response> {
    let to_login = || Redirect::to(&ctx.link("agent/login")).into_response();
    let Some(secret) = ctx.cookie_value(STAFF_COOKIE) else {
        return Err(to_login());
    };
    match staff_of_secret(state, &secret).await {
        Ok(staff) => Ok(staff),
        Err(ApiError::Unauthorized) => Err(to_login()),
        Err(other) => Err(PageError::new(ctx.lang, other).into_response()),
    }
}

/// `GET /{lang}/agent/login`.
pub(super) async fn login_form(ctx: Ctx) -> Response {
    login_page(&ctx, "", &Errors::none(), StatusCode::OK)
}

fn login_page(ctx: &Ctx, login: &str, errors: &Errors, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let body = html! {
        (layout::error_summary(lang, errors, &["login", "password"]))
        form #login-form .narrow method="post" action=(ctx.link("agent/login")) novalidate {
            (layout::csrf(ctx))
            (layout::input(lang, Field::new("login", &t(lang, "field-login")).required(),
                "text", login, errors, InputExtra {
                    maxlength: Some(64), autocomplete: Some("username"), ltr: true,
                }))
            (layout::input(lang, Field::new("password", &t(lang, "field-password")).required(),
                "password", "", errors, InputExtra {
                    maxlength: None, autocomplete: Some("current-password"), ltr: true,
                }))
            div.actions {
                button.primary type="submit" { (t(lang, "login-submit")) }
            }
        }
    };
    let markup = layout::page(ctx, &t(lang, "login-title"), Switch::Link, body);
    ctx.page_with(status, markup, &[])
}

/// `POST /{lang}/agent/login`.
pub(super) async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    form: Form,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let login = form.text("login");
    let password = form.get("password").map(str::to_owned);
    let mut errors = Errors::none();
    let status = match open_session(&state, ip, Some(&login), password, lang).await {
        Ok(opened) => {
            let (location, now) = (ctx.link("agent"), state.clock.now());
            let (token, expires_at) = (&opened.token, opened.expires_at);
            return Ok(ctx.redirect_keeping(&location, STAFF_COOKIE, token, expires_at, now));
        }
        Err(ApiError::Validation(fields)) => {
            errors.extend_api(&fields, str::to_owned);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(ApiError::Unauthorized) => {
            errors.add("login", t(lang, "login-refused"));
            StatusCode::UNAUTHORIZED
        }
        Err(ApiError::TooManyRequests { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60);
            errors.add(
                "login",
                ta(lang, "track-too-many", &[("n", minutes.into())]),
            );
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(other) => return Err(PageError::new(lang, other)),
    };
    Ok(login_page(&ctx, &login, &errors, status))
}

/// `POST /{lang}/agent/logout`: ends the member of staff's sessions.
pub(super) async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    _form: Form,
) -> Result<Response, PageError> {
    if let Some(secret) = ctx.cookie_value(STAFF_COOKIE) {
        if let Ok(staff) = staff_of_secret(&state, &secret).await {
            state
                .store
                .token_delete_subject(crate::accounts::ACCOUNT_TOKEN, &staff.login)
                .await
                .map_err(|e| PageError::new(ctx.lang, e.into()))?;
            tracing::info!(login = %staff.login, "signed out");
        }
    }
    let cookie = ctx.clear_cookie(STAFF_COOKIE);
    Ok(ctx.redirect(&ctx.link("agent/login"), &[cookie]))
}

fn logout_form(ctx: &Ctx, staff: &Staff) -> maud::Markup {
    let lang = ctx.lang;
    html! {
        form.signed-in method="post" action=(ctx.link("agent/logout")) {
            (layout::csrf(ctx))
            span { (t(lang, "signed-in-as")) " " (layout::ltr(&staff.login)) }
            " "
            button #logout .link-button type="submit" { (t(lang, "logout")) }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct QueueQuery {
    entity: Option<String>,
    done: Option<String>,
    /// The page of the queue, from 1.
    page: Option<usize>,
}

/// Claims shown on one page of the queue.
const QUEUE_PAGE: usize = 50;

/// Waiting time for people: days and hours, or hours and minutes.
fn waited(lang: crate::i18n::Lang, seconds: i64) -> String {
    let minutes = seconds / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        ta(
            lang,
            "waited-days",
            &[("d", days.into()), ("h", hours.into())],
        )
    } else if hours == 0 {
        ta(lang, "waited-minutes", &[("m", minutes.into())])
    } else {
        ta(
            lang,
            "waited-hours",
            &[("h", hours.into()), ("m", minutes.into())],
        )
    }
}

/// `GET /{lang}/agent`: the entity's queue, longest waiting first.
pub(super) async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(staff): SignedIn,
    Query(query): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let is_admin = staff.role == Role::Admin;
    let entity = query.entity.filter(|e| Routing::load().entity(e).is_some());
    let view = match (is_admin, &entity) {
        (true, None) => None,
        _ => Some(
            queue_view(&state, &staff, entity.clone(), lang)
                .await
                .map_err(in_page(lang))?,
        ),
    };
    let all = view
        .as_ref()
        .and_then(|v| v["claims"].as_array().cloned())
        .unwrap_or_default();
    let pages = all.len().div_ceil(QUEUE_PAGE).max(1);
    let current = query.page.unwrap_or(1).clamp(1, pages);
    let claims: Vec<_> = all
        .iter()
        .skip((current - 1) * QUEUE_PAGE)
        .take(QUEUE_PAGE)
        .collect();
    let page_link = |n: usize| match &entity {
        Some(entity) => ctx.link(&format!("agent?entity={entity}&page={n}")),
        None => ctx.link(&format!("agent?page={n}")),
    };
    let body = html! {
        (logout_form(&ctx, &staff))
        @if query.done.as_deref() == Some("transferred") {
            (layout::notice(&t(lang, "done-transferred")))
        }
        @if is_admin {
            form.entity-picker method="get" action=(ctx.link("agent")) {
                label for="entity" { (t(lang, "field-entity")) }
                " "
                select #entity name="entity" {
                    option value="" selected[entity.is_none()] { (t(lang, "choose")) }
                    @for known in &Routing::load().entities {
                        option value=(known.code)
                            selected[entity.as_deref() == Some(known.code.as_str())] {
                            (Routing::load().label(&known.code, lang))
                        }
                    }
                }
                " "
                button.secondary type="submit" { (t(lang, "show-queue")) }
            }
        }
        @if let Some(view) = &view {
            p.queue-entity {
                (t(lang, "queue-of")) " "
                strong { (view["entity_label"].as_str().unwrap_or_default()) }
                " · " (ta(lang, "queue-count", &[("n", all.len().into())]))
            }
            @if claims.is_empty() {
                p #queue-empty { (t(lang, "queue-empty")) }
            } @else {
                div.table-wrap { table #queue .queue {
                    caption.visually-hidden { (t(lang, "queue-title")) }
                    thead {
                        tr {
                            th scope="col" { (t(lang, "claim-number")) }
                            th scope="col" { (t(lang, "field-subject")) }
                            th scope="col" { (t(lang, "field-theme")) }
                            th scope="col" { (t(lang, "queue-why")) }
                            th scope="col" { (t(lang, "filed-at")) }
                            th scope="col" { (t(lang, "queue-waiting")) }
                        }
                    }
                    tbody {
                        @for item in claims.iter().copied() {
                            @let number = item["number"].as_str().unwrap_or_default();
                            @let reason = item["reason"].as_str().unwrap_or("new");
                            @let text = |key: &str| item[key].as_str().unwrap_or_default();
                            @let link = ctx.link(&format!("agent/claims/{number}"));
                            // `data-label`: each cell's heading, shown beside it on a phone.
                            tr {
                                td data-label=(t(lang, "claim-number")) {
                                    a.claim-link href=(link) { (layout::ltr(number)) }
                                }
                                td dir="auto" data-label=(t(lang, "field-subject")) {
                                    (text("subject"))
                                }
                                td data-label=(t(lang, "field-theme")) { (text("theme_label")) }
                                td data-label=(t(lang, "queue-why")) {
                                    span.tag data-reason=(reason) { (reason_label(lang, reason)) }
                                }
                                td data-label=(t(lang, "filed-at")) {
                                    (layout::time(lang, text("filed_at")))
                                }
                                td.waiting data-label=(t(lang, "queue-waiting")) {
                                    (waited(lang, item["waiting_seconds"].as_i64().unwrap_or(0)))
                                }
                            }
                        }
                    }
                } }
                @if pages > 1 {
                    nav.pager aria-label=(t(lang, "pages-label")) {
                        @if current > 1 {
                            a rel="prev" href=(page_link(current - 1)) {
                                (t(lang, "page-previous"))
                            }
                        }
                        span aria-current="page" {
                            (ta(lang, "page-of", &[("n", current.into()), ("total", pages.into())]))
                        }
                        @if current < pages {
                            a rel="next" href=(page_link(current + 1)) { (t(lang, "page-next")) }
                        }
                    }
                }
            }
        }
    };
    let markup = layout::page(&ctx, &t(lang, "queue-title"), Switch::Link, body);
    Ok(ctx.page(markup))
}

fn reason_label(lang: crate::i18n::Lang, reason: &str) -> String {
    match reason {
        "reopened" => t(lang, "reason-reopened"),
        "client_message" | "message" => t(lang, "reason-message"),
        "transferred" => t(lang, "reason-transferred"),
        _ => t(lang, "reason-new"),
    }
}

#[derive(Deserialize)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

/// Typed values and errors of a refused form of the claim page.
#[derive(Default)]
struct Typed {
    errors: Errors,
    /// The claim changed meanwhile and nothing was sent: show what was typed.
    unsent: bool,
    /// Which form was refused: `answer`, `message` or `transfer`.
    form: &'static str,
    body: String,
    close: bool,
    /// Files already sent with a refused answer or message: they stay attached.
    uploads: Vec<Upload>,
    /// The transfer form's entity.
    entity: String,
}

/// `GET /{lang}/agent/claims/{number}`.
pub(super) async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(staff): SignedIn,
    Path((_, raw)): Path<(String, String)>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let notice = match query.done.as_deref() {
        Some("answer") => Some(t(ctx.lang, "done-answer")),
        Some("message") => Some(t(ctx.lang, "done-message")),
        _ => None,
    };
    claim_page(
        &state,
        &ctx,
        &staff,
        &raw,
        notice,
        &Typed::default(),
        StatusCode::OK,
    )
    .await
}

async fn claim_page(
    state: &AppState,
    ctx: &Ctx,
    staff: &Staff,
    raw: &str,
    notice: Option<String>,
    typed: &Typed,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let doc = handled_claim(state, staff, raw)
        .await
        .map_err(in_page(lang))?;
    let number = number_of(&doc);
    let detail = render_detail(&doc, lang);
    let history = history_document(state, &number)
        .await
        .map_err(in_page(lang))?;
    let history = render_history(&history, lang, true);
    let files_base = ctx.link(&format!("agent/claims/{number}/files"));
    let open = detail["status"].as_str() != Some("closed");
    // An administrator goes back to the queue of the claim's entity.
    let queue_link = match (staff.role, detail["entity"].as_str()) {
        (Role::Admin, Some(entity)) => ctx.link(&format!("agent?entity={entity}")),
        _ => ctx.link("agent"),
    };
    let empty = Typed::default();
    let for_form = |name: &str| if typed.form == name { typed } else { &empty };
    let body = html! {
        (logout_form(ctx, staff))
        p { a href=(queue_link) { (t(lang, "back-to-queue")) } }
        @if typed.unsent {
            (layout::unsent(lang, notice.as_deref().unwrap_or_default(), &[&typed.body]))
        } @else if let Some(text) = &notice {
            (layout::notice(text))
        }
        (layout::error_summary(lang, &typed.errors, &[
            "answer-body", "answer-files", "message-body", "message-files", "entity",
            "transfer-body",
        ]))
        (summary(lang, &detail, true))
        div.columns {
            div.main-column {
                (history_list(lang, &history, &files_base, true))
                (details(lang, &detail, &files_base))
            }
            aside.side-column {
                @if open {
                    (reply_form(ctx, &number, "answer", for_form("answer")))
                    (reply_form(ctx, &number, "message", for_form("message")))
                    (transfer_form(ctx, &number, &detail, for_form("transfer")))
                } @else {
                    p.closed-note { (t(lang, "agent-claim-closed")) }
                }
            }
        }
    };
    let title = ta(lang, "claim-title", &[("number", number.as_str().into())]);
    let markup = layout::page(
        ctx,
        &title,
        Switch::To(format!("agent/claims/{number}")),
        body,
    );
    Ok(ctx.page_with(status, markup, &[]))
}

/// The answer form (`kind` = `answer`) or the message form (`message`).
fn reply_form(ctx: &Ctx, number: &str, kind: &str, typed: &Typed) -> maud::Markup {
    let lang = ctx.lang;
    let answer = kind == "answer";
    let (id, path, title, send) = if answer {
        ("answer-form", "answer", "answer-title", "answer-send")
    } else {
        (
            "message-form",
            "messages",
            "agent-message-title",
            "message-send",
        )
    };
    // Both forms are on one page: their fields need ids of their own.
    let body_id = format!("{kind}-body");
    let files_id = format!("{kind}-files");
    let error = typed.errors.on(&body_id);
    html! {
        section.panel {
            h2 { (t(lang, title)) }
            form id=(id) method="post" action=(ctx.link(&format!("agent/claims/{number}/{path}")))
                enctype="multipart/form-data" novalidate {
                (layout::csrf(ctx))
                div.field.has-error[error.is_some()] {
                    label for=(body_id) {
                        (t(lang, "field-your-message")) " "
                        abbr.required title=(t(lang, "required")) aria-hidden="true" { "*" }
                        span.visually-hidden { " (" (t(lang, "required")) ")" }
                    }
                    @if let Some(message) = &error {
                        p.field-error id={ (body_id) "-error" } { (message) }
                    }
                    textarea id=(body_id) name="body" rows="6" maxlength="10000" dir="auto"
                        aria-required="true"
                        aria-invalid=[error.as_ref().map(|_| "true")]
                        aria-describedby=[error.as_ref().map(|_| format!("{body_id}-error"))] {
                        (typed.body)
                    }
                }
                (layout::attached(lang, &typed.uploads))
                (layout::file_input(lang, &files_id, "files", &typed.errors))
                @if answer {
                    div.field.checkbox {
                        label for="close" {
                            input #close type="checkbox" name="close" value="true"
                                checked[typed.close];
                            " " (t(lang, "answer-and-close"))
                        }
                    }
                }
                div.actions {
                    button.primary type="submit" data-once=(t(lang, "sending")) { (t(lang, send)) }
                }
            }
        }
    }
}

/// The form that hands the claim to another entity, saying why.
fn transfer_form(ctx: &Ctx, number: &str, detail: &serde_json::Value, typed: &Typed) -> Markup {
    let lang = ctx.lang;
    let current = detail["entity"].as_str().unwrap_or_default();
    let routing = Routing::load();
    let others: Vec<(String, String)> = routing
        .entities
        .iter()
        .filter(|e| e.code != current)
        .map(|e| (e.code.clone(), routing.label(&e.code, lang)))
        .collect();
    html! {
        section.panel {
            h2 { (t(lang, "transfer-title")) }
            form #transfer-form method="post"
                action=(ctx.link(&format!("agent/claims/{number}/transfer"))) novalidate {
                (layout::csrf(ctx))
                (layout::select(lang, Field::new("entity", &t(lang, "field-entity")).required(),
                    &others, &typed.entity, &typed.errors))
                (layout::textarea(lang,
                    Field::new("transfer-body", &t(lang, "field-transfer-reason")).required(),
                    &typed.body, &typed.errors, 2_000))
                div.actions {
                    button.secondary type="submit" data-once=(t(lang, "sending")) {
                        (t(lang, "transfer-send"))
                    }
                }
            }
        }
    }
}

/// `POST /{lang}/agent/claims/{number}/transfer`: back to the queue once the claim is another
/// entity's.
pub(super) async fn transfer(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(staff): SignedIn,
    Path((_, raw)): Path<(String, String)>,
    form: Form,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let mut typed = Typed {
        form: "transfer",
        body: form.text("transfer-body"),
        entity: form.text("entity"),
        ..Typed::default()
    };
    let (to, reason) = (typed.entity.clone(), typed.body.clone());
    match transfer_claim(&state, &staff, &raw, lang, to, reason).await {
        Ok(_) => Ok(ctx.redirect(&ctx.link("agent?done=transferred"), &[])),
        Err(ApiError::Validation(fields)) => {
            for error in fields {
                let key = if error.field == "entity" {
                    "entity"
                } else {
                    "transfer-body"
                };
                let error = super::required_if_empty(error, &typed.body, lang);
                typed.errors.add(key, error.message);
            }
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            claim_page(&state, &ctx, &staff, &raw, None, &typed, status).await
        }
        Err(ApiError::Conflict(_)) => {
            typed.unsent = true;
            let notice = Some(t(lang, "action-conflict"));
            claim_page(
                &state,
                &ctx,
                &staff,
                &raw,
                notice,
                &typed,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(PageError::new(lang, other)),
    }
}

async fn reply(
    state: AppState,
    ctx: Ctx,
    staff: Staff,
    raw: String,
    form: Form,
    kind: &'static str,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let mut typed = Typed {
        form: kind,
        body: form.text("body"),
        close: form.get("close") == Some("true"),
        ..Typed::default()
    };
    let key = format!("{kind}-files");
    typed.uploads = kept_uploads(&state, &form, None)
        .await
        .map_err(in_page(lang))?;
    let stored = upload_all(&state, lang, &form, &mut typed.errors, &key).await?;
    typed.uploads.extend(stored);
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    if !typed.errors.is_empty() {
        return claim_page(&state, &ctx, &staff, &raw, None, &typed, status).await;
    }
    let what = match kind {
        "answer" => Reply::Answer { close: typed.close },
        _ => Reply::Message,
    };
    let tokens: Vec<String> = typed.uploads.iter().map(|u| u.token.clone()).collect();
    let result = reply_to(
        &state,
        &staff,
        &raw,
        lang,
        what,
        typed.body.clone(),
        &tokens,
    )
    .await;
    match result {
        Ok(doc) => {
            let number = number_of(&doc);
            let location = ctx.link(&format!("agent/claims/{number}?done={kind}"));
            Ok(ctx.redirect(&location, &[]))
        }
        Err(ApiError::Validation(fields)) => {
            let (body, files) = (format!("{kind}-body"), format!("{kind}-files"));
            for error in fields {
                if error.field.starts_with("attachments") {
                    typed.errors.add(&files, error.message);
                } else {
                    let error = super::required_if_empty(error, &typed.body, lang);
                    typed.errors.add(&body, error.message);
                }
            }
            claim_page(&state, &ctx, &staff, &raw, None, &typed, status).await
        }
        Err(ApiError::Conflict(_)) => {
            let notice = Some(t(lang, "action-conflict"));
            claim_page(
                &state,
                &ctx,
                &staff,
                &raw,
                notice,
                &typed,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(other) => Err(PageError::new(lang, other)),
    }
}

/// `POST /{lang}/agent/claims/{number}/answer`.
pub(super) async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(staff): SignedIn,
    Path((_, raw)): Path<(String, String)>,
    form: Form,
) -> Result<Response, PageError> {
    reply(state, ctx, staff, raw, form, "answer").await
}

/// `POST /{lang}/agent/claims/{number}/messages`.
pub(super) async fn message(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(staff): SignedIn,
    Path((_, raw)): Path<(String, String)>,
    form: Form,
) -> Result<Response, PageError> {
    reply(state, ctx, staff, raw, form, "message").await
}

/// `GET /{lang}/agent/claims/{number}/files/{id}`.
pub(super) async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(staff): SignedIn,
    Path((_, raw, id)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let doc = handled_claim(&state, &staff, &raw)
        .await
        .map_err(in_page(ctx.lang))?;
    serve_attachment(&state, &number_of(&doc), &id)
        .await
        .map_err(in_page(ctx.lang))
}
