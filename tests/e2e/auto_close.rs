//! Automatic closure (issue "process manager"; F9, F10): durable deadlines on the injected
//! clock, stopped by the client's reactions, exact in UTC, racing a client's message cleanly,
//! and shared by two server instances on one database.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, Duration, Utc};
use claimdesk_api::clock::Clock;
use claimdesk_store::{RecordedEvent, Store};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::notifications::{answer, delivered, file_claim, status, ENTITY};
use crate::support::{eventually, expect_json, Options, TestApp};

/// The claim's events, as stored.
async fn events(store: &Arc<dyn Store>, number: &str) -> Result<Vec<RecordedEvent>> {
    Ok(store
        .read_stream(&claimdesk_claims::stream_id(number))
        .await?)
}

async fn types(store: &Arc<dyn Store>, number: &str) -> Result<Vec<String>> {
    Ok(events(store, number)
        .await?
        .into_iter()
        .map(|e| e.event_type)
        .collect())
}

/// Waits until the claim has closed by itself; its `ClaimAutoClosed` event.
async fn auto_closed(store: &Arc<dyn Store>, number: &str) -> Result<RecordedEvent> {
    eventually(&format!("{number} closed automatically"), || async {
        let events = events(store, number).await?;
        Ok(events
            .into_iter()
            .find(|e| e.event_type == "ClaimAutoClosed"))
    })
    .await
}

fn time(value: &Value) -> Result<DateTime<Utc>> {
    let text = value.as_str().context("a time")?;
    Ok(DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc))
}

async fn post_message(app: &TestApp, number: &str, email: &str) -> Result<StatusCode> {
    let token = app.access(number, email).await?;
    let path = format!("/api/v1/claims/{number}/messages");
    let body = json!({"body": "La réponse ne règle pas ma demande."});
    Ok(app.post(&path, &body, Some(&token)).await?.status())
}

/// F9: answered on day 0, the client writes on day 3, the deadline check runs on day 7: the
/// claim stays open. Only the next answer starts a new deadline, which then closes it.
pub async fn a_client_reaction_stops_the_clock(app: TestApp) -> Result<()> {
    let store = app.store().await?;
    let agent = app.agent("agent.f9", ENTITY).await?;
    let waiting = file_claim(&app, "f9@example.ma", "fr").await?;
    let silent = file_claim(&app, "f9.silent@example.ma", "fr").await?;
    answer(&app, &agent, &waiting).await?;
    answer(&app, &agent, &silent).await?;

    app.clock.advance(Duration::days(3));
    ensure!(post_message(&app, &waiting, "f9@example.ma").await? == StatusCode::CREATED);
    let stream = claimdesk_claims::stream_id(&waiting);
    eventually("the deadline cancelled", || async {
        Ok(store
            .timers_list(Some(&stream))
            .await?
            .is_empty()
            .then_some(()))
    })
    .await?;

    // Day 7 and a bit: the claim nobody answered back closes, which shows the deadlines
    // were looked at; the one whose client wrote does not.
    app.clock.advance(Duration::days(4) + Duration::minutes(1));
    auto_closed(&store, &silent).await?;
    ensure!(status(&app, &waiting, "f9@example.ma").await? == "pending");
    let seen = types(&store, &waiting).await?;
    ensure!(!seen.iter().any(|t| t == "ClaimAutoClosed"), "{seen:?}");

    // A new answer starts a new deadline of its own.
    let agent = app.login("agent.f9").await?;
    let answered_at = app.clock.now();
    answer(&app, &agent, &waiting).await?;
    app.clock.advance(Duration::days(7));
    let closed = auto_closed(&store, &waiting).await?;
    let due = time(&closed.data["due_at"])?;
    ensure!(due == answered_at + Duration::days(7), "{}", closed.data);
    app.stop().await
}

/// F10: an answer six days before a daylight-saving change, with client, agent and server in
/// different zones: the claim closes exactly 7 × 24 hours after the answer, in UTC, and not a
/// microsecond before.
pub async fn deadlines_are_utc_instants(app: TestApp) -> Result<()> {
    let store = app.store().await?;
    // Europe moves its clocks on 2026-03-29 at 01:00 UTC. The agent answers from
    // Casablanca (UTC+1) at 10:30 on the 23rd; the client is in Paris, the server in UTC.
    let answer_time =
        DateTime::parse_from_rfc3339("2026-03-23T10:30:00+01:00")?.with_timezone(&Utc);
    app.clock.set(answer_time - Duration::hours(1));
    let agent = app.agent("agent.f10", ENTITY).await?;
    let earlier = file_claim(&app, "f10.earlier@example.ma", "ar").await?;
    answer(&app, &agent, &earlier).await?;
    app.clock.set(answer_time);
    let number = file_claim(&app, "f10@example.ma", "fr").await?;
    answer(&app, &agent, &number).await?;

    let token = app.access(&number, "f10@example.ma").await?;
    let path = format!("/api/v1/claims/{number}?lang=ar");
    let detail = expect_json(app.get(&path, Some(&token)).await?, StatusCode::OK).await?;
    let due = DateTime::parse_from_rfc3339("2026-03-30T09:30:00Z")?.with_timezone(&Utc);
    ensure!(time(&detail["auto_close_at"])? == due, "{detail}");
    ensure!(due - answer_time == Duration::hours(7 * 24));
    ensure!(
        detail["auto_close_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{detail}"
    );

    // One microsecond early: the earlier claim closes, which shows the deadlines were
    // looked at, and this one stays answered.
    app.clock.set(due - Duration::microseconds(1));
    auto_closed(&store, &earlier).await?;
    ensure!(status(&app, &number, "f10@example.ma").await? == "answered");

    app.clock.set(due);
    let closed = auto_closed(&store, &number).await?;
    ensure!(time(&closed.data["at"])? == due, "{}", closed.data);
    ensure!(time(&closed.data["due_at"])? == due, "{}", closed.data);
    ensure!(
        time(&closed.data["answered_at"])? == answer_time,
        "{}",
        closed.data
    );
    ensure!(closed.actor == "system", "{}", closed.actor);
    let answered = events(&store, &number)
        .await?
        .into_iter()
        .find(|e| e.event_type == "ClaimAnswered")
        .context("the answer")?;
    ensure!(
        closed.causation_id == Some(answered.event_id),
        "caused by the answer"
    );
    ensure!(closed.correlation_id == answered.correlation_id);
    app.stop().await
}

/// A client's message sent at the very moment the deadline falls due: exactly one of the
/// two wins, every time. A message that got 201 is in the history and the claim is open; a
/// message refused with 409 lost to the automatic closure.
pub async fn a_client_message_racing_the_automatic_closure(app: TestApp) -> Result<()> {
    const CLAIMS: usize = 6;
    let store = app.store().await?;
    let agent = app.agent("agent.race", ENTITY).await?;
    let mut claims = Vec::new();
    for i in 0..CLAIMS {
        let email = format!("race{i}@example.ma");
        let number = file_claim(&app, &email, "fr").await?;
        answer(&app, &agent, &number).await?;
        claims.push((number, email));
    }

    // A second before the deadline the clients sign in again; then it falls due, and they
    // write at that very moment.
    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    let mut signed_in = Vec::new();
    for (number, email) in claims {
        let token = app.access(&number, &email).await?;
        signed_in.push((number, token));
    }
    let claims = signed_in;
    app.clock.advance(Duration::seconds(1));
    let client = &app;
    // Spread over two polls of the timers, so that some messages come before the closure
    // and some after; which ones does not matter, only that each claim has one winner.
    let posts = claims
        .iter()
        .enumerate()
        .map(|(i, (number, token))| async move {
            let spread = crate::support::PROCESS_POLL * 2 * i as u32 / CLAIMS as u32;
            tokio::time::sleep(spread).await;
            let path = format!("/api/v1/claims/{number}/messages");
            let body = json!({"body": "Attendez, ce n'est pas réglé."});
            client
                .post(&path, &body, Some(token))
                .await
                .map(|r| r.status())
        });
    let statuses = futures::future::join_all(posts).await;

    eventually("every deadline settled", || async {
        Ok(store.timers_list(None).await?.is_empty().then_some(()))
    })
    .await?;
    for ((number, _), posted) in claims.iter().zip(statuses) {
        let posted = posted?;
        let seen = types(&store, number).await?;
        let messages = seen.iter().filter(|t| *t == "MessagePosted").count();
        let closures = seen.iter().filter(|t| *t == "ClaimAutoClosed").count();
        match posted {
            StatusCode::CREATED => ensure!(
                messages == 1 && closures == 0,
                "the message won, nothing else: {seen:?}"
            ),
            StatusCode::CONFLICT => ensure!(
                messages == 0 && closures == 1,
                "the closure won, nothing else: {seen:?}"
            ),
            other => anyhow::bail!("unexpected {other} for {number}"),
        }
    }
    app.stop().await
}

/// Two `serve` instances on one database, many claims: each email arrives once, each
/// deadline and reminder fires once, and each projection applies each event once.
pub async fn two_instances_share_the_work(app: TestApp) -> Result<()> {
    const CLAIMS: usize = 8;
    let app = app.reconfigure(Options::smtp()).await?;
    let mut config = app.config();
    config.listen = "127.0.0.1:0".parse()?;
    let second = claimdesk::start_with_clock(config, app.clock.clone()).await?;
    let second_base = format!("http://{}", second.addr);
    let store = app.store().await?;

    let agent = app.agent("agent.two", ENTITY).await?;
    let mut claims = Vec::new();
    for i in 0..CLAIMS {
        let email = format!("two{i}@example.ma");
        // Half the work through each instance: filing and answering alternate.
        let number = if i % 2 == 0 {
            file_claim(&app, &email, "fr").await?
        } else {
            let mut body = crate::support::filing(&email);
            body["captcha"] =
                json!({"id": app.captcha().await?, "answer": crate::support::CAPTCHA});
            let response = app
                .http
                .post(format!("{second_base}/api/v1/claims"))
                .json(&body)
                .send()
                .await?;
            let created = expect_json(response, StatusCode::CREATED).await?;
            created["number"].as_str().context("number")?.to_owned()
        };
        claims.push((number, email));
    }
    for (i, (number, _)) in claims.iter().enumerate() {
        if i % 2 == 0 {
            answer(&app, &agent, number).await?;
        } else {
            let path = format!("{second_base}/api/v1/agent/claims/{number}/answer");
            let body = json!({"body": "Réponse"});
            let response = app
                .http
                .post(path)
                .bearer_auth(&agent)
                .json(&body)
                .send()
                .await?;
            expect_json(response, StatusCode::CREATED).await?;
        }
    }
    delivered(&app, 3 * CLAIMS).await?;

    // Day 5 and a minute: the reminders; day 7 and a minute: the closures.
    app.clock.advance(Duration::days(5) + Duration::minutes(1));
    delivered(&app, 4 * CLAIMS).await?;
    app.clock.advance(Duration::days(2));
    for (number, _) in &claims {
        auto_closed(&store, number).await?;
    }
    let emails = delivered(&app, 5 * CLAIMS).await?;
    let keys: BTreeSet<_> = emails
        .iter()
        .map(|(e, _)| (e.message.event_id, e.message.template.clone()))
        .collect();
    ensure!(keys.len() == 5 * CLAIMS, "one email per event and template");

    // Each deadline fired once: one closure per claim, stored by one instance or the other,
    // and no instance found a deadline already dealt with.
    let (a, b) = (app.server()?.process_stats(), second.process_stats());
    ensure!(
        a.auto_closed + b.auto_closed == CLAIMS as u64,
        "{a:?} {b:?}"
    );
    ensure!(a.reminders + b.reminders == CLAIMS as u64, "{a:?} {b:?}");
    ensure!(a.timers_dropped + b.timers_dropped == 0, "{a:?} {b:?}");
    ensure!(
        a.emails_sent + b.emails_sent == 5 * CLAIMS as u64,
        "{a:?} {b:?}"
    );
    for (number, _) in &claims {
        let seen = types(&store, number).await?;
        let closures = seen.iter().filter(|t| *t == "ClaimAutoClosed").count();
        ensure!(closures == 1, "{number}: {seen:?}");
    }

    // Each projection applied each event once: every read model reached the head, and each
    // claim's history holds each of its events once, in order.
    let head = store.head().await?;
    for base in [app.base.clone(), second_base.clone()] {
        eventually("the projections at the head", || async {
            let ready = app.http.get(format!("{base}/readyz")).send().await?;
            let ready: Value = ready.json().await?;
            let projections = ready["projections"].as_array().context("projections")?;
            let done = projections.iter().all(|p| p["position"] == head);
            Ok(done.then_some(()))
        })
        .await?;
    }
    for (number, email) in &claims {
        let token = app.access(number, email).await?;
        let path = format!("/api/v1/claims/{number}/history");
        let history = expect_json(app.get(&path, Some(&token)).await?, StatusCode::OK).await?;
        let kinds: Vec<&str> = history
            .as_array()
            .context("a list")?
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or_default())
            .collect();
        ensure!(
            kinds == ["filed", "routed", "answered", "auto_closed"],
            "{number}: {kinds:?}"
        );
        ensure!(events(&store, number).await?.len() == kinds.len());
    }
    second.stop().await?;
    app.stop().await
}
