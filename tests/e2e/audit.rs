//! Auditors (issue 5): a claim's raw events with their envelopes, the claim as it stood at an
//! instant, the replay, and a stored event altered by hand that `verify` points at (F17).

use anyhow::{ensure, Context, Result};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::support::{expect_json, expect_problem, filing, TestApp};

/// A claim answered, closed with 5, reopened, answered again and closed with 2; its number.
async fn lived_claim(app: &TestApp, agent: &str) -> Result<String> {
    let email = "audit@example.ma";
    let number = app.file_ok(filing(email)).await?;
    let client = app.access(&number, email).await?;
    let answer = format!("/api/v1/agent/claims/{number}/answer");
    let body = json!({"body": "Votre certificat est prêt."});
    expect_json(
        app.post(&answer, &body, Some(agent)).await?,
        StatusCode::CREATED,
    )
    .await?;
    let close = format!("/api/v1/claims/{number}/close");
    let rating = json!({"satisfaction": 5, "comment": "Parfait"});
    expect_json(
        app.post(&close, &rating, Some(&client)).await?,
        StatusCode::OK,
    )
    .await?;
    let reopen = format!("/api/v1/claims/{number}/reopen");
    let reason = json!({"reason": "Le certificat porte une erreur."});
    expect_json(
        app.post(&reopen, &reason, Some(&client)).await?,
        StatusCode::OK,
    )
    .await?;
    expect_json(
        app.post(&answer, &body, Some(agent)).await?,
        StatusCode::CREATED,
    )
    .await?;
    let rating = json!({"satisfaction": 2});
    expect_json(
        app.post(&close, &rating, Some(&client)).await?,
        StatusCode::OK,
    )
    .await?;
    Ok(number)
}

async fn events(app: &TestApp, number: &str, token: &str) -> Result<Vec<Value>> {
    let path = format!("/api/v1/audit/claims/{number}/events");
    let body = expect_json(app.get(&path, Some(token)).await?, StatusCode::OK).await?;
    Ok(body.as_array().context("a list of events")?.clone())
}

async fn state_at(app: &TestApp, number: &str, token: &str, at: &str) -> Result<Value> {
    let path = format!(
        "/api/v1/audit/claims/{number}/state?at={}",
        at.replace('+', "%2B")
    );
    expect_json(app.get(&path, Some(token)).await?, StatusCode::OK).await
}

pub async fn an_auditor_reads_every_event_and_the_state_at_any_time(app: TestApp) -> Result<()> {
    let agent = app.agent("agent.audit", "trade_names").await?;
    let number = lived_claim(&app, &agent).await?;
    app.add_user("auditor.amal", "auditor", None).await?;
    let auditor = app.login("auditor.amal").await?;

    let events = events(&app, &number, &auditor).await?;
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    let expected = [
        "ClaimFiled",
        "ClaimRouted",
        "ClaimAnswered",
        "ClaimClosed",
        "ClaimReopened",
        "ClaimAnswered",
        "ClaimClosed",
    ];
    ensure!(types == expected, "{types:?}");
    let mut previous: Option<&Value> = None;
    for (i, event) in events.iter().enumerate() {
        ensure!(event["version"] == i as u64 + 1, "{event}");
        for field in [
            "position",
            "recorded_at",
            "correlation_id",
            "hash",
            "schema_version",
        ] {
            ensure!(!event[field].is_null(), "{field} in {event}");
        }
        ensure!(event.get("causation_id").is_some(), "{event}");
        ensure!(event["data"].is_object(), "{event}");
        ensure!(
            event.get("stored_data").is_none(),
            "stored in the current schema: {event}"
        );
        match previous {
            None => ensure!(event["prev_hash"].is_null(), "{event}"),
            Some(before) => {
                ensure!(event["prev_hash"] == before["hash"], "linked: {event}");
                ensure!(
                    event["position"].as_u64() > before["position"].as_u64(),
                    "{event}"
                );
            }
        }
        previous = Some(event);
    }
    ensure!(events[0]["schema_version"] == 2 && events[0]["data"]["channel"] == "web");
    ensure!(events[2]["actor"] == "agent:agent.audit", "{}", events[2]);
    ensure!(events[3]["actor"] == "client", "{}", events[3]);
    // F17: the reopening is its own event, with who and why.
    ensure!(
        events[4]["data"]["personal"]["reason"] == "Le certificat porte une erreur.",
        "{}",
        events[4]
    );

    // The claim as it stood after the first closure, and at the end.
    let first_close = events[3]["recorded_at"].as_str().context("a time")?;
    let then = state_at(&app, &number, &auditor, first_close).await?;
    ensure!(
        then["status"] == "closed" && then["satisfaction"] == 5 && then["reopenings"] == 0,
        "{then}"
    );
    ensure!(
        then["version"] == 4 && then["filing"]["number"] == number.as_str(),
        "{then}"
    );
    ensure!(
        !then.to_string().contains("audit@example.ma"),
        "no contact: {then}"
    );
    let last = events[6]["recorded_at"].as_str().context("a time")?;
    let now = state_at(&app, &number, &auditor, last).await?;
    ensure!(
        now["satisfaction"] == 2
            && now["reopenings"] == 1
            && now["ratings"].as_array().map(Vec::len) == Some(2),
        "{now}"
    );
    let offset = state_at(&app, &number, &auditor, "2999-01-01T01:00:00+01:00").await?;
    ensure!(offset["version"] == 7, "{offset}");

    // Before filing there is no claim; a time that is not one is refused.
    let path = format!("/api/v1/audit/claims/{number}/state?at=2000-01-01T00:00:00Z");
    let before = app.get(&path, Some(&auditor)).await?;
    expect_problem(before, StatusCode::NOT_FOUND, "not_found").await?;
    let path = format!("/api/v1/audit/claims/{number}/state?at=yesterday");
    let bad = expect_problem(
        app.get(&path, Some(&auditor)).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    ensure!(bad["errors"][0]["field"] == "at", "{bad}");

    // Only auditors and administrators; an unknown claim is a 404.
    let path = format!("/api/v1/audit/claims/{number}/events");
    let refused = app.get(&path, Some(&agent)).await?;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await?;
    app.add_user("analyst.anas", "analyst", None).await?;
    let analyst = app.login("analyst.anas").await?;
    let refused = app.get(&path, Some(&analyst)).await?;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await?;
    expect_problem(
        app.get(&path, None).await?,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await?;
    app.add_user("admin.adil", "admin", None).await?;
    let admin = app.login("admin.adil").await?;
    ensure!(events_of(&app, &number, &admin).await? == 7);
    let unknown = "/api/v1/audit/claims/RC-2026-0000-0000-0000/verify";
    let unknown = app.get(unknown, Some(&auditor)).await?;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await?;

    // The replay, as an auditor runs it on the command line: every step, actor and time.
    let store = app.store().await?;
    let mut out = Vec::new();
    claimdesk::audit::replay(&store, &number, &mut out).await?;
    let text = String::from_utf8(out)?;
    let lines: Vec<&str> = text.lines().collect();
    ensure!(lines.len() == 1 + 7 + 1, "{text}");
    for (line, event) in lines[1..8].iter().zip(&events) {
        let at = event["recorded_at"].as_str().context("a time")?;
        let actor = event["actor"].as_str().context("an actor")?;
        let kind = event["type"].as_str().context("a type")?;
        ensure!(
            line.starts_with(at) && line.contains(actor) && line.contains(kind),
            "{line}"
        );
    }
    ensure!(
        lines[5].contains("Le certificat porte une erreur."),
        "{text}"
    );
    ensure!(lines[4].contains("satisfaction 5/5") && lines[7].contains("satisfaction 2/5"));
    ensure!(lines[8].starts_with("chain intact"), "{text}");
    app.stop().await
}

async fn events_of(app: &TestApp, number: &str, token: &str) -> Result<usize> {
    Ok(events(app, number, token).await?.len())
}

/// Changes the stored data of event `version` of `number`'s stream, as an intruder with the
/// database's credentials would: the triggers refusing updates are put out of the way first.
async fn tamper(app: &TestApp, number: &str, version: u64, from: &str, to: &str) -> Result<()> {
    let stream = format!("claim-{number}");
    let config = app.config();
    let url = config.storage.store_url();
    let update = "UPDATE events SET data = replace(data, $1, $2) \
                  WHERE stream_id = $3 AND version = $4";
    let changed = if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&url).await?;
        sqlx::query("ALTER TABLE events DISABLE TRIGGER events_immutable")
            .execute(&mut conn)
            .await?;
        let done = sqlx::query(update)
            .bind(from)
            .bind(to)
            .bind(&stream)
            .bind(version as i64)
            .execute(&mut conn)
            .await?;
        sqlx::query("ALTER TABLE events ENABLE TRIGGER events_immutable")
            .execute(&mut conn)
            .await?;
        done.rows_affected()
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&url).await?;
        sqlx::query("DROP TRIGGER events_no_update")
            .execute(&mut conn)
            .await?;
        sqlx::query(update)
            .bind(from)
            .bind(to)
            .bind(&stream)
            .bind(version as i64)
            .execute(&mut conn)
            .await?
            .rows_affected()
    };
    ensure!(changed == 1, "one event altered, not {changed}");
    Ok(())
}

pub async fn verify_points_at_an_event_altered_by_hand(app: TestApp) -> Result<()> {
    let agent = app.agent("agent.verify", "trade_names").await?;
    let number = lived_claim(&app, &agent).await?;
    let other = lived_claim(&app, &agent).await?;
    app.add_user("auditor.aya", "auditor", None).await?;
    let auditor = app.login("auditor.aya").await?;
    let verify = |n: &str| format!("/api/v1/audit/claims/{n}/verify");

    let intact = expect_json(
        app.get(&verify(&number), Some(&auditor)).await?,
        StatusCode::OK,
    )
    .await?;
    ensure!(
        intact["intact"] == true && intact["events"] == 7,
        "{intact}"
    );
    ensure!(intact["break"].is_null(), "{intact}");
    let store = app.store().await?;
    let mut out = Vec::new();
    let clean = claimdesk::audit::verify_all(&store, &mut out).await?;
    ensure!(
        clean.breaks == 0 && clean.streams == 2 && clean.events == 14,
        "{clean:?}"
    );

    // The first rating, 5, becomes a 1 in the database.
    let position = events(&app, &number, &auditor).await?[3]["position"].clone();
    tamper(&app, &number, 4, "\"satisfaction\":5", "\"satisfaction\":1").await?;

    let found = expect_json(
        app.get(&verify(&number), Some(&auditor)).await?,
        StatusCode::OK,
    )
    .await?;
    ensure!(found["intact"] == false, "{found}");
    let brk = &found["break"];
    ensure!(
        brk["version"] == 4 && brk["position"] == position,
        "{found}"
    );
    ensure!(brk["reason"] == "hash_mismatch", "{found}");
    ensure!(brk["stored_hash"] != brk["computed_hash"], "{found}");
    let untouched = expect_json(
        app.get(&verify(&other), Some(&auditor)).await?,
        StatusCode::OK,
    )
    .await?;
    ensure!(untouched["intact"] == true, "{untouched}");
    // The events endpoint shows what is stored now: the altered rating.
    let altered = events(&app, &number, &auditor).await?;
    ensure!(altered[3]["data"]["satisfaction"] == 1, "{}", altered[3]);

    // The command line finds it too, and says where.
    let mut out = Vec::new();
    let verified = claimdesk::audit::verify_all(&store, &mut out).await?;
    let text = String::from_utf8(out)?;
    ensure!(
        verified.breaks >= 1 && verified.events == 14,
        "{verified:?}: {text}"
    );
    let pointed = format!("claim {number}: BROKEN (hash_mismatch) hash chain broken at version 4");
    ensure!(text.contains(&pointed), "{text}");
    ensure!(!text.contains(&format!("claim {other}")), "{text}");
    let mut out = Vec::new();
    let breaks = claimdesk::audit::verify_claim(&store, &number, &mut out).await?;
    ensure!(breaks == 1, "{}", String::from_utf8_lossy(&out));
    app.stop().await
}
