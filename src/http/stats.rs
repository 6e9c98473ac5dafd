//! `/api/v1/stats`: backlogs, the Decision 766 indicators, bottlenecks, rebalancing.
//! Backlog and indicators also come as CSV with `Accept: text/csv`.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::domain::access::StatsScope;
use crate::domain::scorecard::Source;
use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiQuery, Auth, ClientLang};
use crate::services::scorecard::Scorecard;
use crate::services::stats::{self, Backlog, Bottlenecks, GroupBy, Indicators, Rebalancing};
use crate::state::AppState;
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(backlog))
        .routes(routes!(indicators))
        .routes(routes!(bottlenecks))
        .routes(routes!(rebalancing))
        .routes(routes!(scorecard))
        .routes(routes!(national_sync))
        .routes(routes!(enter_scorecard_value))
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

pub fn csv_response(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub fn csv_error(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::internal(e)
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BacklogQuery {
    #[param(pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    #[param(pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$")]
    pub unit: Option<String>,
    #[param(pattern = r"^[0-9]{1,2}\.[0-9]{6,7}(\.[0-9]{1,2})?$")]
    pub procedure: Option<String>,
    /// province, unit (default), procedure or step.
    #[param(pattern = r"^(province|unit|procedure|step)$")]
    pub group_by: Option<String>,
}

/// Open dossiers grouped by province, unit, procedure or step, with SLA states and ageing
/// (working days). Groups add up to the totals. Scoped to the caller.
#[utoipa::path(get, path = "/api/v1/stats/backlog", tag = "stats",
    security(("bearer" = [])),
    params(BacklogQuery),
    responses(
        (status = 200, body = Backlog, description = "JSON, or CSV with Accept: text/csv"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn backlog(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<BacklogQuery>,
) -> ApiResult<Response> {
    let filter = stats::scoped_filter(&actor, q.province, q.unit, q.procedure)?;
    let name = q.group_by.as_deref().unwrap_or("unit");
    let group = match name {
        "province" => GroupBy::Province,
        "unit" => GroupBy::Unit,
        "procedure" => GroupBy::Procedure,
        "step" => GroupBy::Step,
        _ => {
            return Err(ApiError::invalid_field(
                "group_by",
                "invalid_group_by",
                text!(
                    "group_by phải là province, unit, procedure hoặc step.",
                    "group_by must be province, unit, procedure or step."
                ),
            ))
        }
    };
    let b = stats::backlog(&state.stats(), &filter, group, name, Utc::now(), lang).await?;
    if wants_csv(&headers) {
        return Ok(csv_response("backlog", backlog_csv(&b)?));
    }
    Ok(ApiJson(b).into_response())
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsQuery {
    /// Start of the period (RFC 3339).
    pub from: DateTime<FixedOffset>,
    /// End of the period, exclusive (RFC 3339).
    pub to: DateTime<FixedOffset>,
    #[param(pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    #[param(pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$")]
    pub unit: Option<String>,
}

/// The official indicators of a period (Decision 766/QĐ-TTg): on-time rate, average
/// processing time, online filing rate, with the counts behind each.
#[utoipa::path(get, path = "/api/v1/stats/indicators", tag = "stats",
    security(("bearer" = [])),
    params(IndicatorsQuery),
    responses(
        (status = 200, body = Indicators, description = "JSON, or CSV with Accept: text/csv"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn indicators(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<IndicatorsQuery>,
) -> ApiResult<Response> {
    let filter = stats::scoped_filter(&actor, q.province, q.unit, None)?;
    let r = stats::indicators(
        state.read_db(),
        &filter,
        q.from.with_timezone(&Utc),
        q.to.with_timezone(&Utc),
        Utc::now(),
    )
    .await?;
    if wants_csv(&headers) {
        return Ok(csv_response("indicators", indicators_csv(&r)?));
    }
    Ok(ApiJson(r).into_response())
}

/// Of the dossiers filed in a period, how many the national public-service portal holds up
/// to their last public step (Decision 766 sub-indicator 1.4), and how many failed.
#[utoipa::path(get, path = "/api/v1/stats/national-sync", tag = "stats",
    security(("bearer" = [])),
    params(IndicatorsQuery),
    responses(
        (status = 200, body = stats::NationalSyncShare),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn national_sync(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<IndicatorsQuery>,
) -> ApiResult<ApiJson<stats::NationalSyncShare>> {
    let filter = stats::scoped_filter(&actor, q.province, q.unit, None)?;
    Ok(ApiJson(
        stats::national_sync(
            state.read_db(),
            &filter,
            q.from.with_timezone(&Utc),
            q.to.with_timezone(&Utc),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BottleneckQuery {
    #[param(pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    /// The look-back window in days (1–90, default 7).
    #[validate(range(min = 1, max = 90))]
    #[param(minimum = 1, maximum = 90)]
    pub window_days: Option<i64>,
}

/// Units ranked by how badly work piles up: inflow against throughput, dwell per step against
/// its budget, overdue share, projected breaches at the current service rate; each with a
/// sentence saying why.
#[utoipa::path(get, path = "/api/v1/stats/bottlenecks", tag = "stats",
    security(("bearer" = [])),
    params(BottleneckQuery),
    responses(
        (status = 200, body = Bottlenecks),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn bottlenecks(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiQuery(q): ApiQuery<BottleneckQuery>,
) -> ApiResult<ApiJson<Bottlenecks>> {
    let filter = stats::scoped_filter(&actor, q.province, None, None)?;
    Ok(ApiJson(
        stats::bottlenecks(
            &state.stats(),
            &filter,
            q.window_days.unwrap_or(7),
            Utc::now(),
            lang,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RebalancingQuery {
    /// Required for national supervisors; a provincial supervisor's own by default.
    #[param(pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    #[validate(range(min = 1, max = 90))]
    #[param(minimum = 1, maximum = 90)]
    pub window_days: Option<i64>,
}

/// Proposals to move boundary-independent dossiers from overloaded communes to communes of
/// the same province with spare capacity, with the expected effect.
#[utoipa::path(get, path = "/api/v1/stats/rebalancing", tag = "stats",
    security(("bearer" = [])),
    params(RebalancingQuery),
    responses(
        (status = 200, body = Rebalancing),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn rebalancing(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiQuery(q): ApiQuery<RebalancingQuery>,
) -> ApiResult<ApiJson<Rebalancing>> {
    if matches!(actor.stats_scope()?, StatsScope::Unit { .. }) {
        return Err(ApiError::forbidden(text!(
            "Chỉ giám sát viên được xem đề xuất điều chuyển.",
            "Only supervisors may read rebalancing proposals."
        )));
    }
    let filter = stats::scoped_filter(&actor, q.province, None, None)?;
    let province = filter.province.ok_or_else(|| {
        ApiError::invalid_field(
            "province",
            "required",
            text!("Cần chọn tỉnh.", "A province is required."),
        )
    })?;
    Ok(ApiJson(
        stats::rebalancing(
            &state.stats(),
            &province,
            q.window_days.unwrap_or(7),
            Utc::now(),
            lang,
        )
        .await?,
    ))
}

/// The backlog as CSV: one line per group, then the totals.
pub fn backlog_csv(b: &Backlog) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "group",
        "name",
        "open",
        "received_today",
        "not_started",
        "on_track",
        "at_risk",
        "overdue",
        "awaiting_supplement",
        "oldest_open_age_working_hours",
        "age_0_1",
        "age_1_3",
        "age_3_5",
        "age_5_10",
        "age_over_10",
    ])
    .map_err(csv_error)?;
    for g in b.groups.iter().chain(std::iter::once(&b.totals)) {
        w.write_record([
            g.key.clone(),
            g.name.clone().unwrap_or_default(),
            g.open.to_string(),
            g.received_today.to_string(),
            g.not_started.to_string(),
            g.on_track.to_string(),
            g.at_risk.to_string(),
            g.overdue.to_string(),
            g.awaiting_supplement.to_string(),
            format!("{:.2}", g.oldest_open_age_working_hours),
            g.ageing.d0_1.to_string(),
            g.ageing.d1_3.to_string(),
            g.ageing.d3_5.to_string(),
            g.ageing.d5_10.to_string(),
            g.ageing.over_10.to_string(),
        ])
        .map_err(csv_error)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(e.into_error()))?;
    Ok(bytes)
}

/// The indicators as CSV: one line per indicator or count.
pub fn indicators_csv(r: &Indicators) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["indicator", "value"]).map_err(csv_error)?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let c = &r.counts;
    for (k, v) in [
        ("on_time_rate", opt(r.on_time_rate)),
        (
            "average_processing_working_hours",
            opt(r.average_processing_working_hours),
        ),
        ("online_filing_rate", opt(r.online_filing_rate)),
        (
            "online_with_electronic_result_rate",
            opt(r.online_with_electronic_result_rate),
        ),
        ("received", c.received.to_string()),
        ("received_online", c.received_online.to_string()),
        (
            "received_online_electronic_result",
            c.received_online_electronic_result.to_string(),
        ),
        ("finished", c.finished.to_string()),
        ("finished_on_time", c.finished_on_time.to_string()),
        ("finished_late", c.finished_late.to_string()),
        ("open_on_time", c.open_on_time.to_string()),
        ("open_late", c.open_late.to_string()),
        (
            "late_by_second_supplement",
            c.late_by_second_supplement.to_string(),
        ),
        ("late_with_apology", c.late_with_apology.to_string()),
        ("judged", c.judged.to_string()),
        (
            "components_digitised_rate",
            opt(r.digitisation.components_digitised_rate),
        ),
        (
            "results_digitised_rate",
            opt(r.digitisation.results_digitised_rate),
        ),
        (
            "digitised_reuse_rate",
            opt(r.digitisation.digitised_reuse_rate),
        ),
        (
            "digitised_documents",
            r.digitisation.digitised_documents.to_string(),
        ),
        (
            "digitised_reused",
            r.digitisation.digitised_reused.to_string(),
        ),
        ("ratings", r.satisfaction.ratings.to_string()),
        ("average_rating", opt(r.satisfaction.average_rating)),
        ("satisfied_rate", opt(r.satisfaction.satisfied_rate)),
    ] {
        w.write_record([k, &v]).map_err(csv_error)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(e.into_error()))?;
    Ok(bytes)
}

// ---- the Decision 766 scorecard -------------------------------------------------------------

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// Start of the period: an RFC 3339 instant, or a date (its first instant in Vietnam).
    /// Default: 1 January of this year.
    #[param(example = "2026-01-01")]
    pub from: Option<String>,
    /// End of the period: an RFC 3339 instant (exclusive), or a date (included). Default: now.
    #[param(example = "2026-12-31")]
    pub to: Option<String>,
    #[param(pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    #[param(pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$")]
    pub unit: Option<String>,
}

/// An instant or a date of a period's bound (`end`: a date means the end of that day).
pub fn period_bound(field: &'static str, raw: &str, end: bool) -> ApiResult<DateTime<Utc>> {
    let raw = raw.trim();
    let t = match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => {
            let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid_field(
                    field,
                    "invalid_instant",
                    text!(
                        "Cần thời điểm RFC 3339 hoặc ngày YYYY-MM-DD.",
                        "An RFC 3339 instant or a YYYY-MM-DD date is needed."
                    ),
                )
            })?;
            let day = if end {
                date.succ_opt().unwrap_or(date)
            } else {
                date
            };
            day.and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_local_timezone(crate::domain::calendar::vn_offset())
                .single()
                .expect("a fixed offset")
                .with_timezone(&Utc)
        }
    };
    // Within what both databases store and any report covers.
    let year = t
        .with_timezone(&crate::domain::calendar::vn_offset())
        .year();
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::invalid_field(
            field,
            "out_of_range",
            text!(
                "Kỳ báo cáo nằm trong khoảng năm 2000–2100.",
                "The period lies within the years 2000–2100."
            ),
        ));
    }
    Ok(t)
}

/// Decision 766/QĐ-TTg's scorecard of the period: five groups (100 points), each with its
/// sub-indicators and their points, computed from the dossiers where motcua holds the data
/// and entered by supervisors where it does not (`docs/INDICATORS.md`). JSON, or CSV with
/// `Accept: text/csv`. Scoped to the caller.
#[utoipa::path(get, path = "/api/v1/stats/scorecard", tag = "stats",
    security(("bearer" = [])),
    params(ScorecardQuery),
    responses(
        (status = 200, body = Scorecard, description = "JSON, or CSV with Accept: text/csv"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn scorecard(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<Response> {
    let filter = stats::scoped_filter(&actor, q.province, q.unit, None)?;
    let now = Utc::now();
    let from = match q.from.as_deref() {
        Some(f) => period_bound("from", f, false)?,
        None => {
            let year = now
                .with_timezone(&crate::domain::calendar::vn_offset())
                .year();
            period_bound("from", &format!("{year}-01-01"), false)?
        }
    };
    let to = match q.to.as_deref() {
        Some(t) => period_bound("to", t, true)?,
        None => now,
    };
    if to <= from {
        return Err(ApiError::invalid_field(
            "to",
            "empty_period",
            text!("'to' phải sau 'from'.", "'to' must be after 'from'."),
        ));
    }
    let s =
        crate::services::scorecard::scorecard(&state.stats(), &filter, from, to, now, lang).await?;
    if wants_csv(&headers) {
        return Ok(csv_response("scorecard", scorecard_csv(&s)?));
    }
    Ok(ApiJson(s).into_response())
}

fn scorecard_csv(s: &Scorecard) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "group",
        "key",
        "code",
        "name",
        "source",
        "value",
        "full_at",
        "points",
        "max_points",
    ])
    .map_err(csv_error)?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for g in &s.groups {
        for i in &g.indicators {
            w.write_record([
                g.key.as_str().to_string(),
                i.key.clone(),
                i.code.clone(),
                i.name.clone(),
                match i.source {
                    Source::Computed => "computed",
                    Source::Entered => "entered",
                }
                .to_string(),
                opt(i.value),
                opt(i.full_at),
                i.points.to_string(),
                i.max_points.to_string(),
            ])
            .map_err(csv_error)?;
        }
        w.write_record([
            g.key.as_str().to_string(),
            String::new(),
            String::new(),
            g.name.clone(),
            String::new(),
            String::new(),
            String::new(),
            g.points.to_string(),
            g.max_points.to_string(),
        ])
        .map_err(csv_error)?;
    }
    w.into_inner().map_err(|e| csv_error(e.into_error()))
}

/// A value a supervisor enters for a sub-indicator motcua cannot compute.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorecardEntryBody {
    #[schema(example = "01")]
    pub province: String,
    /// An entered sub-indicator's code (`source: entered` in the scorecard), e.g.
    /// `procedures_published_on_time`.
    #[schema(example = "procedures_published_on_time")]
    pub indicator: String,
    /// The first day of the period the value is for; it applies to every period that ends
    /// after it, until a later one is entered.
    pub period_start: chrono::NaiveDate,
    /// A rate from 0 to 1.
    #[schema(minimum = 0.0, maximum = 1.0, example = 0.95)]
    pub value: f64,
    /// Where the figure comes from (the report, the national portal's page).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Enter (or correct) a sub-indicator's value for a province and a period: the province's
/// supervisors, national supervisors and administrators; audited.
#[utoipa::path(put, path = "/api/v1/stats/scorecard/entries", tag = "stats",
    security(("bearer" = [])),
    request_body = ScorecardEntryBody,
    responses(
        (status = 204, description = "Entered"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "unknown_indicator, computed_indicator, value_out_of_range", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn enter_scorecard_value(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(b): ApiJson<ScorecardEntryBody>,
) -> ApiResult<axum::http::StatusCode> {
    crate::services::scorecard::enter(
        &state.stats(),
        &actor,
        crate::services::scorecard::Entry {
            province: b.province,
            indicator: b.indicator,
            period_start: b.period_start,
            value: b.value,
            note: b.note,
        },
        Utc::now(),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
