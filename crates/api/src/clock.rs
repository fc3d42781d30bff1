//! The time, injected so that tests can move it. The clock lives in the claims crate, where
//! the process manager reads it too; it is re-exported here so the API's users need not know.

pub use claimdesk_claims::clock::*;
