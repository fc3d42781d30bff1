//! Opening a claim with its number and email (F11).

use anyhow::{ensure, Context, Result};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{expect_json, expect_problem, filing, TestApp};

pub async fn wrong_number_or_email_is_the_same_404(app: TestApp) -> Result<()> {
    let number = app.file_ok(filing("owner@example.ma")).await?;
    let wrong_email = json!({"number": number, "email": "someone@example.ma"});
    let wrong_number = json!({"number": "RC-2026-AAAA-BBBB-CCCC", "email": "owner@example.ma"});
    let garbage = json!({"number": "../../etc", "email": "owner@example.ma"});
    let mut bodies = Vec::new();
    for body in [wrong_email, wrong_number, garbage] {
        let response = app.post("/api/v1/claims/access", &body, None).await?;
        let problem = expect_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
        bodies.push(problem);
    }
    ensure!(
        bodies[0] == bodies[1] && bodies[1] == bodies[2],
        "same answer: {bodies:?}"
    );
    app.stop().await
}

pub async fn a_token_opens_only_its_own_claim(app: TestApp) -> Result<()> {
    let mine = app.file_ok(filing("mine@example.ma")).await?;
    let other = app.file_ok(filing("other@example.ma")).await?;
    let token = app.access(&mine, "mine@example.ma").await?;

    let own = app
        .get(&format!("/api/v1/claims/{mine}"), Some(&token))
        .await?;
    expect_json(own, StatusCode::OK).await?;
    for path in [
        format!("/api/v1/claims/{other}"),
        format!("/api/v1/claims/{other}/history"),
        "/api/v1/claims/RC-2026-ZZZZ-ZZZZ-ZZZZ".to_owned(),
    ] {
        let response = app.get(&path, Some(&token)).await?;
        expect_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
    }
    let bogus = app
        .get(&format!("/api/v1/claims/{mine}"), Some("not-a-token"))
        .await?;
    expect_problem(bogus, StatusCode::UNAUTHORIZED, "unauthorized").await?;

    // Numbers are long and random: two claims share no more than their prefix.
    ensure!(mine.len() >= 17 && mine != other, "{mine} {other}");
    app.stop().await
}

pub async fn repeated_failures_are_rate_limited(app: TestApp) -> Result<()> {
    let number = app.file_ok(filing("target@example.ma")).await?;
    let mut limited = None;
    for attempt in 0..30 {
        let body = json!({"number": number, "email": format!("guess{attempt}@example.ma")});
        let response = app
            .post("/api/v1/claims/access?lang=ar", &body, None)
            .await?;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get("retry-after")
                .context("Retry-After")?
                .to_str()?
                .parse::<u64>()?;
            ensure!(retry_after > 0);
            let problem =
                expect_problem(response, StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
                    .await?;
            ensure!(problem["title"]
                .as_str()
                .is_some_and(|t| t.chars().any(|c| c > '\u{0600}')));
            limited = Some(attempt);
            break;
        }
        expect_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
    }
    let attempt = limited.context("failures were never limited")?;
    ensure!(
        (5..=20).contains(&attempt),
        "limited after {attempt} failures"
    );
    // Even the right email is refused while limited.
    let body = json!({"number": number, "email": "target@example.ma"});
    let response = app.post("/api/v1/claims/access", &body, None).await?;
    ensure!(response.status() == StatusCode::TOO_MANY_REQUESTS);
    app.stop().await
}
