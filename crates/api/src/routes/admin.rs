//! What administrators do to the read models (role `admin`): see where each stands, and
//! rebuild one from the events.
//!
//! What these endpoints promise:
//! - A rebuild answers **202 Accepted** at once and runs in the background: a new copy of the
//!   read model is filled from the first event while the current copy keeps serving; the
//!   readers switch to the new copy once it has applied every event up to the store's head as
//!   it was when the rebuild was asked for, and the old copy is dropped a few seconds later.
//!   `GET /api/v1/admin/projections` shows the progress (`rebuild`) and, once done, the new
//!   `generation`. One rebuild per read model at a time: asking again meanwhile is a 409.
//! - A rebuild changes nothing but the read model: no event is written.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use claimdesk_projections::RebuildError;
use serde_json::json;
use tracing::instrument;

use crate::accounts::{Role, Staff};
use crate::app::AppState;
use crate::problem::{ApiError, Problem};

const ADMINS: &[Role] = &[Role::Admin];

/// Every read model: its serving copy, how far it has applied the events, and any rebuild.
#[utoipa::path(
    get,
    path = "/api/v1/admin/projections",
    tag = "administration",
    operation_id = "admin_projections",
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "`head` (the store's last position) and `projections`: \
            per read model `name`, `version`, `generation`, `position`, `failing` and \
            `rebuild` (null, or the new copy's `version`, `generation`, `position`, `target` \
            and `failing`).", body = Object),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an administrator.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login))]
pub async fn projections(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, ApiError> {
    staff.require(ADMINS)?;
    let head = state.store.head().await?;
    let statuses = state.projections.statuses();
    Ok(Json(json!({"head": head, "projections": statuses})).into_response())
}

/// Rebuilds read model `name` from the events, in the background.
#[utoipa::path(
    post,
    path = "/api/v1/admin/projections/{name}/rebuild",
    tag = "administration",
    operation_id = "admin_rebuild_projection",
    params(("name" = String, Path, description = "The read model's name, e.g. \
        `satisfaction_stats`.")),
    security(("staff_token" = [])),
    responses(
        (status = 202, description = "Started: `name`, `from` and `to` (the serving and the \
            new copy: `version`, `generation`) and `target`, the head the new copy must reach \
            before it serves.", body = Object),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no read model of that name.",
            body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict` (`rebuild_in_progress`): this read model is \
            already being rebuilt.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, projection = %name))]
pub async fn rebuild(
    State(state): State<AppState>,
    staff: Staff,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    staff.require(ADMINS)?;
    match state.projections.rebuild(&name).await {
        Ok(started) => {
            tracing::info!(from = %started.from, to = %started.to, target = started.target,
                "rebuild asked for");
            Ok((StatusCode::ACCEPTED, Json(started)).into_response())
        }
        Err(RebuildError::Unknown(_)) => Err(ApiError::NotFound),
        Err(RebuildError::InProgress(_)) => Err(ApiError::Conflict("rebuild_in_progress")),
        Err(RebuildError::Store(error)) => Err(error.into()),
    }
}
