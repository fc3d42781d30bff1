//! `claimdesk dev generate`: made-up claims living their whole lives, written to the store, to
//! try the service and to measure it (`scripts/bench-rebuild`).
//!
//! Each claim's life is planned by `claimdesk_claims::simulate` with the real reference data
//! and routing rules, decided command by command by the domain as the command handler would
//! (the same `decide`, the same codec, each command's events appended with the handler's
//! expected version and metadata), and written in transactions of many claims, so that a
//! million events load in minutes. What it writes is indistinguishable from what the API
//! writes; the events' `recorded_at` is the time of loading, their payload times spread over
//! the chosen span.

use std::time::Instant;

use anyhow::Context;
use chrono::{Datelike, Utc};
use claimdesk_api::reference::{RefKind, Reference};
use claimdesk_api::routing::Routing;
use claimdesk_claims::simulate::{decide_all, Catalog, Simulation};
use claimdesk_claims::stream_id;
use claimdesk_domain::{Duration, Timestamp};
use claimdesk_store::{ExpectedVersion, Metadata, NewEvent, PostgresStore, SqliteStore};
use clap::{Args, Subcommand};

use crate::config::StorageConfig;

#[derive(Subcommand)]
pub enum DevCommand {
    /// Writes made-up claims through their whole lives (for trials and benchmarks only).
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// How many claims to file.
    #[arg(long)]
    pub claims: u64,

    /// Seed of the lives' random choices: the same seed plans the same lives.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Claims written per transaction.
    #[arg(long, default_value_t = 200)]
    pub batch: u64,

    /// Over how many days before now the claims are filed.
    #[arg(long, default_value_t = 365)]
    pub days: i64,

    #[command(flatten)]
    pub storage: StorageConfig,
}

/// What a generation wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    pub claims: u64,
    pub events: u64,
}

/// The store's concrete backend: bulk loading needs transactions of its own.
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs `claimdesk dev ...`, writing its result to `out`.
pub async fn run(command: DevCommand, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let DevCommand::Generate(args) = command;
    let started = Instant::now();
    let bar = crate::projections_cli::progress_bar(args.claims, "claims");
    let generated = generate(&args, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "generated {} claims, {} events in {secs:.1} s ({:.0} events/s)",
        generated.claims,
        generated.events,
        generated.events as f64 / secs.max(f64::EPSILON)
    )?;
    Ok(())
}

/// The reference data's themes and filing places, and the routing rules.
fn catalog() -> Catalog {
    let reference = Reference::load();
    let codes = |kind| {
        reference
            .items(kind)
            .iter()
            .map(|item| item.code.clone())
            .collect::<Vec<_>>()
    };
    let routing = Routing::load();
    Catalog {
        themes: codes(RefKind::Theme),
        filing_places: codes(RefKind::FilingPlace),
        entities: routing.entities.iter().map(|e| e.code.clone()).collect(),
        route: Box::new(|theme, place| {
            let route = Routing::load().route(theme, place);
            (route.entity, route.rule)
        }),
    }
}

/// Writes `args.claims` claims' lives; `progress` hears how many claims are written.
pub async fn generate(
    args: &GenerateArgs,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Generated> {
    crate::prepare_data_dir(&args.storage)?;
    let url = args.storage.store_url();
    let backend = if url.starts_with("postgres") {
        Backend::Postgres(PostgresStore::connect(&url).await?)
    } else {
        Backend::Sqlite(SqliteStore::connect(&url).await?)
    };

    let now = Timestamp::from_micros(Utc::now().timestamp_micros());
    let span = Duration::from_days(args.days.max(1));
    let seven_days = claimdesk_domain::DEFAULT_AUTO_CLOSE_AFTER;
    let mut simulation = Simulation::new(args.seed, catalog(), now - span, span, seven_days);
    let mut generated = Generated {
        claims: 0,
        events: 0,
    };

    while generated.claims < args.claims {
        let chunk = args.batch.max(1).min(args.claims - generated.claims);
        let mut lives = Vec::with_capacity(chunk as usize);
        for _ in 0..chunk {
            let year = Utc::now().year();
            let number = claimdesk_api::number::generate(year);
            let plan = simulation.plan(&number);
            let appends = decide_all(plan)
                .with_context(|| format!("the domain refused the planned life of {number}"))?;
            generated.events += appends.iter().map(|(_, e)| e.len() as u64).sum::<u64>();
            lives.push((number, appends));
        }
        write(&backend, lives).await?;
        generated.claims += chunk;
        progress(generated.claims);
        tracing::debug!(claims = generated.claims, "generated");
    }
    tracing::info!(
        claims = generated.claims,
        events = generated.events,
        "claims generated"
    );
    Ok(generated)
}

type Life = (String, Vec<(Metadata, Vec<NewEvent>)>);

/// Appends every command's events of `lives` in one transaction, as the handler would.
async fn write(backend: &Backend, lives: Vec<Life>) -> anyhow::Result<()> {
    match backend {
        Backend::Sqlite(store) => {
            let mut tx = store.begin_write().await?;
            for (number, appends) in lives {
                let stream = stream_id(&number);
                let mut version = 0;
                for (metadata, events) in appends {
                    let expected = ExpectedVersion::Exact(version);
                    let appended = store
                        .append_in_tx(&mut tx, &stream, expected, &metadata, events)
                        .await?;
                    version = appended.version;
                }
            }
            tx.commit().await?;
        }
        Backend::Postgres(store) => {
            let mut tx = store.begin_write().await?;
            for (number, appends) in lives {
                let stream = stream_id(&number);
                let mut version = 0;
                for (metadata, events) in appends {
                    let expected = ExpectedVersion::Exact(version);
                    let appended = store
                        .append_in_tx(&mut tx, &stream, expected, &metadata, events)
                        .await?;
                    version = appended.version;
                }
            }
            tx.commit().await?;
        }
    }
    Ok(())
}
