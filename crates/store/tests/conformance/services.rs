//! Captchas, uploads, tokens and idempotency keys.

use std::sync::Arc;

use chrono::Duration;
use claimdesk_store::services::{IdempotencyStart, Token, Upload};
use claimdesk_store::StoreError;
use tokio::sync::Barrier;

use crate::fixture::{now, Fixture};

pub async fn captcha_is_single_use(f: Fixture) {
    let s = &f.store;
    let t = now();
    s.captcha_insert("c1", "right", t + Duration::minutes(5))
        .await
        .unwrap();

    assert!(s.captcha_consume("c1", "right", t).await.unwrap());
    assert!(
        !s.captcha_consume("c1", "right", t).await.unwrap(),
        "used up"
    );
    assert!(!s.captcha_consume("unknown", "right", t).await.unwrap());

    let again = s
        .captcha_insert("c1", "other", t + Duration::minutes(5))
        .await;
    assert!(
        matches!(again, Err(StoreError::Invalid(_))),
        "ids are unique: {again:?}"
    );
}

pub async fn captcha_wrong_answer_uses_it_up(f: Fixture) {
    let s = &f.store;
    let t = now();
    s.captcha_insert("c2", "right", t + Duration::minutes(5))
        .await
        .unwrap();

    assert!(!s.captcha_consume("c2", "wrong", t).await.unwrap());
    assert!(
        !s.captcha_consume("c2", "right", t).await.unwrap(),
        "no second guess"
    );
}

pub async fn captcha_expires(f: Fixture) {
    let s = &f.store;
    let t = now();
    let expires = t + Duration::seconds(60);
    s.captcha_insert("late", "right", expires).await.unwrap();
    s.captcha_insert("edge", "right", expires).await.unwrap();
    s.captcha_insert("fresh", "right", expires).await.unwrap();

    assert!(!s
        .captcha_consume("late", "right", expires + Duration::seconds(1))
        .await
        .unwrap());
    assert!(
        !s.captcha_consume("edge", "right", expires).await.unwrap(),
        "expiry is exclusive"
    );
    assert!(s
        .captcha_consume("fresh", "right", expires - Duration::microseconds(1))
        .await
        .unwrap());
}

pub async fn captcha_has_one_winner_under_concurrency(f: Fixture) {
    const TRIES: usize = 8;
    let t = now();
    f.store
        .captcha_insert("c", "right", t + Duration::minutes(5))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(TRIES));

    let mut tries = Vec::new();
    for _ in 0..TRIES {
        let (store, barrier) = (f.store.clone(), barrier.clone());
        tries.push(tokio::spawn(async move {
            barrier.wait().await;
            store.captcha_consume("c", "right", t).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for attempt in tries {
        accepted += usize::from(attempt.await.unwrap());
    }
    assert_eq!(accepted, 1);
}

pub async fn tokens_expire(f: Fixture) {
    let s = &f.store;
    let t = now();
    let token = Token {
        token_hash: "a1b2".to_owned(),
        kind: "claim".to_owned(),
        subject: "RC-2025-000001".to_owned(),
        expires_at: t + Duration::hours(1),
    };
    s.token_insert(&token).await.unwrap();

    assert_eq!(s.token_get("a1b2", t).await.unwrap(), Some(token.clone()));
    assert_eq!(
        s.token_get("a1b2", token.expires_at - Duration::microseconds(1))
            .await
            .unwrap(),
        Some(token.clone())
    );
    assert_eq!(s.token_get("a1b2", token.expires_at).await.unwrap(), None);
    assert_eq!(
        s.token_get("a1b2", t + Duration::days(1)).await.unwrap(),
        None
    );
    assert_eq!(s.token_get("ffff", t).await.unwrap(), None);

    let again = s.token_insert(&token).await;
    assert!(matches!(again, Err(StoreError::Invalid(_))), "{again:?}");
}

pub async fn uploads_round_trip(f: Fixture) {
    let s = &f.store;
    let upload = Upload {
        token: "up-1".to_owned(),
        filename: "attestation négative.pdf".to_owned(),
        size: 20 * 1024 * 1024,
        media_type: "application/pdf".to_owned(),
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        created_at: now(),
    };
    s.upload_insert(&upload).await.unwrap();

    assert_eq!(s.upload_get("up-1").await.unwrap(), Some(upload.clone()));
    assert_eq!(s.upload_get("up-2").await.unwrap(), None);
    let again = s.upload_insert(&upload).await;
    assert!(matches!(again, Err(StoreError::Invalid(_))), "{again:?}");
}

pub async fn idempotency_states(f: Fixture) {
    let s = &f.store;
    let t = now();
    let begin = |key: &'static str, hash: &'static str| {
        let s = s.clone();
        async move {
            s.idempotency_begin("file-claim", key, hash, t)
                .await
                .unwrap()
        }
    };

    assert_eq!(begin("k1", "h1").await, IdempotencyStart::Started);
    assert_eq!(begin("k1", "h1").await, IdempotencyStart::InProgress);
    assert_eq!(begin("k1", "h2").await, IdempotencyStart::Mismatch);

    s.idempotency_complete("file-claim", "k1", 201, r#"{"number":"RC-1"}"#)
        .await
        .unwrap();
    let done = IdempotencyStart::Completed {
        status: 201,
        body: r#"{"number":"RC-1"}"#.to_owned(),
    };
    assert_eq!(begin("k1", "h1").await, done);
    assert_eq!(begin("k1", "h2").await, IdempotencyStart::Mismatch);

    // A completed key is neither completed again nor abandoned.
    let twice = s
        .idempotency_complete("file-claim", "k1", 500, "oops")
        .await;
    assert!(matches!(twice, Err(StoreError::Invalid(_))), "{twice:?}");
    s.idempotency_abandon("file-claim", "k1").await.unwrap();
    assert_eq!(begin("k1", "h1").await, done);

    // An abandoned key may be used again, even for another request.
    assert_eq!(begin("k2", "h1").await, IdempotencyStart::Started);
    s.idempotency_abandon("file-claim", "k2").await.unwrap();
    assert_eq!(begin("k2", "h3").await, IdempotencyStart::Started);

    // Scopes are apart; unknown keys cannot be completed.
    assert_eq!(
        s.idempotency_begin("post-message", "k1", "h9", t)
            .await
            .unwrap(),
        IdempotencyStart::Started
    );
    let unknown = s.idempotency_complete("file-claim", "nope", 200, "").await;
    assert!(
        matches!(unknown, Err(StoreError::Invalid(_))),
        "{unknown:?}"
    );
    s.idempotency_abandon("file-claim", "nope").await.unwrap();
}

pub async fn idempotency_has_one_starter_under_concurrency(f: Fixture) {
    const REQUESTS: usize = 8;
    let t = now();
    let barrier = Arc::new(Barrier::new(REQUESTS));

    let mut requests = Vec::new();
    for _ in 0..REQUESTS {
        let (store, barrier) = (f.store.clone(), barrier.clone());
        requests.push(tokio::spawn(async move {
            barrier.wait().await;
            store
                .idempotency_begin("file-claim", "same", "h", t)
                .await
                .unwrap()
        }));
    }
    let mut started = 0;
    for request in requests {
        match request.await.unwrap() {
            IdempotencyStart::Started => started += 1,
            IdempotencyStart::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started, 1);
}
