//! The facts of a claim's life: what the event store keeps, in stream order.
//!
//! Guarantees:
//!
//! - **Stable serialized form.** [`ClaimEvent`] serializes as `{"type": "<EventType>",
//!   "data": {..payload..}}`; `type` is [`ClaimEvent::event_type`], the variant's name. Each
//!   payload type carries its own [`EventPayload::SCHEMA_VERSION`]; any change to a payload's
//!   fields that an older reader could not read raises that number, and the old form keeps
//!   being readable through an upcaster.
//! - **Personal data apart.** Every piece of personal data (contact details, message and answer
//!   bodies, reasons, comments) sits in a sub-struct in the payload field named `personal`, and
//!   nowhere else, so that it can be encrypted per claim and erased by destroying the claim's
//!   key without rewriting history. Everything outside `personal` may be used for statistics.
//! - **Facts, not requests.** Events are only produced by [`crate::decide`], which has checked
//!   every rule; folding them ([`crate::ClaimState::evolve`]) never fails.

use serde::{Deserialize, Serialize};

use crate::model::{Actor, Attachment, Channel, Contact, Language};
use crate::time::Timestamp;

/// What every event payload declares about itself.
pub trait EventPayload {
    /// The name stored as the event's type, equal to the [`ClaimEvent`] variant's name.
    const EVENT_TYPE: &'static str;
    /// The version of this payload's serialized form.
    const SCHEMA_VERSION: u32;
}

/// The personal part of [`ClaimFiled`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiledPersonal {
    pub contact: Contact,
    pub message: String,
}

/// A client filed a claim (the wizard's *Confirm*).
///
/// Schema history: version 1 had no `channel`; version 2 added it (every version 1 claim
/// was filed on the web, which is what the upcaster fills in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimFiled {
    /// The claim number, given to the client and used to track the claim.
    pub number: String,
    pub filed_at: Timestamp,
    /// How the claim reached the office (schema version 2).
    pub channel: Channel,
    pub language: Language,
    /// The theme's code from the reference data.
    pub theme: String,
    /// The code of the place where the negative certificate was requested.
    pub filing_place: String,
    pub subject: String,
    /// The negative certificate's request number.
    pub request_number: String,
    pub attachments: Vec<Attachment>,
    pub personal: FiledPersonal,
}

/// The claim was assigned to a handling entity when it was filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRouted {
    /// The handling entity's code.
    pub entity: String,
    /// Which routing rule chose the entity, for audit.
    pub rule: String,
    pub at: Timestamp,
}

/// The personal part of [`ClaimTransferred`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferredPersonal {
    pub reason: String,
}

/// The claim moved from one handling entity to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimTransferred {
    pub from: String,
    pub to: String,
    pub by: Actor,
    pub at: Timestamp,
    pub personal: TransferredPersonal,
}

/// The personal part of [`ClaimAnswered`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnsweredPersonal {
    pub body: String,
}

/// The handling entity answered; the claim now waits on the client until `auto_close_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimAnswered {
    pub by: Actor,
    pub at: Timestamp,
    pub attachments: Vec<Attachment>,
    /// When the claim closes by itself if the client does not react before.
    pub auto_close_at: Timestamp,
    pub personal: AnsweredPersonal,
}

/// The personal part of [`MessagePosted`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePersonal {
    pub body: String,
}

/// A message in the exchange between the client and the handling entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePosted {
    pub by: Actor,
    pub at: Timestamp,
    pub attachments: Vec<Attachment>,
    pub personal: MessagePersonal,
}

/// The personal part of [`ClaimClosed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedPersonal {
    pub comment: Option<String>,
}

/// The claim was closed by the client (with a satisfaction level from 1 to 5), or by an agent
/// together with its answer (without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimClosed {
    pub by: Actor,
    pub at: Timestamp,
    /// `Some(1..=5)` when the client closed; `None` when an agent closed with its answer.
    pub satisfaction: Option<u8>,
    pub personal: ClosedPersonal,
}

/// The personal part of [`ClaimReopened`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReopenedPersonal {
    pub reason: String,
}

/// The client reopened a closed claim; it waits on the handling entity again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimReopened {
    pub by: Actor,
    pub at: Timestamp,
    pub personal: ReopenedPersonal,
}

/// The claim closed by itself: it was answered and the client did not react before the
/// deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimAutoClosed {
    pub at: Timestamp,
    /// When the answer that started the deadline was given.
    pub answered_at: Timestamp,
    /// The deadline that fell due.
    pub due_at: Timestamp,
}

macro_rules! payloads {
    ($($name:ident => $version:expr),+ $(,)?) => {
        $(
            impl EventPayload for $name {
                const EVENT_TYPE: &'static str = stringify!($name);
                const SCHEMA_VERSION: u32 = $version;
            }

            impl From<$name> for ClaimEvent {
                fn from(payload: $name) -> Self {
                    ClaimEvent::$name(payload)
                }
            }
        )+

        /// Every event of a claim's stream.
        // `ClaimFiled` is the large one and comes once per stream; boxing it would make every
        // producer and reader of events build and match a box for no measurable gain.
        #[allow(clippy::large_enum_variant, reason = "one ClaimFiled per stream")]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum ClaimEvent {
            $(
                #[doc = concat!("See [`", stringify!($name), "`].")]
                $name($name),
            )+
        }

        impl ClaimEvent {
            /// Every event type, in declaration order.
            pub const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($name)),+];

            /// The event's type name, e.g. `"ClaimFiled"`; the `type` of its serialized form.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(ClaimEvent::$name(_) => <$name as EventPayload>::EVENT_TYPE,)+
                }
            }

            /// The version of this event's payload form.
            pub fn schema_version(&self) -> u32 {
                match self {
                    $(ClaimEvent::$name(_) => <$name as EventPayload>::SCHEMA_VERSION,)+
                }
            }

            /// The current schema version of the event type named `event_type`, or `None` for
            /// a type this code does not know.
            pub fn current_schema_version(event_type: &str) -> Option<u32> {
                match event_type {
                    $(stringify!($name) => Some(<$name as EventPayload>::SCHEMA_VERSION),)+
                    _ => None,
                }
            }
        }
    };
}

payloads! {
    ClaimFiled => 2,
    ClaimRouted => 1,
    ClaimTransferred => 1,
    ClaimAnswered => 1,
    MessagePosted => 1,
    ClaimClosed => 1,
    ClaimReopened => 1,
    ClaimAutoClosed => 1,
}

impl ClaimEvent {
    /// When the event happened (the time that came in with its command).
    pub fn at(&self) -> Timestamp {
        match self {
            ClaimEvent::ClaimFiled(e) => e.filed_at,
            ClaimEvent::ClaimRouted(e) => e.at,
            ClaimEvent::ClaimTransferred(e) => e.at,
            ClaimEvent::ClaimAnswered(e) => e.at,
            ClaimEvent::MessagePosted(e) => e.at,
            ClaimEvent::ClaimClosed(e) => e.at,
            ClaimEvent::ClaimReopened(e) => e.at,
            ClaimEvent::ClaimAutoClosed(e) => e.at,
        }
    }

    /// Who caused the event: the client files, the service routes and closes automatically.
    pub fn actor(&self) -> Actor {
        match self {
            ClaimEvent::ClaimFiled(_) => Actor::Client,
            ClaimEvent::ClaimRouted(_) | ClaimEvent::ClaimAutoClosed(_) => Actor::System,
            ClaimEvent::ClaimTransferred(e) => e.by.clone(),
            ClaimEvent::ClaimAnswered(e) => e.by.clone(),
            ClaimEvent::MessagePosted(e) => e.by.clone(),
            ClaimEvent::ClaimClosed(e) => e.by.clone(),
            ClaimEvent::ClaimReopened(e) => e.by.clone(),
        }
    }

    /// Whether this event is a reaction of the client, which stops an answer's deadline.
    pub fn is_client_reaction(&self) -> bool {
        match self {
            ClaimEvent::MessagePosted(e) => e.by.is_client(),
            ClaimEvent::ClaimClosed(e) => e.by.is_client(),
            ClaimEvent::ClaimReopened(e) => e.by.is_client(),
            _ => false,
        }
    }

    /// The attachments the event carries (empty for events that carry none).
    pub fn attachments(&self) -> &[Attachment] {
        match self {
            ClaimEvent::ClaimFiled(e) => &e.attachments,
            ClaimEvent::ClaimAnswered(e) => &e.attachments,
            ClaimEvent::MessagePosted(e) => &e.attachments,
            _ => &[],
        }
    }
}
