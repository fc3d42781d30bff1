//! The web pages: clients file and follow claims, agents work their entity's queue.
//!
//! Pages are rendered on the server, in French under `/fr/` and in Arabic (right to left)
//! under `/ar/`, and work without scripts; `app.js` only helps (one submission per click,
//! times in the reader's zone). They run the very operations of the JSON handlers, so a page
//! and the API can never disagree on a rule.
//!
//! What every page guarantees:
//! - every form carries a token bound to a cookie of this site, and every `POST` is refused
//!   (403) unless both match and the browser does not say it comes from another site;
//! - a refused form is shown again with each error beside its field, in the page's language,
//!   and with everything that was typed (files already sent stay attached);
//! - the client's and the agent's credentials live in `HttpOnly`, `SameSite=Strict` cookies
//!   (`Secure` when the site is served over HTTPS), never in a URL;
//! - a strict `Content-Security-Policy` (no inline script or style), no caching of pages.

mod agent;
mod client;
mod form;
mod layout;
mod text;
mod wizard;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use maud::Markup;
use rand::RngCore;

use crate::app::AppState;
use crate::i18n::Lang;
use crate::problem::{field_code, ApiError, FieldError};

pub(crate) use text::t;

/// The pages' routes; merged into the service's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/app.js", get(script))
        .route("/claims/{*number}", get(client::from_email))
        .route("/{lang}", get(language_root))
        .route("/{lang}/", get(client::home))
        .route("/{lang}/claims/new", get(wizard::start).post(wizard::step))
        .route("/{lang}/claims/{number}", get(client::claim))
        .route("/{lang}/claims/{number}/filed", get(client::filed))
        .route("/{lang}/claims/{number}/messages", post(client::message))
        .route("/{lang}/claims/{number}/close", post(client::close))
        .route("/{lang}/claims/{number}/reopen", post(client::reopen))
        .route("/{lang}/claims/{number}/files/{id}", get(client::file))
        .route("/{lang}/track", get(client::track_form).post(client::track))
        .route("/{lang}/agent", get(agent::queue))
        .route(
            "/{lang}/agent/login",
            get(agent::login_form).post(agent::login),
        )
        .route("/{lang}/agent/logout", post(agent::logout))
        .route("/{lang}/agent/claims/{number}", get(agent::claim))
        .route("/{lang}/agent/claims/{number}/answer", post(agent::answer))
        .route(
            "/{lang}/agent/claims/{number}/messages",
            post(agent::message),
        )
        .route(
            "/{lang}/agent/claims/{number}/transfer",
            post(agent::transfer),
        )
        .route("/{lang}/agent/claims/{number}/files/{id}", get(agent::file))
        .route("/{lang}/claims/{number}/leave", post(client::leave))
        .layer(axum::middleware::from_fn(plain_refusals_as_pages))
}

/// The extractors' own refusals (a path that is not UTF-8, a query that does not parse) are
/// plain text in English: under a language, they become a page in it.
async fn plain_refusals_as_pages(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = page_lang(request.uri().path());
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    match lang {
        Some(lang) if plain && response.status().is_client_error() => {
            tracing::debug!(status = %response.status(), "a refused request shown as a page");
            PageError::new(lang, ApiError::BadRequest("request")).into_response()
        }
        _ => response,
    }
}

/// The service's answer to a path that nothing serves: a page under `/fr/` and `/ar/`, a
/// problem (JSON) anywhere else.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    match page_lang(uri.path()) {
        Some(lang) => missing_page(lang),
        None => ApiError::NotFound.into_response(),
    }
}

/// `/`: the home page in the browser's language.
async fn root(headers: HeaderMap) -> Redirect {
    let lang = negotiated(&headers);
    Redirect::to(&format!("/{}/", lang.code()))
}

/// `/fr`, `/ar`: their home page; anything else is not a page.
async fn language_root(ctx: Ctx) -> Redirect {
    Redirect::permanent(&format!("/{}/", ctx.lang.code()))
}

fn negotiated(headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    crate::i18n::negotiate(None, accept)
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/app.css"))
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    )
}

fn asset(media_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, media_type),
        (header::CACHE_CONTROL, "public, max-age=3600"),
    ];
    (headers, body).into_response()
}

/// The cookie of the form token.
const CSRF_COOKIE: &str = "claimdesk_csrf";
/// The cookie of a client's claim token.
const CLAIM_COOKIE: &str = "claimdesk_claim";
/// The cookie of a staff session.
const STAFF_COOKIE: &str = "claimdesk_staff";

/// What every page handler knows of its request: the page's language, its path (for the
/// language switch) and the form token.
pub(crate) struct Ctx {
    pub lang: Lang,
    /// The path and query, as requested.
    pub path: String,
    pub csrf: String,
    /// Whether `csrf` is new, and must be set as a cookie with the page.
    new_csrf: bool,
    pub secure: bool,
    pub headers: HeaderMap,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, Response> {
        let lang =
            page_lang(parts.uri.path()).ok_or_else(|| missing_page(negotiated(&parts.headers)))?;
        let (csrf, new_csrf) = match cookie(&parts.headers, CSRF_COOKIE) {
            Some(token) if well_formed_token(&token) => (token, false),
            _ => (random_token(), true),
        };
        Ok(Ctx {
            lang,
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| parts.uri.path().to_owned()),
            csrf,
            new_csrf,
            secure: state.settings.secure_cookies,
            headers: parts.headers.clone(),
        })
    }
}

impl Ctx {
    /// `path` under this page's language: `/fr/track` for `track`.
    pub fn link(&self, path: &str) -> String {
        format!("/{}/{}", self.lang.code(), path.trim_start_matches('/'))
    }

    /// This page in the other language, without the notice of an action just done.
    pub fn switched_path(&self) -> String {
        let other = self.other_lang();
        let rest = self
            .path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/').map(|(_, rest)| rest))
            .unwrap_or_default();
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("done="))
            .collect();
        if kept.is_empty() {
            format!("/{}/{path}", other.code())
        } else {
            format!("/{}/{path}?{}", other.code(), kept.join("&"))
        }
    }

    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::Fr => Lang::Ar,
            Lang::Ar => Lang::Fr,
        }
    }

    /// A page with status 200.
    pub fn page(&self, markup: Markup) -> Response {
        self.page_with(StatusCode::OK, markup, &[])
    }

    /// A page with `status`, and cookies to set besides the form token's.
    pub fn page_with(&self, status: StatusCode, markup: Markup, cookies: &[String]) -> Response {
        let mut response = html_response(status, markup);
        let headers = response.headers_mut();
        let mut all: Vec<String> = cookies.to_vec();
        if self.new_csrf {
            all.push(self.cookie(CSRF_COOKIE, &self.csrf, None));
        }
        for value in all {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// A page that the browser's Back and Forward may show again from its cache without
    /// sending the form again (the wizard's steps, which are answers to `POST`s): `private,
    /// no-cache` instead of `no-store`.
    pub fn page_in_history(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = self.page_with(status, markup, &[]);
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        response
    }

    /// A `303 See Other` to `location` that keeps `token` in cookie `name` until
    /// `expires_at` (a client's claim token, a staff session).
    pub fn redirect_keeping(
        &self,
        location: &str,
        name: &str,
        token: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Response {
        let cookie = self.cookie(name, token, Some((expires_at - now).num_seconds()));
        self.redirect(location, &[cookie])
    }

    /// A `303 See Other` to `location`, setting `cookies`.
    pub fn redirect(&self, location: &str, cookies: &[String]) -> Response {
        let mut response = Redirect::to(location).into_response();
        for value in cookies {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// A `Set-Cookie` value for `name`; `max_age` in seconds, or a session cookie.
    pub fn cookie(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
        if let Some(seconds) = max_age {
            cookie.push_str(&format!("; Max-Age={}", seconds.max(0)));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// A `Set-Cookie` value that removes `name`.
    pub fn clear_cookie(&self, name: &str) -> String {
        self.cookie(name, "", Some(0))
    }

    /// The value of cookie `name` of this request.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        cookie(&self.headers, name)
    }
}

/// `markup` as an HTML response with the pages' headers.
fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    page_headers(headers);
    response
}

/// The headers of every page: a strict content policy, and no caching of what may hold
/// personal data.
fn page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // `no-referrer` (the API's) would make browsers send `Origin: null` with the pages' own
    // forms; the origin is needed to tell them from another site's.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

/// The language named by a page path's first segment.
fn page_lang(path: &str) -> Option<Lang> {
    match path.trim_start_matches('/').split('/').next() {
        Some("fr") => Some(Lang::Fr),
        Some("ar") => Some(Lang::Ar),
        _ => None,
    }
}

/// The value of cookie `name`, if the request has it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn well_formed_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The form's field that holds an API field: the path's last part (`claim.subject` →
/// `subject`), with attachments on the file input (`claim.attachments[3]` → `files`) and the
/// captcha on its answer.
pub(crate) fn form_field(api_field: &str) -> String {
    let name = api_field
        .split_once('.')
        .map(|(_, rest)| rest)
        .unwrap_or(api_field);
    let name = name.split('[').next().unwrap_or(name);
    match name {
        "attachments" => "files".to_owned(),
        "answer" | "id" => "captcha_answer".to_owned(),
        other => other.to_owned(),
    }
}

/// `error` on a text the person left empty says "required", not "blank" (which the domain
/// says of both, and which reads as "only spaces").
pub(crate) fn required_if_empty(error: FieldError, typed: &str, lang: Lang) -> FieldError {
    if typed.is_empty() && error.code == field_code::BLANK {
        FieldError::new(error.field, field_code::REQUIRED, lang)
    } else {
        error
    }
}

/// An error shown as a page: the problem's title and detail in the page's language.
pub(crate) struct PageError {
    lang: Lang,
    error: ApiError,
}

impl PageError {
    pub fn new(lang: Lang, error: ApiError) -> PageError {
        PageError { lang, error }
    }
}

/// `ApiError` → `PageError` in `lang`, for `map_err`.
pub(crate) fn in_page(lang: Lang) -> impl Fn(ApiError) -> PageError {
    move |error| PageError::new(lang, error)
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        if status.is_server_error() {
            tracing::error!(
                error = %crate::problem::error_chain(&self.error),
                "page failed"
            );
        }
        let problem = self.error.into_problem(self.lang);
        let markup = layout::error_page(self.lang, &problem.title, &problem.detail);
        html_response(status, markup)
    }
}

fn missing_page(lang: Lang) -> Response {
    PageError::new(lang, ApiError::NotFound).into_response()
}

/// The page of a refused form token: 403, with a way back.
pub(crate) fn forbidden(lang: Lang) -> Response {
    PageError::new(lang, ApiError::Forbidden).into_response()
}
