//! The projection runtime on a real store, SQLite always and PostgreSQL when `DATABASE_URL`
//! is set (otherwise those runs are reported as ignored).
//!
//! F1: events committed in any interleaving are all applied. F2: a failing handler holds the
//! checkpoint at its event. F3: two workers on one projection apply each event once. F18: a
//! restart neither skips nor repeats.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use claimdesk_projections::runtime::rebuild;
use claimdesk_projections::{Definition, Projection, ProjectionError, Projections};
use claimdesk_store::{
    testing, Document, ExpectedVersion, Metadata, NewEvent, ReadModelTx, RecordedEvent, Store,
};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::json;
use uuid::Uuid;

type Test = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Counts events in one document; fails on events whose data says `poison` while `failing`.
struct Counter {
    definition: Definition,
    failing: Arc<AtomicBool>,
    applied: Arc<AtomicU64>,
}

impl Counter {
    fn new(failing: bool) -> Counter {
        let definition = Definition::parse(
            "name = \"counter\"\nversion = 1\ndescription = \"test\"\n\
             [collections.counts]\nkey = \"total\"\n[collections.counts.fields]\nn = \"count\"\n",
        );
        Counter {
            definition,
            failing: Arc::new(AtomicBool::new(failing)),
            applied: Arc::new(AtomicU64::new(0)),
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
        if event.data["poison"] == json!(true) && self.failing.load(Ordering::SeqCst) {
            return Err(ProjectionError::Inconsistent("poisoned event".to_owned()));
        }
        let count = match tx.get("counts", "total").await? {
            Some(doc) => doc.body["n"].as_u64().unwrap_or(0),
            None => 0,
        };
        let mut positions = match tx.get("counts", "positions").await? {
            Some(doc) => doc.body,
            None => json!([]),
        };
        positions
            .as_array_mut()
            .expect("a list")
            .push(json!(event.position));
        let doc = |key: &str, body| Document {
            collection: "counts".to_owned(),
            key: key.to_owned(),
            partition: None,
            sort_key: None,
            body,
        };
        tx.put(doc("total", json!({"n": count + 1}))).await?;
        tx.put(doc("positions", positions)).await?;
        self.applied.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

async fn append(store: &Arc<dyn Store>, stream: &str, poison: bool) -> u64 {
    let meta = Metadata {
        actor: "test".into(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
    };
    let event = NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "Tick".into(),
        schema_version: 1,
        data: json!({"poison": poison}),
    };
    store
        .append(stream, ExpectedVersion::Any, &meta, vec![event])
        .await
        .expect("append")
        .position
}

async fn positions(store: &Arc<dyn Store>, counter: &Counter) -> Vec<u64> {
    let doc = store
        .get(&counter.definition.id(), "counts", "positions")
        .await
        .expect("get");
    let body = doc.map(|d| d.body).unwrap_or(json!([]));
    body.as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect()
}

fn check(condition: bool, what: impl Into<String>) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what.into())
    }
}

async fn failing_handler_holds_its_checkpoint(store: Arc<dyn Store>) -> Result<(), String> {
    for i in 1..=5 {
        append(&store, "s-1", i == 3).await;
    }
    let counter = Arc::new(Counter::new(true));
    let failing = counter.failing.clone();
    let projections = Projections::start(store.clone(), vec![counter.clone()]);

    // It stops at position 3, having applied 1 and 2, and says so.
    let mut stopped = false;
    for _ in 0..100 {
        let status = &projections.statuses()[0];
        if status.failing.as_ref().is_some_and(|f| f.position == 3) && status.position == 2 {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check(stopped, format!("status {:?}", projections.statuses()))?;
    check(
        !projections.wait_for(3, Duration::from_millis(200)).await,
        "not past the failure",
    )?;
    check(
        positions(&store, &counter).await == [1, 2],
        "applied before the failure",
    )?;
    let checkpoint = store
        .checkpoint(&counter.definition.id())
        .await
        .map_err(|e| e.to_string())?;
    check(checkpoint == 2, format!("checkpoint {checkpoint}"))?;

    // Once the handler recovers, it goes on from the failed event, skipping nothing.
    failing.store(false, Ordering::SeqCst);
    check(
        projections.wait_for(5, Duration::from_secs(20)).await,
        "caught up after recovery",
    )?;
    check(
        positions(&store, &counter).await == [1, 2, 3, 4, 5],
        "each event once, in order",
    )?;
    check(
        projections.statuses()[0].failing.is_none(),
        "failure cleared",
    )
}

async fn two_workers_apply_each_event_once(store: Arc<dyn Store>) -> Result<(), String> {
    let first = Arc::new(Counter::new(false));
    let second = Arc::new(Counter::new(false));
    let one = Projections::start(store.clone(), vec![first.clone()]);
    let two = Projections::start(store.clone(), vec![second.clone()]);

    let writers = (0..8).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..25 {
                append(&store, &format!("w-{w}"), false).await;
            }
        })
    });
    for writer in futures::future::join_all(writers).await {
        writer.map_err(|e| e.to_string())?;
    }
    let head = store.head().await.map_err(|e| e.to_string())?;
    check(head == 200, format!("head {head}"))?;
    check(
        one.wait_for(head, Duration::from_secs(30)).await,
        "first worker caught up",
    )?;
    check(
        two.wait_for(head, Duration::from_secs(30)).await,
        "second worker caught up",
    )?;

    let seen = positions(&store, &first).await;
    check(
        seen == (1..=200).collect::<Vec<_>>(),
        format!("each event once, in order: {seen:?}"),
    )?;
    let applied = first.applied.load(Ordering::SeqCst) + second.applied.load(Ordering::SeqCst);
    // Work a worker did in a transaction that lost the race was rolled back, so the handlers
    // may have run more often than 200 times; what was committed counts each event once.
    check(applied >= 200, format!("applied {applied}"))
}

async fn restart_neither_skips_nor_repeats(store: Arc<dyn Store>) -> Result<(), String> {
    let counter = Arc::new(Counter::new(false));
    for _ in 0..10 {
        append(&store, "r", false).await;
    }
    let running = Projections::start(store.clone(), vec![counter.clone()]);
    check(
        running.wait_for(10, Duration::from_secs(20)).await,
        "first run caught up",
    )?;
    drop(running);

    for _ in 0..10 {
        append(&store, "r", false).await;
    }
    let again = Projections::start(store.clone(), vec![counter.clone()]);
    check(
        again.wait_for(20, Duration::from_secs(20)).await,
        "second run caught up",
    )?;
    let seen = positions(&store, &counter).await;
    check(seen == (1..=20).collect::<Vec<_>>(), format!("{seen:?}"))
}

async fn rebuild_equals_live(store: Arc<dyn Store>) -> Result<(), String> {
    let live = Arc::new(Counter::new(false));
    for i in 0..30 {
        append(&store, &format!("s-{}", i % 4), false).await;
    }
    let running = Projections::start(store.clone(), vec![live.clone()]);
    check(
        running.wait_for(30, Duration::from_secs(20)).await,
        "caught up",
    )?;
    let before = positions(&store, &live).await;
    drop(running);

    let position = rebuild(&store, live.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    check(position == 30, format!("rebuilt to {position}"))?;
    check(
        positions(&store, &live).await == before,
        "the rebuilt documents equal the live ones",
    )
}

fn main() {
    let arguments = Arguments::from_args();
    let tests: Vec<(&str, Test)> = vec![
        ("failing_handler_holds_its_checkpoint", |s| {
            Box::pin(failing_handler_holds_its_checkpoint(s))
        }),
        ("two_workers_apply_each_event_once", |s| {
            Box::pin(two_workers_apply_each_event_once(s))
        }),
        ("restart_neither_skips_nor_repeats", |s| {
            Box::pin(restart_neither_skips_nor_repeats(s))
        }),
        ("rebuild_equals_live", |s| Box::pin(rebuild_equals_live(s))),
    ];
    let postgres = std::env::var(testing::DATABASE_URL).is_ok();
    let mut trials = Vec::new();
    for (name, test) in tests {
        trials.push(Trial::test(format!("sqlite::{name}"), move || {
            run(async move {
                let store = testing::sqlite().await;
                test(store.shared()).await
            })
        }));
        trials.push(
            Trial::test(format!("postgres::{name}"), move || {
                run(async move {
                    let store = testing::postgres().await.ok_or("DATABASE_URL is unset")?;
                    test(store.shared()).await
                })
            })
            .with_ignored_flag(!postgres),
        );
    }
    libtest_mimic::run(&arguments, trials).exit();
}

fn run(test: impl Future<Output = Result<(), String>>) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failed::from(e.to_string()))?;
    runtime.block_on(test).map_err(Failed::from)
}
