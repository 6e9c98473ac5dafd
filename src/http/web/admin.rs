//! The administrators' pages: units (working hours, reception, activity), routing overrides,
//! accounts, and the audit log. Each edit goes through the same service as the API, so the
//! same validation applies and the same audit entry is written in the change's transaction.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

use super::session::Signed;
use super::ui::{self, Ui};
use super::{page, page_with_status, problem_lines};
use crate::domain::calendar::vn_offset;
use crate::domain::lang::Lang;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::text;

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct Index {
    ui: Ui,
}

/// `/admin`.
pub async fn index(s: Signed) -> ApiResult<Response> {
    s.actor.require_admin()?;
    Ok(page(&Index { ui: s.ui }))
}

// ---- units --------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct UnitsQuery {
    q: Option<String>,
    province: Option<String>,
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    ui: Ui,
    q: String,
    province: String,
    units: Vec<crate::services::units::Unit>,
    total: u64,
}

/// `/admin/units?q=&province=`.
pub async fn units(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<UnitsQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
    let (units, total) = crate::services::units::list(
        &state.db,
        &state.gazetteer,
        crate::services::units::ListUnits {
            province: nonempty(&q.province),
            kind: None,
            ward: None,
            q: nonempty(&q.q),
            active: None,
            page: q.page.unwrap_or(1).max(1),
            per_page: 100,
        },
    )
    .await?;
    Ok(page(&UnitsPage {
        ui: s.ui,
        q: q.q.unwrap_or_default(),
        province: q.province.unwrap_or_default(),
        units,
        total,
    }))
}

#[derive(Debug, Deserialize, Default)]
pub struct UnitForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    working_hours: String,
    active: Option<String>,
    receives_dossiers: Option<String>,
    /// Empty clears it.
    #[serde(default)]
    national_code: String,
}

#[derive(Template)]
#[template(path = "admin/unit.html")]
struct UnitPage {
    ui: Ui,
    u: crate::services::units::Unit,
    errors: Vec<String>,
    saved: bool,
}

#[derive(Debug, Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `/admin/units/{code}`.
pub async fn unit(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Query(q): Query<SavedQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let u = crate::services::units::get(&state.db, &code).await?;
    Ok(page(&UnitPage {
        ui: s.ui,
        u,
        errors: Vec::new(),
        saved: q.saved.is_some(),
    }))
}

/// `POST /admin/units/{code}`: the API's edit, with its audit entry.
pub async fn save_unit(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Form(f): Form<UnitForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let change = crate::services::units::UpdateUnit {
        name: Some(f.name.clone()),
        name_en: Some(f.name_en.clone()),
        working_hours: Some(f.working_hours.clone()),
        active: Some(checked(&f.active)),
        receives_dossiers: Some(checked(&f.receives_dossiers)),
        national_code: Some(Some(f.national_code.clone()).filter(|n| !n.trim().is_empty())),
    };
    match crate::services::units::update(
        &state.units(),
        s.actor.account_id,
        &code,
        change,
        Utc::now(),
    )
    .await
    {
        Ok(u) => {
            tracing::info!(unit.code = %u.code, admin.id = %s.actor.account_id, "unit updated from the web app");
            Ok(Redirect::to(&format!("/admin/units/{}?saved=1", u.code)).into_response())
        }
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let mut u = crate::services::units::get(&state.db, &code).await?;
            // The form as typed, with the reasons it was refused.
            u.name = f.name;
            u.name_en = f.name_en;
            u.working_hours = f.working_hours;
            u.active = checked(&f.active);
            u.receives_dossiers = checked(&f.receives_dossiers);
            u.national_code = Some(f.national_code).filter(|n| !n.is_empty());
            let errors = problem_lines(&e, s.ui.lang);
            Ok(page_with_status(
                e.status(),
                &UnitPage {
                    ui: s.ui,
                    u,
                    errors,
                    saved: false,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

// ---- routing overrides --------------------------------------------------------------------

struct OverrideRow {
    id: i64,
    province: String,
    procedure: String,
    from: String,
    to: String,
    priority: i32,
    valid: String,
    reason: String,
    active: bool,
}

fn override_row(o: &crate::services::routing::Override) -> OverrideRow {
    OverrideRow {
        id: o.id,
        province: o.province_code.clone(),
        procedure: o.procedure_code.clone().unwrap_or_else(|| "*".into()),
        from: o.from_unit_code.clone().unwrap_or_else(|| "*".into()),
        to: o.to_unit_code.clone(),
        priority: o.priority,
        valid: format!(
            "{} → {}",
            ui::date_time(o.valid_from),
            o.valid_until
                .map(ui::date_time)
                .unwrap_or_else(|| "…".into())
        ),
        reason: o.reason.clone(),
        active: o.active,
    }
}

#[derive(Template)]
#[template(path = "admin/overrides.html")]
struct OverridesPage {
    ui: Ui,
    rows: Vec<OverrideRow>,
    f: NewOverrideForm,
    errors: Vec<String>,
}

/// `/admin/overrides`: the list and the form for a new one.
pub async fn overrides(State(state): State<AppState>, s: Signed) -> ApiResult<Response> {
    s.actor.require_admin()?;
    overrides_page(
        &state,
        s.ui,
        NewOverrideForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn overrides_page(
    state: &AppState,
    ui: Ui,
    f: NewOverrideForm,
    errors: Vec<String>,
    status: StatusCode,
) -> ApiResult<Response> {
    let list =
        crate::services::routing::list_overrides(&state.db, &state.gazetteer, None, None).await?;
    Ok(page_with_status(
        status,
        &OverridesPage {
            ui,
            rows: list.iter().map(override_row).collect(),
            f,
            errors,
        },
    ))
}

#[derive(Debug, Deserialize, Default)]
pub struct NewOverrideForm {
    #[serde(default)]
    province_code: String,
    #[serde(default)]
    procedure_code: String,
    #[serde(default)]
    from_unit_code: String,
    #[serde(default)]
    to_unit_code: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/overrides`: a new override, through the API's service.
pub async fn create_override(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<NewOverrideForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let lang = s.ui.lang;
    let opt = |v: &str| Some(v.trim().to_string()).filter(|x| !x.is_empty());
    let Ok(priority) = f.priority.trim().parse::<i32>() else {
        let errors = vec![if lang == Lang::En {
            "priority: a whole number".to_string()
        } else {
            "priority: phải là số nguyên".to_string()
        }];
        return overrides_page(&state, s.ui, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let new = crate::services::routing::NewOverride {
        province_code: f.province_code.trim().to_string(),
        procedure_code: opt(&f.procedure_code),
        from_unit_code: opt(&f.from_unit_code),
        to_unit_code: f.to_unit_code.trim().to_string(),
        priority,
        valid_from: None,
        valid_until: None,
        reason: f.reason.clone(),
    };
    match crate::services::routing::create_override(
        &state.overrides(),
        s.actor.account_id,
        new,
        Utc::now(),
    )
    .await
    {
        Ok(o) => Ok(Redirect::to(&format!("/admin/overrides/{}?saved=1", o.id)).into_response()),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            let errors = problem_lines(&e, lang);
            overrides_page(&state, s.ui, f, errors, status).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin/override.html")]
struct OverridePage {
    ui: Ui,
    o: OverrideRow,
    valid_until: String,
    errors: Vec<String>,
    saved: bool,
}

async fn find_override(
    state: &AppState,
    id: &str,
) -> ApiResult<crate::services::routing::Override> {
    let not_found = || {
        ApiError::not_found(
            "override_not_found",
            text!("Không có quy tắc điều chuyển này.", "No such override."),
        )
    };
    let id: i64 = id.parse().map_err(|_| not_found())?;
    crate::services::routing::list_overrides(&state.db, &state.gazetteer, None, None)
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or_else(not_found)
}

fn local_input(t: Option<chrono::DateTime<Utc>>) -> String {
    t.map(|t| {
        t.with_timezone(&vn_offset())
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    })
    .unwrap_or_default()
}

/// `/admin/overrides/{id}`.
pub async fn override_page(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let o = find_override(&state, &id).await?;
    Ok(page(&OverridePage {
        valid_until: local_input(o.valid_until),
        o: override_row(&o),
        ui: s.ui,
        errors: Vec::new(),
        saved: q.saved.is_some(),
    }))
}

#[derive(Debug, Deserialize, Default)]
pub struct OverrideForm {
    #[serde(default)]
    priority: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    reason: String,
    active: Option<String>,
}

/// `POST /admin/overrides/{id}`: the API's change, with its audit entry.
pub async fn save_override(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<OverrideForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let current = find_override(&state, &id).await?;
    let lang = s.ui.lang;
    let mut errors = Vec::new();
    let priority = match f.priority.trim().parse::<i32>() {
        Ok(p) => Some(p),
        Err(_) => {
            errors.push(if lang == Lang::En {
                "priority: a whole number".to_string()
            } else {
                "priority: phải là số nguyên".to_string()
            });
            None
        }
    };
    let valid_until = match f.valid_until.trim() {
        "" => Some(None),
        v => match ui::parse_local(v) {
            Some(t) => Some(Some(t)),
            None => {
                errors.push(if lang == Lang::En {
                    "valid_until: a date and time".to_string()
                } else {
                    "valid_until: phải là ngày giờ".to_string()
                });
                None
            }
        },
    };
    let result = if errors.is_empty() {
        crate::services::routing::update_override(
            &state.overrides(),
            s.actor.account_id,
            &id,
            crate::services::routing::OverrideChange {
                active: Some(checked(&f.active)),
                priority,
                valid_until,
                reason: Some(f.reason.clone()),
            },
            Utc::now(),
        )
        .await
        .inspect_err(|e| errors = problem_lines(e, lang))
    } else {
        Err(ApiError::validation(Vec::new()))
    };
    match result {
        Ok(o) => Ok(Redirect::to(&format!("/admin/overrides/{}?saved=1", o.id)).into_response()),
        Err(e) if e.status().is_client_error() => {
            let mut row = override_row(&current);
            row.priority = priority.unwrap_or(current.priority);
            row.reason = f.reason;
            row.active = checked(&f.active);
            Ok(page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &OverridePage {
                    o: row,
                    valid_until: f.valid_until,
                    ui: s.ui,
                    errors,
                    saved: false,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

// ---- accounts -----------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct UsersQuery {
    q: Option<String>,
    role: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ui: Ui,
    q: String,
    role: String,
    users: Vec<crate::services::users::Account>,
    total: u64,
    f: NewAccountForm,
    errors: Vec<String>,
}

/// `/admin/users?q=&role=`.
pub async fn users(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<UsersQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
    let (users, total) = crate::services::users::list(
        &state.db,
        &state.data_keys,
        crate::services::users::ListUsers {
            role: nonempty(&q.role),
            unit: None,
            province: None,
            q: nonempty(&q.q),
        },
        1,
        200,
    )
    .await?;
    Ok(page(&UsersPage {
        ui: s.ui,
        q: q.q.unwrap_or_default(),
        role: q.role.unwrap_or_default(),
        users,
        total,
        f: NewAccountForm::default(),
        errors: Vec::new(),
    }))
}

#[derive(Debug, Deserialize, Default)]
pub struct NewAccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    new_role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    province: String,
}

/// `POST /admin/users`: a new account, through the API's service (audited).
pub async fn create_user(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<NewAccountForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let opt = |v: &str| Some(v.trim().to_string()).filter(|x| !x.is_empty());
    let new = crate::services::users::CreateUser {
        username: f.username.trim().to_string(),
        password: f.password.clone(),
        role: f.new_role.clone(),
        unit: opt(&f.unit),
        province: opt(&f.province),
        full_name: f.full_name.clone(),
        phone: None,
        email: None,
        id_number: None,
    };
    match crate::services::users::create_by(&state.auth(), s.actor.account_id, new, Utc::now())
        .await
    {
        Ok(a) => Ok(Redirect::to(&format!("/admin/users/{}?saved=1", a.id)).into_response()),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            let errors = problem_lines(&e, s.ui.lang);
            let (users, total) = crate::services::users::list(
                &state.db,
                &state.data_keys,
                crate::services::users::ListUsers::default(),
                1,
                200,
            )
            .await?;
            Ok(page_with_status(
                status,
                &UsersPage {
                    ui: s.ui,
                    q: String::new(),
                    role: String::new(),
                    users,
                    total,
                    f: NewAccountForm {
                        password: String::new(),
                        ..f
                    },
                    errors,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct AccountForm {
    /// From the list: `disable` or `enable` alone.
    #[serde(default)]
    to: String,
    role: Option<String>,
    unit: Option<String>,
    province: Option<String>,
    full_name: Option<String>,
    disabled: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    ui: Ui,
    u: crate::services::users::Account,
    errors: Vec<String>,
    saved: bool,
}

fn account_id(id: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| {
        ApiError::not_found(
            "account_not_found",
            text!("Không có tài khoản này.", "No such account."),
        )
    })
}

/// `/admin/users/{id}`: an account's role, place and state.
pub async fn user(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let u = crate::services::users::get(&state.db, &state.data_keys, account_id(&id)?).await?;
    Ok(page(&UserPage {
        ui: s.ui,
        u,
        errors: Vec::new(),
        saved: q.saved.is_some(),
    }))
}

/// `POST /admin/users/{id}`: the API's change (disabling ends the account's sessions at
/// once), from the list's button (`to`) or the account's form.
pub async fn save_user(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<AccountForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let id = account_id(&id)?;
    let from_list = !f.to.is_empty();
    let opt = |v: &Option<String>| {
        v.as_ref()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
    };
    let change = if from_list {
        crate::services::users::UpdateUser {
            role: None,
            unit: None,
            province: None,
            disabled: Some(f.to == "disable"),
            full_name: None,
        }
    } else {
        crate::services::users::UpdateUser {
            role: opt(&f.role),
            unit: Some(opt(&f.unit)),
            province: Some(opt(&f.province)),
            disabled: Some(checked(&f.disabled)),
            full_name: opt(&f.full_name),
        }
    };
    match crate::services::users::update(&state.auth(), &s.actor, id, change, Utc::now()).await {
        Ok(_) if from_list => Ok(Redirect::to("/admin/users").into_response()),
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}?saved=1", u.id)).into_response()),
        Err(e)
            if e.status().is_client_error()
                && e.status() != StatusCode::NOT_FOUND
                && !from_list =>
        {
            let mut u = crate::services::users::get(&state.db, &state.data_keys, id).await?;
            u.role = opt(&f.role).unwrap_or(u.role);
            u.unit_code = opt(&f.unit);
            u.province = opt(&f.province);
            u.full_name = opt(&f.full_name).unwrap_or(u.full_name);
            u.disabled = checked(&f.disabled);
            let errors = problem_lines(&e, s.ui.lang);
            Ok(page_with_status(
                e.status(),
                &UserPage {
                    ui: s.ui,
                    u,
                    errors,
                    saved: false,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

// ---- the audit log ------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct AuditQuery {
    action: Option<String>,
    subject: Option<String>,
    page: Option<u64>,
}

struct AuditRow {
    at: String,
    account: String,
    action: String,
    subject: String,
    details: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ui: Ui,
    action: String,
    subject: String,
    rows: Vec<AuditRow>,
    total: u64,
}

/// `/admin/audit?action=&subject=`, newest first.
pub async fn audit(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let nonempty = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
    let filter = crate::services::audit::Filter {
        action: nonempty(&q.action),
        subject: nonempty(&q.subject),
        ..Default::default()
    };
    let (entries, total) =
        crate::services::audit::list(&state.db, &filter, q.page.unwrap_or(1).max(1), 100).await?;
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            at: ui::date_time(e.at),
            account: e.account_id.to_string(),
            action: e.action,
            subject: e.subject,
            details: e.details.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(page(&AuditPage {
        ui: s.ui,
        action: q.action.unwrap_or_default(),
        subject: q.subject.unwrap_or_default(),
        rows,
        total,
    }))
}

// ---- the civil-service calendar -----------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct CalendarQuery {
    year: Option<i32>,
}

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    ui: Ui,
    year: i32,
    days_off: Vec<(String, String, String)>,
    working: Vec<String>,
    text: String,
    errors: Vec<String>,
    posted: Option<String>,
}

fn calendar_page(
    state: &AppState,
    ui: Ui,
    year: i32,
    text: String,
    errors: Vec<String>,
    posted: Option<String>,
) -> CalendarPage {
    let lang = ui.lang;
    let view = state.calendars.current().holidays().year_view(year);
    CalendarPage {
        year,
        days_off: view
            .days_off
            .iter()
            .map(|d| {
                (
                    d.date.format("%d/%m/%Y").to_string(),
                    if lang == Lang::En {
                        d.name_en.clone()
                    } else {
                        d.name_vi.clone()
                    },
                    d.source.clone(),
                )
            })
            .collect(),
        working: view
            .working_saturdays
            .iter()
            .map(|d| d.format("%d/%m/%Y").to_string())
            .collect(),
        text,
        errors,
        posted,
        ui,
    }
}

/// `/admin/calendar?year=`: the year's days off and make-up working days, and the form to
/// add an announcement (the format of `config/calendar/{year}.toml`).
pub async fn calendar(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<CalendarQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let year = q.year.unwrap_or_else(|| {
        Utc::now()
            .with_timezone(&vn_offset())
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026)
    });
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::invalid_field(
            "year",
            "invalid_year",
            text!("Năm phải từ 2000 đến 2100.", "The year must be 2000–2100."),
        ));
    }
    Ok(page(&calendar_page(
        &state,
        s.ui,
        year,
        format!("year = {year}\n"),
        Vec::new(),
        None,
    )))
}

#[derive(Debug, Deserialize, Default)]
pub struct AnnouncementForm {
    #[serde(default)]
    text: String,
}

/// `POST /admin/calendar`: the API's announcement, deadlines of open dossiers recomputed.
pub async fn post_calendar(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<AnnouncementForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let lang = s.ui.lang;
    let parsed = crate::domain::calendar::YearAnnouncement::parse(&f.text).map_err(|e| {
        ApiError::unprocessable(
            "invalid_announcement",
            text!(
                format!("Thông báo lịch không hợp lệ: {e}"),
                format!("Invalid announcement: {e}")
            ),
        )
    });
    let result = match parsed {
        Ok(a) => {
            let year = a.year;
            crate::services::deadlines::post_announcement(&state.dossiers(), &s.actor, a)
                .await
                .map(|p| (year, p))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((year, p)) => {
            let note = if lang == Lang::En {
                format!(
                    "Announcement {} stored; {} open deadlines recomputed.",
                    p.id, p.recomputed
                )
            } else {
                format!(
                    "Đã lưu thông báo {}; tính lại hạn của {} hồ sơ đang mở.",
                    p.id, p.recomputed
                )
            };
            Ok(page(&calendar_page(
                &state,
                s.ui,
                year,
                f.text,
                Vec::new(),
                Some(note),
            )))
        }
        Err(e) if e.status().is_client_error() => {
            let year = f
                .text
                .lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("year")
                        .and_then(|r| r.trim().strip_prefix('='))
                })
                .and_then(|y| y.trim().parse().ok())
                .filter(|y| (2000..=2100).contains(y))
                .unwrap_or(2026);
            let errors = problem_lines(&e, lang);
            Ok(page_with_status(
                e.status(),
                &calendar_page(&state, s.ui, year, f.text, errors, None),
            ))
        }
        Err(e) => Err(e),
    }
}

// ---- procedures ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/procedures.html")]
struct ProceduresPage {
    ui: Ui,
    rows: Vec<(String, String, i32, String, bool)>,
}

/// `/admin/procedures`: the catalogue as in force now, every procedure with its version.
pub async fn procedures(State(state): State<AppState>, s: Signed) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let lang = s.ui.lang;
    let list = crate::services::procedures::list(&state.db, Default::default(), Utc::now()).await?;
    let rows = list
        .into_iter()
        .map(|l| {
            (
                l.stored.code.clone(),
                if lang == Lang::En {
                    l.spec.name_en
                } else {
                    l.spec.name_vi
                },
                l.stored.version,
                ui::date_time(l.stored.valid_from),
                l.stored.active,
            )
        })
        .collect();
    Ok(page(&ProceduresPage { ui: s.ui, rows }))
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct ProcedureForm {
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    time_limit_hours: String,
    /// Calendar days (where the law says `ngày`); empty for a limit in working hours.
    #[serde(default)]
    time_limit_days: String,
    same_day: Option<String>,
    #[serde(default)]
    fee_vnd: String,
    #[serde(default)]
    fee_note: String,
    /// Checked: the fee is set by each province (then 0 here).
    fee_by_province: Option<String>,
    active: Option<String>,
    /// Vietnam's wall-clock time; empty: now.
    #[serde(default)]
    valid_from: String,
}

#[derive(Template)]
#[template(path = "admin/procedure.html")]
struct ProcedurePage {
    ui: Ui,
    code: String,
    f: ProcedureForm,
    versions: Vec<(i32, String, bool)>,
    errors: Vec<String>,
    saved: bool,
}

async fn procedure_page(
    state: &AppState,
    ui: Ui,
    code: &str,
    f: Option<ProcedureForm>,
    errors: Vec<String>,
    saved: bool,
    status: StatusCode,
) -> ApiResult<Response> {
    let (l, versions) = crate::services::procedures::get(&state.db, code, None, Utc::now()).await?;
    let spec = &l.spec;
    let f = f.unwrap_or_else(|| ProcedureForm {
        name_vi: spec.name_vi.clone(),
        name_en: spec.name_en.clone(),
        time_limit_hours: spec
            .time_limit_hours
            .map(|h| h.to_string())
            .unwrap_or_default(),
        time_limit_days: spec
            .time_limit_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        same_day: spec.same_day.then(|| "1".to_string()),
        fee_vnd: spec.fee_vnd.to_string(),
        fee_note: spec.fee_note.clone(),
        active: l.stored.active.then(|| "1".to_string()),
        fee_by_province: spec.fee_by_province.then(|| "1".to_string()),
        valid_from: String::new(),
    });
    Ok(page_with_status(
        status,
        &ProcedurePage {
            code: l.stored.code.clone(),
            f,
            versions: versions
                .iter()
                .map(|v| (v.version, ui::date_time(v.valid_from), v.active))
                .collect(),
            errors,
            saved,
            ui,
        },
    ))
}

/// `/admin/procedures/{code}`: its versions, and the form for a new one.
pub async fn procedure(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Query(q): Query<SavedQuery>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    procedure_page(
        &state,
        s.ui,
        &code,
        None,
        Vec::new(),
        q.saved.is_some(),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/procedures/{code}`: a new version, through the API's service (validated,
/// audited, the routing catalog reloaded).
pub async fn save_procedure(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Form(f): Form<ProcedureForm>,
) -> ApiResult<Response> {
    s.actor.require_admin()?;
    let lang = s.ui.lang;
    let mut errors = Vec::new();
    let number = |v: &str, field: &str, errors: &mut Vec<String>| -> Option<i64> {
        let v = v.trim().replace('.', "");
        if v.is_empty() {
            return None;
        }
        match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                errors.push(format!(
                    "{field}: {}",
                    if lang == Lang::En {
                        "a whole number"
                    } else {
                        "phải là số nguyên không âm"
                    }
                ));
                None
            }
        }
    };
    let hours = number(&f.time_limit_hours, "time_limit_hours", &mut errors);
    let days = number(&f.time_limit_days, "time_limit_days", &mut errors);
    let fee = number(&f.fee_vnd, "fee_vnd", &mut errors);
    let valid_from = match f.valid_from.trim() {
        "" => None,
        v => match ui::parse_local(v) {
            Some(t) => Some(t),
            None => {
                errors.push("valid_from: ?".into());
                None
            }
        },
    };
    if errors.is_empty() {
        let input = crate::services::procedures::ProcedureInput {
            name_vi: Some(f.name_vi.clone()),
            name_en: Some(f.name_en.clone()),
            time_limit_hours: hours.map(|h| h.min(u32::MAX as i64) as u32),
            time_limit_days: days.map(|d| d.min(u32::MAX as i64) as u32),
            same_day: Some(checked(&f.same_day)),
            fee_vnd: fee,
            fee_note: Some(f.fee_note.clone()),
            fee_by_province: Some(checked(&f.fee_by_province)),
            active: Some(checked(&f.active)),
            valid_from,
            ..Default::default()
        };
        match crate::services::procedures::edit(
            &state.db,
            &state.catalog,
            s.actor.account_id,
            &code,
            input,
            Utc::now(),
        )
        .await
        {
            Ok(v) => {
                return Ok(
                    Redirect::to(&format!("/admin/procedures/{}?saved=1", v.code)).into_response(),
                )
            }
            Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
                errors = problem_lines(&e, lang)
            }
            Err(e) => return Err(e),
        }
    }
    procedure_page(
        &state,
        s.ui,
        &code,
        Some(f),
        errors,
        false,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
