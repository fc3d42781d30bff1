//! `Idempotency-Key` on POST requests: the same key with the same body gets the first
//! response again, and the work is done once.
//!
//! The key is reserved in the database before the handler runs, so two copies of a request
//! racing each other cannot both run: the second gets a 409 while the first is in flight,
//! and the first's response once it is done. Keys are scoped by method, path and credentials,
//! so two clients' keys never meet. Only a success is kept: after a refusal (a 4xx, say a
//! field error) or a server error the key is freed, so the client may correct its request
//! and send it again under the same key. JSON bodies are compared by content, not by layout.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use claimdesk_store::services::IdempotencyStart;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::{AppState, MAX_BODY};
use crate::problem::ApiError;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(key) if !key.trim().is_empty() && key.len() <= MAX_KEY_LEN => key.trim().to_owned(),
        _ => return ApiError::BadRequest("idempotency_key_invalid").into_response(),
    };

    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let header = |name| {
        parts
            .headers
            .get(name)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default()
    };
    let credentials = sha256_hex(&[header(AUTHORIZATION)]);
    let scope = format!("{} {} {credentials}", parts.method, parts.uri.path());
    let request_hash = sha256_hex(&[header(CONTENT_TYPE), &canonical(&bytes)]);

    let now = state.clock.now();
    tracing::debug!(key = %key, "idempotent request");
    match state
        .store
        .idempotency_begin(&scope, &key, &request_hash, now)
        .await
    {
        Err(error) => ApiError::internal(error).into_response(),
        Ok(IdempotencyStart::InProgress) => {
            ApiError::Conflict("idempotency_in_progress").into_response()
        }
        Ok(IdempotencyStart::Mismatch) => {
            ApiError::UnprocessableKey("idempotency_key_reused").into_response()
        }
        Ok(IdempotencyStart::Completed { status, body }) => replay(status, &body),
        Ok(IdempotencyStart::Started) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            keep(&state, &scope, &key, response).await
        }
    }
}

/// Records the response under the key (or frees the key after a server error).
async fn keep(state: &AppState, scope: &str, key: &str, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let _ = state.store.idempotency_abandon(scope, key).await;
            return ApiError::internal(error).into_response();
        }
    };
    let outcome = if !parts.status.is_success() {
        state.store.idempotency_abandon(scope, key).await
    } else {
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let kept = json!({
            "content_type": content_type,
            "body": String::from_utf8_lossy(&bytes),
        });
        state
            .store
            .idempotency_complete(scope, key, parts.status.as_u16(), &kept.to_string())
            .await
    };
    if let Err(error) = outcome {
        tracing::error!(error = %error, "could not record an idempotent response");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A JSON body in one canonical layout (keys sorted, no spaces); any other body as it is.
fn canonical(bytes: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => claimdesk_store::hash::canonical_json(&value).into_bytes(),
        Err(_) => bytes.to_vec(),
    }
}

fn replay(status: u16, kept: &str) -> Response {
    let kept: serde_json::Value = serde_json::from_str(kept).unwrap_or_default();
    let body = kept["body"].as_str().unwrap_or_default().to_owned();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(value) = kept["content_type"]
        .as_str()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
