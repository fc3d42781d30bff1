//! `claimdesk audit`: what auditors do from the command line, on the raw event store.
//!
//! - `replay <number>` prints a claim's timeline, one line per event: when the store recorded
//!   it, its version and global position, who caused it, its type and its key facts (read
//!   through the upcaster, with a note when it was stored under an older schema), then
//!   whether the claim's hash chain verifies.
//! - `verify <number>` checks one claim's stream; `verify --all` (or no number) checks the
//!   whole store, reading the global order in batches of [`BATCH`] with memory that does not
//!   grow with the number of events:
//!   - every event's own hash is recomputed from its stored fields as it is read;
//!   - each stream is verified whole ([`verify_chain`]: versions without gap, each linked to
//!     its predecessor's hash) when its first event is met;
//!   - the positions must run from 1 to the head without a gap, which also finds events
//!     removed from the end of a stream.
//!
//! Findings go to standard output; the command exits non-zero when any is found. A progress
//! bar goes to standard error on long runs, when it is a terminal.

use std::io::Write;
use std::sync::Arc;

use anyhow::bail;
use claimdesk_claims::audit::{key_facts, reason_code};
use claimdesk_claims::{decode, number_of_stream, stream_id};
use claimdesk_domain::ClaimEvent;
use claimdesk_store::hash::{canonical_json, event_hash, verify_chain, HashedFields};
use claimdesk_store::{Position, RecordedEvent, Store, StoreError};
use clap::{Args, Subcommand};

use crate::config::StorageConfig;
use crate::projections_cli::{open, progress_bar};

/// Events read from the global order at a time.
pub const BATCH: usize = 1_000;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Prints a claim's timeline: time, version, position, actor, event and key facts.
    Replay(ReplayArgs),
    /// Checks that the stored history of one claim, or of every stream, is intact.
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The claim's number.
    pub number: String,

    #[command(flatten)]
    pub storage: StorageConfig,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The claim to check; every stream of the store when absent.
    #[arg(conflicts_with = "all")]
    pub number: Option<String>,

    /// Checks every stream of the store (the default without a number).
    #[arg(long)]
    pub all: bool,

    #[command(flatten)]
    pub storage: StorageConfig,
}

/// Runs an `audit` command, writing its findings to `out`.
pub async fn run(command: AuditCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match command {
        AuditCommand::Replay(args) => {
            let store = open(&args.storage).await?;
            replay(&store, &args.number, out).await
        }
        AuditCommand::Verify(args) => {
            let store = open(&args.storage).await?;
            let breaks = match &args.number {
                Some(number) => verify_claim(&store, number, out).await?,
                None => verify_all(&store, out).await?.breaks,
            };
            if breaks > 0 {
                bail!("{breaks} finding(s) in the stored history");
            }
            Ok(())
        }
    }
}

/// The stream of claim `number` as typed (any case, with or without dashes).
fn claim_stream(number: &str) -> anyhow::Result<(String, String)> {
    match claimdesk_api::number::normalize(number) {
        Some(number) => {
            let stream = stream_id(&number);
            Ok((number, stream))
        }
        None => bail!("{number:?} is not a claim number"),
    }
}

/// Prints claim `number`'s timeline, then whether its chain verifies.
pub async fn replay(
    store: &Arc<dyn Store>,
    number: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let (number, stream) = claim_stream(number)?;
    let events = store.read_stream(&stream).await?;
    if events.is_empty() {
        bail!("no claim {number}");
    }
    writeln!(out, "claim {number}: {} events", events.len())?;
    for event in &events {
        writeln!(out, "{}", timeline_line(event))?;
    }
    match verify_chain(&events) {
        Ok(()) => writeln!(
            out,
            "chain intact: last hash {}",
            events[events.len() - 1].hash
        )?,
        Err(brk) => {
            writeln!(out, "chain BROKEN: {brk}")?;
            bail!("the stored history of claim {number} does not verify");
        }
    }
    Ok(())
}

/// One event of a timeline: recorded time, version, position, actor, type and key facts.
pub fn timeline_line(event: &RecordedEvent) -> String {
    let at = claimdesk_store::hash::format_recorded_at(event.recorded_at);
    let facts = match decode(event) {
        Ok(decoded) => {
            let current = ClaimEvent::current_schema_version(&event.event_type).unwrap_or(0);
            let upcast = if event.schema_version < current {
                format!(" [stored as v{}, read as v{current}]", event.schema_version)
            } else {
                String::new()
            };
            format!("{}{upcast}", key_facts(&decoded))
        }
        Err(error) => format!("cannot be read: {error}"),
    };
    format!(
        "{at}  v{:<3} #{:<8} {:<24} {:<16} {facts}",
        event.version, event.position, event.actor, event.event_type
    )
}

/// Checks claim `number`'s stream; answers how many breaks were found (0 or 1).
pub async fn verify_claim(
    store: &Arc<dyn Store>,
    number: &str,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let (number, stream) = claim_stream(number)?;
    match store.read_stream(&stream).await {
        Ok(events) if events.is_empty() => bail!("no claim {number}"),
        Ok(events) => match verify_chain(&events) {
            Ok(()) => {
                writeln!(out, "claim {number}: intact, {} events", events.len())?;
                Ok(0)
            }
            Err(brk) => {
                let code = reason_code(&brk.reason);
                writeln!(out, "claim {number}: BROKEN ({code}) {brk}")?;
                Ok(1)
            }
        },
        Err(StoreError::Corrupt(detail)) => {
            writeln!(out, "claim {number}: BROKEN (unreadable) {detail}")?;
            Ok(1)
        }
        Err(other) => Err(other.into()),
    }
}

/// What a check of the whole store found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verified {
    pub events: u64,
    pub streams: u64,
    pub breaks: u64,
}

/// Checks every event and stream of the store (see the module docs), printing each finding.
pub async fn verify_all(store: &Arc<dyn Store>, out: &mut impl Write) -> anyhow::Result<Verified> {
    let head = store.head().await?;
    let bar = progress_bar(head, "events");
    bar.set_message("verify");
    let mut found = Verified::default();
    let mut after: Position = 0;

    loop {
        let batch = match store.read_all(after, BATCH).await {
            Ok(batch) => batch,
            // An unreadable event in this batch: go through it one event at a time.
            Err(StoreError::Corrupt(_)) => match store.read_all(after, 1).await {
                Ok(one) => one,
                Err(StoreError::Corrupt(detail)) => {
                    found.breaks += 1;
                    writeln!(out, "position {}: BROKEN (unreadable) {detail}", after + 1)?;
                    after += 1;
                    continue;
                }
                Err(other) => return Err(other.into()),
            },
            Err(other) => return Err(other.into()),
        };
        if batch.is_empty() {
            break;
        }
        for event in &batch {
            if event.position != after + 1 {
                found.breaks += 1;
                let (from, to) = (after + 1, event.position - 1);
                writeln!(
                    out,
                    "positions {from} to {to}: BROKEN (missing) no such events"
                )?;
            }
            after = event.position;
            found.events += 1;
            found.breaks += check_event(event, out)?;
            if event.version == 1 || event.prev_hash.is_none() {
                found.streams += 1;
                found.breaks += check_stream(store, &event.stream_id, out).await?;
            }
        }
        bar.set_position(after);
    }
    bar.finish_and_clear();

    if after < head {
        found.breaks += 1;
        let from = after + 1;
        writeln!(
            out,
            "positions {from} to {head}: BROKEN (missing) below the head {head}"
        )?;
    }
    writeln!(
        out,
        "verified {} events in {} streams up to position {head}: {} finding(s)",
        found.events, found.streams, found.breaks
    )?;
    Ok(found)
}

/// Recomputes one event's hash from its stored fields; 1 when it does not match.
fn check_event(event: &RecordedEvent, out: &mut impl Write) -> anyhow::Result<u64> {
    let data = canonical_json(&event.data);
    let computed = event_hash(&HashedFields::of(event, &data));
    if computed == event.hash {
        return Ok(0);
    }
    writeln!(
        out,
        "{} version {} (position {}): BROKEN (hash_mismatch) stored hash {}, computed {computed}",
        event.stream_id, event.version, event.position, event.hash
    )?;
    Ok(1)
}

/// Verifies one stream whole; 1 when it breaks.
async fn check_stream(
    store: &Arc<dyn Store>,
    stream: &str,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let label = match number_of_stream(stream) {
        Some(number) => format!("claim {number}"),
        None => format!("stream {stream}"),
    };
    match store.read_stream(stream).await {
        Ok(events) => match verify_chain(&events) {
            Ok(()) => Ok(0),
            Err(brk) => {
                let code = reason_code(&brk.reason);
                writeln!(out, "{label}: BROKEN ({code}) {brk}")?;
                Ok(1)
            }
        },
        Err(StoreError::Corrupt(detail)) => {
            writeln!(out, "{label}: BROKEN (unreadable) {detail}")?;
            Ok(1)
        }
        Err(other) => Err(other.into()),
    }
}
