//! `claimdesk projections`: the read models from the command line.
//!
//! - `list` shows, per read model, the copy that serves (definition version and generation),
//!   how far it has applied the events, and the store's head.
//! - `rebuild [name]` fills a new copy of one read model, or of every one, from the first
//!   event, batch after batch (memory stays that of one batch, however many events there
//!   are), then names it in the registry as the serving copy: a server running on the same
//!   database switches its readers to it within a second and keeps it current from there.
//!   The previous copy is dropped `--retire-after` later. Nothing is written to the events.
//!
//! The process manager's projection (emails and timers) is not a read model and is not
//! rebuilt here. Results go to standard output; a progress bar goes to standard error when it
//! is a terminal.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use claimdesk_projections::runtime::rebuild_into;
use claimdesk_projections::serving;
use claimdesk_projections::Projection;
use claimdesk_store::Store;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tracing::Instrument;

use crate::config::StorageConfig;

#[derive(Subcommand)]
pub enum ProjectionsCommand {
    /// Shows each read model's serving copy and progress.
    List(ListArgs),
    /// Rebuilds one read model (or every one) from the events.
    Rebuild(RebuildArgs),
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub storage: StorageConfig,
}

#[derive(Args)]
pub struct RebuildArgs {
    /// The read model to rebuild (`claim_detail`, `satisfaction_stats`...); every one when
    /// absent.
    pub name: Option<String>,

    /// How long the previous copies are kept once the new ones serve, so that running
    /// servers switch first (`5s`, `1m`).
    #[arg(long, default_value = "5s", value_parser = crate::config::parse_duration)]
    pub retire_after: Duration,

    #[command(flatten)]
    pub storage: StorageConfig,
}

/// Below this many events a run is short: no progress bar.
const LONG_RUN: u64 = 10_000;

/// A progress bar over `len` items on standard error, hidden when it is not a terminal or
/// when the run is short.
pub fn progress_bar(len: u64, unit: &str) -> ProgressBar {
    if len < LONG_RUN {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template =
        format!("{{msg}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

pub(crate) async fn open(storage: &StorageConfig) -> anyhow::Result<Arc<dyn Store>> {
    crate::prepare_data_dir(storage)?;
    claimdesk_store::open(&storage.store_url())
        .await
        .with_context(|| format!("cannot open the store {}", storage.store_url_for_logs()))
}

/// Runs a `projections` command, writing its result to `out`.
pub async fn run(command: ProjectionsCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        ProjectionsCommand::List(args) => list(&args.storage, out).await,
        ProjectionsCommand::Rebuild(args) => rebuild(args, out).await,
    }
}

async fn list(storage: &StorageConfig, out: &mut impl Write) -> anyhow::Result<()> {
    let store = open(storage).await?;
    let head = store.head().await?;
    writeln!(out, "head {head}")?;
    for projection in claimdesk_projections::all() {
        let definition = projection.definition();
        let name = &definition.name;
        let serving = serving::read(store.as_ref(), name).await?;
        match serving {
            Some(generation) => {
                let position = store.checkpoint(&generation.id(name)).await?;
                writeln!(
                    out,
                    "{name}: serving {generation} at {position}, definition v{}",
                    definition.version
                )?;
            }
            None => writeln!(
                out,
                "{name}: not started yet, definition v{}",
                definition.version
            )?,
        }
    }
    Ok(())
}

async fn rebuild(args: RebuildArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let all = claimdesk_projections::all();
    let chosen: Vec<Arc<dyn Projection>> = match &args.name {
        None => all,
        Some(name) => {
            let known: Vec<String> = all.iter().map(|p| p.definition().name.clone()).collect();
            match all.into_iter().find(|p| &p.definition().name == name) {
                Some(projection) => vec![projection],
                None => bail!("no read model is named {name}; known: {}", known.join(", ")),
            }
        }
    };
    let store = open(&args.storage).await?;

    let mut retired = Vec::new();
    for projection in chosen {
        let report = rebuild_one(&store, projection.as_ref()).await?;
        writeln!(
            out,
            "rebuilt {}: {} -> {}, {} events in {:.1} s ({:.0} events/s)",
            report.name,
            report.from,
            report.to,
            report.position,
            report.seconds,
            report.position as f64 / report.seconds.max(f64::EPSILON),
        )?;
        retired.push(report.from.id(&report.name));
    }

    tokio::time::sleep(args.retire_after).await;
    for id in retired {
        store.drop_projection(&id).await?;
        tracing::info!(name = %id.name, version = id.version, "previous copy dropped");
    }
    writeln!(out, "previous copies dropped")?;
    Ok(())
}

/// What rebuilding one read model did.
pub struct Rebuilt {
    pub name: String,
    pub from: serving::Generation,
    pub to: serving::Generation,
    /// The last position applied.
    pub position: u64,
    pub seconds: f64,
}

/// Fills a new copy of `projection` up to the head and names it in the registry.
pub async fn rebuild_one(
    store: &Arc<dyn Store>,
    projection: &dyn Projection,
) -> anyhow::Result<Rebuilt> {
    let definition = projection.definition();
    let name = definition.name.clone();
    let (from, _) = serving::resolve(store.as_ref(), &name, definition.version).await?;
    let to = from.next(definition.version);
    let id = to.id(&name);
    let span = tracing::info_span!("rebuild", projection = %name, %from, %to);

    let fill = async {
        store.drop_projection(&id).await?;
        let head = store.head().await?;
        let bar = progress_bar(head, "events");
        bar.set_message(name.clone());
        let started = Instant::now();
        let position = rebuild_into(store, projection, &id, &mut |at| bar.set_position(at))
            .await
            .with_context(|| format!("rebuilding {name} stopped"))?;
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();

        serving::write(store.as_ref(), &name, to).await?;
        tracing::info!(position, seconds, "rebuilt and serving");
        anyhow::Ok((position, seconds))
    };
    let (position, seconds) = fill.instrument(span).await?;
    Ok(Rebuilt {
        name,
        from,
        to,
        position,
        seconds,
    })
}
