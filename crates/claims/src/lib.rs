//! Claims on the event store: how claim events are written and read back ([`codec`]), how a
//! command is carried out ([`handler`]), and the injectable clock everyone reads the time
//! from ([`clock`]).
//!
//! The handler loads a claim's stream, folds it, lets the pure domain decide and appends the
//! result only if the stream has not moved. When it has moved, the command is decided again on
//! the fresh state, a bounded number of times: a command is therefore either stored exactly
//! once, refused by the domain on the state it finally saw, or reported as a conflict. It is
//! never reported as done without its events.

pub mod audit;
pub mod clock;
pub mod codec;
pub mod handler;
pub mod simulate;

pub use codec::{decode, encode, number_of_stream, stream_id, CodecError};
pub use handler::{execute, CommandError, Executed};
