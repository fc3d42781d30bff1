//! Concurrent appends: optimistic concurrency on one stream, and a global order that a
//! subscriber can follow without ever missing an event.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use claimdesk_store::hash::verify_chain;
use claimdesk_store::{ExpectedVersion, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::fixture::{events, metadata, Fixture, Outcome};

pub async fn racing_creators_have_one_winner(f: Fixture) {
    const RACERS: usize = 16;
    let barrier = Arc::new(Barrier::new(RACERS));

    let mut racers = Vec::new();
    for _ in 0..RACERS {
        let (store, barrier) = (f.store.clone(), barrier.clone());
        racers.push(tokio::spawn(async move {
            let batch = events(1);
            let id = batch[0].event_id;
            barrier.wait().await;
            let md = metadata("client");
            (
                id,
                store
                    .append("race", ExpectedVersion::NoStream, &md, batch)
                    .await,
            )
        }));
    }

    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (id, Ok(appended)) => winners.push((id, appended.version)),
            (_, Err(StoreError::WrongExpectedVersion { actual, .. })) => assert_eq!(actual, 1),
            (_, Err(other)) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stream = f.store.read_stream("race").await.unwrap();
    assert_eq!(stream.len(), 1);
    assert_eq!((stream[0].event_id, stream[0].version), (winners[0].0, 1));
}

/// What one attempt of [`contended_stream_has_one_winner_per_version`] did.
struct Attempt {
    expected: u64,
    event_id: Uuid,
    result: Result<u64, StoreError>,
}

pub async fn contended_stream_has_one_winner_per_version(f: Fixture) {
    const WRITERS: usize = 12;
    const WINS_EACH: usize = 5;

    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let store = f.store.clone();
        writers.push(tokio::spawn(async move {
            let md = metadata("agent");
            let mut attempts = Vec::new();
            let mut wins = 0;
            while wins < WINS_EACH {
                let expected = store.read_stream("contended").await.unwrap().len() as u64;
                let batch = events(1);
                let event_id = batch[0].event_id;
                let result = store
                    .append("contended", ExpectedVersion::Exact(expected), &md, batch)
                    .await
                    .map(|appended| appended.version);
                wins += usize::from(result.is_ok());
                attempts.push(Attempt {
                    expected,
                    event_id,
                    result,
                });
            }
            attempts
        }));
    }

    let mut winners: HashMap<u64, Uuid> = HashMap::new();
    let mut conflicts = 0;
    for writer in writers {
        for attempt in writer.await.unwrap() {
            match attempt.result {
                Ok(version) => {
                    assert_eq!(version, attempt.expected + 1);
                    let previous = winners.insert(version, attempt.event_id);
                    assert!(previous.is_none(), "two winners for version {version}");
                }
                Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                    assert!(
                        actual > attempt.expected,
                        "{actual} vs {}",
                        attempt.expected
                    );
                    conflicts += 1;
                }
                Err(other) => panic!("a failure other than a conflict: {other:?}"),
            }
        }
    }

    let total = (WRITERS * WINS_EACH) as u64;
    assert_eq!(winners.len() as u64, total);
    let stream = f.store.read_stream("contended").await.unwrap();
    assert_eq!(
        stream.len() as u64,
        total,
        "every success is stored, nothing else"
    );
    for event in &stream {
        assert_eq!(
            winners.get(&event.version),
            Some(&event.event_id),
            "version {}",
            event.version
        );
    }
    verify_chain(&stream).unwrap();
    assert!(
        conflicts > 0,
        "the writers never raced: the test proved nothing"
    );
}

/// One append of [`subscriber_sees_every_commit_once_in_order`], as its writer saw it end.
struct Written {
    ids: Vec<Uuid>,
    committed: bool,
    /// The position of the batch's last event, for committed appends.
    position: u64,
}

pub async fn subscriber_sees_every_commit_once_in_order(f: Fixture) {
    const WRITERS: usize = 16;
    const APPENDS_EACH: usize = 50;
    let seed: u64 = rand::rng().random();
    println!("{}: seed {seed}", f.kind().name());

    let f = Arc::new(f);
    let writing = Arc::new(AtomicBool::new(true));
    let subscriber = tokio::spawn(follow(f.clone(), writing.clone()));

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let f = f.clone();
        writers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ w as u64);
            write(&f, &format!("gap-{w}"), APPENDS_EACH, &mut rng).await
        }));
    }
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    writing.store(false, Ordering::SeqCst);
    let followed = subscriber.await.unwrap();

    // The subscriber never met a hole nor a step back...
    assert!(
        followed.out_of_order.is_empty(),
        "{:?}",
        &followed.out_of_order[..]
    );
    // ...and saw exactly the committed events, once each.
    let committed: HashMap<Uuid, u64> = written
        .iter()
        .filter(|w| w.committed)
        .flat_map(|w| {
            let first = w.position + 1 - w.ids.len() as u64;
            w.ids
                .iter()
                .enumerate()
                .map(move |(i, id)| (*id, first + i as u64))
        })
        .collect();
    let rolled_back: HashSet<Uuid> = written
        .iter()
        .filter(|w| !w.committed)
        .flat_map(|w| w.ids.clone())
        .collect();
    let seen: HashMap<Uuid, u64> = followed.seen.iter().copied().collect();
    assert_eq!(seen.len(), followed.seen.len(), "an event was seen twice");
    assert!(
        seen.keys().all(|id| !rolled_back.contains(id)),
        "a rolled-back event was seen"
    );
    assert_eq!(
        seen, committed,
        "seen events and their positions are the committed ones"
    );

    let total = committed.len() as u64;
    assert_eq!(f.store.head().await.unwrap(), total);
    let last = followed.seen.last().map(|(_, p)| *p);
    assert_eq!(last, Some(total), "positions run 1..={total} with no hole");

    // The run exercised what it claims to.
    assert!(!rolled_back.is_empty() && written.iter().filter(|w| w.committed).count() > 100);
    assert!(
        followed.batches_while_writing > 1,
        "the subscriber never overlapped the writers"
    );
    for w in 0..WRITERS {
        verify_chain(&f.store.read_stream(&format!("gap-{w}")).await.unwrap()).unwrap();
    }
}

/// `appends` appends to `stream`: half plain, a quarter committed after holding the
/// transaction open a few milliseconds, a quarter rolled back after a hold.
async fn write(f: &Fixture, stream: &str, appends: usize, rng: &mut StdRng) -> Vec<Written> {
    let md = metadata("writer");
    let mut version = 0;
    let mut written = Vec::new();

    for _ in 0..appends {
        let batch = events(rng.random_range(1..=3));
        let ids: Vec<Uuid> = batch.iter().map(|e| e.event_id).collect();
        let expected = ExpectedVersion::Exact(version);
        let hold = Duration::from_micros(rng.random_range(0..4_000));

        let (result, committed) = match rng.random_range(0..4) {
            0 | 1 => (f.store.append(stream, expected, &md, batch).await, true),
            2 => (
                f.append_held(stream, expected, &md, batch, hold, Outcome::Commit)
                    .await,
                true,
            ),
            _ => (
                f.append_held(stream, expected, &md, batch, hold, Outcome::Rollback)
                    .await,
                false,
            ),
        };
        let appended = result.unwrap_or_else(|e| panic!("{stream} at {version}: {e:?}"));
        if committed {
            version = appended.version;
        }
        written.push(Written {
            ids,
            committed,
            position: appended.position,
        });
    }
    written
}

#[derive(Default)]
struct Followed {
    /// Every event read, with its position, in reading order.
    seen: Vec<(Uuid, u64)>,
    /// `(expected, found)` whenever a position was not the one after the last seen.
    out_of_order: Vec<(u64, u64)>,
    batches_while_writing: usize,
}

/// Follows the global order in a tight loop until the writers are done and it caught up.
async fn follow(f: Arc<Fixture>, writing: Arc<AtomicBool>) -> Followed {
    let mut followed = Followed::default();
    let mut last = 0;
    loop {
        // Read the flag first: a batch read after it turned false holds every commit.
        let done = !writing.load(Ordering::SeqCst);
        let batch = f.store.read_all(last, 64).await.unwrap();
        if batch.is_empty() {
            if done {
                return followed;
            }
            tokio::task::yield_now().await;
            continue;
        }
        if !done {
            followed.batches_while_writing += 1;
        }
        for event in batch {
            if event.position != last + 1 {
                followed.out_of_order.push((last + 1, event.position));
            }
            last = event.position;
            followed.seen.push((event.event_id, event.position));
        }
    }
}

pub async fn two_instances_share_one_order(f: Fixture) {
    // Two handles on one database, as two service instances (or processes) would have.
    const TASKS: usize = 8;
    const APPENDS_EACH: usize = 25;
    let second = f.reopen().await.expect("a backend that can be reopened");
    let stores = [f.store.clone(), second];

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = stores[t % 2].clone();
        tasks.push(tokio::spawn(async move {
            let md = metadata("writer");
            let stream = format!("instance-{t}");
            for version in 0..APPENDS_EACH as u64 {
                let expected = ExpectedVersion::Exact(version);
                store
                    .append(&stream, expected, &md, events(1))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let total = (TASKS * APPENDS_EACH) as u64;
    for store in &stores {
        assert_eq!(store.head().await.unwrap(), total);
        let positions: Vec<u64> = store
            .read_all(0, 1_000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.position)
            .collect();
        assert_eq!(positions, (1..=total).collect::<Vec<_>>());
    }
    for t in 0..TASKS {
        let stream = stores[0]
            .read_stream(&format!("instance-{t}"))
            .await
            .unwrap();
        assert_eq!(stream.len(), APPENDS_EACH);
        verify_chain(&stream).unwrap();
    }
}
