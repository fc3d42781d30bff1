//! The decision: a command against a claim's state gives new events, or a refusal.
//!
//! [`decide`] is a pure function: no I/O, no clock, no randomness, no logging. The same state
//! and command always give the same answer, so a command refused for a concurrency conflict
//! can be decided again on the fresh state.
//!
//! # Status rules
//!
//! Statuses: `pending` waits on the handling entity, `answered` waits on the client (with a
//! running automatic-closure deadline), `closed` waits on nobody.
//!
//! - `File`: accepted only before the claim exists; gives `ClaimFiled` then `ClaimRouted`;
//!   → `pending`.
//! - `Answer` by an agent of the handling entity or staff, on a claim not closed: gives
//!   `ClaimAnswered`; → `answered`, the deadline becomes the command's `auto_close_at`
//!   (replacing any earlier one).
//! - `Answer` with `close`: gives `ClaimAnswered` then `ClaimClosed` by the same agent with no
//!   satisfaction; → `closed`, no deadline. The agent's closing is not a client reaction and
//!   gives no rating.
//! - `PostMessage` by an agent of the handling entity or staff: gives `MessagePosted`; status
//!   and deadline unchanged. The system may not post (`actor_not_allowed`).
//! - `PostMessage` by the client: gives `MessagePosted`; `answered` → `pending` and the
//!   deadline is cancelled; `pending` stays `pending`.
//! - `Close` by the client from `pending` or `answered`, satisfaction 1 to 5: gives
//!   `ClaimClosed` with the satisfaction; → `closed`, deadline cancelled.
//! - `Reopen` by the client, only from `closed`, reason required: gives `ClaimReopened`;
//!   → `pending` (`not_closed` otherwise).
//! - `AutoClose` by the system, only when `answered` and `at` ≥ the deadline: gives
//!   `ClaimAutoClosed` with the answer's time and the deadline; → `closed`.
//! - `Transfer` by an agent of the handling entity or staff, on a claim not closed, to another
//!   entity (`same_entity` otherwise), reason required: gives `ClaimTransferred`; status and
//!   deadline unchanged, the new entity handles the claim.
//!
//! Across commands:
//!
//! - Nothing but `Reopen` is accepted on a closed claim (`claim_closed`); nothing but `File` on
//!   a claim not filed (`not_filed`).
//! - The deadline is that of the latest answer with no later client reaction. A client
//!   reaction is a client's message, close or reopen; an agent's message, a transfer, or the
//!   agent's own closing with its answer are not. `AutoClose` is refused with `not_answered`
//!   when the claim is `pending` (the client reacted, or it was never answered) and with
//!   `not_due` before the deadline; it is accepted at the deadline itself.
//! - Deadlines are UTC instants given by the caller (normally the answer's time plus 7 × 24
//!   hours); the domain only requires the deadline to be after the answer.
//! - Texts (subject, message, body, reason, the comment when given) are refused with
//!   `blank_text` when they show nothing (see [`crate::is_blank`]), `text_too_long` past their
//!   limit ([`crate::limits`]); satisfaction outside 1 to 5 with `satisfaction_out_of_range`.
//!
//! Checks run in this order, and the first failure is returned: the claim exists (or not, for
//! `File`); the claim is open (or closed, for `Reopen`); the actor may act; the command's own
//! content ([`ClaimCommand::input_errors`]); the remaining state rules (`same_entity`,
//! `not_answered`, `not_due`).

use crate::command::ClaimCommand;
use crate::error::DomainError;
use crate::event::{
    AnsweredPersonal, ClaimAnswered, ClaimAutoClosed, ClaimClosed, ClaimEvent, ClaimFiled,
    ClaimReopened, ClaimRouted, ClaimTransferred, ClosedPersonal, FiledPersonal, MessagePersonal,
    MessagePosted, ReopenedPersonal, TransferredPersonal,
};
use crate::model::{Actor, Channel, ClaimStatus};
use crate::state::ClaimState;
use crate::time::Timestamp;

/// Decides `command` against `state`: the events to append, or why not.
pub fn decide(state: &ClaimState, command: ClaimCommand) -> Result<Vec<ClaimEvent>, DomainError> {
    let input_error = command.input_errors().into_iter().next();

    match command {
        ClaimCommand::File {
            number,
            at,
            language,
            theme,
            filing_place,
            subject,
            request_number,
            message,
            attachments,
            contact,
            entity,
            rule,
        } => {
            if state.is_filed() {
                return Err(DomainError::AlreadyFiled);
            }
            reject(input_error)?;

            Ok(vec![
                ClaimEvent::ClaimFiled(ClaimFiled {
                    number,
                    filed_at: at,
                    channel: Channel::Web,
                    language,
                    theme,
                    filing_place,
                    subject,
                    request_number,
                    attachments,
                    personal: FiledPersonal { contact, message },
                }),
                ClaimEvent::ClaimRouted(ClaimRouted { entity, rule, at }),
            ])
        }

        ClaimCommand::Reopen { reason, at } => {
            require_filed(state)?;
            if !state.is_closed() {
                return Err(DomainError::NotClosed);
            }
            reject(input_error)?;

            Ok(vec![ClaimEvent::ClaimReopened(ClaimReopened {
                by: Actor::Client,
                at,
                personal: ReopenedPersonal { reason },
            })])
        }

        ClaimCommand::Transfer { to, by, reason, at } => {
            require_open(state)?;
            reject(state.office_actor_error(&by))?;
            reject(input_error)?;

            transfer(state, to, by, reason, at)
        }

        ClaimCommand::Answer {
            by,
            body,
            attachments,
            at,
            auto_close_at,
            close,
        } => {
            require_open(state)?;
            reject(state.office_actor_error(&by))?;
            reject(input_error)?;

            // The agent's own closing is not a client reaction: it carries no satisfaction.
            let closing = close.then(|| {
                ClaimEvent::ClaimClosed(ClaimClosed {
                    by: by.clone(),
                    at,
                    satisfaction: None,
                    personal: ClosedPersonal { comment: None },
                })
            });
            let answer = ClaimEvent::ClaimAnswered(ClaimAnswered {
                by,
                at,
                attachments,
                auto_close_at,
                personal: AnsweredPersonal { body },
            });
            Ok(std::iter::once(answer).chain(closing).collect())
        }

        ClaimCommand::PostMessage {
            by,
            body,
            attachments,
            at,
        } => {
            require_open(state)?;
            reject(message_actor_error(state, &by))?;
            reject(input_error)?;

            Ok(vec![ClaimEvent::MessagePosted(MessagePosted {
                by,
                at,
                attachments,
                personal: MessagePersonal { body },
            })])
        }

        ClaimCommand::Close {
            satisfaction,
            comment,
            at,
        } => {
            require_open(state)?;
            reject(input_error)?;

            Ok(vec![ClaimEvent::ClaimClosed(ClaimClosed {
                by: Actor::Client,
                at,
                satisfaction: Some(satisfaction),
                personal: ClosedPersonal { comment },
            })])
        }

        ClaimCommand::AutoClose { at } => {
            require_open(state)?;
            reject(input_error)?;

            auto_close(state, at)
        }
    }
}

fn reject(error: Option<DomainError>) -> Result<(), DomainError> {
    error.map_or(Ok(()), Err)
}

fn require_filed(state: &ClaimState) -> Result<(), DomainError> {
    if state.is_filed() {
        Ok(())
    } else {
        Err(DomainError::NotFiled)
    }
}

/// Filed and not closed: the only states in which anything but a reopening is accepted.
fn require_open(state: &ClaimState) -> Result<(), DomainError> {
    require_filed(state)?;
    if state.is_closed() {
        Err(DomainError::ClaimClosed)
    } else {
        Ok(())
    }
}

/// The client and the office may write; the service may not.
fn message_actor_error(state: &ClaimState, by: &Actor) -> Option<DomainError> {
    match by {
        Actor::Client => None,
        Actor::Agent { .. } | Actor::Staff { .. } => state.office_actor_error(by),
        Actor::System => Some(DomainError::ActorNotAllowed {
            actor: by.to_string(),
        }),
    }
}

fn transfer(
    state: &ClaimState,
    to: String,
    by: Actor,
    reason: String,
    at: Timestamp,
) -> Result<Vec<ClaimEvent>, DomainError> {
    let Some(from) = state.entity() else {
        return Err(DomainError::NotRouted);
    };
    if from == to {
        return Err(DomainError::SameEntity { entity: to });
    }

    Ok(vec![ClaimEvent::ClaimTransferred(ClaimTransferred {
        from: from.to_owned(),
        to,
        by,
        at,
        personal: TransferredPersonal { reason },
    })])
}

fn auto_close(state: &ClaimState, at: Timestamp) -> Result<Vec<ClaimEvent>, DomainError> {
    let deadline = match (state.status(), state.deadline()) {
        (Some(ClaimStatus::Answered), Some(deadline)) => deadline,
        _ => return Err(DomainError::NotAnswered),
    };
    if at < deadline.auto_close_at {
        return Err(DomainError::NotDue {
            due_at: deadline.auto_close_at,
        });
    }

    Ok(vec![ClaimEvent::ClaimAutoClosed(ClaimAutoClosed {
        at,
        answered_at: deadline.answered_at,
        due_at: deadline.auto_close_at,
    })])
}
