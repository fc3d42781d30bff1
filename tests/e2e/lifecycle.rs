//! A claim's whole life through the API: agents answer, both sides exchange, the client
//! closes and reopens (issue "lifecycle"; F5, F6, F8, F17).

use anyhow::{ensure, Context, Result};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{expect_json, expect_problem, filing, TestApp};

/// Files a claim routed to `trade_names` (the default entity); its number and client token.
async fn filed(app: &TestApp, email: &str) -> Result<(String, String)> {
    let number = app.file_ok(filing(email)).await?;
    let token = app.access(&number, email).await?;
    Ok((number, token))
}

async fn detail(app: &TestApp, number: &str, token: &str) -> Result<Value> {
    let response = app
        .get(&format!("/api/v1/claims/{number}"), Some(token))
        .await?;
    expect_json(response, StatusCode::OK).await
}

async fn history_kinds(app: &TestApp, number: &str, token: &str) -> Result<Vec<String>> {
    let response = app
        .get(&format!("/api/v1/claims/{number}/history"), Some(token))
        .await?;
    let history = expect_json(response, StatusCode::OK).await?;
    Ok(history
        .as_array()
        .context("a list")?
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect())
}

async fn queue(app: &TestApp, agent: &str) -> Result<Vec<String>> {
    let response = app.get("/api/v1/agent/queue", Some(agent)).await?;
    let queue = expect_json(response, StatusCode::OK).await?;
    Ok(queue["claims"]
        .as_array()
        .context("claims")?
        .iter()
        .map(|c| c["number"].as_str().unwrap_or_default().to_owned())
        .collect())
}

pub async fn a_claim_lives_its_whole_life(app: TestApp) -> Result<()> {
    let (number, client) = filed(&app, "life@example.ma").await?;
    let agent = app.agent("agent.names", "trade_names").await?;
    let stranger = app.agent("agent.finance", "finance").await?;

    // The routed entity's agent sees it waiting; the other entity's does not.
    app.clock.advance(chrono::Duration::minutes(90));
    let response = app.get("/api/v1/agent/queue?lang=ar", Some(&agent)).await?;
    let waiting = expect_json(response, StatusCode::OK).await?;
    ensure!(
        waiting["claims"][0]["number"] == number.as_str(),
        "{waiting}"
    );
    ensure!(
        waiting["claims"][0]["waiting_seconds"] == 90 * 60,
        "{waiting}"
    );
    ensure!(queue(&app, &stranger).await?.is_empty());
    let hidden = app
        .get(&format!("/api/v1/agent/claims/{number}"), Some(&stranger))
        .await?;
    expect_problem(hidden, StatusCode::NOT_FOUND, "not_found").await?;
    let body = json!({"body": "Nous traitons votre demande."});
    let path = format!("/api/v1/agent/claims/{number}/answer");
    let refused = app.post(&path, &body, Some(&stranger)).await?;
    expect_problem(refused, StatusCode::NOT_FOUND, "not_found").await?;

    // The agent answers; the client sees it, with the automatic closure date.
    let answered = app.post(&path, &body, Some(&agent)).await?;
    let answered = expect_json(answered, StatusCode::CREATED).await?;
    ensure!(answered["status"] == "answered", "{answered}");
    ensure!(
        queue(&app, &agent).await?.is_empty(),
        "answered claims leave the queue"
    );
    let seen = detail(&app, &number, &client).await?;
    ensure!(
        seen["status"] == "answered" && seen["auto_close_at"].is_string(),
        "{seen}"
    );
    let response = app
        .get(&format!("/api/v1/claims/{number}/history"), Some(&client))
        .await?;
    let history = expect_json(response, StatusCode::OK).await?;
    let answer = &history[2];
    ensure!(
        answer["kind"] == "answered" && answer["message"] == body["body"],
        "{history}"
    );
    ensure!(answer["actor"]["kind"] == "entity", "{history}");
    ensure!(
        !history.to_string().contains("agent.names"),
        "no agent login for clients"
    );

    // The client writes back: the claim waits on the entity again, the deadline is gone.
    let message = json!({"body": "Merci, mais le certificat n'est toujours pas arrivé."});
    let path = format!("/api/v1/claims/{number}/messages");
    let written = expect_json(
        app.post(&path, &message, Some(&client)).await?,
        StatusCode::CREATED,
    )
    .await?;
    ensure!(
        written["status"] == "pending" && written["auto_close_at"].is_null(),
        "{written}"
    );
    ensure!(
        queue(&app, &agent).await? == std::slice::from_ref(&number),
        "back in the queue"
    );

    // Closes with a rating, reopens with a reason, and the agent answers again.
    let path = format!("/api/v1/claims/{number}/close");
    let closed = app
        .post(
            &path,
            &json!({"satisfaction": 5, "comment": "Parfait"}),
            Some(&client),
        )
        .await?;
    let closed = expect_json(closed, StatusCode::OK).await?;
    ensure!(
        closed["status"] == "closed" && closed["actions"] == json!(["reopen"]),
        "{closed}"
    );
    let late = app
        .post(
            &format!("/api/v1/claims/{number}/messages"),
            &message,
            Some(&client),
        )
        .await?;
    expect_problem(late, StatusCode::CONFLICT, "conflict").await?;

    let reason = json!({"reason": "Le certificat reçu porte une erreur."});
    let path = format!("/api/v1/claims/{number}/reopen");
    let reopened = expect_json(
        app.post(&path, &reason, Some(&client)).await?,
        StatusCode::OK,
    )
    .await?;
    ensure!(reopened["status"] == "pending", "{reopened}");
    let again = expect_problem(
        app.post(&path, &reason, Some(&client)).await?,
        StatusCode::CONFLICT,
        "conflict",
    )
    .await?;
    ensure!(again["reason"] == "not_closed", "{again}");

    let path = format!("/api/v1/agent/claims/{number}/answer");
    let body = json!({"body": "Un certificat rectifié vous a été envoyé."});
    expect_json(
        app.post(&path, &body, Some(&agent)).await?,
        StatusCode::CREATED,
    )
    .await?;
    let path = format!("/api/v1/claims/{number}/close");
    let closed = app
        .post(&path, &json!({"satisfaction": 2}), Some(&client))
        .await?;
    let closed = expect_json(closed, StatusCode::OK).await?;
    // F8: the latest rating is the claim's satisfaction.
    ensure!(
        closed["satisfaction"] == 2 && closed["reopen_count"] == 1,
        "{closed}"
    );

    let kinds = history_kinds(&app, &number, &client).await?;
    let expected = [
        "filed",
        "routed",
        "answered",
        "client_message",
        "closed",
        "reopened",
        "answered",
        "closed",
    ];
    ensure!(kinds == expected, "{kinds:?}");
    // F17: the reopening is explicit, with who and why.
    let response = app
        .get(
            &format!("/api/v1/agent/claims/{number}/history"),
            Some(&agent),
        )
        .await?;
    let staff_view = expect_json(response, StatusCode::OK).await?;
    let reopen = &staff_view[5];
    ensure!(
        reopen["kind"] == "reopened" && reopen["message"] == reason["reason"],
        "{reopen}"
    );
    ensure!(reopen["actor"]["kind"] == "client", "{reopen}");
    ensure!(
        staff_view[2]["actor"]["login"] == "agent.names",
        "staff see who answered"
    );
    app.stop().await
}

pub async fn an_agent_answers_and_closes_in_one_action(app: TestApp) -> Result<()> {
    let (number, client) = filed(&app, "f6@example.ma").await?;
    let agent = app.agent("agent.f6", "trade_names").await?;
    let path = format!("/api/v1/agent/claims/{number}/answer");
    let body = json!({"body": "Certificat délivré ce jour.", "close": true});
    let done = expect_json(
        app.post(&path, &body, Some(&agent)).await?,
        StatusCode::CREATED,
    )
    .await?;
    ensure!(
        done["status"] == "closed" && done["auto_close_at"].is_null(),
        "{done}"
    );
    ensure!(
        done["satisfaction"].is_null(),
        "the agent's closure carries no rating: {done}"
    );
    let kinds = history_kinds(&app, &number, &client).await?;
    ensure!(
        kinds == ["filed", "routed", "answered", "closed_by_entity"],
        "{kinds:?}"
    );
    // The client may still reopen it.
    let seen = detail(&app, &number, &client).await?;
    ensure!(seen["actions"] == json!(["reopen"]), "{seen}");
    app.stop().await
}

pub async fn roles_are_checked_on_every_agent_endpoint(app: TestApp) -> Result<()> {
    let (number, client) = filed(&app, "roles@example.ma").await?;
    app.add_user("auditor.one", "auditor", None).await?;
    let auditor = app.login("auditor.one").await?;
    for path in [
        "/api/v1/agent/queue".to_owned(),
        format!("/api/v1/agent/claims/{number}"),
    ] {
        let response = app.get(&path, Some(&auditor)).await?;
        expect_problem(response, StatusCode::FORBIDDEN, "forbidden").await?;
        let response = app.get(&path, Some(&client)).await?;
        expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await?;
        let response = app.get(&path, None).await?;
        expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await?;
    }
    let wrong = json!({"login": "auditor.one", "password": "not the password"});
    let response = app.post("/api/v1/sessions", &wrong, None).await?;
    expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await?;
    let unknown = json!({"login": "nobody", "password": "not the password"});
    let response = app.post("/api/v1/sessions", &unknown, None).await?;
    expect_problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await?;
    app.stop().await
}

pub async fn a_transfer_moves_the_claim_to_the_other_queue(app: TestApp) -> Result<()> {
    let (number, client) = filed(&app, "transfer@example.ma").await?;
    let names = app.agent("agent.t1", "trade_names").await?;
    let finance = app.agent("agent.t2", "finance").await?;
    let path = format!("/api/v1/agent/claims/{number}/transfer");
    let body = json!({"entity": "finance", "reason": "Question de paiement."});
    let moved = expect_json(app.post(&path, &body, Some(&names)).await?, StatusCode::OK).await?;
    ensure!(moved["entity"] == "finance", "{moved}");
    ensure!(queue(&app, &names).await?.is_empty());
    ensure!(queue(&app, &finance).await? == std::slice::from_ref(&number));
    let seen = detail(&app, &number, &client).await?;
    ensure!(seen["entity"] == "finance", "{seen}");
    // The first entity has lost it: a 404 now, like any claim not its own.
    let response = app.post(&path, &body, Some(&names)).await?;
    expect_problem(response, StatusCode::NOT_FOUND, "not_found").await?;
    app.stop().await
}

pub async fn bad_input_on_actions_is_refused_and_stores_nothing(app: TestApp) -> Result<()> {
    let (number, client) = filed(&app, "bad@example.ma").await?;
    let path = format!("/api/v1/claims/{number}/messages");
    let blank = json!({"body": "\u{200B}\u{00A0} "});
    let problem = expect_problem(
        app.post(&path, &blank, Some(&client)).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    ensure!(problem["errors"][0]["field"] == "body", "{problem}");
    let path = format!("/api/v1/claims/{number}/close");
    for satisfaction in [json!(0), json!(6), json!(-1), json!(300)] {
        let response = app
            .post(&path, &json!({"satisfaction": satisfaction}), Some(&client))
            .await?;
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        ensure!(problem["errors"][0]["field"] == "satisfaction", "{problem}");
    }
    let response = app.post(&path, &json!({}), Some(&client)).await?;
    expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let kinds = history_kinds(&app, &number, &client).await?;
    ensure!(kinds == ["filed", "routed"], "nothing stored: {kinds:?}");
    app.stop().await
}

/// F5: close and reopen fired together, many times. Every reported success is an event in
/// the history, the history alternates closures and reopenings, and the final status agrees.
pub async fn concurrent_close_and_reopen_keep_the_invariants(app: TestApp) -> Result<()> {
    let (number, client) = filed(&app, "race@example.ma").await?;
    let close = format!("/api/v1/claims/{number}/close");
    let reopen = format!("/api/v1/claims/{number}/reopen");
    let (mut closes, mut reopens) = (0, 0);
    for round in 0..20 {
        let rating = json!({"satisfaction": 1 + round % 5});
        let reason = json!({"reason": format!("round {round}")});
        let (a, b) = tokio::join!(
            app.post(&close, &rating, Some(&client)),
            app.post(&reopen, &reason, Some(&client)),
        );
        for (response, counter) in [(a?, &mut closes), (b?, &mut reopens)] {
            match response.status() {
                StatusCode::OK => *counter += 1,
                StatusCode::CONFLICT => {}
                other => anyhow::bail!("unexpected {other}: {}", response.text().await?),
            }
        }
    }
    let kinds = history_kinds(&app, &number, &client).await?;
    let stored_closes = kinds.iter().filter(|k| *k == "closed").count();
    let stored_reopens = kinds.iter().filter(|k| *k == "reopened").count();
    ensure!(
        stored_closes == closes && stored_reopens == reopens,
        "{closes}/{reopens}: {kinds:?}"
    );
    ensure!(closes >= 1, "some closure succeeded");
    // Closures and reopenings alternate, starting with a closure.
    let transitions: Vec<_> = kinds
        .iter()
        .filter(|k| *k == "closed" || *k == "reopened")
        .collect();
    for (i, kind) in transitions.iter().enumerate() {
        let expected = if i % 2 == 0 { "closed" } else { "reopened" };
        ensure!(*kind == expected, "{kinds:?}");
    }
    let last = detail(&app, &number, &client).await?;
    let expected = if transitions.len() % 2 == 1 {
        "closed"
    } else {
        "pending"
    };
    ensure!(last["status"] == expected, "{last}");
    app.stop().await
}
