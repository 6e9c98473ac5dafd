//! The supervisors' dashboard: the backlog by province, then unit (drill-down), with SLA
//! bars and ageing; the Decision 766 indicators; bottlenecks and rebalancing proposals; daily
//! inflow against decisions; each table as CSV. Scoped as the statistics API is.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::page;
use super::session::Signed;
use super::ui::{self, Ui};
use crate::domain::access::StatsScope;
use crate::domain::lang::Lang;
use crate::error::{ApiError, ApiResult};
use crate::http::stats::{backlog_csv, csv_error, csv_response, indicators_csv};
use crate::services::scorecard::Scorecard;
use crate::services::stats::{
    self, Backlog, Bottlenecks, DayFlow, Filter, GroupBy, Indicators, Rebalancing,
};
use crate::state::AppState;
use crate::text;

#[derive(Debug, Deserialize, Default, Clone)]
pub struct Scope {
    province: Option<String>,
    unit: Option<String>,
    days: Option<i64>,
}

/// What the dashboard shows for one scope.
struct Data {
    filter: Filter,
    group: GroupBy,
    backlog: Backlog,
    indicators: Indicators,
    bottlenecks: Bottlenecks,
    rebalancing: Option<Rebalancing>,
    scorecard: Scorecard,
    flow: Vec<DayFlow>,
    days: i64,
}

async fn load(state: &AppState, s: &Signed, q: &Scope, lang: Lang) -> ApiResult<Data> {
    let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
    let filter = stats::scoped_filter(&s.actor, nonempty(&q.province), nonempty(&q.unit), None)?;
    let group = if filter.unit.is_some() {
        GroupBy::Procedure
    } else if filter.province.is_some() {
        GroupBy::Unit
    } else {
        GroupBy::Province
    };
    let name = match group {
        GroupBy::Procedure => "procedure",
        GroupBy::Unit => "unit",
        _ => "province",
    };
    let now = Utc::now();
    let days = q.days.unwrap_or(30).clamp(1, 366);
    let deps = state.stats();
    let backlog = stats::backlog(&deps, &filter, group, name, now, lang).await?;
    let indicators = stats::indicators(
        state.read_db(),
        &filter,
        now - Duration::days(days),
        now,
        now,
    )
    .await?;
    let mut bottlenecks = stats::bottlenecks(&deps, &filter, 7, now, lang).await?;
    bottlenecks.units.truncate(10);
    let supervisor = !matches!(s.actor.stats_scope()?, StatsScope::Unit { .. });
    let rebalancing = match (&filter.province, &filter.unit, supervisor) {
        (Some(p), None, true) => Some(stats::rebalancing(&deps, p, 7, now, lang).await?),
        _ => None,
    };
    let flow = stats::daily_flow(state.read_db(), &filter, days, now).await?;
    let scorecard = crate::services::scorecard::scorecard(
        &deps,
        &filter,
        now - Duration::days(days),
        now,
        now,
        lang,
    )
    .await?;
    Ok(Data {
        scorecard,
        filter,
        group,
        backlog,
        indicators,
        bottlenecks,
        rebalancing,
        flow,
        days,
    })
}

/// One backlog line as shown, with its SLA bar's segments (percent widths).
struct Line {
    key: String,
    name: String,
    href: Option<String>,
    /// A unit's queue, for a unit line.
    queue_href: Option<String>,
    open: String,
    on_track: i64,
    at_risk: i64,
    overdue: i64,
    supplement: i64,
    bar: [f64; 4],
    ages: [i64; 5],
    oldest: String,
}

fn line(g: &stats::BacklogGroup, href: Option<String>, queue_href: Option<String>) -> Line {
    let total = (g.not_started + g.on_track + g.at_risk + g.overdue).max(1) as f64;
    let pct = |n: i64| (n as f64 / total * 1000.0).round() / 10.0;
    Line {
        key: g.key.clone(),
        name: g.name.clone().unwrap_or_default(),
        href,
        queue_href,
        open: ui::count(g.open.max(0) as u64),
        on_track: g.on_track,
        at_risk: g.at_risk,
        overdue: g.overdue,
        supplement: g.awaiting_supplement,
        bar: [
            pct(g.on_track),
            pct(g.at_risk),
            pct(g.overdue),
            pct(g.not_started),
        ],
        ages: [
            g.ageing.d0_1,
            g.ageing.d1_3,
            g.ageing.d3_5,
            g.ageing.d5_10,
            g.ageing.over_10,
        ],
        oldest: format!("{:.1}", g.oldest_open_age_working_hours / 8.0).replace('.', ","),
    }
}

fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1} %", x * 100.0).replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

struct Pressure {
    unit: String,
    name: String,
    open: i64,
    overdue: i64,
    growth: i64,
    breaches: i64,
    why: String,
}

struct Proposal {
    kind: &'static str,
    unit: String,
    partner: String,
    dossiers: i64,
    effect: String,
    basis: String,
    why: String,
}

/// A scorecard group as shown: its line, then its indicators' lines.
struct ScoreLine {
    key: String,
    name: String,
    value: String,
    points: String,
    max: String,
    source: &'static str,
    group: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    ui: Ui,
    scope_label: String,
    up_href: Option<String>,
    query: String,
    group_label: &'static str,
    lines: Vec<Line>,
    totals: Line,
    on_time: String,
    avg_days: String,
    online: String,
    online_electronic: String,
    counts: Vec<(&'static str, String)>,
    days: i64,
    pressures: Vec<Pressure>,
    /// When the bottlenecks were computed (the country's are computed in advance).
    pressures_as_of: String,
    proposals: Option<Vec<Proposal>>,
    score_total: String,
    score_lines: Vec<ScoreLine>,
    flow_json: String,
    flow_rows: Vec<(String, i64, i64)>,
}

/// `/dashboard?province=&unit=&days=`.
pub async fn page_handler(state: &AppState, s: Signed, q: Scope) -> ApiResult<Response> {
    let lang = s.ui.lang;
    let d = load(state, &s, &q, lang).await?;
    let t = |vi: &'static str, en: &'static str| if lang == Lang::En { en } else { vi };
    let province = d.filter.province.clone();
    let lines = d
        .backlog
        .groups
        .iter()
        .map(|g| {
            let href = match d.group {
                GroupBy::Province => Some(format!("/dashboard?province={}", g.key)),
                GroupBy::Unit => Some(format!(
                    "/dashboard?province={}&unit={}",
                    province.clone().unwrap_or_default(),
                    g.key
                )),
                _ => None,
            };
            let queue = matches!(d.group, GroupBy::Unit).then(|| format!("/queue?unit={}", g.key));
            line(g, href, queue)
        })
        .collect();
    let scope_label = match (&d.filter.province, &d.filter.unit) {
        (_, Some(u)) => format!(
            "{} {}",
            t("Đơn vị", "Unit"),
            state
                .directory()
                .unit(u)
                .map(|i| format!("{} ({u})", i.name))
                .unwrap_or_else(|| u.clone())
        ),
        (Some(p), None) => format!(
            "{} {}",
            t("Tỉnh", "Province"),
            crate::domain::geography::ProvinceCode::parse(p)
                .ok()
                .and_then(|c| state.gazetteer.province(c))
                .map(|x| format!("{} ({p})", x.name))
                .unwrap_or_else(|| p.clone())
        ),
        (None, None) => t("Toàn quốc", "Nationwide").to_string(),
    };
    let national = matches!(s.actor.stats_scope()?, StatsScope::National);
    let up_href = match (&d.filter.province, &d.filter.unit) {
        (Some(p), Some(_)) if !matches!(s.actor.stats_scope()?, StatsScope::Unit { .. }) => {
            Some(format!("/dashboard?province={p}"))
        }
        (Some(_), None) if national => Some("/dashboard".to_string()),
        _ => None,
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &d.filter.province {
        pairs.push(("province", p.clone()));
    }
    if let Some(u) = &d.filter.unit {
        pairs.push(("unit", u.clone()));
    }
    pairs.push(("days", d.days.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let i = &d.indicators;
    let c = &i.counts;
    let counts = vec![
        (t("Tiếp nhận", "Received"), ui::count(c.received as u64)),
        (
            t("Trong đó trực tuyến", "Of which online"),
            ui::count(c.received_online as u64),
        ),
        (t("Đã giải quyết", "Finished"), ui::count(c.finished as u64)),
        (
            t("Đúng hạn", "On time"),
            ui::count(c.finished_on_time as u64),
        ),
        (t("Trễ hạn", "Late"), ui::count(c.finished_late as u64)),
        (
            t("Đang xử lý trong hạn", "Open, on time"),
            ui::count(c.open_on_time as u64),
        ),
        (
            t("Đang xử lý quá hạn", "Open, late"),
            ui::count(c.open_late as u64),
        ),
    ];
    let pressures = d
        .bottlenecks
        .units
        .iter()
        .map(|u| Pressure {
            unit: u.unit.clone(),
            name: u.name.clone(),
            open: u.open,
            overdue: u.overdue,
            growth: u.backlog_growth,
            breaches: u.projected_breaches,
            why: u.why.clone(),
        })
        .collect();
    let proposals = d.rebalancing.as_ref().map(|r| {
        use crate::services::stats::ProposalKind as K;
        r.proposals
            .iter()
            .map(|m| Proposal {
                kind: match m.kind {
                    K::LendStaff => t("Biệt phái công chức", "Lend officers"),
                    K::ReceptionPoints => t(
                        "Tiếp nhận, trả kết quả nơi khác",
                        "Receive and return elsewhere",
                    ),
                    K::ReceptionCapacity => t("Tăng năng lực tiếp nhận", "Reception capacity"),
                    K::DelegatedCompetence => t("Ủy quyền giải quyết", "Delegated competence"),
                },
                unit: format!("{} ({})", m.unit_name, m.unit),
                partner: match (&m.partner_name, &m.partner_unit) {
                    (Some(n), Some(c)) => format!("{n} ({c})"),
                    _ => "—".to_string(),
                },
                dossiers: m.dossiers,
                effect: format!(
                    "{}: {} → {}",
                    t("Dự báo trễ hạn", "Projected breaches"),
                    m.breaches_before,
                    m.breaches_after
                ),
                basis: m.legal_basis.clone(),
                why: m.why.clone(),
            })
            .collect()
    });
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.1} %", v * 100.0));
    let mut score_lines = Vec::new();
    for g in &d.scorecard.groups {
        score_lines.push(ScoreLine {
            key: g.key.as_str().to_string(),
            name: g.name.clone(),
            value: String::new(),
            points: format!("{:.2}", g.points),
            max: format!("{}", g.max_points),
            source: "",
            group: true,
        });
        for i in &g.indicators {
            score_lines.push(ScoreLine {
                key: i.key.clone(),
                name: i.name.clone(),
                value: pct(i.value),
                points: format!("{:.2}", i.points),
                max: format!("{}", i.max_points),
                source: match i.source {
                    crate::domain::scorecard::Source::Computed => t("tính từ dữ liệu", "computed"),
                    crate::domain::scorecard::Source::Entered => t("nhập tay", "entered"),
                },
                group: false,
            });
        }
    }
    let flow_json = serde_json::to_string(&serde_json::json!({
        "days": d.flow.iter().map(|f| &f.day).collect::<Vec<_>>(),
        "received": d.flow.iter().map(|f| f.received).collect::<Vec<_>>(),
        "decided": d.flow.iter().map(|f| f.decided).collect::<Vec<_>>(),
        "labels": [t("Tiếp nhận", "Received"), t("Giải quyết", "Decided"), t("Ngày", "Day")],
    }))
    .unwrap_or_default()
    // Inside a <script type="application/json"> element: nothing may close it early.
    .replace("</", "<\\/");
    let flow_rows = d
        .flow
        .iter()
        .map(|f| {
            let day = chrono::NaiveDate::parse_from_str(&f.day, "%Y-%m-%d")
                .map(|x| x.format("%d/%m/%Y").to_string())
                .unwrap_or_else(|_| f.day.clone());
            (day, f.received, f.decided)
        })
        .collect();
    let page_data = DashboardPage {
        scope_label,
        up_href,
        query,
        group_label: match d.group {
            GroupBy::Province => t("Tỉnh, thành phố", "Province"),
            GroupBy::Unit => t("Đơn vị", "Unit"),
            _ => t("Thủ tục", "Procedure"),
        },
        lines,
        totals: line(&d.backlog.totals, None, None),
        on_time: percent(i.on_time_rate),
        avg_days: i
            .average_processing_working_hours
            .map(|h| format!("{:.1}", h / 8.0).replace('.', ","))
            .unwrap_or_else(|| "—".into()),
        online: percent(i.online_filing_rate),
        online_electronic: percent(i.online_with_electronic_result_rate),
        counts,
        days: d.days,
        pressures,
        pressures_as_of: crate::domain::display::date_time(d.bottlenecks.as_of.to_utc()),
        proposals,
        score_total: format!("{:.2}", d.scorecard.points),
        score_lines,
        flow_json,
        flow_rows,
        ui: s.ui,
    };
    Ok(page(&page_data))
}

pub async fn page_route(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    page_handler(&state, s, q).await
}

/// `/dashboard/export/{table}`: one of the dashboard's tables as CSV (`backlog`,
/// `indicators`, `bottlenecks`, `rebalancing`, `flow`), for the same scope.
pub async fn export(
    State(state): State<AppState>,
    s: Signed,
    Path(table): Path<String>,
    Query(q): Query<Scope>,
) -> ApiResult<Response> {
    let lang = s.ui.lang;
    let d = load(&state, &s, &q, lang).await?;
    let bytes = match table.as_str() {
        "backlog" => backlog_csv(&d.backlog)?,
        "indicators" => indicators_csv(&d.indicators)?,
        "bottlenecks" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "unit",
                "name",
                "score",
                "open",
                "overdue",
                "inflow",
                "throughput",
                "backlog_growth",
                "projected_breaches",
                "why",
            ])
            .map_err(csv_error)?;
            for u in &d.bottlenecks.units {
                w.write_record([
                    u.unit.clone(),
                    u.name.clone(),
                    format!("{:.3}", u.score),
                    u.open.to_string(),
                    u.overdue.to_string(),
                    u.inflow.to_string(),
                    u.throughput.to_string(),
                    u.backlog_growth.to_string(),
                    u.projected_breaches.to_string(),
                    u.why.clone(),
                ])
                .map_err(csv_error)?;
            }
            w.into_inner()
                .map_err(|e| ApiError::internal(e.into_error()))?
        }
        "rebalancing" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "kind",
                "unit",
                "partner_unit",
                "dossiers",
                "breaches_before",
                "breaches_after",
                "legal_basis",
                "why",
            ])
            .map_err(csv_error)?;
            for m in d.rebalancing.iter().flat_map(|r| &r.proposals) {
                w.write_record([
                    m.kind.as_str().to_string(),
                    m.unit.clone(),
                    m.partner_unit.clone().unwrap_or_default(),
                    m.dossiers.to_string(),
                    m.breaches_before.to_string(),
                    m.breaches_after.to_string(),
                    m.legal_basis.clone(),
                    m.why.clone(),
                ])
                .map_err(csv_error)?;
            }
            w.into_inner()
                .map_err(|e| ApiError::internal(e.into_error()))?
        }
        "flow" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["day", "received", "decided"])
                .map_err(csv_error)?;
            for f in &d.flow {
                w.write_record([f.day.clone(), f.received.to_string(), f.decided.to_string()])
                    .map_err(csv_error)?;
            }
            w.into_inner()
                .map_err(|e| ApiError::internal(e.into_error()))?
        }
        _ => {
            return Err(ApiError::not_found(
                "unknown_table",
                text!("Không có bảng này.", "There is no such table."),
            ))
        }
    };
    Ok(csv_response(&table, bytes))
}
