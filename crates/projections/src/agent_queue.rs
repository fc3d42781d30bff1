//! The agents' queues: for each handling entity, the claims that wait on it, oldest first.
//!
//! A claim enters its entity's queue when it is filed, when the client writes on an answered
//! claim, and when it is reopened; it leaves when it is answered or closed. A transfer moves
//! it to the new entity's queue, keeping its waiting time. The client's further messages on a
//! claim already waiting do not reset its waiting time.

use async_trait::async_trait;
use claimdesk_claims::{decode, number_of_stream};
use claimdesk_domain::ClaimEvent;
use claimdesk_store::{Document, ReadModelTx, RecordedEvent};
use serde_json::{json, Value};

use crate::{Definition, Projection, ProjectionError};

pub const COLLECTION: &str = "queue";
/// Claims known to the projection, waiting or not: what a queue entry is rebuilt from.
const CLAIMS: &str = "claims";

pub struct AgentQueue {
    definition: Definition,
}

impl AgentQueue {
    /// The projection's name, as in its definition file.
    pub const NAME: &'static str = "agent_queue";

    pub fn new() -> AgentQueue {
        let text = include_str!("../../../projections/agent_queue.toml");
        let definition = Definition::parse(text);
        assert_eq!(
            definition.name,
            Self::NAME,
            "the definition file names this projection"
        );
        AgentQueue { definition }
    }
}

impl Default for AgentQueue {
    fn default() -> Self {
        AgentQueue::new()
    }
}

fn document(collection: &str, number: &str, body: Value) -> Document {
    let partition = body["entity"].as_str().map(str::to_owned);
    let sort_key = body["waiting_since"].as_str().map(str::to_owned);
    Document {
        collection: collection.to_owned(),
        key: number.to_owned(),
        partition,
        sort_key,
        body,
    }
}

#[async_trait]
impl Projection for AgentQueue {
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

        let mut claim = match &event {
            ClaimEvent::ClaimFiled(filed) => json!({
                "number": filed.number,
                "subject": filed.subject,
                "theme": filed.theme,
                "filing_place": filed.filing_place,
                "language": filed.language,
                "filed_at": filed.filed_at,
                "entity": null,
                "waiting": true,
                "waiting_since": filed.filed_at,
                "reason": "filed",
                "reopen_count": 0,
            }),
            _ => match tx.get(CLAIMS, number).await? {
                Some(doc) => doc.body,
                None => {
                    return Err(ProjectionError::Inconsistent(format!(
                        "{} for claim {number} precedes its filing",
                        recorded.event_type
                    )))
                }
            },
        };

        let wait = |claim: &mut Value, since: &Value, reason: &str| {
            if claim["waiting"] != json!(true) {
                claim["waiting"] = json!(true);
                claim["waiting_since"] = since.clone();
                claim["reason"] = json!(reason);
            }
        };
        match &event {
            ClaimEvent::ClaimFiled(_) => {}
            ClaimEvent::ClaimRouted(routed) => claim["entity"] = json!(routed.entity),
            ClaimEvent::ClaimTransferred(transfer) => {
                claim["entity"] = json!(transfer.to);
                if claim["waiting"] == json!(true) {
                    claim["reason"] = json!("transferred");
                }
            }
            ClaimEvent::ClaimAnswered(_)
            | ClaimEvent::ClaimClosed(_)
            | ClaimEvent::ClaimAutoClosed(_) => claim["waiting"] = json!(false),
            ClaimEvent::MessagePosted(posted) => {
                if posted.by.is_client() {
                    wait(&mut claim, &json!(posted.at), "client_message");
                }
            }
            ClaimEvent::ClaimReopened(reopened) => {
                let count = claim["reopen_count"].as_u64().unwrap_or(0);
                claim["reopen_count"] = json!(count + 1);
                wait(&mut claim, &json!(reopened.at), "reopened");
            }
        }

        let waiting = claim["waiting"] == json!(true) && claim["entity"].is_string();
        if waiting {
            tx.put(document(COLLECTION, number, claim.clone())).await?;
        } else {
            tx.delete(COLLECTION, number).await?;
        }
        tx.put(document(CLAIMS, number, claim)).await?;
        Ok(())
    }
}
