//! What analysts read (role `analyst`, and `admin`): the satisfaction statistics, as JSON or
//! CSV.
//!
//! What this endpoint promises:
//! - Its figures come from the `satisfaction_stats` read model, which holds no personal data;
//!   how each column is counted is told in `claimdesk_projections::satisfaction_stats`.
//! - JSON and CSV carry the same rows with the same columns: the group's code (an entity,
//!   theme or filing place code, or a month `YYYY-MM`), its label in the request's language,
//!   then the counts. CSV is asked for with `Accept: text/csv`; an absent figure (no rating,
//!   no answer) is an empty cell in CSV and `null` in JSON.
//! - `from` (inclusive) and `to` (exclusive) select claims by their filing time; each is an
//!   RFC 3339 time or a date (`2026-03-01`, midnight UTC).

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use claimdesk_domain::Timestamp;
use claimdesk_projections::satisfaction_stats::{
    self, aggregate, GroupBy, Period, Row, SatisfactionStats,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::instrument;

use crate::accounts::{Role, Staff};
use crate::app::AppState;
use crate::i18n::Lang;
use crate::problem::{field_code, ApiError, FieldError, Problem};
use crate::reference::Reference;
use crate::routing::Routing;

const ANALYSTS: &[Role] = &[Role::Analyst, Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatsQuery {
    /// `entity` (the entity handling the claim now), `theme`, `filing_place` or `month` (of
    /// filing, UTC).
    group_by: Option<String>,
    /// Claims filed at or after this time (RFC 3339, or a date: midnight UTC).
    from: Option<String>,
    /// Claims filed before this time (RFC 3339, or a date: midnight UTC).
    to: Option<String>,
}

/// The satisfaction statistics, one row per group.
#[utoipa::path(
    get,
    path = "/api/v1/stats/satisfaction",
    tag = "statistics",
    operation_id = "satisfaction_statistics",
    params(StatsQuery),
    security(("staff_token" = [])),
    responses(
        (status = 200, description = "`group_by`, `from`, `to` and `rows`: per group, \
            `group`, `label`, `claims`, `closed_by_client`, `closed_automatically`, \
            `closed_by_entity`, `reopened` (claims reopened at least once), `reopenings`, \
            `rated`, `average_satisfaction`, `satisfaction_1`..`satisfaction_5`, `answered`, \
            `median_first_answer_seconds`. With `Accept: text/csv`, the same rows as CSV.",
            content((Object = "application/json"), (String = "text/csv"))),
        (status = 401, description = "`unauthorized`: no staff token, or a bad or expired \
            one, or a disabled account.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: neither an analyst nor an administrator.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `group_by` missing or unknown, or \
            `from` or `to` not a time, or `to` before `from`.",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[instrument(skip_all, fields(login = %staff.login, group_by = ?query.group_by))]
pub async fn satisfaction(
    State(state): State<AppState>,
    lang: Lang,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    staff.require(ANALYSTS)?;
    let (group_by, period) = check(&query, lang)?;

    let id = state
        .projections
        .id(SatisfactionStats::NAME)
        .ok_or_else(|| ApiError::internal("the satisfaction statistics are not running"))?;
    let documents = state
        .store
        .list(id, satisfaction_stats::COLLECTION, None)
        .await?;
    let rows = aggregate(&documents, group_by, period).map_err(ApiError::internal)?;
    let labels: Vec<String> = rows
        .iter()
        .map(|r| label(group_by, &r.group, lang))
        .collect();
    tracing::debug!(
        rows = rows.len(),
        claims = documents.len(),
        "statistics computed"
    );

    if wants_csv(&headers) {
        let csv = to_csv(&rows, &labels).map_err(ApiError::internal)?;
        let name = format!(
            "attachment; filename=\"satisfaction-{}.csv\"",
            name(group_by)
        );
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ];
        return Ok((headers, csv).into_response());
    }

    let rows: Vec<Value> = rows
        .iter()
        .zip(&labels)
        .map(|(row, label)| {
            let mut value = serde_json::to_value(row).expect("rows serialize");
            value["label"] = json!(label);
            value
        })
        .collect();
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
    Ok(Json(json!({
        "group_by": name(group_by),
        "from": time(period.from),
        "to": time(period.to),
        "rows": rows,
    }))
    .into_response())
}

fn name(group_by: GroupBy) -> &'static str {
    match group_by {
        GroupBy::Entity => "entity",
        GroupBy::Theme => "theme",
        GroupBy::FilingPlace => "filing_place",
        GroupBy::Month => "month",
    }
}

/// The query's grouping and period, or every field error at once.
fn check(query: &StatsQuery, lang: Lang) -> Result<(GroupBy, Period), ApiError> {
    let mut errors = Vec::new();
    let group_by = match query.group_by.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new("group_by", field_code::REQUIRED, lang));
            None
        }
        Some("entity") => Some(GroupBy::Entity),
        Some("theme") => Some(GroupBy::Theme),
        Some("filing_place") => Some(GroupBy::FilingPlace),
        Some("month") => Some(GroupBy::Month),
        Some(_) => {
            errors.push(FieldError::new("group_by", field_code::UNKNOWN_CODE, lang));
            None
        }
    };
    let mut time = |field: &str, text: Option<&String>| match text.map(|t| parse_time(t)) {
        None => None,
        Some(Some(at)) => Some(at),
        Some(None) => {
            errors.push(FieldError::new(field, field_code::INVALID, lang));
            None
        }
    };
    let from = time("from", query.from.as_ref());
    let to = time("to", query.to.as_ref());
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            errors.push(FieldError::new("to", field_code::INVALID, lang));
        }
    }
    match group_by {
        Some(group_by) if errors.is_empty() => Ok((group_by, Period { from, to })),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// An RFC 3339 time, or a date taken as midnight UTC.
fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let at = match DateTime::parse_from_rfc3339(text) {
        Ok(at) => at.with_timezone(&Utc),
        Err(_) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
            .and_utc(),
    };
    Timestamp::parse_rfc3339(&at.to_rfc3339_opts(SecondsFormat::Micros, true)).ok()
}

fn label(group_by: GroupBy, code: &str, lang: Lang) -> String {
    let reference = Reference::load();
    match group_by {
        GroupBy::Entity => Routing::load().label(code, lang),
        GroupBy::Theme => reference
            .label("themes", code, lang)
            .unwrap_or(code)
            .to_owned(),
        GroupBy::FilingPlace => reference
            .label("filing_places", code, lang)
            .unwrap_or(code)
            .to_owned(),
        GroupBy::Month => code.to_owned(),
    }
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let media = item.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("text/csv")
        })
}

/// The rows as CSV: a header of the column names, then one record per row.
fn to_csv(rows: &[Row], labels: &[String]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = vec![satisfaction_stats::COLUMNS[0], "label"];
    header.extend_from_slice(&satisfaction_stats::COLUMNS[1..]);
    out.write_record(&header)?;

    let figure = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    for (row, label) in rows.iter().zip(labels) {
        let counts = [
            row.claims,
            row.closed_by_client,
            row.closed_automatically,
            row.closed_by_entity,
            row.reopened,
            row.reopenings,
            row.rated,
        ];
        let levels = [
            row.satisfaction_1,
            row.satisfaction_2,
            row.satisfaction_3,
            row.satisfaction_4,
            row.satisfaction_5,
        ];
        let mut record = vec![row.group.clone(), label.clone()];
        record.extend(counts.iter().map(u64::to_string));
        record.push(figure(row.average_satisfaction));
        record.extend(levels.iter().map(u64::to_string));
        record.push(row.answered.to_string());
        record.push(figure(row.median_first_answer_seconds));
        out.write_record(&record)?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("every field is UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_dates() {
        let date = parse_time("2026-03-01").unwrap();
        assert_eq!(date.to_string(), "2026-03-01T00:00:00.000000Z");
        let time = parse_time("2026-03-01T10:00:00+01:00").unwrap();
        assert_eq!(time.to_string(), "2026-03-01T09:00:00.000000Z");
        for bad in ["", "yesterday", "2026-13-01", "2026-03-01T25:00:00Z"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn accept_headers() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, value.parse().unwrap());
            wants_csv(&headers)
        };
        assert!(with("text/csv"));
        assert!(with("application/json;q=0.5, TEXT/CSV; charset=utf-8"));
        assert!(!with("application/json"));
        assert!(!with("text/csvx"));
        assert!(!wants_csv(&HeaderMap::new()));
    }
}
