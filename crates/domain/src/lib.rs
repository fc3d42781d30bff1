//! The claimdesk domain: a claim as a pure decision model.
//!
//! A claim's history is a list of [`ClaimEvent`]s. Its current state is their fold
//! ([`ClaimState::fold`], [`ClaimState::evolve`]); a [`ClaimCommand`] is decided against that
//! state by [`decide`], which returns the new events to append, or a [`DomainError`].
//!
//! Guarantees of the whole crate:
//!
//! - **Pure.** No I/O, no clock reads, no randomness, no logging: time ([`Timestamp`]) and
//!   identifiers (claim numbers, attachment ids) come in with the commands. Deciding the same
//!   command on the same state always gives the same result.
//! - **Small dependencies.** Only `serde` and `thiserror`; the other crates depend on this one,
//!   never the other way round.
//! - **Stable stored forms.** Events serialize as `{"type", "data"}` with a per-type schema
//!   version; times as RFC 3339 UTC strings with six fractional digits. Personal data sits in
//!   a `personal` field of each payload, and only there.
//! - **Status rules** are listed in [`decision`] and enforced there alone.

pub mod command;
pub mod decision;
pub mod error;
pub mod event;
pub mod limits;
pub mod model;
pub mod state;
pub mod text;
pub mod time;

pub use command::ClaimCommand;
pub use decision::decide;
pub use error::{DomainError, ErrorKind};
pub use event::{
    AnsweredPersonal, ClaimAnswered, ClaimAutoClosed, ClaimClosed, ClaimEvent, ClaimFiled,
    ClaimReopened, ClaimRouted, ClaimTransferred, ClosedPersonal, EventPayload, FiledPersonal,
    MessagePersonal, MessagePosted, ReopenedPersonal, TransferredPersonal,
};
pub use model::{Actor, Attachment, Channel, ClaimStatus, Contact, Language, Profile};
pub use state::{Actions, ClaimState, Deadline, Filing, Rating};
pub use text::{is_blank, is_direction_override, is_invisible};
pub use time::{Duration, DurationParseError, Timestamp, TimestampError, UtcDateTime};

/// The default delay before an answered claim closes by itself: 7 × 24 hours.
///
/// The service may be configured with another delay; the domain takes the deadline from each
/// `Answer` command.
pub const DEFAULT_AUTO_CLOSE_AFTER: Duration = Duration::from_days(7);
