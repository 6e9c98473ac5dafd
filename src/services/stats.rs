//! Supervisor monitoring: backlogs, the Decision 766 indicators, bottleneck detection and
//! rebalancing proposals. Formulas: `docs/INDICATORS.md`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};

use crate::domain::access::{Actor, StatsScope};
use crate::domain::calendar::{vn_offset, WorkCalendar};
use crate::domain::geography::Gazetteer;
use crate::domain::lang::Lang;
use crate::domain::unit::UnitKind;
use crate::error::{ApiError, ApiResult};
pub use crate::repo::stats::Filter;
use crate::repo::stats::{self as q, AgeBounds};
use crate::services::calendar::CalendarHandle;
use crate::services::geography::DirectoryHandle;
use crate::text;

const DAY_SECS: i64 = 8 * 3600;

/// How the backlog is grouped (the handlers' word for it; the query has its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Province,
    Unit,
    Procedure,
    Step,
}

impl GroupBy {
    fn query(self) -> q::GroupBy {
        match self {
            GroupBy::Province => q::GroupBy::Province,
            GroupBy::Unit => q::GroupBy::Unit,
            GroupBy::Procedure => q::GroupBy::Procedure,
            GroupBy::Step => q::GroupBy::Step,
        }
    }
}

/// What the backlog, bottleneck and rebalancing reports read besides the connection.
pub struct Deps<'a> {
    /// The primary: writes (the scorecard's entered values).
    pub db: &'a DatabaseConnection,
    /// Reads that tolerate a moment's delay: a replica while it keeps up (`crate::replica`).
    pub read: &'a DatabaseConnection,
    /// Ages are counted in working time (the default calendar).
    pub calendars: &'a CalendarHandle,
    /// Units' names and places.
    pub directory: &'a DirectoryHandle,
    /// Provinces' names.
    pub gazetteer: &'a Gazetteer,
    /// The procedures in force and the provinces' lists (scorecard, rebalancing).
    pub catalog: &'a crate::services::routing::CatalogHandle,
    /// `stats.bottlenecks_refresh_secs`: the country's bottleneck report is served from its
    /// computation in advance while it is younger than twice this (0: never).
    pub bottlenecks_refresh_secs: u64,
}

/// The open dossiers counted by (status, SLA state), for the metrics gauges.
pub async fn open_by_status_and_sla(
    db: &DatabaseConnection,
) -> ApiResult<Vec<(String, String, i64)>> {
    Ok(q::open_by_status_and_sla(db).await?)
}

/// Narrow a requested filter to the caller's scope (403 when it asks for more).
pub fn scoped_filter(
    actor: &Actor,
    province: Option<String>,
    unit: Option<String>,
    procedure: Option<String>,
) -> ApiResult<Filter> {
    let scope = actor.stats_scope()?;
    let province = match province {
        Some(p) => Some(crate::services::geography::province_code(&p)?),
        None => None,
    };
    let outside = || {
        ApiError::forbidden(text!(
            "Yêu cầu vượt ra ngoài phạm vi được xem của bạn.",
            "That is outside what you may see."
        ))
    };
    Ok(match scope {
        StatsScope::National => Filter {
            province,
            unit,
            procedure,
        },
        StatsScope::Province(mine) => {
            if province.as_deref().is_some_and(|p| p != mine) {
                return Err(outside());
            }
            if let Some(u) = &unit {
                if !u.starts_with(&format!("{mine}.")) {
                    return Err(outside());
                }
            }
            Filter {
                province: Some(mine),
                unit,
                procedure,
            }
        }
        StatsScope::Unit {
            unit: mine,
            province: my_province,
        } => {
            if unit.as_deref().is_some_and(|u| u != mine.as_str())
                || province.as_deref().is_some_and(|p| p != my_province)
            {
                return Err(outside());
            }
            Filter {
                province: Some(my_province),
                unit: Some(mine.to_string()),
                procedure,
            }
        }
    })
}

/// One group of the backlog.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BacklogGroup {
    pub key: String,
    pub name: Option<String>,
    pub open: i64,
    pub received_today: i64,
    pub not_started: i64,
    pub on_track: i64,
    pub at_risk: i64,
    pub overdue: i64,
    pub awaiting_supplement: i64,
    /// Working hours since the oldest open dossier was received (or submitted).
    pub oldest_open_age_working_hours: f64,
    pub ageing: Ageing,
}

/// Open dossiers by age in working days.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Ageing {
    #[serde(rename = "0_1")]
    pub d0_1: i64,
    #[serde(rename = "1_3")]
    pub d1_3: i64,
    #[serde(rename = "3_5")]
    pub d3_5: i64,
    #[serde(rename = "5_10")]
    pub d5_10: i64,
    #[serde(rename = "over_10")]
    pub over_10: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Backlog {
    pub group_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub as_of: DateTime<chrono::FixedOffset>,
    pub groups: Vec<BacklogGroup>,
    pub totals: BacklogGroup,
}

fn bounds(cal: &WorkCalendar, now: DateTime<Utc>) -> AgeBounds {
    let start = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(vn_offset()).single())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let today = now.with_timezone(&vn_offset()).date_naive();
    // The day `n` working days before today (a year back at most, should the calendar
    // have no working day at all).
    let back = |n: usize| {
        let mut d = today;
        let mut left = n;
        for _ in 0..366 {
            if left == 0 {
                break;
            }
            d = d.pred_opt().unwrap_or(d);
            if cal.is_working_day(d) {
                left -= 1;
            }
        }
        start(d)
    };
    AgeBounds {
        today: start(today),
        d1: back(1),
        d3: back(3),
        d5: back(5),
        d10: back(10),
    }
}

/// The backlog's rows as the database counted them: from the rollup when the grouping and
/// filter are the rollup's own (by province or unit, no procedure or unit filter), which
/// costs the same with two million open dossiers as with two thousand; otherwise from the
/// open dossiers themselves.
async fn backlog_rows(
    deps: &Deps<'_>,
    filter: &Filter,
    group: GroupBy,
    b: AgeBounds,
) -> ApiResult<Vec<q::BacklogRow>> {
    if filter.unit.is_some()
        || filter.procedure.is_some()
        || !matches!(group, GroupBy::Province | GroupBy::Unit)
    {
        return Ok(q::backlog(deps.read, filter, group.query(), b).await?);
    }
    Ok(q::backlog_from_rollup(deps.read, filter.province.as_deref(), group.query(), b).await?)
}

/// The backlog grouped as asked, with totals equal to the sum of the groups.
pub async fn backlog(
    deps: &Deps<'_>,
    filter: &Filter,
    group: GroupBy,
    group_name: &str,
    now: DateTime<Utc>,
    lang: Lang,
) -> ApiResult<Backlog> {
    let cal = deps.calendars.current().default_calendar();
    let rows = backlog_rows(deps, filter, group, bounds(&cal, now)).await?;
    let directory = deps.directory.current();
    let mut totals = BacklogGroup {
        key: "total".into(),
        ..Default::default()
    };
    let mut oldest_all: Option<DateTime<Utc>> = None;
    let groups: Vec<BacklogGroup> = rows
        .into_iter()
        .map(|r| {
            let name = match group {
                GroupBy::Unit => directory.unit(&r.grp).map(|u| u.name_in(lang).to_string()),
                GroupBy::Province => crate::domain::geography::ProvinceCode::parse(&r.grp)
                    .ok()
                    .and_then(|c| deps.gazetteer.province(c))
                    .map(|p| p.name.to_string()),
                _ => None,
            };
            oldest_all = match (oldest_all, r.oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let g = BacklogGroup {
                key: r.grp,
                name,
                open: r.open,
                received_today: r.received_today,
                not_started: r.not_started,
                on_track: r.on_track,
                at_risk: r.at_risk,
                overdue: r.overdue,
                awaiting_supplement: r.awaiting_supplement,
                oldest_open_age_working_hours: r
                    .oldest
                    .map(|o| cal.working_secs_between(o, now) as f64 / 3600.0)
                    .unwrap_or(0.0),
                ageing: Ageing {
                    d0_1: r.age_0_1,
                    d1_3: r.age_1_3,
                    d3_5: r.age_3_5,
                    d5_10: r.age_5_10,
                    over_10: r.age_over_10,
                },
            };
            totals.open += g.open;
            totals.received_today += g.received_today;
            totals.not_started += g.not_started;
            totals.on_track += g.on_track;
            totals.at_risk += g.at_risk;
            totals.overdue += g.overdue;
            totals.awaiting_supplement += g.awaiting_supplement;
            totals.ageing.d0_1 += g.ageing.d0_1;
            totals.ageing.d1_3 += g.ageing.d1_3;
            totals.ageing.d3_5 += g.ageing.d3_5;
            totals.ageing.d5_10 += g.ageing.d5_10;
            totals.ageing.over_10 += g.ageing.over_10;
            g
        })
        .collect();
    totals.oldest_open_age_working_hours = oldest_all
        .map(|o| cal.working_secs_between(o, now) as f64 / 3600.0)
        .unwrap_or(0.0);
    Ok(Backlog {
        group_by: group_name.to_string(),
        as_of: now.with_timezone(&vn_offset()),
        groups,
        totals,
    })
}

/// The Decision 766 indicators of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Indicators {
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<chrono::FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<chrono::FixedOffset>,
    /// 2.1: (finished on time + open not yet late) / all judged. `null` with nothing to judge.
    pub on_time_rate: Option<f64>,
    /// 2.2: mean working hours from receipt to decision, supplement time excluded.
    pub average_processing_working_hours: Option<f64>,
    /// Online filings over all received in the period (filing only, whatever the result).
    pub online_filing_rate: Option<f64>,
    /// 3.3: dossiers filed online whose result was returned electronically, over all
    /// received in the period.
    pub online_with_electronic_result_rate: Option<f64>,
    /// 3.3 gives the full score at 50 % or more (of `online_with_electronic_result_rate`).
    pub online_full_score: bool,
    pub counts: IndicatorCounts,
    pub by_procedure: Vec<ProcedureTime>,
    /// Decision 766's digitisation group (docs/INDICATORS.md).
    pub digitisation: Digitisation,
    /// Applicants' ratings given in the period (Decision 766's satisfaction group).
    pub satisfaction: Satisfaction,
}

/// Applicants' ratings (1–5, one per dossier after its result) given in a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    pub ratings: i64,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
    /// Mean rating; `null` without ratings.
    pub average_rating: Option<f64>,
    /// Ratings of 4 or 5 / ratings.
    pub satisfied_rate: Option<f64>,
    /// Per unit rated (the unit that handled the dossier).
    pub by_unit: Vec<UnitSatisfaction>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitSatisfaction {
    pub unit: String,
    pub ratings: i64,
    pub average_rating: Option<f64>,
    pub satisfied_rate: Option<f64>,
}

/// Decision 766's digitisation indicators of a period, with the counts behind them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Digitisation {
    /// Dossiers received in the period whose components are held as files (uploaded
    /// online, scanned at the counter or reused) / dossiers received.
    pub components_digitised_rate: Option<f64>,
    /// Dossiers decided in the period with an electronic result file / dossiers decided.
    pub results_digitised_rate: Option<f64>,
    /// Digitised components first stored in the period that a later dossier reused /
    /// digitised components first stored in the period.
    pub digitised_reuse_rate: Option<f64>,
    pub received: i64,
    pub received_with_files: i64,
    pub decided: i64,
    pub decided_with_result_file: i64,
    pub digitised_documents: i64,
    pub digitised_reused: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorCounts {
    pub received: i64,
    pub received_online: i64,
    /// Filed online, result returned electronically.
    pub received_online_electronic_result: i64,
    pub finished: i64,
    pub finished_on_time: i64,
    /// Of `finished_on_time`, decided a day or more before the deadline ("trước hạn").
    pub finished_early: i64,
    pub finished_late: i64,
    pub open_on_time: i64,
    pub open_late: i64,
    /// Counted late because of a second supplement request.
    pub late_by_second_supplement: i64,
    /// Late despite an apology and a new appointment (an apology never makes a dossier on time).
    pub late_with_apology: i64,
    pub judged: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProcedureTime {
    pub procedure_code: String,
    pub finished: i64,
    pub average_working_hours: f64,
    pub average_working_days: f64,
}

fn ratio(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10000.0).round() / 10000.0)
}

pub async fn indicators(
    db: &DatabaseConnection,
    filter: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Indicators> {
    if to <= from {
        return Err(ApiError::invalid_field(
            "to",
            "empty_period",
            text!("'to' phải sau 'from'.", "'to' must be after 'from'."),
        ));
    }
    let end = to.min(now);
    // Independent reads, each on its own pooled connection: the period's statistics take
    // as long as the slowest of them, not their sum.
    let (r, per, dg, rated) = tokio::try_join!(
        q::indicators(db, filter, from, to, end),
        q::processing_by_procedure(db, filter, from, to),
        q::digitisation(db, filter, from, to),
        q::satisfaction(db, filter, from, to),
    )?;
    let mean = |sum: i64, n: i64| (n > 0).then(|| (sum as f64 / n as f64 * 100.0).round() / 100.0);
    let (ratings, rating_sum, satisfied) = rated.iter().fold((0, 0, 0), |(n, s, k), r| {
        (n + r.ratings, s + r.rating_sum, k + r.satisfied)
    });
    let judged = r.finished_on_time + r.finished_late + r.open_on_time + r.open_late;
    let online = ratio(r.received_online, r.received);
    let online_electronic = ratio(r.received_online_electronic_result, r.received);
    Ok(Indicators {
        from: from.with_timezone(&vn_offset()),
        to: to.with_timezone(&vn_offset()),
        on_time_rate: ratio(r.finished_on_time + r.open_on_time, judged),
        average_processing_working_hours: (r.processing_count > 0).then(|| {
            (r.processing_secs_sum.unwrap_or(0) as f64 / r.processing_count as f64 / 3600.0 * 100.0)
                .round()
                / 100.0
        }),
        online_filing_rate: online,
        online_with_electronic_result_rate: online_electronic,
        online_full_score: online_electronic.is_some_and(|o| o >= 0.5),
        counts: IndicatorCounts {
            received: r.received,
            received_online: r.received_online,
            received_online_electronic_result: r.received_online_electronic_result,
            finished: r.finished,
            finished_on_time: r.finished_on_time,
            finished_early: r.finished_early,
            finished_late: r.finished_late,
            open_on_time: r.open_on_time,
            open_late: r.open_late,
            late_by_second_supplement: r.many_supplements,
            late_with_apology: r.apologized_late,
            judged,
        },
        by_procedure: per
            .into_iter()
            .map(|p| {
                let hours = p.secs_sum.unwrap_or(0) as f64 / p.finished.max(1) as f64 / 3600.0;
                ProcedureTime {
                    procedure_code: p.procedure_code,
                    finished: p.finished,
                    average_working_hours: (hours * 100.0).round() / 100.0,
                    average_working_days: (hours / 8.0 * 100.0).round() / 100.0,
                }
            })
            .collect(),
        digitisation: Digitisation {
            components_digitised_rate: ratio(dg.received_with_files, dg.received),
            results_digitised_rate: ratio(dg.decided_with_result_file, dg.decided),
            digitised_reuse_rate: ratio(dg.digitised_reused, dg.digitised_documents),
            received: dg.received,
            received_with_files: dg.received_with_files,
            decided: dg.decided,
            decided_with_result_file: dg.decided_with_result_file,
            digitised_documents: dg.digitised_documents,
            digitised_reused: dg.digitised_reused,
        },
        satisfaction: Satisfaction {
            ratings,
            satisfied,
            average_rating: mean(rating_sum, ratings),
            satisfied_rate: ratio(satisfied, ratings),
            by_unit: rated
                .into_iter()
                .map(|r| UnitSatisfaction {
                    average_rating: mean(r.rating_sum, r.ratings),
                    satisfied_rate: ratio(r.satisfied, r.ratings),
                    unit: r.unit,
                    ratings: r.ratings,
                })
                .collect(),
        },
    })
}

/// How a step's dwell compares with its budget in one unit.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepDwell {
    pub step: String,
    pub open: i64,
    /// Mean working hours spent so far in the step.
    pub average_dwell_working_hours: f64,
    /// Mean budget of the step, in working hours.
    pub average_budget_working_hours: f64,
    /// Open dossiers past their step's budget.
    pub over_budget: i64,
}

/// A unit's pressure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitPressure {
    pub unit: String,
    pub name: String,
    pub kind: String,
    pub score: f64,
    pub open: i64,
    pub overdue: i64,
    pub overdue_share: f64,
    /// Received in the window.
    pub inflow: i64,
    /// Decided in the window.
    pub throughput: i64,
    /// inflow − throughput.
    pub backlog_growth: i64,
    /// Decisions per working day over the window.
    pub service_rate_per_day: f64,
    /// Open dossiers that will miss their deadline at the current service rate.
    pub projected_breaches: i64,
    pub steps: Vec<StepDwell>,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Bottlenecks {
    pub window_days: i64,
    /// The instant the figures are as of: the request's, or for the whole country over the
    /// default window, when the report was computed in advance (`stats.bottlenecks_refresh_secs`).
    #[schema(value_type = String, format = DateTime)]
    pub as_of: DateTime<chrono::FixedOffset>,
    pub units: Vec<UnitPressure>,
}

/// How many of `dues` (sorted) miss their deadline if served in order at `per_day`
/// dossiers per working day from `now`.
pub fn projected_breaches(
    cal: &WorkCalendar,
    dues: &[DateTime<Utc>],
    per_day: f64,
    now: DateTime<Utc>,
) -> i64 {
    if dues.is_empty() {
        return 0;
    }
    if per_day <= 0.0 {
        // Nothing is being finished: every open dossier will miss its deadline.
        return dues.len() as i64;
    }
    let per_item = (DAY_SECS as f64 / per_day).max(1.0);
    let start = cal.working_offset(now);
    dues.iter()
        .enumerate()
        .filter(|(i, due)| {
            let finish = start + ((*i as f64 + 1.0) * per_item) as i64;
            finish > cal.working_offset(**due)
        })
        .count() as i64
}

struct UnitOpen {
    dues: Vec<DateTime<Utc>>,
    overdue: i64,
    steps: BTreeMap<String, (i64, i64, i64, i64)>,
}

/// A unit's pressure in numbers, before it is named and explained in a language: what the
/// country's report computed in advance keeps (`report_snapshots`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Figures {
    unit: String,
    score: f64,
    open: i64,
    overdue: i64,
    inflow: i64,
    throughput: i64,
    /// Decisions per working day over the window (unrounded: the sentence rounds it).
    rate: f64,
    breaches: i64,
    steps: Vec<StepDwell>,
}

/// The name of the country's bottleneck report in `report_snapshots`.
const COUNTRY_BOTTLENECKS: &str = "bottlenecks:country";
/// The window the country's report is computed in advance for: the page's and the API's
/// default.
pub const BOTTLENECK_WINDOW_DAYS: i64 = 7;

/// Units ranked by how badly work piles up over the last `window_days`.
///
/// The country's report over the default window is served from its latest computation in
/// advance ([`refresh_country_bottlenecks`]) when that is recent (`as_of` says when);
/// everything else is computed on the request.
pub async fn bottlenecks(
    deps: &Deps<'_>,
    filter: &Filter,
    window_days: i64,
    now: DateTime<Utc>,
    lang: Lang,
) -> ApiResult<Bottlenecks> {
    let window_days = window_days.clamp(1, 90);
    let whole_country =
        filter.province.is_none() && filter.unit.is_none() && filter.procedure.is_none();
    if whole_country && window_days == BOTTLENECK_WINDOW_DAYS && deps.bottlenecks_refresh_secs > 0 {
        if let Some((at, body)) =
            crate::repo::reports::latest(deps.read, COUNTRY_BOTTLENECKS).await?
        {
            let fresh = now - at <= Duration::seconds(2 * deps.bottlenecks_refresh_secs as i64);
            // A body this version cannot read (written by another) is computed again.
            match serde_json::from_str::<Vec<Figures>>(&body) {
                Ok(figures) if fresh => return Ok(present(deps, figures, window_days, at, lang)),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the bottleneck report kept in advance is unreadable")
                }
            }
        }
    }
    let figures = pressure(deps, filter, window_days, now).await?;
    Ok(present(deps, figures, window_days, now, lang))
}

/// Compute the country's bottleneck report (the default window) and keep it for requests,
/// when it is due (`deps.bottlenecks_refresh_secs` after the last) and no other instance is
/// computing it; returns the units it holds, or `None` when it was not this instance's turn.
pub async fn refresh_country_bottlenecks(
    deps: &Deps<'_>,
    now: DateTime<Utc>,
) -> ApiResult<Option<usize>> {
    // Long enough for a computation at national scale (seconds), short enough that an
    // instance that died holding it delays the next one little.
    let lease = now + Duration::seconds(120);
    let next = now + Duration::seconds(deps.bottlenecks_refresh_secs.max(1) as i64);
    let claimed = {
        let txn = crate::db::begin_write(deps.db).await?;
        let taken = crate::repo::reports::claim(&*txn, COUNTRY_BOTTLENECKS, now, lease).await?;
        txn.commit().await?;
        taken
    };
    if !claimed {
        return Ok(None);
    }
    let figures = pressure(deps, &Filter::default(), BOTTLENECK_WINDOW_DAYS, now).await?;
    let units = figures.len();
    let body = serde_json::to_string(&figures).map_err(ApiError::internal)?;
    let txn = crate::db::begin_write(deps.db).await?;
    crate::repo::reports::store(&*txn, COUNTRY_BOTTLENECKS, now, body, next).await?;
    txn.commit().await?;
    Ok(Some(units))
}

/// Every unit's pressure over the window ending at `now`, worst first.
async fn pressure(
    deps: &Deps<'_>,
    filter: &Filter,
    window_days: i64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Figures>> {
    let cal = deps.calendars.current().default_calendar();
    let since = now - Duration::days(window_days);
    let window_working_days =
        (cal.working_secs_between(since, now) as f64 / DAY_SECS as f64).max(1.0);
    // Independent reads at once, each on its own pooled connection.
    let (flows, open) = tokio::try_join!(
        q::flow(deps.read, filter, since),
        q::open_pressure(deps.read, filter),
    )?;

    let mut by_unit: HashMap<String, UnitOpen> = HashMap::new();
    for r in open {
        // Keyed by the row's own strings: no copy per dossier.
        let u = by_unit.entry(r.unit).or_insert_with(|| UnitOpen {
            dues: Vec::new(),
            overdue: 0,
            steps: BTreeMap::new(),
        });
        u.dues.push(r.due_at);
        if r.overdue {
            u.overdue += 1;
        }
        if let (Some(step), Some(started)) = (r.step_key, r.step_started_at) {
            let e = u.steps.entry(step).or_insert((0, 0, 0, 0));
            e.0 += 1;
            e.1 += cal.working_secs_between(started, now);
            if let Some(step_due) = r.step_due_at {
                e.2 += cal.working_secs_between(started, step_due);
                if step_due < now {
                    e.3 += 1;
                }
            }
        }
    }
    // Served in deadline order ([`projected_breaches`]).
    for u in by_unit.values_mut() {
        u.dues.sort_unstable();
    }
    let flows: HashMap<String, (i64, i64)> = flows
        .into_iter()
        .map(|f| (f.unit, (f.inflow, f.throughput)))
        .collect();
    let keys: std::collections::BTreeSet<&String> = by_unit.keys().chain(flows.keys()).collect();
    let mut units: Vec<Figures> = Vec::new();
    for key in keys {
        let empty = UnitOpen {
            dues: Vec::new(),
            overdue: 0,
            steps: BTreeMap::new(),
        };
        let o = by_unit.get(key).unwrap_or(&empty);
        let (inflow, throughput) = flows.get(key).copied().unwrap_or((0, 0));
        let rate = throughput as f64 / window_working_days;
        let breaches = projected_breaches(&cal, &o.dues, rate, now);
        let open_n = o.dues.len() as i64;
        let growth = inflow - throughput;
        let steps: Vec<StepDwell> = o
            .steps
            .iter()
            .map(|(k, (n, dwell, budget, over))| StepDwell {
                step: k.clone(),
                open: *n,
                average_dwell_working_hours: round2(*dwell as f64 / *n as f64 / 3600.0),
                average_budget_working_hours: round2(*budget as f64 / *n as f64 / 3600.0),
                over_budget: *over,
            })
            .collect();
        let over_budget: i64 = steps.iter().map(|s| s.over_budget).sum();
        let score = round2(
            breaches as f64
                + o.overdue as f64
                + growth.max(0) as f64 * 0.5
                + over_budget as f64 * 0.25,
        );
        if score <= 0.0 && open_n == 0 {
            continue;
        }
        units.push(Figures {
            unit: key.clone(),
            score,
            open: open_n,
            overdue: o.overdue,
            inflow,
            throughput,
            rate,
            breaches,
            steps,
        });
    }
    units.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.unit.cmp(&b.unit))
    });
    Ok(units)
}

/// The report as the supervisor reads it: each unit named and its pressure explained.
fn present(
    deps: &Deps<'_>,
    figures: Vec<Figures>,
    window_days: i64,
    as_of: DateTime<Utc>,
    lang: Lang,
) -> Bottlenecks {
    let directory = deps.directory.current();
    let units = figures
        .into_iter()
        .map(|f| {
            let info = directory.unit(&f.unit);
            let name = info
                .map(|u| u.name_in(lang).to_string())
                .unwrap_or_else(|| f.unit.clone());
            let overdue_share = if f.open > 0 {
                f.overdue as f64 / f.open as f64
            } else {
                0.0
            };
            let worst_step = f
                .steps
                .iter()
                .filter(|s| s.average_budget_working_hours > 0.0)
                .max_by(|a, b| {
                    (a.average_dwell_working_hours / a.average_budget_working_hours).total_cmp(
                        &(b.average_dwell_working_hours / b.average_budget_working_hours),
                    )
                });
            let why = explain_pressure(
                lang,
                &name,
                f.open,
                f.inflow,
                f.throughput,
                window_days,
                overdue_share,
                f.rate,
                f.breaches,
                worst_step,
            );
            UnitPressure {
                name,
                kind: info
                    .map(|u| u.kind.as_str().to_string())
                    .unwrap_or_default(),
                score: f.score,
                open: f.open,
                overdue: f.overdue,
                overdue_share: round2(overdue_share),
                inflow: f.inflow,
                throughput: f.throughput,
                backlog_growth: f.inflow - f.throughput,
                service_rate_per_day: round2(f.rate),
                projected_breaches: f.breaches,
                steps: f.steps,
                why,
                unit: f.unit,
            }
        })
        .collect();
    Bottlenecks {
        window_days,
        as_of: as_of.with_timezone(&vn_offset()),
        units,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[allow(clippy::too_many_arguments)]
fn explain_pressure(
    lang: Lang,
    name: &str,
    open: i64,
    inflow: i64,
    throughput: i64,
    window: i64,
    overdue_share: f64,
    rate: f64,
    breaches: i64,
    worst: Option<&StepDwell>,
) -> String {
    let step = worst
        .filter(|s| s.average_dwell_working_hours > s.average_budget_working_hours)
        .map(|s| {
            (
                s.step.clone(),
                s.average_dwell_working_hours / s.average_budget_working_hours.max(0.01),
            )
        });
    match lang {
        Lang::Vi => {
            let mut s = format!(
                "{name}: {open} hồ sơ đang giải quyết; {window} ngày qua nhận {inflow}, giải quyết xong {throughput} (tồn {:+}); {:.0}% đã quá hạn; với tốc độ {:.1} hồ sơ/ngày làm việc, thêm {breaches} hồ sơ sẽ trễ hạn.",
                inflow - throughput,
                overdue_share * 100.0,
                rate
            );
            if let Some((k, x)) = step {
                s.push_str(&format!(
                    " Bước '{k}' đang kéo dài gấp {x:.1} lần định mức."
                ));
            }
            s
        }
        Lang::En => {
            let mut s = format!(
                "{name}: {open} open; over {window} days {inflow} came in and {throughput} were decided (backlog {:+}); {:.0}% overdue; at {:.1} decisions per working day, {breaches} more will miss their deadline.",
                inflow - throughput,
                overdue_share * 100.0,
                rate
            );
            if let Some((k, x)) = step {
                s.push_str(&format!(" Step '{k}' runs {x:.1}× its budget."));
            }
            s
        }
    }
}

/// What a lawful rebalancing proposal does. Receipt and return are boundary-independent
/// inside a province; competence is not (Decree 118/2025/NĐ-CP): no proposal moves a
/// dossier's handling to a body without competence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// Officers of a unit with spare capacity seconded to the overloaded one: they work
    /// under its authority, and its head still decides.
    LendStaff,
    /// The province's boundary-independent procedures of the overloaded commune received
    /// and returned at another commune's centre, which forwards them: the counter load moves,
    /// the handling does not.
    ReceptionPoints,
    /// A service centre with online dossiers waiting to be received: more counter staff or
    /// hours there.
    ReceptionCapacity,
    /// Where the competent authority has delegated (ủy quyền) in writing, new dossiers go to
    /// the delegate through a routing override recorded with the delegating decision.
    DelegatedCompetence,
}

impl ProposalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalKind::LendStaff => "lend_staff",
            ProposalKind::ReceptionPoints => "reception_points",
            ProposalKind::ReceptionCapacity => "reception_capacity",
            ProposalKind::DelegatedCompetence => "delegated_competence",
        }
    }
}

/// A lawful proposal to relieve an overloaded unit, with its legal basis.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub kind: ProposalKind,
    /// The overloaded unit (or the centre, for `reception_capacity`).
    pub unit: String,
    pub unit_name: String,
    /// The unit lending officers, or the centre receiving in its place.
    pub partner_unit: Option<String>,
    pub partner_name: Option<String>,
    /// The dossiers concerned (open at the unit, or waiting at the centre).
    pub dossiers: i64,
    /// `lend_staff`: the decisions per working day the unit needs to meet every deadline,
    /// beyond its own rate, and what the partner can spare.
    pub extra_per_day: Option<f64>,
    /// `reception_points`: the boundary-independent procedures concerned.
    pub procedures: Vec<String>,
    /// Dossiers projected to miss their deadline at the unit, now and with the proposal.
    pub breaches_before: i64,
    pub breaches_after: i64,
    /// The text that allows it.
    pub legal_basis: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rebalancing {
    pub province: String,
    pub window_days: i64,
    pub proposals: Vec<Proposal>,
}

/// The lowest service rate (decisions per working day, in halves) at which no dossier of
/// `dues` misses its deadline (capped at 200).
fn rate_needed(cal: &WorkCalendar, dues: &[DateTime<Utc>], now: DateTime<Utc>) -> f64 {
    let mut r = 0.5;
    while r < 200.0 && projected_breaches(cal, dues, r, now) > 0 {
        r += 0.5;
    }
    r
}

fn basis(kind: ProposalKind, lang: Lang) -> String {
    match (kind, lang) {
        (ProposalKind::LendStaff, Lang::Vi) => "Luật Cán bộ, công chức 2025 (điều động, biệt phái công chức theo quyết định của cấp có thẩm quyền quản lý); người được biệt phái làm việc dưới sự quản lý của đơn vị tiếp nhận, thẩm quyền giải quyết không thay đổi.",
        (ProposalKind::LendStaff, Lang::En) => "Law on Cadres and Civil Servants 2025 (transfer and secondment of civil servants by the authority managing them); seconded officers work under the receiving unit, whose competence is unchanged.",
        (ProposalKind::ReceptionPoints, Lang::Vi) => "Nghị định 118/2025/NĐ-CP và danh mục TTHC tiếp nhận, trả kết quả không phụ thuộc địa giới hành chính do UBND tỉnh công bố: nơi tiếp nhận thay đổi, thẩm quyền giải quyết không đổi.",
        (ProposalKind::ReceptionPoints, Lang::En) => "Decree 118/2025/NĐ-CP and the province's published list of boundary-independent procedures: the place of receipt and return changes, competence does not.",
        (ProposalKind::ReceptionCapacity, Lang::Vi) => "Nghị định 118/2025/NĐ-CP: Chủ tịch UBND tỉnh quyết định tổ chức, nhân sự của Trung tâm Phục vụ hành chính công; các cơ quan cử công chức làm việc tại Trung tâm.",
        (ProposalKind::ReceptionCapacity, Lang::En) => "Decree 118/2025/NĐ-CP: the province's chairman decides the organisation and staffing of the service centres; agencies post officers there.",
        (ProposalKind::DelegatedCompetence, Lang::Vi) => "Luật Tổ chức chính quyền địa phương 2025 (phân cấp, ủy quyền): chỉ khi cơ quan có thẩm quyền đã ủy quyền bằng văn bản, trong phạm vi và thời hạn ủy quyền; ghi nhận bằng chuyển hướng định tuyến kèm số văn bản.",
        (ProposalKind::DelegatedCompetence, Lang::En) => "Law on Organisation of Local Government 2025 (decentralisation and delegation): only where the competent authority has delegated in writing, within its scope and term; recorded as a routing override citing the decision.",
    }
    .to_string()
}

/// Lawful proposals for a province's overloaded units: officers lent by units with spare
/// capacity, reception and return of boundary-independent procedures at other centres,
/// reception capacity where online dossiers wait, and delegation where the law allows it.
/// Each with the projected effect and its legal basis; none moves competence.
pub async fn rebalancing(
    deps: &Deps<'_>,
    province: &str,
    window_days: i64,
    now: DateTime<Utc>,
    lang: Lang,
) -> ApiResult<Rebalancing> {
    let filter = Filter {
        province: Some(province.to_string()),
        ..Default::default()
    };
    let window_days = window_days.clamp(1, 90);
    let cal = deps.calendars.current().default_calendar();
    let since = now - Duration::days(window_days);
    let window_working_days =
        (cal.working_secs_between(since, now) as f64 / DAY_SECS as f64).max(1.0);
    let flows: BTreeMap<String, (i64, i64)> = q::flow(deps.read, &filter, since)
        .await?
        .into_iter()
        .map(|f| (f.unit, (f.inflow, f.throughput)))
        .collect();
    let open = q::open_with_deadlines(deps.read, &filter).await?;
    let waiting = q::awaiting_reception(deps.read, province).await?;
    let catalog = deps.catalog.current();
    let directory = deps.directory.current();
    let name = |c: &str| {
        directory
            .unit(c)
            .map(|u| u.name_in(lang).to_string())
            .unwrap_or_else(|| c.to_string())
    };

    struct Load {
        kind: UnitKind,
        ward: Option<String>,
        dues: Vec<DateTime<Utc>>,
        /// Boundary-independent procedures of dossiers still at reception (unassigned).
        at_reception: BTreeMap<String, i64>,
        rate: f64,
    }
    let mut units: BTreeMap<String, Load> = BTreeMap::new();
    for u in directory.all().filter(|u| {
        u.province_code == province
            && u.active
            && !matches!(
                u.kind,
                UnitKind::CommuneServiceCentre | UnitKind::ProvinceServiceCentre
            )
    }) {
        let rate = flows
            .get(&u.code)
            .map(|f| f.1 as f64 / window_working_days)
            .unwrap_or(0.0);
        units.insert(
            u.code.clone(),
            Load {
                kind: u.kind,
                ward: u.ward_code.clone(),
                dues: Vec::new(),
                at_reception: BTreeMap::new(),
                rate,
            },
        );
    }
    for r in &open {
        if let Some(u) = units.get_mut(&r.unit) {
            u.dues.push(r.due_at);
            let listed = catalog
                .in_force(&r.procedure_code, now)
                .and_then(|v| v.spec().ok())
                .is_some_and(|spec| catalog.boundary_independent(province, spec, now));
            if r.status == "received" && !r.assigned && listed {
                *u.at_reception.entry(r.procedure_code.clone()).or_default() += 1;
            }
        }
    }
    for u in units.values_mut() {
        u.dues.sort_unstable();
    }
    // What each unit can spare: its rate beyond what its own queue needs.
    let spare: BTreeMap<&str, f64> = units
        .iter()
        .filter(|(_, u)| u.rate > 0.0 && projected_breaches(&cal, &u.dues, u.rate, now) == 0)
        .map(|(code, u)| {
            let need = if u.dues.is_empty() {
                0.0
            } else {
                rate_needed(&cal, &u.dues, now)
            };
            (code.as_str(), (u.rate - need).max(0.0))
        })
        .filter(|(_, s)| *s > 0.0)
        .collect();
    let mut lent: BTreeMap<&str, f64> = BTreeMap::new();
    let mut overloaded: Vec<(&String, &Load, i64)> = units
        .iter()
        .map(|(c, u)| (c, u, projected_breaches(&cal, &u.dues, u.rate, now)))
        .filter(|(_, _, b)| *b > 0)
        .collect();
    overloaded.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(b.0)));

    let mut proposals = Vec::new();
    for (code, load, before) in overloaded {
        let open_n = load.dues.len() as i64;
        // 1. Officers lent by the unit of the same kind with the most to spare.
        let extra = (rate_needed(&cal, &load.dues, now) - load.rate).max(0.5);
        let partner = spare
            .iter()
            .filter(|(p, _)| units[**p].kind == load.kind && **p != code.as_str())
            .map(|(p, s)| (*p, s - lent.get(p).copied().unwrap_or(0.0)))
            .filter(|(_, s)| *s > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
        if let Some((p, available)) = partner {
            let given = extra.min(available);
            *lent.entry(p).or_default() += given;
            let after = projected_breaches(&cal, &load.dues, load.rate + given, now);
            let why = match lang {
                Lang::Vi => format!(
                    "{} cần thêm {extra:.1} hồ sơ/ngày làm việc để kịp mọi hạn ({open_n} hồ sơ đang giải quyết, {before} dự kiến trễ); {} còn dư {available:.1} hồ sơ/ngày: biệt phái công chức của {} sang hỗ trợ, dự kiến trễ còn {after}. Hồ sơ vẫn do {} quyết định.",
                    name(code), name(p), name(p), name(code)
                ),
                Lang::En => format!(
                    "{} needs {extra:.1} more decisions per working day to meet every deadline ({open_n} open, {before} projected late); {} can spare {available:.1}: second officers from {} to it, projected late {after}. {} still decides.",
                    name(code), name(p), name(p), name(code)
                ),
            };
            proposals.push(Proposal {
                kind: ProposalKind::LendStaff,
                unit: code.clone(),
                unit_name: name(code),
                partner_unit: Some(p.to_string()),
                partner_name: Some(name(p)),
                dossiers: open_n,
                extra_per_day: Some(round2(given)),
                procedures: Vec::new(),
                breaches_before: before,
                breaches_after: after,
                legal_basis: basis(ProposalKind::LendStaff, lang),
                why,
            });
        }
        // 2. Boundary-independent dossiers at a commune: received and returned at the centre
        // of a commune with spare capacity from now on.
        let at_reception: i64 = load.at_reception.values().sum();
        if load.kind == UnitKind::CommunePc && at_reception > 0 {
            let centre = spare
                .keys()
                .filter(|p| units[**p].kind == UnitKind::CommunePc)
                .filter_map(|p| {
                    let ward = units[*p].ward.as_deref()?;
                    directory
                        .all()
                        .find(|u| {
                            u.kind == UnitKind::CommuneServiceCentre
                                && u.active
                                && u.ward_code.as_deref() == Some(ward)
                        })
                        .map(|c| c.code.clone())
                })
                .next();
            if let Some(centre) = centre {
                let procedures: Vec<String> = load.at_reception.keys().cloned().collect();
                let why = match lang {
                    Lang::Vi => format!(
                        "{at_reception} hồ sơ thuộc danh mục không phụ thuộc địa giới hành chính của tỉnh đang chờ ở khâu tiếp nhận của {}: hướng dẫn người dân nộp và nhận kết quả tại {}, nơi còn năng lực; hồ sơ vẫn được chuyển về {} giải quyết.",
                        name(code), name(&centre), name(code)
                    ),
                    Lang::En => format!(
                        "{at_reception} dossiers of the province's boundary-independent procedures wait at {}'s reception: direct applicants to file and collect at {}, which has capacity; {} still handles them.",
                        name(code), name(&centre), name(code)
                    ),
                };
                proposals.push(Proposal {
                    kind: ProposalKind::ReceptionPoints,
                    unit: code.clone(),
                    unit_name: name(code),
                    partner_unit: Some(centre.clone()),
                    partner_name: Some(name(&centre)),
                    dossiers: at_reception,
                    extra_per_day: None,
                    procedures,
                    breaches_before: before,
                    // The counter's load moves; the handling unit's queue does not.
                    breaches_after: before,
                    legal_basis: basis(ProposalKind::ReceptionPoints, lang),
                    why,
                });
            }
        }
        // 3. A provincial body: only a written delegation moves new dossiers elsewhere.
        if load.kind.level() == crate::domain::unit::Level::Province {
            let why = match lang {
                Lang::Vi => format!(
                    "{} dự kiến trễ {before} hồ sơ. Nếu cơ quan có thẩm quyền đã ủy quyền giải quyết bằng văn bản, quản trị viên ghi nhận một chuyển hướng định tuyến theo văn bản đó cho hồ sơ mới; không có văn bản thì không chuyển.",
                    name(code)
                ),
                Lang::En => format!(
                    "{} projects {before} late. If the competent authority has delegated in writing, an administrator records a routing override for new dossiers citing it; without one, nothing moves.",
                    name(code)
                ),
            };
            proposals.push(Proposal {
                kind: ProposalKind::DelegatedCompetence,
                unit: code.clone(),
                unit_name: name(code),
                partner_unit: None,
                partner_name: None,
                dossiers: open_n,
                extra_per_day: None,
                procedures: Vec::new(),
                breaches_before: before,
                breaches_after: before,
                legal_basis: basis(ProposalKind::DelegatedCompetence, lang),
                why,
            });
        }
    }
    // 4. Centres where online dossiers wait more than a working day to be received.
    for w in waiting {
        let waited = cal.working_secs_between(w.oldest, now);
        if waited < DAY_SECS {
            continue;
        }
        let why = match lang {
            Lang::Vi => format!(
                "{} có {} hồ sơ trực tuyến chờ tiếp nhận, lâu nhất {:.1} ngày làm việc: bố trí thêm công chức hoặc giờ làm việc tại quầy.",
                name(&w.unit), w.waiting, waited as f64 / DAY_SECS as f64
            ),
            Lang::En => format!(
                "{} has {} online dossiers waiting to be received, the oldest for {:.1} working days: more counter staff or hours.",
                name(&w.unit), w.waiting, waited as f64 / DAY_SECS as f64
            ),
        };
        proposals.push(Proposal {
            kind: ProposalKind::ReceptionCapacity,
            unit: w.unit.clone(),
            unit_name: name(&w.unit),
            partner_unit: None,
            partner_name: None,
            dossiers: w.waiting,
            extra_per_day: None,
            procedures: Vec::new(),
            breaches_before: 0,
            breaches_after: 0,
            legal_basis: basis(ProposalKind::ReceptionCapacity, lang),
            why,
        });
    }
    Ok(Rebalancing {
        province: province.to_string(),
        window_days,
        proposals,
    })
}

/// One day of inflow against decisions.
#[derive(Debug, Clone, Serialize)]
pub struct DayFlow {
    /// `YYYY-MM-DD`, in Vietnam.
    pub day: String,
    pub received: i64,
    pub decided: i64,
}

/// Dossiers received and decided on each of the last `days` days (Vietnam's dates, today
/// included), zero-filled, within `filter`.
pub async fn daily_flow(
    db: &DatabaseConnection,
    filter: &Filter,
    days: i64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<DayFlow>> {
    let days = days.clamp(1, 366);
    let today = now.with_timezone(&vn_offset()).date_naive();
    let first = today - Duration::days(days - 1);
    let since = first
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(vn_offset()).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now - Duration::days(days));
    let rows: BTreeMap<String, (i64, i64)> = q::daily_flow(db, filter, since)
        .await?
        .into_iter()
        .map(|r| (r.day, (r.received, r.decided)))
        .collect();
    Ok((0..days)
        .map(|i| {
            let day = (first + Duration::days(i)).format("%Y-%m-%d").to_string();
            let (received, decided) = rows.get(&day).copied().unwrap_or((0, 0));
            DayFlow {
                day,
                received,
                decided,
            }
        })
        .collect())
}

/// Fold the backlog rollup's pending deltas into its counts (PostgreSQL; `jobs::rollup`).
/// Returns the deltas folded; `None` when another instance was folding.
pub async fn fold_rollup(db: &DatabaseConnection) -> Result<Option<u64>, sea_orm::DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let folded = q::fold_rollup(&*txn).await?;
    txn.commit().await?;
    Ok(folded)
}

/// What `motcua stats rebuild` did.
#[derive(Debug, Clone)]
pub struct RollupRebuild {
    /// Groups where the rollup and a recount disagreed before the rebuild.
    pub differed: Vec<q::RollupDifference>,
    /// Groups written by the recount.
    pub groups: u64,
}

/// Recount the backlog rollup from the open dossiers, in one write transaction (writers
/// wait for it; readers do not), and report what was wrong with it before.
pub async fn rebuild_rollup(db: &DatabaseConnection) -> Result<RollupRebuild, sea_orm::DbErr> {
    let txn = crate::db::begin_write(db).await?;
    let differed = q::rollup_differences(&*txn).await?;
    let groups = q::rebuild_rollup(&*txn).await?;
    txn.commit().await?;
    Ok(RollupRebuild { differed, groups })
}

/// The groups where the backlog rollup differs from a recount (none when it is right).
pub async fn rollup_differences(
    db: &DatabaseConnection,
) -> Result<Vec<q::RollupDifference>, sea_orm::DbErr> {
    q::rollup_differences(db).await
}

/// The national portal's share of a period's dossiers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NationalSyncShare {
    /// Dossiers received in the period.
    pub dossiers: i64,
    /// Of them, held by the portal up to their last public step.
    pub synced: i64,
    /// Of them, with a failed attempt on record (retried, or waiting for `motcua sync national`).
    pub failing: i64,
    /// `synced / dossiers` (none without dossiers).
    pub share: Option<f64>,
}

pub async fn national_sync(
    db: &DatabaseConnection,
    filter: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<NationalSyncShare> {
    if to <= from {
        return Err(ApiError::invalid_field(
            "to",
            "empty_period",
            text!("'to' phải sau 'from'.", "'to' must be after 'from'."),
        ));
    }
    let c = crate::repo::stats::national_sync_counts(db, filter, from, to).await?;
    Ok(NationalSyncShare {
        share: (c.dossiers > 0).then(|| c.synced as f64 / c.dossiers as f64),
        dossiers: c.dossiers,
        synced: c.synced,
        failing: c.failing,
    })
}
