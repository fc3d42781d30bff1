//! Rebuilds, version switches and schema upcasting, on a real store: SQLite always and
//! PostgreSQL when `DATABASE_URL` is set (otherwise those runs are reported as ignored).
//!
//! - Every read model rebuilt from the events equals the one kept live, document for
//!   document, after a few hundred claims lived their lives through the command handler.
//! - F8: close with 5, reopen, close with 2 counts once, as a 2, reopened once; live and
//!   after a rebuild.
//! - F7: a `ClaimFiled` stored under schema version 1 is read upcast by the handler, the
//!   projections (live and rebuilt) and the audit view.
//! - A changed definition version is rebuilt beside the serving copy, which keeps serving
//!   (and stays current) until the new copy has caught up; an explicit rebuild does the same.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use claimdesk_claims::simulate::{Catalog, Simulation};
use claimdesk_claims::{audit, execute, stream_id};
use claimdesk_domain::{Actor, ClaimCommand, Contact, Language, Profile, Timestamp};
use claimdesk_projections::runtime::rebuild_into;
use claimdesk_projections::satisfaction_stats::{self, aggregate, GroupBy, Period};
use claimdesk_projections::serving::{self, Generation};
use claimdesk_projections::{
    Definition, Options, Projection, ProjectionError, Projections, RebuildError,
};
use claimdesk_store::{
    testing, Document, ExpectedVersion, Metadata, NewEvent, ProjectionId, ReadModelTx,
    RecordedEvent, Store,
};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};
use uuid::Uuid;

type Test = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

fn check(condition: bool, what: impl Into<String>) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn catalog() -> Catalog {
    Catalog {
        themes: vec![
            "issuance_delay".into(),
            "name_refused".into(),
            "other".into(),
        ],
        filing_places: vec!["ompic_head_office".into(), "cri_casablanca".into()],
        entities: vec!["trade_names".into(), "finance".into(), "regional".into()],
        route: Box::new(|theme, _| {
            let entity = if theme == "other" {
                "finance"
            } else {
                "trade_names"
            };
            (entity.to_owned(), format!("theme:{theme}"))
        }),
    }
}

/// `claims` lives through the real command handler; the number of events stored.
async fn populate(store: &Arc<dyn Store>, claims: usize, seed: u64) -> Result<u64, String> {
    let start = Timestamp::from_ymd(2026, 1, 1).map_err(err)?;
    let span = claimdesk_domain::Duration::from_days(180);
    let week = claimdesk_domain::DEFAULT_AUTO_CLOSE_AFTER;
    let mut simulation = Simulation::new(seed, catalog(), start, span, week);
    let mut events = 0;
    for i in 0..claims {
        let number = format!("RC-2026-SIM{seed}-{i:05}");
        events += simulation.execute(store, &number).await.map_err(err)?;
    }
    Ok(events)
}

/// Every collection a projection keeps, as its definition declares them.
fn collections(projection: &dyn Projection) -> Vec<String> {
    projection
        .definition()
        .collections
        .keys()
        .cloned()
        .collect()
}

/// Every document of `id`, collection by collection.
async fn documents(
    store: &Arc<dyn Store>,
    projection: &dyn Projection,
    id: &ProjectionId,
) -> Result<Vec<Document>, String> {
    let mut all = Vec::new();
    for collection in collections(projection) {
        all.extend(store.list(id, &collection, None).await.map_err(err)?);
    }
    Ok(all)
}

async fn caught_up(projections: &Projections, store: &Arc<dyn Store>) -> Result<(), String> {
    let head = store.head().await.map_err(err)?;
    check(
        projections.wait_for(head, Duration::from_secs(60)).await,
        format!("caught up with {head}: {:?}", projections.statuses()),
    )
}

async fn every_rebuilt_read_model_equals_the_live_one(store: Arc<dyn Store>) -> Result<(), String> {
    let events = populate(&store, 240, 11).await?;
    check(events > 1_000, format!("{events} events"))?;
    let live = Projections::start(store.clone(), claimdesk_projections::all());
    caught_up(&live, &store).await?;

    for projection in claimdesk_projections::all() {
        let name = projection.definition().name.clone();
        let live_id = live.id(&name).ok_or("a live id")?.clone();
        let rebuilt_id = Generation::first(projection.definition().version)
            .next(projection.definition().version)
            .id(&name);
        let position = rebuild_into(&store, projection.as_ref(), &rebuilt_id, &mut |_| {})
            .await
            .map_err(err)?;
        check(
            position == store.head().await.map_err(err)?,
            "rebuilt to the head",
        )?;

        let before = documents(&store, projection.as_ref(), &live_id).await?;
        let after = documents(&store, projection.as_ref(), &rebuilt_id).await?;
        check(
            before.len() >= 240,
            format!("{name}: {} live documents", before.len()),
        )?;
        check(
            before == after,
            format!("{name}: the rebuilt documents differ from the live ones"),
        )?;
    }
    Ok(())
}

/// Files a claim through the handler, routed to `trade_names`.
async fn file(store: &Arc<dyn Store>, number: &str, at: Timestamp) -> Result<(), String> {
    let command = ClaimCommand::File {
        number: number.to_owned(),
        at,
        language: Language::Fr,
        theme: "issuance_delay".into(),
        filing_place: "ompic_head_office".into(),
        subject: "Certificat".into(),
        request_number: "2026/1".into(),
        message: "Bonjour".into(),
        attachments: Vec::new(),
        contact: Contact {
            profile: Profile::NaturalPerson,
            email: "f8@example.test".into(),
            company_name: None,
            last_name: None,
            first_name: None,
            phone: None,
            address: None,
            city: None,
            country: None,
        },
        entity: "trade_names".into(),
        rule: "theme:issuance_delay".into(),
    };
    run(store, number, command).await
}

async fn run(store: &Arc<dyn Store>, number: &str, command: ClaimCommand) -> Result<(), String> {
    let metadata = claimdesk_claims::simulate::metadata(&command);
    execute(store, number, &metadata, |_| command.clone())
        .await
        .map(|_| ())
        .map_err(err)
}

fn answer(at: Timestamp) -> ClaimCommand {
    ClaimCommand::Answer {
        by: Actor::agent("amina", "trade_names"),
        body: "Réponse".into(),
        attachments: Vec::new(),
        at,
        auto_close_at: at + claimdesk_domain::DEFAULT_AUTO_CLOSE_AFTER,
        close: false,
    }
}

async fn stats_document(
    store: &Arc<dyn Store>,
    id: &ProjectionId,
    number: &str,
) -> Result<Value, String> {
    let doc = store
        .get(id, satisfaction_stats::COLLECTION, number)
        .await
        .map_err(err)?
        .ok_or("a statistics document")?;
    Ok(doc.body)
}

async fn a_repeated_rating_counts_once_as_the_latest(store: Arc<dyn Store>) -> Result<(), String> {
    let number = "RC-2026-F8F8-F8F8-F8F8";
    let day = |d| Timestamp::from_ymd(2026, 3, d).expect("a date");
    file(&store, number, day(2)).await?;
    run(&store, number, answer(day(3))).await?;
    let close = |satisfaction, at| ClaimCommand::Close {
        satisfaction,
        comment: Some("commentaire".into()),
        at,
    };
    run(&store, number, close(5, day(4))).await?;
    let reopen = ClaimCommand::Reopen {
        reason: "Erreur".into(),
        at: day(5),
    };
    run(&store, number, reopen).await?;
    run(&store, number, answer(day(6))).await?;
    run(&store, number, close(2, day(7))).await?;

    let stats = Arc::new(satisfaction_stats::SatisfactionStats::new());
    let live = Projections::start(store.clone(), vec![stats.clone()]);
    caught_up(&live, &store).await?;
    let live_id = live
        .id(satisfaction_stats::SatisfactionStats::NAME)
        .ok_or("id")?
        .clone();
    let rebuilt_id = Generation::first(1)
        .next(1)
        .id(satisfaction_stats::SatisfactionStats::NAME);
    rebuild_into(&store, stats.as_ref(), &rebuilt_id, &mut |_| {})
        .await
        .map_err(err)?;

    for (copy, id) in [("live", &live_id), ("rebuilt", &rebuilt_id)] {
        let doc = stats_document(&store, id, number).await?;
        check(
            doc["satisfaction"] == 2 && doc["ratings"] == 2 && doc["reopenings"] == 1,
            format!("{copy}: {doc}"),
        )?;
        check(doc["closure"] == "client", format!("{copy}: {doc}"))?;
        check(
            doc["first_answer_us"] == 86_400_000_000i64,
            format!("{copy}: {doc}"),
        )?;
        let text = doc.to_string();
        check(
            !text.contains("f8@example.test") && !text.contains("commentaire"),
            format!("{copy}: no personal data: {doc}"),
        )?;

        let docs = store
            .list(id, satisfaction_stats::COLLECTION, None)
            .await
            .map_err(err)?;
        let rows = aggregate(&docs, GroupBy::Entity, Period::default()).map_err(err)?;
        check(rows.len() == 1, format!("{copy}: {rows:?}"))?;
        let row = &rows[0];
        check(
            (row.claims, row.rated, row.reopened, row.reopenings) == (1, 1, 1, 1),
            format!("{copy}: {row:?}"),
        )?;
        check(
            row.average_satisfaction == Some(2.0)
                && (row.satisfaction_2, row.satisfaction_5) == (1, 0)
                && row.closed_by_client == 1
                && row.median_first_answer_seconds == Some(86_400.0),
            format!("{copy}: {row:?}"),
        )?;
    }
    Ok(())
}

/// A `ClaimFiled` as schema version 1 stored it, before `channel` existed.
fn filed_v1(number: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "ClaimFiled".into(),
        schema_version: 1,
        data: json!({
            "number": number,
            "filed_at": "2025-11-03T10:00:00.000000Z",
            "language": "ar",
            "theme": "name_refused",
            "filing_place": "cri_casablanca",
            "subject": "Ancien dossier",
            "request_number": "2025/77",
            "attachments": [],
            "personal": {
                "contact": {
                    "profile": "legal_person", "email": "old@example.test",
                    "company_name": "Ancienne SARL", "last_name": null, "first_name": null,
                    "phone": null, "address": null, "city": null, "country": null
                },
                "message": "Un ancien message"
            }
        }),
    }
}

async fn old_schema_events_are_upcast_everywhere(store: Arc<dyn Store>) -> Result<(), String> {
    let number = "RC-2025-OLD0-OLD0-OLD0";
    let metadata = Metadata {
        actor: "client".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
    };
    let routed = NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "ClaimRouted".into(),
        schema_version: 1,
        data: json!({
            "entity": "trade_names",
            "rule": "default",
            "at": "2025-11-03T10:00:00.000000Z",
        }),
    };
    store
        .append(
            &stream_id(number),
            ExpectedVersion::NoStream,
            &metadata,
            vec![filed_v1(number), routed],
        )
        .await
        .map_err(err)?;

    // Loading the claim: the handler folds the upcast event and decides on it.
    let (_, state) = claimdesk_claims::handler::load(store.as_ref(), number)
        .await
        .map_err(err)?;
    let filing = state.filing().ok_or("filed")?;
    check(
        filing.channel == claimdesk_domain::Channel::Web,
        "the handler reads the web channel",
    )?;
    let at = Timestamp::from_ymd(2025, 11, 4).map_err(err)?;
    run(&store, number, answer(at)).await?;

    // Projecting, live and rebuilt.
    let live = Projections::start(store.clone(), claimdesk_projections::all());
    caught_up(&live, &store).await?;
    for projection in claimdesk_projections::all() {
        let name = projection.definition().name.clone();
        let live_id = live.id(&name).ok_or("id")?.clone();
        let rebuilt_id = Generation::first(projection.definition().version)
            .next(projection.definition().version)
            .id(&name);
        rebuild_into(&store, projection.as_ref(), &rebuilt_id, &mut |_| {})
            .await
            .map_err(err)?;
        let before = documents(&store, projection.as_ref(), &live_id).await?;
        let after = documents(&store, projection.as_ref(), &rebuilt_id).await?;
        check(
            !before.is_empty() && before == after,
            format!("{name}: live = rebuilt"),
        )?;
    }
    let detail = store
        .get(live.id("claim_detail").ok_or("id")?, "claims", number)
        .await
        .map_err(err)?
        .ok_or("a claim detail")?;
    check(
        detail.body["status"] == "answered" && detail.body["language"] == "ar",
        format!("{}", detail.body),
    )?;
    let stats = stats_document(&store, live.id("satisfaction_stats").ok_or("id")?, number).await?;
    check(
        stats["month"] == "2025-11" && stats["theme"] == "name_refused",
        format!("{stats}"),
    )?;

    // Replaying for an auditor: the current shape, and the stored one beside it.
    let events = store.read_stream(&stream_id(number)).await.map_err(err)?;
    let filed = audit::envelope(&events[0]);
    check(
        filed["schema_version"] == 1 && filed["current_schema_version"] == 2,
        format!("{filed}"),
    )?;
    check(filed["data"]["channel"] == "web", format!("{filed}"))?;
    check(
        filed["stored_data"].is_object() && filed["stored_data"].get("channel").is_none(),
        format!("{filed}"),
    )?;
    let routed = audit::envelope(&events[1]);
    check(routed.get("stored_data").is_none(), format!("{routed}"))?;
    let as_of = audit::state_at(&events, chrono::Utc::now())
        .map_err(err)?
        .ok_or("a state")?;
    let state = audit::state_json(&as_of, chrono::Utc::now());
    check(state["filing"]["channel"] == "web", format!("{state}"))?;
    claimdesk_store::hash::verify_chain(&events).map_err(err)
}

/// Counts events; the version given decides the document's shape. While `failing`, it
/// refuses to start a new count: a copy being filled from scratch stops at its first event,
/// while a copy already counting goes on.
struct Counter {
    definition: Definition,
    failing: Arc<AtomicBool>,
}

impl Counter {
    fn new(version: u32, failing: bool) -> Counter {
        let text = format!(
            "name = \"counter\"\nversion = {version}\ndescription = \"test\"\n\
             [collections.counts]\nkey = \"total\"\n[collections.counts.fields]\nn = \"count\"\n"
        );
        Counter {
            definition: Definition::parse(&text),
            failing: Arc::new(AtomicBool::new(failing)),
        }
    }
}

#[async_trait]
impl Projection for Counter {
    fn definition(&self) -> &Definition {
        &self.definition
    }

    async fn apply(
        &self,
        event: &RecordedEvent,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError> {
        let n = match tx.get("counts", "total").await? {
            Some(doc) => doc.body["n"].as_u64().unwrap_or(0),
            None if self.failing.load(Ordering::SeqCst) => {
                return Err(ProjectionError::Inconsistent(format!(
                    "refusing to start a count at event {}",
                    event.position
                )));
            }
            None => 0,
        };
        tx.put(Document {
            collection: "counts".into(),
            key: "total".into(),
            partition: None,
            sort_key: None,
            body: json!({"n": n + 1, "shape": self.definition.version}),
        })
        .await?;
        Ok(())
    }
}

async fn append(store: &Arc<dyn Store>) -> Result<u64, String> {
    let metadata = Metadata {
        actor: "test".into(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
    };
    let event = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "Tick".into(),
        schema_version: 1,
        data: json!({}),
    };
    let appended = store
        .append("ticks", ExpectedVersion::Any, &metadata, vec![event])
        .await
        .map_err(err)?;
    Ok(appended.position)
}

async fn total(store: &Arc<dyn Store>, id: &ProjectionId) -> Result<Option<Value>, String> {
    let doc = store.get(id, "counts", "total").await.map_err(err)?;
    Ok(doc.map(|d| d.body))
}

fn fast() -> Options {
    Options {
        registry: true,
        retire_after: Duration::from_millis(200),
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
    for _ in 0..400 {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("timed out waiting until {what}"))
}

async fn a_new_version_serves_only_once_caught_up(store: Arc<dyn Store>) -> Result<(), String> {
    for _ in 0..5 {
        append(&store).await?;
    }
    let v1 = Arc::new(Counter::new(1, false));
    let first = Projections::open(store.clone(), vec![v1], fast())
        .await
        .map_err(err)?;
    caught_up(&first, &store).await?;
    let v1_id = first.id("counter").ok_or("id")?.clone();
    check(
        v1_id == Generation::first(1).id("counter"),
        format!("{v1_id:?}"),
    )?;
    drop(first);

    // Version 2 cannot start its count: it cannot catch up, so version 1 keeps serving, and
    // keeps applying new events.
    append(&store).await?;
    let v2 = Arc::new(Counter::new(2, true));
    let failing = v2.failing.clone();
    let second = Projections::open(store.clone(), vec![v2], fast())
        .await
        .map_err(err)?;
    caught_up(&second, &store).await?;
    wait_until("the new copy fails", || {
        second.statuses()[0]
            .rebuild
            .as_ref()
            .is_some_and(|r| r.failing.is_some())
    })
    .await?;
    let status = second.statuses()[0].clone();
    check(
        status.version == 1 && status.failing.is_none() && status.position == 6,
        format!("{status:?}"),
    )?;
    check(
        second.id("counter") == Some(&v1_id),
        "the old version serves",
    )?;
    check(
        total(&store, &v1_id).await? == Some(json!({"n": 6, "shape": 2})),
        "the old copy stays current",
    )?;
    let registered = serving::read(store.as_ref(), "counter")
        .await
        .map_err(err)?;
    check(
        registered == Some(Generation::first(1)),
        format!("{registered:?}"),
    )?;

    // Once the new copy can apply every event, it catches up and serves; the old copy goes.
    failing.store(false, Ordering::SeqCst);
    let v2_id = Generation::first(1).next(2).id("counter");
    wait_until("the new copy serves", || {
        second.id("counter") == Some(&v2_id)
    })
    .await?;
    check(second.statuses()[0].rebuild.is_none(), "no rebuild left")?;
    check(
        total(&store, &v2_id).await? == Some(json!({"n": 6, "shape": 2})),
        "the new copy has every event",
    )?;
    let registered = serving::read(store.as_ref(), "counter")
        .await
        .map_err(err)?;
    check(
        registered == Some(Generation::first(1).next(2)),
        format!("{registered:?}"),
    )?;
    append(&store).await?;
    caught_up(&second, &store).await?;
    check(
        total(&store, &v2_id).await? == Some(json!({"n": 7, "shape": 2})),
        "current",
    )?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    check(
        total(&store, &v1_id).await?.is_none(),
        "the old copy is dropped",
    )?;
    check(
        store.checkpoint(&v1_id).await.map_err(err)? == 0,
        "and its checkpoint",
    )?;

    // A restart serves the registered copy at once.
    drop(second);
    let third = Projections::open(
        store.clone(),
        vec![Arc::new(Counter::new(2, false))],
        fast(),
    )
    .await
    .map_err(err)?;
    check(third.id("counter") == Some(&v2_id), "the registered copy")?;
    check(third.statuses()[0].rebuild.is_none(), "nothing to rebuild")
}

async fn an_explicit_rebuild_switches_when_done(store: Arc<dyn Store>) -> Result<(), String> {
    for _ in 0..30 {
        append(&store).await?;
    }
    let counter = Arc::new(Counter::new(1, false));
    let running = Projections::open(store.clone(), vec![counter], fast())
        .await
        .map_err(err)?;
    caught_up(&running, &store).await?;
    let before = running.id("counter").ok_or("id")?.clone();

    let started = running.rebuild("counter").await.map_err(err)?;
    check(started.target == 30, format!("{started:?}"))?;
    check(
        started.from == Generation::first(1) && started.to == Generation::first(1).next(1),
        format!("{started:?}"),
    )?;
    match running.rebuild("counter").await {
        Err(RebuildError::InProgress(_)) => {}
        Ok(_) => {
            // The first one may already have finished: then a second is a new rebuild.
            check(
                running.statuses()[0].generation >= 1,
                "a second rebuild only after the first",
            )?;
        }
        Err(other) => return Err(other.to_string()),
    }
    check(
        matches!(running.rebuild("nope").await, Err(RebuildError::Unknown(_))),
        "unknown",
    )?;

    wait_until("the rebuilt copy serves", || {
        running.statuses()[0].generation >= 1 && running.statuses()[0].rebuild.is_none()
    })
    .await?;
    let after = running.id("counter").ok_or("id")?.clone();
    check(after != before, "a new copy")?;
    append(&store).await?;
    caught_up(&running, &store).await?;
    check(
        total(&store, &after).await? == Some(json!({"n": 31, "shape": 1})),
        "the rebuilt copy counts every event once",
    )
}

fn main() {
    let arguments = Arguments::from_args();
    let tests: Vec<(&str, Test)> = vec![
        ("every_rebuilt_read_model_equals_the_live_one", |s| {
            Box::pin(every_rebuilt_read_model_equals_the_live_one(s))
        }),
        ("a_repeated_rating_counts_once_as_the_latest", |s| {
            Box::pin(a_repeated_rating_counts_once_as_the_latest(s))
        }),
        ("old_schema_events_are_upcast_everywhere", |s| {
            Box::pin(old_schema_events_are_upcast_everywhere(s))
        }),
        ("a_new_version_serves_only_once_caught_up", |s| {
            Box::pin(a_new_version_serves_only_once_caught_up(s))
        }),
        ("an_explicit_rebuild_switches_when_done", |s| {
            Box::pin(an_explicit_rebuild_switches_when_done(s))
        }),
    ];
    let postgres = std::env::var(testing::DATABASE_URL).is_ok();
    let mut trials = Vec::new();
    for (name, test) in tests {
        trials.push(Trial::test(format!("sqlite::{name}"), move || {
            run_test(async move {
                let store = testing::sqlite().await;
                test(store.shared()).await
            })
        }));
        trials.push(
            Trial::test(format!("postgres::{name}"), move || {
                run_test(async move {
                    let store = testing::postgres().await.ok_or("DATABASE_URL is unset")?;
                    test(store.shared()).await
                })
            })
            .with_ignored_flag(!postgres),
        );
    }
    libtest_mimic::run(&arguments, trials).exit();
}

fn run_test(test: impl Future<Output = Result<(), String>>) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(e.to_string()))?;
    runtime.block_on(test).map_err(Failed::from)
}
