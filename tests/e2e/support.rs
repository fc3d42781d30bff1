//! The harness: a real server on a random port, with a fresh database (SQLite in a temporary
//! folder, or a new PostgreSQL database on the server of `DATABASE_URL`) and a clock the test
//! can move; on demand ([`Options::smtp`]), a real SMTP server on the loopback for its emails.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use claimdesk::config::{ServeConfig, StorageConfig};
use claimdesk::Server;
use claimdesk_api::clock::ManualClock;
use futures::future::BoxFuture;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection};

use crate::smtp::SmtpServer;

pub const CAPTCHA: &str = "TEST42";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

pub type TestFn = fn(TestApp) -> BoxFuture<'static, Result<()>>;

/// Runs `test` against a new server on `backend`, on a runtime of its own.
fn run(backend: Backend, test: TestFn) -> std::result::Result<(), libtest_mimic::Failed> {
    use libtest_mimic::Failed;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(e.to_string()))?;
    runtime
        .block_on(async {
            let app = TestApp::spawn(backend).await?;
            test(app).await
        })
        .map_err(|e| Failed::from(format!("{e:#}")))
}

/// A test binary's `main`: runs `on_both` on SQLite and on PostgreSQL (ignored, never passed,
/// without `DATABASE_URL`) and `on_sqlite` on SQLite only, with libtest's arguments.
/// `CLAIMDESK_LOG=debug` shows the servers' logs, for a failing test.
pub fn run_tests(on_both: Vec<(&'static str, TestFn)>, on_sqlite: Vec<(&'static str, TestFn)>) {
    use libtest_mimic::{Arguments, Trial};
    if let Ok(filter) = std::env::var("CLAIMDESK_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .init();
    }
    let arguments = Arguments::from_args();
    let postgres = postgres_url().is_some();
    let mut trials = Vec::new();
    for (name, test) in on_both {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let trial = Trial::test(format!("{backend}::{name}"), move || run(backend, test))
                .with_ignored_flag(backend == Backend::Postgres && !postgres);
            trials.push(trial);
        }
    }
    for (name, test) in on_sqlite {
        let backend = Backend::Sqlite;
        trials.push(Trial::test(format!("{backend}::{name}"), move || {
            run(backend, test)
        }));
    }
    libtest_mimic::run(&arguments, trials).exit();
}

/// The PostgreSQL server's URL, when tests may use one.
pub fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
}

/// A PostgreSQL database made for one test and dropped after it.
struct PgDatabase {
    server_url: String,
    name: String,
}

impl PgDatabase {
    async fn create(server_url: &str) -> Result<(PgDatabase, String)> {
        let name = format!("claimdesk_e2e_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(server_url)
            .await
            .context("connect to PostgreSQL")?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        let url = replace_database(server_url, &name);
        Ok((
            PgDatabase {
                server_url: server_url.to_owned(),
                name,
            },
            url,
        ))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        // Dropping needs a runtime of its own: the test's may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&server_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = conn.execute(sql.as_str()).await;
                    }
                });
            }
        })
        .join();
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// How often the test server's email sender and deadline timers look for due work.
pub const PROCESS_POLL: Duration = Duration::from_millis(100);

/// How a test's server is configured beyond the defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Start an SMTP server on the loopback and send the emails to it
    /// (`CLAIMDESK_SMTP_URL=smtp://127.0.0.1:<port>`); without it they go to `.eml` files.
    pub smtp: bool,
    pub auto_close_after: Duration,
    pub reminder_before: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            smtp: false,
            auto_close_after: Duration::from_secs(7 * 86_400),
            reminder_before: Duration::from_secs(2 * 86_400),
        }
    }
}

impl Options {
    /// The defaults, with an SMTP server.
    pub fn smtp() -> Options {
        Options {
            smtp: true,
            ..Options::default()
        }
    }
}

/// Waits until `check` gives `Some`, looking every 50 ms, for at most a minute.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = check().await? {
            return Ok(found);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("gave up waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    /// The SMTP server the emails go to, with [`Options::smtp`].
    pub smtp: Option<SmtpServer>,
    /// The server's data folder, removed when the test ends.
    _data_dir: tempfile::TempDir,
    config: ServeConfig,
    server: Option<Server>,
    _database: Option<PgDatabase>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Result<TestApp> {
        TestApp::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, options: Options) -> Result<TestApp> {
        let data_dir = tempfile::tempdir()?;
        let (database, database_url) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let Some(server) = postgres_url() else {
                    bail!("DATABASE_URL is not set")
                };
                let (database, url) = PgDatabase::create(&server).await?;
                (Some(database), Some(url))
            }
        };
        let smtp = match options.smtp {
            true => Some(SmtpServer::start().await?),
            false => None,
        };
        let config = ServeConfig {
            listen: "127.0.0.1:0".parse()?,
            storage: StorageConfig {
                data_dir: data_dir.path().to_owned(),
                database_url,
            },
            smtp_url: smtp.as_ref().map(SmtpServer::url),
            mail_from: "reclamations@claimdesk.localhost".to_owned(),
            auto_close_after: options.auto_close_after,
            captcha_fixed_answer: Some(CAPTCHA.to_owned()),
            public_url: "http://127.0.0.1:8080".to_owned(),
            reminder_before: options.reminder_before,
            process_poll: PROCESS_POLL,
        };
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let server = claimdesk::start_with_clock(config.clone(), clock.clone()).await?;
        let base = format!("http://{}", server.addr);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(TestApp {
            base,
            http,
            clock,
            smtp,
            _data_dir: data_dir,
            config,
            server: Some(server),
            _database: database,
        })
    }

    /// Stops the server and starts a new one on the same database and data folder.
    pub async fn restart(&mut self) -> Result<()> {
        if let Some(server) = self.server.take() {
            server.stop().await?;
        }
        let server = claimdesk::start_with_clock(self.config.clone(), self.clock.clone()).await?;
        self.base = format!("http://{}", server.addr);
        self.server = Some(server);
        Ok(())
    }

    /// This app, its server started again with `options` (same database and data folder).
    pub async fn reconfigure(mut self, options: Options) -> Result<TestApp> {
        if let Some(server) = self.server.take() {
            server.stop().await?;
        }
        if options.smtp && self.smtp.is_none() {
            self.smtp = Some(SmtpServer::start().await?);
        }
        self.config.smtp_url = self.smtp.as_ref().map(SmtpServer::url);
        self.config.auto_close_after = options.auto_close_after;
        self.config.reminder_before = options.reminder_before;
        self.restart().await?;
        Ok(self)
    }

    /// Kills the server as a crash would: its email sender is cut off mid-way. The test's
    /// HTTP connections to it are closed too, so it lets go of everything.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(())
    }

    /// The running server.
    pub fn server(&self) -> Result<&Server> {
        self.server.as_ref().context("the server is not running")
    }

    /// The server's configuration, to start another instance on the same database.
    pub fn config(&self) -> ServeConfig {
        self.config.clone()
    }

    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
    }

    /// The server's store, opened again as another process would.
    pub async fn store(&self) -> Result<Arc<dyn claimdesk_store::Store>> {
        Ok(claimdesk_store::open(&self.config.storage.store_url()).await?)
    }

    /// The SMTP server of [`Options::smtp`].
    pub fn smtp(&self) -> Result<&SmtpServer> {
        self.smtp
            .as_ref()
            .context("no SMTP server: use Options::smtp()")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<Response> {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Ok(request.send().await?)
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Result<Response> {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Ok(request.send().await?)
    }

    /// A fresh captcha's id (its answer is [`CAPTCHA`]).
    pub async fn captcha(&self) -> Result<String> {
        let response = self.http.post(self.url("/api/v1/captchas")).send().await?;
        let body = expect_json(response, StatusCode::CREATED).await?;
        Ok(body["id"].as_str().context("captcha id")?.to_owned())
    }

    /// Uploads `bytes` as `filename`; the upload's JSON.
    pub async fn upload(&self, bytes: Vec<u8>, filename: &str, declared: &str) -> Result<Response> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(declared)?;
        let form = reqwest::multipart::Form::new().part("file", part);
        Ok(self
            .http
            .post(self.url("/api/v1/uploads"))
            .multipart(form)
            .send()
            .await?)
    }

    /// Files `body` with a fresh captcha; the response.
    pub async fn file(&self, mut body: Value) -> Result<Response> {
        let captcha = self.captcha().await?;
        body["captcha"] = json!({"id": captcha, "answer": CAPTCHA});
        self.post("/api/v1/claims", &body, None).await
    }

    /// Files `body` and returns the claim's number.
    pub async fn file_ok(&self, body: Value) -> Result<String> {
        let created = expect_json(self.file(body).await?, StatusCode::CREATED).await?;
        Ok(created["number"].as_str().context("number")?.to_owned())
    }

    /// A claim token from the number and email.
    pub async fn access(&self, number: &str, email: &str) -> Result<String> {
        let body = json!({"number": number, "email": email});
        let response = self.post("/api/v1/claims/access", &body, None).await?;
        let body = expect_json(response, StatusCode::OK).await?;
        Ok(body["token"].as_str().context("token")?.to_owned())
    }

    /// Creates a staff account directly in the store, as `claimdesk users add` does.
    pub async fn add_user(&self, login: &str, role: &str, entity: Option<&str>) -> Result<()> {
        let store = claimdesk_store::open(&self.config.storage.store_url()).await?;
        let account = claimdesk_store::services::Account {
            login: login.to_owned(),
            role: role.to_owned(),
            entity: entity.map(str::to_owned),
            password_hash: claimdesk_api::accounts::hash_password(PASSWORD),
            disabled: false,
            created_at: chrono::Utc::now(),
        };
        store.account_insert(&account).await?;
        Ok(())
    }

    /// Signs a staff account in; its bearer token.
    pub async fn login(&self, login: &str) -> Result<String> {
        let body = json!({"login": login, "password": PASSWORD});
        let response = self.post("/api/v1/sessions", &body, None).await?;
        let body = expect_json(response, StatusCode::OK).await?;
        Ok(body["token"].as_str().context("token")?.to_owned())
    }

    /// An agent of `entity`, signed in.
    pub async fn agent(&self, login: &str, entity: &str) -> Result<String> {
        self.add_user(login, "agent", Some(entity)).await?;
        self.login(login).await
    }

    pub async fn stop(mut self) -> Result<()> {
        if let Some(server) = self.server.take() {
            server.stop().await?;
        }
        Ok(())
    }
}

/// A valid filing body, in French, without captcha.
pub fn filing(email: &str) -> Value {
    json!({
        "claim": {
            "theme": "issuance_delay",
            "filing_place": "ompic_head_office",
            "subject": "Certificat négatif non reçu",
            "request_number": "2026/123456",
            "message": "Bonjour, ma demande date de trois semaines.",
            "attachments": []
        },
        "contact": {
            "profile": "natural_person",
            "email": email,
            "last_name": "Alaoui",
            "first_name": "Samira",
            "phone": "+212 6 12 34 56 78",
            "city": "Rabat",
            "country": "MA"
        },
        "language": "fr"
    })
}

/// The JSON body of a response that must have `status`; otherwise an error with the body.
pub async fn expect_json(response: Response, status: StatusCode) -> Result<Value> {
    let actual = response.status();
    let text = response.text().await?;
    if actual != status {
        bail!("expected {status}, got {actual}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))
}

/// A problem+json response that must have `status` and `code`; the problem.
pub async fn expect_problem(response: Response, status: StatusCode, code: &str) -> Result<Value> {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let problem = expect_json(response, status).await?;
    if !content_type.starts_with("application/problem+json") {
        bail!("content type {content_type} for {problem}");
    }
    if problem["code"] != code {
        bail!("expected code {code}: {problem}");
    }
    if problem["status"] != status.as_u16() {
        bail!("status field disagrees: {problem}");
    }
    Ok(problem)
}

/// A small valid PDF with some text.
pub fn sample_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n".to_vec();
    pdf.extend_from_slice(b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n");
    pdf.extend_from_slice(
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n",
    );
    pdf.extend_from_slice(b"trailer << /Root 1 0 R >>\n%%EOF\n");
    pdf
}
