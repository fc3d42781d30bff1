//! The projection runtime: one worker per projection, following the store's global order.
//!
//! A worker reads a batch of events after its checkpoint, applies them inside one read-model
//! transaction and commits the documents with the new checkpoint. The commit is a
//! compare-and-set on the checkpoint, so when several workers follow one projection (several
//! server instances on one database) each event is applied by exactly one of them; the others
//! find the checkpoint moved, reload it and carry on from there.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use claimdesk_store::{Position, ProjectionId, ReadModelTx, RecordedEvent, Store, StoreError};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, error, info, warn, Instrument};

use crate::Definition;

/// How many events a worker applies in one transaction.
const BATCH: usize = 500;
/// How often a worker looks for events appended by other processes.
const POLL: Duration = Duration::from_millis(250);
/// The longest pause between two attempts at an event that fails.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Codec(#[from] claimdesk_claims::CodecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("inconsistent read model: {0}")]
    Inconsistent(String),
}

/// A read model kept up to date from the events.
#[async_trait]
pub trait Projection: Send + Sync {
    fn definition(&self) -> &Definition;

    /// Applies one event; events this projection does not care about are skipped silently.
    async fn apply(
        &self,
        event: &RecordedEvent,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError>;
}

/// Where a projection stands, for `/readyz`, metrics and operators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub name: String,
    pub version: u32,
    /// The last position applied.
    pub position: Position,
    /// Set while an event keeps failing: the projection waits at it.
    pub failing: Option<Failure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub position: Position,
    pub error: String,
    pub attempts: u32,
}

/// The running projections of this process.
pub struct Projections {
    ids: Vec<ProjectionId>,
    statuses: Vec<watch::Receiver<Status>>,
    workers: Vec<JoinHandle<()>>,
}

impl Projections {
    /// Starts one worker per projection.
    pub fn start(store: Arc<dyn Store>, projections: Vec<Arc<dyn Projection>>) -> Projections {
        let mut ids = Vec::new();
        let mut statuses = Vec::new();
        let mut workers = Vec::new();
        for projection in projections {
            let id = projection.definition().id();
            let (sender, receiver) = watch::channel(Status {
                name: id.name.clone(),
                version: id.version,
                position: 0,
                failing: None,
            });
            let worker = Worker {
                store: store.clone(),
                projection,
                id: id.clone(),
                status: sender,
            };
            let span = tracing::info_span!("projection", name = %id.name, version = id.version);
            workers.push(tokio::spawn(worker.run().instrument(span)));
            ids.push(id);
            statuses.push(receiver);
        }
        Projections {
            ids,
            statuses,
            workers,
        }
    }

    /// The projections' current statuses.
    pub fn statuses(&self) -> Vec<Status> {
        self.statuses.iter().map(|s| s.borrow().clone()).collect()
    }

    /// The id under which `name` keeps its documents in this process.
    pub fn id(&self, name: &str) -> Option<&ProjectionId> {
        self.ids.iter().find(|id| id.name == name)
    }

    /// Waits until every projection has applied `position`; false when `timeout` ran out.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        let all = async {
            for status in &self.statuses {
                let mut status = status.clone();
                if status.wait_for(|s| s.position >= position).await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, all).await.unwrap_or(false)
    }

    /// The lowest position every projection has applied.
    pub fn low_water_mark(&self) -> Position {
        self.statuses
            .iter()
            .map(|s| s.borrow().position)
            .min()
            .unwrap_or(0)
    }
}

impl Drop for Projections {
    fn drop(&mut self) {
        for worker in &self.workers {
            worker.abort();
        }
    }
}

struct Worker {
    store: Arc<dyn Store>,
    projection: Arc<dyn Projection>,
    id: ProjectionId,
    status: watch::Sender<Status>,
}

/// What one pass over a batch achieved.
enum Pass {
    /// Nothing new to apply.
    Idle,
    /// Events applied up to the position.
    Applied(Position),
    /// Another worker moved the checkpoint.
    Raced,
    /// The event at the position failed; the ones before it are committed.
    Failed {
        position: Position,
        error: ProjectionError,
    },
}

impl Worker {
    async fn run(self) {
        let mut appended = self.store.appended();
        let mut checkpoint = self.load_checkpoint().await;
        info!(position = checkpoint, "projection started");
        let mut attempts = 0u32;

        loop {
            match self.pass(checkpoint).await {
                Pass::Idle => {
                    // Appends by this process wake the worker at once; other processes' are
                    // found by the next poll.
                    let _ = tokio::time::timeout(POLL, appended.changed()).await;
                }
                Pass::Applied(position) => {
                    checkpoint = position;
                    attempts = 0;
                    self.publish(checkpoint, None);
                }
                Pass::Raced => {
                    checkpoint = self.load_checkpoint().await;
                    debug!(position = checkpoint, "checkpoint moved by another worker");
                    self.publish(checkpoint, None);
                }
                Pass::Failed { position, error } => {
                    attempts += 1;
                    checkpoint = self.load_checkpoint().await;
                    error!(event_position = position, attempts, error = %error,
                        "projection stopped at an event it cannot apply; retrying");
                    let failure = Failure {
                        position,
                        error: error.to_string(),
                        attempts,
                    };
                    self.publish(checkpoint, Some(failure));
                    tokio::time::sleep(backoff(attempts)).await;
                }
            }
        }
    }

    async fn load_checkpoint(&self) -> Position {
        let mut attempts = 0;
        loop {
            match self.store.checkpoint(&self.id).await {
                Ok(position) => return position,
                Err(error) => {
                    attempts += 1;
                    warn!(error = %error, "cannot read the checkpoint; retrying");
                    tokio::time::sleep(backoff(attempts)).await;
                }
            }
        }
    }

    fn publish(&self, position: Position, failing: Option<Failure>) {
        self.status.send_modify(|status| {
            status.position = position;
            status.failing = failing;
        });
    }

    async fn pass(&self, checkpoint: Position) -> Pass {
        let batch = match self.store.read_all(checkpoint, BATCH).await {
            Ok(batch) if batch.is_empty() => return Pass::Idle,
            Ok(batch) => batch,
            Err(error) => {
                return Pass::Failed {
                    position: checkpoint + 1,
                    error: error.into(),
                };
            }
        };

        match self.apply_batch(checkpoint, &batch).await {
            Ok(position) => Pass::Applied(position),
            Err((_, ProjectionError::Store(StoreError::CheckpointMoved { .. }))) => Pass::Raced,
            Err((failed_at, error)) => {
                // Commit what comes before the failing event, so the projection stops exactly
                // at it; a race or a second failure here just means the next pass retries.
                let before: Vec<_> = batch
                    .iter()
                    .take_while(|e| e.position < failed_at)
                    .cloned()
                    .collect();
                if !before.is_empty() {
                    if let Err((_, error)) = self.apply_batch(checkpoint, &before).await {
                        debug!(error = %error, "could not commit the events before a failure");
                    }
                }
                Pass::Failed {
                    position: failed_at,
                    error,
                }
            }
        }
    }

    /// Applies `batch` after `checkpoint` in one transaction; on failure, the position of the
    /// event that failed (or of the commit) and the error.
    async fn apply_batch(
        &self,
        checkpoint: Position,
        batch: &[RecordedEvent],
    ) -> Result<Position, (Position, ProjectionError)> {
        let first = batch[0].position;
        let last = batch[batch.len() - 1].position;
        let mut tx = self
            .store
            .begin(&self.id, checkpoint)
            .await
            .map_err(|e| (first, e.into()))?;
        for event in batch {
            let span = tracing::debug_span!("apply", position = event.position,
                stream = %event.stream_id, event_type = %event.event_type);
            self.projection
                .apply(event, tx.as_mut())
                .instrument(span)
                .await
                .map_err(|e| (event.position, e))?;
        }
        tx.commit(last).await.map_err(|e| (last, e.into()))?;
        Ok(last)
    }
}

fn backoff(attempts: u32) -> Duration {
    let secs = 1u64 << attempts.min(5).saturating_sub(1);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

/// Applies every event from the start into a fresh version of `projection`, outside the
/// running workers: used by rebuilds and tests. Returns the last position applied.
pub async fn rebuild(
    store: &Arc<dyn Store>,
    projection: &dyn Projection,
) -> Result<Position, ProjectionError> {
    let id = projection.definition().id();
    store.drop_projection(&id).await?;
    let mut checkpoint = 0;
    loop {
        let batch = store.read_all(checkpoint, BATCH).await?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        let mut tx = store.begin(&id, checkpoint).await?;
        for event in &batch {
            projection.apply(event, tx.as_mut()).await?;
        }
        tx.commit(last).await?;
        checkpoint = last;
    }
    Ok(checkpoint)
}
