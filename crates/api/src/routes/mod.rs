//! The handlers, one module per part of the API.

pub mod admin;
pub mod agent;
pub mod audit;
pub mod claims;
pub mod ops;
pub mod outbox;
pub mod public;
pub mod sessions;
pub mod stats;
