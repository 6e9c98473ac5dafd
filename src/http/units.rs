//! `/api/v1/units`: the units (agencies) that receive and handle dossiers. Anyone may read
//! them; administrators create, edit and deactivate them.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::error::{ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::http::Page;
use crate::services::units as service;
use crate::services::units::{CreateUnit, ListUnits, UpdateUnit};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(get_unit, update_unit))
}

/// A unit as the API shows it is the service's own ([`Unit`]), documented there.
pub use crate::services::units::Unit as UnitView;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUnitsQuery {
    /// Province code ("1" or "01").
    #[validate(length(max = 10))]
    #[param(max_length = 10, pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    /// A unit kind.
    #[validate(length(max = 50))]
    #[param(
        max_length = 50,
        pattern = r"^(province_pc|province_service_centre|dept_justice|dept_finance|dept_construction|dept_agriculture_environment|land_registration_office|dept_health|dept_education|dept_home_affairs|province_police|commune_pc|commune_service_centre|commune_police)$"
    )]
    pub kind: Option<String>,
    /// Part of the code, or of the name (diacritics and case ignored).
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// 2025 ward code: the units of that commune.
    #[validate(length(max = 10))]
    #[param(max_length = 10)]
    pub ward: Option<String>,
    pub active: Option<bool>,
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    /// Upper-case letters and digits in dot-separated groups, beginning with the province
    /// code (and, for a commune-level unit, the ward code): `01.00004.TUPHAP`.
    #[schema(example = "01.BHXH")]
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub kind: String,
    #[schema(example = "01")]
    pub province_code: String,
    /// Required for commune-level kinds, refused for province-level ones.
    pub ward_code: Option<String>,
    /// Default: the configured civil-service hours.
    #[schema(example = "07:30-11:30,13:00-17:00")]
    pub working_hours: Option<String>,
    /// Default: true for service centres, false otherwise.
    pub receives_dossiers: Option<bool>,
}

/// Absent fields are left as they are; `active: false` deactivates the unit.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub working_hours: Option<String>,
    pub active: Option<bool>,
    pub receives_dossiers: Option<bool>,
    /// The agency code on the national portal (QCVN 102); `null` clears it.
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<String>)]
    pub national_code: Option<Option<String>>,
}

/// List units, filtered.
#[utoipa::path(get, path = "/api/v1/units", tag = "units",
    params(ListUnitsQuery),
    responses(
        (status = 200, body = Page<UnitView>),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_units(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListUnitsQuery>,
) -> ApiResult<ApiJson<Page<UnitView>>> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let (rows, total) = service::list(
        &state.db,
        &state.gazetteer,
        ListUnits {
            province: q.province,
            kind: q.kind,
            ward: q.ward,
            q: q.q,
            active: q.active,
            page,
            per_page,
        },
    )
    .await?;
    Ok(ApiJson(Page {
        items: rows,
        page,
        per_page,
        total,
    }))
}

/// One unit.
#[utoipa::path(get, path = "/api/v1/units/{code}", tag = "units",
    params(("code" = String, Path, description = "Unit code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$", max_length = 40)),
    responses(
        (status = 200, body = UnitView),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_unit(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<UnitView>> {
    Ok(ApiJson(service::get(&state.db, &code).await?))
}

/// Create a unit (administrators).
#[utoipa::path(post, path = "/api/v1/units", tag = "units",
    security(("bearer" = [])),
    request_body = CreateUnitRequest,
    responses(
        (status = 201, body = UnitView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn create_unit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateUnitRequest>,
) -> ApiResult<(StatusCode, ApiJson<UnitView>)> {
    actor.require_admin()?;
    let unit = service::create(
        &state.units(),
        actor.account_id,
        CreateUnit {
            code: body.code,
            name: body.name,
            name_en: body.name_en,
            kind: body.kind,
            province_code: body.province_code,
            ward_code: body.ward_code,
            working_hours: body.working_hours,
            receives_dossiers: body.receives_dossiers,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(unit.code = %unit.code, admin.id = %actor.account_id, "unit created");
    Ok((StatusCode::CREATED, ApiJson(unit)))
}

/// Edit or deactivate a unit (administrators).
#[utoipa::path(patch, path = "/api/v1/units/{code}", tag = "units",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Unit code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$", max_length = 40)),
    request_body = UpdateUnitRequest,
    responses(
        (status = 200, body = UnitView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn update_unit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUnitRequest>,
) -> ApiResult<ApiJson<UnitView>> {
    actor.require_admin()?;
    let unit = service::update(
        &state.units(),
        actor.account_id,
        &code,
        UpdateUnit {
            name: body.name,
            name_en: body.name_en,
            working_hours: body.working_hours,
            active: body.active,
            receives_dossiers: body.receives_dossiers,
            national_code: body.national_code,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(unit.code = %unit.code, admin.id = %actor.account_id, "unit updated");
    Ok(ApiJson(unit))
}
