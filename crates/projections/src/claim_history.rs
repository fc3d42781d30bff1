//! The claim history: every step and exchange of a claim, oldest first.
//!
//! Entries keep who acted in full (the agent's login included); what a client is shown of
//! an agent is decided when the history is read, not here.

use async_trait::async_trait;
use claimdesk_claims::{decode, number_of_stream};
use claimdesk_domain::ClaimEvent;
use claimdesk_store::{Document, ReadModelTx, RecordedEvent};
use serde_json::{json, Value};

use crate::{Definition, Projection, ProjectionError};

pub const COLLECTION: &str = "history";

pub struct ClaimHistory {
    definition: Definition,
}

impl ClaimHistory {
    /// The projection's name, as in its definition file.
    pub const NAME: &'static str = "claim_history";

    pub fn new() -> ClaimHistory {
        let text = include_str!("../../../projections/claim_history.toml");
        let definition = Definition::parse(text);
        assert_eq!(
            definition.name,
            Self::NAME,
            "the definition file names this projection"
        );
        ClaimHistory { definition }
    }
}

impl Default for ClaimHistory {
    fn default() -> Self {
        ClaimHistory::new()
    }
}

/// The history entry an event makes.
fn entry(event: &ClaimEvent) -> Value {
    match event {
        ClaimEvent::ClaimFiled(e) => json!({
            "at": e.filed_at, "kind": "filed", "actor": {"kind": "client"},
            "message": e.personal.message, "attachments": e.attachments,
        }),
        ClaimEvent::ClaimRouted(e) => json!({
            "at": e.at, "kind": "routed", "actor": {"kind": "system"}, "entity": e.entity,
        }),
        ClaimEvent::ClaimTransferred(e) => json!({
            "at": e.at, "kind": "transferred", "actor": e.by, "entity": e.to,
            "from_entity": e.from, "message": e.personal.reason,
        }),
        ClaimEvent::ClaimAnswered(e) => json!({
            "at": e.at, "kind": "answered", "actor": e.by,
            "message": e.personal.body, "attachments": e.attachments,
        }),
        ClaimEvent::MessagePosted(e) => json!({
            "at": e.at,
            "kind": if e.by.is_client() { "client_message" } else { "entity_message" },
            "actor": e.by, "message": e.personal.body, "attachments": e.attachments,
        }),
        ClaimEvent::ClaimClosed(e) => json!({
            "at": e.at,
            "kind": if e.by.is_client() { "closed" } else { "closed_by_entity" },
            "actor": e.by, "message": e.personal.comment, "satisfaction": e.satisfaction,
        }),
        ClaimEvent::ClaimAutoClosed(e) => json!({
            "at": e.at, "kind": "auto_closed", "actor": {"kind": "system"},
        }),
        ClaimEvent::ClaimReopened(e) => json!({
            "at": e.at, "kind": "reopened", "actor": e.by, "message": e.personal.reason,
        }),
    }
}

#[async_trait]
impl Projection for ClaimHistory {
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

        let mut doc = match tx.get(COLLECTION, number).await? {
            Some(existing) => existing.body,
            None => json!({ "entries": [] }),
        };
        let mut item = entry(&event);
        item["position"] = json!(recorded.position);
        item["version"] = json!(recorded.version);
        let entries = doc["entries"].as_array_mut().ok_or_else(|| {
            ProjectionError::Inconsistent(format!("history of {number} has no entries"))
        })?;
        // A version already present means this event was applied before: keep the first.
        if entries
            .iter()
            .any(|e| e["version"] == json!(recorded.version))
        {
            return Ok(());
        }
        entries.push(item);

        tx.put(Document {
            collection: COLLECTION.to_owned(),
            key: number.to_owned(),
            partition: None,
            sort_key: None,
            body: doc,
        })
        .await?;
        Ok(())
    }
}
