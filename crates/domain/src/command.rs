//! What someone asks of a claim. A command is a request: [`crate::decide`] turns it into events
//! or refuses it. Every command carries its own time (`at`); the domain reads no clock.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::limits;
use crate::model::{Actor, Attachment, Contact, Language};
use crate::text::{Checks, Lines};
use crate::time::Timestamp;

/// A request to change a claim.
// Boxing `File` would make every caller build and match a box, to save memory on a value that
// lives for one decision.
#[allow(
    clippy::large_enum_variant,
    reason = "one short-lived command per request"
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ClaimCommand {
    /// The client files a new claim, already routed to `entity` by `rule` (routing is
    /// reference data, chosen by the caller). Yields `ClaimFiled` then `ClaimRouted`.
    File {
        number: String,
        at: Timestamp,
        language: Language,
        theme: String,
        filing_place: String,
        subject: String,
        request_number: String,
        message: String,
        attachments: Vec<Attachment>,
        contact: Contact,
        entity: String,
        rule: String,
    },
    /// An agent of the handling entity or staff moves the claim to another entity.
    Transfer {
        to: String,
        by: Actor,
        reason: String,
        at: Timestamp,
    },
    /// An agent of the handling entity or staff answers. The claim then waits on the client
    /// until `auto_close_at`; with `close`, the answer also closes the claim at once.
    Answer {
        by: Actor,
        body: String,
        attachments: Vec<Attachment>,
        at: Timestamp,
        auto_close_at: Timestamp,
        close: bool,
    },
    /// The client, an agent of the handling entity or staff writes in the exchange.
    PostMessage {
        by: Actor,
        body: String,
        attachments: Vec<Attachment>,
        at: Timestamp,
    },
    /// The client closes the claim with a satisfaction level (1 to 5) and an optional comment.
    Close {
        satisfaction: u8,
        comment: Option<String>,
        at: Timestamp,
    },
    /// The client reopens a closed claim, saying why.
    Reopen { reason: String, at: Timestamp },
    /// The service closes an answered claim whose deadline has passed.
    AutoClose { at: Timestamp },
}

impl ClaimCommand {
    /// A short name for logs and spans: `file`, `transfer`, `answer`, `post_message`, `close`,
    /// `reopen`, `auto_close`.
    pub fn name(&self) -> &'static str {
        match self {
            ClaimCommand::File { .. } => "file",
            ClaimCommand::Transfer { .. } => "transfer",
            ClaimCommand::Answer { .. } => "answer",
            ClaimCommand::PostMessage { .. } => "post_message",
            ClaimCommand::Close { .. } => "close",
            ClaimCommand::Reopen { .. } => "reopen",
            ClaimCommand::AutoClose { .. } => "auto_close",
        }
    }

    /// When the command was issued.
    pub fn at(&self) -> Timestamp {
        match self {
            ClaimCommand::File { at, .. }
            | ClaimCommand::Transfer { at, .. }
            | ClaimCommand::Answer { at, .. }
            | ClaimCommand::PostMessage { at, .. }
            | ClaimCommand::Close { at, .. }
            | ClaimCommand::Reopen { at, .. }
            | ClaimCommand::AutoClose { at } => *at,
        }
    }

    /// Who issues the command: `Close` and `Reopen` come from the client, `AutoClose` from the
    /// service, `File` from the client.
    pub fn actor(&self) -> Actor {
        match self {
            ClaimCommand::File { .. }
            | ClaimCommand::Close { .. }
            | ClaimCommand::Reopen { .. } => Actor::Client,
            ClaimCommand::Transfer { by, .. }
            | ClaimCommand::Answer { by, .. }
            | ClaimCommand::PostMessage { by, .. } => by.clone(),
            ClaimCommand::AutoClose { .. } => Actor::System,
        }
    }

    /// Every error in the command's own content, whatever the claim's state, in field order.
    ///
    /// [`crate::decide`] refuses a command with the first of these (after the state checks);
    /// a form can show them all at once.
    pub fn input_errors(&self) -> Vec<DomainError> {
        let mut checks = Checks::default();
        match self {
            ClaimCommand::File {
                number,
                theme,
                filing_place,
                subject,
                request_number,
                message,
                attachments,
                contact,
                entity,
                rule,
                ..
            } => {
                checks.text("number", number, limits::CODE, Lines::Single);
                checks.text("theme", theme, limits::CODE, Lines::Single);
                checks.text("filing_place", filing_place, limits::CODE, Lines::Single);
                checks.text("subject", subject, limits::SUBJECT, Lines::Single);
                checks.text(
                    "request_number",
                    request_number,
                    limits::CODE,
                    Lines::Single,
                );
                checks.text("message", message, limits::MESSAGE, Lines::Multi);
                checks.attachments(attachments);
                checks.contact(contact);
                checks.text("entity", entity, limits::CODE, Lines::Single);
                checks.text("rule", rule, limits::CODE, Lines::Single);
            }
            ClaimCommand::Transfer { to, reason, .. } => {
                checks.text("to", to, limits::CODE, Lines::Single);
                checks.text("reason", reason, limits::REASON, Lines::Multi);
            }
            ClaimCommand::Answer {
                body,
                attachments,
                at,
                auto_close_at,
                ..
            } => {
                checks.text("body", body, limits::MESSAGE, Lines::Multi);
                checks.attachments(attachments);
                if auto_close_at <= at {
                    checks.push(DomainError::InvalidDeadline);
                }
            }
            ClaimCommand::PostMessage {
                body, attachments, ..
            } => {
                checks.text("body", body, limits::MESSAGE, Lines::Multi);
                checks.attachments(attachments);
            }
            ClaimCommand::Close {
                satisfaction,
                comment,
                ..
            } => {
                checks.satisfaction(*satisfaction);
                checks.optional_text("comment", comment.as_deref(), limits::COMMENT, Lines::Multi);
            }
            ClaimCommand::Reopen { reason, .. } => {
                checks.text("reason", reason, limits::REASON, Lines::Multi);
            }
            ClaimCommand::AutoClose { .. } => {}
        }
        checks.into_errors()
    }
}
