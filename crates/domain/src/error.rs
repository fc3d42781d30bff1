//! Why the domain refuses a command.
//!
//! Every refusal has a stable English [`code`](DomainError::code) (part of the HTTP contract's
//! `code` / `errors[].code`) and a [`kind`](DomainError::kind) that tells the layer above how to
//! answer. A refusal never means that something was stored: `decide` returns events or an
//! error, never both.

use crate::time::Timestamp;

/// How a refusal should be reported by the layers above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The claim does not exist (HTTP 404).
    NotFound,
    /// The command does not fit the claim's current state; it may fit a later state, or came
    /// too late (HTTP 409).
    Conflict,
    /// This actor may not do this to this claim (HTTP 403).
    Forbidden,
    /// The command's own content is invalid whatever the state (HTTP 422); see
    /// [`DomainError::field`].
    Invalid,
}

/// A command refused by [`crate::decide`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Any command but `File` on a claim that has not been filed. [`ErrorKind::NotFound`].
    #[error("the claim has not been filed")]
    NotFiled,
    /// `File` on a claim that exists already. [`ErrorKind::Conflict`].
    #[error("the claim has already been filed")]
    AlreadyFiled,
    /// Anything but a reopening on a closed claim. [`ErrorKind::Conflict`].
    #[error("the claim is closed; it can only be reopened")]
    ClaimClosed,
    /// A reopening of a claim that is not closed. [`ErrorKind::Conflict`].
    #[error("the claim is not closed")]
    NotClosed,
    /// An automatic closure of a claim that is not waiting on the client.
    /// [`ErrorKind::Conflict`].
    #[error("the claim is not answered and waiting on the client")]
    NotAnswered,
    /// An automatic closure before the deadline. [`ErrorKind::Conflict`].
    #[error("the automatic closure is due at {due_at}, not before")]
    NotDue { due_at: Timestamp },
    /// A transfer to the entity that already handles the claim. [`ErrorKind::Conflict`].
    #[error("the claim is already handled by {entity}")]
    SameEntity { entity: String },
    /// An entity's action on a claim that no entity handles yet. [`ErrorKind::Conflict`].
    #[error("the claim has not been routed to a handling entity")]
    NotRouted,
    /// An answer or transfer by someone who is not an agent or staff. [`ErrorKind::Forbidden`].
    #[error("only an agent or staff may do this")]
    NotAnAgent,
    /// An agent acting on a claim handled by another entity. [`ErrorKind::Forbidden`].
    #[error("an agent of {actor_entity} may not act on a claim handled by {claim_entity}")]
    WrongEntity {
        actor_entity: String,
        claim_entity: String,
    },
    /// An actor that may never do this (the system posting a message). [`ErrorKind::Forbidden`].
    #[error("{actor} may not do this")]
    ActorNotAllowed { actor: String },
    /// A satisfaction level outside 1 to 5. [`ErrorKind::Invalid`].
    #[error("satisfaction must be 1 to 5, not {value}")]
    SatisfactionOutOfRange { value: u8 },
    /// A required text that is empty or only whitespace or invisible characters.
    /// [`ErrorKind::Invalid`].
    #[error("{field} is blank")]
    BlankText { field: &'static str },
    /// A text longer than its limit, counted in characters. [`ErrorKind::Invalid`].
    #[error("{field} is longer than {max} characters")]
    TextTooLong { field: &'static str, max: usize },
    /// A text with control characters (line breaks are allowed only in multi-line texts).
    /// [`ErrorKind::Invalid`].
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
    /// An email address without the `local@domain.tld` shape. [`ErrorKind::Invalid`].
    #[error("{field} is not an email address")]
    InvalidEmail { field: &'static str },
    /// More attachments than allowed on one filing, answer or message. [`ErrorKind::Invalid`].
    #[error("at most {max} attachments may be joined")]
    TooManyAttachments { max: usize },
    /// An attachment over the size limit. [`ErrorKind::Invalid`].
    #[error("attachment {filename:?} is larger than {max} bytes")]
    AttachmentTooLarge { filename: String, max: u64 },
    /// An attachment whose description is incomplete or malformed. [`ErrorKind::Invalid`].
    #[error("invalid attachment: {reason}")]
    InvalidAttachment { reason: &'static str },
    /// An answer whose automatic-closure deadline is not after the answer.
    /// [`ErrorKind::Invalid`].
    #[error("the automatic closure deadline must be after the answer")]
    InvalidDeadline,
}

impl DomainError {
    /// The stable identifier of the refusal, e.g. `"blank_text"`.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::NotFiled => "not_filed",
            DomainError::AlreadyFiled => "already_filed",
            DomainError::ClaimClosed => "claim_closed",
            DomainError::NotClosed => "not_closed",
            DomainError::NotAnswered => "not_answered",
            DomainError::NotDue { .. } => "not_due",
            DomainError::SameEntity { .. } => "same_entity",
            DomainError::NotRouted => "not_routed",
            DomainError::NotAnAgent => "not_an_agent",
            DomainError::WrongEntity { .. } => "wrong_entity",
            DomainError::ActorNotAllowed { .. } => "actor_not_allowed",
            DomainError::SatisfactionOutOfRange { .. } => "satisfaction_out_of_range",
            DomainError::BlankText { .. } => "blank_text",
            DomainError::TextTooLong { .. } => "text_too_long",
            DomainError::ControlCharacters { .. } => "control_characters",
            DomainError::InvalidEmail { .. } => "invalid_email",
            DomainError::TooManyAttachments { .. } => "too_many_attachments",
            DomainError::AttachmentTooLarge { .. } => "attachment_too_large",
            DomainError::InvalidAttachment { .. } => "invalid_attachment",
            DomainError::InvalidDeadline => "invalid_deadline",
        }
    }

    /// How the refusal should be reported.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DomainError::NotFiled => ErrorKind::NotFound,
            DomainError::AlreadyFiled
            | DomainError::ClaimClosed
            | DomainError::NotClosed
            | DomainError::NotAnswered
            | DomainError::NotDue { .. }
            | DomainError::SameEntity { .. }
            | DomainError::NotRouted => ErrorKind::Conflict,
            DomainError::NotAnAgent
            | DomainError::WrongEntity { .. }
            | DomainError::ActorNotAllowed { .. } => ErrorKind::Forbidden,
            DomainError::SatisfactionOutOfRange { .. }
            | DomainError::BlankText { .. }
            | DomainError::TextTooLong { .. }
            | DomainError::ControlCharacters { .. }
            | DomainError::InvalidEmail { .. }
            | DomainError::TooManyAttachments { .. }
            | DomainError::AttachmentTooLarge { .. }
            | DomainError::InvalidAttachment { .. }
            | DomainError::InvalidDeadline => ErrorKind::Invalid,
        }
    }

    /// The command field an [`ErrorKind::Invalid`] refusal is about, as the HTTP contract
    /// names it (`subject`, `contact.email`, `attachments`...); `None` for the other kinds.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::BlankText { field }
            | DomainError::TextTooLong { field, .. }
            | DomainError::ControlCharacters { field }
            | DomainError::InvalidEmail { field } => Some(field),
            DomainError::SatisfactionOutOfRange { .. } => Some("satisfaction"),
            DomainError::TooManyAttachments { .. }
            | DomainError::AttachmentTooLarge { .. }
            | DomainError::InvalidAttachment { .. } => Some("attachments"),
            DomainError::InvalidDeadline => Some("auto_close_at"),
            _ => None,
        }
    }
}
