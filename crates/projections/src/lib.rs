//! The read side: a runtime that keeps projections up to date, and the read models.
//!
//! Guarantees of the runtime ([`runtime`]):
//!
//! - each projection applies the store's events in global order, each event once: its
//!   documents and its checkpoint are committed in one transaction, and the commit checks that
//!   the checkpoint did not move meanwhile, so two workers (or two server instances) never
//!   apply one event twice, and a restart resumes exactly after the last committed event;
//! - a handler that fails on an event stops its projection at that event: the events before
//!   it are committed, the checkpoint stays just before it, and the event is retried with
//!   backoff while the failure is reported ([`runtime::Status`]);
//! - a caller that has appended up to a position can wait until the read models show it
//!   (read-your-writes).
//!
//! Read models are defined under the workspace's `projections/` folder, each with a version;
//! a new version starts empty and is filled from the first event while the previous one keeps
//! serving, and replaces it once it has caught up ([`serving`]).

pub mod agent_queue;
pub mod claim_detail;
pub mod claim_history;
pub mod definition;
pub mod runtime;
pub mod satisfaction_stats;
pub mod serving;

use std::sync::Arc;

pub use definition::Definition;
pub use runtime::{
    Options, Projection, ProjectionError, Projections, RebuildError, RebuildStarted, Status,
};

/// Every read model the service keeps.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(claim_detail::ClaimDetail::new()),
        Arc::new(claim_history::ClaimHistory::new()),
        Arc::new(agent_queue::AgentQueue::new()),
        Arc::new(satisfaction_stats::SatisfactionStats::new()),
    ]
}
