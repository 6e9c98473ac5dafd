//! `/api/v1/provinces/{code}/boundary-independent-procedures` and `/api/v1/provinces/{code}/fees`:
//! what each province publishes (issue 21 §1–2).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::app::AppState;
use crate::domain::lang::Lang;
use crate::domain::province_lists::{Entries, FeeEntry, ListKind};
use crate::error::{ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientLang};
use crate::services::province_lists::{self as svc, NewVersion, ProvinceList, Version};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            get_boundary_independent,
            publish_boundary_independent
        ))
        .routes(routes!(get_fees, publish_fees))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The instant the list is read at (RFC 3339); default: now.
    pub at: Option<DateTime<Utc>>,
}

/// A procedure of a province's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedProcedure {
    #[schema(example = "1.001193")]
    pub code: String,
    /// The procedure's name in the caller's language (empty when the catalog no longer has it).
    pub name: String,
    /// `commune` or `province`: a province-level procedure on the list is received at the
    /// commune service centres too.
    pub level: Option<String>,
    /// `fees`: the province's fee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_vnd: Option<i64>,
}

/// A version of a list, without its entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListVersionView {
    pub valid_from: DateTime<Utc>,
    pub entries: usize,
    pub note: Option<String>,
    /// The administrator who published it (none: seeded from the national catalog).
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A province's list as in force at the instant asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceListView {
    #[schema(example = "42")]
    pub province_code: String,
    /// `boundary_independent` or `fees`.
    pub kind: ListKind,
    /// The version in force (none: the province has published none yet, and the catalog's
    /// national flag or fee applies).
    pub valid_from: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub total: usize,
    pub items: Vec<ListedProcedure>,
    /// Every version, newest first (a future one is scheduled).
    pub versions: Vec<ListVersionView>,
}

/// A new version of a province's list: it replaces the whole list from `valid_from`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishProceduresBody {
    /// Default: now. Never in the past.
    pub valid_from: Option<DateTime<Utc>>,
    /// The procedure codes (of the catalog), each once.
    #[schema(max_items = 10000, example = json!(["1.001193", "1.004873"]))]
    pub procedures: Vec<String>,
    /// The decision that publishes it, e.g. "Quyết định 1234/QĐ-UBND ngày 01/12/2026".
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A new version of a province's fees: it replaces the whole list from `valid_from`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishFeesBody {
    pub valid_from: Option<DateTime<Utc>>,
    /// Each procedure once; a procedure not listed costs the catalog's national fee.
    #[schema(max_items = 10000)]
    pub fees: Vec<FeeEntry>,
    /// The People's Council resolution that sets them.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

fn version_view(v: &Version) -> ListVersionView {
    ListVersionView {
        valid_from: v.valid_from,
        entries: v.entries.len(),
        note: v.note.clone(),
        created_by: v.created_by,
        created_at: v.created_at,
    }
}

fn view(state: &AppState, l: ProvinceList, lang: Lang) -> ProvinceListView {
    let catalog = state.catalog();
    let listed = |code: &str, fee: Option<i64>| {
        let spec = catalog
            .in_force(code, Utc::now())
            .and_then(|v| v.spec().ok().cloned());
        ListedProcedure {
            code: code.to_string(),
            name: spec
                .as_ref()
                .map(|s| match lang {
                    Lang::Vi => s.name_vi.clone(),
                    Lang::En => s.name_en.clone(),
                })
                .unwrap_or_default(),
            level: spec.map(|s| s.level.as_str().to_string()),
            fee_vnd: fee,
        }
    };
    let items: Vec<ListedProcedure> = match l.in_force.as_ref().map(|v| &v.entries) {
        Some(Entries::Procedures(set)) => set.iter().map(|c| listed(c, None)).collect(),
        Some(Entries::Fees(map)) => map.iter().map(|(c, f)| listed(c, Some(*f))).collect(),
        None => Vec::new(),
    };
    ProvinceListView {
        province_code: l.province_code,
        kind: l.kind,
        valid_from: l.in_force.as_ref().map(|v| v.valid_from),
        note: l.in_force.as_ref().and_then(|v| v.note.clone()),
        total: items.len(),
        items,
        versions: l.versions.iter().map(version_view).collect(),
    }
}

/// A list as in force at the instant asked for (both kinds).
async fn read(
    state: &AppState,
    lang: Lang,
    code: &str,
    q: ListQuery,
    kind: ListKind,
) -> ApiResult<ApiJson<ProvinceListView>> {
    let at = q.at.unwrap_or_else(Utc::now);
    let l = svc::get(&state.overrides(), code, kind, at).await?;
    Ok(ApiJson(view(state, l, lang)))
}

/// Publish a new version (both kinds): 201 with the list as now in force.
async fn publish(
    state: &AppState,
    actor: &crate::domain::access::Actor,
    lang: Lang,
    code: &str,
    kind: ListKind,
    v: NewVersion,
) -> ApiResult<(StatusCode, ApiJson<ProvinceListView>)> {
    let l = svc::publish(&state.overrides(), actor, code, kind, v, Utc::now()).await?;
    Ok((StatusCode::CREATED, ApiJson(view(state, l, lang))))
}

/// The procedures an applicant may file, and collect the result of, at any one-stop point of
/// the province whatever the government level (Decree 118/2025/NĐ-CP). Public, like
/// the catalog. Competence never moves with the place of receipt.
#[utoipa::path(get, path = "/api/v1/provinces/{code}/boundary-independent-procedures", tag = "geography",
    params(
        ("code" = String, Path, description = "Province code, e.g. 42", pattern = r"^(0?[1-9]|[1-9][0-9])$"),
        ListQuery,
    ),
    responses(
        (status = 200, body = ProvinceListView),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_boundary_independent(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<ProvinceListView>> {
    read(&state, lang, &code, q, ListKind::BoundaryIndependent).await
}

/// Publish a new version of the province's list (administrators, and the province's
/// `province_admin`); audited. In force in routing from `valid_from`.
#[utoipa::path(post, path = "/api/v1/provinces/{code}/boundary-independent-procedures", tag = "geography",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Province code", pattern = r"^(0?[1-9]|[1-9][0-9])$")),
    request_body = PublishProceduresBody,
    responses(
        (status = 201, description = "The list as now in force", body = ProvinceListView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator of this province", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "version_exists", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "unknown_procedure, duplicate_procedure, valid_from_in_past", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn publish_boundary_independent(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<PublishProceduresBody>,
) -> ApiResult<(StatusCode, ApiJson<ProvinceListView>)> {
    let v = NewVersion {
        valid_from: b.valid_from,
        procedures: b.procedures,
        fees: Vec::new(),
        note: b.note,
    };
    publish(
        &state,
        &actor,
        lang,
        &code,
        ListKind::BoundaryIndependent,
        v,
    )
    .await
}

/// The fees the province set (Law on Fees and Charges 2015 art. 21); a procedure not listed
/// costs the catalog's national fee. Public.
#[utoipa::path(get, path = "/api/v1/provinces/{code}/fees", tag = "geography",
    params(
        ("code" = String, Path, description = "Province code, e.g. 42", pattern = r"^(0?[1-9]|[1-9][0-9])$"),
        ListQuery,
    ),
    responses(
        (status = 200, body = ProvinceListView),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_fees(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<ProvinceListView>> {
    read(&state, lang, &code, q, ListKind::Fees).await
}

/// Publish a new version of the province's fees (administrators, and the province's
/// `province_admin`); audited. Dossiers filed from `valid_from` owe these fees.
#[utoipa::path(post, path = "/api/v1/provinces/{code}/fees", tag = "geography",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Province code", pattern = r"^(0?[1-9]|[1-9][0-9])$")),
    request_body = PublishFeesBody,
    responses(
        (status = 201, description = "The fees as now in force", body = ProvinceListView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "version_exists", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "unknown_procedure, duplicate_procedure, negative_amount, amount_too_large, valid_from_in_past", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn publish_fees(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<PublishFeesBody>,
) -> ApiResult<(StatusCode, ApiJson<ProvinceListView>)> {
    let v = NewVersion {
        valid_from: b.valid_from,
        procedures: Vec::new(),
        fees: b.fees,
        note: b.note,
    };
    publish(&state, &actor, lang, &code, ListKind::Fees, v).await
}
