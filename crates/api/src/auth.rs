//! Bearer tokens: secrets handed to their holder once, stored only as hashes.

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::number;
use crate::problem::ApiError;

/// A new secret and the hash under which it is stored.
pub fn new_secret() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = secret_hash(&secret);
    (secret, hash)
}

pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A client's access to the claim named in the path. A token for another claim gets the
/// same 404 as an unknown claim, so numbers cannot be probed with a valid token.
pub struct ClaimAccess {
    pub number: String,
}

impl FromRequestParts<AppState> for ClaimAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClaimAccess, ApiError> {
        let secret = bearer(parts).ok_or(ApiError::Unauthorized)?.to_owned();
        let subject = claim_of_secret(state, &secret)
            .await?
            .ok_or(ApiError::Unauthorized)?;

        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let asked = params
            .iter()
            .find(|(name, _)| name == "number")
            .and_then(|(_, value)| number::normalize(value))
            .ok_or(ApiError::NotFound)?;
        if asked != subject {
            return Err(ApiError::NotFound);
        }
        Ok(ClaimAccess { number: subject })
    }
}

/// The claim that a claim token opens, if it is a live claim token.
pub(crate) async fn claim_of_secret(
    state: &AppState,
    secret: &str,
) -> Result<Option<String>, ApiError> {
    let now = state.clock.now();
    let token = state.store.token_get(&secret_hash(secret), now).await?;
    Ok(token.filter(|t| t.kind == "claim").map(|t| t.subject))
}
