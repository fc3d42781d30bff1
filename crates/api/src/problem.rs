//! The HTTP layer's errors, answered as `application/problem+json` (RFC 9457).
//!
//! What this module promises:
//! - Each [`ApiError`] variant has one status and one stable English `code`; bad input is
//!   never a 500.
//! - The body is always `{"type", "title", "status", "detail", "code", "errors"}` (plus
//!   `reason` when the variant carries one), with `title`, `detail` and every field
//!   `message` in the request's language.
//! - The language is the one given to [`ApiError::into_problem`] or [`Localized`]; an
//!   `ApiError` returned as is answers in [`Lang::current`], which
//!   [`crate::i18n::language_scope`] sets per request (French outside of it).
//! - The cause of an internal error is logged with its whole chain and never shown.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::time::Duration;

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fluent_bundle::FluentValue;
use serde::{Deserialize, Serialize};

use crate::i18n::{format_size, msg, tr, Lang};

/// Any error that can be the hidden cause of an [`ApiError::Internal`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What the HTTP layer answers when it cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `bad_request`: the body or a header cannot be read as what the endpoint takes
    /// (JSON syntax, broken multipart framing). The stable reason (`json_syntax`,
    /// `multipart`, ...) is shown as `reason`.
    #[error("malformed request ({0})")]
    BadRequest(&'static str),
    /// 401 `unauthorized`: no credentials, or bad or expired ones. Sent with
    /// `WWW-Authenticate: Bearer`.
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// 403 `forbidden`: known caller, but not allowed to do this.
    #[error("not allowed")]
    Forbidden,
    /// 405 `method_not_allowed`: the path exists, not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 404 `not_found`: unknown, or not the caller's; both get this same answer, so that
    /// existence cannot be probed.
    #[error("not found")]
    NotFound,
    /// 409 `conflict`: the claim's current state forbids the action, or it changed
    /// concurrently. The stable reason (`concurrent_change`, `claim_closed`, ...) is shown
    /// as `reason`, and the known ones get their own detail.
    #[error("conflict ({0})")]
    Conflict(&'static str),
    /// 413 `payload_too_large`: the body or a file is over its limit (20 MiB for a file).
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415 `unsupported_media_type`: a file refused after looking at its content, or a
    /// body sent with the wrong `Content-Type`.
    #[error("unsupported media type: {0:?}")]
    UnsupportedMediaType(MediaRefusal),
    /// 422 `idempotency_key_reused`: an `Idempotency-Key` already used for a different
    /// request. The stable reason is shown as `reason`.
    #[error("idempotency key reused ({0})")]
    UnprocessableKey(&'static str),
    /// 422 `validation_failed`: missing or invalid fields, each one in `errors`.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// 422 `captcha_invalid`: a wrong, expired or already used captcha, reported on the
    /// field `captcha.answer`.
    #[error("wrong, expired or used captcha")]
    CaptchaInvalid,
    /// 429 `too_many_requests`: rate limited; `Retry-After` gives the seconds to wait.
    #[error("rate limited for {retry_after_secs}s")]
    TooManyRequests { retry_after_secs: u64 },
    /// 500 `internal`: nothing the client can fix. The cause is logged with its whole
    /// chain; the client sees a generic message.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// Why a file or body was refused with 415.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRefusal {
    /// The content is not PDF, an accepted image or a ZIP of those. `detected` is the
    /// type the content looked like, for the logs.
    FileType { detected: Option<&'static str> },
    /// An empty file: no content, no type.
    Empty,
    /// A ZIP entry that is not itself accepted.
    ArchiveEntry {
        name: String,
        detected: Option<&'static str>,
    },
    /// A ZIP with an encrypted entry: its content cannot be judged.
    ArchiveEncrypted,
    /// A ZIP inside a ZIP.
    ArchiveNested { name: String },
    /// A ZIP that says it unpacks to a file over the size limit, or to too much in all.
    ArchiveTooLarge { name: String },
    /// A ZIP that cannot be read, has no file, or has too many entries.
    ArchiveUnreadable,
    /// A JSON endpoint called without `Content-Type: application/json`.
    ExpectedJson,
    /// An upload endpoint called without `multipart/form-data`.
    ExpectedMultipart,
}

/// The stable codes of field errors. Codes from the domain (`blank_text`,
/// `text_too_long`, ...) are accepted as well; see [`FieldError::new`].
pub mod field_code {
    pub const REQUIRED: &str = "required";
    pub const BLANK: &str = "blank";
    pub const TOO_LONG: &str = "too_long";
    pub const TOO_MANY: &str = "too_many";
    pub const UNKNOWN_CODE: &str = "unknown_code";
    pub const INVALID_EMAIL: &str = "invalid_email";
    pub const INVALID_PHONE: &str = "invalid_phone";
    pub const LEGAL_PERSON_ONLY: &str = "legal_person_only";
    pub const NATURAL_PERSON_ONLY: &str = "natural_person_only";
    pub const DUPLICATE: &str = "duplicate";
    pub const CAPTCHA_INVALID: &str = "captcha_invalid";
    pub const UNKNOWN_UPLOAD: &str = "unknown_upload";
    pub const INVALID: &str = "invalid";
}

/// The most attachments a claim or message takes; the domain's own limit is the same.
const MAX_ATTACHMENTS: usize = 10;

/// One invalid field: its path in the body (`claim.subject`, `claim.attachments[2]`), a
/// stable code and a message in the request's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    /// A field error whose message follows from its code, in `lang`. Codes of
    /// [`field_code`] and of the domain's refusals have their own message; any other code
    /// gets a generic one.
    pub fn new(field: impl Into<String>, code: &str, lang: Lang) -> FieldError {
        let (id, args): (&str, Vec<(&str, FluentValue)>) = match code {
            field_code::REQUIRED => (msg::FIELD_REQUIRED, vec![]),
            field_code::BLANK | "blank_text" => (msg::FIELD_BLANK, vec![]),
            field_code::TOO_LONG | "text_too_long" => (msg::FIELD_TEXT_TOO_LONG, vec![]),
            field_code::TOO_MANY | "too_many_attachments" => {
                (msg::FIELD_TOO_MANY, vec![("max", MAX_ATTACHMENTS.into())])
            }
            field_code::UNKNOWN_CODE => (msg::FIELD_UNKNOWN_CODE, vec![]),
            field_code::INVALID_EMAIL => (msg::FIELD_INVALID_EMAIL, vec![]),
            field_code::INVALID_PHONE => (msg::FIELD_INVALID_PHONE, vec![]),
            field_code::LEGAL_PERSON_ONLY => (msg::FIELD_LEGAL_PERSON_ONLY, vec![]),
            field_code::NATURAL_PERSON_ONLY => (msg::FIELD_NATURAL_PERSON_ONLY, vec![]),
            field_code::DUPLICATE => (msg::FIELD_DUPLICATE, vec![]),
            field_code::CAPTCHA_INVALID => (msg::FIELD_CAPTCHA_INVALID, vec![]),
            field_code::UNKNOWN_UPLOAD => (msg::FIELD_UNKNOWN_UPLOAD, vec![]),
            "control_characters" => (msg::FIELD_CONTROL_CHARACTERS, vec![]),
            "attachment_too_large" => (msg::FIELD_ATTACHMENT_TOO_LARGE, vec![]),
            "satisfaction_out_of_range" => (msg::FIELD_SATISFACTION_OUT_OF_RANGE, vec![]),
            _ => (msg::FIELD_INVALID, vec![]),
        };
        FieldError::with_message(field, code, tr(lang, id, &args))
    }

    /// A field over its limit: `too_long` (`max` characters) or `too_many` (`max` items).
    pub fn over_limit(field: impl Into<String>, code: &str, max: usize, lang: Lang) -> Self {
        let id = if code == field_code::TOO_MANY {
            msg::FIELD_TOO_MANY
        } else {
            msg::FIELD_TOO_LONG
        };
        FieldError::with_message(field, code, tr(lang, id, &[("max", max.into())]))
    }

    /// A field error with a message already in the request's language.
    pub fn with_message(field: impl Into<String>, code: &str, message: String) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.to_owned(),
            message,
        }
    }
}

/// An error body, as serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:claimdesk:problem:<code>`: an identifier, not a page to fetch.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    /// The stable reason of a 400, 409 or the 422 of a reused key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub errors: Vec<FieldError>,
}

impl ApiError {
    /// An internal error, whose cause will be logged and not shown.
    pub fn internal(cause: impl Into<BoxError>) -> ApiError {
        ApiError::Internal(cause.into())
    }

    /// A 429 that asks to wait `retry_after`, rounded up to whole seconds (at least one).
    pub fn too_many_requests(retry_after: Duration) -> ApiError {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        ApiError::TooManyRequests {
            retry_after_secs: secs.max(1),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnprocessableKey(_) | ApiError::Validation(_) | ApiError::CaptchaInvalid => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable English identifier of the problem.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::UnprocessableKey(_) => "idempotency_key_reused",
            ApiError::Validation(_) => "validation_failed",
            ApiError::CaptchaInvalid => "captcha_invalid",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Pins the language this error answers in.
    pub fn localized(self, lang: Lang) -> Localized<ApiError> {
        Localized { lang, error: self }
    }

    /// The body for this error in `lang`. An internal error's cause is logged here, with its
    /// whole chain, so call this once per response.
    pub fn into_problem(self, lang: Lang) -> Problem {
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %error_chain(cause.as_ref()), "internal error");
            }
            other => tracing::debug!(code = other.code(), error = %other, "request refused"),
        }

        let (title, detail) = self.title_and_detail(lang);
        let reason = match &self {
            ApiError::BadRequest(reason)
            | ApiError::Conflict(reason)
            | ApiError::UnprocessableKey(reason) => Some((*reason).to_owned()),
            _ => None,
        };
        let status = self.status().as_u16();
        let code = self.code();
        let errors = match self {
            ApiError::Validation(errors) => errors,
            ApiError::CaptchaInvalid => {
                vec![FieldError::new(
                    "captcha.answer",
                    field_code::CAPTCHA_INVALID,
                    lang,
                )]
            }
            _ => Vec::new(),
        };
        Problem {
            type_uri: format!("urn:claimdesk:problem:{code}"),
            title,
            status,
            detail,
            code: code.to_owned(),
            reason,
            errors,
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        let plain = |title: &str, detail: &str| (tr(lang, title, &[]), tr(lang, detail, &[]));
        match self {
            ApiError::BadRequest(_) => plain(
                msg::PROBLEM_BAD_REQUEST_TITLE,
                msg::PROBLEM_BAD_REQUEST_DETAIL,
            ),
            ApiError::Unauthorized => plain(
                msg::PROBLEM_UNAUTHORIZED_TITLE,
                msg::PROBLEM_UNAUTHORIZED_DETAIL,
            ),
            ApiError::MethodNotAllowed => plain(
                msg::PROBLEM_METHOD_NOT_ALLOWED_TITLE,
                msg::PROBLEM_METHOD_NOT_ALLOWED_DETAIL,
            ),
            ApiError::Forbidden => {
                plain(msg::PROBLEM_FORBIDDEN_TITLE, msg::PROBLEM_FORBIDDEN_DETAIL)
            }
            ApiError::NotFound => {
                plain(msg::PROBLEM_NOT_FOUND_TITLE, msg::PROBLEM_NOT_FOUND_DETAIL)
            }
            ApiError::Conflict(reason) => {
                plain(msg::PROBLEM_CONFLICT_TITLE, conflict_detail(reason))
            }
            ApiError::PayloadTooLarge => {
                let size = format_size(lang, crate::uploads::MAX_UPLOAD);
                let detail = tr(
                    lang,
                    msg::PROBLEM_PAYLOAD_TOO_LARGE_DETAIL,
                    &[("size", size.into())],
                );
                (tr(lang, msg::PROBLEM_PAYLOAD_TOO_LARGE_TITLE, &[]), detail)
            }
            ApiError::UnsupportedMediaType(refusal) => {
                let title = tr(lang, msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_TITLE, &[]);
                (title, refusal.detail(lang))
            }
            ApiError::UnprocessableKey(_) => plain(
                msg::PROBLEM_UNPROCESSABLE_TITLE,
                msg::PROBLEM_UNPROCESSABLE_IDEMPOTENCY_KEY,
            ),
            ApiError::Validation(errors) => {
                let detail = tr(
                    lang,
                    msg::PROBLEM_VALIDATION_FAILED_DETAIL,
                    &[("count", errors.len().into())],
                );
                (tr(lang, msg::PROBLEM_VALIDATION_FAILED_TITLE, &[]), detail)
            }
            ApiError::CaptchaInvalid => plain(
                msg::PROBLEM_CAPTCHA_INVALID_TITLE,
                msg::PROBLEM_CAPTCHA_INVALID_DETAIL,
            ),
            ApiError::TooManyRequests { retry_after_secs } => {
                let secs = *retry_after_secs;
                let detail = if secs < 120 {
                    let args = [("seconds", secs.into())];
                    tr(lang, msg::PROBLEM_TOO_MANY_REQUESTS_DETAIL_SECONDS, &args)
                } else {
                    let args = [("minutes", secs.div_ceil(60).into())];
                    tr(lang, msg::PROBLEM_TOO_MANY_REQUESTS_DETAIL_MINUTES, &args)
                };
                (tr(lang, msg::PROBLEM_TOO_MANY_REQUESTS_TITLE, &[]), detail)
            }
            ApiError::Internal(_) => {
                plain(msg::PROBLEM_INTERNAL_TITLE, msg::PROBLEM_INTERNAL_DETAIL)
            }
        }
    }
}

fn conflict_detail(reason: &str) -> &'static str {
    match reason {
        "concurrent_change" => msg::PROBLEM_CONFLICT_CONCURRENT_CHANGE,
        "claim_closed" => msg::PROBLEM_CONFLICT_CLAIM_CLOSED,
        "not_closed" => msg::PROBLEM_CONFLICT_NOT_CLOSED,
        "not_answered" => msg::PROBLEM_CONFLICT_NOT_ANSWERED,
        "idempotency_in_progress" => msg::PROBLEM_CONFLICT_REQUEST_IN_PROGRESS,
        _ => msg::PROBLEM_CONFLICT_DETAIL,
    }
}

impl MediaRefusal {
    fn detail(&self, lang: Lang) -> String {
        let id = match self {
            MediaRefusal::FileType { .. } => msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_DETAIL,
            MediaRefusal::Empty => msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_EMPTY,
            MediaRefusal::ArchiveEntry { name, .. } => {
                let args = [("name", FluentValue::from(name.as_str()))];
                return tr(
                    lang,
                    msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_ENTRY,
                    &args,
                );
            }
            MediaRefusal::ArchiveEncrypted => msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_ENCRYPTED,
            MediaRefusal::ArchiveNested { .. } => {
                msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_NESTED
            }
            MediaRefusal::ArchiveTooLarge { .. } => {
                msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_TOO_LARGE
            }
            MediaRefusal::ArchiveUnreadable => {
                msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_ARCHIVE_UNREADABLE
            }
            MediaRefusal::ExpectedJson => msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_EXPECTED_JSON,
            MediaRefusal::ExpectedMultipart => {
                msg::PROBLEM_UNSUPPORTED_MEDIA_TYPE_EXPECTED_MULTIPART
            }
        };
        tr(lang, id, &[])
    }
}

/// An error's message and those of all its sources, outermost first.
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// An error with the language it answers in.
#[derive(Debug)]
pub struct Localized<E> {
    pub lang: Lang,
    pub error: E,
}

impl IntoResponse for Localized<ApiError> {
    fn into_response(self) -> Response {
        let Localized { lang, error } = self;
        let status = error.status();
        let retry_after = match &error {
            ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let unauthorized = matches!(error, ApiError::Unauthorized);

        let problem = error.into_problem(lang);
        let body = serde_json::to_vec(&problem).unwrap_or_else(|e| {
            tracing::error!(error = %e, "problem body not serializable");
            br#"{"status":500,"code":"internal"}"#.to_vec()
        });

        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        if unauthorized {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Answers in the language of the request being served ([`Lang::current`]).
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.localized(Lang::current()).into_response()
    }
}

/// JSON bodies: bad syntax is a 400, a valid JSON of the wrong shape a 422 on the field at
/// fault, a missing `Content-Type: application/json` a 415, an oversized body a 413.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::JsonDataError(error) => {
                ApiError::Validation(vec![json_field_error(&error, Lang::current())])
            }
            JsonRejection::JsonSyntaxError(error) => {
                tracing::debug!(error = %error_chain(&error), "malformed JSON body");
                ApiError::BadRequest("json_syntax")
            }
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType(MediaRefusal::ExpectedJson)
            }
            JsonRejection::BytesRejection(error) => ApiError::from(error),
            other => match other.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    ApiError::UnsupportedMediaType(MediaRefusal::ExpectedJson)
                }
                _ => ApiError::BadRequest("body"),
            },
        }
    }
}

/// A body that could not be read: over the body limit is a 413, anything else a 400.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            tracing::debug!(error = %error_chain(&rejection), "unreadable body");
            ApiError::BadRequest("body")
        }
    }
}

/// A request that is not `multipart/form-data` (415).
impl From<MultipartRejection> for ApiError {
    fn from(rejection: MultipartRejection) -> ApiError {
        tracing::debug!(error = %error_chain(&rejection), "not a multipart body");
        ApiError::UnsupportedMediaType(MediaRefusal::ExpectedMultipart)
    }
}

/// A multipart body that breaks off: over the body limit is a 413, broken framing a 400.
impl From<MultipartError> for ApiError {
    fn from(error: MultipartError) -> ApiError {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            tracing::debug!(error = %error_chain(&error), "malformed multipart body");
            ApiError::BadRequest("multipart")
        }
    }
}

/// The field error of a JSON value of the wrong shape: the field's path when serde knows
/// it (`claim.attachments[2]`), `required` for a missing field, `unknown_code` for an
/// unknown enum value, `invalid` for anything else.
fn json_field_error(error: &(dyn StdError + 'static), lang: Lang) -> FieldError {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let mut field = field_path(found.path());
            let message = found.inner().to_string();
            if let Some(missing) = backquoted_after(&message, "missing field `") {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(missing);
                return FieldError::new(field, field_code::REQUIRED, lang);
            }
            if message.starts_with("unknown variant") {
                return FieldError::new(field, field_code::UNKNOWN_CODE, lang);
            }
            return FieldError::new(field, field_code::INVALID, lang);
        }
        current = error.source();
    }
    FieldError::new("", field_code::INVALID, lang)
}

fn field_path(path: &serde_path_to_error::Path) -> String {
    let mut field = String::new();
    for segment in path.iter() {
        let name: Cow<str> = match segment {
            serde_path_to_error::Segment::Seq { index } => {
                field.push_str(&format!("[{index}]"));
                continue;
            }
            serde_path_to_error::Segment::Map { key } => key.as_str().into(),
            serde_path_to_error::Segment::Enum { variant } => variant.as_str().into(),
            serde_path_to_error::Segment::Unknown => continue,
        };
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(&name);
    }
    field
}

fn backquoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// A store failure: a concurrent change is a conflict the client may retry; anything else is
/// the service's fault, logged and answered with a 500.
impl From<claimdesk_store::StoreError> for ApiError {
    fn from(error: claimdesk_store::StoreError) -> ApiError {
        use claimdesk_store::StoreError;
        match error {
            StoreError::WrongExpectedVersion { .. } | StoreError::CheckpointMoved { .. } => {
                ApiError::Conflict("concurrent_change")
            }
            other => ApiError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::body::{to_bytes, Body};
    use axum::extract::DefaultBodyLimit;
    use axum::http::header::ACCEPT_LANGUAGE;
    use axum::http::Request;
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde_json::{json, Value};
    use tower::ServiceExt;

    use super::*;

    async fn body_json(response: Response) -> Value {
        let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        serde_json::from_slice(&bytes).expect("problem body is JSON")
    }

    #[test]
    fn every_variant_has_its_status_and_code() {
        let cases = [
            (ApiError::BadRequest("json_syntax"), 400, "bad_request"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::Forbidden, 403, "forbidden"),
            (ApiError::NotFound, 404, "not_found"),
            (ApiError::Conflict("claim_closed"), 409, "conflict"),
            (ApiError::PayloadTooLarge, 413, "payload_too_large"),
            (
                ApiError::UnsupportedMediaType(MediaRefusal::Empty),
                415,
                "unsupported_media_type",
            ),
            (
                ApiError::UnprocessableKey("reused"),
                422,
                "idempotency_key_reused",
            ),
            (ApiError::Validation(vec![]), 422, "validation_failed"),
            (ApiError::CaptchaInvalid, 422, "captcha_invalid"),
            (
                ApiError::TooManyRequests {
                    retry_after_secs: 3,
                },
                429,
                "too_many_requests",
            ),
            (ApiError::internal("boom"), 500, "internal"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.code(), code, "{error:?}");
            let problem = error.into_problem(Lang::Fr);
            assert_eq!(problem.status, status);
            assert_eq!(problem.type_uri, format!("urn:claimdesk:problem:{code}"));
            assert!(!problem.title.is_empty() && !problem.detail.is_empty());
        }
    }

    #[tokio::test]
    async fn a_validation_problem_has_the_contract_shape() {
        let errors = vec![
            FieldError::new("claim.subject", field_code::BLANK, Lang::Fr),
            FieldError::over_limit("claim.message", field_code::TOO_LONG, 10_000, Lang::Fr),
        ];
        let response = ApiError::Validation(errors)
            .localized(Lang::Fr)
            .into_response();

        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.headers()[CONTENT_LANGUAGE], "fr");
        let body = body_json(response).await;
        let keys: Vec<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys.len(), 6, "{keys:?}");
        for key in ["type", "title", "status", "detail", "code", "errors"] {
            assert!(keys.contains(&key), "{key} missing from {body}");
        }
        assert_eq!(body["status"], 422);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["title"], "Données invalides");
        assert_eq!(body["detail"], "2 champs sont à corriger.");
        assert_eq!(
            body["errors"][1],
            json!({
                "field": "claim.message",
                "code": "too_long",
                "message": "Ce champ ne doit pas dépasser 10000 caractères.",
            })
        );
    }

    #[tokio::test]
    async fn arabic_problems_are_in_arabic() {
        let response = ApiError::NotFound.localized(Lang::Ar).into_response();
        assert_eq!(response.headers()[CONTENT_LANGUAGE], "ar");
        let body = body_json(response).await;
        assert_eq!(body["title"], "غير موجود");
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["errors"], json!([]));
    }

    #[tokio::test]
    async fn a_rate_limited_answer_says_when_to_retry() {
        let response = ApiError::too_many_requests(Duration::from_millis(41_200))
            .localized(Lang::Fr)
            .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "42");
        let body = body_json(response).await;
        assert_eq!(body["detail"], "Veuillez réessayer dans 42 secondes.");

        let problem = ApiError::TooManyRequests {
            retry_after_secs: 890,
        }
        .into_problem(Lang::Fr);
        assert_eq!(problem.detail, "Veuillez réessayer dans 15 minutes.");
        let problem = ApiError::TooManyRequests {
            retry_after_secs: 1,
        }
        .into_problem(Lang::Ar);
        assert_eq!(problem.detail, "يرجى إعادة المحاولة بعد ثانية واحدة.");
    }

    #[test]
    fn unauthorized_names_the_scheme() {
        let response = ApiError::Unauthorized.localized(Lang::Fr).into_response();
        assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
        let response = ApiError::NotFound.localized(Lang::Fr).into_response();
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn a_wrong_captcha_points_at_its_field() {
        let problem = ApiError::CaptchaInvalid.into_problem(Lang::Fr);
        assert_eq!(problem.errors.len(), 1);
        assert_eq!(problem.errors[0].field, "captcha.answer");
        assert_eq!(problem.errors[0].code, "captcha_invalid");
    }

    #[test]
    fn conflicts_and_bad_requests_carry_their_reason() {
        let problem = ApiError::Conflict("claim_closed").into_problem(Lang::Fr);
        assert_eq!(problem.reason.as_deref(), Some("claim_closed"));
        assert!(problem.detail.contains("clôturée"), "{}", problem.detail);
        let problem = ApiError::Conflict("something_else").into_problem(Lang::Fr);
        assert_eq!(
            problem.detail,
            tr(Lang::Fr, msg::PROBLEM_CONFLICT_DETAIL, &[])
        );
        let value = serde_json::to_value(ApiError::NotFound.into_problem(Lang::Fr)).expect("json");
        assert!(
            value.get("reason").is_none(),
            "no reason member without a reason"
        );
    }

    #[test]
    fn the_too_large_detail_gives_the_limit() {
        let problem = ApiError::PayloadTooLarge.into_problem(Lang::Fr);
        assert_eq!(problem.detail, "La taille maximale autorisée est de 20 Mo.");
        let problem = ApiError::PayloadTooLarge.into_problem(Lang::Ar);
        assert!(
            problem.detail.contains("20\u{2069} ميغابايت"),
            "{}",
            problem.detail
        );
    }

    #[test]
    fn field_codes_of_the_domain_get_their_own_messages() {
        let message = |code| FieldError::new("f", code, Lang::Fr).message;
        assert_eq!(message("blank_text"), message("blank"));
        assert_eq!(
            message("satisfaction_out_of_range"),
            tr(Lang::Fr, msg::FIELD_SATISFACTION_OUT_OF_RANGE, &[])
        );
        assert_eq!(
            message("too_many_attachments"),
            "Au plus 10 éléments sont acceptés."
        );
        assert_eq!(message("no_such_code"), "Valeur invalide.");
        let error = FieldError::new("claim.theme", "unknown_code", Lang::Ar);
        assert_eq!(error.code, "unknown_code");
        assert_eq!(error.message, "هذه القيمة ليست من بين الاختيارات المقترحة.");
    }

    /// A `Write` that keeps what the log subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("could not load claim RC-2026")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_internal_cause_is_logged_whole_and_never_shown() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let cause = Outer(std::io::Error::other("disk quota exceeded on /srv/secret"));

        let problem = tracing::subscriber::with_default(subscriber, || {
            ApiError::internal(cause).into_problem(Lang::Fr)
        });

        let shown = serde_json::to_string(&problem).expect("json");
        assert!(
            !shown.contains("secret") && !shown.contains("RC-2026"),
            "{shown}"
        );
        assert_eq!(
            problem.detail,
            tr(Lang::Fr, msg::PROBLEM_INTERNAL_DETAIL, &[])
        );
        let logged = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf-8");
        assert!(logged.contains("ERROR"), "{logged}");
        assert!(
            logged.contains("could not load claim RC-2026: disk quota exceeded on /srv/secret"),
            "{logged}"
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body1 {
        claim: Claim1,
        contact: Contact1,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Claim1 {
        subject: Option<String>,
        attachments: Option<Vec<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Contact1 {
        email: String,
        profile: Option<Profile1>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Profile1 {
        NaturalPerson,
    }

    async fn take_json(body: Result<Json<Body1>, JsonRejection>) -> Result<StatusCode, ApiError> {
        let Json(_) = body?;
        Ok(StatusCode::NO_CONTENT)
    }

    fn json_app() -> Router {
        Router::new()
            .route("/", post(take_json))
            .layer(DefaultBodyLimit::max(256))
            .layer(axum::middleware::from_fn(crate::i18n::language_scope))
    }

    async fn post_json(content_type: Option<&str>, body: &str, lang: &str) -> (StatusCode, Value) {
        let mut request = Request::post("/").header(ACCEPT_LANGUAGE, lang);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let request = request.body(Body::from(body.to_owned())).expect("request");
        let response = json_app().oneshot(request).await.expect("response");
        let status = response.status();
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        (status, body_json(response).await)
    }

    #[tokio::test]
    async fn json_rejections_become_problems() {
        let json = Some("application/json");

        let (status, body) = post_json(json, r#"{"claim": {"subject": "#, "fr").await;
        assert_eq!(
            (status.as_u16(), body["code"].as_str()),
            (400, Some("bad_request"))
        );
        assert_eq!(body["reason"], "json_syntax");

        let wrong_type = r#"{"claim": {"subject": 5}, "contact": {"email": "a@b.ma"}}"#;
        let (status, body) = post_json(json, wrong_type, "fr").await;
        assert_eq!(status.as_u16(), 422);
        assert_eq!(body["errors"][0]["field"], "claim.subject");
        assert_eq!(body["errors"][0]["code"], "invalid");

        let in_a_list = r#"{"claim": {"attachments": ["a", 7]}, "contact": {"email": "x"}}"#;
        let (_, body) = post_json(json, in_a_list, "fr").await;
        assert_eq!(body["errors"][0]["field"], "claim.attachments[1]");

        let missing = r#"{"claim": {}, "contact": {}}"#;
        let (status, body) = post_json(json, missing, "ar").await;
        assert_eq!(status.as_u16(), 422);
        assert_eq!(body["errors"][0]["field"], "contact.email");
        assert_eq!(body["errors"][0]["code"], "required");
        assert_eq!(body["errors"][0]["message"], "هذا الحقل إلزامي.");
        assert_eq!(body["title"], "بيانات غير صالحة");

        let (_, body) = post_json(json, r#"{"claim": {}}"#, "fr").await;
        assert_eq!(body["errors"][0]["field"], "contact");

        let unknown = r#"{"claim": {}, "contact": {"email": "x", "profile": "robot"}}"#;
        let (_, body) = post_json(json, unknown, "fr").await;
        assert_eq!(body["errors"][0]["field"], "contact.profile");
        assert_eq!(body["errors"][0]["code"], "unknown_code");

        let (status, body) = post_json(Some("text/plain"), "{}", "fr").await;
        assert_eq!(
            (status.as_u16(), body["code"].as_str()),
            (415, Some("unsupported_media_type"))
        );
        let (status, _) = post_json(None, "{}", "fr").await;
        assert_eq!(status.as_u16(), 415);

        let big = format!(r#"{{"claim": {{"subject": "{}"}}}}"#, "x".repeat(300));
        let (status, body) = post_json(json, &big, "fr").await;
        assert_eq!(
            (status.as_u16(), body["code"].as_str()),
            (413, Some("payload_too_large"))
        );
    }

    #[tokio::test]
    async fn an_error_returned_as_is_answers_in_the_request_language() {
        async fn missing() -> Result<(), ApiError> {
            Err(ApiError::NotFound)
        }
        let app = Router::new()
            .route("/", get(missing))
            .layer(axum::middleware::from_fn(crate::i18n::language_scope));

        let request = Request::get("/?lang=ar")
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.headers()[CONTENT_LANGUAGE], "ar");
        assert_eq!(body_json(response).await["title"], "غير موجود");

        let request = Request::get("/").body(Body::empty()).expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(body_json(response).await["title"], "Introuvable");
    }
}
