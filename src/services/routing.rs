//! Routing use case: the procedure in force, the address resolved, the province's overrides,
//! then the domain's routing rules.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::domain::geography::{AddressInput, Gazetteer, Resolution};
use crate::domain::procedure::ProcedureSpec;
use crate::domain::province_lists::ProvinceLists;
use crate::domain::routing::{self, Decision, OverrideRule, UnitDirectory};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::text;

/// A routing decision with what it was made from.
pub struct Routed {
    pub decision: Decision,
    pub resolution: Resolution,
    /// The procedure version in force when the decision was made.
    pub procedure: Arc<ProcedureVersion>,
    /// On the province's boundary-independent list at that instant.
    pub boundary_independent: bool,
    /// The procedure's fee in the province at that instant.
    pub fee_vnd: i64,
}

/// One stored version of a procedure with its specification read back.
pub struct ProcedureVersion {
    pub code: String,
    pub version: i32,
    pub valid_from: DateTime<Utc>,
    /// False: the procedure is withdrawn from this version on.
    pub active: bool,
    /// `Err` when the stored row cannot be read (reported when the version is used).
    spec: Result<ProcedureSpec, String>,
}

impl ProcedureVersion {
    /// The specification of this version.
    pub fn spec(&self) -> ApiResult<&ProcedureSpec> {
        self.spec
            .as_ref()
            .map_err(|e| ApiError::internal(sea_orm::DbErr::Custom(e.clone())))
    }
}

/// What routing reads besides addresses and units: every procedure version and the active
/// overrides of every province. Both tables are small and change rarely, while every intake
/// and every routing preview needs them, so each instance keeps them in memory (like the
/// unit directory): reloaded after a change made through this instance, and by
/// `jobs::refresh` for changes made through another one. Time windows (a version's
/// `valid_from`, an override's validity) are applied at each use, so a change scheduled in
/// advance takes effect at its instant, not at the next reload.
#[derive(Default)]
pub struct RoutingCatalog {
    /// Versions of each procedure code, newest first.
    procedures: HashMap<String, Vec<Arc<ProcedureVersion>>>,
    /// Active overrides of each province, oldest first.
    overrides: HashMap<String, Vec<OverrideRule>>,
    /// Each province's published lists (boundary-independent procedures, fees).
    lists: ProvinceLists,
}

impl RoutingCatalog {
    /// Read both tables.
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<RoutingCatalog, sea_orm::DbErr> {
        let mut procedures: HashMap<String, Vec<Arc<ProcedureVersion>>> = HashMap::new();
        // `all` is ordered by code, then version descending.
        for model in repo::procedures::all(db).await? {
            let spec = repo::procedures::spec_of(&model).map_err(|e| e.to_string());
            if let Err(e) = &spec {
                tracing::error!(procedure.code = %model.code, procedure.version = model.version, error = %e, "unreadable procedure version");
            }
            procedures
                .entry(model.code.clone())
                .or_default()
                .push(Arc::new(ProcedureVersion {
                    code: model.code,
                    version: model.version,
                    valid_from: model.valid_from,
                    active: model.active,
                    spec,
                }));
        }
        let mut overrides: HashMap<String, Vec<OverrideRule>> = HashMap::new();
        for rule in repo::overrides::all_active(db).await? {
            overrides
                .entry(rule.province_code.clone())
                .or_default()
                .push(rule);
        }
        Ok(RoutingCatalog {
            procedures,
            overrides,
            lists: repo::province_lists::load_all(db).await?,
        })
    }

    /// The version of `code` in force at `at`: the newest whose `valid_from` has passed.
    pub fn in_force(&self, code: &str, at: DateTime<Utc>) -> Option<&Arc<ProcedureVersion>> {
        self.procedures
            .get(code)?
            .iter()
            .find(|v| v.valid_from <= at)
    }

    /// Every procedure in force and active at `at` (readable ones).
    pub fn procedures_in_force(&self, at: DateTime<Utc>) -> Vec<&ProcedureSpec> {
        let mut specs: Vec<&ProcedureSpec> = self
            .procedures
            .values()
            .filter_map(|versions| versions.iter().find(|v| v.valid_from <= at))
            .filter(|v| v.active)
            .filter_map(|v| v.spec.as_ref().ok())
            .collect();
        specs.sort_by(|a, b| a.code.cmp(&b.code));
        specs
    }

    /// The provinces' published lists.
    pub fn lists(&self) -> &ProvinceLists {
        &self.lists
    }

    /// Whether a procedure is received and returned anywhere in `province` at `at`.
    pub fn boundary_independent(
        &self,
        province: &str,
        spec: &ProcedureSpec,
        at: DateTime<Utc>,
    ) -> bool {
        self.lists
            .boundary_independent(province, &spec.code, at, spec.boundary_independent)
    }

    /// A procedure's fee in `province` at `at` (the province's, else the national one).
    pub fn fee(&self, province: &str, spec: &ProcedureSpec, at: DateTime<Utc>) -> i64 {
        self.lists.fee(province, &spec.code, at, spec.fee_vnd)
    }

    /// The active overrides of a province (each still to be checked against its window).
    pub fn overrides(&self, province: &str) -> &[OverrideRule] {
        self.overrides.get(province).map_or(&[], Vec::as_slice)
    }
}

/// This instance's routing catalog, replaced whole when a procedure or an override changes.
pub struct CatalogHandle(RwLock<Arc<RoutingCatalog>>);

impl CatalogHandle {
    pub fn new(catalog: RoutingCatalog) -> Self {
        CatalogHandle(RwLock::new(Arc::new(catalog)))
    }

    /// The current routing catalog (a cheap shared snapshot).
    pub fn current(&self) -> Arc<RoutingCatalog> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reload the routing catalog from the database (after a procedure or an override
    /// changed). A failure keeps the current catalog and is only logged: it follows a
    /// committed change, which must not be reported as failed, and `jobs::refresh` retries.
    pub async fn reload<C: ConnectionTrait>(&self, db: &C) {
        match RoutingCatalog::load(db).await {
            Ok(fresh) => {
                *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
            }
            Err(e) => tracing::warn!(error = %e, "routing catalog reload failed"),
        }
    }
}

/// The procedure version in force at `at`, or 404.
pub fn procedure_in_force(
    catalog: &RoutingCatalog,
    code: &str,
    at: DateTime<Utc>,
) -> ApiResult<Arc<ProcedureVersion>> {
    let not_found = || {
        ApiError::not_found(
            "procedure_not_found",
            text!(
                format!("Không có thủ tục hành chính mã {code}."),
                format!("There is no procedure {code}.")
            ),
        )
    };
    let version = catalog.in_force(code, at).cloned().ok_or_else(not_found)?;
    if !version.active {
        return Err(ApiError::unprocessable(
            "procedure_inactive",
            text!(
                format!("Thủ tục {code} đã ngừng áp dụng."),
                format!("Procedure {code} is no longer in use.")
            ),
        ));
    }
    version.spec()?;
    Ok(version)
}

/// Resolve an address, turning invalid input into a 422 on `address.<field>`.
pub fn resolve_address(gazetteer: &Gazetteer, input: &AddressInput) -> ApiResult<Resolution> {
    gazetteer.resolve(input).map_err(|e| {
        ApiError::validation(vec![FieldError::new(
            format!("address.{}", e.field),
            e.code,
            text!(address_error_vi(e.code), e.message.clone()),
        )])
    })
}

fn address_error_vi(code: &str) -> String {
    match code {
        "invalid_ward_code" => "Mã xã/phường (2025) không hợp lệ.",
        "invalid_legacy_ward_code" => "Mã xã/phường cũ không hợp lệ.",
        "required" => "Thiếu tên xã/phường.",
        "too_long" => "Giá trị quá dài.",
        "control_characters" => "Có ký tự điều khiển không hợp lệ.",
        "no_letters_or_digits" => "Không có chữ cái hay chữ số nào.",
        _ => "Địa chỉ không hợp lệ.",
    }
    .to_string()
}

/// Route a dossier for `procedure_code` at `address`, received at `received_at` (if given).
/// Reads nothing from the database: the catalog and the unit directory are in memory.
// The two places (receipt, result collection) are the applicant's choices, given apart.
#[allow(clippy::too_many_arguments)]
pub fn route(
    catalog: &RoutingCatalog,
    gazetteer: &Gazetteer,
    directory: &UnitDirectory,
    procedure_code: &str,
    address: &AddressInput,
    received_at: Option<&str>,
    result_point: Option<&str>,
    at: DateTime<Utc>,
) -> ApiResult<Routed> {
    let procedure = procedure_in_force(catalog, procedure_code, at)?;
    let resolution = resolve_address(gazetteer, address)?;
    let province = resolution
        .ward
        .as_ref()
        .map(|w| w.province_code.to_string())
        .or_else(|| {
            resolution
                .candidates
                .first()
                .map(|c| c.ward.province_code.to_string())
        });
    let overrides = province
        .as_deref()
        .map_or(&[][..], |p| catalog.overrides(p));
    let spec = procedure.spec()?;
    let boundary_independent = province.as_deref().map_or(spec.boundary_independent, |p| {
        catalog.boundary_independent(p, spec, at)
    });
    let decision = routing::route(
        directory,
        &routing::Request {
            procedure: spec,
            resolution: &resolution,
            received_at,
            result_point,
            boundary_independent,
            overrides,
            at,
        },
    );
    let fee_vnd = province
        .as_deref()
        .map_or(spec.fee_vnd, |p| catalog.fee(p, spec, at));
    Ok(Routed {
        decision,
        resolution,
        procedure: procedure.clone(),
        boundary_independent,
        fee_vnd,
    })
}

// ---- overrides ------------------------------------------------------------------------------

/// A new routing override.
#[derive(Debug, Clone, Default)]
pub struct NewOverride {
    pub province_code: String,
    pub procedure_code: Option<String>,
    pub from_unit_code: Option<String>,
    pub to_unit_code: String,
    pub priority: i32,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
}

/// A change to an override; `valid_until: Some(None)` makes it open-ended.
#[derive(Debug, Clone, Default)]
pub struct OverrideChange {
    pub active: Option<bool>,
    pub priority: Option<i32>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
    pub reason: Option<String>,
}

fn override_error(field: &str, code: &'static str, vi: &str, en: &str) -> FieldError {
    FieldError::new(field, code, text!(vi.to_string(), en.to_string()))
}

fn check_reason(c: &mut crate::error::Checks, reason: &str) -> String {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 || r.chars().any(char::is_control) {
        c.push(override_error(
            "reason",
            "invalid_length",
            "Lý do phải có từ 1 đến 500 ký tự.",
            "The reason must have 1 to 500 characters.",
        ));
    }
    r.to_string()
}

fn check_window(c: &mut crate::error::Checks, from: DateTime<Utc>, until: Option<DateTime<Utc>>) {
    if until.is_some_and(|u| u <= from) {
        c.push(override_error(
            "valid_until",
            "window_empty",
            "Thời điểm hết hiệu lực phải sau thời điểm bắt đầu.",
            "valid_until must be after valid_from.",
        ));
    }
}

/// An administrator's routing override, as stored and shown.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = OverrideView)]
pub struct Override {
    pub id: i64,
    pub province_code: String,
    /// The procedure it applies to (none: every procedure of `from_unit_code`).
    pub procedure_code: Option<String>,
    /// The unit whose work it moves (none: whichever unit is competent for the procedure).
    pub from_unit_code: Option<String>,
    pub to_unit_code: String,
    /// The highest applicable priority wins; the newest on a tie.
    pub priority: i32,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
    pub active: bool,
    pub created_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<repo::overrides::OverrideRow> for Override {
    fn from(m: repo::overrides::OverrideRow) -> Self {
        Override {
            id: m.id,
            province_code: m.province_code,
            procedure_code: m.procedure_code,
            from_unit_code: m.from_unit_code,
            to_unit_code: m.to_unit_code,
            priority: m.priority,
            valid_from: m.valid_from,
            valid_until: m.valid_until,
            reason: m.reason,
            active: m.active,
            created_by: m.created_by,
            created_at: m.created_at,
        }
    }
}

/// What the administration of overrides reads and changes.
pub struct Deps<'a> {
    pub db: &'a DatabaseConnection,
    /// Provinces are checked against it.
    pub gazetteer: &'a Gazetteer,
    /// Reloaded after a change.
    pub catalog: &'a CatalogHandle,
}

/// The overrides, newest first, of a province (raw, as the client sent it; none: every
/// province) and of an activity.
pub async fn list_overrides(
    db: &DatabaseConnection,
    gazetteer: &Gazetteer,
    province: Option<&str>,
    active: Option<bool>,
) -> ApiResult<Vec<Override>> {
    let mut c = crate::error::Checks::default();
    let province = province
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| crate::services::units::known_province(gazetteer, &mut c, "province", p));
    c.finish()?;
    let rows = repo::overrides::list(db, province.as_deref(), active).await?;
    Ok(rows.into_iter().map(Override::from).collect())
}

/// Create an override (administrators). The target unit must be an active unit of the
/// province; the replaced unit, when given, a unit of the province; at least one of
/// `procedure_code` and `from_unit_code` is needed.
pub async fn create_override(
    deps: &Deps<'_>,
    actor: uuid::Uuid,
    o: NewOverride,
    now: DateTime<Utc>,
) -> ApiResult<Override> {
    let mut c = crate::error::Checks::default();
    let province = crate::services::units::known_province(
        deps.gazetteer,
        &mut c,
        "province_code",
        &o.province_code,
    );
    let procedure = o
        .procedure_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let from_unit = o
        .from_unit_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if procedure.is_none() && from_unit.is_none() {
        c.push(override_error(
            "procedure_code",
            "override_scope_required",
            "Cần ít nhất một trong procedure_code và from_unit_code.",
            "At least one of procedure_code and from_unit_code is needed.",
        ));
    }
    if let Some(p) = procedure {
        let known = crate::domain::procedure::is_procedure_code(p)
            && !repo::procedures::versions(deps.db, p).await?.is_empty();
        if !known {
            c.push(override_error(
                "procedure_code",
                "unknown_procedure",
                "Không có thủ tục mã này.",
                "There is no procedure with this code.",
            ));
        }
    }
    let to = crate::services::units::exists(deps.db, &o.to_unit_code).await?;
    match (&to, &province) {
        (None, _) => c.push(override_error(
            "to_unit_code",
            "unknown_unit",
            "Không có đơn vị này.",
            "There is no such unit.",
        )),
        (Some(u), Some(p)) if u.province_code != *p => c.push(override_error(
            "to_unit_code",
            "unit_in_other_province",
            "Đơn vị nhận phải thuộc cùng tỉnh.",
            "The target unit must be in the same province.",
        )),
        (Some(u), _) if !u.active => c.push(override_error(
            "to_unit_code",
            "unit_inactive",
            "Đơn vị nhận đang ngừng hoạt động.",
            "The target unit is not active.",
        )),
        _ => {}
    }
    if let Some(f) = from_unit {
        match (crate::services::units::exists(deps.db, f).await?, &province) {
            (None, _) => c.push(override_error(
                "from_unit_code",
                "unknown_unit",
                "Không có đơn vị này.",
                "There is no such unit.",
            )),
            (Some(u), Some(p)) if u.province_code != *p => c.push(override_error(
                "from_unit_code",
                "unit_in_other_province",
                "Đơn vị được thay thế phải thuộc cùng tỉnh.",
                "The replaced unit must be in the same province.",
            )),
            (Some(u), _) if to.as_ref().is_some_and(|t| t.code == u.code) => {
                c.push(override_error(
                    "to_unit_code",
                    "same_unit",
                    "Đơn vị nhận trùng với đơn vị được thay thế.",
                    "The target unit is the replaced unit.",
                ))
            }
            _ => {}
        }
    }
    if !(-1000..=1000).contains(&o.priority) {
        c.push(override_error(
            "priority",
            "out_of_range",
            "Mức ưu tiên phải từ -1000 đến 1000.",
            "The priority must be between -1000 and 1000.",
        ));
    }
    let reason = check_reason(&mut c, &o.reason);
    let valid_from = o.valid_from.unwrap_or(now);
    check_window(&mut c, valid_from, o.valid_until);
    c.finish()?;
    let row = repo::overrides::NewOverride {
        province_code: province.expect("checked"),
        procedure_code: procedure.map(str::to_string),
        from_unit_code: from_unit.map(|u| u.to_string()),
        to_unit_code: to.expect("checked").code,
        priority: o.priority,
        valid_from,
        valid_until: o.valid_until,
        reason,
        created_by: Some(actor),
        created_at: now,
    };
    let txn = crate::db::begin_write(deps.db).await?;
    let model = repo::overrides::insert(&txn, row).await?;
    repo::audit::record(
        &txn,
        actor,
        "override.create",
        &format!("override:{}", model.id),
        Some(serde_json::json!({ "after": model })),
        now,
    )
    .await?;
    txn.commit().await?;
    deps.catalog.reload(deps.db).await;
    Ok(model.into())
}

fn override_not_found() -> ApiError {
    ApiError::not_found(
        "override_not_found",
        text!(
            "Không có quy tắc điều chuyển này.",
            "There is no such routing override."
        ),
    )
}

/// Change an override's activity, priority, end or reason (administrators).
pub async fn update_override(
    deps: &Deps<'_>,
    by: uuid::Uuid,
    id: &str,
    ch: OverrideChange,
    now: DateTime<Utc>,
) -> ApiResult<Override> {
    let id: i64 = id.trim().parse().map_err(|_| override_not_found())?;
    let txn = crate::db::begin_write(deps.db).await?;
    let current = repo::overrides::find(&txn, id)
        .await?
        .ok_or_else(override_not_found)?;
    let mut c = crate::error::Checks::default();
    let reason = ch.reason.as_deref().map(|r| check_reason(&mut c, r));
    if let Some(p) = ch.priority {
        if !(-1000..=1000).contains(&p) {
            c.push(override_error(
                "priority",
                "out_of_range",
                "Mức ưu tiên phải từ -1000 đến 1000.",
                "The priority must be between -1000 and 1000.",
            ));
        }
    }
    if let Some(until) = ch.valid_until {
        check_window(&mut c, current.valid_from, until);
    }
    c.finish()?;
    let before = serde_json::json!(current);
    let change = repo::overrides::OverrideChange {
        active: ch.active,
        priority: ch.priority,
        valid_until: ch.valid_until,
        reason,
    };
    let updated = repo::overrides::update(&txn, current, change).await?;
    repo::audit::record(
        &txn,
        by,
        "override.update",
        &format!("override:{}", updated.id),
        Some(serde_json::json!({ "before": before, "after": updated })),
        now,
    )
    .await?;
    txn.commit().await?;
    deps.catalog.reload(deps.db).await;
    Ok(updated.into())
}
