//! The conformance suite: every test runs against every backend.
//!
//! - `sqlite::…` on a fresh file in a temporary folder, always;
//! - `sqlite-memory::…` on `sqlite::memory:`, always;
//! - `postgres::…` on a fresh database created on the server named by `DATABASE_URL`.
//!   Without `DATABASE_URL` these trials are reported as ignored, never as passed; run with
//!   `--include-ignored` and no `DATABASE_URL`, they fail.

#[path = "conformance/accounts.rs"]
mod accounts;
#[path = "conformance/chain.rs"]
mod chain;
#[path = "conformance/concurrency.rs"]
mod concurrency;
#[path = "conformance/events.rs"]
mod events;
#[path = "conformance/fixture.rs"]
mod fixture;
#[path = "conformance/process.rs"]
mod process;
#[path = "conformance/read_models.rs"]
mod read_models;
#[path = "conformance/services.rs"]
mod services;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use fixture::{Fixture, Kind};
use libtest_mimic::{Arguments, Failed, Trial};

type Test = fn(Fixture) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! tests {
    ($($module:ident :: $name:ident),* $(,)?) => {
        vec![$(
            (
                concat!(stringify!($module), "::", stringify!($name)),
                (|f| Box::pin($module::$name(f))) as Test,
            )
        ),*]
    };
}

/// Longer than any test needs on this machine; a hang fails instead of blocking the run.
const TIMEOUT: Duration = Duration::from_secs(180);

fn tests() -> Vec<(&'static str, Test)> {
    tests![
        events::append_and_read_round_trip,
        events::expected_versions,
        events::multi_event_append_is_atomic,
        events::duplicate_event_id_is_refused,
        events::read_all_pages_in_global_order,
        events::head_and_appended_notifications,
        events::events_are_immutable_in_the_database,
        events::history_survives_reopening,
        events::invalid_appends_are_refused,
        events::data_round_trips_exactly,
        chain::hash_chain_links_every_event,
        chain::altered_data_is_detected,
        chain::reformatted_data_text_is_refused,
        chain::altered_actor_is_detected,
        chain::deleted_event_is_detected,
        chain::rehashed_forgery_is_detected,
        read_models::documents_commit_with_the_checkpoint,
        read_models::commit_fails_when_the_checkpoint_moved,
        read_models::concurrent_commits_have_one_winner,
        read_models::dropped_unit_of_work_stores_nothing,
        read_models::drop_projection_removes_one_version,
        process::outbox_and_timers_commit_with_the_checkpoint,
        process::a_delivery_key_is_queued_once,
        process::timers_follow_event_order,
        process::leases_give_each_message_to_one_claimer,
        process::delivery_outcomes_are_recorded,
        process::due_timers_fire_once,
        services::captcha_is_single_use,
        services::captcha_wrong_answer_uses_it_up,
        services::captcha_expires,
        services::captcha_has_one_winner_under_concurrency,
        services::tokens_expire,
        services::uploads_round_trip,
        services::idempotency_states,
        services::idempotency_has_one_starter_under_concurrency,
        accounts::accounts_round_trip,
        accounts::account_login_is_unique,
        accounts::racing_account_inserts_have_one_winner,
        accounts::accounts_are_listed_by_login,
        accounts::accounts_are_disabled_and_enabled,
        accounts::invalid_accounts_are_refused,
        accounts::token_delete_subject_revokes_one_accounts_tokens,
        concurrency::racing_creators_have_one_winner,
        concurrency::contended_stream_has_one_winner_per_version,
        concurrency::subscriber_sees_every_commit_once_in_order,
        concurrency::two_instances_share_one_order,
    ]
}

/// Tests that need what a backend does not have.
fn applies(kind: Kind, name: &str) -> bool {
    // An in-memory database does not outlive its connection, nor is it shared.
    let reopens = [
        "events::history_survives_reopening",
        "concurrency::two_instances_share_one_order",
    ];
    !(kind == Kind::SqliteMemory && reopens.contains(&name))
}

fn main() {
    let args = Arguments::from_args();
    let postgres = std::env::var(claimdesk_store::testing::DATABASE_URL).is_ok();

    let mut trials = Vec::new();
    for kind in [Kind::Sqlite, Kind::SqliteMemory, Kind::Postgres] {
        for (name, test) in tests() {
            if !applies(kind, name) {
                continue;
            }
            let trial = Trial::test(format!("{}::{name}", kind.name()), move || run(kind, test));
            trials.push(trial.with_ignored_flag(kind == Kind::Postgres && !postgres));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn run(kind: Kind, test: Test) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("a runtime: {e}"))?;
    runtime.block_on(async {
        let fixture = Fixture::new(kind)
            .await
            .ok_or("DATABASE_URL is not set: the PostgreSQL trials cannot run")?;
        tokio::time::timeout(TIMEOUT, test(fixture))
            .await
            .map_err(|_| Failed::from(format!("timed out after {TIMEOUT:?}")))
    })
}
