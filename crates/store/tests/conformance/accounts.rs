//! Staff accounts, and revoking an account's sessions.

use std::sync::Arc;

use chrono::Duration;
use claimdesk_store::services::{Account, Token};
use claimdesk_store::StoreError;
use tokio::sync::Barrier;

use crate::fixture::{now, Fixture};

fn account(login: &str, role: &str, entity: Option<&str>) -> Account {
    Account {
        login: login.to_owned(),
        role: role.to_owned(),
        entity: entity.map(str::to_owned),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{login}"),
        disabled: false,
        created_at: now(),
    }
}

fn token(hash: &str, kind: &str, subject: &str, expires_in: Duration) -> Token {
    Token {
        token_hash: hash.to_owned(),
        kind: kind.to_owned(),
        subject: subject.to_owned(),
        expires_at: now() + expires_in,
    }
}

pub async fn accounts_round_trip(f: Fixture) {
    let s = &f.store;
    let agent = account("amina.agent", "agent", Some("trade_names"));
    let admin = Account {
        disabled: true,
        ..account("root", "admin", None)
    };
    s.account_insert(&agent).await.unwrap();
    s.account_insert(&admin).await.unwrap();

    assert_eq!(
        s.account_get("amina.agent").await.unwrap(),
        Some(agent.clone())
    );
    assert_eq!(s.account_get("root").await.unwrap(), Some(admin));
    assert_eq!(s.account_get("nobody").await.unwrap(), None);
    assert_eq!(
        s.account_get("AMINA.AGENT").await.unwrap(),
        None,
        "logins are exact"
    );

    let shown = format!("{agent:?}");
    assert!(shown.contains("amina.agent"), "{shown}");
    assert!(!shown.contains("hash-of"), "Debug hides the hash: {shown}");
}

pub async fn account_login_is_unique(f: Fixture) {
    let s = &f.store;
    let first = account("karim", "auditor", None);
    s.account_insert(&first).await.unwrap();

    let again = s
        .account_insert(&account("karim", "agent", Some("finance")))
        .await;
    match again {
        Err(StoreError::AccountExists { login }) => assert_eq!(login, "karim"),
        other => panic!("expected AccountExists, got {other:?}"),
    }
    assert_eq!(s.account_get("karim").await.unwrap(), Some(first));
    assert_eq!(s.account_list().await.unwrap().len(), 1);
}

pub async fn racing_account_inserts_have_one_winner(f: Fixture) {
    const RACERS: usize = 8;
    let barrier = Arc::new(Barrier::new(RACERS));

    let mut racers = Vec::new();
    for i in 0..RACERS {
        let (store, barrier) = (f.store.clone(), barrier.clone());
        racers.push(tokio::spawn(async move {
            let mut candidate = account("same", "analyst", None);
            candidate.password_hash = format!("racer-{i}");
            barrier.wait().await;
            store.account_insert(&candidate).await.map(|()| candidate)
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(candidate) => winners.push(candidate),
            Err(StoreError::AccountExists { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    let stored = f.store.account_get("same").await.unwrap();
    assert_eq!(
        stored.as_ref(),
        winners.first(),
        "the winner is the one stored"
    );
}

pub async fn accounts_are_listed_by_login(f: Fixture) {
    let s = &f.store;
    // Byte order, whatever the server's collation: upper case before `_` before lower case,
    // and a non-ASCII letter after every ASCII one.
    for login in ["alice", "_ops", "Zoé", "bob", "Bob", "émile", "al"] {
        s.account_insert(&account(login, "analyst", None))
            .await
            .unwrap();
    }

    let listed: Vec<String> = s
        .account_list()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.login)
        .collect();
    assert_eq!(
        listed,
        ["Bob", "Zoé", "_ops", "al", "alice", "bob", "émile"]
    );
}

pub async fn accounts_are_disabled_and_enabled(f: Fixture) {
    let s = &f.store;
    let agent = account("nadia", "agent", Some("finance"));
    s.account_insert(&agent).await.unwrap();
    s.account_insert(&account("other", "agent", Some("finance")))
        .await
        .unwrap();

    assert!(s.account_set_disabled("nadia", true).await.unwrap());
    let disabled = s.account_get("nadia").await.unwrap().unwrap();
    assert!(disabled.disabled);
    assert_eq!(
        disabled,
        Account {
            disabled: true,
            ..agent.clone()
        },
        "nothing else changes"
    );
    assert!(
        !s.account_get("other").await.unwrap().unwrap().disabled,
        "only that account"
    );

    assert!(
        s.account_set_disabled("nadia", true).await.unwrap(),
        "disabling twice is no error"
    );
    assert!(!s.account_set_disabled("nobody", true).await.unwrap());
    assert_eq!(s.account_get("nobody").await.unwrap(), None, "not created");

    assert!(s.account_set_disabled("nadia", false).await.unwrap());
    assert_eq!(s.account_get("nadia").await.unwrap(), Some(agent));
}

pub async fn invalid_accounts_are_refused(f: Fixture) {
    let s = &f.store;
    let empty_login = account("", "admin", None);
    let empty_role = account("x", "", None);
    let empty_entity = account("y", "agent", Some(""));
    for refused in [empty_login, empty_role, empty_entity] {
        let result = s.account_insert(&refused).await;
        assert!(
            matches!(result, Err(StoreError::Invalid(_))),
            "{refused:?}: {result:?}"
        );
    }
    assert!(s.account_list().await.unwrap().is_empty(), "nothing stored");
}

pub async fn token_delete_subject_revokes_one_accounts_tokens(f: Fixture) {
    let s = &f.store;
    let hour = Duration::hours(1);
    let tokens = [
        token("a1", "account", "alice", hour),
        token("a2", "account", "alice", -hour),
        token("b1", "account", "bob", hour),
        token("c1", "claim", "alice", hour),
    ];
    for t in &tokens {
        s.token_insert(t).await.unwrap();
    }
    let t = now();

    assert_eq!(s.token_delete_subject("account", "alice").await.unwrap(), 2);
    assert_eq!(s.token_get("a1", t).await.unwrap(), None);
    assert_eq!(s.token_get("b1", t).await.unwrap(), Some(tokens[2].clone()));
    assert_eq!(
        s.token_get("c1", t).await.unwrap(),
        Some(tokens[3].clone()),
        "another kind with the same subject stays"
    );
    assert_eq!(s.token_delete_subject("account", "alice").await.unwrap(), 0);
    assert_eq!(
        s.token_delete_subject("account", "nobody").await.unwrap(),
        0
    );

    // The expired token was deleted too: its hash can be stored again.
    s.token_insert(&token("a2", "account", "alice", hour))
        .await
        .unwrap();
}
