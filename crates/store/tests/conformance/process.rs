//! The process manager's outbox and timers: written with the checkpoint, once per delivery
//! key, leased to one claimer at a time, replayable in event order.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use claimdesk_store::process::outbox_id;
use claimdesk_store::{OutboxMessage, OutboxStatus, Requeue, Store, StoreError, Timer};
use serde_json::json;
use tokio::sync::Barrier;
use uuid::Uuid;

use crate::fixture::{now, projection, Fixture};

fn message(event_id: Uuid, template: &str, recipient: &str) -> OutboxMessage {
    OutboxMessage {
        event_id,
        template: template.to_owned(),
        recipient: recipient.to_owned(),
        stream_id: "claim-1".to_owned(),
        position: 3,
        language: "ar".to_owned(),
        message_id: format!("<{}@test>", outbox_id(event_id, template, recipient)),
        subject: "تم تسجيل الشكاية \u{2068}RC-1\u{2069}".to_owned(),
        body_text: "نص".to_owned(),
        body_html: "<p dir=\"rtl\">نص</p>".to_owned(),
    }
}

fn timer(stream: &str, kind: &str, position: u64, due_in_minutes: i64) -> Timer {
    Timer {
        stream_id: stream.to_owned(),
        kind: kind.to_owned(),
        due_at: now() + Duration::minutes(due_in_minutes),
        cause_event_id: Uuid::new_v4(),
        correlation_id: Uuid::new_v4(),
        position,
        payload: json!({"position": position}),
    }
}

async fn count(store: &Arc<dyn Store>, status: OutboxStatus) -> u64 {
    let counts = store.outbox_counts().await.unwrap();
    counts.into_iter().find(|(s, _)| *s == status).unwrap().1
}

pub async fn outbox_and_timers_commit_with_the_checkpoint(f: Fixture) {
    let store = &f.store;
    let p = projection("process_manager", 1);
    let event = Uuid::new_v4();

    // Dropped without commit: nothing.
    let mut tx = store.begin(&p, 0).await.unwrap();
    tx.enqueue(message(event, "filed", "a@example.ma"))
        .await
        .unwrap();
    tx.schedule(timer("claim-1", "auto_close", 3, 60))
        .await
        .unwrap();
    drop(tx);
    assert!(store.outbox_list(None, 10).await.unwrap().is_empty());
    assert!(store.timers_list(None).await.unwrap().is_empty());

    // Two workers from the same checkpoint: only the winner's outbox and timers are written.
    let mut winner = store.begin(&p, 0).await.unwrap();
    let mut loser = store.begin(&p, 0).await.unwrap();
    winner
        .enqueue(message(event, "filed", "a@example.ma"))
        .await
        .unwrap();
    winner
        .schedule(timer("claim-1", "auto_close", 3, 60))
        .await
        .unwrap();
    loser
        .enqueue(message(Uuid::new_v4(), "filed", "b@example.ma"))
        .await
        .unwrap();
    loser
        .schedule(timer("claim-2", "auto_close", 4, 60))
        .await
        .unwrap();
    winner.commit(3).await.unwrap();
    let lost = loser.commit(4).await;
    assert!(
        matches!(lost, Err(StoreError::CheckpointMoved { .. })),
        "{lost:?}"
    );

    let queued = store.outbox_list(None, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    let entry = &queued[0];
    assert_eq!(entry.message, message(event, "filed", "a@example.ma"));
    assert_eq!(entry.id, outbox_id(event, "filed", "a@example.ma"));
    assert_eq!(entry.status, OutboxStatus::Pending);
    assert_eq!((entry.attempts, entry.next_attempt_at), (0, None));
    let timers = store.timers_list(None).await.unwrap();
    assert_eq!(timers.len(), 1);
    assert_eq!(timers[0].stream_id, "claim-1");
    assert_eq!(store.timers_list(Some("claim-2")).await.unwrap(), vec![]);

    // Invalid messages and timers are refused when made, not at commit.
    let mut tx = store.begin(&p, 3).await.unwrap();
    assert!(tx
        .enqueue(message(event, "", "a@example.ma"))
        .await
        .is_err());
    assert!(tx.schedule(timer("claim-1", "", 5, 1)).await.is_err());
}

/// F3: the same event delivered twice queues its email once, whether the second time is in
/// the same unit of work, a later one, or a replay from scratch.
pub async fn a_delivery_key_is_queued_once(f: Fixture) {
    let store = &f.store;
    let p = projection("process_manager", 1);
    let event = Uuid::new_v4();

    let mut tx = store.begin(&p, 0).await.unwrap();
    for _ in 0..2 {
        tx.enqueue(message(event, "filed", "a@example.ma"))
            .await
            .unwrap();
    }
    tx.enqueue(message(event, "new_claim", "entity@example.ma"))
        .await
        .unwrap();
    tx.commit(3).await.unwrap();

    let mut again = message(event, "filed", "a@example.ma");
    again.subject = "rendered differently the second time".to_owned();
    let mut tx = store.begin(&p, 3).await.unwrap();
    tx.enqueue(again).await.unwrap();
    tx.commit(4).await.unwrap();

    store.drop_projection(&p).await.unwrap();
    let mut replay = store.begin(&p, 0).await.unwrap();
    replay
        .enqueue(message(event, "filed", "a@example.ma"))
        .await
        .unwrap();
    replay.commit(4).await.unwrap();

    let queued = store.outbox_list(None, 10).await.unwrap();
    let keys: Vec<_> = queued
        .iter()
        .map(|e| (e.message.template.as_str(), e.message.recipient.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("filed", "a@example.ma"),
            ("new_claim", "entity@example.ma")
        ]
    );
    assert_eq!(
        queued[0].message.subject,
        message(event, "filed", "a@example.ma").subject,
        "the first one stays"
    );
    assert_eq!(count(store, OutboxStatus::Pending).await, 2);
}

pub async fn timers_follow_event_order(f: Fixture) {
    let store = &f.store;
    let p = projection("process_manager", 1);

    // A later event's timer replaces an earlier one; an earlier one never replaces a later.
    let mut tx = store.begin(&p, 0).await.unwrap();
    let later = timer("claim-1", "auto_close", 10, 60);
    tx.schedule(later.clone()).await.unwrap();
    tx.schedule(timer("claim-1", "auto_close", 5, 30))
        .await
        .unwrap();
    tx.schedule(timer("claim-1", "reminder", 10, 20))
        .await
        .unwrap();
    tx.schedule(timer("claim-2", "auto_close", 11, 90))
        .await
        .unwrap();
    tx.commit(11).await.unwrap();
    let timers = store.timers_list(Some("claim-1")).await.unwrap();
    assert_eq!(timers.len(), 2, "{timers:?}");
    assert_eq!(
        timers[1], later,
        "earliest first, the later event's timer kept"
    );

    // A cancellation removes only the timers set before it, of its stream.
    let mut tx = store.begin(&p, 11).await.unwrap();
    tx.cancel_timers("claim-1", 8).await.unwrap();
    tx.commit(12).await.unwrap();
    assert_eq!(store.timers_list(Some("claim-1")).await.unwrap().len(), 2);
    let mut tx = store.begin(&p, 12).await.unwrap();
    tx.cancel_timers("claim-1", 13).await.unwrap();
    tx.commit(13).await.unwrap();
    assert!(store.timers_list(Some("claim-1")).await.unwrap().is_empty());
    assert_eq!(
        store.timers_list(None).await.unwrap().len(),
        1,
        "claim-2's stays"
    );

    // Within a unit of work, the order of the changes counts.
    let mut tx = store.begin(&p, 13).await.unwrap();
    tx.schedule(timer("claim-3", "auto_close", 14, 60))
        .await
        .unwrap();
    tx.cancel_timers("claim-3", 15).await.unwrap();
    tx.cancel_timers("claim-4", 16).await.unwrap();
    let kept = timer("claim-4", "auto_close", 17, 60);
    tx.schedule(kept.clone()).await.unwrap();
    tx.commit(17).await.unwrap();
    assert!(store.timers_list(Some("claim-3")).await.unwrap().is_empty());
    assert_eq!(
        store.timers_list(Some("claim-4")).await.unwrap(),
        vec![kept]
    );
}

pub async fn leases_give_each_message_to_one_claimer(f: Fixture) {
    const MESSAGES: usize = 24;
    const CLAIMERS: usize = 4;
    let store = &f.store;
    let p = projection("process_manager", 1);
    let mut tx = store.begin(&p, 0).await.unwrap();
    for i in 0..MESSAGES {
        tx.enqueue(message(
            Uuid::new_v4(),
            "filed",
            &format!("c{i}@example.ma"),
        ))
        .await
        .unwrap();
    }
    tx.commit(1).await.unwrap();

    let t = now();
    let barrier = Arc::new(Barrier::new(CLAIMERS));
    let mut claimers = Vec::new();
    for c in 0..CLAIMERS {
        let (store, barrier) = (f.store.clone(), barrier.clone());
        claimers.push(tokio::spawn(async move {
            barrier.wait().await;
            let owner = format!("claimer-{c}");
            let mut got = Vec::new();
            loop {
                let batch = store
                    .outbox_claim(&owner, t, t + Duration::minutes(5), 5)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return (owner, got);
                }
                got.extend(batch.into_iter().map(|e| e.id));
            }
        }));
    }
    let mut seen = BTreeSet::new();
    let mut holders = Vec::new();
    for claimer in claimers {
        let (owner, ids) = claimer.await.unwrap();
        for id in &ids {
            assert!(seen.insert(id.clone()), "{id} was claimed twice");
        }
        holders.push((owner, ids));
    }
    assert_eq!(seen.len(), MESSAGES, "every message was claimed");

    // Only the holder records the outcome.
    let (owner, ids) = holders.iter().find(|(_, ids)| !ids.is_empty()).unwrap();
    let id = &ids[0];
    assert!(!store.outbox_sent(id, "someone-else", t).await.unwrap());
    assert!(!store.outbox_park(id, "someone-else", "nope").await.unwrap());
    assert!(store.outbox_sent(id, owner, t).await.unwrap());
    assert!(!store.outbox_sent(id, owner, t).await.unwrap(), "once");

    // Until the leases end nobody gets the others; then someone does.
    let early = t + Duration::minutes(4);
    let none = store
        .outbox_claim("late", early, early + Duration::minutes(5), 100)
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let after = t + Duration::minutes(5);
    let taken = store
        .outbox_claim("late", after, after + Duration::minutes(5), 100)
        .await
        .unwrap();
    assert_eq!(taken.len(), MESSAGES - 1, "the sent one is not pending");
    let first_holder = holders
        .iter()
        .find(|(_, ids)| ids.contains(&taken[0].id))
        .map(|(owner, _)| owner.clone())
        .unwrap();
    assert!(
        !store
            .outbox_sent(&taken[0].id, &first_holder, after)
            .await
            .unwrap(),
        "a lease that was taken over is lost"
    );
    let order: Vec<_> = taken.iter().map(|e| e.message.recipient.clone()).collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|r| r[1..r.find('@').unwrap()].parse::<usize>().unwrap());
    assert_eq!(order, sorted, "claimed in queue order");
}

pub async fn delivery_outcomes_are_recorded(f: Fixture) {
    let store = &f.store;
    let p = projection("process_manager", 1);
    let event = Uuid::new_v4();
    let mut tx = store.begin(&p, 0).await.unwrap();
    tx.enqueue(message(event, "filed", "a@example.ma"))
        .await
        .unwrap();
    tx.commit(1).await.unwrap();
    let id = outbox_id(event, "filed", "a@example.ma");

    let t = now();
    let lease = t + Duration::minutes(5);
    assert_eq!(
        store.outbox_claim("s", t, lease, 10).await.unwrap().len(),
        1
    );
    let retry_at = t + Duration::seconds(30);
    assert!(store
        .outbox_retry_later(&id, "s", "451 try later", retry_at)
        .await
        .unwrap());
    let entry = store.outbox_get(&id).await.unwrap().unwrap();
    assert_eq!(entry.status, OutboxStatus::Pending);
    assert_eq!(entry.attempts, 1);
    assert_eq!(entry.next_attempt_at, Some(retry_at));
    assert_eq!(entry.last_error.as_deref(), Some("451 try later"));
    assert_eq!(entry.lease_until, None, "freed");

    // Not before its time, whoever asks.
    let early = retry_at - Duration::microseconds(1);
    assert!(store
        .outbox_claim("s", early, lease, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .outbox_claim("s", retry_at, lease, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.outbox_park(&id, "s", "550 refused").await.unwrap());
    let parked = store.outbox_get(&id).await.unwrap().unwrap();
    assert_eq!((parked.status, parked.attempts), (OutboxStatus::Parked, 2));
    assert_eq!(parked.last_error.as_deref(), Some("550 refused"));
    assert!(store
        .outbox_claim("s", t + Duration::days(30), lease + Duration::days(30), 10)
        .await
        .unwrap()
        .is_empty());
    let listed = store
        .outbox_list(Some(OutboxStatus::Parked), 10)
        .await
        .unwrap();
    assert_eq!(listed, vec![parked.clone()]);
    assert!(store
        .outbox_list(Some(OutboxStatus::Sent), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(count(store, OutboxStatus::Parked).await, 1);
    assert_eq!(count(store, OutboxStatus::Pending).await, 0);

    // An administrator puts it back; it is delivered.
    match store.outbox_requeue(&id).await.unwrap() {
        Requeue::Requeued(entry) => {
            assert_eq!((entry.status, entry.attempts), (OutboxStatus::Pending, 0))
        }
        other => panic!("expected Requeued, got {other:?}"),
    }
    assert!(matches!(
        store.outbox_requeue(&id).await.unwrap(),
        Requeue::NotParked(_)
    ));
    assert_eq!(
        store.outbox_requeue("unknown").await.unwrap(),
        Requeue::NotFound
    );
    assert_eq!(
        store.outbox_claim("s", t, lease, 10).await.unwrap().len(),
        1
    );
    let sent_at = t + Duration::seconds(1);
    assert!(store.outbox_sent(&id, "s", sent_at).await.unwrap());
    let sent = store.outbox_get(&id).await.unwrap().unwrap();
    assert_eq!(sent.status, OutboxStatus::Sent);
    assert_eq!((sent.attempts, sent.sent_at), (1, Some(sent_at)));
    assert_eq!(sent.last_error, None);
    assert_eq!(count(store, OutboxStatus::Sent).await, 1);
    assert_eq!(store.outbox_get("unknown").await.unwrap(), None);
}

pub async fn due_timers_fire_once(f: Fixture) {
    let store = &f.store;
    let p = projection("process_manager", 1);
    let first = timer("claim-1", "reminder", 3, 10);
    let second = timer("claim-2", "auto_close", 4, 20);
    let mut tx = store.begin(&p, 0).await.unwrap();
    tx.schedule(second.clone()).await.unwrap();
    tx.schedule(first.clone()).await.unwrap();
    tx.commit(4).await.unwrap();

    let t = now();
    let lease = |at| at + Duration::minutes(5);
    assert!(store
        .timers_claim("a", t, lease(t), 10)
        .await
        .unwrap()
        .is_empty());

    // Due: of several claimers, one holds it.
    let due = first.due_at;
    let (a, b) = tokio::join!(
        store.timers_claim("a", due, lease(due), 10),
        store.timers_claim("b", due, lease(due), 10),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 1, "{a:?} {b:?}");
    let held = a.into_iter().chain(b).next().unwrap();
    assert_eq!((held.timer.clone(), held.attempts), (first.clone(), 0));

    // Done: removed and its message queued, once.
    let reminder = message(first.cause_event_id, "reminder", "a@example.ma");
    assert!(store.timer_done(&first, Some(&reminder)).await.unwrap());
    assert!(!store.timer_done(&first, Some(&reminder)).await.unwrap());
    assert_eq!(store.outbox_list(None, 10).await.unwrap().len(), 1);

    // A failure frees it until its retry time.
    let later = second.due_at;
    let held = store
        .timers_claim("a", later, lease(later), 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let retry_at = later + Duration::seconds(30);
    assert!(store.timer_retry_later(&second, retry_at).await.unwrap());
    assert!(store
        .timers_claim("b", later + Duration::seconds(29), lease(later), 10)
        .await
        .unwrap()
        .is_empty());
    let again = store
        .timers_claim("b", retry_at, lease(retry_at), 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 1);

    // Cancelled while held: completing it queues nothing.
    let mut tx = store.begin(&p, 4).await.unwrap();
    tx.cancel_timers("claim-2", 5).await.unwrap();
    tx.commit(5).await.unwrap();
    let late = message(second.cause_event_id, "reminder", "b@example.ma");
    assert!(!store.timer_done(&second, Some(&late)).await.unwrap());
    assert!(!store.timer_retry_later(&second, retry_at).await.unwrap());
    assert_eq!(store.outbox_list(None, 10).await.unwrap().len(), 1);
    assert!(store.timers_list(None).await.unwrap().is_empty());

    // Replaced by a later answer while held: the old one's completion leaves the new one.
    let old = timer("claim-3", "auto_close", 6, 0);
    let mut tx = store.begin(&p, 5).await.unwrap();
    tx.schedule(old.clone()).await.unwrap();
    tx.commit(6).await.unwrap();
    let mut tx = store.begin(&p, 6).await.unwrap();
    let new = timer("claim-3", "auto_close", 7, 60);
    tx.schedule(new.clone()).await.unwrap();
    tx.commit(7).await.unwrap();
    assert!(!store.timer_done(&old, None).await.unwrap());
    assert_eq!(store.timers_list(Some("claim-3")).await.unwrap(), vec![new]);
}
