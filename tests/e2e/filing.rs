//! Filing and tracking a claim.

use anyhow::{ensure, Context, Result};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{expect_json, expect_problem, filing, sample_pdf, TestApp, CAPTCHA};

const ARABIC_MESSAGE: &str = "السلام عليكم، لم أتوصل بالشهادة السلبية رقم 2026/778 منذ 15 يوما.";

pub async fn files_and_tracks_a_claim_in_arabic_with_a_pdf(mut app: TestApp) -> Result<()> {
    let pdf = sample_pdf();
    let upload = expect_json(
        app.upload(pdf.clone(), "شهادة سلبية.pdf", "application/octet-stream")
            .await?,
        StatusCode::CREATED,
    )
    .await?;
    ensure!(upload["media_type"] == "application/pdf", "{upload}");
    ensure!(upload["size"] == pdf.len(), "{upload}");
    ensure!(
        upload["sha256"] == hex::encode(Sha256::digest(&pdf)),
        "{upload}"
    );

    let mut body = filing("client.ar@example.ma");
    body["language"] = json!("ar");
    body["claim"]["message"] = json!(ARABIC_MESSAGE);
    body["claim"]["subject"] = json!("تأخر الشهادة السلبية");
    body["claim"]["attachments"] = json!([upload["token"]]);
    let response = app.http.post(app.url("/api/v1/claims?lang=ar")).json(&{
        let captcha = app.captcha().await?;
        let mut body = body.clone();
        body["captcha"] = json!({"id": captcha, "answer": CAPTCHA});
        body
    });
    let created = expect_json(response.send().await?, StatusCode::CREATED).await?;
    let number = created["number"].as_str().context("number")?.to_owned();
    ensure!(created["status"] == "pending", "{created}");
    ensure!(created["filed_at"].is_string(), "{created}");

    // Access with the number, in any case and spacing, and the email in any case.
    let token = app
        .access(&number.to_lowercase(), "Client.AR@example.ma")
        .await?;
    let check = |detail: &Value, history: &Value| -> Result<()> {
        ensure!(detail["number"] == number.as_str(), "{detail}");
        ensure!(detail["message"] == ARABIC_MESSAGE, "{detail}");
        ensure!(detail["status"] == "pending", "{detail}");
        ensure!(detail["status_label"] == "في انتظار المعالجة", "{detail}");
        ensure!(
            detail["entity"].is_string(),
            "routed to an entity: {detail}"
        );
        ensure!(detail["auto_close_at"].is_null(), "{detail}");
        ensure!(detail["actions"] == json!(["message", "close"]), "{detail}");
        ensure!(
            detail["contact"]["email"] == "client.ar@example.ma",
            "{detail}"
        );
        ensure!(
            detail["attachments"][0]["filename"] == "شهادة سلبية.pdf",
            "{detail}"
        );
        let entries = history.as_array().context("history is a list")?;
        let kinds: Vec<_> = entries.iter().map(|e| e["kind"].clone()).collect();
        ensure!(kinds == [json!("filed"), json!("routed")], "{history}");
        ensure!(entries[0]["message"] == ARABIC_MESSAGE, "{history}");
        ensure!(
            entries[0]["label"].as_str().is_some_and(|l| !l.is_empty()),
            "{history}"
        );
        Ok(())
    };
    let path = format!("/api/v1/claims/{number}");
    let detail = expect_json(
        app.get(&format!("{path}?lang=ar"), Some(&token)).await?,
        StatusCode::OK,
    )
    .await?;
    let history = expect_json(
        app.get(&format!("{path}/history?lang=ar"), Some(&token))
            .await?,
        StatusCode::OK,
    )
    .await?;
    check(&detail, &history)?;

    // The server restarts; the claim, its history and its file are still there.
    app.restart().await?;
    let token = app.access(&number, "client.ar@example.ma").await?;
    let detail = expect_json(
        app.get(&format!("{path}?lang=ar"), Some(&token)).await?,
        StatusCode::OK,
    )
    .await?;
    let history = expect_json(
        app.get(&format!("{path}/history?lang=ar"), Some(&token))
            .await?,
        StatusCode::OK,
    )
    .await?;
    check(&detail, &history)?;

    let id = detail["attachments"][0]["id"]
        .as_str()
        .context("attachment id")?;
    let response = app
        .get(&format!("{path}/attachments/{id}"), Some(&token))
        .await?;
    ensure!(response.status() == StatusCode::OK);
    let headers = response.headers().clone();
    ensure!(headers["content-type"] == "application/pdf");
    let disposition = headers["content-disposition"].to_str()?;
    ensure!(disposition.starts_with("attachment;"), "{disposition}");
    ensure!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    ensure!(headers["x-content-type-options"] == "nosniff");
    let downloaded = response.bytes().await?;
    ensure!(
        downloaded.as_ref() == pdf.as_slice(),
        "the file comes back byte for byte"
    );
    app.stop().await
}

pub async fn reference_data_in_both_languages(app: TestApp) -> Result<()> {
    let fr = expect_json(app.get("/api/v1/reference", None).await?, StatusCode::OK).await?;
    let ar = expect_json(
        app.http
            .get(app.url("/api/v1/reference"))
            .header("accept-language", "ar-MA,ar;q=0.9")
            .send()
            .await?,
        StatusCode::OK,
    )
    .await?;
    for kind in ["themes", "filing_places", "profiles", "countries"] {
        let labels = |body: &Value| -> Result<std::collections::BTreeMap<String, String>> {
            let items = body[kind].as_array().context(kind)?;
            Ok(items
                .iter()
                .map(|i| {
                    (
                        i["code"].as_str().unwrap_or("").into(),
                        i["label"].as_str().unwrap_or("").into(),
                    )
                })
                .collect())
        };
        let (f, a) = (labels(&fr)?, labels(&ar)?);
        ensure!(!f.is_empty(), "{kind} is empty");
        ensure!(
            f.keys().eq(a.keys()),
            "{kind}: the same codes in both languages"
        );
        for (code, label) in &f {
            ensure!(
                !label.is_empty() && !a[code].is_empty(),
                "{kind} {code} has labels"
            );
            ensure!(label != &a[code], "{kind} {code}: {label} is translated");
        }
    }
    let places: Vec<_> = fr["filing_places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].clone())
        .collect();
    ensure!(places.contains(&json!("ompic_head_office")), "{places:?}");
    ensure!(ar["profiles"][0]["label"]
        .as_str()
        .is_some_and(|l| l.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))));
    app.stop().await
}

pub async fn captcha_is_a_png_and_single_use(app: TestApp) -> Result<()> {
    let response = app.http.post(app.url("/api/v1/captchas")).send().await?;
    let captcha = expect_json(response, StatusCode::CREATED).await?;
    let image = captcha["image"].as_str().context("image")?;
    let encoded = image
        .strip_prefix("data:image/png;base64,")
        .context("a PNG data URL")?;
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(encoded)?;
    ensure!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a real PNG");
    ensure!(png.len() > 500, "an image with something drawn");

    let mut body = filing("once@example.ma");
    body["captcha"] = json!({"id": captcha["id"], "answer": CAPTCHA.to_lowercase()});
    expect_json(
        app.post("/api/v1/claims", &body, None).await?,
        StatusCode::CREATED,
    )
    .await?;
    // The same captcha a second time (F12), and a wrong answer on a fresh one.
    let again = app.post("/api/v1/claims", &body, None).await?;
    let problem =
        expect_problem(again, StatusCode::UNPROCESSABLE_ENTITY, "captcha_invalid").await?;
    ensure!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
    let fresh = app.captcha().await?;
    body["captcha"] = json!({"id": fresh, "answer": "WRONG"});
    let wrong = app.post("/api/v1/claims", &body, None).await?;
    expect_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "captcha_invalid").await?;
    body["captcha"] = json!({"id": fresh, "answer": CAPTCHA});
    let after_wrong = app.post("/api/v1/claims", &body, None).await?;
    expect_problem(
        after_wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "captcha_invalid",
    )
    .await?;
    app.stop().await
}

pub async fn expired_captcha_is_refused(app: TestApp) -> Result<()> {
    let id = app.captcha().await?;
    app.clock.advance(chrono::Duration::minutes(11));
    let mut body = filing("late@example.ma");
    body["captcha"] = json!({"id": id, "answer": CAPTCHA});
    let response = app.post("/api/v1/claims", &body, None).await?;
    expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "captcha_invalid",
    )
    .await?;
    app.stop().await
}

async fn head(app: &TestApp) -> Result<u64> {
    let metrics = app.get("/metrics", None).await?.text().await?;
    let line = metrics
        .lines()
        .find(|l| l.starts_with("claimdesk_store_head_position "))
        .context("head metric")?;
    Ok(line.rsplit(' ').next().unwrap_or_default().parse()?)
}

pub async fn blank_message_is_refused_and_nothing_stored(app: TestApp) -> Result<()> {
    let before = head(&app).await?;
    for blank in [
        "   ",
        "\u{00A0}\u{00A0}",
        "\u{200B}\u{200C}\u{FEFF}",
        " \u{202F}\t\n\u{2060}",
    ] {
        let mut body = filing("blank@example.ma");
        body["claim"]["message"] = json!(blank);
        let response = app
            .http
            .post(app.url("/api/v1/claims"))
            .header("accept-language", "ar")
            .json(&{
                let mut body = body.clone();
                body["captcha"] = json!({"id": app.captcha().await?, "answer": CAPTCHA});
                body
            })
            .send()
            .await?;
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        let errors = problem["errors"].as_array().context("errors")?;
        ensure!(
            errors.iter().any(|e| e["field"] == "claim.message"),
            "{problem}"
        );
        let message = errors[0]["message"].as_str().unwrap_or_default();
        ensure!(
            message
                .chars()
                .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
            "Arabic: {message}"
        );
    }
    ensure!(head(&app).await? == before, "no event was stored");
    app.stop().await
}

pub async fn validate_reports_field_errors_in_the_request_language(app: TestApp) -> Result<()> {
    let ok = app
        .post("/api/v1/claims/validate", &filing("v@example.ma"), None)
        .await?;
    ensure!(ok.status() == StatusCode::NO_CONTENT, "{}", ok.status());

    let mut body = filing("not-an-email");
    body["claim"]["theme"] = json!("no_such_theme");
    body["contact"]["profile"] = Value::Null;
    let response = app
        .post("/api/v1/claims/validate?lang=fr", &body, None)
        .await?;
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let fields: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    for field in ["claim.theme", "contact.email", "contact.profile"] {
        ensure!(fields.contains(&json!(field)), "{field} in {problem}");
    }
    app.stop().await
}

pub async fn malformed_bodies_get_problems_not_500(app: TestApp) -> Result<()> {
    let url = app.url("/api/v1/claims");
    let syntax = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"claim\":")
        .send()
        .await?;
    expect_problem(syntax, StatusCode::BAD_REQUEST, "bad_request").await?;
    let not_json = app
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await?;
    expect_problem(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    let wrong_type = app
        .post("/api/v1/claims", &json!({"claim": 5, "contact": "x"}), None)
        .await?;
    ensure!(
        wrong_type.status() == StatusCode::UNPROCESSABLE_ENTITY
            || wrong_type.status() == StatusCode::BAD_REQUEST,
        "{}",
        wrong_type.status()
    );
    let put = app.http.put(app.url("/api/v1/claims")).send().await?;
    expect_problem(put, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await?;
    let delete = app
        .http
        .delete(app.url("/api/v1/claims/RC-2026-AAAA-BBBB-CCCC"))
        .send()
        .await?;
    expect_problem(delete, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await?;
    let unknown = app.get("/api/v1/nothing-here", None).await?;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await?;
    let no_token = app
        .get("/api/v1/claims/RC-2026-AAAA-BBBB-CCCC", None)
        .await?;
    expect_problem(no_token, StatusCode::UNAUTHORIZED, "unauthorized").await?;
    app.stop().await
}

pub async fn idempotency_key_files_one_claim(app: TestApp) -> Result<()> {
    let mut body = filing("retry@example.ma");
    body["captcha"] = json!({"id": app.captcha().await?, "answer": CAPTCHA});
    let send = |body: &Value| {
        app.http
            .post(app.url("/api/v1/claims"))
            .header("idempotency-key", "k-123")
            .json(body)
            .send()
    };
    let first = expect_json(send(&body).await?, StatusCode::CREATED).await?;
    let second = send(&body).await?;
    ensure!(second.headers().get("idempotent-replayed").is_some());
    let second = expect_json(second, StatusCode::CREATED).await?;
    ensure!(first["number"] == second["number"], "{first} {second}");

    // The same JSON laid out differently is the same request.
    let pretty = app
        .http
        .post(app.url("/api/v1/claims"))
        .header("idempotency-key", "k-123")
        .header("content-type", "application/json")
        .body(serde_json::to_string_pretty(&body)?)
        .send()
        .await?;
    let third = expect_json(pretty, StatusCode::CREATED).await?;
    ensure!(third["number"] == first["number"], "{third}");

    body["claim"]["subject"] = json!("Autre objet");
    let reused = send(&body).await?;
    expect_problem(
        reused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await?;

    // A refusal is not kept: the client corrects its request under the same key.
    let mut wrong = filing("fix@example.ma");
    wrong["captcha"] = json!({"id": app.captcha().await?, "answer": "NOPE"});
    let send_fix = |body: &Value| {
        app.http
            .post(app.url("/api/v1/claims"))
            .header("idempotency-key", "k-fix")
            .json(body)
            .send()
    };
    let refused = send_fix(&wrong).await?;
    expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "captcha_invalid").await?;
    wrong["captcha"] = json!({"id": app.captcha().await?, "answer": CAPTCHA});
    expect_json(send_fix(&wrong).await?, StatusCode::CREATED).await?;
    app.stop().await
}

pub async fn events_before_and_after_a_restart_are_projected_once(mut app: TestApp) -> Result<()> {
    let first = app.file_ok(filing("before@example.ma")).await?;
    app.restart().await?;
    let second = app.file_ok(filing("after@example.ma")).await?;
    app.restart().await?;
    for (number, email) in [(first, "before@example.ma"), (second, "after@example.ma")] {
        let token = app.access(&number, email).await?;
        let history = app
            .get(&format!("/api/v1/claims/{number}/history"), Some(&token))
            .await?;
        let history = expect_json(history, StatusCode::OK).await?;
        ensure!(
            history.as_array().map(Vec::len) == Some(2),
            "filed and routed once: {history}"
        );
    }
    app.stop().await
}

pub async fn a_burst_of_concurrent_filings_is_all_projected(app: TestApp) -> Result<()> {
    let filings = (0..16).map(|i| {
        let app = &app;
        async move {
            let email = format!("burst{i}@example.ma");
            let number = app.file_ok(filing(&email)).await?;
            Ok::<_, anyhow::Error>((number, email))
        }
    });
    let filed = futures::future::try_join_all(filings).await?;
    for (number, email) in filed {
        let token = app.access(&number, &email).await?;
        let detail = app
            .get(&format!("/api/v1/claims/{number}"), Some(&token))
            .await?;
        let detail = expect_json(detail, StatusCode::OK).await?;
        ensure!(detail["number"] == number.as_str(), "{detail}");
    }
    app.stop().await
}
