//! The satisfaction statistics: what analysts read, rebuilt from the events at will.
//!
//! # What is kept
//!
//! One small document per claim (collection [`COLLECTION`], key the claim number, partition
//! the month of filing): its handling entity, theme, filing place, month of filing, the delay
//! from filing to its first answer, its latest rating, how it is closed now and how often it
//! was reopened. Nothing personal: the handler never reads the `personal` part of an event,
//! so no email, name, message, comment or reason reaches the read model.
//!
//! The statistics are aggregated from those documents when they are asked for
//! ([`aggregate`]), not kept as running totals. That keeps the median time to first answer
//! exact (a median cannot be updated from totals), makes a repeated rating or a reopening a
//! plain replacement of one claim's document, and makes a rebuilt read model equal to the live
//! one document for document. The price is reading one document per claim of the period on
//! each request, which an office's volume allows.
//!
//! # How claims are counted
//!
//! Rows group claims by the entity handling them now (after transfers), their theme, their
//! filing place, or the month they were **filed** in (UTC); `from` and `to` select claims by
//! filing time too. In each row:
//!
//! - `claims`: claims filed;
//! - `closed_by_client`, `closed_automatically`, `closed_by_entity`: claims closed **now**,
//!   by how their latest closure happened (the client with a rating, the 7-day automatic
//!   closure, the entity closing with its answer); a reopened claim that is open again counts
//!   in none of them;
//! - `reopened`: **claims** reopened at least once, each counted once however often it was
//!   reopened; `reopenings` counts the reopenings themselves;
//! - `rated`, `average_satisfaction`, `satisfaction_1` to `satisfaction_5`: each claim with a
//!   rating counts once, with its **latest** rating (docs/status-rules.md, rule 5): closed
//!   with 5, reopened and closed with 2, it counts once, as a 2. A rating stays the claim's
//!   until a later one replaces it, also while the claim is reopened;
//! - `answered`, `median_first_answer_seconds`: claims answered at least once, and the exact
//!   median of their delays from filing to first answer (the mean of the two middle delays
//!   when their number is even), in seconds to the microsecond.
//!
//! Each event is applied once per claim version: a document remembers the stream version it
//! reflects and ignores an event it has already seen (F3).

use std::collections::BTreeMap;

use async_trait::async_trait;
use claimdesk_claims::{decode, number_of_stream};
use claimdesk_domain::{ClaimEvent, Timestamp};
use claimdesk_store::{Document, ReadModelTx, RecordedEvent};
use serde::{Deserialize, Serialize};

use crate::{Definition, Projection, ProjectionError};

pub const COLLECTION: &str = "claims";

pub struct SatisfactionStats {
    definition: Definition,
}

impl SatisfactionStats {
    /// The projection's name, as in its definition file.
    pub const NAME: &'static str = "satisfaction_stats";

    pub fn new() -> SatisfactionStats {
        let text = include_str!("../../../projections/satisfaction_stats.toml");
        let definition = Definition::parse(text);
        assert_eq!(
            definition.name,
            Self::NAME,
            "the definition file names this projection"
        );
        SatisfactionStats { definition }
    }
}

impl Default for SatisfactionStats {
    fn default() -> Self {
        SatisfactionStats::new()
    }
}

/// How a claim is closed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Closure {
    /// By the client, with a rating.
    Client,
    /// By itself, 7 days after an answer without reaction.
    Auto,
    /// By the entity, together with its answer.
    Entity,
}

/// One claim's document: the facts the statistics count, none of them personal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimFacts {
    pub entity: Option<String>,
    pub theme: String,
    pub filing_place: String,
    /// `YYYY-MM` of the filing time, in UTC.
    pub month: String,
    pub filed_at: Timestamp,
    /// Microseconds from filing to the first answer.
    pub first_answer_us: Option<i64>,
    /// The latest rating (1 to 5).
    pub satisfaction: Option<u8>,
    pub ratings: u32,
    pub closure: Option<Closure>,
    pub reopenings: u32,
    /// The stream version this document reflects.
    pub version: u64,
}

/// `YYYY-MM` of `at`, in UTC.
pub fn month_of(at: Timestamp) -> String {
    let utc = at.to_utc();
    format!("{:04}-{:02}", utc.year, utc.month)
}

fn document(number: &str, facts: &ClaimFacts) -> Document {
    let body = serde_json::to_value(facts).expect("claim facts serialize");
    Document {
        collection: COLLECTION.to_owned(),
        key: number.to_owned(),
        partition: Some(facts.month.clone()),
        sort_key: Some(body["filed_at"].as_str().unwrap_or_default().to_owned()),
        body,
    }
}

#[async_trait]
impl Projection for SatisfactionStats {
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

        let mut facts = match &event {
            ClaimEvent::ClaimFiled(filed) => ClaimFacts {
                entity: None,
                theme: filed.theme.clone(),
                filing_place: filed.filing_place.clone(),
                month: month_of(filed.filed_at),
                filed_at: filed.filed_at,
                first_answer_us: None,
                satisfaction: None,
                ratings: 0,
                closure: None,
                reopenings: 0,
                version: 0,
            },
            _ => match tx.get(COLLECTION, number).await? {
                Some(doc) => serde_json::from_value(doc.body).map_err(|e| {
                    ProjectionError::Inconsistent(format!("statistics of claim {number}: {e}"))
                })?,
                None => {
                    return Err(ProjectionError::Inconsistent(format!(
                        "{} for claim {number} precedes its filing",
                        recorded.event_type
                    )))
                }
            },
        };
        if recorded.version <= facts.version {
            return Ok(());
        }

        match &event {
            ClaimEvent::ClaimFiled(_) | ClaimEvent::MessagePosted(_) => {}
            ClaimEvent::ClaimRouted(routed) => facts.entity = Some(routed.entity.clone()),
            ClaimEvent::ClaimTransferred(transfer) => facts.entity = Some(transfer.to.clone()),
            ClaimEvent::ClaimAnswered(answered) => {
                let delay = answered.at.duration_since(facts.filed_at).as_micros();
                facts.first_answer_us.get_or_insert(delay.max(0));
            }
            ClaimEvent::ClaimClosed(closed) => {
                facts.closure = Some(if closed.by.is_client() {
                    Closure::Client
                } else {
                    Closure::Entity
                });
                if let Some(level) = closed.satisfaction {
                    facts.satisfaction = Some(level);
                    facts.ratings += 1;
                }
            }
            ClaimEvent::ClaimAutoClosed(_) => facts.closure = Some(Closure::Auto),
            ClaimEvent::ClaimReopened(_) => {
                facts.closure = None;
                facts.reopenings += 1;
            }
        }
        facts.version = recorded.version;

        tx.put(document(number, &facts)).await?;
        Ok(())
    }
}

/// What the statistics are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Entity,
    Theme,
    FilingPlace,
    /// The month of filing, `YYYY-MM` in UTC.
    Month,
}

impl GroupBy {
    fn key(self, facts: &ClaimFacts) -> String {
        match self {
            GroupBy::Entity => facts.entity.clone().unwrap_or_else(|| "none".to_owned()),
            GroupBy::Theme => facts.theme.clone(),
            GroupBy::FilingPlace => facts.filing_place.clone(),
            GroupBy::Month => facts.month.clone(),
        }
    }
}

/// One row of the statistics; see the module docs for how each column is counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The entity, theme or filing place code, or the month.
    pub group: String,
    pub claims: u64,
    pub closed_by_client: u64,
    pub closed_automatically: u64,
    pub closed_by_entity: u64,
    pub reopened: u64,
    pub reopenings: u64,
    pub rated: u64,
    pub average_satisfaction: Option<f64>,
    pub satisfaction_1: u64,
    pub satisfaction_2: u64,
    pub satisfaction_3: u64,
    pub satisfaction_4: u64,
    pub satisfaction_5: u64,
    pub answered: u64,
    pub median_first_answer_seconds: Option<f64>,
}

/// The column names of [`Row`], in order: the CSV header.
pub const COLUMNS: [&str; 16] = [
    "group",
    "claims",
    "closed_by_client",
    "closed_automatically",
    "closed_by_entity",
    "reopened",
    "reopenings",
    "rated",
    "average_satisfaction",
    "satisfaction_1",
    "satisfaction_2",
    "satisfaction_3",
    "satisfaction_4",
    "satisfaction_5",
    "answered",
    "median_first_answer_seconds",
];

/// Which claims to count: those filed in `[from, to)`; an open end is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Period {
    fn contains(&self, at: Timestamp) -> bool {
        self.from.is_none_or(|from| at >= from) && self.to.is_none_or(|to| at < to)
    }
}

#[derive(Default)]
struct Tally {
    claims: u64,
    closed: [u64; 3],
    reopened: u64,
    reopenings: u64,
    levels: [u64; 5],
    delays: Vec<i64>,
}

/// The statistics of the claims in `documents` filed within `period`, one row per group, in
/// the groups' byte order. Documents that are not claim facts are an error.
pub fn aggregate<'a>(
    documents: impl IntoIterator<Item = &'a Document>,
    group_by: GroupBy,
    period: Period,
) -> Result<Vec<Row>, serde_json::Error> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for document in documents {
        let facts: ClaimFacts = serde_json::from_value(document.body.clone())?;
        if !period.contains(facts.filed_at) {
            continue;
        }
        let tally = tallies.entry(group_by.key(&facts)).or_default();
        tally.claims += 1;
        match facts.closure {
            Some(Closure::Client) => tally.closed[0] += 1,
            Some(Closure::Auto) => tally.closed[1] += 1,
            Some(Closure::Entity) => tally.closed[2] += 1,
            None => {}
        }
        if facts.reopenings > 0 {
            tally.reopened += 1;
            tally.reopenings += u64::from(facts.reopenings);
        }
        if let Some(level @ 1..=5) = facts.satisfaction {
            tally.levels[usize::from(level) - 1] += 1;
        }
        if let Some(delay) = facts.first_answer_us {
            tally.delays.push(delay);
        }
    }
    Ok(tallies
        .into_iter()
        .map(|(group, tally)| row(group, tally))
        .collect())
}

fn row(group: String, mut tally: Tally) -> Row {
    let rated: u64 = tally.levels.iter().sum();
    let points: u64 = (1..=5u64).zip(tally.levels).map(|(l, n)| l * n).sum();
    let average_satisfaction = (rated > 0).then(|| points as f64 / rated as f64);
    Row {
        group,
        claims: tally.claims,
        closed_by_client: tally.closed[0],
        closed_automatically: tally.closed[1],
        closed_by_entity: tally.closed[2],
        reopened: tally.reopened,
        reopenings: tally.reopenings,
        rated,
        average_satisfaction,
        satisfaction_1: tally.levels[0],
        satisfaction_2: tally.levels[1],
        satisfaction_3: tally.levels[2],
        satisfaction_4: tally.levels[3],
        satisfaction_5: tally.levels[4],
        answered: tally.delays.len() as u64,
        median_first_answer_seconds: median_seconds(&mut tally.delays),
    }
}

/// The exact median of microsecond delays, in seconds; `None` for no delay.
fn median_seconds(delays: &mut [i64]) -> Option<f64> {
    if delays.is_empty() {
        return None;
    }
    delays.sort_unstable();
    let middle = delays.len() / 2;
    let twice = if delays.len() % 2 == 1 {
        2 * i128::from(delays[middle])
    } else {
        i128::from(delays[middle - 1]) + i128::from(delays[middle])
    };
    Some(twice as f64 / 2_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(month: &str, satisfaction: Option<u8>, delay_s: Option<i64>) -> Document {
        let filed_at = Timestamp::parse_rfc3339(&format!("{month}-10T08:00:00Z")).unwrap();
        let facts = ClaimFacts {
            entity: Some("finance".to_owned()),
            theme: "t".to_owned(),
            filing_place: "p".to_owned(),
            month: month.to_owned(),
            filed_at,
            first_answer_us: delay_s.map(|s| s * 1_000_000),
            satisfaction,
            ratings: u32::from(satisfaction.is_some()),
            closure: satisfaction.map(|_| Closure::Client),
            reopenings: 0,
            version: 3,
        };
        document("RC-1", &facts)
    }

    #[test]
    fn medians_are_exact() {
        assert_eq!(median_seconds(&mut []), None);
        assert_eq!(median_seconds(&mut [7]), Some(0.000007));
        assert_eq!(median_seconds(&mut [3_000_000, 1_000_000]), Some(2.0));
        assert_eq!(median_seconds(&mut [1, 2, 4, 100]), Some(0.000003));
        assert_eq!(median_seconds(&mut [5, 1, 3]), Some(0.000003));
        // Two large delays whose sum overflows nothing.
        assert_eq!(
            median_seconds(&mut [i64::MAX, i64::MAX]),
            Some(i64::MAX as f64 / 1_000_000.0)
        );
    }

    #[test]
    fn rows_group_filter_and_average() {
        let docs = [
            facts("2026-01", Some(5), Some(60)),
            facts("2026-01", Some(2), Some(120)),
            facts("2026-02", Some(4), None),
            facts("2026-03", None, Some(30)),
        ];
        let rows = aggregate(&docs, GroupBy::Month, Period::default()).unwrap();
        let groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(groups, ["2026-01", "2026-02", "2026-03"]);
        assert_eq!(rows[0].claims, 2);
        assert_eq!(rows[0].average_satisfaction, Some(3.5));
        assert_eq!((rows[0].satisfaction_2, rows[0].satisfaction_5), (1, 1));
        assert_eq!(rows[0].median_first_answer_seconds, Some(90.0));
        assert_eq!(rows[1].median_first_answer_seconds, None);
        assert_eq!(rows[2].average_satisfaction, None);

        let all = aggregate(&docs, GroupBy::Entity, Period::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].claims, all[0].rated, all[0].answered), (4, 3, 3));
        assert_eq!(all[0].median_first_answer_seconds, Some(60.0));

        let from = Timestamp::parse_rfc3339("2026-02-01T00:00:00Z").unwrap();
        let to = Timestamp::parse_rfc3339("2026-03-10T08:00:00Z").unwrap();
        let period = Period {
            from: Some(from),
            to: Some(to),
        };
        let some = aggregate(&docs, GroupBy::Month, period).unwrap();
        assert_eq!(some.len(), 1, "from is inclusive, to exclusive");
        assert_eq!(some[0].group, "2026-02");
    }

    #[test]
    fn columns_name_every_field() {
        let docs = [facts("2026-01", Some(5), Some(60))];
        let rows = aggregate(&docs, GroupBy::Theme, Period::default()).unwrap();
        let value = serde_json::to_value(&rows[0]).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns: Vec<&str> = COLUMNS.to_vec();
        keys.sort_unstable();
        columns.sort_unstable();
        assert_eq!(keys, columns);
    }
}
