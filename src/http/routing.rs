//! `/api/v1/routing`: which unit handles a dossier and where it may be received; the
//! administrators' routing overrides.
//!
//! `POST /api/v1/routing/resolve` answers a routing question with a routing outcome: a
//! receiving unit that is well formed but unknown, inactive, not a reception point, in another
//! province or (for a procedure that is not boundary-independent) outside the address's
//! commune gives `status: rejected` with the reason in `rejection` — the request itself was
//! fine. Malformed input is a 422 (an empty or over-long address, mixed address forms, a
//! malformed `received_at_unit`), an unknown procedure a 404 `procedure_not_found`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::domain::lang::Lang;
use crate::domain::routing::{RouteStatus, UnitInfo};
use crate::domain::unit::UnitCode;
use crate::error::{ApiError, ApiResult, FieldError, ProblemDocument};
use crate::http::address::AddressBody;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientLang};
use crate::http::geography::{era_str, WardRefView};
use crate::http::procedures::TimeLimitView;
use crate::services::routing::{self as service, NewOverride, OverrideChange};
use crate::state::AppState;
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resolve_route))
        .routes(routes!(create_override, list_overrides))
        .routes(routes!(update_override))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    #[schema(example = "1.001193")]
    pub procedure_code: String,
    pub address: AddressBody,
    /// Where the dossier is (to be) received; default: the service centre of the address's
    /// commune (commune-level procedures) or province (province-level ones).
    #[schema(example = "01.00004.TTPVHCC")]
    pub received_at_unit: Option<String>,
    /// Where the applicant would collect the result (a reception point of the province).
    pub result_point: Option<String>,
}

/// A unit, named in the caller's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitRef {
    #[schema(example = "01.00097.UBND")]
    pub code: String,
    pub name: String,
    #[schema(example = "commune_pc")]
    pub kind: String,
}

impl UnitRef {
    fn of(u: &UnitInfo, lang: Lang) -> UnitRef {
        UnitRef {
            code: u.code.clone(),
            name: u.name_in(lang).to_string(),
            kind: u.kind.as_str().to_string(),
        }
    }
}

/// The procedure version routed under.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoutedProcedure {
    pub code: String,
    pub version: i32,
    pub name: String,
    pub time_limit: TimeLimitView,
}

/// A possible handling unit of an ambiguous address.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitCandidateView {
    pub ward: WardRefView,
    /// None when the ward has no unit of the competent kind.
    pub unit: Option<UnitRef>,
}

/// The routing decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteView {
    pub status: RouteStatus,
    /// The competent unit (after overrides).
    pub handling_unit: Option<UnitRef>,
    /// Where the dossier is received.
    pub receiving_unit: Option<UnitRef>,
    /// Where the result is collected, when one was asked for.
    pub result_point: Option<UnitRef>,
    /// Whether the procedure is on the province's list of procedures received and returned
    /// anywhere in the province (Decree 118/2025/NĐ-CP).
    pub boundary_independent: bool,
    /// The procedure's fee in the address's province (the province's, else the national one).
    pub fee_vnd: i64,
    /// The address's 2025 ward.
    pub ward: Option<WardRefView>,
    /// `2025` or `legacy`: how the address was read.
    pub era: Option<&'static str>,
    pub procedure: RoutedProcedure,
    /// Ambiguous addresses: every possible ward with its competent unit.
    pub candidates: Vec<UnitCandidateView>,
    /// Rejected: `address_not_found`, `no_competent_unit`, `handling_unit_inactive`,
    /// `unknown_receiving_unit`, `not_a_reception_point`, `receiving_unit_inactive`,
    /// `receipt_in_other_province`, `receipt_outside_commune`, `unknown_result_point`,
    /// `result_point_inactive`, `result_point_not_reception_point`,
    /// `result_point_outside_province`, `result_point_outside_commune`.
    pub rejection: Option<&'static str>,
    /// Why, in the caller's language, step by step (address, competence, overrides, receipt).
    pub explanation: Vec<String>,
}

/// Route a dossier: the handling unit for the procedure at the address, and whether it may
/// be received where asked.
#[utoipa::path(post, path = "/api/v1/routing/resolve", tag = "routing",
    request_body = RouteRequest,
    responses(
        (status = 200, body = RouteView),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn resolve_route(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiJson(body): ApiJson<RouteRequest>,
) -> ApiResult<ApiJson<RouteView>> {
    let mut errors = Vec::new();
    let code = body.procedure_code.trim();
    if code.is_empty() {
        errors.push(FieldError::new(
            "procedure_code",
            "required",
            text!("Thiếu mã thủ tục.", "The procedure code is missing."),
        ));
    }
    let received_at = match body.received_at_unit.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match UnitCode::parse(raw) {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(FieldError::new(
                    "received_at_unit",
                    "invalid_unit_code",
                    text!(
                        "Mã đơn vị tiếp nhận không hợp lệ.",
                        "The receiving unit code is not valid."
                    ),
                ));
                None
            }
        },
    };
    let input = match body.address.to_input("address") {
        Ok(i) => Some(i),
        Err(ApiError::Problem(p)) => {
            errors.extend(p.errors);
            None
        }
        Err(e) => return Err(e),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let input = input.expect("checked");
    let routed = service::route(
        &state.catalog(),
        &state.gazetteer,
        &state.directory(),
        code,
        &input,
        received_at.as_ref().map(UnitCode::as_str),
        body.result_point
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty()),
        Utc::now(),
    )?;
    let d = &routed.decision;
    let spec = routed.procedure.spec()?;
    Ok(ApiJson(RouteView {
        status: d.status,
        handling_unit: d.handling_unit.as_deref().map(|u| UnitRef::of(u, lang)),
        receiving_unit: d.receiving_unit.as_deref().map(|u| UnitRef::of(u, lang)),
        result_point: d.result_point.as_deref().map(|u| UnitRef::of(u, lang)),
        boundary_independent: routed.boundary_independent,
        fee_vnd: routed.fee_vnd,
        ward: d.ward.as_ref().map(WardRefView::from),
        era: routed.resolution.era.map(era_str),
        procedure: RoutedProcedure {
            code: routed.procedure.code.clone(),
            version: routed.procedure.version,
            name: match lang {
                Lang::Vi => spec.name_vi.clone(),
                Lang::En => spec.name_en.clone(),
            },
            time_limit: TimeLimitView::of(spec),
        },
        candidates: d
            .candidates
            .iter()
            .map(|c| UnitCandidateView {
                ward: (&c.ward).into(),
                unit: c.unit.as_deref().map(|u| UnitRef::of(u, lang)),
            })
            .collect(),
        rejection: d.rejection.map(|r| r.code()),
        explanation: d.render(lang),
    }))
}

// ---- overrides ----------------------------------------------------------------------------------

/// An override as the API shows it is the service's own ([`Override`]), documented there.
pub use crate::services::routing::Override as OverrideView;

/// A province assigns a procedure to a unit (`procedure_code`), or one unit's work goes to
/// another (`from_unit_code`), or both; for a period (`valid_from`, `valid_until`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOverrideRequest {
    #[schema(example = "01")]
    pub province_code: String,
    pub procedure_code: Option<String>,
    pub from_unit_code: Option<String>,
    /// An active unit of the province.
    pub to_unit_code: String,
    /// Default 0; -1000 to 1000.
    #[serde(default)]
    pub priority: i32,
    /// Default: now.
    pub valid_from: Option<DateTime<Utc>>,
    /// Default: open-ended.
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
}

/// Absent fields are left as they are; `valid_until: null` makes the override open-ended.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOverrideRequest {
    pub active: Option<bool>,
    pub priority: Option<i32>,
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOverridesQuery {
    /// Province code.
    #[validate(length(max = 10))]
    #[param(max_length = 10, pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    pub active: Option<bool>,
}

/// The overrides.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideList {
    pub items: Vec<OverrideView>,
    pub total: usize,
}

/// Create a routing override (administrators).
#[utoipa::path(post, path = "/api/v1/routing/overrides", tag = "routing",
    security(("bearer" = [])),
    request_body = CreateOverrideRequest,
    responses(
        (status = 201, body = OverrideView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn create_override(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(b): ApiJson<CreateOverrideRequest>,
) -> ApiResult<(StatusCode, ApiJson<OverrideView>)> {
    actor.require_admin()?;
    let m = service::create_override(
        &state.overrides(),
        actor.account_id,
        NewOverride {
            province_code: b.province_code,
            procedure_code: b.procedure_code,
            from_unit_code: b.from_unit_code,
            to_unit_code: b.to_unit_code,
            priority: b.priority,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            reason: b.reason,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(routing_override.id = m.id, admin.id = %actor.account_id, "routing override created");
    Ok((StatusCode::CREATED, ApiJson(m)))
}

/// List routing overrides, newest first (staff).
#[utoipa::path(get, path = "/api/v1/routing/overrides", tag = "routing",
    security(("bearer" = [])),
    params(ListOverridesQuery),
    responses(
        (status = 200, body = OverrideList),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_overrides(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListOverridesQuery>,
) -> ApiResult<ApiJson<OverrideList>> {
    actor.require_staff()?;
    let rows =
        service::list_overrides(&state.db, &state.gazetteer, q.province.as_deref(), q.active)
            .await?;
    Ok(ApiJson(OverrideList {
        total: rows.len(),
        items: rows,
    }))
}

/// Change a routing override: deactivate it, change its priority, end or reason
/// (administrators).
#[utoipa::path(patch, path = "/api/v1/routing/overrides/{id}", tag = "routing",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Override id")),
    request_body = UpdateOverrideRequest,
    responses(
        (status = 200, body = OverrideView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn update_override(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<UpdateOverrideRequest>,
) -> ApiResult<ApiJson<OverrideView>> {
    actor.require_admin()?;
    let m = service::update_override(
        &state.overrides(),
        actor.account_id,
        &id,
        OverrideChange {
            active: b.active,
            priority: b.priority,
            valid_until: b.valid_until,
            reason: b.reason,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(routing_override.id = m.id, admin.id = %actor.account_id, "routing override updated");
    Ok(ApiJson(m))
}
