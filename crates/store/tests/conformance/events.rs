//! Appending and reading: the envelope, expected versions, atomicity, global order.

use std::collections::HashSet;
use std::time::Duration;

use claimdesk_store::hash::verify_chain;
use claimdesk_store::{ExpectedVersion, Metadata, StoreError};
use serde_json::json;
use uuid::Uuid;

use crate::fixture::{assert_conflict, event, events, metadata, now, Fixture};

pub async fn append_and_read_round_trip(f: Fixture) {
    let store = &f.store;
    let before = now();

    let cause = Uuid::new_v4();
    let filed = Metadata {
        actor: "client".to_owned(),
        correlation_id: Uuid::new_v4(),
        causation_id: Some(cause),
    };
    let data = json!({
        "zeta": 1,
        "alpha": {"nested": [1, 2.5, -3, "é", null, true, {}]},
        "big": u64::MAX,
        "text": "line\nbreak \"quoted\" \u{1F642} \u{0627}\u{0644}",
    });
    let mut first = event("ClaimFiled", data.clone());
    first.schema_version = 3;
    let second = event("ClaimRouted", json!({"entity": "OMPIC-RABAT"}));
    let (first_id, second_id) = (first.event_id, second.event_id);

    let one = store
        .append(
            "claim-1",
            ExpectedVersion::NoStream,
            &filed,
            vec![first, second],
        )
        .await
        .unwrap();
    assert_eq!((one.version, one.position), (2, 2));

    let other = metadata("agent:amina");
    let two = store
        .append("claim-2", ExpectedVersion::Any, &other, events(1))
        .await
        .unwrap();
    assert_eq!((two.version, two.position), (1, 3));
    let three = store
        .append("claim-1", ExpectedVersion::Exact(2), &other, events(1))
        .await
        .unwrap();
    assert_eq!((three.version, three.position), (3, 4));
    let after = now();

    let stream = store.read_stream("claim-1").await.unwrap();
    assert_eq!(stream.len(), 3);
    let (e1, e2, e3) = (&stream[0], &stream[1], &stream[2]);

    assert_eq!((e1.event_id, e2.event_id), (first_id, second_id));
    assert!(stream.iter().all(|e| e.stream_id == "claim-1"));
    assert_eq!([e1.version, e2.version, e3.version], [1, 2, 3]);
    assert_eq!([e1.position, e2.position, e3.position], [1, 2, 4]);
    assert_eq!(
        (e1.event_type.as_str(), e2.event_type.as_str()),
        ("ClaimFiled", "ClaimRouted")
    );
    assert_eq!((e1.schema_version, e2.schema_version), (3, 1));
    assert_eq!(e1.data, data);
    assert_eq!(e2.data, json!({"entity": "OMPIC-RABAT"}));
    assert_eq!(e3.data, json!({"n": 0}));

    assert_eq!(
        (e1.actor.as_str(), e3.actor.as_str()),
        ("client", "agent:amina")
    );
    assert_eq!(
        (e1.correlation_id, e2.correlation_id),
        (filed.correlation_id, filed.correlation_id)
    );
    assert_eq!(e3.correlation_id, other.correlation_id);
    assert_eq!((e1.causation_id, e3.causation_id), (Some(cause), None));

    for e in &stream {
        assert_eq!(
            e.recorded_at.timestamp_subsec_nanos() % 1_000,
            0,
            "whole microseconds"
        );
        assert!(
            before <= e.recorded_at && e.recorded_at <= after,
            "{}",
            e.recorded_at
        );
    }
    assert_eq!(e1.recorded_at, e2.recorded_at, "one append, one time");

    assert_eq!(e1.prev_hash, None);
    assert_eq!(e2.prev_hash.as_ref(), Some(&e1.hash));
    assert_eq!(e3.prev_hash.as_ref(), Some(&e2.hash));
    verify_chain(&stream).unwrap();

    // The global order returns the very same events.
    let all = store.read_all(0, 100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0], *e1);
    assert_eq!(all[1], *e2);
    assert_eq!(all[3], *e3);
    assert_eq!(
        (all[2].stream_id.as_str(), all[2].actor.as_str()),
        ("claim-2", "agent:amina")
    );

    assert!(store.read_stream("claim-404").await.unwrap().is_empty());
    assert_eq!(store.head().await.unwrap(), 4);
}

pub async fn expected_versions(f: Fixture) {
    let store = &f.store;
    let md = metadata("client");

    let created = store
        .append("s", ExpectedVersion::NoStream, &md, events(1))
        .await
        .unwrap();
    assert_eq!(created.version, 1);

    assert_conflict(
        store
            .append("s", ExpectedVersion::NoStream, &md, events(1))
            .await,
        1,
    );
    assert_conflict(
        store
            .append("s", ExpectedVersion::Exact(0), &md, events(1))
            .await,
        1,
    );
    assert_conflict(
        store
            .append("s", ExpectedVersion::Exact(2), &md, events(1))
            .await,
        1,
    );
    match store
        .append("s", ExpectedVersion::Exact(5), &md, events(1))
        .await
    {
        Err(StoreError::WrongExpectedVersion {
            stream,
            expected,
            actual,
        }) => {
            assert_eq!(
                (stream.as_str(), expected, actual),
                ("s", ExpectedVersion::Exact(5), 1)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.read_stream("s").await.unwrap().len(),
        1,
        "conflicts store nothing"
    );
    assert_eq!(store.head().await.unwrap(), 1, "conflicts use no position");

    let exact = store
        .append("s", ExpectedVersion::Exact(1), &md, events(1))
        .await
        .unwrap();
    assert_eq!((exact.version, exact.position), (2, 2));
    let any = store
        .append("s", ExpectedVersion::Any, &md, events(2))
        .await
        .unwrap();
    assert_eq!((any.version, any.position), (4, 4));

    // Exact(0) is NoStream; Any creates a stream too.
    assert_eq!(
        store
            .append("t", ExpectedVersion::Exact(0), &md, events(1))
            .await
            .unwrap()
            .version,
        1
    );
    assert_conflict(
        store
            .append("u", ExpectedVersion::Exact(1), &md, events(1))
            .await,
        0,
    );
    assert_eq!(
        store
            .append("u", ExpectedVersion::Any, &md, events(1))
            .await
            .unwrap()
            .version,
        1
    );
}

pub async fn multi_event_append_is_atomic(f: Fixture) {
    let store = &f.store;
    let md = metadata("client");

    let batch = store
        .append("claim", ExpectedVersion::NoStream, &md, events(3))
        .await
        .unwrap();
    assert_eq!((batch.version, batch.position), (3, 3));

    let refused = events(3);
    let refused_ids: HashSet<Uuid> = refused.iter().map(|e| e.event_id).collect();
    assert_conflict(
        store
            .append("claim", ExpectedVersion::Exact(1), &md, refused)
            .await,
        3,
    );

    assert_eq!(store.read_stream("claim").await.unwrap().len(), 3);
    assert_eq!(store.head().await.unwrap(), 3);
    let all = store.read_all(0, 100).await.unwrap();
    assert!(all.iter().all(|e| !refused_ids.contains(&e.event_id)));

    // The refused batch took no positions: the next one continues right after.
    let next = store
        .append("claim", ExpectedVersion::Exact(3), &md, events(2))
        .await
        .unwrap();
    assert_eq!((next.version, next.position), (5, 5));
    let positions: Vec<u64> = store
        .read_all(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(positions, [1, 2, 3, 4, 5]);
}

pub async fn duplicate_event_id_is_refused(f: Fixture) {
    let store = &f.store;
    let md = metadata("client");

    let original = event("ClaimFiled", json!({"n": 1}));
    let id = original.event_id;
    store
        .append("a", ExpectedVersion::NoStream, &md, vec![original.clone()])
        .await
        .unwrap();

    // A batch carrying a stored id is refused whole, wherever the id sits in it.
    let fresh = event("Noted", json!({}));
    let fresh_id = fresh.event_id;
    let batch = vec![fresh, original.clone()];
    match store.append("b", ExpectedVersion::Any, &md, batch).await {
        Err(StoreError::DuplicateEvent { event_id }) => assert_eq!(event_id, id),
        other => panic!("{other:?}"),
    }
    assert!(store.read_stream("b").await.unwrap().is_empty());
    let all = store.read_all(0, 100).await.unwrap();
    assert!(all.iter().all(|e| e.event_id != fresh_id));

    // The same id twice in one batch.
    let twice = event("Noted", json!({}));
    let twice_id = twice.event_id;
    let refused = store
        .append("c", ExpectedVersion::Any, &md, vec![twice.clone(), twice])
        .await;
    assert!(
        matches!(refused, Err(StoreError::DuplicateEvent { event_id }) if event_id == twice_id)
    );

    // A retry of a committed append is told it is a duplicate, even at the version it expected.
    for expected in [ExpectedVersion::Any, ExpectedVersion::NoStream] {
        let retry = store
            .append("a", expected, &md, vec![original.clone()])
            .await;
        assert!(matches!(retry, Err(StoreError::DuplicateEvent { event_id }) if event_id == id));
    }

    assert_eq!(
        store.head().await.unwrap(),
        1,
        "nothing but the original was stored"
    );
    assert_eq!(store.read_stream("a").await.unwrap().len(), 1);
}

pub async fn read_all_pages_in_global_order(f: Fixture) {
    let store = &f.store;
    let md = metadata("client");

    let mut expected = Vec::new();
    for (stream, n) in [("x", 2), ("y", 1), ("x", 3), ("z", 1), ("y", 2), ("x", 1)] {
        store
            .append(stream, ExpectedVersion::Any, &md, events(n))
            .await
            .unwrap();
        expected.extend(std::iter::repeat_n(stream, n));
    }
    let head = store.head().await.unwrap();
    assert_eq!(head, 10);

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        for e in &page {
            assert_eq!(e.position, after + 1, "contiguous, increasing positions");
            after = e.position;
            seen.push(e.stream_id.clone());
        }
    }
    assert_eq!(seen, expected);

    assert!(store.read_all(0, 0).await.unwrap().is_empty());
    assert!(store.read_all(head, 5).await.unwrap().is_empty());
    assert!(store.read_all(head + 100, 5).await.unwrap().is_empty());
    let one = store.read_all(5, 1).await.unwrap();
    assert_eq!(
        (one.len(), one[0].position, one[0].stream_id.as_str()),
        (1, 6, "x")
    );

    // Each stream's events, read from the global order, are its stream in order.
    for stream in ["x", "y", "z"] {
        let all = store.read_all(0, 100).await.unwrap();
        let from_all: Vec<_> = all.into_iter().filter(|e| e.stream_id == stream).collect();
        assert_eq!(from_all, store.read_stream(stream).await.unwrap());
    }
}

pub async fn head_and_appended_notifications(f: Fixture) {
    let store = &f.store;
    let md = metadata("client");

    assert_eq!(store.head().await.unwrap(), 0);
    let mut appended = store.appended();
    assert_eq!(*appended.borrow_and_update(), 0);

    store
        .append("s", ExpectedVersion::NoStream, &md, events(2))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), appended.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*appended.borrow_and_update(), 2);
    assert_eq!(store.head().await.unwrap(), 2);

    assert_conflict(
        store
            .append("s", ExpectedVersion::NoStream, &md, events(1))
            .await,
        2,
    );
    assert!(
        !appended.has_changed().unwrap(),
        "a refused append does not notify"
    );

    store
        .append("t", ExpectedVersion::Any, &md, events(1))
        .await
        .unwrap();
    assert!(appended.has_changed().unwrap());
    assert_eq!(*appended.borrow_and_update(), 3);

    // A subscriber that comes late starts at the current head.
    assert_eq!(*store.appended().borrow(), 3);
}

pub async fn events_are_immutable_in_the_database(f: Fixture) {
    let md = metadata("client");
    f.store
        .append("s", ExpectedVersion::NoStream, &md, events(2))
        .await
        .unwrap();

    assert!(f
        .sql("UPDATE events SET actor = 'mallory' WHERE version = 1")
        .await
        .is_err());
    assert!(f.sql("DELETE FROM events WHERE version = 2").await.is_err());
    assert!(f.sql("DELETE FROM events").await.is_err());

    let stream = f.store.read_stream("s").await.unwrap();
    assert_eq!(stream.len(), 2);
    assert_eq!(stream[0].actor, "client");
}

pub async fn history_survives_reopening(f: Fixture) {
    let md = metadata("client");
    f.store
        .append("s", ExpectedVersion::NoStream, &md, events(2))
        .await
        .unwrap();
    f.store
        .append("t", ExpectedVersion::NoStream, &md, events(1))
        .await
        .unwrap();
    let before = f.store.read_stream("s").await.unwrap();

    let reopened = f.reopen().await.expect("a backend that can be reopened");
    assert_eq!(reopened.head().await.unwrap(), 3);
    assert_eq!(
        *reopened.appended().borrow(),
        3,
        "the channel starts at the stored head"
    );
    assert_eq!(reopened.read_stream("s").await.unwrap(), before);

    let next = reopened
        .append("s", ExpectedVersion::Exact(2), &md, events(1))
        .await
        .unwrap();
    assert_eq!((next.version, next.position), (3, 4));
    let stream = reopened.read_stream("s").await.unwrap();
    assert_eq!(stream[2].prev_hash.as_ref(), Some(&before[1].hash));
    verify_chain(&stream).unwrap();
}

pub async fn invalid_appends_are_refused(f: Fixture) {
    let md = metadata("client");
    let empty = f
        .store
        .append("s", ExpectedVersion::Any, &md, Vec::new())
        .await;
    assert!(matches!(empty, Err(StoreError::Invalid(_))), "{empty:?}");
    let nameless = f
        .store
        .append("", ExpectedVersion::Any, &md, events(1))
        .await;
    assert!(
        matches!(nameless, Err(StoreError::Invalid(_))),
        "{nameless:?}"
    );
    assert_eq!(f.store.head().await.unwrap(), 0);
}

pub async fn data_round_trips_exactly(f: Fixture) {
    let md = metadata("client");
    let awkward = json!({
        "floats": [0.1, 2.7917904547466506e-271, 1.0e300, -0.0, 5e-324, 123456789.12345679],
        "ints": [i64::MIN, u64::MAX, 0],
        "text": "\u{0000}\t\u{001F} \\ / \u{2028} \u{FEFF} لا 🙂",
        "": {"": ""},
        "Zed": [], "zed": [[], {}],
    });
    let batch = vec![event("Noted", awkward.clone())];
    f.store
        .append("s", ExpectedVersion::NoStream, &md, batch)
        .await
        .unwrap();

    let stream = f.store.read_stream("s").await.unwrap();
    assert_eq!(stream[0].data, awkward);
    verify_chain(&stream).unwrap();
}
