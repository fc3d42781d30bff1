//! Carrying out a command on one claim with optimistic concurrency.

use std::sync::Arc;

use claimdesk_domain::{decide, ClaimCommand, ClaimEvent, ClaimState, DomainError};
use claimdesk_store::{
    AppendResult, EventStore, ExpectedVersion, Metadata, RecordedEvent, StoreError,
};
use tracing::{debug, instrument};

use crate::codec::{decode, encode, stream_id, CodecError};

/// How many times a command is decided again after losing a race for its stream.
const MAX_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The domain refused the command on the claim's current state.
    #[error("refused: {0}")]
    Refused(#[from] DomainError),
    /// The claim does not exist.
    #[error("claim not found")]
    NotFound,
    /// Other commands kept changing the claim; nothing was stored.
    #[error("the claim kept changing; gave up after {MAX_ATTEMPTS} attempts")]
    Contended,
    /// Another command changed the claim's status while this one was being decided; nothing
    /// was stored. The client should look at the claim again before deciding.
    #[error("the claim's status changed while the command was decided")]
    StatusChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// What a stored command produced.
#[derive(Debug, Clone)]
pub struct Executed {
    pub events: Vec<ClaimEvent>,
    pub state: ClaimState,
    pub append: AppendResult,
}

/// Loads a claim's events and its folded state.
pub async fn load(
    store: &dyn EventStore,
    number: &str,
) -> Result<(Vec<RecordedEvent>, ClaimState), CommandError> {
    let recorded = store.read_stream(&stream_id(number)).await?;
    let mut state = ClaimState::default();
    for event in &recorded {
        state.evolve(&decode(event)?);
    }
    Ok((recorded, state))
}

/// Decides `command` on claim `number` and appends its events.
///
/// `command` is called again with the fresh state each time the stream moved under it, as
/// long as the claim's status is the one the command was first decided on: a command meant
/// for a pending claim is never applied to a claim that was closed meanwhile, or a reopening
/// to a claim someone else already reopened. A status change is [`CommandError::StatusChanged`].
/// A `ClaimCommand::File` expects the stream not to exist; every other command expects it to.
#[instrument(skip_all, fields(claim = %number, actor = %metadata.actor))]
pub async fn execute(
    store: &Arc<dyn claimdesk_store::Store>,
    number: &str,
    metadata: &Metadata,
    command: impl Fn(&ClaimState) -> ClaimCommand,
) -> Result<Executed, CommandError> {
    let stream = stream_id(number);
    let mut status_seen = None;
    for attempt in 1..=MAX_ATTEMPTS {
        let (recorded, mut state) = load(store.as_ref(), number).await?;
        match status_seen {
            None => status_seen = Some(state.status()),
            Some(seen) if seen != state.status() => {
                // The claim moved to another status: a refusal on the fresh state says best
                // why the command cannot be done (`claim_closed`, `not_closed`, ...); a
                // command that would now be accepted was still meant for another situation.
                decide(&state, command(&state))?;
                return Err(CommandError::StatusChanged);
            }
            Some(_) => {}
        }
        let command = command(&state);
        let creating = matches!(command, ClaimCommand::File { .. });
        if recorded.is_empty() && !creating {
            return Err(CommandError::NotFound);
        }

        let events = decide(&state, command)?;
        let expected = ExpectedVersion::Exact(recorded.len() as u64);
        let new_events = events.iter().map(encode).collect();

        match store.append(&stream, expected, metadata, new_events).await {
            Ok(append) => {
                for event in &events {
                    state.evolve(event);
                }
                return Ok(Executed {
                    events,
                    state,
                    append,
                });
            }
            Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                debug!(attempt, actual, "stream moved; deciding again");
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(CommandError::Contended)
}
