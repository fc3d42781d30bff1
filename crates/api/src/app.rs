//! The application state shared by every handler, and the router.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use claimdesk_projections::Projections;
use claimdesk_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::ratelimit::RateLimiter;
use crate::routes;
use crate::routes::{agent, claims};
use crate::uploads::BlobStore;

/// What the API needs from the server's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub auto_close_after: Duration,
    pub captcha_fixed_answer: Option<String>,
    /// Whether the pages' cookies are marked `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub projections: Arc<Projections>,
    pub clock: Arc<dyn Clock>,
    pub blobs: BlobStore,
    pub settings: Settings,
    /// Failed claim accesses (number and email), per client address.
    pub access_failures: RateLimiter,
    /// Failed staff logins, per client address.
    pub login_failures: RateLimiter,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        projections: Arc<Projections>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> std::io::Result<AppState> {
        let blobs = BlobStore::new(&settings.data_dir)?;
        Ok(AppState(Arc::new(Inner {
            store,
            projections,
            clock,
            blobs,
            settings,
            access_failures: RateLimiter::new(10, Duration::from_secs(15 * 60)),
            login_failures: RateLimiter::new(
                crate::routes::sessions::MAX_FAILURES,
                crate::routes::sessions::FAILURE_WINDOW,
            ),
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The largest request body: one 20 MiB file and its multipart framing.
pub const MAX_BODY: usize = crate::uploads::MAX_UPLOAD as usize + 64 * 1024;

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/reference", get(routes::public::reference))
        .route("/captchas", post(routes::public::new_captcha))
        .route("/uploads", post(routes::public::upload))
        .route("/claims", post(routes::claims::file))
        .route("/claims/validate", post(routes::claims::validate))
        .route("/claims/access", post(routes::claims::access))
        .route("/claims/{number}", get(routes::claims::detail))
        .route("/claims/{number}/history", get(routes::claims::history))
        .route("/claims/{number}/attachments/{id}", get(claims::attachment))
        .route("/claims/{number}/messages", post(claims::post_message))
        .route("/claims/{number}/close", post(claims::close))
        .route("/claims/{number}/reopen", post(claims::reopen))
        .route("/sessions", post(routes::sessions::create))
        .route("/agent/queue", get(agent::queue))
        .route("/agent/claims/{number}", get(agent::detail))
        .route("/agent/claims/{number}/history", get(agent::history))
        .route(
            "/agent/claims/{number}/attachments/{id}",
            get(agent::attachment),
        )
        .route("/agent/claims/{number}/answer", post(agent::answer))
        .route("/agent/claims/{number}/messages", post(agent::post_message))
        .route("/agent/claims/{number}/transfer", post(agent::transfer))
        .route("/admin/outbox", get(routes::outbox::list))
        .route("/admin/outbox/{id}/retry", post(routes::outbox::retry))
        .route("/admin/projections", get(routes::admin::projections))
        .route(
            "/admin/projections/{name}/rebuild",
            post(routes::admin::rebuild),
        )
        .route("/audit/claims/{number}/events", get(routes::audit::events))
        .route("/audit/claims/{number}/state", get(routes::audit::state_at))
        .route("/audit/claims/{number}/verify", get(routes::audit::verify))
        .route("/stats/satisfaction", get(routes::stats::satisfaction))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::middleware,
        ));

    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/api-docs/openapi.json", get(crate::openapi::document))
        .route("/docs", get(crate::openapi::page))
        .merge(crate::web::router())
        .fallback(crate::web::not_found)
        .method_not_allowed_fallback(routes::ops::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(TraceLayer::new_for_http())
        // Outermost, so that every error below is rendered in the request's language.
        .layer(axum::middleware::from_fn(crate::i18n::language_scope))
        .with_state(state)
}
