//! The handlers, one module per part of the API.

pub mod agent;
pub mod claims;
pub mod ops;
pub mod public;
pub mod sessions;
