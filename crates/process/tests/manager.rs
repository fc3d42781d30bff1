//! The process manager's rules, given events: which emails are queued and which timers are set
//! or cancelled (on a fresh SQLite store, through the real command handler).

use std::sync::Arc;
use std::time::Duration;

use claimdesk_claims::handler::execute;
use claimdesk_domain::{Actor, ClaimCommand, Contact, Language, Profile, Timestamp};
use claimdesk_process::manager::{AUTO_CLOSE, REMINDER};
use claimdesk_process::{Entity, ManagerSettings, ProcessManager};
use claimdesk_projections::Projection;
use claimdesk_store::{Metadata, ProjectionId, Store, Timer};

const DAY: i64 = 86_400_000_000;

fn settings(reminder_before: Duration) -> ManagerSettings {
    ManagerSettings {
        public_url: "http://127.0.0.1:8080/".to_owned(),
        reminder_before,
        message_id_domain: "claimdesk.localhost".to_owned(),
        entities: vec![Entity {
            code: "trade_names".to_owned(),
            mailbox: "names@claimdesk.localhost".to_owned(),
            label_fr: "Service des noms".to_owned(),
            label_ar: "مصلحة الأسماء".to_owned(),
        }],
    }
}

fn at(days: i64) -> Timestamp {
    Timestamp::from_micros(1_800_000_000_000_000 + days * DAY)
}

fn metadata(actor: &str) -> Metadata {
    Metadata {
        actor: actor.to_owned(),
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
    }
}

async fn run(store: &Arc<dyn Store>, actor: &str, command: ClaimCommand) {
    let command = move |_: &_| command.clone();
    execute(store, "RC-1", &metadata(actor), command)
        .await
        .expect("the command is stored");
}

fn file() -> ClaimCommand {
    ClaimCommand::File {
        number: "RC-1".to_owned(),
        at: at(0),
        language: Language::Ar,
        theme: "issuance_delay".to_owned(),
        filing_place: "ompic_head_office".to_owned(),
        subject: "الشهادة".to_owned(),
        request_number: "2026/1".to_owned(),
        message: "مرحبا".to_owned(),
        attachments: Vec::new(),
        contact: Contact {
            profile: Profile::NaturalPerson,
            email: "amal@example.ma".to_owned(),
            company_name: None,
            last_name: None,
            first_name: Some("Amal".to_owned()),
            phone: None,
            address: None,
            city: None,
            country: None,
        },
        entity: "trade_names".to_owned(),
        rule: "default".to_owned(),
    }
}

fn answer(day: i64, close: bool) -> ClaimCommand {
    ClaimCommand::Answer {
        by: Actor::agent("nadia", "trade_names"),
        body: "تم".to_owned(),
        attachments: Vec::new(),
        at: at(day),
        auto_close_at: at(day + 7),
        close,
    }
}

fn client_message(day: i64) -> ClaimCommand {
    ClaimCommand::PostMessage {
        by: Actor::Client,
        body: "لا".to_owned(),
        attachments: Vec::new(),
        at: at(day),
    }
}

/// Applies every event not yet applied, in one unit of work.
async fn catch_up(store: &Arc<dyn Store>, manager: &ProcessManager) {
    let id = ProjectionId {
        name: "process_manager".to_owned(),
        version: 1,
    };
    let from = store.checkpoint(&id).await.unwrap();
    let events = store.read_all(from, 1000).await.unwrap();
    let Some(last) = events.last().map(|e| e.position) else {
        return;
    };
    let mut tx = store.begin(&id, from).await.unwrap();
    for event in &events {
        manager.apply(event, tx.as_mut()).await.unwrap();
    }
    tx.commit(last).await.unwrap();
}

async fn templates(store: &Arc<dyn Store>) -> Vec<(String, String)> {
    let entries = store.outbox_list(None, 100).await.unwrap();
    entries
        .into_iter()
        .map(|e| (e.message.template, e.message.recipient))
        .collect()
}

fn due(timer: &Timer) -> (String, i64) {
    let micros = timer.due_at.timestamp_micros();
    (timer.kind.clone(), micros)
}

#[tokio::test]
async fn an_answer_sets_deadlines_and_the_clients_reaction_cancels_them() {
    let test = claimdesk_store::testing::sqlite().await;
    let store = test.shared();
    let manager = ProcessManager::new(settings(Duration::from_secs(2 * 86_400)));

    run(&store, "client", file()).await;
    run(&store, "agent:nadia", answer(1, false)).await;
    catch_up(&store, &manager).await;
    let timers = store.timers_list(Some("claim-RC-1")).await.unwrap();
    let expected = [
        (REMINDER.to_owned(), at(6).as_micros()),
        (AUTO_CLOSE.to_owned(), at(8).as_micros()),
    ];
    assert_eq!(timers.iter().map(due).collect::<Vec<_>>(), expected);
    let client = "amal@example.ma".to_owned();
    let office = "names@claimdesk.localhost".to_owned();
    assert_eq!(
        templates(&store).await,
        [
            ("filed".to_owned(), client.clone()),
            ("new_claim".to_owned(), office.clone()),
            ("answered".to_owned(), client.clone()),
        ]
    );

    // F9: the client writes on day 4; nothing is left to fire.
    run(&store, "client", client_message(4)).await;
    catch_up(&store, &manager).await;
    assert!(store.timers_list(None).await.unwrap().is_empty());
    let last = templates(&store).await.pop().unwrap();
    assert_eq!(last, ("client_message".to_owned(), office));

    // The next answer starts a deadline of its own; an answer that closes leaves none.
    run(&store, "agent:nadia", answer(5, false)).await;
    catch_up(&store, &manager).await;
    let timers = store.timers_list(None).await.unwrap();
    assert_eq!(timers.len(), 2);
    assert!(timers
        .iter()
        .any(|t| due(t) == (AUTO_CLOSE.to_owned(), at(12).as_micros())));
    run(&store, "agent:nadia", answer(6, true)).await;
    catch_up(&store, &manager).await;
    assert!(store.timers_list(None).await.unwrap().is_empty());
    let last: Vec<_> = templates(&store).await.split_off(5);
    assert_eq!(
        last,
        [
            ("answered".to_owned(), client.clone()),
            ("closed".to_owned(), client),
        ]
    );
}

#[tokio::test]
async fn a_reminder_needs_time_before_the_deadline() {
    let test = claimdesk_store::testing::sqlite().await;
    let store = test.shared();
    let manager = ProcessManager::new(settings(Duration::from_secs(7 * 86_400)));
    run(&store, "client", file()).await;
    run(&store, "agent:nadia", answer(1, false)).await;
    catch_up(&store, &manager).await;
    let timers = store.timers_list(None).await.unwrap();
    let kinds: Vec<_> = timers.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [AUTO_CLOSE],
        "a reminder at the answer itself is no reminder"
    );

    // The reminder's link and Arabic body, rendered when the answer came.
    let manager = ProcessManager::new(settings(Duration::from_secs(86_400)));
    let test = claimdesk_store::testing::sqlite().await;
    let store = test.shared();
    run(&store, "client", file()).await;
    run(&store, "agent:nadia", answer(1, false)).await;
    catch_up(&store, &manager).await;
    let reminder = store
        .timers_list(None)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.kind == REMINDER)
        .expect("a reminder");
    let html = reminder.payload["message"]["body_html"].as_str().unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");
    let link = "http://127.0.0.1:8080/ar/claims/RC-1?action=reopen";
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
    assert_eq!(reminder.payload["message"]["template"], "reminder");
}
