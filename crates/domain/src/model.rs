//! The value types a claim is made of: language, contact, attachments, actors, status.
//!
//! These are plain data. Their serde forms are part of the stored events and therefore stable:
//! renaming a variant or a field is a schema change (see [`crate::event`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The language the client filed in; emails and pages follow it. Serialized `"fr"` / `"ar"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// French, the default.
    Fr,
    /// Arabic, written right to left.
    Ar,
}

impl Language {
    /// The ISO 639-1 code: `"fr"` or `"ar"`.
    pub const fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::Ar => "ar",
        }
    }
}

/// How a claim reached the office. Serialized `"web"`.
///
/// Only the online wizard (the web pages and the HTTP API behind them) files claims so far;
/// the field exists so that claims entered at an office's counter or sent by a partner's
/// integration can be told apart when those channels open. `ClaimFiled` events of schema
/// version 1 predate the field: they were all filed on the web (see the claims codec's
/// upcaster).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The online wizard.
    Web,
}

/// Who the client is. Serialized `"natural_person"` / `"legal_person"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// A person acting for themselves (last and first name apply).
    NaturalPerson,
    /// A company (the company name applies).
    LegalPerson,
}

/// The client's contact details: personal data, kept inside the `personal` part of events.
///
/// `profile` and `email` are mandatory; every other field is optional, and when given must not
/// be blank (an empty form field is `None`, not `Some("")`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub profile: Profile,
    pub email: String,
    pub company_name: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// A file joined to a filing, an answer or a message. The blob itself lives in the
/// content-addressed store; the event records only this description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The blob's id in the attachment store.
    pub id: String,
    /// The name the file was sent with, kept for downloads.
    pub filename: String,
    /// Size in bytes, at most [`crate::limits::ATTACHMENT_BYTES`].
    pub size: u64,
    /// The media type judged from the content, e.g. `application/pdf`.
    pub media_type: String,
    /// The SHA-256 of the content: 64 lowercase hexadecimal digits.
    pub sha256: String,
}

/// Who did something to a claim. Serialized with a `kind` tag:
/// `{"kind":"client"}`, `{"kind":"agent","login":..,"entity":..}`,
/// `{"kind":"staff","login":..,"role":..}`, `{"kind":"system"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// The client who filed the claim (authenticated by number and email).
    Client,
    /// An agent of a handling entity; may act only on claims handled by that entity.
    Agent { login: String, entity: String },
    /// A member of staff outside the handling entities, e.g. an administrator transferring a
    /// claim; may act on any claim.
    Staff { login: String, role: String },
    /// The service itself, e.g. the automatic closure timer.
    System,
}

impl Actor {
    /// An agent of `entity` logged in as `login`.
    pub fn agent(login: impl Into<String>, entity: impl Into<String>) -> Self {
        Actor::Agent {
            login: login.into(),
            entity: entity.into(),
        }
    }

    /// A member of staff logged in as `login` with `role`.
    pub fn staff(login: impl Into<String>, role: impl Into<String>) -> Self {
        Actor::Staff {
            login: login.into(),
            role: role.into(),
        }
    }

    /// Whether this is the client; only the client's actions count as a reaction to an answer.
    pub fn is_client(&self) -> bool {
        matches!(self, Actor::Client)
    }

    /// Whether this actor works for the office (an agent or staff).
    pub fn is_office(&self) -> bool {
        matches!(self, Actor::Agent { .. } | Actor::Staff { .. })
    }
}

/// The audit form: `client`, `agent:<login>`, `staff:<login>`, `system`.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Client => f.write_str("client"),
            Actor::Agent { login, .. } => write!(f, "agent:{login}"),
            Actor::Staff { login, .. } => write!(f, "staff:{login}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// Where a claim stands. Serialized `"pending"`, `"answered"`, `"closed"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Waiting on the handling entity.
    Pending,
    /// Answered: waiting on the client, with an automatic-closure deadline running.
    Answered,
    /// Closed by the client, by an agent with its answer, or automatically.
    Closed,
}

impl ClaimStatus {
    /// The serialized name: `pending`, `answered` or `closed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Answered => "answered",
            ClaimStatus::Closed => "closed",
        }
    }
}

impl fmt::Display for ClaimStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
