//! Deadline use cases: explaining a dossier's deadline, and recomputing open deadlines when
//! a calendar announcement changes the working days.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db;
use crate::domain::access::Actor;
use crate::domain::calendar::{vn_offset, Explanation, YearAnnouncement};
use crate::domain::dossier::{Dossier, Pause};
use crate::domain::lang::Lang;
use crate::domain::procedure::ProcedureSpec;
use crate::domain::sla;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::services::calendar::{self as cal_svc, Calendars};
use crate::services::cases::{rules, Deps};
use crate::text;

/// A dossier's deadline, explained.
#[derive(Debug, Clone)]
pub struct DeadlineExplained {
    pub case: Dossier,
    pub clock_start: Option<DateTime<Utc>>,
    pub pauses: Vec<Pause>,
    pub lines: Vec<String>,
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&vn_offset())
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// Why a dossier is due when it is: the limit on the calendar, each pause, any apology.
pub async fn explain(
    deps: &Deps<'_>,
    actor: &Actor,
    code: &str,
    lang: Lang,
) -> ApiResult<DeadlineExplained> {
    let (case, _) = crate::services::cases::get(deps, actor, code).await?;
    let pauses = repo::dossiers::pauses(deps.db, case.id).await?;
    let mut lines = Vec::new();
    let Some(received) = case.received_at else {
        lines.push(match lang {
            Lang::Vi => {
                "Hồ sơ chưa được tiếp nhận: thời hạn giải quyết tính từ khi tiếp nhận hợp lệ."
                    .to_string()
            }
            Lang::En => {
                "Not yet received: the legal time limit runs from valid receipt.".to_string()
            }
        });
        return Ok(DeadlineExplained {
            case,
            clock_start: None,
            pauses,
            lines,
        });
    };
    let spec = pinned_spec(deps, &case).await?;
    let cals = deps.calendars.current();
    let directory = deps.directory.current();
    let cal = rules(deps.sla, &spec, &directory, &cals).calendar(Some(case.current_unit()));
    let variant = case.limit_variant.as_deref().and_then(|k| spec.variant(k));
    let d = cal
        .deadline(received, sla::time_limit(case.limit(&spec)))
        .map_err(|e| {
            ApiError::unprocessable("outside_calendar", text!(e.to_string(), e.to_string()))
        })?;
    if let (Some(bundle), Some(hours)) = (&case.bundle_code, case.part_share_hours) {
        lines.push(match lang {
            Lang::Vi => format!(
                "Hồ sơ là một phần của hồ sơ liên thông {bundle}: thời hạn là phần thời gian dành cho đơn vị này, {} ngày làm việc (Nghị định 63/2024/NĐ-CP).",
                hours as f64 / 8.0
            ),
            Lang::En => format!(
                "A part of the bundled dossier {bundle}: its limit is this unit's share, {} working days (Decree 63/2024/NĐ-CP).",
                hours as f64 / 8.0
            ),
        });
    }
    if let Some(v) = variant {
        lines.push(match lang {
            Lang::Vi => format!(
                "Khi tiếp nhận, hồ sơ được áp dụng thời hạn của trường hợp \"{}\" ({}).",
                v.name_vi, v.legal_basis
            ),
            Lang::En => format!(
                "At receipt the dossier was given the limit for \"{}\" ({}).",
                v.name_en, v.legal_basis
            ),
        });
    }
    lines.extend(d.explanation.iter().map(|e: &Explanation| e.render(lang)));
    for p in &pauses {
        let hours = p.working_secs.unwrap_or(0) as f64 / 3600.0;
        lines.push(match (lang, p.ended_at) {
            (Lang::Vi, Some(end)) => format!(
                "Tạm dừng ({}) từ {} đến {}: {:.2} giờ làm việc được cộng vào thời hạn.",
                pause_name(&p.reason, lang),
                local(p.started_at),
                local(end),
                hours
            ),
            (Lang::En, Some(end)) => format!(
                "Paused ({}) from {} to {}: {:.2} working hours added to the deadline.",
                pause_name(&p.reason, lang),
                local(p.started_at),
                local(end),
                hours
            ),
            (Lang::Vi, None) => format!(
                "Đang tạm dừng ({}) từ {}: thời hạn sẽ lùi thêm đúng thời gian làm việc tạm dừng.",
                pause_name(&p.reason, lang),
                local(p.started_at)
            ),
            (Lang::En, None) => format!(
                "Paused ({}) since {}: the deadline will move by the paused working time.",
                pause_name(&p.reason, lang),
                local(p.started_at)
            ),
        });
    }
    if let (Some(due), Some(appointment)) = (case.due_at, case.appointment_at) {
        if appointment != due {
            lines.push(match lang {
                Lang::Vi => format!(
                    "Đã có văn bản xin lỗi và hẹn lại (Mẫu 04) đến {}; thời hạn theo quy định vẫn là {} và được dùng để đánh giá đúng hạn.",
                    local(appointment), local(due)
                ),
                Lang::En => format!(
                    "An apology with a new appointment (Form 04) was issued for {}; the legal deadline stays {} and is what on-time statistics use.",
                    local(appointment), local(due)
                ),
            });
        }
        lines.push(match lang {
            Lang::Vi => format!("Hạn giải quyết hiện tại: {}.", local(due)),
            Lang::En => format!("Current deadline: {}.", local(due)),
        });
    }
    Ok(DeadlineExplained {
        case,
        clock_start: Some(d.clock_start),
        pauses,
        lines,
    })
}

fn pause_name(reason: &str, lang: Lang) -> &'static str {
    match (reason, lang) {
        ("supplement", Lang::Vi) => "chờ bổ sung hồ sơ",
        ("supplement", Lang::En) => "waiting for a supplement",
        ("payment", Lang::Vi) => "chờ thực hiện nghĩa vụ tài chính",
        ("payment", Lang::En) => "waiting for payment",
        (_, Lang::Vi) => "tạm dừng",
        (_, Lang::En) => "paused",
    }
}

async fn pinned_spec(deps: &Deps<'_>, case: &Dossier) -> ApiResult<ProcedureSpec> {
    let m = repo::procedures::version(
        deps.db,
        case.procedure_code.as_str(),
        case.procedure_version,
    )
    .await?
    .ok_or_else(|| ApiError::internal(std::io::Error::other("pinned procedure version missing")))?;
    Ok(repo::procedures::spec_of(&m)?)
}

/// What posting an announcement did.
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: i64,
    pub recomputed: u64,
}

/// Store an administrator's announcement, rebuild the calendars, and move the deadlines of
/// open dossiers that it affects (each move recorded as an event).
pub async fn post_announcement(
    deps: &Deps<'_>,
    actor: &Actor,
    a: YearAnnouncement,
) -> ApiResult<Posted> {
    actor.require_admin()?;
    a.validate().map_err(|e| {
        ApiError::unprocessable(
            "invalid_announcement",
            text!(
                format!("Thông báo lịch không hợp lệ: {e}"),
                format!("Invalid announcement: {e}")
            ),
        )
    })?;
    // Build first: a conflicting announcement is refused before anything is stored.
    let mut all = cal_svc::file_announcements(&deps.calendar.dir)
        .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?;
    let stored = cal_svc::db_announcements(deps.db).await?;
    let count = stored.len() as u64 + 1;
    all.extend(stored);
    all.push(a.clone());
    let hours = deps.calendar.default_working_hours.parse().map_err(
        |e: crate::domain::calendar::CalendarError| {
            ApiError::internal(std::io::Error::other(e.to_string()))
        },
    )?;
    let fresh = Calendars::build(&all, hours, count).map_err(|e| {
        ApiError::unprocessable(
            "announcement_conflict",
            text!(
                format!("Thông báo mâu thuẫn với lịch hiện có: {e}"),
                format!("The announcement conflicts with the calendar: {e}")
            ),
        )
    })?;
    let id = cal_svc::store_announcement(deps.db, &a, actor.account_id, Utc::now()).await?;
    deps.calendars.replace(fresh);
    let first_day = NaiveDate::from_ymd_opt(a.year, 1, 1).unwrap_or_default();
    let recomputed = recompute_open_deadlines(deps, first_day, Some(id)).await?;
    tracing::info!(
        calendar.year = a.year,
        announcement.id = id,
        recomputed,
        "calendar announcement posted"
    );
    Ok(Posted { id, recomputed })
}

/// Recompute the deadlines of open, received dossiers due on or after `from` with the
/// current calendars. Only changed ones are written, each with a `deadline_recomputed`
/// event. States never go back: a warning given stays given; the sweeper takes any that
/// are now due.
pub async fn recompute_open_deadlines(
    deps: &Deps<'_>,
    from: NaiveDate,
    announcement: Option<i64>,
) -> ApiResult<u64> {
    let since = from
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(vn_offset()).single())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let cals = deps.calendars.current();
    let directory = deps.directory.current();
    let mut after = 0i64;
    let mut changed = 0u64;
    loop {
        let batch =
            repo::dossiers::open_with_deadline(deps.db, deps.keys, since, after, 200).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let txn = db::begin_write(deps.db).await?;
        for c in batch {
            if c.received_at.is_none() || c.decided_at.is_some() {
                continue;
            }
            let Some(mut dossier) =
                repo::dossiers::find_for_update(&txn, deps.keys, c.code_str()).await?
            else {
                continue;
            };
            let spec = pinned_spec(deps, &dossier).await?;
            let pauses: Vec<(DateTime<Utc>, DateTime<Utc>)> =
                repo::dossiers::pauses(&txn, dossier.id)
                    .await?
                    .into_iter()
                    .filter_map(|p| Some((p.started_at, p.ended_at?)))
                    .collect();
            let now = Utc::now();
            let Some(event) = dossier.recompute_deadline(
                &rules(deps.sla, &spec, &directory, &cals),
                &pauses,
                announcement,
                now,
            ) else {
                continue;
            };
            repo::dossiers::save(&txn, deps.keys, &dossier, dossier.version).await?;
            repo::dossiers::record(&txn, &dossier, std::slice::from_ref(&event), now).await?;
            changed += 1;
        }
        txn.commit().await?;
    }
    Ok(changed)
}
