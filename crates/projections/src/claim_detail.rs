//! The claim detail: one document per claim, as clients and agents read it.
//!
//! Documents hold codes, not labels, so one document serves every language.

use async_trait::async_trait;
use claimdesk_claims::{decode, number_of_stream};
use claimdesk_domain::{ClaimEvent, ClaimStatus};
use claimdesk_store::{Document, ReadModelTx, RecordedEvent};
use serde_json::{json, Value};

use crate::{Definition, Projection, ProjectionError};

pub const COLLECTION: &str = "claims";

pub struct ClaimDetail {
    definition: Definition,
}

impl ClaimDetail {
    /// The projection's name, as in its definition file.
    pub const NAME: &'static str = "claim_detail";

    pub fn new() -> ClaimDetail {
        let text = include_str!("../../../projections/claim_detail.toml");
        let definition = Definition::parse(text);
        assert_eq!(
            definition.name,
            Self::NAME,
            "the definition file names this projection"
        );
        ClaimDetail { definition }
    }
}

impl Default for ClaimDetail {
    fn default() -> Self {
        ClaimDetail::new()
    }
}

fn status_code(status: ClaimStatus) -> Value {
    serde_json::to_value(status).expect("statuses serialize")
}

#[async_trait]
impl Projection for ClaimDetail {
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

        let mut doc = match &event {
            ClaimEvent::ClaimFiled(filed) => {
                let attachments = serde_json::to_value(&filed.attachments).expect("serializes");
                json!({
                    "number": filed.number,
                    "filed_at": filed.filed_at,
                    "language": filed.language,
                    "theme": filed.theme,
                    "filing_place": filed.filing_place,
                    "subject": filed.subject,
                    "request_number": filed.request_number,
                    "message": filed.personal.message,
                    "attachments": attachments,
                    "files": attachments,
                    "contact": filed.personal.contact,
                    "status": status_code(ClaimStatus::Pending),
                    "entity": null,
                    "answered_at": null,
                    "auto_close_at": null,
                    "satisfaction": null,
                    "closed_at": null,
                    "reopen_count": 0,
                })
            }
            _ => match tx.get(COLLECTION, number).await? {
                Some(existing) => existing.body,
                None => {
                    return Err(ProjectionError::Inconsistent(format!(
                        "{} for claim {number} precedes its filing",
                        recorded.event_type
                    )))
                }
            },
        };

        match &event {
            ClaimEvent::ClaimFiled(_) => {}
            ClaimEvent::ClaimRouted(routed) => doc["entity"] = json!(routed.entity),
            ClaimEvent::ClaimTransferred(transfer) => doc["entity"] = json!(transfer.to),
            ClaimEvent::ClaimAnswered(answered) => {
                doc["status"] = status_code(ClaimStatus::Answered);
                doc["answered_at"] = json!(answered.at);
                doc["auto_close_at"] = json!(answered.auto_close_at);
                add_files(&mut doc, &answered.attachments);
            }
            ClaimEvent::MessagePosted(posted) => {
                if posted.by.is_client() {
                    if doc["status"] == status_code(ClaimStatus::Answered) {
                        doc["status"] = status_code(ClaimStatus::Pending);
                    }
                    doc["auto_close_at"] = Value::Null;
                }
                add_files(&mut doc, &posted.attachments);
            }
            ClaimEvent::ClaimClosed(closed) => {
                doc["status"] = status_code(ClaimStatus::Closed);
                doc["closed_at"] = json!(closed.at);
                doc["auto_close_at"] = Value::Null;
                if let Some(level) = closed.satisfaction {
                    doc["satisfaction"] = json!(level);
                }
            }
            ClaimEvent::ClaimAutoClosed(closed) => {
                doc["status"] = status_code(ClaimStatus::Closed);
                doc["closed_at"] = json!(closed.at);
                doc["auto_close_at"] = Value::Null;
            }
            ClaimEvent::ClaimReopened(_) => {
                doc["status"] = status_code(ClaimStatus::Pending);
                doc["closed_at"] = Value::Null;
                let count = doc["reopen_count"].as_u64().unwrap_or(0);
                doc["reopen_count"] = json!(count + 1);
            }
        }
        doc["version"] = json!(recorded.version);
        doc["updated_at"] = json!(recorded.recorded_at);

        let partition = doc["entity"].as_str().map(str::to_owned);
        let sort_key = doc["filed_at"].as_str().map(str::to_owned);
        tx.put(Document {
            collection: COLLECTION.to_owned(),
            key: number.to_owned(),
            partition,
            sort_key,
            body: doc,
        })
        .await?;
        Ok(())
    }
}

fn add_files(doc: &mut Value, attachments: &[claimdesk_domain::Attachment]) {
    if let Some(files) = doc["files"].as_array_mut() {
        files.extend(
            attachments
                .iter()
                .map(|a| serde_json::to_value(a).expect("serializes")),
        );
    }
}
