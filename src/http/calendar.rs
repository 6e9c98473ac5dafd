//! `/api/v1/calendar`: the working calendar, deadline arithmetic, announcements; and a
//! dossier's deadline explained.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::domain::calendar::{self as cal, DayOffKind, TimeLimit, YearAnnouncement};
use crate::domain::lang::Lang;
use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::cases::local;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientLang};
use crate::services::calendar::YEARS;
use crate::services::deadlines;
use crate::state::AppState;
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(year))
        .routes(routes!(deadline))
        .routes(routes!(post_announcement))
        .routes(routes!(case_deadline))
}

/// A non-working day other than an ordinary Saturday or Sunday.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayOffView {
    pub date: NaiveDate,
    pub name: String,
    /// holiday, compensatory or announced.
    pub kind: String,
    /// The legal basis or notice.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct YearCalendar {
    pub year: i32,
    pub days_off: Vec<DayOffView>,
    /// Make-up working Saturdays (or Sundays).
    pub working_saturdays: Vec<NaiveDate>,
}

fn kind_str(k: DayOffKind) -> &'static str {
    match k {
        DayOffKind::Holiday => "holiday",
        DayOffKind::Compensatory => "compensatory",
        DayOffKind::Announced => "announced",
    }
}

fn check_year(year: i32) -> ApiResult<()> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "year",
            "year_out_of_range",
            text!(
                format!("Năm phải trong khoảng {}–{}.", YEARS.start(), YEARS.end()),
                format!("The year must be within {}–{}.", YEARS.start(), YEARS.end())
            ),
        ))
    }
}

/// The civil-service calendar of a year: statutory holidays, compensatory days, announced
/// days off and make-up working Saturdays.
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar",
    params(("year" = i32, Path, description = "Year, 2000–2100", minimum = 2000, maximum = 2100)),
    responses(
        (status = 200, body = YearCalendar),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn year(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<ApiJson<YearCalendar>> {
    check_year(year)?;
    let view = state.calendars.current().holidays().year_view(year);
    Ok(ApiJson(YearCalendar {
        year,
        days_off: view
            .days_off
            .into_iter()
            .map(|d| DayOffView {
                date: d.date,
                name: if lang == Lang::En {
                    d.name_en
                } else {
                    d.name_vi
                },
                kind: kind_str(d.kind).to_string(),
                source: d.source,
            })
            .collect(),
        working_saturdays: view.working_saturdays,
    }))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// The receipt instant (RFC 3339).
    pub start: DateTime<FixedOffset>,
    #[validate(range(min = 1, max = 2920))]
    #[param(minimum = 1, maximum = 2920)]
    pub working_hours: Option<u32>,
    #[validate(range(min = 1, max = 365))]
    #[param(minimum = 1, maximum = 365)]
    pub working_days: Option<u32>,
    pub same_day: Option<bool>,
    /// Use this unit's office hours (default: the civil service's).
    #[param(pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$")]
    pub unit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineAnswer {
    #[schema(value_type = String, format = DateTime)]
    pub start: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub clock_start: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: DateTime<FixedOffset>,
    pub working_hours: String,
    pub explanation: Vec<String>,
}

/// Deadline arithmetic on the working calendar, explained.
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "calendar",
    params(DeadlineQuery),
    responses(
        (status = 200, body = DeadlineAnswer),
        (status = 404, description = "Unknown unit", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn deadline(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiQuery(q): ApiQuery<DeadlineQuery>,
) -> ApiResult<ApiJson<DeadlineAnswer>> {
    let limit = match (q.working_hours, q.working_days, q.same_day.unwrap_or(false)) {
        (Some(h), None, false) => TimeLimit::WorkingHours(h),
        (None, Some(d), false) => TimeLimit::WorkingDays(d),
        (None, None, true) => TimeLimit::SameDay,
        _ => {
            return Err(ApiError::invalid_field(
                "limit",
                "one_limit_required",
                text!(
                    "Cần đúng một trong working_hours, working_days hoặc same_day=true.",
                    "Give exactly one of working_hours, working_days or same_day=true."
                ),
            ))
        }
    };
    let cals = state.calendars.current();
    let calendar = match &q.unit {
        Some(code) => {
            let dir = state.directory();
            let unit = dir.unit(code).ok_or_else(|| {
                ApiError::not_found(
                    "unit_not_found",
                    text!(
                        format!("Không có đơn vị {code}."),
                        format!("There is no unit {code}.")
                    ),
                )
            })?;
            cals.for_hours(&unit.working_hours)
        }
        None => cals.default_calendar(),
    };
    let start = q.start.with_timezone(&Utc);
    let d = calendar.deadline(start, limit).map_err(|e| {
        ApiError::invalid_field(
            "start",
            "outside_calendar",
            text!(e.to_string(), e.to_string()),
        )
    })?;
    Ok(ApiJson(DeadlineAnswer {
        start: local(start),
        clock_start: local(d.clock_start),
        due_at: local(d.due_at),
        working_hours: calendar.hours().to_string(),
        explanation: d.explanation.iter().map(|e| e.render(lang)).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TetBody {
    /// Exactly five dates.
    pub days: Vec<NaiveDate>,
    pub source: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NationalDayBody {
    /// 1 or 3 September.
    pub adjacent: NaiveDate,
    pub source: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayOffBody {
    pub date: NaiveDate,
    pub name_vi: String,
    pub name_en: String,
    pub source: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapBody {
    /// A working day made a day off.
    pub off: NaiveDate,
    /// The Saturday or Sunday worked instead.
    pub work: NaiveDate,
    pub source: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateSourceBody {
    pub date: NaiveDate,
    pub source: String,
}

/// A yearly civil-service announcement: it overrides the statutory rules for its year.
#[derive(Debug, Deserialize, validator::Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementBody {
    pub year: i32,
    pub tet: Option<TetBody>,
    pub national_day: Option<NationalDayBody>,
    #[serde(default)]
    pub days_off: Vec<DayOffBody>,
    #[serde(default)]
    pub swaps: Vec<SwapBody>,
    /// Make-up working Saturdays or Sundays on their own.
    #[serde(default)]
    pub working_days: Vec<DateSourceBody>,
    /// Rule-derived days off that the announcement removes.
    #[serde(default)]
    pub cancels: Vec<DateSourceBody>,
}

impl AnnouncementBody {
    fn into_domain(self) -> YearAnnouncement {
        let mut a = YearAnnouncement::empty(self.year);
        a.tet = self.tet.map(|t| cal::TetDays {
            days: t.days,
            source: t.source,
        });
        a.national_day = self.national_day.map(|n| cal::NationalDayChoice {
            adjacent: n.adjacent,
            source: n.source,
        });
        a.days_off = self
            .days_off
            .into_iter()
            .map(|d| cal::AnnouncedDayOff {
                date: d.date,
                name_vi: d.name_vi,
                name_en: d.name_en,
                kind: DayOffKind::Announced,
                source: d.source,
            })
            .collect();
        a.swaps = self
            .swaps
            .into_iter()
            .map(|s| cal::Swap {
                off: s.off,
                work: s.work,
                source: s.source,
            })
            .collect();
        a.working_days = self
            .working_days
            .into_iter()
            .map(|w| cal::WorkingDay {
                date: w.date,
                source: w.source,
            })
            .collect();
        a.cancels = self
            .cancels
            .into_iter()
            .map(|c| cal::Cancel {
                date: c.date,
                source: c.source,
            })
            .collect();
        a
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementPosted {
    pub id: i64,
    pub year: i32,
    /// Open dossiers whose deadline moved.
    pub recomputed_deadlines: u64,
}

/// Add a yearly announcement (administrators). Open deadlines it affects are recomputed,
/// each with a `deadline_recomputed` event.
#[utoipa::path(post, path = "/api/v1/calendar/announcements", tag = "calendar",
    security(("bearer" = [])),
    request_body = AnnouncementBody,
    responses(
        (status = 201, body = AnnouncementPosted),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn post_announcement(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<AnnouncementBody>,
) -> ApiResult<(StatusCode, ApiJson<AnnouncementPosted>)> {
    actor.require_admin()?;
    check_year(body.year)?;
    let year = body.year;
    let posted =
        deadlines::post_announcement(&state.dossiers(), &actor, body.into_domain()).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(AnnouncementPosted {
            id: posted.id,
            year,
            recomputed_deadlines: posted.recomputed,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PauseView {
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<FixedOffset>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<DateTime<FixedOffset>>,
    pub working_hours: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDeadline {
    pub code: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub clock_start: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<DateTime<FixedOffset>>,
    /// The deadline before pauses.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub original_due_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub appointment_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at_risk_at: Option<DateTime<FixedOffset>>,
    pub sla_state: String,
    pub pauses: Vec<PauseView>,
    pub explanation: Vec<String>,
}

/// Why a dossier is due when it is (for its applicant and officers in scope).
#[utoipa::path(get, path = "/api/v1/cases/{code}/deadline", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    responses(
        (status = 200, body = CaseDeadline),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn case_deadline(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<CaseDeadline>> {
    let d = deadlines::explain(&state.dossiers(), &actor, &code, lang).await?;
    let c = &d.case;
    Ok(ApiJson(CaseDeadline {
        code: c.code_str().to_string(),
        received_at: c.received_at.map(local),
        clock_start: d.clock_start.map(local),
        due_at: c.due_at.map(local),
        original_due_at: c.original_due_at.map(local),
        appointment_at: c.appointment_at.map(local),
        at_risk_at: c.at_risk_at.map(local),
        sla_state: c.sla_state.as_str().to_string(),
        pauses: d
            .pauses
            .iter()
            .map(|p| PauseView {
                reason: p.reason.clone(),
                started_at: local(p.started_at),
                ended_at: p.ended_at.map(local),
                working_hours: p.working_secs.map(|s| s as f64 / 3600.0),
            })
            .collect(),
        explanation: d.lines,
    }))
}
