//! Analysts and administrators (issue 5): a few hundred claims through their lives, the
//! satisfaction statistics served live (JSON and CSV) and checked against the events
//! themselves, then rebuilt from the events while the old copy serves, and identical (F8).

use std::collections::BTreeMap;

use anyhow::{bail, ensure, Context, Result};
use claimdesk::generate::{generate, GenerateArgs};
use claimdesk_claims::{decode, number_of_stream};
use claimdesk_domain::ClaimEvent;
use reqwest::StatusCode;
use serde_json::{json, Value};

use claimdesk_api::clock::Clock;

use crate::support::{eventually, expect_json, expect_problem, filing, TestApp};

/// What the statistics must say of one group, worked out from the raw events here.
#[derive(Debug, Default)]
struct Expected {
    claims: u64,
    closed: [u64; 3],
    reopened: u64,
    reopenings: u64,
    levels: [u64; 5],
    delays: Vec<i64>,
}

/// One claim's facts, folded here from its events independently of the read model.
#[derive(Debug, Default, Clone)]
struct Facts {
    entity: String,
    filed_at: i64,
    first_answer: Option<i64>,
    rating: Option<u8>,
    /// 0 client, 1 automatic, 2 entity; `None` while open.
    closure: Option<usize>,
    reopenings: u64,
}

/// Every claim's facts, from the whole store read in global order.
async fn facts_from_events(app: &TestApp) -> Result<BTreeMap<String, Facts>> {
    let store = app.store().await?;
    let mut claims: BTreeMap<String, Facts> = BTreeMap::new();
    let mut after = 0;
    loop {
        let batch = store.read_all(after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = last.position;
        for recorded in &batch {
            let Some(number) = number_of_stream(&recorded.stream_id) else {
                continue;
            };
            let facts = claims.entry(number.to_owned()).or_default();
            match decode(recorded)? {
                ClaimEvent::ClaimFiled(e) => facts.filed_at = e.filed_at.as_micros(),
                ClaimEvent::ClaimRouted(e) => facts.entity = e.entity,
                ClaimEvent::ClaimTransferred(e) => facts.entity = e.to,
                ClaimEvent::ClaimAnswered(e) => {
                    let delay = e.at.as_micros() - facts.filed_at;
                    facts.first_answer.get_or_insert(delay);
                }
                ClaimEvent::ClaimClosed(e) => {
                    facts.closure = Some(if e.by.is_client() { 0 } else { 2 });
                    if e.satisfaction.is_some() {
                        facts.rating = e.satisfaction;
                    }
                }
                ClaimEvent::ClaimAutoClosed(_) => facts.closure = Some(1),
                ClaimEvent::ClaimReopened(_) => {
                    facts.closure = None;
                    facts.reopenings += 1;
                }
                ClaimEvent::MessagePosted(_) => {}
            }
        }
    }
    Ok(claims)
}

fn expected_by_entity(claims: &BTreeMap<String, Facts>) -> BTreeMap<String, Expected> {
    let mut groups: BTreeMap<String, Expected> = BTreeMap::new();
    for facts in claims.values() {
        let group = groups.entry(facts.entity.clone()).or_default();
        group.claims += 1;
        if let Some(kind) = facts.closure {
            group.closed[kind] += 1;
        }
        if facts.reopenings > 0 {
            group.reopened += 1;
            group.reopenings += facts.reopenings;
        }
        if let Some(level) = facts.rating {
            group.levels[usize::from(level) - 1] += 1;
        }
        group.delays.extend(facts.first_answer);
    }
    groups
}

fn median_seconds(delays: &mut [i64]) -> Option<f64> {
    delays.sort_unstable();
    let n = delays.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(delays[n / 2] as f64 / 1e6),
        _ => Some((delays[n / 2 - 1] as f64 + delays[n / 2] as f64) / 2e6),
    }
}

fn close_enough(served: &Value, expected: Option<f64>) -> bool {
    match (served.as_f64(), expected) {
        (None, None) => served.is_null(),
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * b.abs().max(1.0),
        _ => false,
    }
}

/// Compares the served rows grouped by entity with the events' own account.
fn check_rows(rows: &[Value], claims: &BTreeMap<String, Facts>) -> Result<()> {
    let mut expected = expected_by_entity(claims);
    ensure!(
        rows.len() == expected.len(),
        "{} rows for {expected:?}",
        rows.len()
    );
    for row in rows {
        let group = row["group"].as_str().context("a group")?;
        let want = expected.get_mut(group).context("an expected group")?;
        let counts = [
            ("claims", want.claims),
            ("closed_by_client", want.closed[0]),
            ("closed_automatically", want.closed[1]),
            ("closed_by_entity", want.closed[2]),
            ("reopened", want.reopened),
            ("reopenings", want.reopenings),
            ("rated", want.levels.iter().sum()),
            ("satisfaction_1", want.levels[0]),
            ("satisfaction_2", want.levels[1]),
            ("satisfaction_3", want.levels[2]),
            ("satisfaction_4", want.levels[3]),
            ("satisfaction_5", want.levels[4]),
            ("answered", want.delays.len() as u64),
        ];
        for (column, value) in counts {
            ensure!(row[column] == value, "{group} {column}: {row} vs {want:?}");
        }
        let rated: u64 = want.levels.iter().sum();
        let points: u64 = (1..=5).zip(want.levels).map(|(l, n)| l * n).sum();
        let average = (rated > 0).then(|| points as f64 / rated as f64);
        ensure!(
            close_enough(&row["average_satisfaction"], average),
            "{group}: {row}"
        );
        let median = median_seconds(&mut want.delays);
        ensure!(
            close_enough(&row["median_first_answer_seconds"], median),
            "{group}: {row}"
        );
    }
    Ok(())
}

async fn stats(app: &TestApp, token: &str, query: &str) -> Result<Value> {
    let path = format!("/api/v1/stats/satisfaction?{query}");
    expect_json(app.get(&path, Some(token)).await?, StatusCode::OK).await
}

async fn csv(app: &TestApp, token: &str, query: &str) -> Result<Vec<Vec<String>>> {
    let response = app
        .http
        .get(app.url(&format!("/api/v1/stats/satisfaction?{query}")))
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await?;
    ensure!(response.status() == StatusCode::OK, "{}", response.status());
    let kind = response.headers()["content-type"].to_str()?.to_owned();
    ensure!(kind.starts_with("text/csv"), "{kind}");
    let text = response.text().await?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        records.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(records)
}

/// Waits until every read model has applied the whole store and no rebuild is running.
async fn settled(app: &TestApp, admin: &str) -> Result<Value> {
    eventually("the read models to catch up", || async {
        let response = app.get("/api/v1/admin/projections", Some(admin)).await?;
        let body = expect_json(response, StatusCode::OK).await?;
        let head = body["head"].as_u64().context("a head")?;
        let all = body["projections"].as_array().context("projections")?;
        let done = all
            .iter()
            .all(|p| p["position"].as_u64() >= Some(head) && p["rebuild"].is_null());
        Ok(done.then_some(body))
    })
    .await
}

/// Waits until the store stops growing: the generated lives include answers whose deadline
/// has passed, which the process manager closes by itself once it has seen them.
async fn quiet(app: &TestApp, admin: &str) -> Result<()> {
    let mut last = None;
    let mut same = 0;
    while same < 4 {
        let head = settled(app, admin).await?["head"].as_u64();
        same = if head == last { same + 1 } else { 0 };
        last = head;
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
    Ok(())
}

/// The F8 claim: closed with 5, reopened, closed with 2. Its number.
async fn f8_claim(app: &TestApp, agent: &str) -> Result<String> {
    let email = "f8@example.ma";
    let number = app.file_ok(filing(email)).await?;
    let client = app.access(&number, email).await?;
    let answer = format!("/api/v1/agent/claims/{number}/answer");
    let body = json!({"body": "Réponse."});
    let close = format!("/api/v1/claims/{number}/close");
    expect_json(
        app.post(&answer, &body, Some(agent)).await?,
        StatusCode::CREATED,
    )
    .await?;
    let five = json!({"satisfaction": 5, "comment": "Très bien, merci Samira"});
    expect_json(
        app.post(&close, &five, Some(&client)).await?,
        StatusCode::OK,
    )
    .await?;
    let reopen = format!("/api/v1/claims/{number}/reopen");
    let reason = json!({"reason": "Erreur sur le nom."});
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
    let two = json!({"satisfaction": 2});
    expect_json(app.post(&close, &two, Some(&client)).await?, StatusCode::OK).await?;
    Ok(number)
}

pub async fn statistics_are_served_live_and_equal_after_a_rebuild(app: TestApp) -> Result<()> {
    // A day ahead of the generated claims, all filed before now: the F8 claim is then alone
    // in its minute.
    app.clock.advance(chrono::Duration::days(1));
    let agent = app.agent("agent.stats", "trade_names").await?;
    app.add_user("analyst.nora", "analyst", None).await?;
    let analyst = app.login("analyst.nora").await?;
    app.add_user("admin.omar", "admin", None).await?;
    let admin = app.login("admin.omar").await?;

    // A few hundred claims live their lives beside the server, and one F8 claim through it.
    let args = GenerateArgs {
        claims: 300,
        seed: 5,
        batch: 60,
        days: 200,
        storage: app.config().storage,
    };
    let generated = generate(&args, |_| {}).await?;
    ensure!(
        generated.claims == 300 && generated.events > 1_200,
        "{generated:?}"
    );
    let f8 = f8_claim(&app, &agent).await?;
    quiet(&app, &admin).await?;

    // Served live: every group agrees with the events themselves.
    let claims = facts_from_events(&app).await?;
    ensure!(claims.len() == 301, "{} claims", claims.len());
    let f8_facts = &claims[&f8];
    ensure!(
        f8_facts.rating == Some(2) && f8_facts.reopenings == 1,
        "{f8_facts:?}"
    );
    let live = stats(&app, &analyst, "group_by=entity").await?;
    let rows = live["rows"].as_array().context("rows")?;
    check_rows(rows, &claims)?;
    ensure!(rows.iter().all(|r| r["label"].is_string()), "{live}");

    // F8 alone, in a group of its own: the month it was filed in, with nothing else filed
    // in the same instant range.
    let filed = app.clock.now();
    let from = (filed - chrono::Duration::minutes(1)).to_rfc3339();
    let to = (filed + chrono::Duration::minutes(1)).to_rfc3339();
    let query = format!(
        "group_by=theme&from={}&to={}",
        from.replace('+', "%2B"),
        to.replace('+', "%2B")
    );
    let alone = stats(&app, &analyst, &query).await?;
    let row = &alone["rows"][0];
    ensure!(alone["rows"].as_array().map(Vec::len) == Some(1), "{alone}");
    ensure!(
        row["claims"] == 1 && row["rated"] == 1 && row["average_satisfaction"] == 2.0,
        "{row}"
    );
    ensure!(
        row["satisfaction_2"] == 1 && row["satisfaction_5"] == 0 && row["reopened"] == 1,
        "{row}"
    );
    ensure!(
        row["closed_by_client"] == 1 && row["reopenings"] == 1,
        "{row}"
    );

    // The same rows as CSV, same columns.
    let records = csv(&app, &analyst, "group_by=entity").await?;
    let header = &records[0];
    ensure!(header[0] == "group" && header[1] == "label", "{header:?}");
    ensure!(records.len() == rows.len() + 1, "{records:?}");
    for (record, row) in records[1..].iter().zip(rows) {
        for (column, cell) in header.iter().zip(record) {
            let served = &row[column.as_str()];
            let same = match served {
                Value::String(text) => text == cell,
                Value::Null => cell.is_empty(),
                number => number.as_f64() == cell.parse::<f64>().ok(),
            };
            ensure!(same, "{column}: {cell:?} vs {served}");
        }
    }

    // No personal data anywhere: no email, name, message or comment.
    let mut everything = live.to_string();
    for group_by in ["theme", "filing_place", "month"] {
        everything.push_str(
            &stats(&app, &analyst, &format!("group_by={group_by}"))
                .await?
                .to_string(),
        );
    }
    everything.push_str(&format!("{records:?}"));
    for personal in [
        "@example",
        "Samira",
        "Alaoui",
        "Très bien",
        "Erreur sur le nom",
    ] {
        ensure!(!everything.contains(personal), "{personal} leaked");
    }

    // Who may read them; what is refused.
    let path = "/api/v1/stats/satisfaction?group_by=entity";
    expect_problem(
        app.get(path, Some(&agent)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    expect_json(app.get(path, Some(&admin)).await?, StatusCode::OK).await?;
    for bad in [
        "group_by=nope",
        "",
        "group_by=month&from=yesterday",
        "group_by=month&from=2026-03-01&to=2026-01-01",
    ] {
        let path = format!("/api/v1/stats/satisfaction?{bad}");
        let refused = app.get(&path, Some(&analyst)).await?;
        expect_problem(
            refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
    }

    // Rebuilt from the events: the old copy serves meanwhile, and the result is the same.
    let before: Vec<Value> = {
        let mut all = Vec::new();
        for group_by in ["entity", "theme", "filing_place", "month"] {
            all.push(stats(&app, &analyst, &format!("group_by={group_by}")).await?["rows"].clone());
        }
        all
    };
    let path = "/api/v1/admin/projections/satisfaction_stats/rebuild";
    let refused = app.post(path, &json!({}), Some(&analyst)).await?;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await?;
    let empty = json!({});
    let unknown = "/api/v1/admin/projections/nope/rebuild";
    let unknown = app.post(unknown, &empty, Some(&admin)).await?;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await?;
    let started = expect_json(
        app.post(path, &json!({}), Some(&admin)).await?,
        StatusCode::ACCEPTED,
    )
    .await?;
    ensure!(
        started["to"]["generation"] == 1 && started["target"].as_u64() > Some(1_000),
        "{started}"
    );
    let during = stats(&app, &analyst, "group_by=entity").await?;
    ensure!(
        during["rows"] == before[0],
        "the old copy serves during the rebuild"
    );
    let status = settled(&app, &admin).await?;
    let projection = status["projections"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == "satisfaction_stats"))
        .context("the statistics' status")?;
    ensure!(projection["generation"] == 1, "{projection}");
    for (i, group_by) in ["entity", "theme", "filing_place", "month"]
        .iter()
        .enumerate()
    {
        let after = stats(&app, &analyst, &format!("group_by={group_by}")).await?;
        ensure!(
            after["rows"] == before[i],
            "{group_by} differs after the rebuild"
        );
    }

    // Every other read model too: the F8 claim reads the same after its rebuild.
    let client = app.access(&f8, "f8@example.ma").await?;
    let detail = format!("/api/v1/claims/{f8}");
    let history = format!("/api/v1/claims/{f8}/history");
    let seen = expect_json(app.get(&detail, Some(&client)).await?, StatusCode::OK).await?;
    let steps = expect_json(app.get(&history, Some(&client)).await?, StatusCode::OK).await?;
    for name in ["claim_detail", "claim_history", "agent_queue"] {
        let path = format!("/api/v1/admin/projections/{name}/rebuild");
        expect_json(
            app.post(&path, &json!({}), Some(&admin)).await?,
            StatusCode::ACCEPTED,
        )
        .await?;
    }
    settled(&app, &admin).await?;
    let again = expect_json(app.get(&detail, Some(&client)).await?, StatusCode::OK).await?;
    let steps_again = expect_json(app.get(&history, Some(&client)).await?, StatusCode::OK).await?;
    ensure!(again == seen && steps_again == steps, "{again} vs {seen}");
    if again["satisfaction"] != 2 {
        bail!("F8 after the rebuild: {again}");
    }
    app.stop().await
}
