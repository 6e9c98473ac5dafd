//! The versioned procedure catalog: listing, creation and edits by administrators.
//!
//! Every edit makes a new version (a new row) copied from the newest version with the
//! changes applied, valid from the instant given (or now). Versions of a code have
//! non-decreasing `valid_from`, so the version in force at any instant is simply the newest
//! whose `valid_from` has passed (`repo::procedures::in_force`, and in memory
//! `services::routing::RoutingCatalog::in_force`), and a dossier pins the
//! version it was received under.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use crate::db;
use crate::domain::account::Invalid;
use crate::domain::geography::normalize;
use crate::domain::procedure::{
    is_procedure_code, BundlePart, LimitVariant, OnlineLevel, ProcedureSpec, RequiredDocument, Step,
};
use crate::domain::unit::{Level, UnitKind};
use crate::error::{ApiError, ApiResult, Checks, FieldError, Text};
use crate::repo;
use crate::repo::procedures::ProcedureRow;
use crate::services::routing::CatalogHandle;
use crate::text;

/// How far in the past a new version's `valid_from` may be (clock skew, slow clients).
const PAST_TOLERANCE_SECS: i64 = 60;

pub fn procedure_not_found(code: &str) -> ApiError {
    let shown: String = code.chars().take(30).collect();
    ApiError::not_found(
        "procedure_not_found",
        text!(
            format!("Không có thủ tục hành chính mã {shown}."),
            format!("There is no procedure {shown}.")
        ),
    )
}

/// The message for a validation code of [`ProcedureSpec::validate`] and of this module.
pub fn invalid_text(code: &str) -> Text {
    match code {
        "invalid_procedure_code" => text!(
            "Mã thủ tục phải có dạng 1.001193 (1–2 chữ số, dấu chấm, 6–7 chữ số).",
            "The procedure code must look like 1.001193 (1–2 digits, a dot, 6–7 digits)."
        ),
        "invalid_field_code" => text!(
            "Mã lĩnh vực theo Cơ sở dữ liệu quốc gia về thủ tục hành chính: 1–50 ký tự chữ, số, dấu chấm, gạch ngang hoặc gạch dưới.",
            "The field's code in the national catalogue: 1–50 letters, digits, dots, hyphens or underscores."
        ),
        "invalid_length" => text!(
            "Phải có từ 1 đến 500 ký tự.",
            "Must have 1 to 500 characters."
        ),
        "kind_level_mismatch" => text!(
            "Loại đơn vị có thẩm quyền không thuộc cấp đã chọn.",
            "The competent unit kind is not of the level given."
        ),
        "not_a_handling_kind" => text!(
            "Trung tâm Phục vụ hành chính công chỉ tiếp nhận, không giải quyết thủ tục.",
            "A service centre receives dossiers; it cannot be the competent unit."
        ),
        "same_day_has_no_hours" => text!(
            "Thủ tục giải quyết trong ngày không có số giờ làm việc.",
            "A same-day procedure has no time limit in hours."
        ),
        "duplicate_variant" => text!(
            "Có trường hợp thời hạn bị lặp lại.",
            "A limit variant appears twice."
        ),
        "invalid_variant" => text!(
            "Trường hợp thời hạn cần khóa (a-z, 0-9, _) và tên tiếng Việt, tiếng Anh.",
            "A limit variant needs a key (a-z, 0-9, _) and names in Vietnamese and English."
        ),
        "variant_not_longer" => text!(
            "Thời hạn của trường hợp đặc biệt phải dài hơn thời hạn thông thường.",
            "A variant's limit must be longer than the usual one."
        ),
        "same_day_has_no_days" => text!(
            "Thủ tục giải quyết trong ngày không có số ngày.",
            "A same-day procedure has no time limit in days."
        ),
        "hours_or_days" => text!(
            "Thời hạn tính bằng giờ làm việc hoặc bằng ngày theo lịch, không cả hai.",
            "The time limit is in working hours or in calendar days, not both."
        ),
        "fee_set_by_province" => text!(
            "Phí do HĐND tỉnh quyết định thì không ghi mức thu ở đây.",
            "A fee set by each province has no amount here."
        ),
        "required" => text!("Trường này là bắt buộc.", "This field is required."),
        "out_of_range" => text!(
            "Giá trị ngoài phạm vi cho phép.",
            "The value is out of range."
        ),
        "steps_exceed_limit" => text!(
            "Tổng số giờ của các bước vượt quá thời hạn giải quyết.",
            "The steps' hours exceed the time limit."
        ),
        "duplicate_step" => text!("Có bước bị lặp lại.", "A step appears twice."),
        "duplicate_document_kind" => text!(
            "Có loại giấy tờ bị lặp lại.",
            "A document kind appears twice."
        ),
        "invalid_level" => text!(
            "Cấp phải là commune hoặc province.",
            "The level must be commune or province."
        ),
        "invalid_unit_kind" => text!("Loại đơn vị không hợp lệ.", "The unit kind is not valid."),
        "invalid_online_level" => text!(
            "Mức trực tuyến phải là full, partial hoặc none.",
            "The online level must be full, partial or none."
        ),
        "valid_from_in_past" => text!(
            "Thời điểm hiệu lực không được ở quá khứ.",
            "valid_from must not be in the past."
        ),
        "valid_from_before_latest" => text!(
            "Thời điểm hiệu lực phải sau thời điểm hiệu lực của phiên bản mới nhất.",
            "valid_from must not precede the newest version's valid_from."
        ),
        "no_changes" => text!("Không có thay đổi nào.", "The request changes nothing."),
        _ => crate::messages::invalid_message(code),
    }
}

/// At most one error per field: the first found ("required" before "invalid_length").
fn push(c: &mut Checks, e: Invalid) {
    c.push_first(FieldError::new(e.field, e.code, invalid_text(e.code)));
}

/// The fields of a procedure as a client gives them. For an edit, `None` keeps the current
/// value (`time_limit_hours`/`same_day`: giving one switches the form of the limit).
#[derive(Debug, Clone, Default)]
pub struct ProcedureInput {
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub field: Option<String>,
    /// `Some(None)` clears it (the field's name is sent to the national portal).
    pub field_code: Option<Option<String>>,
    pub level: Option<String>,
    pub competent_unit_kind: Option<String>,
    pub time_limit_hours: Option<u32>,
    pub time_limit_days: Option<u32>,
    pub same_day: Option<bool>,
    pub boundary_independent: Option<bool>,
    pub online_level: Option<String>,
    pub fee_vnd: Option<i64>,
    pub fee_note: Option<String>,
    pub fee_by_province: Option<bool>,
    /// `Some(None)` clears it (the configured default applies).
    pub payment_pauses_clock: Option<Option<bool>>,
    pub limit_variants: Option<Vec<LimitVariant>>,
    /// A bundle's procedures (an empty list makes it an ordinary procedure again).
    pub parts: Option<Vec<BundlePart>>,
    pub required_documents: Option<Vec<RequiredDocument>>,
    pub steps: Option<Vec<Step>>,
    /// `Some(None)` clears it (the configured default applies).
    pub at_risk_ratio: Option<Option<f64>>,
    pub legal_basis: Option<String>,
    pub active: Option<bool>,
    pub valid_from: Option<DateTime<Utc>>,
}

impl ProcedureInput {
    fn is_empty(&self) -> bool {
        let ProcedureInput {
            name_vi,
            name_en,
            field,
            field_code,
            level,
            competent_unit_kind,
            time_limit_hours,
            time_limit_days,
            same_day,
            boundary_independent,
            online_level,
            fee_vnd,
            fee_note,
            fee_by_province,
            payment_pauses_clock,
            limit_variants,
            parts,
            required_documents,
            steps,
            at_risk_ratio,
            legal_basis,
            active,
            valid_from: _,
        } = self;
        name_vi.is_none()
            && name_en.is_none()
            && field.is_none()
            && field_code.is_none()
            && level.is_none()
            && competent_unit_kind.is_none()
            && time_limit_hours.is_none()
            && time_limit_days.is_none()
            && same_day.is_none()
            && boundary_independent.is_none()
            && online_level.is_none()
            && fee_vnd.is_none()
            && fee_note.is_none()
            && fee_by_province.is_none()
            && payment_pauses_clock.is_none()
            && limit_variants.is_none()
            && parts.is_none()
            && required_documents.is_none()
            && steps.is_none()
            && at_risk_ratio.is_none()
            && legal_basis.is_none()
            && active.is_none()
    }
}

/// Apply the input to a base specification, collecting every error (parse and
/// [`ProcedureSpec::validate`]).
fn apply(base: &mut ProcedureSpec, input: &ProcedureInput, c: &mut Checks) {
    let text_field = |v: &Option<String>, target: &mut String| {
        if let Some(v) = v {
            *target = v.trim().to_string();
        }
    };
    text_field(&input.name_vi, &mut base.name_vi);
    text_field(&input.name_en, &mut base.name_en);
    text_field(&input.field, &mut base.field);
    text_field(&input.fee_note, &mut base.fee_note);
    text_field(&input.legal_basis, &mut base.legal_basis);
    if let Some(f) = &input.field_code {
        base.field_code = f
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string);
    }
    if let Some(l) = &input.level {
        match l.trim().parse::<Level>() {
            Ok(l) => base.level = l,
            Err(e) => push(c, e),
        }
    }
    if let Some(k) = &input.competent_unit_kind {
        match k.trim().parse::<UnitKind>() {
            Ok(k) => base.competent_unit_kind = k,
            Err(_) => push(c, Invalid::new("competent_unit_kind", "invalid_unit_kind")),
        }
    }
    if let Some(o) = &input.online_level {
        match OnlineLevel::parse(o.trim()) {
            Ok(o) => base.online_level = o,
            Err(e) => push(c, e),
        }
    }
    // The time limit: `same_day: true`, or hours, or calendar days (either implies not
    // same-day; giving one replaces the limit's form).
    match (
        input.same_day,
        input.time_limit_hours,
        input.time_limit_days,
    ) {
        (Some(true), hours, days) => {
            base.same_day = true;
            base.time_limit_hours = hours;
            base.time_limit_days = days;
        }
        (Some(false), None, None) => base.same_day = false,
        (None, None, None) => {}
        (_, hours, days) => {
            base.same_day = false;
            base.time_limit_hours = hours;
            base.time_limit_days = days;
        }
    }
    if let Some(b) = input.fee_by_province {
        base.fee_by_province = b;
    }
    if let Some(p) = input.payment_pauses_clock {
        base.payment_pauses_clock = p;
    }
    if let Some(v) = &input.limit_variants {
        base.limit_variants = v.clone();
    }
    if let Some(p) = &input.parts {
        base.parts = p.clone();
    }
    if let Some(b) = input.boundary_independent {
        base.boundary_independent = b;
    }
    if let Some(f) = input.fee_vnd {
        base.fee_vnd = f;
    }
    if let Some(d) = &input.required_documents {
        base.required_documents = d.clone();
    }
    if let Some(s) = &input.steps {
        base.steps = s.clone();
    }
    if let Some(r) = input.at_risk_ratio {
        base.at_risk_ratio = r;
    }
    for e in base.validate() {
        push(c, e);
    }
    for (i, d) in base.required_documents.iter().enumerate() {
        if d.kind.trim().is_empty() || d.kind.len() > 100 {
            c.push_first(FieldError::new(
                format!("required_documents[{i}].kind"),
                "invalid_length",
                invalid_text("invalid_length"),
            ));
        }
    }
    for (field, v) in [
        ("fee_note", &base.fee_note),
        ("legal_basis", &base.legal_basis),
    ] {
        if v.chars().count() > 2000 {
            push(c, Invalid::new(field, "invalid_length"));
        }
    }
}

/// What is stored about a version besides its specification.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub code: String,
    pub version: i32,
    pub valid_from: DateTime<Utc>,
    /// False: the procedure is withdrawn from this version on.
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&ProcedureRow> for StoredVersion {
    fn from(m: &ProcedureRow) -> Self {
        StoredVersion {
            code: m.code.clone(),
            version: m.version,
            valid_from: m.valid_from,
            active: m.active,
            created_at: m.created_at,
        }
    }
}

/// A stored version with its specification.
pub struct Listed {
    pub stored: StoredVersion,
    pub spec: ProcedureSpec,
}

/// Filters of the catalog list.
#[derive(Debug, Clone, Default)]
pub struct ListProcedures {
    pub q: Option<String>,
    pub level: Option<String>,
    pub field: Option<String>,
}

/// The version in force at `at` of each code, filtered; codes with no version in force yet
/// are left out.
pub async fn list(
    db: &DatabaseConnection,
    f: ListProcedures,
    at: DateTime<Utc>,
) -> ApiResult<Vec<Listed>> {
    let mut c = Checks::default();
    let level = match f.level.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(l) => match l.parse::<Level>() {
            Ok(l) => Some(l),
            Err(e) => {
                push(&mut c, e);
                None
            }
        },
        None => None,
    };
    c.finish()?;
    let q = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let needle = q.map(normalize);
    let field = f.field.as_deref().map(normalize).filter(|s| !s.is_empty());
    // The catalog is small: read every version, keep the one in force per code.
    let rows = repo::procedures::all(db).await?;
    let mut current: BTreeMap<String, ProcedureRow> = BTreeMap::new();
    for r in rows {
        if r.valid_from > at {
            continue;
        }
        match current.get(&r.code) {
            Some(have) if have.version >= r.version => {}
            _ => {
                current.insert(r.code.clone(), r);
            }
        }
    }
    let mut out = Vec::new();
    for (_, m) in current {
        if let Some(l) = level {
            if m.level != l.as_str() {
                continue;
            }
        }
        if let Some(fl) = &field {
            if normalize(&m.field) != *fl {
                continue;
            }
        }
        if let (Some(q), Some(n)) = (q, &needle) {
            let hit = m.code.contains(q)
                || (!n.is_empty()
                    && (normalize(&m.name_vi).contains(n.as_str())
                        || normalize(&m.name_en).contains(n.as_str())));
            if !hit {
                continue;
            }
        }
        let spec = repo::procedures::spec_of(&m)?;
        out.push(Listed {
            stored: (&m).into(),
            spec,
        });
    }
    Ok(out)
}

/// One procedure: the version asked for, or the one in force at `at` (the newest one when
/// none is in force yet), and every version, newest first.
pub async fn get(
    db: &DatabaseConnection,
    code: &str,
    version: Option<i32>,
    at: DateTime<Utc>,
) -> ApiResult<(Listed, Vec<StoredVersion>)> {
    if !is_procedure_code(code) {
        return Err(procedure_not_found(code));
    }
    let versions = repo::procedures::versions(db, code).await?;
    if versions.is_empty() {
        return Err(procedure_not_found(code));
    }
    let chosen = match version {
        Some(v) => versions.iter().find(|m| m.version == v).ok_or_else(|| {
            ApiError::not_found(
                "procedure_version_not_found",
                text!(
                    format!("Thủ tục {code} không có phiên bản {v}."),
                    format!("Procedure {code} has no version {v}.")
                ),
            )
        })?,
        None => versions
            .iter()
            .find(|m| m.valid_from <= at)
            .unwrap_or(&versions[0]),
    };
    let spec = repo::procedures::spec_of(chosen)?;
    Ok((
        Listed {
            stored: chosen.into(),
            spec,
        },
        versions.iter().map(StoredVersion::from).collect(),
    ))
}

fn check_valid_from(c: &mut Checks, valid_from: DateTime<Utc>, now: DateTime<Utc>) {
    if valid_from < now - Duration::seconds(PAST_TOLERANCE_SECS) {
        push(c, Invalid::new("valid_from", "valid_from_in_past"));
    }
}

/// Create a procedure (a new code, version 1); the catalog is reloaded after it.
pub async fn create(
    db: &DatabaseConnection,
    catalog: &CatalogHandle,
    actor: Uuid,
    code: &str,
    input: ProcedureInput,
    now: DateTime<Utc>,
) -> ApiResult<StoredVersion> {
    let mut c = Checks::default();
    let code = code.trim().to_string();
    // Required on creation (an edit keeps the current values).
    for (name, missing) in [
        ("name_vi", input.name_vi.is_none()),
        ("name_en", input.name_en.is_none()),
        ("field", input.field.is_none()),
        ("level", input.level.is_none()),
        ("competent_unit_kind", input.competent_unit_kind.is_none()),
        ("boundary_independent", input.boundary_independent.is_none()),
        ("online_level", input.online_level.is_none()),
    ] {
        if missing {
            push(&mut c, Invalid::new(name, "required"));
        }
    }
    let mut spec = ProcedureSpec {
        code: code.clone(),
        name_vi: String::new(),
        name_en: String::new(),
        field: String::new(),
        field_code: None,
        level: Level::Commune,
        competent_unit_kind: UnitKind::CommunePc,
        time_limit_hours: None,
        time_limit_days: None,
        same_day: false,
        boundary_independent: false,
        online_level: OnlineLevel::None,
        fee_vnd: 0,
        fee_note: String::new(),
        fee_by_province: false,
        payment_pauses_clock: None,
        limit_variants: Vec::new(),
        parts: Vec::new(),
        required_documents: Vec::new(),
        steps: Vec::new(),
        at_risk_ratio: None,
        legal_basis: String::new(),
    };
    // Parse the enums only when given, so that a missing field is reported once.
    let mut given = input.clone();
    if given.level.is_none() {
        // Keep the placeholder consistent with a given kind, to avoid a spurious mismatch.
        if let Some(k) = given
            .competent_unit_kind
            .as_deref()
            .and_then(|k| k.trim().parse::<UnitKind>().ok())
        {
            spec.level = k.level();
        }
    }
    given.valid_from = None;
    apply(&mut spec, &given, &mut c);
    let valid_from = input.valid_from.unwrap_or(now);
    check_valid_from(&mut c, valid_from, now);
    c.finish()?;
    let txn = db::begin_write(db).await?;
    if !repo::procedures::versions(&txn, &code).await?.is_empty() {
        return Err(procedure_exists(&code));
    }
    check_parts_known(&txn, &spec).await?;
    let active = input.active.unwrap_or(true);
    let model = insert_version(&txn, &spec, 1, valid_from, active, actor, now)
        .await
        .map_err(|e| {
            if e.code() == "procedure_version_conflict" {
                procedure_exists(&code)
            } else {
                e
            }
        })?;
    repo::audit::record(
        &txn,
        actor,
        "procedure.create",
        &model.code,
        Some(serde_json::json!({ "after": model })),
        now,
    )
    .await?;
    txn.commit().await?;
    catalog.reload(db).await;
    Ok((&model).into())
}

/// Each part of a bundle is a procedure of the catalog, not a bundle itself (422 on `parts`,
/// `unknown_part`).
async fn check_parts_known<C: ConnectionTrait>(db: &C, spec: &ProcedureSpec) -> ApiResult<()> {
    let mut found = Vec::with_capacity(spec.parts.len());
    for part in &spec.parts {
        if let Some(newest) = repo::procedures::versions(db, &part.procedure)
            .await?
            .first()
        {
            found.push(repo::procedures::spec_of(newest)?);
        }
    }
    crate::domain::procedure::parts_known(spec, |code| found.iter().find(|p| p.code == code))
        .map_err(|part| {
            ApiError::invalid_field(
                "parts",
                "unknown_part",
                text!(
                    format!("Thủ tục {part} không có trong danh mục, hoặc chính nó là thủ tục liên thông."),
                    format!("Procedure {part} is not in the catalog, or is a bundle itself.")
                ),
            )
        })
}

fn procedure_exists(code: &str) -> ApiError {
    ApiError::conflict(
        "procedure_exists",
        text!(
            format!("Đã có thủ tục mã {code}; hãy sửa thủ tục đó (tạo phiên bản mới)."),
            format!("Procedure {code} already exists; edit it to make a new version.")
        ),
    )
}

async fn insert_version<C: ConnectionTrait>(
    db: &C,
    spec: &ProcedureSpec,
    version: i32,
    valid_from: DateTime<Utc>,
    active: bool,
    actor: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<ProcedureRow> {
    match repo::procedures::insert_version(db, spec, version, valid_from, active, Some(actor), now)
        .await
    {
        Ok(m) => Ok(m),
        Err(e) if crate::services::units::is_unique_violation(&e) => Err(ApiError::conflict(
            "procedure_version_conflict",
            text!(
                format!(
                    "Thủ tục {} vừa được sửa bởi người khác; hãy tải lại và thử lại.",
                    spec.code
                ),
                format!(
                    "Procedure {} was just edited by someone else; reload and try again.",
                    spec.code
                )
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Edit a procedure: a new version copied from the newest one with the changes applied;
/// the catalog is reloaded after it.
pub async fn edit(
    db: &DatabaseConnection,
    catalog: &CatalogHandle,
    actor: Uuid,
    code: &str,
    input: ProcedureInput,
    now: DateTime<Utc>,
) -> ApiResult<StoredVersion> {
    if !is_procedure_code(code) {
        return Err(procedure_not_found(code));
    }
    let txn = db::begin_write(db).await?;
    let versions = repo::procedures::versions(&txn, code).await?;
    let latest = versions.first().ok_or_else(|| procedure_not_found(code))?;
    let mut spec = repo::procedures::spec_of(latest)?;
    let mut c = Checks::default();
    if input.is_empty() {
        push(&mut c, Invalid::new("body", "no_changes"));
    }
    apply(&mut spec, &input, &mut c);
    let valid_from = input.valid_from.unwrap_or(now);
    check_valid_from(&mut c, valid_from, now);
    if valid_from < latest.valid_from {
        push(
            &mut c,
            Invalid::new("valid_from", "valid_from_before_latest"),
        );
    }
    c.finish()?;
    check_parts_known(&txn, &spec).await?;
    let active = input.active.unwrap_or(latest.active);
    let model = insert_version(
        &txn,
        &spec,
        latest.version + 1,
        valid_from,
        active,
        actor,
        now,
    )
    .await?;
    repo::audit::record(
        &txn,
        actor,
        "procedure.edit",
        &model.code,
        Some(serde_json::json!({ "before": latest, "after": model })),
        now,
    )
    .await?;
    txn.commit().await?;
    catalog.reload(db).await;
    Ok((&model).into())
}
