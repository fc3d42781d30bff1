//! Read-model documents and the checkpoint compare-and-set.

use std::sync::Arc;

use claimdesk_store::{Document, StoreError};
use serde_json::json;
use tokio::sync::Barrier;

use crate::fixture::{doc, projection, Fixture};

fn keys(documents: &[Document]) -> Vec<&str> {
    documents.iter().map(|d| d.key.as_str()).collect()
}

pub async fn documents_commit_with_the_checkpoint(f: Fixture) {
    let store = &f.store;
    let p = projection("queues", 1);
    assert_eq!(store.checkpoint(&p).await.unwrap(), 0);

    let mut tx = store.begin(&p, 0).await.unwrap();
    // Sort keys compare byte for byte ("B" < "Z" < "a"), ties by key, absent sort keys last.
    tx.put(doc("queue", "k1", Some("entity-a"), Some("a")))
        .await
        .unwrap();
    tx.put(doc("queue", "k2", Some("entity-a"), Some("B")))
        .await
        .unwrap();
    tx.put(doc("queue", "k3", Some("entity-a"), None))
        .await
        .unwrap();
    tx.put(doc("queue", "k0", Some("entity-a"), Some("a")))
        .await
        .unwrap();
    tx.put(doc("queue", "k4", Some("entity-a"), Some("Z")))
        .await
        .unwrap();
    tx.put(doc("queue", "k5", Some("entity-b"), Some("0")))
        .await
        .unwrap();
    tx.put(doc("queue", "k6", None, Some("1"))).await.unwrap();
    tx.put(doc("claims", "RC-1", None, None)).await.unwrap();
    tx.put(doc("claims", "tmp", None, None)).await.unwrap();
    tx.delete("claims", "tmp").await.unwrap();

    // The unit of work reads its own writes; nobody else does before the commit.
    assert_eq!(
        tx.get("queue", "k1").await.unwrap(),
        Some(doc("queue", "k1", Some("entity-a"), Some("a")))
    );
    assert_eq!(tx.get("claims", "tmp").await.unwrap(), None);
    assert_eq!(store.get(&p, "queue", "k1").await.unwrap(), None);
    tx.commit(10).await.unwrap();

    assert_eq!(store.checkpoint(&p).await.unwrap(), 10);
    let rc1 = store.get(&p, "claims", "RC-1").await.unwrap().unwrap();
    assert_eq!(rc1, doc("claims", "RC-1", None, None));
    assert_eq!(store.get(&p, "claims", "tmp").await.unwrap(), None);
    assert_eq!(
        store.get(&p, "queue", "RC-1").await.unwrap(),
        None,
        "collections are apart"
    );

    let a = store.list(&p, "queue", Some("entity-a")).await.unwrap();
    assert_eq!(keys(&a), ["k2", "k4", "k0", "k1", "k3"]);
    assert_eq!(a[0], doc("queue", "k2", Some("entity-a"), Some("B")));
    let all = store.list(&p, "queue", None).await.unwrap();
    assert_eq!(keys(&all), ["k5", "k6", "k2", "k4", "k0", "k1", "k3"]);
    assert!(store
        .list(&p, "queue", Some("entity-z"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        keys(&store.list(&p, "claims", None).await.unwrap()),
        ["RC-1"]
    );

    // A later unit of work replaces and deletes.
    let mut tx = store.begin(&p, 10).await.unwrap();
    let mut moved = doc("queue", "k1", Some("entity-b"), Some("9"));
    moved.body = json!({"moved": true});
    tx.put(moved.clone()).await.unwrap();
    tx.delete("queue", "k2").await.unwrap();
    assert_eq!(tx.get("queue", "k2").await.unwrap(), None);
    assert_eq!(
        tx.get("queue", "k4").await.unwrap().unwrap().key,
        "k4",
        "reads through"
    );
    tx.commit(12).await.unwrap();

    assert_eq!(store.get(&p, "queue", "k1").await.unwrap(), Some(moved));
    assert_eq!(store.get(&p, "queue", "k2").await.unwrap(), None);
    assert_eq!(
        keys(&store.list(&p, "queue", Some("entity-b")).await.unwrap()),
        ["k5", "k1"]
    );
    assert_eq!(store.checkpoint(&p).await.unwrap(), 12);

    // Another version of the projection starts empty.
    let v2 = projection("queues", 2);
    assert_eq!(store.checkpoint(&v2).await.unwrap(), 0);
    assert_eq!(store.get(&v2, "claims", "RC-1").await.unwrap(), None);
    assert!(store.list(&v2, "queue", None).await.unwrap().is_empty());
}

pub async fn commit_fails_when_the_checkpoint_moved(f: Fixture) {
    let store = &f.store;
    let p = projection("detail", 1);

    let mut first = store.begin(&p, 0).await.unwrap();
    let mut second = store.begin(&p, 0).await.unwrap();
    first.put(doc("claims", "a", None, None)).await.unwrap();
    second.put(doc("claims", "b", None, None)).await.unwrap();
    first.commit(5).await.unwrap();
    match second.commit(7).await {
        Err(StoreError::CheckpointMoved { projection }) => assert_eq!(projection, "detail"),
        other => panic!("expected CheckpointMoved, got {other:?}"),
    }
    assert_eq!(store.checkpoint(&p).await.unwrap(), 5);
    assert!(store.get(&p, "claims", "a").await.unwrap().is_some());
    assert_eq!(
        store.get(&p, "claims", "b").await.unwrap(),
        None,
        "the loser stored nothing"
    );

    // A worker that believes the checkpoint is elsewhere is refused too.
    for stale in [0, 3, 6] {
        let mut tx = store.begin(&p, stale).await.unwrap();
        tx.put(doc("claims", "stale", None, None)).await.unwrap();
        let refused = tx.commit(9).await;
        assert!(
            matches!(refused, Err(StoreError::CheckpointMoved { .. })),
            "from {stale}: {refused:?}"
        );
    }
    assert_eq!(store.get(&p, "claims", "stale").await.unwrap(), None);

    let tx = store.begin(&p, 5).await.unwrap();
    tx.commit(8).await.unwrap();
    assert_eq!(store.checkpoint(&p).await.unwrap(), 8);

    let backwards = store.begin(&p, 8).await.unwrap().commit(2).await;
    assert!(
        matches!(backwards, Err(StoreError::Invalid(_))),
        "{backwards:?}"
    );
    assert_eq!(store.checkpoint(&p).await.unwrap(), 8);
}

pub async fn concurrent_commits_have_one_winner(f: Fixture) {
    const WORKERS: usize = 8;
    let p = projection("stats", 1);
    let barrier = Arc::new(Barrier::new(WORKERS));

    let mut workers = Vec::new();
    for i in 0..WORKERS {
        let (store, barrier, p) = (f.store.clone(), barrier.clone(), p.clone());
        workers.push(tokio::spawn(async move {
            let mut tx = store.begin(&p, 0).await.unwrap();
            tx.put(doc("by-worker", &i.to_string(), None, None))
                .await
                .unwrap();
            barrier.wait().await;
            (i, tx.commit(i as u64 + 1).await)
        }));
    }

    let mut winners = Vec::new();
    for worker in workers {
        match worker.await.unwrap() {
            (i, Ok(())) => winners.push(i),
            (_, Err(StoreError::CheckpointMoved { .. })) => {}
            (_, Err(other)) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let winner = winners[0];
    assert_eq!(f.store.checkpoint(&p).await.unwrap(), winner as u64 + 1);
    assert_eq!(
        keys(&f.store.list(&p, "by-worker", None).await.unwrap()),
        [winner.to_string()]
    );
}

pub async fn dropped_unit_of_work_stores_nothing(f: Fixture) {
    let store = &f.store;
    let p = projection("detail", 1);

    let mut tx = store.begin(&p, 0).await.unwrap();
    tx.put(doc("claims", "a", None, None)).await.unwrap();
    drop(tx);

    assert_eq!(store.get(&p, "claims", "a").await.unwrap(), None);
    assert_eq!(store.checkpoint(&p).await.unwrap(), 0);

    // Nothing is left locked or half-written: the next unit of work starts from 0.
    let mut tx = store.begin(&p, 0).await.unwrap();
    assert_eq!(tx.get("claims", "a").await.unwrap(), None);
    tx.put(doc("claims", "b", None, None)).await.unwrap();
    tx.commit(1).await.unwrap();
    assert_eq!(keys(&store.list(&p, "claims", None).await.unwrap()), ["b"]);
}

pub async fn drop_projection_removes_one_version(f: Fixture) {
    let store = &f.store;
    let v1 = projection("detail", 1);
    let v2 = projection("detail", 2);
    let other = projection("history", 1);

    for (p, to) in [(&v1, 5), (&v2, 6), (&other, 7)] {
        let mut tx = store.begin(p, 0).await.unwrap();
        tx.put(doc("claims", "a", Some("x"), None)).await.unwrap();
        tx.put(doc("claims", "b", Some("x"), None)).await.unwrap();
        tx.commit(to).await.unwrap();
    }
    let in_flight = store.begin(&v1, 5).await.unwrap();

    store.drop_projection(&v1).await.unwrap();
    assert_eq!(store.checkpoint(&v1).await.unwrap(), 0);
    assert_eq!(store.get(&v1, "claims", "a").await.unwrap(), None);
    assert!(store
        .list(&v1, "claims", Some("x"))
        .await
        .unwrap()
        .is_empty());

    assert_eq!(store.checkpoint(&v2).await.unwrap(), 6);
    assert_eq!(store.list(&v2, "claims", None).await.unwrap().len(), 2);
    assert_eq!(store.checkpoint(&other).await.unwrap(), 7);
    assert_eq!(
        store.list(&other, "claims", Some("x")).await.unwrap().len(),
        2
    );

    // A worker that was mid-batch when the projection was dropped cannot resurrect it.
    let late = in_flight.commit(9).await;
    assert!(
        matches!(late, Err(StoreError::CheckpointMoved { .. })),
        "{late:?}"
    );
    assert_eq!(store.checkpoint(&v1).await.unwrap(), 0);

    // Rebuilding starts from 0.
    let mut tx = store.begin(&v1, 0).await.unwrap();
    tx.put(doc("claims", "c", None, None)).await.unwrap();
    tx.commit(3).await.unwrap();
    assert_eq!(keys(&store.list(&v1, "claims", None).await.unwrap()), ["c"]);
    store
        .drop_projection(&projection("never-ran", 1))
        .await
        .unwrap();
}
