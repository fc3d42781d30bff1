//! A claim's current state, folded from its events.
//!
//! Guarantees:
//!
//! - **Folding never fails** and depends on nothing but the events, in order:
//!   `ClaimState::fold(events)` equals `ClaimState::default()` evolved by each event in turn.
//! - **No personal data.** The state keeps what decisions, screens' status fields and
//!   statistics need (number, language, theme, status, entity, deadline, ratings, counts),
//!   never contact details or texts, so holding it needs no key.
//! - **One deadline at a time.** [`ClaimState::deadline`] is the deadline of the latest answer
//!   not yet followed by a client reaction (message, close, reopen); it is set exactly when the
//!   status is [`ClaimStatus::Answered`].
//! - **Every rating is kept**, in order: a claim closed with 5, reopened and closed with 2 has
//!   the ratings `[5, 2]`. The documented rule for statistics is that the latest rating is the
//!   claim's satisfaction ([`ClaimState::satisfaction`]); the earlier ones stay for history.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::event::ClaimEvent;
use crate::model::{Actor, Channel, ClaimStatus, Language};
use crate::time::Timestamp;

/// The non-personal facts recorded at filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub number: String,
    pub filed_at: Timestamp,
    pub channel: Channel,
    pub language: Language,
    pub theme: String,
    pub filing_place: String,
    pub subject: String,
    pub request_number: String,
}

/// The automatic-closure deadline started by an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When the answer was given.
    pub answered_at: Timestamp,
    /// When the claim closes by itself unless the client reacts before.
    pub auto_close_at: Timestamp,
}

/// A satisfaction level given by the client when closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating {
    /// 1 to 5.
    pub satisfaction: u8,
    pub at: Timestamp,
}

/// What the client may do now; serialized as `{"message", "close", "reopen"}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    /// Write to the handling entity.
    pub message: bool,
    /// Close with a satisfaction level.
    pub close: bool,
    /// Reopen with a reason.
    pub reopen: bool,
}

impl Actions {
    /// What a client may do on a filed claim in `status`.
    pub fn for_status(status: ClaimStatus) -> Actions {
        match status {
            ClaimStatus::Closed => Actions {
                message: false,
                close: false,
                reopen: true,
            },
            ClaimStatus::Pending | ClaimStatus::Answered => Actions {
                message: true,
                close: true,
                reopen: false,
            },
        }
    }
}

/// Everything [`crate::decide`] needs to know about a claim, and what screens read of its
/// status. Built only by folding events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimState {
    filing: Option<Filing>,
    status: Option<ClaimStatus>,
    entity: Option<String>,
    routing_rule: Option<String>,
    deadline: Option<Deadline>,
    first_answered_at: Option<Timestamp>,
    ratings: Vec<Rating>,
    answers: u32,
    messages: u32,
    transfers: u32,
    closures: u32,
    auto_closures: u32,
    reopenings: u32,
    last_activity: Option<Timestamp>,
    last_client_reaction_at: Option<Timestamp>,
}

impl ClaimState {
    /// The state after `events`, in order, starting from nothing.
    pub fn fold<I>(events: I) -> Self
    where
        I: IntoIterator,
        I::Item: Borrow<ClaimEvent>,
    {
        let mut state = ClaimState::default();
        for event in events {
            state.evolve(event.borrow());
        }
        state
    }

    /// Applies one more event. Events are facts: this never refuses one.
    pub fn evolve(&mut self, event: &ClaimEvent) {
        self.last_activity = Some(event.at());
        if event.is_client_reaction() {
            self.last_client_reaction_at = Some(event.at());
        }

        match event {
            ClaimEvent::ClaimFiled(filed) => {
                self.filing = Some(Filing {
                    number: filed.number.clone(),
                    filed_at: filed.filed_at,
                    channel: filed.channel,
                    language: filed.language,
                    theme: filed.theme.clone(),
                    filing_place: filed.filing_place.clone(),
                    subject: filed.subject.clone(),
                    request_number: filed.request_number.clone(),
                });
                self.status = Some(ClaimStatus::Pending);
            }
            ClaimEvent::ClaimRouted(routed) => {
                self.entity = Some(routed.entity.clone());
                self.routing_rule = Some(routed.rule.clone());
            }
            ClaimEvent::ClaimTransferred(transferred) => {
                self.entity = Some(transferred.to.clone());
                self.transfers += 1;
            }
            ClaimEvent::ClaimAnswered(answered) => {
                self.status = Some(ClaimStatus::Answered);
                self.deadline = Some(Deadline {
                    answered_at: answered.at,
                    auto_close_at: answered.auto_close_at,
                });
                self.first_answered_at.get_or_insert(answered.at);
                self.answers += 1;
            }
            ClaimEvent::MessagePosted(posted) => {
                self.messages += 1;
                if posted.by.is_client() {
                    self.deadline = None;
                    if self.status == Some(ClaimStatus::Answered) {
                        self.status = Some(ClaimStatus::Pending);
                    }
                }
            }
            ClaimEvent::ClaimClosed(closed) => {
                self.status = Some(ClaimStatus::Closed);
                self.deadline = None;
                self.closures += 1;
                if let Some(satisfaction) = closed.satisfaction {
                    self.ratings.push(Rating {
                        satisfaction,
                        at: closed.at,
                    });
                }
            }
            ClaimEvent::ClaimReopened(_) => {
                self.status = Some(ClaimStatus::Pending);
                self.deadline = None;
                self.reopenings += 1;
            }
            ClaimEvent::ClaimAutoClosed(_) => {
                self.status = Some(ClaimStatus::Closed);
                self.deadline = None;
                self.closures += 1;
                self.auto_closures += 1;
            }
        }
    }

    /// What the client may do now.
    pub fn actions(&self) -> Actions {
        self.status.map(Actions::for_status).unwrap_or_default()
    }

    /// Whether the claim has been filed.
    pub fn is_filed(&self) -> bool {
        self.filing.is_some()
    }

    /// The facts recorded at filing.
    pub fn filing(&self) -> Option<&Filing> {
        self.filing.as_ref()
    }

    /// The claim number.
    pub fn number(&self) -> Option<&str> {
        self.filing.as_ref().map(|filing| filing.number.as_str())
    }

    /// The client's language.
    pub fn language(&self) -> Option<Language> {
        self.filing.as_ref().map(|filing| filing.language)
    }

    /// The status; `None` before filing.
    pub fn status(&self) -> Option<ClaimStatus> {
        self.status
    }

    /// Whether the claim is closed (by anyone).
    pub fn is_closed(&self) -> bool {
        self.status == Some(ClaimStatus::Closed)
    }

    /// The handling entity's code.
    pub fn entity(&self) -> Option<&str> {
        self.entity.as_deref()
    }

    /// The routing rule that chose the first handling entity.
    pub fn routing_rule(&self) -> Option<&str> {
        self.routing_rule.as_deref()
    }

    /// The running automatic-closure deadline, if the claim waits on the client.
    pub fn deadline(&self) -> Option<Deadline> {
        self.deadline
    }

    /// When the answer that started the running deadline was given.
    pub fn answered_at(&self) -> Option<Timestamp> {
        self.deadline.map(|deadline| deadline.answered_at)
    }

    /// When the claim closes by itself unless the client reacts before.
    pub fn auto_close_at(&self) -> Option<Timestamp> {
        self.deadline.map(|deadline| deadline.auto_close_at)
    }

    /// When the claim was first answered, for time-to-first-answer statistics.
    pub fn first_answered_at(&self) -> Option<Timestamp> {
        self.first_answered_at
    }

    /// Every rating the client gave, oldest first.
    pub fn ratings(&self) -> &[Rating] {
        &self.ratings
    }

    /// The claim's satisfaction: the latest rating (it replaces the earlier ones).
    pub fn satisfaction(&self) -> Option<u8> {
        self.ratings.last().map(|rating| rating.satisfaction)
    }

    /// Answers given.
    pub fn answers(&self) -> u32 {
        self.answers
    }

    /// Messages posted, by anyone.
    pub fn messages(&self) -> u32 {
        self.messages
    }

    /// Transfers between entities.
    pub fn transfers(&self) -> u32 {
        self.transfers
    }

    /// Closures of any kind: by the client, by an agent with its answer, automatic.
    pub fn closures(&self) -> u32 {
        self.closures
    }

    /// Automatic closures.
    pub fn auto_closures(&self) -> u32 {
        self.auto_closures
    }

    /// Reopenings.
    pub fn reopenings(&self) -> u32 {
        self.reopenings
    }

    /// When the latest event happened.
    pub fn last_activity(&self) -> Option<Timestamp> {
        self.last_activity
    }

    /// When the client last reacted (message, close, reopen).
    pub fn last_client_reaction_at(&self) -> Option<Timestamp> {
        self.last_client_reaction_at
    }

    /// Why `actor` may not act for the handling entity, if it may not: staff always may, an
    /// agent only for the entity handling the claim, nobody else.
    pub(crate) fn office_actor_error(&self, actor: &Actor) -> Option<DomainError> {
        match actor {
            Actor::Staff { .. } => None,
            Actor::Agent { entity, .. } => match self.entity.as_deref() {
                None => Some(DomainError::NotRouted),
                Some(claim_entity) if claim_entity != entity => Some(DomainError::WrongEntity {
                    actor_entity: entity.clone(),
                    claim_entity: claim_entity.to_owned(),
                }),
                Some(_) => None,
            },
            Actor::Client | Actor::System => Some(DomainError::NotAnAgent),
        }
    }
}
