//! The process manager's reactions to events: which emails each event queues, which timers
//! it sets or cancels.
//!
//! It runs as a projection (the runtime of `claimdesk_projections`), so it sees the store's
//! events in global order, each once, and everything it does for a batch of events (its own
//! documents, the emails it queues, the timers it sets and cancels) commits with its
//! checkpoint in one transaction. Hence:
//!
//! - **Exactly one queued email per event, template and recipient**, whatever restarts,
//!   replays or second instances happen: a batch commits once, and the outbox refuses a
//!   delivery key it already has (field report F3).
//! - **Timers follow the events.** An answer sets the automatic closure at the answer's
//!   `auto_close_at` (a UTC instant) and a reminder some time before; any later client
//!   reaction, closure or reopening cancels them; the next answer sets new ones. They are
//!   rebuilt by replaying the events.
//!
//! Rendering is deterministic: the same event gives the same email, so a replay cannot
//! queue a different one under the same key.
//!
//! TODO: the first start on a database that already holds claims queues an email for every
//! past event (nothing was queued for them before). Acceptable while no site runs a version
//! without the process manager; a site that does needs a starting position for it first.

use std::time::Duration;

use async_trait::async_trait;
use claimdesk_claims::{decode, number_of_stream};
use claimdesk_domain::{ClaimEvent, Contact, Language, Profile, Timestamp};
use claimdesk_projections::{Definition, Projection, ProjectionError};
use claimdesk_store::process::outbox_id;
use claimdesk_store::{Document, OutboxMessage, ReadModelTx, RecordedEvent, Timer};
use serde::{Deserialize, Serialize};
use tracing::{debug, warn, Instrument};

use crate::templates::{self, Content, Template};

/// The document collection of the claims the process manager writes about.
pub const COLLECTION: &str = "claims";
/// The timer that closes an answered claim left without reaction.
pub const AUTO_CLOSE: &str = "auto_close";
/// The timer that reminds the client before the automatic closure.
pub const REMINDER: &str = "reminder";

/// A handling entity: where it is told of its claims, and its name in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub code: String,
    pub mailbox: String,
    pub label_fr: String,
    pub label_ar: String,
}

/// What the process manager needs to know to write.
#[derive(Debug, Clone)]
pub struct ManagerSettings {
    /// The public site, for links in emails (`{public_url}/{lang}/claims/{number}`).
    pub public_url: String,
    /// How long before the automatic closure the client is reminded.
    pub reminder_before: Duration,
    /// The domain of the `Message-ID`s.
    pub message_id_domain: String,
    pub entities: Vec<Entity>,
}

/// Whom to write to about a claim, as the process manager keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimContact {
    pub number: String,
    pub language: Language,
    pub email: String,
    pub name: Option<String>,
    pub subject: String,
    pub entity: Option<String>,
}

/// What a reminder timer carries: its email, and the deadline it announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPayload {
    pub deadline: Timestamp,
    pub message: OutboxMessage,
}

/// The process manager, as a projection.
pub struct ProcessManager {
    definition: Definition,
    settings: ManagerSettings,
}

impl ProcessManager {
    /// The projection's name, as in its definition file.
    pub const NAME: &'static str = "process_manager";

    pub fn new(settings: ManagerSettings) -> ProcessManager {
        let text = include_str!("../../../projections/process_manager.toml");
        let definition = Definition::parse(text);
        assert_eq!(
            definition.name,
            Self::NAME,
            "the definition file names this projection"
        );
        ProcessManager {
            definition,
            settings,
        }
    }

    fn entity(&self, code: &str) -> Option<&Entity> {
        self.settings.entities.iter().find(|e| e.code == code)
    }

    /// The entity's name in `language`; its code when unknown.
    fn entity_label(&self, code: Option<&str>, language: Language) -> String {
        let Some(code) = code else {
            return String::new();
        };
        match (self.entity(code), language) {
            (Some(entity), Language::Fr) => entity.label_fr.clone(),
            (Some(entity), Language::Ar) => entity.label_ar.clone(),
            (None, _) => code.to_owned(),
        }
    }

    /// The claim's page in `language` on the public site.
    fn link(&self, number: &str, language: Language, query: &str) -> String {
        let base = self.settings.public_url.trim_end_matches('/');
        let lang = match language {
            Language::Fr => "fr",
            Language::Ar => "ar",
        };
        format!("{base}/{lang}/claims/{}{query}", encode_path(number))
    }

    /// The email `template` about `recorded`, to the client or to the entity's mailbox.
    fn email(
        &self,
        recorded: &RecordedEvent,
        template: Template,
        claim: &ClaimContact,
        values: Vec<(&'static str, Value)>,
        quote: Option<&str>,
    ) -> Option<OutboxMessage> {
        let (recipient, language, name, track) = if template.for_client() {
            let track = self.link(&claim.number, claim.language, "");
            let name = claim.name.clone();
            (claim.email.clone(), claim.language, name, Some(track))
        } else {
            // The office works in French.
            let entity = claim.entity.as_deref().and_then(|code| self.entity(code));
            let Some(entity) = entity else {
                warn!(entity = ?claim.entity, "no mailbox for the handling entity");
                return None;
            };
            (entity.mailbox.clone(), Language::Fr, None, None)
        };

        let mut values: Vec<(&'static str, String)> = values
            .into_iter()
            .map(|(name, value)| (name, value.show(language)))
            .collect();
        values.push(("number", claim.number.clone()));
        values.push(("subject", claim.subject.clone()));
        values.push(("email", claim.email.clone()));
        let entity = self.entity_label(claim.entity.as_deref(), language);
        values.push(("entity", entity));
        let mut links = Vec::new();
        if template == Template::Reminder {
            let link = self.link(&claim.number, language, "?action=reopen");
            links.push(("link", link));
        }

        let rendered = templates::render(&Content {
            template,
            language,
            name,
            values,
            links,
            quote: quote.map(str::to_owned),
            track,
        });
        let id = outbox_id(recorded.event_id, template.name(), &recipient);
        Some(OutboxMessage {
            event_id: recorded.event_id,
            template: template.name().to_owned(),
            recipient,
            stream_id: recorded.stream_id.clone(),
            position: recorded.position,
            language: language.code().to_owned(),
            message_id: format!("<{id}@{}>", self.settings.message_id_domain),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
        })
    }

    async fn react(
        &self,
        number: &str,
        recorded: &RecordedEvent,
        event: &ClaimEvent,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError> {
        let mut claim = match event {
            ClaimEvent::ClaimFiled(filed) => ClaimContact {
                number: filed.number.clone(),
                language: filed.language,
                email: filed.personal.contact.email.clone(),
                name: greeting_name(&filed.personal.contact),
                subject: filed.subject.clone(),
                entity: None,
            },
            _ => load(tx, number).await?,
        };
        let stream = recorded.stream_id.as_str();
        let at = Value::Time(event.at());

        let email = match event {
            ClaimEvent::ClaimFiled(_) => {
                save(tx, &claim).await?;
                self.email(recorded, Template::Filed, &claim, vec![("date", at)], None)
            }
            ClaimEvent::ClaimRouted(routed) => {
                claim.entity = Some(routed.entity.clone());
                save(tx, &claim).await?;
                // New-claim emails go to the office, in French.
                let language = templates::language_name(Language::Fr, claim.language);
                let values = vec![
                    ("date", Value::Time(routed.at)),
                    ("language", language.into()),
                ];
                self.email(recorded, Template::NewClaim, &claim, values, None)
            }
            ClaimEvent::ClaimTransferred(transferred) => {
                let from = self.entity_label(Some(&transferred.from), Language::Fr);
                claim.entity = Some(transferred.to.clone());
                save(tx, &claim).await?;
                let reason = Some(transferred.personal.reason.as_str());
                let values = vec![("from", from.into())];
                self.email(recorded, Template::Transferred, &claim, values, reason)
            }
            ClaimEvent::ClaimAnswered(answered) => {
                tx.cancel_timers(stream, recorded.position).await?;
                self.schedule(recorded, &claim, answered.at, answered.auto_close_at, tx)
                    .await?;
                let values = vec![
                    ("date", at),
                    ("deadline", Value::Time(answered.auto_close_at)),
                ];
                let body = Some(answered.personal.body.as_str());
                self.email(recorded, Template::Answered, &claim, values, body)
            }
            ClaimEvent::MessagePosted(posted) if posted.by.is_client() => {
                tx.cancel_timers(stream, recorded.position).await?;
                let body = Some(posted.personal.body.as_str());
                let values = vec![("date", at)];
                self.email(recorded, Template::ClientMessage, &claim, values, body)
            }
            ClaimEvent::MessagePosted(posted) => {
                let body = Some(posted.personal.body.as_str());
                let values = vec![("date", at)];
                self.email(recorded, Template::EntityMessage, &claim, values, body)
            }
            ClaimEvent::ClaimClosed(_) => {
                tx.cancel_timers(stream, recorded.position).await?;
                self.email(recorded, Template::Closed, &claim, vec![("date", at)], None)
            }
            ClaimEvent::ClaimAutoClosed(closed) => {
                tx.cancel_timers(stream, recorded.position).await?;
                let values = vec![("date", at), ("answered", Value::Time(closed.answered_at))];
                self.email(recorded, Template::AutoClosed, &claim, values, None)
            }
            ClaimEvent::ClaimReopened(_) => {
                tx.cancel_timers(stream, recorded.position).await?;
                let values = vec![("date", at)];
                self.email(recorded, Template::Reopened, &claim, values, None)
            }
        };

        if let Some(email) = email {
            debug!(template = %email.template, "email queued");
            tx.enqueue(email).await?;
        }
        Ok(())
    }

    /// Sets the answer's automatic closure, and the reminder before it when there is time.
    async fn schedule(
        &self,
        recorded: &RecordedEvent,
        claim: &ClaimContact,
        answered_at: Timestamp,
        deadline: Timestamp,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError> {
        let timer = |kind: &str, due: Timestamp, payload| -> Result<Timer, ProjectionError> {
            Ok(Timer {
                stream_id: recorded.stream_id.clone(),
                kind: kind.to_owned(),
                due_at: to_utc(due)?,
                cause_event_id: recorded.event_id,
                correlation_id: recorded.correlation_id,
                position: recorded.position,
                payload,
            })
        };
        let payload = serde_json::json!({ "number": claim.number });
        tx.schedule(timer(AUTO_CLOSE, deadline, payload)?).await?;

        let before = claimdesk_domain::Duration::from_micros(
            i64::try_from(self.settings.reminder_before.as_micros()).unwrap_or(i64::MAX),
        );
        let Some(remind_at) = deadline.checked_sub(before).filter(|at| *at > answered_at) else {
            return Ok(());
        };
        let values = vec![
            ("answered", Value::Time(answered_at)),
            ("deadline", Value::Time(deadline)),
        ];
        let Some(message) = self.email(recorded, Template::Reminder, claim, values, None) else {
            return Ok(());
        };
        let payload = serde_json::to_value(ReminderPayload { deadline, message })
            .map_err(|e| ProjectionError::Inconsistent(format!("reminder payload: {e}")))?;
        tx.schedule(timer(REMINDER, remind_at, payload)?).await?;
        Ok(())
    }
}

#[async_trait]
impl Projection for ProcessManager {
    fn definition(&self) -> &Definition {
        &self.definition
    }

    async fn apply(
        &self,
        recorded: &RecordedEvent,
        tx: &mut dyn ReadModelTx,
    ) -> Result<(), ProjectionError> {
        let Some(number) = number_of_stream(&recorded.stream_id) else {
            return Ok(());
        };
        let event = decode(recorded)?;
        let span = tracing::debug_span!("react", claim = %number,
            event_position = recorded.position, event_type = %recorded.event_type);
        self.react(number, recorded, &event, tx)
            .instrument(span)
            .await
    }
}

/// A value of an email, shown in the email's language.
enum Value {
    Text(String),
    /// Shown in UTC, as the email's language writes it.
    Time(Timestamp),
}

impl Value {
    fn show(self, language: Language) -> String {
        match self {
            Value::Text(text) => text,
            Value::Time(at) => templates::format_time(language, at),
        }
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

fn to_utc(at: Timestamp) -> Result<chrono::DateTime<chrono::Utc>, ProjectionError> {
    chrono::DateTime::from_timestamp_micros(at.as_micros())
        .ok_or_else(|| ProjectionError::Inconsistent(format!("time out of range: {at}")))
}

/// Whom to greet: the person's first and last name, or the company's name.
fn greeting_name(contact: &Contact) -> Option<String> {
    let name = match contact.profile {
        Profile::LegalPerson => contact.company_name.clone(),
        Profile::NaturalPerson => {
            let parts: Vec<&str> = [&contact.first_name, &contact.last_name]
                .into_iter()
                .filter_map(|part| part.as_deref())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        }
    };
    name.filter(|name| !claimdesk_domain::is_blank(name))
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

async fn load(tx: &mut dyn ReadModelTx, number: &str) -> Result<ClaimContact, ProjectionError> {
    let document = tx.get(COLLECTION, number).await?.ok_or_else(|| {
        ProjectionError::Inconsistent(format!("an event of claim {number} before its filing"))
    })?;
    serde_json::from_value(document.body)
        .map_err(|e| ProjectionError::Inconsistent(format!("claim {number}: {e}")))
}

async fn save(tx: &mut dyn ReadModelTx, claim: &ClaimContact) -> Result<(), ProjectionError> {
    let body = serde_json::to_value(claim)
        .map_err(|e| ProjectionError::Inconsistent(format!("claim {}: {e}", claim.number)))?;
    tx.put(Document {
        collection: COLLECTION.to_owned(),
        key: claim.number.clone(),
        partition: None,
        sort_key: None,
        body,
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded() {
        assert_eq!(encode_path("RC-2026-00A1"), "RC-2026-00A1");
        assert_eq!(encode_path("a/b?c d"), "a%2Fb%3Fc%20d");
    }

    #[test]
    fn names_to_greet() {
        let mut contact = Contact {
            profile: Profile::NaturalPerson,
            email: "a@example.ma".to_owned(),
            company_name: Some("ACME".to_owned()),
            last_name: Some("Alaoui".to_owned()),
            first_name: Some("Samira".to_owned()),
            phone: None,
            address: None,
            city: None,
            country: None,
        };
        assert_eq!(greeting_name(&contact).as_deref(), Some("Samira Alaoui"));
        contact.profile = Profile::LegalPerson;
        assert_eq!(greeting_name(&contact).as_deref(), Some("ACME"));
        contact.company_name = None;
        assert_eq!(greeting_name(&contact), None);
    }
}
