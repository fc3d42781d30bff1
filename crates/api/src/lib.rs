//! The claimdesk HTTP API (`/api/v1`, see API.md): handlers, their extractors and the
//! support they need (languages, problems, reference data, captchas, uploads, routing).
//!
//! Every error is an `application/problem+json` in the request's language; a handler never
//! answers 500 for bad input. A write is answered only after its events are stored and the
//! read models show them.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod captcha;
pub mod clock;
pub mod extract;
pub mod i18n;
pub mod idempotency;
pub mod number;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod reference;
pub mod routes;
pub mod routing;
pub mod uploads;
pub mod validate;
pub mod web;

pub use app::{router, AppState, Settings};
