//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::AppState;
use crate::problem::ApiError;

/// How far behind the store's head a projection may be while the service is called ready.
const READY_LAG: u64 = 10_000;

/// Alive: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "`ok`.", body = String, content_type = "text/plain")),
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers and every projection is running and close to the head.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready.", body = crate::openapi::Readiness),
        (status = 503, description = "Not ready: the store is unreachable, or a read model \
            fails or lags.",
            body = crate::openapi::Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let head = match state.store.head().await {
        Ok(head) => head,
        Err(error) => {
            tracing::warn!(error = %error, "store unreachable");
            let body = json!({"ready": false, "store": "unreachable"});
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        }
    };
    let statuses = state.projections.statuses();
    let ready = statuses
        .iter()
        .all(|s| s.failing.is_none() && head.saturating_sub(s.position) <= READY_LAG);
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({"ready": ready, "store": "reachable", "head": head, "projections": statuses});
    (code, Json(body)).into_response()
}

/// Prometheus text exposition of the store's head, the projections' progress, and the
/// outbox's and timers' sizes.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text format 0.0.4.", body = String,
            content_type = "text/plain"),
    )
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    let head = state.store.head().await.ok();
    out.push_str("# HELP claimdesk_store_head_position Position of the last stored event.\n");
    out.push_str("# TYPE claimdesk_store_head_position gauge\n");
    if let Some(head) = head {
        out.push_str(&format!("claimdesk_store_head_position {head}\n"));
    }
    out.push_str("# HELP claimdesk_projection_position Last position applied by a projection.\n");
    out.push_str("# TYPE claimdesk_projection_position gauge\n");
    let statuses = state.projections.statuses();
    for s in &statuses {
        out.push_str(&format!(
            "claimdesk_projection_position{{name=\"{}\",version=\"{}\"}} {}\n",
            s.name, s.version, s.position
        ));
    }
    out.push_str(
        "# HELP claimdesk_projection_failing 1 while a projection is stopped at an event.\n",
    );
    out.push_str("# TYPE claimdesk_projection_failing gauge\n");
    for s in &statuses {
        let failing = u8::from(s.failing.is_some());
        out.push_str(&format!(
            "claimdesk_projection_failing{{name=\"{}\",version=\"{}\"}} {failing}\n",
            s.name, s.version
        ));
    }
    crate::routes::outbox::write_metrics(&state, &mut out).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
