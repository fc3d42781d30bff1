//! Reference data, captchas and uploads: what the filing wizard needs before filing.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use claimdesk_store::services::Upload;
use serde_json::{json, Value};
use tracing::instrument;

use crate::app::AppState;
use crate::auth::new_secret;
use crate::captcha;
use crate::i18n::Lang;
use crate::problem::{ApiError, FieldError, Problem};
use crate::reference::Reference;
use crate::uploads::{name_for_content, read_field, sanitize_filename, sniff};

/// The reference lists: themes, filing places, profiles and countries.
///
/// Labels are in the request's language; codes are stable.
#[utoipa::path(
    get,
    path = "/api/v1/reference",
    tag = "public",
    operation_id = "reference",
    responses(
        (status = 200, description = "The lists, labelled.", body = crate::openapi::Reference),
    )
)]
pub async fn reference(lang: Lang) -> Json<Value> {
    Json(Reference::load().view(lang))
}

/// A new captcha: an image whose answer only the server knows, good for one filing.
#[utoipa::path(
    post,
    path = "/api/v1/captchas",
    tag = "public",
    operation_id = "new_captcha",
    responses(
        (status = 201, description = "A captcha to answer in the filing.",
            body = crate::openapi::Captcha),
    )
)]
pub async fn new_captcha(State(state): State<AppState>) -> Result<Response, ApiError> {
    let issued = issue_captcha(&state).await?;
    let body = json!({"id": issued.id, "image": issued.image, "expires_at": issued.expires_at});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A captcha stored and ready to show.
pub(crate) struct IssuedCaptcha {
    pub id: String,
    /// The picture, as a `data:image/png;base64,` URL.
    pub image: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Draws a captcha and stores its answer's hash until it expires.
pub(crate) async fn issue_captcha(state: &AppState) -> Result<IssuedCaptcha, ApiError> {
    let fixed = state.settings.captcha_fixed_answer.as_deref();
    let new = captcha::new_captcha(fixed);
    let expires_at = state.clock.now() + captcha::ttl();
    state
        .store
        .captcha_insert(&new.id, &new.answer_hash, expires_at)
        .await?;
    Ok(IssuedCaptcha {
        id: new.id,
        image: new.png_data_url,
        expires_at,
    })
}

/// Stores an uploaded file by its content hash and gives a token to attach it with.
///
/// The type is judged from the content, never from the declared type or name.
#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "public",
    operation_id = "upload",
    request_body(content = crate::openapi::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored.", body = crate::openapi::Upload),
        (status = 400, description = "`bad_request`: a broken multipart body.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: over 20 MiB.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: a refused file type, or a \
            body that is not `multipart/form-data`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no `file` field.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(upload = tracing::field::Empty))]
pub async fn upload(
    State(state): State<AppState>,
    lang: Lang,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart?;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return Err(ApiError::from(error)),
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or_default().to_owned();
        let bytes = read_field(field).await?;
        let upload = store_upload(&state, &filename, &bytes).await?;
        let body = json!({
            "token": upload.token, "filename": upload.filename, "size": upload.size,
            "media_type": upload.media_type, "sha256": upload.sha256,
        });
        return Ok((StatusCode::CREATED, Json(body)).into_response());
    }
    Err(ApiError::Validation(vec![FieldError::new(
        "file", "required", lang,
    )]))
}

/// Judges a file by its content, stores it by its hash and records an upload token for it.
/// `filename` is the name as sent; it is cleaned and given the extension of its content.
#[instrument(skip_all, fields(upload = tracing::field::Empty))]
pub(crate) async fn store_upload(
    state: &AppState,
    filename: &str,
    bytes: &[u8],
) -> Result<Upload, ApiError> {
    let media_type = sniff(bytes)?;
    let filename = name_for_content(&sanitize_filename(filename), media_type);
    let blob = state.blobs.put(bytes).await.map_err(ApiError::internal)?;
    let (token, _) = new_secret();
    let upload = Upload {
        token,
        filename,
        size: blob.size,
        media_type: media_type.to_owned(),
        sha256: blob.sha256,
        created_at: state.clock.now(),
    };
    state.store.upload_insert(&upload).await?;
    tracing::Span::current().record("upload", upload.sha256.as_str());
    tracing::info!(size = upload.size, media_type, "file uploaded");
    Ok(upload)
}
