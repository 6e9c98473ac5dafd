//! `/api/v1/procedures`: the versioned procedure catalog. Anyone may read it; administrators
//! add procedures and edit them (each edit makes a new version).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::domain::procedure::{
    BundlePart, Limit, LimitVariant, ProcedureSpec, RequiredDocument, Step,
};
use crate::error::{ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::services::procedures as service;
use crate::services::procedures::{ListProcedures, Listed, ProcedureInput, StoredVersion};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_procedures, create_procedure))
        .routes(routes!(get_procedure, edit_procedure))
}

/// The legal time limit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeLimitView {
    /// `same_day` (the 15:00 rule: received after 15:00, returned the next working day),
    /// `working_hours`, or `calendar_days` (the law says `ngày`: Civil Code arts. 147–148).
    #[schema(example = "working_hours")]
    pub kind: &'static str,
    /// Working hours (8 per working day); absent for same-day procedures.
    #[schema(example = 24)]
    pub hours: Option<u32>,
    /// The same in working days.
    #[schema(example = 3.0)]
    pub working_days: Option<f64>,
    /// Calendar days, for `calendar_days`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

impl TimeLimitView {
    pub fn of(spec: &ProcedureSpec) -> TimeLimitView {
        match spec.limit() {
            Limit::SameDay => TimeLimitView {
                kind: "same_day",
                hours: None,
                working_days: None,
                days: None,
            },
            Limit::WorkingHours { hours } => TimeLimitView {
                kind: "working_hours",
                hours: Some(hours),
                working_days: Some(f64::from(hours) / 8.0),
                days: None,
            },
            Limit::CalendarDays { days } => TimeLimitView {
                kind: "calendar_days",
                hours: None,
                working_days: None,
                days: Some(days),
            },
        }
    }
}

/// One version of a procedure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureView {
    #[schema(example = "1.001193")]
    pub code: String,
    pub version: i32,
    pub valid_from: DateTime<Utc>,
    /// This is the version in force now.
    pub in_force: bool,
    /// False: the procedure is withdrawn (no new dossiers).
    pub active: bool,
    pub name_vi: String,
    pub name_en: String,
    pub field: String,
    /// The national catalogue's code of the field, sent to the national portal as
    /// `MaLinhVuc` (none: the field's name is sent, folded to ASCII).
    pub field_code: Option<String>,
    /// `commune` or `province`.
    pub level: String,
    pub competent_unit_kind: String,
    pub time_limit: TimeLimitView,
    /// Receipt anywhere in the province (không phụ thuộc địa giới hành chính).
    pub boundary_independent: bool,
    /// `full`, `partial` or `none`.
    pub online_level: String,
    pub fee_vnd: i64,
    pub fee_note: String,
    /// The fee is set by each province's People's Council (`fee_note` names where).
    pub fee_by_province: bool,
    /// Whether waiting for the payment pauses the clock (none: the configured default).
    pub payment_pauses_clock: Option<bool>,
    /// Longer limits the law allows in named cases, chosen at receipt.
    pub limit_variants: Vec<LimitVariant>,
    /// A bundle's procedures (Decree 63/2024 liên thông), each with its share of the
    /// combined limit; empty for an ordinary procedure.
    pub parts: Vec<BundlePart>,
    pub required_documents: Vec<RequiredDocument>,
    pub steps: Vec<Step>,
    /// Share of the time limit after which a dossier is at risk (none: the configured default).
    pub at_risk_ratio: Option<f64>,
    pub legal_basis: String,
    pub created_at: DateTime<Utc>,
}

impl ProcedureView {
    fn of(l: Listed, in_force: bool) -> ProcedureView {
        let Listed { stored: m, spec } = l;
        ProcedureView {
            time_limit: TimeLimitView::of(&spec),
            code: m.code,
            version: m.version,
            valid_from: m.valid_from,
            in_force,
            active: m.active,
            name_vi: spec.name_vi,
            name_en: spec.name_en,
            field: spec.field,
            field_code: spec.field_code,
            level: spec.level.as_str().to_string(),
            competent_unit_kind: spec.competent_unit_kind.as_str().to_string(),
            boundary_independent: spec.boundary_independent,
            online_level: spec.online_level.as_str().to_string(),
            fee_vnd: spec.fee_vnd,
            fee_note: spec.fee_note,
            fee_by_province: spec.fee_by_province,
            payment_pauses_clock: spec.payment_pauses_clock,
            limit_variants: spec.limit_variants,
            parts: spec.parts,
            required_documents: spec.required_documents,
            steps: spec.steps,
            at_risk_ratio: spec.at_risk_ratio,
            legal_basis: spec.legal_basis,
            created_at: m.created_at,
        }
    }
}

/// A version in the list of versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    pub valid_from: DateTime<Utc>,
    pub in_force: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A procedure (the version asked for, or the one in force) and all its versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureDetail {
    #[serde(flatten)]
    pub procedure: ProcedureView,
    /// Every version, newest first.
    pub versions: Vec<VersionSummary>,
}

/// The catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureList {
    pub items: Vec<ProcedureView>,
    pub total: u64,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProceduresQuery {
    /// Part of the code or of the name, Vietnamese or English (diacritics and case ignored).
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `commune` or `province`.
    #[validate(length(max = 20))]
    #[param(max_length = 20, pattern = r"^(commune|province)$")]
    pub level: Option<String>,
    /// The field ("Hộ tịch", "ho tich"), diacritics and case ignored.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub field: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetProcedureQuery {
    /// A given version (default: the one in force now).
    #[validate(range(min = 1, max = 1000000))]
    #[param(minimum = 1, maximum = 1000000)]
    pub version: Option<i32>,
}

/// A new procedure. Give the time limit as `time_limit_hours` (working hours),
/// `time_limit_days` (calendar days, where the law says `ngày`) or `same_day: true`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProcedureRequest {
    #[schema(example = "1.001234")]
    pub code: String,
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub field: Option<String>,
    /// The national catalogue's code of the field (`MaLinhVuc`): letters, digits, `.`, `-`
    /// and `_`, at most 50.
    pub field_code: Option<String>,
    /// `commune` or `province`.
    pub level: Option<String>,
    pub competent_unit_kind: Option<String>,
    pub time_limit_hours: Option<u32>,
    /// Calendar days (the law says `ngày`, not `ngày làm việc`).
    pub time_limit_days: Option<u32>,
    pub same_day: Option<bool>,
    pub boundary_independent: Option<bool>,
    /// `full`, `partial` or `none`.
    pub online_level: Option<String>,
    pub fee_vnd: Option<i64>,
    pub fee_note: Option<String>,
    /// The fee is set by each province (then `fee_vnd` is 0).
    pub fee_by_province: Option<bool>,
    /// Whether waiting for the payment pauses the clock (default: configuration).
    pub payment_pauses_clock: Option<bool>,
    pub limit_variants: Option<Vec<LimitVariant>>,
    /// A bundle's procedures, each a procedure of the catalog that is not a bundle.
    pub parts: Option<Vec<BundlePart>>,
    pub required_documents: Option<Vec<RequiredDocument>>,
    pub steps: Option<Vec<Step>>,
    pub at_risk_ratio: Option<f64>,
    pub legal_basis: Option<String>,
    /// Default: now. Not in the past.
    pub valid_from: Option<DateTime<Utc>>,
}

/// Changes for a new version; absent fields are copied from the newest version.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditProcedureRequest {
    pub name_vi: Option<String>,
    pub name_en: Option<String>,
    pub field: Option<String>,
    /// `null` clears it (the field's name is sent to the national portal).
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<String>)]
    pub field_code: Option<Option<String>>,
    pub level: Option<String>,
    pub competent_unit_kind: Option<String>,
    /// Giving hours makes the limit `working_hours`.
    pub time_limit_hours: Option<u32>,
    /// Giving days makes the limit `calendar_days`.
    pub time_limit_days: Option<u32>,
    pub same_day: Option<bool>,
    pub boundary_independent: Option<bool>,
    pub online_level: Option<String>,
    pub fee_vnd: Option<i64>,
    pub fee_note: Option<String>,
    pub fee_by_province: Option<bool>,
    /// `null` clears it (the configured default applies).
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<bool>)]
    pub payment_pauses_clock: Option<Option<bool>>,
    /// Replaces the list (an empty list removes them).
    pub limit_variants: Option<Vec<LimitVariant>>,
    /// Replaces the bundle's parts (an empty list makes it an ordinary procedure).
    pub parts: Option<Vec<BundlePart>>,
    pub required_documents: Option<Vec<RequiredDocument>>,
    pub steps: Option<Vec<Step>>,
    /// `null` clears it (the configured default applies).
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<f64>)]
    pub at_risk_ratio: Option<Option<f64>>,
    pub legal_basis: Option<String>,
    /// False withdraws the procedure from this version on.
    pub active: Option<bool>,
    /// When the new version takes effect (default: now; not in the past, not before the
    /// newest version's).
    pub valid_from: Option<DateTime<Utc>>,
}

/// The catalog: the version in force now of each procedure.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "procedures",
    params(ListProceduresQuery),
    responses(
        (status = 200, body = ProcedureList),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_procedures(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListProceduresQuery>,
) -> ApiResult<ApiJson<ProcedureList>> {
    let rows = service::list(
        &state.db,
        ListProcedures {
            q: q.q,
            level: q.level,
            field: q.field,
        },
        Utc::now(),
    )
    .await?;
    let items: Vec<ProcedureView> = rows
        .into_iter()
        .map(|l| ProcedureView::of(l, true))
        .collect();
    Ok(ApiJson(ProcedureList {
        total: items.len() as u64,
        items,
    }))
}

/// One procedure: the version in force now (or `?version=N`), with the list of versions.
#[utoipa::path(get, path = "/api/v1/procedures/{code}", tag = "procedures",
    params(("code" = String, Path, description = "Procedure code, e.g. 1.001193", pattern = r"^[0-9]{1,2}\.[0-9]{6,7}(\.[0-9]{1,2})?$"), GetProcedureQuery),
    responses(
        (status = 200, body = ProcedureDetail),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_procedure(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<GetProcedureQuery>,
) -> ApiResult<ApiJson<ProcedureDetail>> {
    let now = Utc::now();
    let (listed, versions) = service::get(&state.db, &code, q.version, now).await?;
    Ok(ApiJson(detail(listed, &versions, now)))
}

fn detail(listed: Listed, versions: &[StoredVersion], now: DateTime<Utc>) -> ProcedureDetail {
    let in_force = versions
        .iter()
        .find(|m| m.valid_from <= now)
        .map(|m| m.version);
    let version = listed.stored.version;
    ProcedureDetail {
        procedure: ProcedureView::of(listed, in_force == Some(version)),
        versions: versions
            .iter()
            .map(|m| VersionSummary {
                version: m.version,
                valid_from: m.valid_from,
                in_force: in_force == Some(m.version),
                active: m.active,
                created_at: m.created_at,
            })
            .collect(),
    }
}

/// Add a procedure (administrators): version 1.
#[utoipa::path(post, path = "/api/v1/procedures", tag = "procedures",
    security(("bearer" = [])),
    request_body = CreateProcedureRequest,
    responses(
        (status = 201, body = ProcedureDetail),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn create_procedure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(b): ApiJson<CreateProcedureRequest>,
) -> ApiResult<(StatusCode, ApiJson<ProcedureDetail>)> {
    actor.require_admin()?;
    let model = service::create(
        &state.db,
        &state.catalog,
        actor.account_id,
        &b.code,
        ProcedureInput {
            name_vi: b.name_vi,
            name_en: b.name_en,
            field: b.field,
            field_code: b.field_code.map(Some),
            level: b.level,
            competent_unit_kind: b.competent_unit_kind,
            time_limit_hours: b.time_limit_hours,
            time_limit_days: b.time_limit_days,
            same_day: b.same_day,
            boundary_independent: b.boundary_independent,
            online_level: b.online_level,
            fee_vnd: b.fee_vnd,
            fee_note: b.fee_note,
            fee_by_province: b.fee_by_province,
            payment_pauses_clock: b.payment_pauses_clock.map(Some),
            limit_variants: b.limit_variants,
            parts: b.parts,
            required_documents: b.required_documents,
            steps: b.steps,
            at_risk_ratio: b.at_risk_ratio.map(Some),
            legal_basis: b.legal_basis,
            active: None,
            valid_from: b.valid_from,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(procedure.code = %model.code, admin.id = %actor.account_id, "procedure created");
    let now = Utc::now();
    let (listed, versions) = service::get(&state.db, &model.code, Some(model.version), now).await?;
    Ok((StatusCode::CREATED, ApiJson(detail(listed, &versions, now))))
}

/// Edit a procedure (administrators): makes a new version valid from `valid_from` (default
/// now); earlier versions stay readable and keep governing the dossiers received under them.
#[utoipa::path(patch, path = "/api/v1/procedures/{code}", tag = "procedures",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Procedure code", pattern = r"^[0-9]{1,2}\.[0-9]{6,7}(\.[0-9]{1,2})?$")),
    request_body = EditProcedureRequest,
    responses(
        (status = 200, body = ProcedureDetail),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn edit_procedure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<EditProcedureRequest>,
) -> ApiResult<ApiJson<ProcedureDetail>> {
    actor.require_admin()?;
    let model = service::edit(
        &state.db,
        &state.catalog,
        actor.account_id,
        &code,
        ProcedureInput {
            name_vi: b.name_vi,
            name_en: b.name_en,
            field: b.field,
            field_code: b.field_code,
            level: b.level,
            competent_unit_kind: b.competent_unit_kind,
            time_limit_hours: b.time_limit_hours,
            time_limit_days: b.time_limit_days,
            same_day: b.same_day,
            boundary_independent: b.boundary_independent,
            online_level: b.online_level,
            fee_vnd: b.fee_vnd,
            fee_note: b.fee_note,
            fee_by_province: b.fee_by_province,
            payment_pauses_clock: b.payment_pauses_clock,
            limit_variants: b.limit_variants,
            parts: b.parts,
            required_documents: b.required_documents,
            steps: b.steps,
            at_risk_ratio: b.at_risk_ratio,
            legal_basis: b.legal_basis,
            active: b.active,
            valid_from: b.valid_from,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(procedure.code = %model.code, procedure.version = model.version,
        admin.id = %actor.account_id, "procedure version created");
    let now = Utc::now();
    let (listed, versions) = service::get(&state.db, &model.code, Some(model.version), now).await?;
    Ok(ApiJson(detail(listed, &versions, now)))
}
