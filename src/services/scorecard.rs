//! Decision 766's whole scorecard for a period and a scope (issue 21 §3): each sub-indicator
//! computed from the records where motcua holds them, entered by supervisors where it does
//! not (`domain::scorecard` has the table; `docs/INDICATORS.md` the formulas and sources).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::access::Actor;
use crate::domain::calendar::vn_offset;
use crate::domain::lang::Lang;
use crate::domain::procedure::OnlineLevel;
use crate::domain::scorecard::{self as sc, Group, Source, INDICATORS};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::services::stats::{indicators, Deps, Filter};
use crate::text;

/// Early, on time and late, as Decision 766 tells them apart (2.1 counts early and on time
/// alike).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OnTimeSplit {
    /// Decided a day or more before the deadline.
    pub early: i64,
    /// Decided by the deadline (less than a day ahead), or open and not late.
    pub on_time: i64,
    /// Decided after the deadline or open past it (or with a second supplement request).
    pub late: i64,
}

/// One sub-indicator with its points.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoredIndicator {
    /// The Decision's number, e.g. `2.1`.
    #[schema(example = "2.1")]
    pub key: String,
    #[schema(example = "on_time")]
    pub code: String,
    pub name: String,
    pub source: Source,
    /// The rate in [0, 1]; `null` when there is nothing to measure (or nothing entered).
    pub value: Option<f64>,
    /// The rate that scores the full points (`null`: points are linear in the rate).
    pub full_at: Option<f64>,
    pub points: f64,
    pub max_points: f64,
    /// What the rate counts (computed ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerator: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<i64>,
    /// 2.1 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<OnTimeSplit>,
    /// Entered ones: the provinces whose entry is counted (their mean when several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entered_provinces: Option<usize>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoredGroup {
    pub key: Group,
    pub name: String,
    pub points: f64,
    pub max_points: f64,
    pub indicators: Vec<ScoredIndicator>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    #[schema(value_type = String, format = DateTime)]
    pub from: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub to: DateTime<FixedOffset>,
    pub province: Option<String>,
    pub unit: Option<String>,
    pub points: f64,
    pub max_points: f64,
    pub groups: Vec<ScoredGroup>,
}

struct Measured {
    value: Option<f64>,
    numerator: Option<i64>,
    denominator: Option<i64>,
}

fn rate(n: i64, d: i64) -> Measured {
    Measured {
        value: (d > 0).then(|| n as f64 / d as f64),
        numerator: Some(n),
        denominator: Some(d),
    }
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vn_offset()).date_naive()
}

/// The scorecard of `[from, to)` over `filter`'s dossiers.
pub async fn scorecard(
    deps: &Deps<'_>,
    filter: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    lang: Lang,
) -> ApiResult<Scorecard> {
    let (ind, usage, synced) = tokio::try_join!(
        indicators(deps.read, filter, from, to, now),
        async { Ok(repo::stats::usage_by_procedure(deps.read, filter, from, to).await?) },
        async { Ok(repo::stats::national_sync_counts(deps.read, filter, from, to).await?) },
    )?;
    let c = &ind.counts;
    let early = c.finished_early;

    // The catalog in force at the end of the period, with the province's fees.
    let catalog = deps.catalog.current();
    let at = to.min(now);
    let specs = catalog.procedures_in_force(at);
    let fee = |code: &str, national: i64| match &filter.province {
        Some(p) => catalog.lists().fee(p, code, at, national),
        None => national,
    };
    let used: HashMap<&str, &repo::stats::ProcedureUsageRow> = usage
        .iter()
        .map(|u| (u.procedure_code.as_str(), u))
        .collect();
    let online: Vec<_> = specs
        .iter()
        .filter(|s| s.online_level != OnlineLevel::None)
        .collect();
    let online_used = online
        .iter()
        .filter(|s| {
            used.get(s.code.as_str())
                .is_some_and(|u| u.received_online > 0)
        })
        .count() as i64;
    let with_fee: Vec<_> = specs
        .iter()
        .filter(|s| fee(&s.code, s.fee_vnd) > 0)
        .collect();
    let fee_online: Vec<_> = with_fee
        .iter()
        .filter(|s| s.online_level != OnlineLevel::None)
        .collect();
    let fee_paid_online = fee_online
        .iter()
        .filter(|s| used.get(s.code.as_str()).is_some_and(|u| u.paid_online > 0))
        .count() as i64;
    let (paid, paid_online) = usage
        .iter()
        .fold((0, 0), |(p, o), u| (p + u.paid, o + u.paid_online));

    // Entered values: each province's newest entry for a period starting before `to`.
    let rows =
        repo::scorecard::before(deps.read, filter.province.as_deref(), local_date(to)).await?;
    let mut entered: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    for r in &rows {
        entered
            .entry(r.indicator.as_str())
            .or_default()
            .entry(r.province_code.clone())
            .or_insert(r.value);
    }

    let judged = c.judged;
    let on_time = c.finished_on_time + c.open_on_time;
    let mut groups: Vec<ScoredGroup> = Group::ALL
        .iter()
        .map(|g| ScoredGroup {
            key: *g,
            name: pick(g.name(), lang),
            points: 0.0,
            max_points: g.max_points(),
            indicators: Vec::new(),
        })
        .collect();
    for def in INDICATORS.iter() {
        let mut split = None;
        let mut provinces = None;
        let m = match def.code {
            "on_time" => {
                split = Some(OnTimeSplit {
                    early,
                    on_time: on_time - early,
                    late: c.finished_late + c.open_late,
                });
                rate(on_time, judged)
            }
            "procedures_online" => rate(online.len() as i64, specs.len() as i64),
            "online_services_used" => rate(online_used, online.len() as i64),
            "online_dossiers" => rate(c.received_online_electronic_result, c.received),
            "procedures_with_online_payment" => {
                rate(fee_online.len() as i64, with_fee.len() as i64)
            }
            "procedures_paid_online" => rate(fee_paid_online, fee_online.len() as i64),
            "online_payment" => rate(paid_online, paid),
            "dossiers_synced_to_national_portal" => rate(synced.synced, synced.dossiers),
            "electronic_results" => rate(
                ind.digitisation.decided_with_result_file,
                ind.digitisation.decided,
            ),
            "components_digitised" => rate(
                ind.digitisation.received_with_files,
                ind.digitisation.received,
            ),
            "digitised_reuse" => rate(
                ind.digitisation.digitised_reused,
                ind.digitisation.digitised_documents,
            ),
            "applicants_satisfied" => rate(ind.satisfaction.satisfied, ind.satisfaction.ratings),
            code => {
                debug_assert_eq!(def.source, Source::Entered, "{code} is computed");
                let values = entered.get(code);
                provinces = Some(values.map_or(0, |v| v.len()));
                Measured {
                    value: values
                        .filter(|v| !v.is_empty())
                        .map(|v| v.values().sum::<f64>() / v.len() as f64),
                    numerator: None,
                    denominator: None,
                }
            }
        };
        let value = m.value.map(|v| (v * 10000.0).round() / 10000.0);
        let group = groups
            .iter_mut()
            .find(|g| g.key == def.group)
            .expect("every group is listed");
        let points = def.points(m.value);
        group.points = sc::round2(group.points + points);
        group.indicators.push(ScoredIndicator {
            key: def.key.to_string(),
            code: def.code.to_string(),
            name: pick((def.name_vi, def.name_en), lang),
            source: def.source,
            value,
            full_at: def.full_at,
            points,
            max_points: def.max_points,
            numerator: m.numerator,
            denominator: m.denominator,
            split,
            entered_provinces: provinces,
        });
    }
    Ok(Scorecard {
        from: from.with_timezone(&vn_offset()),
        to: to.with_timezone(&vn_offset()),
        province: filter.province.clone(),
        unit: filter.unit.clone(),
        points: sc::round2(groups.iter().map(|g| g.points).sum()),
        max_points: 100.0,
        groups,
    })
}

fn pick((vi, en): (&str, &str), lang: Lang) -> String {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
    .to_string()
}

/// A value a supervisor enters.
pub struct Entry {
    pub province: String,
    pub indicator: String,
    pub period_start: NaiveDate,
    pub value: f64,
    pub note: Option<String>,
}

/// Enter (or correct) a disclosure, complaint or data-use value for a province and a period:
/// the province's supervisors, national supervisors and administrators; audited.
pub async fn enter(deps: &Deps<'_>, actor: &Actor, e: Entry, now: DateTime<Utc>) -> ApiResult<()> {
    let province = crate::services::geography::province_code(&e.province)?;
    if actor.require_province(&province).is_err() {
        actor.require_admin()?;
    }
    let mut errors = Vec::new();
    match sc::indicator(&e.indicator) {
        None => errors.push(FieldError::new(
            "indicator",
            "unknown_indicator",
            text!(
                "Không có chỉ số này trong Bộ chỉ số (Quyết định 766).",
                "Decision 766 has no such indicator."
            ),
        )),
        Some(i) if i.source == Source::Computed => errors.push(FieldError::new(
            "indicator",
            "computed_indicator",
            text!(
                "Chỉ số này được tính từ dữ liệu hồ sơ, không nhập tay.",
                "This indicator is computed from the records, not entered."
            ),
        )),
        Some(_) => {}
    }
    if !(0.0..=1.0).contains(&e.value) || !e.value.is_finite() {
        errors.push(FieldError::new(
            "value",
            "value_out_of_range",
            text!(
                "Giá trị là một tỷ lệ từ 0 đến 1.",
                "The value is a rate from 0 to 1."
            ),
        ));
    }
    let note = e
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 500 || n.chars().any(char::is_control))
    {
        errors.push(FieldError::new(
            "note",
            "invalid_length",
            text!(
                "Ghi chú tối đa 500 ký tự.",
                "The note has at most 500 characters."
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let txn = crate::db::begin_write(deps.db).await?;
    repo::scorecard::upsert(
        &txn,
        &province,
        &e.indicator,
        e.period_start,
        e.value,
        note,
        actor.account_id,
        now,
    )
    .await?;
    repo::audit::record(
        &txn,
        actor.account_id,
        "enter_scorecard_value",
        &format!("{province}/{}", e.indicator),
        Some(serde_json::json!({"period_start": e.period_start, "value": e.value})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
