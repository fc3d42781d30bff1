//! Emails (issue "process manager"; F3, F4, F15): what the client and the handling entity
//! receive, in which language, once per event and template, through refusals, crashes and an
//! absent mail server, with every header safe.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use chrono::Utc;
use claimdesk_api::clock::Clock;
use claimdesk_domain::{
    decide, ClaimCommand, ClaimEvent, ClaimState, Contact, Language, Profile, Timestamp,
};
use claimdesk_projections::Projection;
use claimdesk_store::{ExpectedVersion, Metadata, OutboxEntry, OutboxStatus, ProjectionId, Store};
use reqwest::StatusCode;
use serde_json::json;

use crate::smtp::Email;
use crate::support::{eventually, expect_json, expect_problem, filing, Options, TestApp};

/// The entity every test claim is routed to, and its mailbox (config/routing.json).
pub const ENTITY: &str = "trade_names";
pub const ENTITY_MAILBOX: &str = "noms-commerciaux@claimdesk.localhost";
pub const ARABIC_SUBJECT: &str = "تأخر الشهادة السلبية رقم 2026/778";
const FRENCH_SUBJECT: &str = "Certificat négatif non reçu";

/// Files a claim in `language` (`fr` or `ar`); its number.
pub async fn file_claim(app: &TestApp, email: &str, language: &str) -> Result<String> {
    let mut body = filing(email);
    body["language"] = json!(language);
    if language == "ar" {
        body["claim"]["subject"] = json!(ARABIC_SUBJECT);
    }
    app.file_ok(body).await
}

/// The agent answers the claim.
pub async fn answer(app: &TestApp, agent: &str, number: &str) -> Result<()> {
    let path = format!("/api/v1/agent/claims/{number}/answer");
    let body = json!({"body": "Votre certificat a été délivré.\nBonne journée."});
    expect_json(
        app.post(&path, &body, Some(agent)).await?,
        StatusCode::CREATED,
    )
    .await?;
    Ok(())
}

/// The outbox, as stored.
pub async fn outbox(app: &TestApp) -> Result<Vec<OutboxEntry>> {
    Ok(app.store().await?.outbox_list(None, 1000).await?)
}

/// Waits until the SMTP server has received `count` messages in all and the outbox records
/// them as sent; then checks that no Message-ID came twice and that each is a message of the
/// outbox. The messages, with their outbox entries.
pub async fn delivered(app: &TestApp, count: usize) -> Result<Vec<(OutboxEntry, Email)>> {
    let smtp = app.smtp()?;
    eventually(&format!("{count} emails"), || async {
        let received = smtp.received().len();
        ensure!(received <= count, "{received} emails, more than {count}");
        Ok((received == count).then_some(()))
    })
    .await?;

    let ids: BTreeSet<String> = smtp
        .received()
        .iter()
        .map(|r| r.email().and_then(|e| e.message_id()))
        .collect::<Result<_>>()?;
    let entries = eventually("the emails recorded as sent", || async {
        let entries = outbox(app).await?;
        let recorded = entries
            .iter()
            .filter(|e| ids.contains(&e.message.message_id))
            .all(|e| e.status == OutboxStatus::Sent);
        Ok(recorded.then_some(entries))
    })
    .await?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for received in smtp.received() {
        let email = received.email()?;
        let id = email.message_id()?;
        ensure!(seen.insert(id.clone()), "{id} received twice");
        let entry = entries
            .iter()
            .find(|e| e.message.message_id == id)
            .with_context(|| format!("{id} is in no outbox entry"))?;
        ensure!(
            id == format!("<{}@claimdesk.localhost>", entry.id),
            "the Message-ID {id} comes from the outbox key {}",
            entry.id
        );
        ensure!(
            received.rcpt_to == [entry.message.recipient.clone()],
            "{:?} for {}",
            received.rcpt_to,
            entry.message.recipient
        );
        ensure!(received.mail_from == "reclamations@claimdesk.localhost");
        out.push((entry.clone(), email));
    }
    Ok(out)
}

/// The templates of the emails to `address`, in the order they came.
fn templates_to(emails: &[(OutboxEntry, Email)], address: &str) -> Vec<String> {
    emails
        .iter()
        .filter(|(entry, _)| entry.message.recipient == address)
        .map(|(entry, _)| entry.message.template.clone())
        .collect()
}

/// The email `template` to `address`.
fn email<'a>(
    emails: &'a [(OutboxEntry, Email)],
    address: &str,
    template: &str,
) -> Result<&'a Email> {
    let found: Vec<_> = emails
        .iter()
        .filter(|(e, _)| e.message.recipient == address && e.message.template == template)
        .collect();
    match found.as_slice() {
        [(_, email)] => Ok(email),
        other => bail!("{} {template} emails to {address}", other.len()),
    }
}

/// A time as the emails write it, without the zone's words.
fn minute(at: chrono::DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A claim's status as its client sees it.
pub async fn status(app: &TestApp, number: &str, email: &str) -> Result<String> {
    let token = app.access(number, email).await?;
    let path = format!("/api/v1/claims/{number}");
    let detail = expect_json(app.get(&path, Some(&token)).await?, StatusCode::OK).await?;
    Ok(detail["status"].as_str().unwrap_or_default().to_owned())
}

/// The main story, in both languages: registration, answer, reminder, automatic closure. The
/// client gets exactly these four emails, in its language, with subjects that decode to the
/// exact text; Arabic ones are marked right to left with numbers and addresses isolated.
pub async fn emails_follow_a_claim_until_it_closes_by_itself(app: TestApp) -> Result<()> {
    let options = Options {
        smtp: true,
        auto_close_after: Duration::from_secs(3600),
        reminder_before: Duration::from_secs(20 * 60),
    };
    let app = app.reconfigure(options).await?;
    let agent = app.agent("agent.mail", ENTITY).await?;
    let (amal, paul) = ("amal@example.ma", "paul@example.ma");
    let ar = file_claim(&app, amal, "ar").await?;
    let fr = file_claim(&app, paul, "fr").await?;
    delivered(&app, 4).await?;

    let answered_at = app.clock.now();
    answer(&app, &agent, &ar).await?;
    answer(&app, &agent, &fr).await?;
    delivered(&app, 6).await?;
    let deadline = minute(answered_at + chrono::Duration::hours(1));

    // 41 minutes later, 19 before the deadline: the reminders.
    app.clock.advance(chrono::Duration::minutes(41));
    delivered(&app, 8).await?;
    ensure!(status(&app, &ar, amal).await? == "answered");

    // Past the deadline: both close by themselves.
    app.clock.advance(chrono::Duration::minutes(20));
    let emails = delivered(&app, 10).await?;
    for (number, address) in [(&ar, amal), (&fr, paul)] {
        ensure!(status(&app, number, address).await? == "closed", "{number}");
        let expected = ["filed", "answered", "reminder", "auto_closed"];
        ensure!(
            templates_to(&emails, address) == expected,
            "{address}: {emails:?}"
        );
    }
    let office = templates_to(&emails, ENTITY_MAILBOX);
    ensure!(office == ["new_claim", "new_claim"], "{office:?}");

    // Arabic: exact subjects, right to left, values isolated.
    let (n, d) = (
        format!("\u{2068}{ar}\u{2069}"),
        format!("\u{2068}{deadline} (بالتوقيت العالمي)\u{2069}"),
    );
    let subjects = [
        (
            "filed",
            format!("تم تسجيل الشكاية {n}: « \u{2068}{ARABIC_SUBJECT}\u{2069} »"),
        ),
        ("answered", format!("الشكاية {n}: ردّت عليك جهة المعالجة")),
        ("reminder", format!("الشكاية {n}: إغلاق تلقائي بتاريخ {d}")),
        ("auto_closed", format!("تم إغلاق الشكاية {n} تلقائيا")),
    ];
    for (template, subject) in subjects {
        let email = email(&emails, amal, template)?;
        ensure!(
            email.subject()? == subject,
            "{template}: {:?}",
            email.subject()?
        );
        ensure!(email.header("Content-Language")? == "ar");
        let html = email.part("text/html")?;
        ensure!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");
        ensure!(html.contains(&format!("<bdi>{ar}</bdi>")), "{html}");
        let text = email.part("text/plain")?;
        ensure!(text.contains(&n), "{text}");
    }
    let filed = email(&emails, amal, "filed")?;
    ensure!(filed
        .part("text/plain")?
        .contains(&format!("\u{2068}{amal}\u{2069}")));
    ensure!(filed
        .part("text/html")?
        .contains(&format!("<bdi>{amal}</bdi>")));
    let reminder = email(&emails, amal, "reminder")?.part("text/html")?;
    let link = format!("http://127.0.0.1:8080/ar/claims/{ar}?action=reopen");
    ensure!(
        reminder.contains(&format!("<a href=\"{link}\">")),
        "{reminder}"
    );
    let answer = email(&emails, amal, "answered")?.part("text/plain")?;
    ensure!(
        answer.contains("> Votre certificat a été délivré.\n> Bonne journée."),
        "{answer}"
    );

    // French: exact subjects, left to right, no isolates.
    let subjects = [
        (
            "filed",
            format!("Réclamation {fr} enregistrée : « {FRENCH_SUBJECT} »"),
        ),
        (
            "answered",
            format!("Réclamation {fr} : le service vous a répondu"),
        ),
        (
            "reminder",
            format!("Réclamation {fr} : clôture automatique le {deadline} (UTC)"),
        ),
        (
            "auto_closed",
            format!("Réclamation {fr} clôturée automatiquement"),
        ),
    ];
    for (template, subject) in subjects {
        let email = email(&emails, paul, template)?;
        ensure!(
            email.subject()? == subject,
            "{template}: {:?}",
            email.subject()?
        );
        let html = email.part("text/html")?;
        ensure!(html.contains("<html lang=\"fr\" dir=\"ltr\">"), "{html}");
        ensure!(!email.part("text/plain")?.contains('\u{2068}'));
    }
    // The office is told in French, whatever the client's language.
    let new_claims: Vec<String> = emails
        .iter()
        .filter(|(e, _)| e.message.template == "new_claim")
        .map(|(_, email)| email.subject())
        .collect::<Result<_>>()?;
    ensure!(
        new_claims
            == [
                format!("Nouvelle réclamation {ar} : « {ARABIC_SUBJECT} »"),
                format!("Nouvelle réclamation {fr} : « {FRENCH_SUBJECT} »"),
            ],
        "{new_claims:?}"
    );
    app.stop().await
}

/// Every step of a claim's life gives its emails, once: the client hears of each step in
/// its language, the handling entity of new claims, of the client's messages and of
/// transfers to it, in French.
pub async fn every_step_is_emailed_once(app: TestApp) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    let names = app.agent("agent.steps", ENTITY).await?;
    let finance = app.agent("agent.finance", "finance").await?;
    let client = "steps@example.ma";
    let number = file_claim(&app, client, "fr").await?;
    let token = app.access(&number, client).await?;
    let agent_path = |action: &str| format!("/api/v1/agent/claims/{number}/{action}");
    let client_path = |action: &str| format!("/api/v1/claims/{number}/{action}");
    let steps: [(String, serde_json::Value, &str, StatusCode); 7] = [
        (
            agent_path("messages"),
            json!({"body": "Merci d’envoyer le reçu."}),
            &names,
            StatusCode::CREATED,
        ),
        (
            client_path("messages"),
            json!({"body": "Le voici."}),
            &token,
            StatusCode::CREATED,
        ),
        (
            agent_path("answer"),
            json!({"body": "Dossier complet."}),
            &names,
            StatusCode::CREATED,
        ),
        (
            client_path("close"),
            json!({"satisfaction": 4}),
            &token,
            StatusCode::OK,
        ),
        (
            client_path("reopen"),
            json!({"reason": "Toujours rien reçu."}),
            &token,
            StatusCode::OK,
        ),
        (
            agent_path("transfer"),
            json!({"entity": "finance", "reason": "Paiement."}),
            &names,
            StatusCode::OK,
        ),
        (
            agent_path("answer"),
            json!({"body": "Remboursé.", "close": true}),
            &finance,
            StatusCode::CREATED,
        ),
    ];
    for (path, body, bearer, expected) in &steps {
        let response = app.post(path, body, Some(bearer)).await?;
        expect_json(response, *expected).await?;
    }

    let emails = delivered(&app, 10).await?;
    let to_client = templates_to(&emails, client);
    let expected = [
        "filed",
        "entity_message",
        "answered",
        "closed",
        "reopened",
        "answered",
        "closed",
    ];
    ensure!(to_client == expected, "{to_client:?}");
    ensure!(templates_to(&emails, ENTITY_MAILBOX) == ["new_claim", "client_message"]);
    ensure!(templates_to(&emails, "finances@claimdesk.localhost") == ["transferred"]);

    let subject = |address: &str, template: &str| -> Result<String> {
        email(&emails, address, template)?.subject()
    };
    ensure!(
        subject(client, "entity_message")? == format!("Réclamation {number} : nouveau message")
    );
    ensure!(subject(client, "reopened")? == format!("Réclamation {number} rouverte"));
    ensure!(
        subject(ENTITY_MAILBOX, "client_message")?
            == format!("Réclamation {number} : message du client")
    );
    let transferred = email(&emails, "finances@claimdesk.localhost", "transferred")?;
    ensure!(transferred.subject()? == format!("Réclamation {number} transférée à votre service"));
    let text = transferred.part("text/plain")?;
    ensure!(text.contains("par Service des noms commerciaux") && text.contains("> Paiement."));
    let store = app.store().await?;
    let stream = claimdesk_claims::stream_id(&number);
    ensure!(
        store.timers_list(Some(&stream)).await?.is_empty(),
        "closed: no deadline left"
    );
    app.stop().await
}

/// Without `CLAIMDESK_SMTP_URL`, the emails are `.eml` files in `<data>/mail/`, named after
/// their outbox key, one per email.
pub async fn without_smtp_emails_are_written_as_files(app: TestApp) -> Result<()> {
    let number = file_claim(&app, "fichier@example.ma", "fr").await?;
    let folder = app.data_dir().join("mail");
    let files = eventually("two .eml files", || async {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return Ok(None);
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        ensure!(files.len() <= 2, "{files:?}");
        Ok((files.len() == 2).then_some(files))
    })
    .await?;
    let entries = outbox(&app).await?;
    let mut subjects = BTreeMap::new();
    for file in &files {
        let email = Email::parse(&std::fs::read(file)?)?;
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .context("a name")?;
        let entry = entries
            .iter()
            .find(|e| e.id == stem)
            .context("an outbox entry")?;
        ensure!(entry.status == OutboxStatus::Sent, "{entry:?}");
        ensure!(email.message_id()? == format!("<{stem}@claimdesk.localhost>"));
        ensure!(email.header("To")? == entry.message.recipient);
        subjects.insert(entry.message.template.clone(), email.subject()?);
    }
    let expected = BTreeMap::from([
        (
            "filed".to_owned(),
            format!("Réclamation {number} enregistrée : « {FRENCH_SUBJECT} »"),
        ),
        (
            "new_claim".to_owned(),
            format!("Nouvelle réclamation {number} : « {FRENCH_SUBJECT} »"),
        ),
    ]);
    ensure!(subjects == expected, "{subjects:?}");
    app.stop().await
}

/// F3: every event applied again to the notifier, twice, in units of work of its own: the
/// outbox does not grow and nothing more is sent.
pub async fn the_same_event_twice_changes_nothing(app: TestApp) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    let agent = app.agent("agent.f3", ENTITY).await?;
    let number = file_claim(&app, "f3@example.ma", "ar").await?;
    answer(&app, &agent, &number).await?;
    delivered(&app, 3).await?;
    let before = outbox(&app).await?;
    let store = app.store().await?;
    let timers = store.timers_list(None).await?;

    let settings = claimdesk::process_settings(&app.config());
    let notifier = claimdesk_process::projection(&settings)?;
    let events = store.read_all(0, 1000).await?;
    for round in 0..2 {
        let id = ProjectionId {
            name: format!("process_manager_replay_{round}"),
            version: 1,
        };
        let mut tx = store.begin(&id, 0).await?;
        for event in &events {
            notifier.apply(event, tx.as_mut()).await?;
            notifier.apply(event, tx.as_mut()).await?;
        }
        tx.commit(events.last().context("events")?.position).await?;
    }
    ensure!(outbox(&app).await? == before, "the outbox did not change");
    ensure!(store.timers_list(None).await? == timers, "nor the timers");

    // Something new is sent, and only that.
    let token = app.access(&number, "f3@example.ma").await?;
    let path = format!("/api/v1/claims/{number}/messages");
    let body = json!({"body": "Merci"});
    expect_json(
        app.post(&path, &body, Some(&token)).await?,
        StatusCode::CREATED,
    )
    .await?;
    let emails = delivered(&app, 4).await?;
    ensure!(
        emails[3].0.message.template == "client_message",
        "{:?}",
        emails[3].0
    );
    ensure!(outbox(&app).await?.len() == before.len() + 1);
    app.stop().await
}

/// F4: the server refuses one message of a batch with 451: the others go at once, the
/// refused one after its backoff, each once.
pub async fn a_refused_email_is_retried_alone(app: TestApp) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    app.smtp()?.refuse_next(1, 451);
    let number = file_claim(&app, "f4a@example.ma", "fr").await?;

    let retrying = eventually("a failed attempt", || async {
        let entries = outbox(&app).await?;
        Ok(entries
            .into_iter()
            .find(|e| e.attempts == 1 && e.status == OutboxStatus::Pending))
    })
    .await?;
    ensure!(
        retrying.message.template == "filed",
        "the first of the batch: {retrying:?}"
    );
    let error = retrying.last_error.as_deref().unwrap_or_default();
    ensure!(error.contains("451"), "{error}");
    let emails = delivered(&app, 1).await?;
    ensure!(
        emails[0].0.message.template == "new_claim",
        "the rest went on"
    );

    app.clock.advance(chrono::Duration::minutes(1));
    let emails = delivered(&app, 2).await?;
    ensure!(emails[1].0.message.template == "filed");
    ensure!(app.smtp()?.refused() == 1);
    let entries = outbox(&app).await?;
    let attempts: BTreeMap<_, _> = entries
        .iter()
        .map(|e| (e.message.template.as_str(), (e.status, e.attempts)))
        .collect();
    let sent = OutboxStatus::Sent;
    ensure!(
        attempts == BTreeMap::from([("filed", (sent, 2)), ("new_claim", (sent, 1))]),
        "{attempts:?} for {number}"
    );
    app.stop().await
}

/// F4: the process is killed while the mail server holds a message, then started again:
/// the message the server never accepted is sent after the lease runs out, and every email
/// arrives once.
pub async fn a_crash_while_sending_sends_each_email_once(app: TestApp) -> Result<()> {
    let mut app = app.reconfigure(Options::smtp()).await?;
    app.smtp()?.hold_next();
    file_claim(&app, "f4b@example.ma", "fr").await?;
    let smtp = app.smtp()?;
    eventually("a message held by the server", || async {
        Ok((smtp.held() == 1).then_some(()))
    })
    .await?;

    app.kill()?;
    let smtp = app.smtp()?;
    eventually("the held message dropped", || async {
        Ok((smtp.dropped() == 1).then_some(()))
    })
    .await?;
    ensure!(smtp.received().is_empty(), "nothing was accepted");
    let leased = outbox(&app).await?;
    ensure!(leased
        .iter()
        .all(|e| e.status == OutboxStatus::Pending && e.lease_until.is_some()));

    app.restart().await?;
    // Until the dead sender's lease runs out, nobody takes its messages.
    app.clock.advance(chrono::Duration::minutes(11));
    let emails = delivered(&app, 2).await?;
    let templates: BTreeSet<_> = emails
        .iter()
        .map(|(e, _)| e.message.template.clone())
        .collect();
    ensure!(templates == BTreeSet::from(["filed".to_owned(), "new_claim".to_owned()]));
    let entries = outbox(&app).await?;
    ensure!(
        entries.iter().all(|e| e.status == OutboxStatus::Sent),
        "{entries:?}"
    );
    app.stop().await
}

/// The mail server is away while claims are filed; when it is back every email arrives, once.
pub async fn emails_wait_for_the_mail_server(app: TestApp) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    app.smtp()?.stop();
    for i in 0..3 {
        file_claim(&app, &format!("away{i}@example.ma"), "fr").await?;
    }
    eventually("six failed attempts", || async {
        let entries = outbox(&app).await?;
        Ok((entries.len() == 6 && entries.iter().all(|e| e.attempts >= 1)).then_some(()))
    })
    .await?;
    ensure!(app.smtp()?.received().is_empty());

    app.smtp()?.start_again().await?;
    app.clock.advance(chrono::Duration::minutes(31));
    let emails = delivered(&app, 6).await?;
    let mut per_template = BTreeMap::new();
    for (entry, _) in &emails {
        *per_template
            .entry(entry.message.template.clone())
            .or_insert(0) += 1;
    }
    ensure!(per_template == BTreeMap::from([("filed".to_owned(), 3), ("new_claim".to_owned(), 3)]));
    app.stop().await
}

/// A mail server that refuses for good: after 8 attempts the emails are parked, shown to
/// administrators and counted in the metrics; an administrator puts one back and it goes.
pub async fn undeliverable_emails_are_parked_for_administrators(app: TestApp) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    app.smtp()?.refuse_next(1000, 550);
    file_claim(&app, "parked@example.ma", "fr").await?;
    for attempt in 1..=8 {
        eventually(&format!("attempt {attempt}"), || async {
            let entries = outbox(&app).await?;
            let done = entries.len() == 2 && entries.iter().all(|e| e.attempts >= attempt);
            Ok(done.then_some(()))
        })
        .await?;
        app.clock.advance(chrono::Duration::minutes(31));
    }
    let entries = outbox(&app).await?;
    ensure!(
        entries
            .iter()
            .all(|e| e.status == OutboxStatus::Parked && e.attempts == 8),
        "{entries:?}"
    );
    ensure!(app.smtp()?.refused() == 16);

    app.add_user("admin.mail", "admin", None).await?;
    let admin = app.login("admin.mail").await?;
    let agent = app.agent("agent.parked", ENTITY).await?;
    let path = "/api/v1/admin/outbox?status=parked";
    let forbidden = app.get(path, Some(&agent)).await?;
    expect_problem(forbidden, StatusCode::FORBIDDEN, "forbidden").await?;
    let unauthenticated = app.get(path, None).await?;
    expect_problem(unauthenticated, StatusCode::UNAUTHORIZED, "unauthorized").await?;
    let bad = app
        .get("/api/v1/admin/outbox?status=lost", Some(&admin))
        .await?;
    expect_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let listing = expect_json(app.get(path, Some(&admin)).await?, StatusCode::OK).await?;
    let messages = listing["messages"].as_array().context("messages")?;
    ensure!(messages.len() == 2, "{listing}");
    ensure!(
        listing["counts"]["parked"] == 2 && listing["counts"]["sent"] == 0,
        "{listing}"
    );
    for message in messages {
        ensure!(
            message["status"] == "parked" && message["attempts"] == 8,
            "{message}"
        );
        let error = message["last_error"].as_str().unwrap_or_default();
        ensure!(error.contains("550"), "{message}");
    }

    let metrics = app.get("/metrics", None).await?.text().await?;
    for line in [
        "claimdesk_outbox_messages{status=\"parked\"} 2",
        "claimdesk_outbox_messages{status=\"pending\"} 0",
        "claimdesk_outbox_messages{status=\"sent\"} 0",
    ] {
        ensure!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }

    app.smtp()?.refuse_next(0, 550);
    let id = messages[0]["id"].as_str().context("id")?;
    let retry = format!("/api/v1/admin/outbox/{id}/retry");
    let requeued = expect_json(
        app.post(&retry, &json!({}), Some(&admin)).await?,
        StatusCode::OK,
    )
    .await?;
    ensure!(
        requeued["status"] == "pending" && requeued["attempts"] == 0,
        "{requeued}"
    );
    delivered(&app, 1).await?;
    let again = app.post(&retry, &json!({}), Some(&admin)).await?;
    expect_problem(again, StatusCode::CONFLICT, "conflict").await?;
    let unknown = app
        .post("/api/v1/admin/outbox/nope/retry", &json!({}), Some(&admin))
        .await?;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await?;
    app.stop().await
}

/// F15: a claim subject or an address holding CR/LF cannot add a header or a recipient.
/// Through the API, a subject's line breaks become spaces and such an address is refused;
/// events that hold them anyway (written before a validation existed, say) give emails with
/// a one-line subject, or none when the address is not one address.
pub async fn header_injection_is_impossible(app: TestApp) -> Result<()> {
    let app = app.reconfigure(Options::smtp()).await?;
    let mut body = filing("inject@example.ma");
    body["contact"]["email"] = json!("inject@example.ma\r\nBcc: evil@example.com");
    let refused = app.file(body).await?;
    let problem = expect_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    ensure!(problem.to_string().contains("contact.email"), "{problem}");
    let mut body = filing("inject@example.ma");
    body["claim"]["subject"] = json!("Objet\r\nBcc: evil@example.com");
    let through_api = app.file_ok(body).await?;

    let store = app.store().await?;
    let subject = "Objet\r\nBcc: evil@example.com\r\nX-Injected: yes";
    append_filed(&store, &app, "RC-INJECT-1", "victim@example.ma", subject).await?;
    let address = "victim2@example.ma\r\nBcc: evil@example.com";
    append_filed(&store, &app, "RC-INJECT-2", address, "Objet").await?;

    // Five emails go (two per claim but the last one, to the office only); one is parked.
    let emails = delivered(&app, 5).await?;
    let parked = eventually("the unaddressable email parked", || async {
        let entries = outbox(&app).await?;
        Ok(entries
            .into_iter()
            .find(|e| e.status == OutboxStatus::Parked))
    })
    .await?;
    ensure!(
        parked.message.recipient == address && parked.attempts == 1,
        "{parked:?}"
    );
    let error = parked.last_error.as_deref().unwrap_or_default();
    ensure!(error.contains("recipient"), "{error}");

    for received in app.smtp()?.received() {
        ensure!(
            !received.rcpt_to.iter().any(|to| to.contains("evil")),
            "{:?}",
            received.rcpt_to
        );
    }
    for (_, email) in &emails {
        for (name, _) in &email.headers {
            ensure!(!name.eq_ignore_ascii_case("bcc") && !name.starts_with("X-Injected"));
        }
        ensure!(!email.subject()?.contains(['\r', '\n']));
    }
    let filed = email(&emails, "inject@example.ma", "filed")?;
    let expected =
        format!("Réclamation {through_api} enregistrée : « Objet Bcc: evil@example.com »");
    ensure!(filed.subject()? == expected, "{:?}", filed.subject()?);
    let filed = email(&emails, "victim@example.ma", "filed")?;
    ensure!(
        filed.subject()?
            == "Réclamation RC-INJECT-1 enregistrée : « Objet  Bcc: evil@example.com  \
                X-Injected: yes »",
        "{:?}",
        filed.subject()?
    );
    app.stop().await
}

/// Appends a filed and routed claim straight to the store, past the API's checks.
async fn append_filed(
    store: &std::sync::Arc<dyn Store>,
    app: &TestApp,
    number: &str,
    email: &str,
    subject: &str,
) -> Result<()> {
    let contact = Contact {
        profile: Profile::NaturalPerson,
        email: "placeholder@example.ma".to_owned(),
        company_name: None,
        last_name: Some("Alaoui".to_owned()),
        first_name: None,
        phone: None,
        address: None,
        city: None,
        country: None,
    };
    let command = ClaimCommand::File {
        number: number.to_owned(),
        at: Timestamp::from_micros(app.clock.now().timestamp_micros()),
        language: Language::Fr,
        theme: "issuance_delay".to_owned(),
        filing_place: "ompic_head_office".to_owned(),
        subject: "placeholder".to_owned(),
        request_number: "2026/1".to_owned(),
        message: "Bonjour".to_owned(),
        attachments: Vec::new(),
        contact,
        entity: ENTITY.to_owned(),
        rule: "default".to_owned(),
    };
    let mut events = decide(&ClaimState::default(), command)?;
    let ClaimEvent::ClaimFiled(filed) = &mut events[0] else {
        bail!("a filing first")
    };
    filed.subject = subject.to_owned();
    filed.personal.contact.email = email.to_owned();
    let metadata = Metadata {
        actor: "client".to_owned(),
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
    };
    let encoded = events.iter().map(claimdesk_claims::encode).collect();
    let stream = claimdesk_claims::stream_id(number);
    store
        .append(&stream, ExpectedVersion::NoStream, &metadata, encoded)
        .await?;
    Ok(())
}
