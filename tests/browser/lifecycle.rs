//! A claim's whole life in the browser, in French and in Arabic: a client files it through the
//! wizard with a PDF (confirming with a double click), finds it again with the number and
//! address of the confirmation email, writes a message with an attachment; an agent signs in,
//! finds it in the queue and answers; the client reads the answer, closes the claim with a
//! satisfaction of 4 and a comment, then reopens it with a reason.
//!
//! Each person uses a browser of their own (their own cookies), as on different computers.
//! Another person's action is seen by reloading the page, as a person would; one's own action
//! must show on the page it leads to.

use anyhow::{ensure, Context, Result};

use crate::driver::Browser;
use crate::pages::*;
use crate::support::{Options, TestApp};

pub async fn a_claim_lives_its_whole_life_in_french(app: TestApp) -> Result<()> {
    whole_life(app, &FRENCH).await
}

pub async fn a_claim_lives_its_whole_life_in_arabic(app: TestApp) -> Result<()> {
    whole_life(app, &ARABIC).await
}

async fn whole_life(app: TestApp, p: &Person) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    let shots = shots(&app);
    let files = tempfile::tempdir()?;
    let certificate = pdf(files.path(), "certificat.pdf")?;
    let receipt = pdf(files.path(), "recu.pdf")?;

    // Filing, from the site's root: the browser's language chooses the pages'.
    let filer = Browser::start(p.lang).await?;
    filer.open(&app.url("/")).await?;
    expect_path(&filer, &format!("/{}/", p.lang)).await?;
    expect_language(&filer, p).await?;
    snap(&filer, shots, p, "home").await?;
    filer.submit("a#submit-claim").await?;
    expect_path(&filer, &format!("/{}/claims/new", p.lang)).await?;
    expect_language(&filer, p).await?;

    fill_claim(&filer, p, p.subject, &[&certificate]).await?;
    snap(&filer, shots, p, "wizard-1-claim").await?;
    wizard_action(&filer, "next").await?;
    expect_no_errors(&filer).await?;
    expect_language(&filer, p).await?;
    fill_contact(&filer, p).await?;
    snap(&filer, shots, p, "wizard-2-contact").await?;
    wizard_action(&filer, "next").await?;
    expect_no_errors(&filer).await?;
    expect_step(&filer, "3").await?;
    expect_language(&filer, p).await?;
    let recap = filer.text("#recap").await?;
    for typed in [
        p.subject,
        p.request_number,
        p.email,
        p.last_name,
        p.city,
        "certificat.pdf",
    ] {
        ensure!(recap.contains(typed), "the recap lacks {typed:?}:\n{recap}");
    }
    ensure!(
        filer
            .has("form#wizard button[name=action][value=modify]")
            .await?
    );
    snap(&filer, shots, p, "wizard-3-recap").await?;
    ensure!(
        claims_filed(&app).await? == 0,
        "nothing is filed before confirm"
    );

    // A hurried double click on "confirm" files one claim.
    filer.double_click("button#confirm").await?;
    expect_no_errors(&filer).await?;
    let number = filed_number(&filer.path().await?, p)?;
    let shown = filer.text("#claim-number").await?;
    ensure!(
        shown.trim() == number,
        "#claim-number {shown:?}, URL {number}"
    );
    expect_language(&filer, p).await?;
    snap(&filer, shots, p, "filed").await?;
    ensure!(
        claims_filed(&app).await? == 1,
        "a double click filed {} claims",
        claims_filed(&app).await?
    );
    filer.close().await?;

    // The confirmation email carries the same number.
    let (emailed, _) = confirmation_email(&app, p.email).await?;
    ensure!(
        emailed == number,
        "the email says {emailed}, the page {number}"
    );

    // Another day, another browser: the client follows the claim with the email's number.
    let client = Browser::start(p.lang).await?;
    client.open(&page(&app, p, "track")).await?;
    snap(&client, shots, p, "track").await?;
    track(&client, &app, p, &emailed, p.email).await?;
    expect_language(&client, p).await?;
    ensure!(status(&client).await? == p.statuses[0]);
    ensure!(!history(&client).await?.is_empty(), "an empty history");
    let text = client.page_text().await?;
    for shown in [p.subject, p.message, "certificat.pdf"] {
        ensure!(text.contains(shown), "the claim's page lacks {shown:?}");
    }
    snap(&client, shots, p, "claim").await?;

    // A message with an attachment.
    let claim_path = format!("/{}/claims/{number}", p.lang);
    client
        .fill("#message-form [name=body]", p.follow_up)
        .await?;
    client
        .attach("#message-form input[name=files]", &[&receipt])
        .await?;
    client.submit("#message-form [type=submit]").await?;
    expect_no_errors(&client).await?;
    expect_path(&client, &claim_path).await?;
    expect_notice(&client).await?;
    let entries = history(&client).await?.join("\n");
    ensure!(
        entries.contains(p.follow_up) && entries.contains("recu.pdf"),
        "the history lacks the message just sent:\n{entries}"
    );

    // An agent of the handling entity answers.
    app.add_user("agent.names", "agent", Some("trade_names"))
        .await?;
    let agent = Browser::start(p.lang).await?;
    agent.open(&page(&app, p, "agent/login")).await?;
    expect_language(&agent, p).await?;
    snap(&agent, shots, p, "agent-login").await?;
    agent_sign_in(&agent, &app, p, "agent.names").await?;
    let link = format!("table#queue a.claim-link[href$='/agent/claims/{number}']");
    reload_until(&agent, &page(&app, p, "agent"), &link).await?;
    expect_language(&agent, p).await?;
    snap(&agent, shots, p, "agent-queue").await?;
    agent.submit(&link).await?;
    let agent_claim = format!("/{}/agent/claims/{number}", p.lang);
    expect_path(&agent, &agent_claim).await?;
    reload_until_text(&agent, &app.url(&agent_claim), p.follow_up).await?;
    // The agent reads who wrote: the client's entries do not say "you" to the agent.
    let entries = history(&agent).await?;
    let by_client = entries
        .iter()
        .find(|entry| entry.contains(p.follow_up))
        .context("the client's message in the agent's history")?;
    let heading = by_client.lines().next().unwrap_or_default().trim();
    ensure!(
        !heading.ends_with(p.you),
        "the agent's history calls the client {:?}: {heading:?}",
        p.you
    );
    ensure!(agent.has("form#message-form").await?);
    snap(&agent, shots, p, "agent-claim").await?;
    agent.fill("#answer-form [name=body]", p.answer).await?;
    ensure!(!agent.is_checked("#answer-form input[name=close]").await?);
    agent.submit("#answer-form [type=submit]").await?;
    expect_no_errors(&agent).await?;
    expect_path(&agent, &agent_claim).await?;
    expect_notice(&agent).await?;
    ensure!(
        status(&agent).await? == p.statuses[1],
        "after the answer: {}",
        status(&agent).await?
    );
    ensure!(agent.page_text().await?.contains(p.answer));
    agent.submit("button#logout").await?;
    agent.open(&page(&app, p, "agent")).await?;
    ensure!(
        !agent.has("table#queue").await?,
        "the queue after signing out: {}",
        agent.context().await
    );
    agent.close().await?;

    // The client reads the answer, closes with a satisfaction of 4, then reopens.
    reload_until_text(&client, &app.url(&claim_path), p.answer).await?;
    ensure!(status(&client).await? == p.statuses[1]);
    snap(&client, shots, p, "claim-answered").await?;
    client
        .check("#close-form input[name=satisfaction][value='4']")
        .await?;
    client.fill("#close-form [name=comment]", p.comment).await?;
    client.submit("#close-form [type=submit]").await?;
    expect_no_errors(&client).await?;
    expect_path(&client, &claim_path).await?;
    expect_notice(&client).await?;
    ensure!(
        status(&client).await? == p.statuses[2],
        "after closing: {}",
        status(&client).await?
    );
    ensure!(client.has("form#reopen-form").await?);
    ensure!(!client.has("form#close-form").await?);
    snap(&client, shots, p, "claim-closed").await?;
    let closed = events(&app, "ClaimClosed").await?;
    ensure!(
        closed.len() == 1 && closed[0]["satisfaction"] == 4,
        "{closed:?}"
    );

    client.fill("#reopen-form [name=reason]", p.reason).await?;
    client.submit("#reopen-form [type=submit]").await?;
    expect_no_errors(&client).await?;
    expect_path(&client, &claim_path).await?;
    expect_notice(&client).await?;
    let reopened = status(&client).await?;
    ensure!(reopened != p.statuses[2], "still closed after reopening");
    ensure!(client.page_text().await?.contains(p.reason));
    ensure!(events(&app, "ClaimReopened").await?.len() == 1);
    ensure!(claims_filed(&app).await? == 1);
    client.close().await
}

/// The data of every event of type `kind`, in order.
async fn events(app: &TestApp, kind: &str) -> Result<Vec<serde_json::Value>> {
    let store = app.store().await?;
    let mut found = Vec::new();
    let mut after = 0;
    loop {
        let batch = store
            .read_all(after, 500)
            .await
            .context("read the events")?;
        let Some(last) = batch.last() else {
            return Ok(found);
        };
        after = last.position;
        found.extend(
            batch
                .into_iter()
                .filter(|e| e.event_type == kind)
                .map(|e| e.data),
        );
    }
}
