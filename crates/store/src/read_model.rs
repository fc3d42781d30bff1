//! Read models as documents, and the checkpoints of the projections that keep them.
//!
//! A projection owns the documents stored under its [`ProjectionId`]; a new version of a
//! projection starts from an empty set of documents and position 0, while the previous
//! version keeps serving. Documents and the checkpoint change in one transaction.
//!
//! A unit of work ([`ReadModelTx`]) keeps its changes in memory, where its own `get` sees
//! them, and writes them with the checkpoint in one short transaction at `commit`: nothing
//! is locked while the projection computes, so appends and other projections never wait for
//! it (SQLite has a single writer), and a unit of work dropped without commit leaves no trace.
//! The checkpoint's compare-and-set at commit is what keeps two workers of one projection
//! from both applying a batch.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::process::{OutboxMessage, Timer};
use crate::{Position, StoreError};

/// A projection's name and the version of its definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProjectionId {
    pub name: String,
    pub version: u32,
}

/// One read-model document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// A kind of document within the projection (`claims`, `queue`, ...).
    pub collection: String,
    /// Unique within the collection.
    pub key: String,
    /// An optional group to list by (an entity's queue, ...).
    pub partition: Option<String>,
    /// The order of a partition's listing, compared as text.
    pub sort_key: Option<String>,
    pub body: serde_json::Value,
}

/// Reading and maintaining projections' documents.
#[async_trait]
pub trait ReadModels: Send + Sync {
    /// Starts a unit of work for `projection`, whose checkpoint is expected at `from`.
    async fn begin(
        &self,
        projection: &ProjectionId,
        from: Position,
    ) -> Result<Box<dyn ReadModelTx>, StoreError>;

    /// The last position `projection` has applied (`0` when it never ran).
    async fn checkpoint(&self, projection: &ProjectionId) -> Result<Position, StoreError>;

    async fn get(
        &self,
        projection: &ProjectionId,
        collection: &str,
        key: &str,
    ) -> Result<Option<Document>, StoreError>;

    /// A collection's documents, filtered by partition when given, ordered by sort key then key.
    async fn list(
        &self,
        projection: &ProjectionId,
        collection: &str,
        partition: Option<&str>,
    ) -> Result<Vec<Document>, StoreError>;

    /// Removes every document and the checkpoint of `projection`.
    async fn drop_projection(&self, projection: &ProjectionId) -> Result<(), StoreError>;
}

/// Changes to one projection's documents (and the process manager's outbox and timers),
/// applied together with its checkpoint.
#[async_trait]
pub trait ReadModelTx: Send {
    async fn get(&mut self, collection: &str, key: &str) -> Result<Option<Document>, StoreError>;
    /// Inserts or replaces the document with the same collection and key.
    async fn put(&mut self, document: Document) -> Result<(), StoreError>;
    async fn delete(&mut self, collection: &str, key: &str) -> Result<(), StoreError>;
    /// Queues an email, written at commit unless its delivery key is already queued; see
    /// [`crate::process`].
    async fn enqueue(&mut self, message: OutboxMessage) -> Result<(), StoreError>;
    /// Sets the timer of `timer.stream_id` and `timer.kind` at commit, unless a later event
    /// set it; see [`crate::process`].
    async fn schedule(&mut self, timer: Timer) -> Result<(), StoreError>;
    /// Removes, at commit, the timers of `stream_id` set by events before position `before`.
    async fn cancel_timers(&mut self, stream_id: &str, before: Position) -> Result<(), StoreError>;
    /// Moves the checkpoint from the `from` given to `begin` to `to` and commits everything.
    ///
    /// Fails with [`StoreError::CheckpointMoved`] (and stores nothing) when another worker
    /// moved the checkpoint meanwhile.
    async fn commit(self: Box<Self>, to: Position) -> Result<(), StoreError>;
}

/// A unit of work's uncommitted changes: the last one made to each document.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    changes: BTreeMap<(String, String), Change>,
}

/// The last change made to one document within a unit of work.
#[derive(Debug)]
pub(crate) enum Change {
    Put(Document),
    Delete { collection: String, key: String },
}

impl Pending {
    /// `Some` when the unit of work changed the document: its new state (`None` if deleted).
    pub(crate) fn get(&self, collection: &str, key: &str) -> Option<Option<Document>> {
        match self.changes.get(&(collection.to_owned(), key.to_owned()))? {
            Change::Put(document) => Some(Some(document.clone())),
            Change::Delete { .. } => Some(None),
        }
    }

    pub(crate) fn put(&mut self, document: Document) {
        let id = (document.collection.clone(), document.key.clone());
        self.changes.insert(id, Change::Put(document));
    }

    pub(crate) fn delete(&mut self, collection: &str, key: &str) {
        let (collection, key) = (collection.to_owned(), key.to_owned());
        let change = Change::Delete {
            collection: collection.clone(),
            key: key.clone(),
        };
        self.changes.insert((collection, key), change);
    }

    pub(crate) fn into_changes(self) -> impl Iterator<Item = Change> {
        self.changes.into_values()
    }
}

/// Refuses a commit that would move a checkpoint backwards.
pub(crate) fn check_move(
    projection: &ProjectionId,
    from: Position,
    to: Position,
) -> Result<(), StoreError> {
    if to < from {
        let name = &projection.name;
        return Err(StoreError::Invalid(format!(
            "checkpoint of {name} cannot go back from {from} to {to}"
        )));
    }
    Ok(())
}
