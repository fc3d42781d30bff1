//! Staff sessions: `POST /api/v1/sessions` trades a login and a password for a bearer token.
//!
//! What this module promises:
//! - An unknown login, a wrong password and a disabled account get the same 401 after the
//!   same work: an unknown login's password is checked against a dummy hash of the same
//!   parameters, so neither the answer nor its timing tells which logins exist.
//! - Failures are counted per client address ([`crate::ratelimit::ip_key`]):
//!   [`MAX_FAILURES`] within [`FAILURE_WINDOW`] block that address with 429 and
//!   `Retry-After`, even for a right password, until the oldest failure leaves the window.
//!   A success does not wipe earlier failures. The count lives in this process, in a limiter
//!   of its own shared by every router the process builds.
//! - At most [`MAX_CONCURRENT_CHECKS`] password checks run at once in the process; more
//!   wait their turn. Each takes about 19 MiB for tens of milliseconds, so a burst of logins
//!   queues instead of exhausting memory.
//! - A session is a random 256-bit secret, stored only as its SHA-256, of kind
//!   [`ACCOUNT_TOKEN`] with the login as subject, valid [`SESSION_TTL`]. Disabling the
//!   account ends it at once (see [`crate::accounts::Staff`]).

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use claimdesk_store::services::Token;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Semaphore;
use tracing::instrument;

use crate::accounts::{verify_password, Staff, ACCOUNT_TOKEN, DUMMY_HASH, MAX_PASSWORD_CHARS};
use crate::app::AppState;
use crate::auth::new_secret;
use crate::extract::{ClientIp, ReqJson};
use crate::i18n::Lang;
use crate::problem::{field_code, ApiError, FieldError, Problem};
use crate::ratelimit::ip_key;

/// How long a staff session lasts: a working day.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(8);
/// Failed logins from one address that block it...
pub const MAX_FAILURES: u32 = 10;
/// ...when they fall within this window.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Password checks running at once, at most.
pub const MAX_CONCURRENT_CHECKS: usize = 4;

/// `{"login", "password"}`; a missing field is reported as such, not as a bad body.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SessionRequest {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    login: Option<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, format = Password)]
    password: Option<String>,
}

/// Opens a staff session: 200 `{"token", "expires_at", "role", "entity"}`; 422 when the
/// login or password is missing; the same 401 for every wrong pair; 429 after too many.
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "agents",
    operation_id = "open_session",
    summary = "Opens a staff session.",
    request_body = SessionRequest,
    responses(
        (status = 200, description = "A staff token, valid eight hours.",
            body = crate::openapi::Session),
        (status = 400, description = "`bad_request`: the body is not JSON.",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is too large.",
            body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not \
            `application/json`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`unauthorized`: a wrong login or password, or a \
            disabled account, all alike.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `login` or `password` missing.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_requests`: too many failures from this \
            address.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
    )
)]
#[instrument(skip_all, fields(login = tracing::field::Empty))]
pub async fn create(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    ReqJson(body): ReqJson<SessionRequest>,
) -> Result<Response, ApiError> {
    let opened = open_session(&state, ip, body.login.as_deref(), body.password, lang).await?;
    let body = json!({
        "token": opened.token,
        "expires_at": opened.expires_at,
        "role": opened.staff.role,
        "entity": opened.staff.entity,
    });
    Ok(Json(body).into_response())
}

/// A staff session just opened.
pub(crate) struct Opened {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub staff: Staff,
}

/// Checks a login and password and opens a session: 422 when either is missing; the same
/// 401 for every wrong pair or disabled account; 429 after too many failures.
pub(crate) async fn open_session(
    state: &AppState,
    ip: std::net::IpAddr,
    login: Option<&str>,
    password: Option<String>,
    lang: Lang,
) -> Result<Opened, ApiError> {
    let address = ip_key(ip);
    if let Some(retry_after) = state.login_failures.blocked(&address, Instant::now()) {
        return Err(ApiError::too_many_requests(retry_after));
    }

    let login = login.map(str::trim).unwrap_or_default();
    let password = password.unwrap_or_default();
    let mut missing = Vec::new();
    if login.is_empty() {
        missing.push(FieldError::new("login", field_code::REQUIRED, lang));
    }
    if password.is_empty() {
        missing.push(FieldError::new("password", field_code::REQUIRED, lang));
    }
    if !missing.is_empty() {
        return Err(ApiError::Validation(missing));
    }

    let account = state.store.account_get(login).await?;
    let verified = match &account {
        // No account can have so long a password: refusing it unhashed tells nothing.
        _ if password.chars().count() > MAX_PASSWORD_CHARS => false,
        Some(account) => check(password, account.password_hash.clone()).await?,
        None => check(password, DUMMY_HASH.to_owned()).await?,
    };
    let Some(account) = account.filter(|a| verified && !a.disabled) else {
        if state
            .login_failures
            .record(&address, Instant::now())
            .is_some()
        {
            tracing::info!(
                address,
                "failed logins: this address is blocked for a while"
            );
        }
        tracing::debug!(address, "login refused");
        return Err(ApiError::Unauthorized);
    };
    let staff = Staff::from_account(&account).map_err(|e| {
        ApiError::internal(format!("stored account {} is unusable: {e}", account.login))
    })?;
    tracing::Span::current().record("login", staff.login.as_str());

    let (secret, token_hash) = new_secret();
    let expires_at = state.clock.now() + SESSION_TTL;
    let token = Token {
        token_hash,
        kind: ACCOUNT_TOKEN.to_owned(),
        subject: staff.login.clone(),
        expires_at,
    };
    state.store.token_insert(&token).await?;
    tracing::info!(role = %staff.role, entity = ?staff.entity, "session opened");

    Ok(Opened {
        token: secret,
        expires_at,
        staff,
    })
}

/// Verifies off the async workers, a few at a time: a check is memory-hard work.
async fn check(password: String, phc: String) -> Result<bool, ApiError> {
    static CHECKS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_CHECKS);
    let _permit = CHECKS.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use axum::body::{to_bytes, Body};
    use axum::extract::ConnectInfo;
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
    use axum::http::{Request, StatusCode};
    use axum::routing::{get, post};
    use axum::Router;
    use chrono::{DateTime, Utc};
    use claimdesk_projections::Projections;
    use claimdesk_store::services::Account;
    use claimdesk_store::{SqliteStore, Store};
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;
    use crate::accounts::{hash_password, Role};
    use crate::app::Settings;
    use crate::clock::ManualClock;

    const PASSWORD: &str = "a long enough password";

    struct TestApp {
        router: Router,
        store: Arc<dyn Store>,
        clock: Arc<ManualClock>,
        _folder: tempfile::TempDir,
    }

    /// Who the bearer is, or the extractor's refusal.
    async fn whoami(staff: Staff) -> Json<Value> {
        Json(json!({"login": staff.login, "role": staff.role, "entity": staff.entity}))
    }

    /// Only agents and administrators.
    async fn agents_only(staff: Staff) -> Result<&'static str, ApiError> {
        staff.require(&[Role::Agent, Role::Admin])?;
        Ok("ok")
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
            .expect("a time")
            .with_timezone(&Utc)
    }

    async fn app() -> TestApp {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::connect("sqlite::memory:")
                .await
                .expect("a store"),
        );
        let clock = Arc::new(ManualClock::new(start()));
        let settings = Settings {
            data_dir: folder.path().to_owned(),
            auto_close_after: Duration::from_secs(7 * 86_400),
            captcha_fixed_answer: None,
            secure_cookies: false,
        };
        let projections = Arc::new(Projections::start(store.clone(), Vec::new()));
        let state =
            AppState::new(store.clone(), projections, clock.clone(), settings).expect("the state");
        let router = Router::new()
            .route("/sessions", post(create))
            .route("/whoami", get(whoami))
            .route("/agents-only", get(agents_only))
            .with_state(state);
        TestApp {
            router,
            store,
            clock,
            _folder: folder,
        }
    }

    impl TestApp {
        async fn add(&self, login: &str, role: Role, entity: Option<&str>) {
            let account = Account {
                login: login.to_owned(),
                role: role.as_str().to_owned(),
                entity: entity.map(str::to_owned),
                password_hash: hash_password(PASSWORD),
                disabled: false,
                created_at: start(),
            };
            self.store.account_insert(&account).await.expect("inserted");
        }

        /// Logs in from `ip` (each test its own, as the limiter is shared by the process).
        async fn login(&self, ip: &str, body: Value) -> (StatusCode, Value) {
            let peer: SocketAddr = format!("{ip}:40000").parse().expect("an address");
            let mut request = Request::post("/sessions")
                .header(CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("a request");
            request.extensions_mut().insert(ConnectInfo(peer));
            self.send(request).await
        }

        async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
            let mut request = Request::get(path);
            if let Some(token) = token {
                request = request.header(AUTHORIZATION, format!("Bearer {token}"));
            }
            self.send(request.body(Body::empty()).expect("a request"))
                .await
        }

        async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("a response");
            let status = response.status();
            let bytes = to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("a body");
            let body = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
            (status, body)
        }
    }

    fn pair(login: &str, password: &str) -> Value {
        json!({"login": login, "password": password})
    }

    #[tokio::test]
    async fn a_right_password_opens_a_session_of_eight_hours() {
        let app = app().await;
        app.add("nadia", Role::Agent, Some("finance")).await;

        let (status, body) = app.login("192.0.2.1", pair(" nadia ", PASSWORD)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["role"], "agent");
        assert_eq!(body["entity"], "finance");
        let expires: DateTime<Utc> = body["expires_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("expires_at is a time");
        assert_eq!(expires, start() + chrono::Duration::hours(8));
        let token = body["token"].as_str().expect("a token");

        let (status, me) = app.get("/whoami", Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(
            me,
            json!({"login": "nadia", "role": "agent", "entity": "finance"})
        );

        app.clock
            .advance(chrono::Duration::hours(8) - chrono::Duration::seconds(1));
        assert_eq!(app.get("/whoami", Some(token)).await.0, StatusCode::OK);
        app.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(
            app.get("/whoami", Some(token)).await.0,
            StatusCode::UNAUTHORIZED,
            "expired"
        );
    }

    #[tokio::test]
    async fn every_wrong_pair_gets_the_same_401() {
        let app = app().await;
        app.add("nadia", Role::Agent, Some("finance")).await;
        app.add("omar", Role::Auditor, None).await;
        app.store
            .account_set_disabled("omar", true)
            .await
            .expect("disabled");

        let wrong_password = app
            .login("192.0.2.2", pair("nadia", "not the password"))
            .await;
        let unknown_login = app.login("192.0.2.2", pair("nobody", PASSWORD)).await;
        let disabled = app.login("192.0.2.2", pair("omar", PASSWORD)).await;
        let other_case = app.login("192.0.2.2", pair("NADIA", PASSWORD)).await;
        let huge = "x".repeat(MAX_PASSWORD_CHARS + 1);
        let too_long = app.login("192.0.2.2", pair("nadia", &huge)).await;

        assert_eq!(wrong_password.0, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password.1["code"], "unauthorized");
        for other in [unknown_login, disabled, other_case, too_long] {
            assert_eq!(other, wrong_password);
        }
    }

    #[tokio::test]
    async fn missing_fields_are_422() {
        let app = app().await;
        let (status, body) = app.login("192.0.2.3", json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["code"], "validation_failed");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["login", "password"]);

        let (status, body) = app.login("192.0.2.3", pair("  ", "")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));

        let (status, body) = app.login("192.0.2.3", json!({"login": "nadia"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "password");
    }

    #[tokio::test]
    async fn repeated_failures_block_the_address_even_for_a_right_password() {
        let app = app().await;
        app.add("nadia", Role::Agent, Some("finance")).await;
        let attacker = "198.51.100.7";

        for i in 0..MAX_FAILURES {
            let (status, _) = app
                .login(attacker, pair("nadia", &format!("guess {i}")))
                .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {i}");
        }
        let peer: SocketAddr = format!("{attacker}:1").parse().expect("an address");
        let mut request = Request::post("/sessions")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(pair("nadia", PASSWORD).to_string()))
            .expect("a request");
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("a response");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = response.headers()[RETRY_AFTER]
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("Retry-After in seconds");
        assert!(wait > 0 && wait <= FAILURE_WINDOW.as_secs(), "{wait}");

        let (status, _) = app.login("198.51.100.8", pair("nadia", PASSWORD)).await;
        assert_eq!(status, StatusCode::OK, "another address is not blocked");
    }

    #[tokio::test]
    async fn only_a_live_account_token_is_staff() {
        let app = app().await;
        app.add("nadia", Role::Agent, Some("finance")).await;
        app.add("karim", Role::Analyst, None).await;
        let (_, body) = app.login("192.0.2.4", pair("nadia", PASSWORD)).await;
        let nadia = body["token"].as_str().expect("a token").to_owned();
        let (_, body) = app.login("192.0.2.4", pair("karim", PASSWORD)).await;
        let karim = body["token"].as_str().expect("a token").to_owned();

        assert_eq!(app.get("/whoami", None).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            app.get("/whoami", Some("made-up")).await.0,
            StatusCode::UNAUTHORIZED
        );
        // A client's claim token is no staff session, whatever its subject.
        let (secret, token_hash) = new_secret();
        let claim = Token {
            token_hash,
            kind: "claim".to_owned(),
            subject: "nadia".to_owned(),
            expires_at: start() + chrono::Duration::hours(1),
        };
        app.store.token_insert(&claim).await.expect("inserted");
        assert_eq!(
            app.get("/whoami", Some(&secret)).await.0,
            StatusCode::UNAUTHORIZED
        );

        // Roles: an agent passes, an analyst is known but refused.
        assert_eq!(
            app.get("/agents-only", Some(&nadia)).await.0,
            StatusCode::OK
        );
        let (status, body) = app.get("/agents-only", Some(&karim)).await;
        assert_eq!(
            (status, &body["code"]),
            (StatusCode::FORBIDDEN, &json!("forbidden"))
        );

        // Disabling shuts out the token already held, at once; enabling lets it back.
        app.store
            .account_set_disabled("nadia", true)
            .await
            .expect("disabled");
        assert_eq!(
            app.get("/whoami", Some(&nadia)).await.0,
            StatusCode::UNAUTHORIZED
        );
        app.store
            .account_set_disabled("nadia", false)
            .await
            .expect("enabled");
        assert_eq!(app.get("/whoami", Some(&nadia)).await.0, StatusCode::OK);

        // Revoked sessions are gone for good.
        let revoked = app
            .store
            .token_delete_subject(ACCOUNT_TOKEN, "nadia")
            .await
            .expect("revoked");
        assert_eq!(revoked, 1);
        assert_eq!(
            app.get("/whoami", Some(&nadia)).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(app.get("/whoami", Some(&karim)).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_stored_account_breaking_the_rules_opens_nothing() {
        let app = app().await;
        let broken = Account {
            login: "ghost".to_owned(),
            role: "root".to_owned(),
            entity: None,
            password_hash: hash_password(PASSWORD),
            disabled: false,
            created_at: start(),
        };
        app.store.account_insert(&broken).await.expect("inserted");
        let (status, body) = app.login("192.0.2.5", pair("ghost", PASSWORD)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body.get("token"), None);
    }
}
