//! The hash chain, and what it finds when the stored rows are changed by hand.

use claimdesk_store::hash::{canonical_json, event_hash, verify_chain, BreakReason, HashedFields};
use claimdesk_store::{ExpectedVersion, StoreError};
use serde_json::json;

use crate::fixture::{event, metadata, Fixture};

/// Three events on `stream`, amounts 100, 200, 300.
async fn three_events(f: &Fixture, stream: &str) {
    let md = metadata("client");
    for amount in [100, 200, 300] {
        let e = event("Paid", json!({"amount": amount, "note": "ok"}));
        f.store
            .append(stream, ExpectedVersion::Any, &md, vec![e])
            .await
            .unwrap();
    }
}

pub async fn hash_chain_links_every_event(f: Fixture) {
    let md = metadata("client");
    for n in [1, 1, 2, 1] {
        let batch = (0..n).map(|i| event("Noted", json!({"i": i}))).collect();
        f.store
            .append("s", ExpectedVersion::Any, &md, batch)
            .await
            .unwrap();
        f.store
            .append(
                "other",
                ExpectedVersion::Any,
                &md,
                vec![event("Noted", json!({}))],
            )
            .await
            .unwrap();
    }

    let stream = f.store.read_stream("s").await.unwrap();
    assert_eq!(stream.len(), 5);
    for (i, e) in stream.iter().enumerate() {
        assert_eq!(e.hash.len(), 64);
        assert!(e
            .hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        let expected_prev = if i == 0 {
            None
        } else {
            Some(stream[i - 1].hash.clone())
        };
        assert_eq!(e.prev_hash, expected_prev, "version {}", e.version);
        let data = canonical_json(&e.data);
        assert_eq!(event_hash(&HashedFields::of(e, &data)), e.hash);
    }
    verify_chain(&stream).unwrap();
    verify_chain(&f.store.read_stream("other").await.unwrap()).unwrap();
}

pub async fn altered_data_is_detected(f: Fixture) {
    three_events(&f, "pay").await;
    verify_chain(&f.store.read_stream("pay").await.unwrap()).unwrap();

    f.allow_tampering().await;
    let sql = r#"UPDATE events SET data = '{"amount":999,"note":"ok"}'
                 WHERE stream_id = 'pay' AND version = 2"#;
    assert_eq!(f.sql(sql).await.unwrap(), 1);

    let stream = f.store.read_stream("pay").await.unwrap();
    assert_eq!(
        stream[1].data,
        json!({"amount": 999, "note": "ok"}),
        "the alteration is read"
    );
    let brk = verify_chain(&stream).unwrap_err();
    assert_eq!((brk.version, brk.position), (2, 2));
    assert!(
        matches!(brk.reason, BreakReason::HashMismatch { .. }),
        "{brk}"
    );
}

pub async fn reformatted_data_text_is_refused(f: Fixture) {
    // Same JSON value, other bytes: invisible to a hash over the value, so the store refuses
    // to read it rather than hand out an event whose stored text no longer matches its hash.
    three_events(&f, "pay").await;
    f.allow_tampering().await;
    let sql = r#"UPDATE events SET data = '{"note":"ok","amount":200}'
                 WHERE stream_id = 'pay' AND version = 2"#;
    assert_eq!(f.sql(sql).await.unwrap(), 1);

    match f.store.read_stream("pay").await {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("position 2"), "{why}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(matches!(
        f.store.read_all(0, 10).await,
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(
        f.store.read_all(2, 10).await.unwrap().len(),
        1,
        "later events still read"
    );
}

pub async fn altered_actor_is_detected(f: Fixture) {
    three_events(&f, "pay").await;
    f.allow_tampering().await;
    let sql = "UPDATE events SET actor = 'agent:mallory' WHERE stream_id = 'pay' AND version = 2";
    assert_eq!(f.sql(sql).await.unwrap(), 1);

    let stream = f.store.read_stream("pay").await.unwrap();
    assert_eq!(stream[1].actor, "agent:mallory");
    let brk = verify_chain(&stream).unwrap_err();
    assert_eq!(brk.version, 2);
    assert!(
        matches!(brk.reason, BreakReason::HashMismatch { .. }),
        "{brk}"
    );
}

pub async fn deleted_event_is_detected(f: Fixture) {
    three_events(&f, "pay").await;
    f.allow_tampering().await;
    assert_eq!(
        f.sql("DELETE FROM events WHERE stream_id = 'pay' AND version = 2")
            .await
            .unwrap(),
        1
    );

    let stream = f.store.read_stream("pay").await.unwrap();
    assert_eq!(stream.len(), 2);
    let brk = verify_chain(&stream).unwrap_err();
    assert_eq!((brk.version, brk.position), (3, 3));
    assert_eq!(brk.reason, BreakReason::VersionGap { expected: 2 });

    // The global order shows the hole too.
    let positions: Vec<u64> = f
        .store
        .read_all(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(positions, [1, 3]);
}

pub async fn rehashed_forgery_is_detected(f: Fixture) {
    // A forger who alters an event and recomputes its hash still breaks the next link.
    three_events(&f, "pay").await;
    let mut forged = f.store.read_stream("pay").await.unwrap()[1].clone();
    forged.actor = "agent:mallory".to_owned();
    let data = canonical_json(&forged.data);
    let hash = event_hash(&HashedFields::of(&forged, &data));

    f.allow_tampering().await;
    let sql = format!(
        "UPDATE events SET actor = 'agent:mallory', hash = '{hash}' \
         WHERE stream_id = 'pay' AND version = 2"
    );
    assert_eq!(f.sql(&sql).await.unwrap(), 1);

    let brk = verify_chain(&f.store.read_stream("pay").await.unwrap()).unwrap_err();
    assert_eq!(brk.version, 3);
    assert!(
        matches!(brk.reason, BreakReason::BrokenLink { .. }),
        "{brk}"
    );
}
