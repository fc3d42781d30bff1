//! The served OpenAPI document agrees with the code.
//!
//! - Every route that `src/app.rs` registers is documented with its methods, and nothing else
//!   is: read from the source, then probed on the router itself.
//! - Real responses of the router (in process, on a fresh SQLite store) fit the documented
//!   response of their status and media type: every key of a JSON body is a documented
//!   property, every required property is there, and every value has its documented type,
//!   enum, format and range. One flow takes a claim through its life so that every documented
//!   JSON success response of the public, client, agent and operations routes is produced.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use claimdesk_api::accounts::{hash_password, Role};
use claimdesk_api::clock::ManualClock;
use claimdesk_api::openapi::ApiDoc;
use claimdesk_api::routing::Routing;
use claimdesk_api::{validate, AppState, Settings};
use claimdesk_projections::Projections;
use claimdesk_store::services::Account;
use claimdesk_store::testing::TestSqlite;
use claimdesk_store::Services;
use serde_json::{json, Value};
use tower::ServiceExt;
use utoipa::OpenApi;

/// The tags whose operations this file drives through their whole flow.
const FLOW_TAGS: [&str; 4] = ["public", "client", "agents", "operations"];
const CAPTCHA_ANSWER: &str = "TEST42";
const PASSWORD: &str = "a long enough password";
const HTTP_METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON")
}

// ---------------------------------------------------------------------------------------------
// Checking a value against a schema of the document.

/// Where `value` disagrees with `schema`, whose references are resolved in `doc`.
fn disagreements(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(doc, schema, value, "$", &mut found);
    found
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        match doc["components"]["schemas"].get(name) {
            Some(target) => check(doc, target, value, at, found),
            None => found.push(format!("{at}: no schema {reference}")),
        }
        return;
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(doc, part, value, at, found);
    }
    for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        let Some(variants) = schema[keyword].as_array() else {
            continue;
        };
        let misfits: Vec<Vec<String>> = variants
            .iter()
            .map(|variant| {
                let mut misfit = Vec::new();
                check(doc, variant, value, at, &mut misfit);
                misfit
            })
            .collect();
        let fitting = misfits.iter().filter(|m| m.is_empty()).count();
        if fitting == 0 || (exactly_one && fitting > 1) {
            found.push(format!(
                "{at}: fits {fitting} of the {} {keyword} variants: {misfits:?}",
                variants.len()
            ));
        }
    }

    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| has_type(value, t)) {
        found.push(format!("{at}: {value} is not of type {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            found.push(format!("{at}: {value} is none of {allowed:?}"));
        }
    }

    match value {
        Value::String(text)
            if schema["format"] == "date-time" && DateTime::parse_from_rfc3339(text).is_err() =>
        {
            found.push(format!("{at}: {text:?} is not an RFC 3339 time"));
        }
        Value::Number(number) => {
            let x = number.as_f64().unwrap_or(f64::NAN);
            if schema["minimum"].as_f64().is_some_and(|min| x < min) {
                found.push(format!(
                    "{at}: {x} is under the minimum {}",
                    schema["minimum"]
                ));
            }
            if schema["maximum"].as_f64().is_some_and(|max| x > max) {
                found.push(format!(
                    "{at}: {x} is over the maximum {}",
                    schema["maximum"]
                ));
            }
        }
        Value::Object(members) => {
            let properties = schema["properties"].as_object();
            for (key, member) in members {
                let here = format!("{at}.{key}");
                match (
                    properties.and_then(|p| p.get(key)),
                    &schema["additionalProperties"],
                ) {
                    (Some(property), _) => check(doc, property, member, &here, found),
                    (None, Value::Bool(true)) => {}
                    (None, extra @ Value::Object(_)) => check(doc, extra, member, &here, found),
                    // A schema that lists properties lists them all.
                    (None, _) if properties.is_some() => {
                        found.push(format!("{here}: not a documented property"));
                    }
                    (None, _) => {}
                }
            }
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !members.contains_key(name) {
                    found.push(format!("{at}.{name}: required, and missing"));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(doc, item_schema, item, &format!("{at}[{i}]"), found);
                }
            }
        }
        _ => {}
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// `text/plain; version=0.0.4` → `text/plain`.
fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The documented path template that `path` (query string ignored) is an instance of, for
/// `method`; a literal segment wins over a `{parameter}`.
fn template_of(doc: &Value, method: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let paths = doc["paths"].as_object()?;
    paths
        .iter()
        .filter(|(_, item)| item.get(method).is_some())
        .filter_map(|(template, _)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut parameters = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') && part.ends_with('}') {
                    parameters += 1;
                } else if part != segment {
                    return None;
                }
            }
            Some((parameters, template.clone()))
        })
        .min()
        .map(|(_, template)| template)
}

/// A response as the router gave it.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| {
            panic!(
                "{}: not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    fn media_type(&self) -> String {
        let value = self.headers.get(header::CONTENT_TYPE);
        essence(value.and_then(|v| v.to_str().ok()).unwrap_or_default())
    }
}

/// Where a response disagrees with what the document says `method` on `path` answers; the
/// documented template and status when it agrees.
fn agreement(
    doc: &Value,
    method: &str,
    path: &str,
    answer: &Answer,
) -> Result<String, Vec<String>> {
    let Some(template) = template_of(doc, method, path) else {
        return Err(vec![format!("{method} {path} is not documented")]);
    };
    let status = answer.status.as_u16().to_string();
    let operation = &doc["paths"][&template][method];
    let Some(response) = operation["responses"].get(&status) else {
        return Err(vec![format!(
            "{method} {template}: status {status} is not documented"
        )]);
    };

    let mut found = Vec::new();
    for name in response["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|h| h.0)
    {
        if !answer.headers.contains_key(name.as_str()) {
            found.push(format!("documented header {name} is missing"));
        }
    }
    let content = response["content"].as_object();
    let media_type = answer.media_type();
    match content.filter(|c| !c.is_empty()) {
        None if answer.bytes.is_empty() => {}
        None => found.push(format!("a body ({media_type}) where none is documented")),
        Some(content) => {
            let documented = content.iter().find(|(key, _)| essence(key) == media_type);
            match documented {
                None => found.push(format!(
                    "media type {media_type:?} is none of the documented {:?}",
                    content.keys().collect::<Vec<_>>()
                )),
                Some((_, media)) if media_type.ends_with("json") => {
                    let body = answer.json();
                    if let Some(schema) = media.get("schema") {
                        found.extend(disagreements(doc, schema, &body));
                    }
                }
                Some((_, media)) if media["schema"]["type"] == "string" => {
                    if std::str::from_utf8(&answer.bytes).is_err() {
                        found.push("a documented text body that is not UTF-8".to_owned());
                    }
                }
                Some(_) => {}
            }
        }
    }
    if found.is_empty() {
        Ok(template)
    } else {
        let prefix = format!("{method} {path} → {status}");
        Err(found
            .into_iter()
            .map(|f| format!("{prefix}: {f}"))
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// The service, in process.

struct App {
    router: Router,
    doc: Value,
    store: TestSqlite,
    _data: tempfile::TempDir,
    /// The (method, template, status) of every response checked so far.
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
        .expect("a time")
        .with_timezone(&Utc)
}

impl App {
    async fn new() -> App {
        let store = claimdesk_store::testing::sqlite().await;
        let data = tempfile::tempdir().expect("a data folder");
        let clock = Arc::new(ManualClock::new(start_time()));
        let projections = Arc::new(Projections::start(
            store.shared(),
            claimdesk_projections::all(),
        ));
        let settings = Settings {
            data_dir: data.path().to_owned(),
            auto_close_after: Duration::from_secs(7 * 86_400),
            captcha_fixed_answer: Some(CAPTCHA_ANSWER.to_owned()),
            secure_cookies: false,
        };
        let state = AppState::new(store.shared(), projections, clock, settings).expect("the state");
        App {
            router: claimdesk_api::router(state),
            doc: document(),
            store,
            _data: data,
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Sends `request` through the router and fails unless the response is documented.
    async fn send(&self, mut request: Request<Body>) -> Answer {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            let peer: SocketAddr = "192.0.2.10:40000".parse().expect("an address");
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let method = request.method().as_str().to_ascii_lowercase();
        let path = request.uri().to_string();
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("a response");
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, 64 << 20).await.expect("a body");
        let answer = Answer {
            status: parts.status,
            headers: parts.headers,
            bytes,
        };
        match agreement(&self.doc, &method, &path, &answer) {
            Ok(template) => {
                let key = (method, template, answer.status.as_u16());
                self.seen.lock().expect("the record").insert(key);
            }
            Err(found) => panic!(
                "the response disagrees with the document:\n{}",
                found.join("\n")
            ),
        }
        answer
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(
            build(Method::GET, path, token)
                .body(Body::empty())
                .expect("a request"),
        )
        .await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        let request = build(Method::POST, path, token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request");
        self.send(request).await
    }

    async fn upload(&self, filename: &str, bytes: &[u8]) -> Answer {
        let boundary = "claimdesk-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = build(Method::POST, "/api/v1/uploads", None)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("a request");
        self.send(request).await
    }

    async fn add_account(&self, login: &str, role: Role, entity: Option<&str>) {
        let account = Account {
            login: login.to_owned(),
            role: role.as_str().to_owned(),
            entity: entity.map(str::to_owned),
            password_hash: hash_password(PASSWORD),
            disabled: false,
            created_at: start_time(),
        };
        self.store.account_insert(&account).await.expect("inserted");
    }

    async fn login(&self, login: &str) -> String {
        let body = json!({"login": login, "password": PASSWORD});
        let answer = self.post("/api/v1/sessions", None, &body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
        token_of(&answer)
    }

    fn seen(&self) -> BTreeSet<(String, String, u16)> {
        self.seen.lock().expect("the record").clone()
    }
}

fn build(method: Method, path: &str, token: Option<&str>) -> axum::http::request::Builder {
    let builder = Request::builder().method(method).uri(path);
    match token {
        Some(token) => builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
        None => builder,
    }
}

fn token_of(answer: &Answer) -> String {
    answer.json()["token"].as_str().expect("a token").to_owned()
}

fn code_of(answer: &Answer) -> String {
    answer.json()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A small PDF: the content, not the name, makes it one.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn filing(captcha: &str, attachments: &[&str]) -> Value {
    json!({
        "claim": {
            "theme": "issuance_delay",
            "filing_place": "ompic_head_office",
            "subject": "Certificat négatif non reçu",
            "request_number": "2026/000042",
            "message": "Ma demande date de trois semaines.",
            "attachments": attachments,
        },
        "contact": {
            "profile": "natural_person",
            "email": "samira@example.ma",
            "last_name": "Alaoui",
            "first_name": "Samira",
            "phone": "+212 6 12 34 56 78",
            "city": "Rabat",
            "country": "MA",
        },
        "captcha": {"id": captcha, "answer": CAPTCHA_ANSWER},
        "language": "fr",
    })
}

// ---------------------------------------------------------------------------------------------
// The routes of app.rs.

/// The routes `src/app.rs` registers, as (method, path): every `.route("path", method(...))`
/// of `router`, those of the `api` router under the prefix it is nested at.
fn registered_routes(source: &str) -> BTreeSet<(String, String)> {
    let body = &source[source.find("pub fn router(").expect("fn router in app.rs")..];
    let api_start = body.find("let api = ").expect("the api router");
    let api_end = api_start + body[api_start..].find(';').expect("the api router's end");
    let nest = body.find(".nest(\"").expect("the api router is nested");
    let prefix = body[nest + 7..].split('"').next().unwrap_or_default();
    // The web pages (HTML, for browsers) are merged in; they are not operations of the API
    // and are described in docs/web.md. Any other merged router must be listed here.
    let merges = body.matches(".merge(").count();
    let pages = body.matches(".merge(crate::web::router())").count();
    assert!(
        merges == pages,
        "app.rs merges a router whose routes this test cannot read: list them here"
    );

    let mut routes = BTreeSet::new();
    let mut rest = 0;
    while let Some(found) = body[rest..].find(".route(") {
        let start = rest + found + ".route(".len();
        let arguments = balanced(&body[start..]);
        let path = arguments.split('"').nth(1).expect("a path literal");
        let path = if (api_start..api_end).contains(&start) {
            format!("{prefix}{path}")
        } else {
            path.to_owned()
        };
        for method in methods_called(arguments) {
            routes.insert((method, path.clone()));
        }
        rest = start + arguments.len();
    }
    routes
}

/// `text` up to the parenthesis that closes the one just before it.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return &text[..i];
        }
    }
    panic!("unbalanced parentheses in app.rs")
}

/// The HTTP methods called in a method router expression: `get(a).post(b)` → get, post.
fn methods_called(expression: &str) -> Vec<String> {
    let mut methods = Vec::new();
    let mut word = String::new();
    for c in expression.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if c == '(' && HTTP_METHODS.contains(&word.as_str()) {
            methods.push(word.clone());
        }
        word.clear();
    }
    methods
}

/// Every documented (method, path).
fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in HTTP_METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn the_route_reader_reads_nested_chained_and_split_routes() {
    let source = r#"
        pub fn router(state: AppState) -> Router {
            let api = Router::new()
                .route("/a", get(x::a))
                .route(
                    "/b/{id}",
                    get(x::b).post(x::post_b),
                );
            Router::new()
                .nest("/v9", api)
                .route("/c", axum::routing::delete(x::c))
        }
    "#;
    let routes: Vec<(String, String)> = registered_routes(source).into_iter().collect();
    let expected = [
        ("delete", "/c"),
        ("get", "/v9/a"),
        ("get", "/v9/b/{id}"),
        ("post", "/v9/b/{id}"),
    ]
    .map(|(m, p)| (m.to_owned(), p.to_owned()));
    assert_eq!(routes, expected);
}

#[test]
fn every_route_of_app_rs_is_documented_and_nothing_else() {
    let registered = registered_routes(include_str!("../src/app.rs"));
    let documented = documented_routes(&document());
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "registered but not documented: {undocumented:?}\ndocumented but not registered: \
         {unrouted:?}"
    );
    assert!(registered.len() > 20, "{registered:?}");
}

#[tokio::test]
async fn the_router_serves_each_documented_path_with_exactly_the_documented_methods() {
    let app = App::new().await;
    let doc = document();
    let mut by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, path) in documented_routes(&doc) {
        by_path
            .entry(path)
            .or_default()
            .insert(method.to_uppercase());
    }
    for (template, methods) in by_path {
        // A method no route of the service has: a routed path answers 405 and lists its own.
        let path = template.replace('{', "probe-").replace('}', "");
        let request = Request::builder()
            .method(Method::TRACE)
            .uri(&path)
            .body(Body::empty())
            .expect("a request");
        let response = app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("a response");
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{template} is not routed"
        );
        let allow = response.headers()[header::ALLOW].to_str().expect("Allow");
        let allowed: BTreeSet<String> = allow
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| m != "HEAD" || methods.contains("HEAD"))
            .collect();
        assert_eq!(allowed, methods, "{template}");
    }
}

// ---------------------------------------------------------------------------------------------
// The document's own consistency.

#[test]
fn operation_ids_are_unique_and_tags_declared() {
    let doc = document();
    let declared: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("an item") {
            let id = operation["operationId"].as_str().expect("an operation id");
            assert!(ids.insert(id.to_owned()), "{method} {path}: {id} twice");
            let tags = operation["tags"].as_array().expect("tags");
            assert!(!tags.is_empty(), "{method} {path} has no tag");
            for tag in tags {
                let tag = tag.as_str().unwrap_or_default();
                assert!(
                    declared.contains(tag),
                    "{method} {path}: undeclared tag {tag}"
                );
            }
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no summary"
            );
        }
    }
}

#[test]
fn errors_are_problems_and_secured_operations_document_401() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("an item") {
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if !is_error || !path.starts_with("/api/v1") {
                    continue;
                }
                let content = response["content"].as_object().expect("a problem body");
                let keys: Vec<&String> = content.keys().collect();
                assert_eq!(
                    keys,
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().expect("a requirement").keys() {
                    assert!(schemes.contains_key(scheme), "{method} {path}: {scheme}");
                    assert!(responses.contains_key("401"), "{method} {path}: no 401");
                }
            }
            if path.starts_with("/api/v1") {
                assert!(responses.contains_key("500"), "{method} {path}: no 500");
            }
        }
    }
}

#[test]
fn the_schemas_say_what_the_code_enforces() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];

    let roles: Vec<Value> = Role::ALL.iter().map(|r| json!(r.as_str())).collect();
    assert_eq!(schemas["StaffRole"]["enum"], json!(roles));

    let mut files: Vec<&str> = claimdesk_api::uploads::ACCEPTED.to_vec();
    files.push(claimdesk_api::uploads::ZIP);
    for path in [
        "/api/v1/claims/{number}/attachments/{id}",
        "/api/v1/agent/claims/{number}/attachments/{id}",
    ] {
        let content = doc["paths"][path]["get"]["responses"]["200"]["content"]
            .as_object()
            .expect("file types");
        let documented: BTreeSet<&str> = content.keys().map(String::as_str).collect();
        assert_eq!(documented, files.iter().copied().collect(), "{path}");
    }

    let limits = [
        ("ClaimInput", "subject", validate::SUBJECT_MAX),
        ("ClaimInput", "request_number", validate::REQUEST_NUMBER_MAX),
        ("ClaimInput", "message", validate::MESSAGE_MAX),
        ("ContactInput", "email", validate::EMAIL_MAX),
    ];
    for (schema, field, max) in limits {
        let documented = &schemas[schema]["properties"][field]["maxLength"];
        assert_eq!(documented, &json!(max), "{schema}.{field}");
    }
    let attachments = &schemas["ClaimInput"]["properties"]["attachments"];
    assert_eq!(
        attachments["maxItems"],
        json!(validate::ATTACHMENTS_MAX),
        "{attachments}"
    );

    // The page copies a token from a response by the scheme its `token` property names.
    for (schema, scheme) in [
        ("Filed", "claim_token"),
        ("AccessGranted", "claim_token"),
        ("Session", "staff_token"),
    ] {
        let description = schemas[schema]["properties"]["token"]["description"].as_str();
        let named = format!("`{scheme}`");
        assert!(
            description.is_some_and(|d| d.contains(&named)),
            "{schema}.token"
        );
        assert!(doc["components"]["securitySchemes"].get(scheme).is_some());
    }

    let profiles: Vec<Value> = [
        validate::Profile::NaturalPerson,
        validate::Profile::LegalPerson,
    ]
    .iter()
    .map(|p| json!(p.code()))
    .collect();
    assert_eq!(schemas["Profile"]["enum"], json!(profiles));
}

// ---------------------------------------------------------------------------------------------
// The checker itself: a test that cannot fail proves nothing.

#[test]
fn the_checker_refuses_what_the_schema_does_not_say() {
    let doc = document();
    let detail = json!({"$ref": "#/components/schemas/ClaimDetail"});
    let good = json!({
        "number": "RC-2026-0000001", "filed_at": "2026-03-02T08:00:00.000000Z",
        "language": "fr", "theme": "other", "theme_label": "Autre", "filing_place": "x",
        "filing_place_label": null, "subject": "s", "request_number": "r", "message": "m",
        "attachments": [
            {"id": "a", "filename": "f.pdf", "size": 3, "media_type": "application/pdf"},
        ],
        "contact": {"profile": "legal_person", "email": "a@b.ma", "company_name": "SARL",
            "last_name": null, "first_name": null, "phone": null, "address": null,
            "city": null, "country": null},
        "status": "answered", "status_label": "Répondue", "entity": "finance",
        "entity_label": "Service financier", "answered_at": "2026-03-02T09:00:00Z",
        "auto_close_at": "2026-03-09T09:00:00Z", "satisfaction": null, "closed_at": null,
        "reopen_count": 0, "actions": ["message", "close"],
    });
    assert_eq!(disagreements(&doc, &detail, &good), Vec::<String>::new());

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut extra = good.clone();
    extra["surprise"] = json!(1);
    cases.push(("an undocumented property", extra));
    let mut missing = good.clone();
    missing
        .as_object_mut()
        .expect("an object")
        .remove("actions");
    cases.push(("a missing required property", missing));
    let mut not_nullable = good.clone();
    not_nullable["subject"] = Value::Null;
    cases.push(("null where not nullable", not_nullable));
    let mut wrong_enum = good.clone();
    wrong_enum["status"] = json!("lost");
    cases.push(("a value out of the enum", wrong_enum));
    let mut out_of_range = good.clone();
    out_of_range["satisfaction"] = json!(6);
    cases.push(("a number out of range", out_of_range));
    let mut bad_time = good.clone();
    bad_time["closed_at"] = json!("yesterday");
    cases.push(("a time that is not RFC 3339", bad_time));
    let mut deep = good.clone();
    deep["attachments"][0]["sha256"] = json!("00");
    cases.push(("an undocumented property in an array item", deep));
    let mut actor = json!({"kind": "entity", "entity": null, "label": null});
    assert_eq!(
        disagreements(&doc, &json!({"$ref": "#/components/schemas/Actor"}), &actor),
        Vec::<String>::new()
    );
    actor["login"] = json!("nadia");
    cases.push(("a client's actor with a login", json!({"actor": actor})));

    for (what, value) in cases {
        let schema = if value.get("actor").is_some() {
            let actor = json!({"$ref": "#/components/schemas/Actor"});
            json!({"type": "object", "properties": {"actor": actor}})
        } else {
            detail.clone()
        };
        assert!(
            !disagreements(&doc, &schema, &value).is_empty(),
            "{what} went unnoticed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The flows.

#[tokio::test]
async fn the_document_and_the_page_are_served() {
    let app = App::new().await;

    let answer = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.media_type(), "application/json");
    let served = answer.json();
    assert_eq!(served, document());
    assert!(served["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.")));

    let answer = app.get("/docs", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.media_type(), "text/html");
    let page = String::from_utf8(answer.bytes.to_vec()).expect("UTF-8");
    assert!(
        page.contains("\"/api-docs/openapi.json\""),
        "the page reads the document"
    );
    assert!(page.contains("fetch("), "the page sends requests");
    for outside in ["http://", "https://", "<link", " src=", "//cdn", "@import"] {
        assert!(
            !page.contains(outside),
            "the page refers outside itself: {outside}"
        );
    }
}

#[tokio::test]
async fn every_documented_response_the_flows_produce_fits_its_schema() {
    let app = App::new().await;
    let routing = Routing::load();
    let entity = routing.route("issuance_delay", "ompic_head_office").entity;
    let other = routing
        .entities
        .iter()
        .map(|e| e.code.clone())
        .find(|code| code != &entity)
        .expect("a second entity");

    // Operations.
    assert_eq!(
        app.get("/api-docs/openapi.json", None).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/docs", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/metrics", None).await.status, StatusCode::OK);
    let answer = app.get("/readyz", None).await;
    assert!(answer.json()["ready"].is_boolean());

    // What the wizard needs.
    assert_eq!(
        app.get("/api/v1/reference", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/reference?lang=ar", None).await.status,
        StatusCode::OK
    );
    let answer = app.post("/api/v1/captchas", None, &json!({})).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let captcha = answer.json()["id"].as_str().expect("an id").to_owned();
    let answer = app.upload("preuve.pdf", PDF).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let upload = token_of(&answer);
    let answer = app.upload("notes.txt", b"plain words, no file type").await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let answer = app.post("/api/v1/uploads", None, &json!({})).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Validating and filing.
    let body = filing(&captcha, &[&upload]);
    let answer = app.post("/api/v1/claims/validate", None, &body).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = app
        .post("/api/v1/claims/validate", None, &json!({"claim": {}}))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let malformed = build(Method::POST, "/api/v1/claims", None)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"claim\": "))
        .expect("a request");
    assert_eq!(app.send(malformed).await.status, StatusCode::BAD_REQUEST);
    let wrong = filing("NOPE", &[]);
    let answer = app.post("/api/v1/claims", None, &wrong).await;
    assert_eq!(code_of(&answer), "captcha_invalid");
    let answer = app.post("/api/v1/claims", None, &body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
    let filed = answer.json();
    let number = filed["number"].as_str().expect("a number").to_owned();
    let client = token_of(&answer);

    // The client follows the claim.
    let access = json!({"number": number, "email": "samira@example.ma"});
    let answer = app.post("/api/v1/claims/access", None, &access).await;
    assert_eq!(answer.status, StatusCode::OK);
    let wrong = json!({"number": number, "email": "someone@example.ma"});
    let answer = app.post("/api/v1/claims/access", None, &wrong).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = app.post("/api/v1/claims/access", None, &json!({})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);

    let claim = format!("/api/v1/claims/{number}");
    let answer = app.get(&claim, Some(&client)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let detail = answer.json();
    assert_eq!(detail["entity"], json!(entity));
    let file_id = detail["attachments"][0]["id"]
        .as_str()
        .expect("a file")
        .to_owned();
    assert_eq!(app.get(&claim, None).await.status, StatusCode::UNAUTHORIZED);
    let elsewhere = "/api/v1/claims/RC-2026-0000000";
    assert_eq!(
        app.get(elsewhere, Some(&client)).await.status,
        StatusCode::NOT_FOUND
    );
    let answer = app.get(&format!("{claim}/history"), Some(&client)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = app
        .get(&format!("{claim}/attachments/{file_id}"), Some(&client))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.bytes.as_ref(), PDF);

    // Staff.
    app.add_account("nadia", Role::Agent, Some(&entity)).await;
    app.add_account("omar", Role::Auditor, None).await;
    app.add_account("root", Role::Admin, None).await;
    let agent = app.login("nadia").await;
    let auditor = app.login("omar").await;
    let admin = app.login("root").await;
    let wrong = json!({"login": "nadia", "password": "not the password"});
    let answer = app.post("/api/v1/sessions", None, &wrong).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = app.post("/api/v1/sessions", None, &json!({})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);

    let answer = app.get("/api/v1/agent/queue", Some(&agent)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["claims"][0]["number"], json!(number));
    let queue_of_other = format!("/api/v1/agent/queue?entity={other}&lang=ar");
    assert_eq!(
        app.get(&queue_of_other, Some(&admin)).await.status,
        StatusCode::OK
    );
    let answer = app.get("/api/v1/agent/queue", Some(&admin)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let answer = app.get("/api/v1/agent/queue", Some(&auditor)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = app.get("/api/v1/agent/queue", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    let handled = format!("/api/v1/agent/claims/{number}");
    assert_eq!(app.get(&handled, Some(&agent)).await.status, StatusCode::OK);
    let answer = app
        .get(&format!("{handled}/attachments/{file_id}"), Some(&agent))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let message = json!({"body": "Merci de joindre le reçu.", "attachments": []});
    let answer = app
        .post(&format!("{handled}/messages"), Some(&agent), &message)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let answer = app
        .post(&format!("{handled}/messages"), Some(&agent), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = json!({"body": "Votre certificat est prêt.", "attachments": [upload]});
    let answer = app
        .post(&format!("{handled}/answer"), Some(&agent), &reply)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["status"], "answered");

    // The client reacts, closes, reopens.
    let message = json!({"body": "Je ne le trouve pas.", "attachments": []});
    let answer = app
        .post(&format!("{claim}/messages"), Some(&client), &message)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let answer = app
        .post(&format!("{handled}/answer"), Some(&agent), &reply)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let rating = json!({"satisfaction": 4, "comment": "Merci."});
    let answer = app
        .post(&format!("{claim}/close"), Some(&client), &rating)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["satisfaction"], 4);
    let answer = app
        .post(&format!("{claim}/close"), Some(&client), &rating)
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    let answer = app
        .post(&format!("{claim}/close"), Some(&client), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reason = json!({"reason": "Le certificat comporte une erreur."});
    let answer = app
        .post(&format!("{claim}/reopen"), Some(&client), &reason)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = app
        .post(&format!("{claim}/reopen"), Some(&client), &reason)
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);

    // Transfers: the agent hands the claim over, an administrator hands it back.
    let transfer = json!({"entity": other, "reason": "Relève de ce service."});
    let answer = app
        .post(&format!("{handled}/transfer"), Some(&agent), &transfer)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        app.get(&handled, Some(&agent)).await.status,
        StatusCode::NOT_FOUND
    );
    let back = json!({"entity": entity, "reason": "Erreur d'aiguillage."});
    let answer = app
        .post(&format!("{handled}/transfer"), Some(&admin), &back)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let closing = json!({"body": "Corrigé.", "attachments": [], "close": true});
    let answer = app
        .post(&format!("{handled}/answer"), Some(&agent), &closing)
        .await;
    assert_eq!(answer.json()["status"], "closed");

    // Both histories show every kind of actor.
    let answer = app.get(&format!("{handled}/history"), Some(&agent)).await;
    let actors: BTreeSet<String> = answer
        .json()
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["actor"]["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        actors,
        ["agent", "client", "staff", "system"]
            .map(String::from)
            .into()
    );
    let answer = app.get(&format!("{claim}/history"), Some(&client)).await;
    let actors: BTreeSet<String> = answer
        .json()
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["actor"]["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        actors,
        ["client", "entity", "system"].map(String::from).into()
    );

    // Idempotency: a replay, then a key reused for another body.
    let replayed = |body: &'static str| {
        build(Method::POST, "/api/v1/captchas", None)
            .header("Idempotency-Key", "once")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("a request")
    };
    let first = app.send(replayed("{}")).await;
    let again = app.send(replayed("{}")).await;
    assert_eq!((first.status, first.json()), (again.status, again.json()));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let reused = app.send(replayed("{\"other\": 1}")).await;
    assert_eq!(code_of(&reused), "idempotency_key_reused");

    // Too many failed accesses from one address.
    let mut last = None;
    for _ in 0..11 {
        let mut request = build(Method::POST, "/api/v1/claims/access", None)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(wrong_access(&number)))
            .expect("a request");
        let peer: SocketAddr = "198.51.100.23:1".parse().expect("an address");
        request.extensions_mut().insert(ConnectInfo(peer));
        last = Some(app.send(request).await);
    }
    let last = last.expect("answers");
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);

    // Every documented JSON success response of these routes was produced and checked.
    let seen = app.seen();
    let mut unchecked = Vec::new();
    for (path, item) in app.doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("an item") {
            let ours = operation["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|t| FLOW_TAGS.contains(&t.as_str().unwrap_or_default()));
            if !ours {
                continue;
            }
            for status in operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
            {
                let code: u16 = status.parse().expect("a status");
                let key = (method.clone(), path.clone(), code);
                if (200..300).contains(&code) && !seen.contains(&key) {
                    unchecked.push(key);
                }
            }
        }
    }
    assert!(unchecked.is_empty(), "never produced: {unchecked:?}");
}

fn wrong_access(number: &str) -> String {
    json!({"number": number, "email": "intruder@example.ma"}).to_string()
}
