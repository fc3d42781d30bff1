//! The client's pages: home, finding a claim with its number and email, the claim with its
//! history, and what the client may do on it (write, close, reopen).
//!
//! A claim opens only with the claim token in the client's cookie, for that very claim;
//! otherwise the page asks for the number and email again. What a client may do is what the
//! domain allows for the claim's status: the forms shown are the API's `actions`.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::claim_of_secret;
use crate::extract::ClientIp;
use crate::i18n::Lang;
use crate::number;
use crate::problem::ApiError;
use crate::reference::Reference;
use crate::routes::claims::{
    client_close, client_message, client_reopen, detail_document, history_document, open_claim,
    render_detail, render_history, serve_attachment,
};
use crate::routes::public::store_upload;
use claimdesk_store::services::Upload;

use super::form::Form;
use super::layout::{self, Errors, Field, InputExtra, Switch};
use super::text::ta;
use super::{in_page, t, Ctx, PageError, CLAIM_COOKIE};

/// `GET /{lang}/`: what the site is for, and its two ways in.
pub(super) async fn home(ctx: Ctx) -> Response {
    let lang = ctx.lang;
    let body = html! {
        p.lead { (t(lang, "home-lead")) }
        div.cards {
            section.card {
                h2 { (t(lang, "home-submit-title")) }
                p { (t(lang, "home-submit-text")) }
                a #submit-claim .button.primary href=(ctx.link("claims/new")) {
                    (t(lang, "home-submit"))
                }
            }
            section.card {
                h2 { (t(lang, "home-follow-title")) }
                p { (t(lang, "home-follow-text")) }
                a #follow-claim .button.secondary href=(ctx.link("track")) {
                    (t(lang, "home-follow"))
                }
            }
        }
        section.how {
            h2 { (t(lang, "home-how-title")) }
            ol {
                li { (t(lang, "home-how-1")) }
                li { (t(lang, "home-how-2")) }
                li { (t(lang, "home-how-3")) }
                li { (t(lang, "home-how-4")) }
            }
        }
    };
    ctx.page(layout::page(
        &ctx,
        &t(lang, "home-title"),
        Switch::Link,
        body,
    ))
}

/// `GET /claims/{number}`: the older links of the emails, to the claim in the reader's
/// language (`?lang=`, else the browser's); a number that does not read leads to the
/// number and email form.
pub(super) async fn from_email(headers: HeaderMap, uri: axum::http::Uri) -> Redirect {
    let query_lang = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_owned)
    });
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = crate::i18n::negotiate(query_lang.as_deref(), accept);
    let raw = uri.path().trim_start_matches("/claims/");
    let decoded = super::form::percent_decode(raw.as_bytes());
    match number::normalize(&decoded) {
        Some(number) => Redirect::to(&format!("/{}/claims/{number}", lang.code())),
        None => Redirect::to(&format!("/{}/track", lang.code())),
    }
}

#[derive(Deserialize)]
pub(super) struct TrackQuery {
    number: Option<String>,
}

/// `GET /{lang}/track`: the number and email form.
pub(super) async fn track_form(ctx: Ctx, Query(query): Query<TrackQuery>) -> Response {
    let number = query.number.unwrap_or_default();
    track_page(&ctx, &number, "", &Errors::none(), StatusCode::OK)
}

fn track_page(
    ctx: &Ctx,
    number: &str,
    email: &str,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let body = html! {
        (layout::error_summary(lang, errors, &["number", "email"]))
        p.intro { (t(lang, "track-intro")) }
        form #track-form method="post" action=(ctx.link("track")) novalidate {
            (layout::csrf(ctx))
            (layout::input(lang, Field::new("number", &t(lang, "field-claim-number")).required()
                    .hint(&t(lang, "field-claim-number-hint")),
                "text", number, errors, InputExtra {
                    maxlength: Some(64), autocomplete: Some("off"), ltr: true,
                }))
            (layout::input(lang, Field::new("email", &t(lang, "field-email")).required(),
                "email", email, errors, InputExtra {
                    maxlength: Some(254), autocomplete: Some("email"), ltr: true,
                }))
            div.actions {
                button.primary type="submit" { (t(lang, "track-submit")) }
            }
        }
    };
    let markup = layout::page(ctx, &t(lang, "track-title"), Switch::Link, body);
    ctx.page_with(status, markup, &[])
}

/// `POST /{lang}/track`: opens the claim and keeps its token in a cookie.
pub(super) async fn track(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    form: Form,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let number = form.text("number");
    let email = form.text("email");
    let refused = |errors: Errors, status| Ok(track_page(&ctx, &number, &email, &errors, status));
    match open_claim(&state, ip, Some(&number), Some(&email), lang).await {
        Ok(grant) => {
            let location = ctx.link(&format!("claims/{}", grant.number));
            let now = state.clock.now();
            Ok(ctx.redirect_keeping(&location, CLAIM_COOKIE, &grant.token, grant.expires_at, now))
        }
        Err(ApiError::Validation(fields)) => {
            let mut errors = Errors::none();
            errors.extend_api(&fields, str::to_owned);
            refused(errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(ApiError::NotFound) => {
            let mut errors = Errors::none();
            errors.add("number", t(lang, "track-not-found"));
            refused(errors, StatusCode::NOT_FOUND)
        }
        Err(ApiError::TooManyRequests { retry_after_secs }) => {
            let mut errors = Errors::none();
            let minutes = retry_after_secs.div_ceil(60);
            errors.add(
                "number",
                ta(lang, "track-too-many", &[("n", minutes.into())]),
            );
            refused(errors, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(other) => Err(PageError::new(lang, other)),
    }
}

/// The claim number of the path if the client's cookie opens it; else where to go instead.
async fn opened(state: &AppState, ctx: &Ctx, raw: &str) -> Result<String, Response> {
    let number = number::normalize(raw);
    let secret = ctx.cookie_value(CLAIM_COOKIE);
    let subject = match &secret {
        Some(secret) => claim_of_secret(state, secret)
            .await
            .map_err(|e| PageError::new(ctx.lang, e).into_response())?,
        None => None,
    };
    match (number, subject) {
        (Some(number), Some(subject)) if number == subject => Ok(number),
        (number, _) => {
            let query = number.map(|n| format!("?number={n}")).unwrap_or_default();
            Err(Redirect::to(&ctx.link(&format!("track{query}"))).into_response())
        }
    }
}

/// The claim of the path (`/{lang}/claims/{number}/...`), opened by the client's cookie;
/// otherwise the rejection leads to the number and email form.
pub(super) struct OpenClaim(pub String);

impl FromRequestParts<AppState> for OpenClaim {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let raw = parts.uri.path().split('/').nth(3).unwrap_or_default();
        let raw = super::form::percent_decode(raw.as_bytes());
        opened(state, &ctx, &raw).await.map(OpenClaim)
    }
}

/// `GET /{lang}/claims/{number}/filed`: the claim number, right after filing.
pub(super) async fn filed(
    State(state): State<AppState>,
    ctx: Ctx,
    OpenClaim(number): OpenClaim,
    Query(query): Query<AgainQuery>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let doc = detail_document(&state, &number)
        .await
        .map_err(in_page(lang))?
        .ok_or_else(|| PageError::new(lang, ApiError::NotFound))?;
    let email = doc["contact"]["email"].as_str().unwrap_or_default();
    let body = html! {
        @if query.again.is_some() {
            (layout::notice(&t(lang, "filed-already")))
        }
        div.confirmation role="status" {
            p { (t(lang, "filed-number-intro")) }
            p #claim-number .claim-number { (layout::ltr(&number)) }
            p { (t(lang, "filed-keep")) }
            p {
                (t(lang, "filed-email-sent")) " " (layout::ltr(email))
            }
        }
        p {
            a #open-claim .button.primary href=(ctx.link(&format!("claims/{number}"))) {
                (t(lang, "filed-open"))
            }
        }
    };
    let markup = layout::page(&ctx, &t(lang, "filed-title"), Switch::Link, body);
    Ok(ctx.page(markup))
}

#[derive(Deserialize)]
pub(super) struct AgainQuery {
    again: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

/// Typed values and errors of the claim page's forms, to show a refused form again.
#[derive(Default)]
struct Typed {
    errors: Errors,
    /// The claim changed meanwhile and the action was not done: show what was typed.
    unsent: bool,
    body: String,
    /// Files already sent with a refused message: they stay attached.
    uploads: Vec<Upload>,
    comment: String,
    satisfaction: String,
    reason: String,
}

/// `GET /{lang}/claims/{number}`: the claim, its history and its actions.
pub(super) async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    OpenClaim(number): OpenClaim,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let notice = match query.done.as_deref() {
        Some("message") => Some(t(ctx.lang, "done-message")),
        Some("closed") => Some(t(ctx.lang, "done-closed")),
        Some("reopened") => Some(t(ctx.lang, "done-reopened")),
        _ => None,
    };
    claim_page(
        &state,
        &ctx,
        &number,
        notice,
        &Typed::default(),
        StatusCode::OK,
    )
    .await
}

async fn claim_page(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    notice: Option<String>,
    typed: &Typed,
    status: StatusCode,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let doc = detail_document(state, number)
        .await
        .map_err(in_page(lang))?
        .ok_or_else(|| PageError::new(lang, ApiError::NotFound))?;
    let detail = render_detail(&doc, lang);
    let history_doc = history_document(state, number)
        .await
        .map_err(in_page(lang))?;
    let history = render_history(&history_doc, lang, false);
    let files_base = ctx.link(&format!("claims/{number}/files"));
    let actions: Vec<&str> = detail["actions"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let body = html! {
        form.signed-in method="post" action=(ctx.link(&format!("claims/{number}/leave"))) {
            (layout::csrf(ctx))
            button #leave .link-button type="submit" { (t(lang, "leave-claim")) }
        }
        @if typed.unsent {
            (layout::unsent(lang, notice.as_deref().unwrap_or_default(),
                &[&typed.body, &typed.comment, &typed.reason]))
        } @else if let Some(text) = &notice {
            (layout::notice(text))
        }
        (layout::error_summary(lang, &typed.errors,
            &["body", "files", "satisfaction", "comment", "reason"]))
        (summary(lang, &detail, false))
        div.columns {
            div.main-column {
                (details(lang, &detail, &files_base))
                (history_list(lang, &history, &files_base, false))
            }
            aside.side-column {
                @if actions.contains(&"message") {
                    (message_form(ctx, number, typed))
                }
                @if actions.contains(&"close") {
                    (close_form(ctx, number, typed))
                }
                @if actions.contains(&"reopen") {
                    (reopen_form(ctx, number, typed))
                }
            }
        }
    };
    let title = ta(lang, "claim-title", &[("number", number.into())]);
    let markup = layout::page(ctx, &title, Switch::To(format!("claims/{number}")), body);
    Ok(ctx.page_with(status, markup, &[]))
}

/// The claim's number, status and key dates, on top of its page; `staff` words it for the
/// entity's agents rather than for the client.
pub(super) fn summary(lang: Lang, detail: &Value, staff: bool) -> Markup {
    let text = |key: &str| detail[key].as_str().unwrap_or_default().to_owned();
    let status = text("status");
    html! {
        div.claim-summary {
            p {
                span.label { (t(lang, "claim-number")) " " }
                strong #claim-number { (layout::ltr(&text("number"))) }
            }
            p {
                span.label { (t(lang, "claim-status")) " " }
                strong #claim-status .status data-status=(status) { (text("status_label")) }
            }
            @if let Some(at) = detail["auto_close_at"].as_str() {
                @if status == "answered" {
                    p.deadline {
                        (t(lang, if staff { "auto-close-at-staff" } else { "auto-close-at" }))
                        " " (layout::time(lang, at))
                    }
                }
            }
            @if let Some(entity) = detail["entity_label"].as_str() {
                p { span.label { (t(lang, "claim-entity")) " " } (entity) }
            }
        }
    }
}

/// The claim's details as filed.
pub(super) fn details(lang: Lang, detail: &Value, files_base: &str) -> Markup {
    let text = |key: &str| detail[key].as_str().unwrap_or_default().to_owned();
    let contact = &detail["contact"];
    let contact_text = |key: &str| contact[key].as_str().map(str::to_owned);
    let row = |label: String, value: Markup| html! { div.row { dt { (label) } dd { (value) } } };
    html! {
        section #details .panel {
            h2 { (t(lang, "details-title")) }
            dl {
                (row(t(lang, "filed-at"), layout::time(lang, &text("filed_at"))))
                (row(t(lang, "field-theme"), html! { (text("theme_label")) }))
                (row(t(lang, "field-filing-place"), html! { (text("filing_place_label")) }))
                (row(t(lang, "field-subject"), html! { span dir="auto" { (text("subject")) } }))
                (row(t(lang, "field-request-number"), layout::ltr(&text("request_number"))))
                (row(t(lang, "field-message"), layout::multiline(&text("message"))))
                @if let Some(files) = detail["attachments"].as_array().filter(|f| !f.is_empty()) {
                    (row(t(lang, "attachments-legend"), file_links(lang, files, files_base)))
                }
                (row(t(lang, "field-email"),
                    layout::ltr(&contact_text("email").unwrap_or_default())))
                @for (key, label) in [
                    ("company_name", "field-company-name"), ("last_name", "field-last-name"),
                    ("first_name", "field-first-name"), ("address", "field-address"),
                    ("city", "field-city"),
                ] {
                    @if let Some(value) = contact_text(key) {
                        (row(t(lang, label), html! { span dir="auto" { (value) } }))
                    }
                }
                @if let Some(phone) = contact_text("phone") {
                    (row(t(lang, "field-phone"), layout::ltr(&phone)))
                }
                @if let Some(country) = contact_text("country") {
                    (row(t(lang, "field-country"), html! {
                        (Reference::load().label("countries", &country, lang).unwrap_or(&country))
                    }))
                }
            }
        }
    }
}

fn file_links(lang: Lang, files: &[Value], base: &str) -> Markup {
    html! {
        ul.files {
            @for file in files {
                @let id = file["id"].as_str().unwrap_or_default();
                @let name = file["filename"].as_str().unwrap_or_default();
                li {
                    a href={ (base) "/" (id) } download=(name) { span dir="auto" { (name) } }
                    " (" (crate::i18n::format_size(lang, file["size"].as_u64().unwrap_or(0))) ")"
                }
            }
        }
    }
}

/// The claim's history, oldest first; the staff view names the agents, and the client as
/// such rather than as "you".
pub(super) fn history_list(lang: Lang, history: &Value, files_base: &str, staff: bool) -> Markup {
    let entries = history.as_array().map(Vec::as_slice).unwrap_or_default();
    html! {
        section .panel {
            h2 #history-title { (t(lang, "history-title")) }
            ol #history .history aria-labelledby="history-title" {
                @for entry in entries {
                    @let kind = entry["kind"].as_str().unwrap_or_default();
                    li.history-entry data-kind=(kind) {
                        div.entry-head {
                            strong { (entry["label"].as_str().unwrap_or(kind)) }
                            " · "
                            (layout::time(lang, entry["at"].as_str().unwrap_or_default()))
                            @if let Some(who) = actor(lang, &entry["actor"], staff) {
                                " · " span.actor { (who) }
                            }
                        }
                        @if let Some(entity) = entry["entity_label"].as_str() {
                            @if matches!(kind, "routed" | "transferred") {
                                p.entity { (entity) }
                            }
                        }
                        @if let Some(message) = entry["message"].as_str() {
                            (layout::multiline(message))
                        }
                        @if let Some(level) = entry["satisfaction"].as_u64() {
                            p.satisfaction {
                                (t(lang, "field-satisfaction")) " "
                                (layout::ltr(&format!("{level}/5")))
                            }
                        }
                        @if let Some(files) = entry["attachments"].as_array()
                            .filter(|f| !f.is_empty()) {
                            (file_links(lang, files, files_base))
                        }
                    }
                }
            }
        }
    }
}

/// Who acted, as the reader may see it.
fn actor(lang: Lang, actor: &Value, staff: bool) -> Option<String> {
    match actor["kind"].as_str()? {
        "client" if staff => Some(t(lang, "actor-the-client")),
        "client" => Some(t(lang, "actor-client")),
        "entity" => actor["label"].as_str().map(str::to_owned),
        "agent" => actor["login"]
            .as_str()
            .or(actor["id"].as_str())
            .map(str::to_owned),
        "system" => Some(t(lang, "actor-system")),
        _ => None,
    }
}

fn message_form(ctx: &Ctx, number: &str, typed: &Typed) -> Markup {
    let lang = ctx.lang;
    html! {
        section.panel {
            h2 { (t(lang, "message-title")) }
            form #message-form method="post" action=(ctx.link(&format!("claims/{number}/messages")))
                enctype="multipart/form-data" novalidate {
                (layout::csrf(ctx))
                (layout::textarea(lang,
                    Field::new("body", &t(lang, "field-your-message")).required(),
                    &typed.body, &typed.errors, 10_000))
                (layout::attached(lang, &typed.uploads))
                (layout::file_input(lang, "files", "files", &typed.errors))
                div.actions {
                    button.primary type="submit" data-once=(t(lang, "sending")) {
                        (t(lang, "message-send"))
                    }
                }
            }
        }
    }
}

fn close_form(ctx: &Ctx, number: &str, typed: &Typed) -> Markup {
    let lang = ctx.lang;
    let levels: Vec<(String, String)> = (1..=5)
        .map(|n| (n.to_string(), t(lang, &format!("satisfaction-{n}"))))
        .collect();
    html! {
        section.panel {
            h2 { (t(lang, "close-title")) }
            p { (t(lang, "close-intro")) }
            form #close-form method="post" action=(ctx.link(&format!("claims/{number}/close")))
                novalidate {
                (layout::csrf(ctx))
                (layout::radios(lang,
                    Field::new("satisfaction", &t(lang, "field-satisfaction")).required(),
                    &levels, &typed.satisfaction, &typed.errors))
                (layout::textarea(lang, Field::new("comment", &t(lang, "field-comment")),
                    &typed.comment, &typed.errors, 2_000))
                div.actions {
                    button.primary type="submit" data-once=(t(lang, "sending")) {
                        (t(lang, "close-send"))
                    }
                }
            }
        }
    }
}

fn reopen_form(ctx: &Ctx, number: &str, typed: &Typed) -> Markup {
    let lang = ctx.lang;
    html! {
        section.panel {
            h2 { (t(lang, "reopen-title")) }
            form #reopen-form method="post" action=(ctx.link(&format!("claims/{number}/reopen")))
                novalidate {
                (layout::csrf(ctx))
                (layout::textarea(lang, Field::new("reason", &t(lang, "field-reason")).required(),
                    &typed.reason, &typed.errors, 2_000))
                div.actions {
                    button.primary type="submit" data-once=(t(lang, "sending")) {
                        (t(lang, "reopen-send"))
                    }
                }
            }
        }
    }
}

/// The outcome of a client's action: back to the claim with a notice, or the page again
/// with the errors and what was typed.
async fn after_action(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
    result: Result<Value, ApiError>,
    done: &str,
    mut typed: Typed,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => {
            let location = ctx.link(&format!("claims/{number}?done={done}"));
            Ok(ctx.redirect(&location, &[]))
        }
        Err(ApiError::Validation(fields)) => {
            let fields: Vec<_> = fields
                .into_iter()
                .map(|error| {
                    let typed_text = typed_text(&typed, &error.field).to_owned();
                    super::required_if_empty(error, &typed_text, ctx.lang)
                })
                .collect();
            typed.errors.extend_api(&fields, super::form_field);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            claim_page(state, ctx, number, None, &typed, status).await
        }
        Err(ApiError::Conflict(_)) => {
            typed.unsent = true;
            let notice = Some(t(ctx.lang, "action-conflict"));
            claim_page(state, ctx, number, notice, &typed, StatusCode::CONFLICT).await
        }
        Err(other) => Err(PageError::new(ctx.lang, other)),
    }
}

/// The text typed in the field an error is on, if it is one of the claim page's texts.
fn typed_text<'a>(typed: &'a Typed, field: &str) -> &'a str {
    match field {
        "body" => &typed.body,
        "reason" => &typed.reason,
        "comment" => &typed.comment,
        _ => "",
    }
}

/// The files a refused form already sent (its `upload` fields), still known, but `removed`.
pub(super) async fn kept_uploads(
    state: &AppState,
    form: &Form,
    removed: Option<&str>,
) -> Result<Vec<Upload>, ApiError> {
    let mut kept: Vec<Upload> = Vec::new();
    for token in form.all("upload") {
        if Some(token.as_str()) == removed || kept.iter().any(|u| u.token == token) {
            continue;
        }
        if let Some(upload) = state.store.upload_get(&token).await? {
            kept.push(upload);
        }
    }
    Ok(kept)
}

/// Stores a form's files; each refused file is an error on the file input `key`.
pub(super) async fn upload_all(
    state: &AppState,
    lang: Lang,
    form: &Form,
    errors: &mut Errors,
    key: &str,
) -> Result<Vec<Upload>, PageError> {
    let mut stored = Vec::new();
    for file in &form.files {
        match store_upload(state, &file.filename, &file.bytes).await {
            Ok(upload) => stored.push(upload),
            Err(ApiError::Internal(cause)) => {
                return Err(PageError::new(lang, ApiError::Internal(cause)))
            }
            Err(refused) => {
                let detail = refused.into_problem(lang).detail;
                errors.add(key, format!("{} : {detail}", file.filename));
            }
        }
    }
    if let Some((name, error)) = &form.file_error {
        let detail = match error {
            ApiError::PayloadTooLarge => t(lang, "file-too-large"),
            _ => t(lang, "files-unreadable"),
        };
        match name {
            Some(name) => errors.add(key, format!("{name} : {detail}")),
            None => errors.add(key, detail),
        }
    }
    Ok(stored)
}

/// `POST /{lang}/claims/{number}/leave`: this browser forgets the claim (on a shared
/// computer, say); the number and email open it again.
pub(super) async fn leave(
    ctx: Ctx,
    Path((_, raw)): Path<(String, String)>,
    _form: Form,
) -> Response {
    let number = number::normalize(&raw).unwrap_or_default();
    let cookie = ctx.clear_cookie(CLAIM_COOKIE);
    tracing::info!(claim = %number, "the client left the claim's page");
    ctx.redirect(&ctx.link(""), &[cookie])
}

/// `POST /{lang}/claims/{number}/messages`.
pub(super) async fn message(
    State(state): State<AppState>,
    ctx: Ctx,
    OpenClaim(number): OpenClaim,
    form: Form,
) -> Result<Response, PageError> {
    let mut typed = Typed {
        body: form.text("body"),
        uploads: kept_uploads(&state, &form, None)
            .await
            .map_err(in_page(ctx.lang))?,
        ..Typed::default()
    };
    let stored = upload_all(&state, ctx.lang, &form, &mut typed.errors, "files").await?;
    typed.uploads.extend(stored);
    let tokens: Vec<String> = typed.uploads.iter().map(|u| u.token.clone()).collect();
    if !typed.errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return claim_page(&state, &ctx, &number, None, &typed, status).await;
    }
    let result = client_message(&state, &number, ctx.lang, typed.body.clone(), &tokens).await;
    after_action(&state, &ctx, &number, result, "message", typed).await
}

/// `POST /{lang}/claims/{number}/close`.
pub(super) async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    OpenClaim(number): OpenClaim,
    form: Form,
) -> Result<Response, PageError> {
    let typed = Typed {
        satisfaction: form.text("satisfaction"),
        comment: form.text("comment"),
        ..Typed::default()
    };
    let level = match typed.satisfaction.trim() {
        "" => None,
        text => Some(text.parse::<i64>().unwrap_or(0)),
    };
    let comment = Some(typed.comment.clone());
    let result = client_close(&state, &number, ctx.lang, level, comment).await;
    after_action(&state, &ctx, &number, result, "closed", typed).await
}

/// `POST /{lang}/claims/{number}/reopen`.
pub(super) async fn reopen(
    State(state): State<AppState>,
    ctx: Ctx,
    OpenClaim(number): OpenClaim,
    form: Form,
) -> Result<Response, PageError> {
    let typed = Typed {
        reason: form.text("reason"),
        ..Typed::default()
    };
    let result = client_reopen(&state, &number, ctx.lang, typed.reason.clone()).await;
    after_action(&state, &ctx, &number, result, "reopened", typed).await
}

/// `GET /{lang}/claims/{number}/files/{id}`: a file of the claim, as a download.
pub(super) async fn file(
    State(state): State<AppState>,
    ctx: Ctx,
    OpenClaim(number): OpenClaim,
    Path((_, _, id)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    serve_attachment(&state, &number, &id)
        .await
        .map_err(in_page(ctx.lang))
}
