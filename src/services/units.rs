//! Units (agencies): listing, creation and edits by administrators.
//!
//! The database is the source of truth; after every write the in-memory unit directory used
//! by routing is reloaded (`DirectoryHandle::reload`).
//!
//! Rules for a new unit:
//! - its code is a valid [`UnitCode`] that begins with its province code (`01.`), and for a
//!   commune-level unit with its province and ward codes (`01.00004.`), so that codes stay
//!   unique and readable inside dossier codes;
//! - a commune-level kind needs a `ward_code` of that province; a province-level kind takes none;
//! - its parent is the People's Committee of the same place (when it exists), as for the
//!   standard units.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use uuid::Uuid;

use crate::config::CalendarSettings;
use crate::db;
use crate::domain::account::Invalid;
use crate::domain::calendar::WorkingHours;
use crate::domain::geography::{normalize, Gazetteer, ProvinceCode, WardCode};
use crate::domain::unit::{Level, UnitCode, UnitKind};
use crate::error::Checks;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::repo::units::UnitRow;
use crate::services::geography::DirectoryHandle;
use crate::text;

/// Longest accepted unit name.
const MAX_NAME_CHARS: usize = 300;

/// Filters of the unit list (raw, as the client sent them).
#[derive(Debug, Clone, Default)]
pub struct ListUnits {
    pub province: Option<String>,
    pub kind: Option<String>,
    pub ward: Option<String>,
    pub q: Option<String>,
    pub active: Option<bool>,
    pub page: u64,
    pub per_page: u64,
}

/// A new unit.
#[derive(Debug, Clone, Default)]
pub struct CreateUnit {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub kind: String,
    pub province_code: String,
    pub ward_code: Option<String>,
    pub working_hours: Option<String>,
    pub receives_dossiers: Option<bool>,
}

/// A unit (agency), as the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = UnitView)]
pub struct Unit {
    /// Stable code, used inside dossier codes: `01.TTPVHCC`, `01.00004.UBND`.
    #[schema(example = "01.00004.UBND")]
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// `province_pc`, `province_service_centre`, `dept_justice`, `dept_finance`,
    /// `dept_construction`, `dept_agriculture_environment`, `land_registration_office`,
    /// `dept_health`, `dept_education`, `dept_home_affairs`, `province_police`, `commune_pc`,
    /// `commune_service_centre`, `commune_police`.
    #[schema(example = "commune_pc")]
    pub kind: String,
    /// `province` or `commune`.
    pub level: String,
    #[schema(example = "01")]
    pub province_code: String,
    /// Commune-level units: their 2025 ward.
    #[schema(example = "00004")]
    pub ward_code: Option<String>,
    /// The People's Committee the unit belongs to.
    pub parent_code: Option<String>,
    #[schema(example = "07:30-11:30,13:00-17:00")]
    pub working_hours: String,
    /// A reception point (one-stop-shop counter).
    pub receives_dossiers: bool,
    pub active: bool,
    /// The agency code on the national portal (QCVN 102), used in the dossier code sent there.
    #[schema(example = "000.00.31.H26")]
    pub national_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UnitRow> for Unit {
    fn from(u: UnitRow) -> Self {
        Unit {
            code: u.code,
            name: u.name,
            name_en: u.name_en,
            kind: u.kind,
            level: u.level,
            province_code: u.province_code,
            ward_code: u.ward_code,
            parent_code: u.parent_code,
            working_hours: u.working_hours,
            receives_dossiers: u.receives_dossiers,
            active: u.active,
            national_code: u.national_code,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A change to a unit; absent fields are left as they are.
#[derive(Debug, Clone, Default)]
pub struct UpdateUnit {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub working_hours: Option<String>,
    pub active: Option<bool>,
    pub receives_dossiers: Option<bool>,
    /// `Some(None)` clears it.
    pub national_code: Option<Option<String>>,
}

pub fn unit_not_found(code: &str) -> ApiError {
    let shown: String = code.chars().take(60).collect();
    ApiError::not_found(
        "unit_not_found",
        text!(
            format!("Không có đơn vị mã {shown}."),
            format!("There is no unit {shown}.")
        ),
    )
}

fn field(name: &str, code: &'static str, vi: &str, en: &str) -> FieldError {
    FieldError::new(name, code, text!(vi.to_string(), en.to_string()))
}

/// A province code given in a filter or body: well formed and known, as its stored form.
pub fn known_province(
    gazetteer: &Gazetteer,
    c: &mut Checks,
    name: &str,
    raw: &str,
) -> Option<String> {
    match ProvinceCode::parse(raw.trim()) {
        Err(_) => {
            c.push(field(
                name,
                "invalid_province_code",
                "Mã tỉnh không hợp lệ (1–2 chữ số).",
                "The province code is not valid (1–2 digits).",
            ));
            None
        }
        Ok(p) if gazetteer.province(p).is_none() => {
            c.push(field(
                name,
                "unknown_province",
                "Không có tỉnh/thành phố mã này.",
                "There is no province with this code.",
            ));
            None
        }
        Ok(p) => Some(p.to_string()),
    }
}

/// A 2025 ward code given in a filter or body: well formed and known.
fn known_ward(gazetteer: &Gazetteer, c: &mut Checks, name: &str, raw: &str) -> Option<WardCode> {
    match WardCode::parse(raw.trim()) {
        Err(_) => {
            c.push(field(
                name,
                "invalid_ward_code",
                "Mã xã/phường không hợp lệ (1–5 chữ số).",
                "The ward code is not valid (1–5 digits).",
            ));
            None
        }
        Ok(w) if gazetteer.ward(w).is_none() => {
            c.push(field(
                name,
                "unknown_ward",
                "Không có xã/phường (2025) mã này.",
                "There is no 2025 ward with this code.",
            ));
            None
        }
        Ok(w) => Some(w),
    }
}

fn parse_kind(c: &mut Checks, name: &str, raw: &str) -> Option<UnitKind> {
    match raw.trim().parse::<UnitKind>() {
        Ok(k) => Some(k),
        Err(_) => {
            let all: Vec<&str> = UnitKind::ALL.iter().map(|k| k.as_str()).collect();
            c.push(FieldError::new(
                name,
                "invalid_unit_kind",
                text!(
                    format!("Loại đơn vị phải là một trong: {}.", all.join(", ")),
                    format!("The unit kind must be one of: {}.", all.join(", "))
                ),
            ));
            None
        }
    }
}

fn check_name(c: &mut Checks, name: &str, raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > MAX_NAME_CHARS || s.chars().any(char::is_control) {
        c.push(FieldError::new(
            name,
            "invalid_length",
            text!(
                format!("Tên phải có từ 1 đến {MAX_NAME_CHARS} ký tự, không có ký tự điều khiển."),
                format!("The name must have 1 to {MAX_NAME_CHARS} characters, without control characters.")
            ),
        ));
        return None;
    }
    Some(s.to_string())
}

/// Working hours in their canonical form (`07:30-11:30,13:00-17:00`).
fn check_hours(c: &mut Checks, raw: &str) -> Option<String> {
    if raw.len() > 200 {
        c.push(field(
            "working_hours",
            "invalid_working_hours",
            "Giờ làm việc quá dài.",
            "The working hours are too long.",
        ));
        return None;
    }
    match raw.parse::<WorkingHours>() {
        Ok(h) => Some(h.to_string()),
        Err(e) => {
            c.push(FieldError::new(
                "working_hours",
                "invalid_working_hours",
                text!(
                    format!("Giờ làm việc phải có dạng 07:30-11:30,13:00-17:00 ({e})."),
                    format!("Working hours must look like 07:30-11:30,13:00-17:00 ({e}).")
                ),
            ));
            None
        }
    }
}

/// One page of units. `q` matches the code, or the Vietnamese or English name ignoring
/// diacritics and case.
pub async fn list(
    db: &DatabaseConnection,
    gazetteer: &Gazetteer,
    f: ListUnits,
) -> ApiResult<(Vec<Unit>, u64)> {
    let mut c = Checks::default();
    let province = f
        .province
        .as_deref()
        .and_then(|p| known_province(gazetteer, &mut c, "province", p));
    let kind = f
        .kind
        .as_deref()
        .and_then(|k| parse_kind(&mut c, "kind", k));
    let ward = f
        .ward
        .as_deref()
        .and_then(|w| known_ward(gazetteer, &mut c, "ward", w));
    c.finish()?;
    let filter = repo::units::UnitFilter {
        province,
        kind: kind.map(|k| k.as_str().to_string()),
        ward: ward.map(|w| w.to_string()),
        active: f.active,
    };
    let offset = (f.page - 1) * f.per_page;
    let q = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let Some(q) = q else {
        let (rows, total) = repo::units::list(db, &filter, offset, f.per_page).await?;
        return Ok((rows.into_iter().map(Unit::from).collect(), total));
    };
    // Diacritic-insensitive matching is done here: the structured filters narrow the rows in
    // the database, the name match runs over what is left (at most ~10,000 units).
    let needle = normalize(q);
    let code_needle = q.to_uppercase();
    let rows = repo::units::list_all(db, &filter).await?;
    let matched: Vec<UnitRow> = rows
        .into_iter()
        .filter(|u| {
            u.code.contains(&code_needle)
                || (!needle.is_empty()
                    && (normalize(&u.name).contains(&needle)
                        || normalize(&u.name_en).contains(&needle)))
        })
        .collect();
    let total = matched.len() as u64;
    let page = matched
        .into_iter()
        .skip(offset as usize)
        .take(f.per_page as usize)
        .map(Unit::from)
        .collect();
    Ok((page, total))
}

/// One unit; a malformed code is simply not found.
pub async fn get(db: &DatabaseConnection, raw: &str) -> ApiResult<Unit> {
    let code = UnitCode::parse(raw).map_err(|_| unit_not_found(raw))?;
    repo::units::find(db, code.as_str())
        .await?
        .map(Unit::from)
        .ok_or_else(|| unit_not_found(raw))
}

/// What creating and editing units reads and changes.
pub struct Deps<'a> {
    pub db: &'a DatabaseConnection,
    /// Provinces and wards are checked against it.
    pub gazetteer: &'a Gazetteer,
    /// A new unit's default office hours.
    pub calendar: &'a CalendarSettings,
    /// Reloaded after a change.
    pub directory: &'a DirectoryHandle,
}

/// Create a unit (administrators).
pub async fn create(
    deps: &Deps<'_>,
    by: Uuid,
    u: CreateUnit,
    now: DateTime<Utc>,
) -> ApiResult<Unit> {
    let mut c = Checks::default();
    let code = c.take(UnitCode::parse(&u.code).map_err(|e| Invalid::new("code", e.code)));
    let name = check_name(&mut c, "name", &u.name);
    let name_en = check_name(&mut c, "name_en", &u.name_en);
    let kind = parse_kind(&mut c, "kind", &u.kind);
    let province = known_province(deps.gazetteer, &mut c, "province_code", &u.province_code);
    let ward = u
        .ward_code
        .as_deref()
        .filter(|w| !w.trim().is_empty())
        .and_then(|w| known_ward(deps.gazetteer, &mut c, "ward_code", w));
    let hours = match u.working_hours.as_deref() {
        Some(h) => check_hours(&mut c, h),
        None => Some(deps.calendar.default_working_hours.clone()),
    };
    if let (Some(kind), Some(province)) = (kind, &province) {
        match kind.level() {
            Level::Commune => {
                match ward {
                    None if u.ward_code.as_deref().is_none_or(|w| w.trim().is_empty()) => {
                        c.push(field(
                            "ward_code",
                            "required",
                            "Đơn vị cấp xã cần mã xã/phường.",
                            "A commune-level unit needs a ward_code.",
                        ))
                    }
                    Some(w) => {
                        let in_province = deps
                            .gazetteer
                            .ward(w)
                            .is_some_and(|x| x.province_code.to_string() == *province);
                        if !in_province {
                            c.push(field(
                                "ward_code",
                                "ward_not_in_province",
                                "Xã/phường này không thuộc tỉnh đã cho.",
                                "This ward is not in the province given.",
                            ));
                        } else if let Some(code) = &code {
                            if !code.as_str().starts_with(&format!("{province}.{w}.")) {
                                c.push(FieldError::new(
                                "code",
                                "code_prefix_mismatch",
                                text!(
                                    format!("Mã đơn vị cấp xã phải bắt đầu bằng {province}.{w}."),
                                    format!("A commune-level unit code must begin with {province}.{w}.")
                                ),
                            ));
                            }
                        }
                    }
                    None => {}
                }
            }
            Level::Province => {
                if u.ward_code.as_deref().is_some_and(|w| !w.trim().is_empty()) {
                    c.push(field(
                        "ward_code",
                        "not_allowed",
                        "Đơn vị cấp tỉnh không có mã xã/phường.",
                        "A province-level unit has no ward_code.",
                    ));
                }
                if let Some(code) = &code {
                    if !code.as_str().starts_with(&format!("{province}.")) {
                        c.push(FieldError::new(
                            "code",
                            "code_prefix_mismatch",
                            text!(
                                format!("Mã đơn vị phải bắt đầu bằng mã tỉnh {province}."),
                                format!(
                                    "The unit code must begin with the province code {province}."
                                )
                            ),
                        ));
                    }
                }
            }
        }
    }
    c.finish()?;
    let (code, name, name_en, kind, province, hours) = (
        code.expect("checked"),
        name.expect("checked"),
        name_en.expect("checked"),
        kind.expect("checked"),
        province.expect("checked"),
        hours.expect("checked"),
    );
    let ward = ward.map(|w| w.to_string());

    let txn = db::begin_write(deps.db).await?;
    if repo::units::find(&txn, code.as_str()).await?.is_some() {
        return Err(unit_exists(code.as_str()));
    }
    let parent = match (kind, &ward) {
        (UnitKind::ProvincePc | UnitKind::CommunePc, _) => None,
        (_, Some(w)) => Some(UnitCode::communal(&province, w, UnitKind::CommunePc)),
        (_, None) => Some(UnitCode::provincial(&province, UnitKind::ProvincePc)),
    };
    let parent = match parent {
        Some(p) => repo::units::find(&txn, p.as_str()).await?.map(|m| m.code),
        None => None,
    };
    let row = UnitRow {
        code: code.to_string(),
        name,
        name_en,
        kind: kind.as_str().to_string(),
        level: kind.level().as_str().to_string(),
        province_code: province,
        ward_code: ward,
        parent_code: parent,
        working_hours: hours,
        receives_dossiers: u.receives_dossiers.unwrap_or(kind.receives_dossiers()),
        active: true,
        national_code: None,
        created_at: now,
        updated_at: now,
    };
    let inserted = match repo::units::insert(&txn, row).await {
        Ok(m) => m,
        // A concurrent creation of the same code.
        Err(e) if is_unique_violation(&e) => return Err(unit_exists(code.as_str())),
        Err(e) => return Err(e.into()),
    };
    repo::audit::record(
        &txn,
        by,
        "unit.create",
        &inserted.code,
        Some(json!({ "after": inserted })),
        now,
    )
    .await?;
    txn.commit().await?;
    deps.directory.reload(deps.db).await?;
    Ok(inserted.into())
}

fn unit_exists(code: &str) -> ApiError {
    ApiError::conflict(
        "unit_exists",
        text!(
            format!("Đã có đơn vị mã {code}."),
            format!("A unit with code {code} already exists.")
        ),
    )
}

/// True for a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Edit a unit (administrators). `active: false` deactivates it.
pub async fn update(
    deps: &Deps<'_>,
    by: Uuid,
    raw_code: &str,
    u: UpdateUnit,
    now: DateTime<Utc>,
) -> ApiResult<Unit> {
    let mut c = Checks::default();
    let name = u
        .name
        .as_deref()
        .and_then(|n| check_name(&mut c, "name", n));
    let name_en = u
        .name_en
        .as_deref()
        .and_then(|n| check_name(&mut c, "name_en", n));
    let hours = u
        .working_hours
        .as_deref()
        .and_then(|h| check_hours(&mut c, h));
    let national_code = u.national_code.map(|n| {
        n.map(|n| n.trim().to_string()).filter(|n| {
            let ok = (3..=32).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.');
            if !ok {
                c.push(field(
                    "national_code",
                    "invalid_national_code",
                    "Mã cơ quan trên Cổng quốc gia gồm 3–32 chữ in hoa, chữ số và dấu chấm (QCVN 102).",
                    "The national agency code is 3–32 capital letters, digits and dots (QCVN 102).",
                ));
            }
            ok
        })
    });
    let code = UnitCode::parse(raw_code).map_err(|_| unit_not_found(raw_code))?;
    c.finish()?;
    let txn = db::begin_write(deps.db).await?;
    let current = repo::units::find(&txn, code.as_str())
        .await?
        .ok_or_else(|| unit_not_found(raw_code))?;
    let before = json!(current);
    let change = repo::units::UnitChange {
        name,
        name_en,
        working_hours: hours,
        active: u.active,
        receives_dossiers: u.receives_dossiers,
        national_code,
    };
    let updated = repo::units::update(&txn, current, change, now).await?;
    repo::audit::record(
        &txn,
        by,
        "unit.update",
        &updated.code,
        Some(json!({ "before": before, "after": updated })),
        now,
    )
    .await?;
    txn.commit().await?;
    deps.directory.reload(deps.db).await?;
    Ok(updated.into())
}

/// Whether a unit code names an existing unit (for other use cases' validation).
pub async fn exists<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Option<UnitRow>> {
    match UnitCode::parse(code) {
        Ok(c) => Ok(repo::units::find(db, c.as_str()).await?),
        Err(_) => Ok(None),
    }
}
