//! Geography, served from the in-memory gazetteer: the 34 provinces and 3,321 wards of 2025,
//! the pre-2025 wards with their successors, and address resolution.
//!
//! Codes in paths are accepted with or without leading zeros ("1" or "01"). A malformed code
//! is a 422 (`invalid_province_code`, `invalid_ward_code`, `invalid_legacy_ward_code`); a
//! well-formed code that names nothing is a 404. In query filters an unknown code is a 422
//! (`validation_failed`), as for any other invalid input.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::domain::geography::{
    Candidate, Era, Gazetteer, LegacyWardCode, LegacyWardRef, Province, ProvinceCode, Resolution,
    Status, Via, Ward, WardCode, WardRef,
};
use crate::error::Checks;
use crate::error::{ApiError, ApiResult, FieldError, ProblemDocument};
use crate::http::address::AddressBody;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, ClientLang};
use crate::state::AppState;
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_provinces))
        .routes(routes!(get_province))
        .routes(routes!(province_wards))
        .routes(routes!(search_wards))
        .routes(routes!(get_ward))
        .routes(routes!(get_legacy_ward))
        .routes(routes!(resolve_address))
}

// ---- views ------------------------------------------------------------------------------------

/// A pre-2025 province whose area went (wholly or partly) into a 2025 province.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegacyProvinceView {
    #[schema(example = "28")]
    pub code: String,
    pub name: String,
    /// Its pre-2025 districts.
    pub districts: usize,
    /// Its pre-2025 wards.
    pub wards: usize,
}

/// A 2025 province.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceView {
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub name: String,
    /// `thành phố trung ương` or `tỉnh`.
    pub division_type: String,
    pub codename: String,
    pub phone_code: String,
    /// Its 2025 wards (phường, xã, đặc khu).
    pub ward_count: usize,
    /// The pre-2025 provinces merged (wholly or partly) into it.
    pub legacy_provinces: Vec<LegacyProvinceView>,
}

/// A 2025 ward (phường, xã or đặc khu).
#[derive(Debug, Serialize, ToSchema)]
pub struct WardView {
    #[schema(example = "00097")]
    pub code: String,
    #[schema(example = "Phường Hồng Hà")]
    pub name: String,
    /// `phường`, `xã` or `đặc khu`.
    pub division_type: String,
    pub codename: String,
    pub province_code: String,
    pub province_name: String,
}

/// A pre-2025 ward that went (wholly or partly) into a 2025 ward.
#[derive(Debug, Serialize, ToSchema)]
pub struct PredecessorView {
    #[schema(example = "00001")]
    pub code: String,
    /// Absent for old codes only found in the conversion table.
    pub name: Option<String>,
    pub district_code: Option<String>,
    pub district_name: Option<String>,
    pub province_code: Option<String>,
    pub province_name: Option<String>,
    /// Only part of the old ward went into this one.
    pub partly_merged: bool,
}

/// A 2025 ward with the old wards that became it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WardDetail {
    #[serde(flatten)]
    pub ward: WardView,
    pub predecessors: Vec<PredecessorView>,
}

/// A list, complete.
#[derive(Debug, Serialize, ToSchema)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: usize,
}

/// A 2025 ward with its province, as in resolution results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WardRefView {
    #[schema(example = "00097")]
    pub code: String,
    #[schema(example = "Phường Hồng Hà")]
    pub name: String,
    #[schema(example = "01")]
    pub province_code: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub province_name: String,
}

impl From<&WardRef> for WardRefView {
    fn from(w: &WardRef) -> Self {
        WardRefView {
            code: w.code.to_string(),
            name: w.name.to_string(),
            province_code: w.province_code.to_string(),
            province_name: w.province_name.to_string(),
        }
    }
}

/// A 2025 ward that an old ward went into.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessorView {
    #[serde(flatten)]
    pub ward: WardRefView,
    /// Only part of the old ward went into this ward.
    pub partly_merged: bool,
}

/// A pre-2025 ward, its district and province, and the 2025 ward(s) it went into.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegacyWardView {
    #[schema(example = "00001")]
    pub code: String,
    /// Absent for the old codes found only in the conversion table (renumbered by earlier
    /// mergers).
    pub name: Option<String>,
    pub division_type: Option<String>,
    /// The ward is in the official pre-2025 list (false: only in the conversion table).
    pub in_legacy_list: bool,
    pub district_code: Option<String>,
    pub district_name: Option<String>,
    pub province_code: Option<String>,
    pub province_name: Option<String>,
    /// Split across several 2025 wards: an address there needs a street or village to decide.
    pub partly_merged: bool,
    /// Empty when the conversion table has no row for the ward.
    pub successors: Vec<SuccessorView>,
    /// In the caller's language.
    pub explanation: Vec<String>,
}

/// How a candidate was reached from an old ward.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViaView {
    #[schema(example = "00001")]
    pub legacy_ward_code: String,
    pub legacy_ward_name: Option<String>,
    pub legacy_district_code: Option<String>,
    pub legacy_district_name: Option<String>,
    pub legacy_province_code: Option<String>,
    pub legacy_province_name: Option<String>,
    pub partly_merged: bool,
}

impl From<&Via> for ViaView {
    fn from(v: &Via) -> Self {
        let l: &LegacyWardRef = &v.legacy;
        ViaView {
            legacy_ward_code: l.code.to_string(),
            legacy_ward_name: l.name.as_ref().map(|n| n.to_string()),
            legacy_district_code: l.district_code.map(|c| c.to_string()),
            legacy_district_name: l.district_name.as_ref().map(|n| n.to_string()),
            legacy_province_code: l.province_code.map(|c| c.to_string()),
            legacy_province_name: l.province_name.as_ref().map(|n| n.to_string()),
            partly_merged: v.partly_merged,
        }
    }
}

/// A possible 2025 ward.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateView {
    #[serde(flatten)]
    pub ward: WardRefView,
    /// The old ward(s) it was reached from (empty when named or coded directly).
    pub via: Vec<ViaView>,
}

impl From<&Candidate> for CandidateView {
    fn from(c: &Candidate) -> Self {
        CandidateView {
            ward: (&c.ward).into(),
            via: c.via.iter().map(ViaView::from).collect(),
        }
    }
}

/// The result of an address resolution.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionView {
    /// `resolved`, `ambiguous` or `not_found`.
    #[schema(example = "resolved")]
    pub status: &'static str,
    /// `2025`, `legacy`, or null when nothing was found.
    #[schema(example = "legacy")]
    pub era: Option<&'static str>,
    pub ward: Option<WardRefView>,
    /// Every possible ward (the resolved one alone when resolved).
    pub candidates: Vec<CandidateView>,
    /// Wards with a similar name, when nothing was found.
    pub suggestions: Vec<WardRefView>,
    /// Why, in the caller's language.
    pub explanation: Vec<String>,
}

pub fn status_str(s: Status) -> &'static str {
    match s {
        Status::Resolved => "resolved",
        Status::Ambiguous => "ambiguous",
        Status::NotFound => "not_found",
    }
}

pub fn era_str(e: Era) -> &'static str {
    match e {
        Era::Y2025 => "2025",
        Era::Legacy => "legacy",
    }
}

impl ResolutionView {
    pub fn of(r: &Resolution, lang: crate::domain::lang::Lang) -> ResolutionView {
        ResolutionView {
            status: status_str(r.status),
            era: r.era.map(era_str),
            ward: r.ward.as_ref().map(WardRefView::from),
            candidates: r.candidates.iter().map(CandidateView::from).collect(),
            suggestions: r.suggestions.iter().map(WardRefView::from).collect(),
            explanation: r.render(lang),
        }
    }
}

// ---- helpers ----------------------------------------------------------------------------------

fn legacy_provinces_of(g: &Gazetteer, code: ProvinceCode) -> Vec<LegacyProvinceView> {
    g.legacy_provinces()
        .iter()
        .filter(|l| g.legacy_province_successors(l.code).any(|p| p.code == code))
        .map(|l| LegacyProvinceView {
            code: l.code.to_string(),
            name: l.name.to_string(),
            districts: g.legacy_districts_of_province(l.code).count(),
            wards: g.legacy_wards_of_province(l.code).count(),
        })
        .collect()
}

fn province_view(g: &Gazetteer, p: &Province) -> ProvinceView {
    ProvinceView {
        code: p.code.to_string(),
        name: p.name.to_string(),
        division_type: p.division_type.as_str().to_string(),
        codename: p.codename.to_string(),
        phone_code: p.phone_code.to_string(),
        ward_count: g.wards_of_province(p.code).count(),
        legacy_provinces: legacy_provinces_of(g, p.code),
    }
}

fn ward_view(g: &Gazetteer, w: &Ward) -> WardView {
    WardView {
        code: w.code.to_string(),
        name: w.name.to_string(),
        division_type: w.division_type.as_str().to_string(),
        codename: w.codename.to_string(),
        province_code: w.province_code.to_string(),
        province_name: g
            .province(w.province_code)
            .map(|p| p.name.to_string())
            .unwrap_or_default(),
    }
}

fn malformed(code: &'static str, vi: &'static str, en: &'static str) -> ApiError {
    ApiError::unprocessable(code, text!(vi, en))
}

fn parse_province_path(raw: &str) -> ApiResult<ProvinceCode> {
    ProvinceCode::parse(raw.trim()).map_err(|_| {
        malformed(
            "invalid_province_code",
            "Mã tỉnh không hợp lệ: 1–2 chữ số, ví dụ 01.",
            "The province code is not valid: 1–2 digits, e.g. 01.",
        )
    })
}

fn province_not_found() -> ApiError {
    ApiError::not_found(
        "province_not_found",
        text!(
            "Không có tỉnh/thành phố (2025) mã này.",
            "There is no 2025 province with this code."
        ),
    )
}

fn find_province<'g>(g: &'g Gazetteer, raw: &str) -> ApiResult<&'g Province> {
    let code = parse_province_path(raw)?;
    g.province(code).ok_or_else(province_not_found)
}

// ---- provinces --------------------------------------------------------------------------------

/// The 34 provinces of 2025, with their ward counts and the pre-2025 provinces merged into them.
#[utoipa::path(get, path = "/api/v1/provinces", tag = "geography",
    responses(
        (status = 200, body = Listing<ProvinceView>),
        (status = 500, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_provinces(State(state): State<AppState>) -> ApiJson<Listing<ProvinceView>> {
    let g = &state.gazetteer;
    let items: Vec<ProvinceView> = g.provinces().iter().map(|p| province_view(g, p)).collect();
    ApiJson(Listing {
        total: items.len(),
        items,
    })
}

/// One province ("1" or "01").
#[utoipa::path(get, path = "/api/v1/provinces/{code}", tag = "geography",
    params(("code" = String, Path, description = "Province code, e.g. 01", pattern = r"^(0?[1-9]|[1-9][0-9])$")),
    responses(
        (status = 200, body = ProvinceView),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_province(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<ProvinceView>> {
    let g = &state.gazetteer;
    let p = find_province(g, &code)?;
    Ok(ApiJson(province_view(g, p)))
}

/// The 2025 wards of a province, complete (at most a few hundred), by code.
#[utoipa::path(get, path = "/api/v1/provinces/{code}/wards", tag = "geography",
    params(("code" = String, Path, description = "Province code, e.g. 01", pattern = r"^(0?[1-9]|[1-9][0-9])$")),
    responses(
        (status = 200, body = Listing<WardView>),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn province_wards(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<Listing<WardView>>> {
    let g = &state.gazetteer;
    let p = find_province(g, &code)?;
    let mut items: Vec<WardView> = g
        .wards_of_province(p.code)
        .map(|w| ward_view(g, w))
        .collect();
    items.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(ApiJson(Listing {
        total: items.len(),
        items,
    }))
}

// ---- wards ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchWardsQuery {
    /// Name, ignoring diacritics, case and the type prefix ("phuc xa", "P. Hồng Hà"). Empty:
    /// every ward (of the province), by name.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Province code.
    #[validate(length(max = 10))]
    #[param(max_length = 10, pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    /// At most this many (default 20, at most 500).
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// Search the 2025 wards by name: exact name first, then names starting with the query,
/// then names containing it.
#[utoipa::path(get, path = "/api/v1/wards", tag = "geography",
    params(SearchWardsQuery),
    responses(
        (status = 200, body = Listing<WardView>),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn search_wards(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchWardsQuery>,
) -> ApiResult<ApiJson<Listing<WardView>>> {
    let g = &state.gazetteer;
    let mut c = Checks::default();
    let province = q
        .province
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| crate::services::units::known_province(g, &mut c, "province", p));
    let text = q.q.unwrap_or_default();
    if text.chars().any(char::is_control) {
        c.push(FieldError::new(
            "q",
            "control_characters",
            text!(
                "Có ký tự điều khiển không hợp lệ.",
                "Control characters are not allowed."
            ),
        ));
    }
    c.finish()?;
    let province = province.and_then(|p| ProvinceCode::parse(&p).ok());
    let items: Vec<WardView> = g
        .search_wards(&text, province, q.limit.unwrap_or(20))
        .into_iter()
        .map(|w| ward_view(g, w))
        .collect();
    Ok(ApiJson(Listing {
        total: items.len(),
        items,
    }))
}

/// One 2025 ward, with the pre-2025 wards that became it.
#[utoipa::path(get, path = "/api/v1/wards/{code}", tag = "geography",
    params(("code" = String, Path, description = "2025 ward code, e.g. 00097", pattern = r"^(?!0+$)[0-9]{1,5}$")),
    responses(
        (status = 200, body = WardDetail),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_ward(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<WardDetail>> {
    let g = &state.gazetteer;
    let code = WardCode::parse(code.trim()).map_err(|_| {
        malformed(
            "invalid_ward_code",
            "Mã xã/phường không hợp lệ: 1–5 chữ số, ví dụ 00097.",
            "The ward code is not valid: 1–5 digits, e.g. 00097.",
        )
    })?;
    let ward = g.ward(code).ok_or_else(|| {
        ApiError::not_found(
            "ward_not_found",
            text!(
                "Không có xã/phường (2025) mã này.",
                "There is no 2025 ward with this code."
            ),
        )
    })?;
    let predecessors = g
        .predecessors(code)
        .iter()
        .map(|&old| {
            let r = g.legacy_ward_ref(old);
            let partly_merged = g
                .successors(old)
                .iter()
                .any(|s| s.ward == code && s.partly_merged);
            PredecessorView {
                code: old.to_string(),
                name: r.name.map(|n| n.to_string()),
                district_code: r.district_code.map(|c| c.to_string()),
                district_name: r.district_name.map(|n| n.to_string()),
                province_code: r.province_code.map(|c| c.to_string()),
                province_name: r.province_name.map(|n| n.to_string()),
                partly_merged,
            }
        })
        .collect();
    Ok(ApiJson(WardDetail {
        ward: ward_view(g, ward),
        predecessors,
    }))
}

/// A pre-2025 ward: its district and province, and the 2025 ward(s) it went into. Old codes
/// only in the conversion table are answered from it; old wards without a conversion row have
/// no successors (the explanation says so).
#[utoipa::path(get, path = "/api/v1/legacy-wards/{code}", tag = "geography",
    params(("code" = String, Path, description = "Pre-2025 ward code, e.g. 00001", pattern = r"^(?!0+$)[0-9]{1,5}$")),
    responses(
        (status = 200, body = LegacyWardView),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_legacy_ward(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<LegacyWardView>> {
    let g = &state.gazetteer;
    let code = LegacyWardCode::parse(code.trim()).map_err(|_| {
        malformed(
            "invalid_legacy_ward_code",
            "Mã xã/phường cũ không hợp lệ: 1–5 chữ số, ví dụ 00001.",
            "The pre-2025 ward code is not valid: 1–5 digits, e.g. 00001.",
        )
    })?;
    let listed = g.legacy_ward(code);
    let successors = g.successors(code);
    if listed.is_none() && successors.is_empty() {
        return Err(ApiError::not_found(
            "legacy_ward_not_found",
            text!(
                "Không có xã/phường cũ (trước 2025) mã này.",
                "There is no pre-2025 ward with this code."
            ),
        ));
    }
    let r = g.legacy_ward_ref(code);
    let explanation = g.resolve_legacy_ward_code(code).render(lang);
    Ok(ApiJson(LegacyWardView {
        code: code.to_string(),
        name: r.name.map(|n| n.to_string()),
        division_type: listed.map(|l| l.division_type.as_str().to_string()),
        in_legacy_list: listed.is_some(),
        district_code: r.district_code.map(|c| c.to_string()),
        district_name: r.district_name.map(|n| n.to_string()),
        province_code: r.province_code.map(|c| c.to_string()),
        province_name: r.province_name.map(|n| n.to_string()),
        partly_merged: g.is_partly_merged(code),
        successors: successors
            .iter()
            .filter_map(|s| {
                g.ward_ref(s.ward).map(|w| SuccessorView {
                    ward: (&w).into(),
                    partly_merged: s.partly_merged,
                })
            })
            .collect(),
        explanation,
    }))
}

// ---- address resolution -----------------------------------------------------------------------

/// Strip the `address.` prefix the shared address helpers put on field names: here the body
/// is the address.
fn unprefixed(mut e: ApiError) -> ApiError {
    if let ApiError::Problem(p) = &mut e {
        for f in &mut p.errors {
            f.field = match f.field.strip_prefix("address.") {
                Some(rest) => rest.to_string(),
                None if f.field == "address" => "body".to_string(),
                None => f.field.clone(),
            };
        }
    }
    e
}

/// Resolve an address given in exactly one form: `{ward_code}` (2025), `{legacy_ward_code}`,
/// names `{province?, district?, ward}` of either era, or `{text}` ("Phường Phúc Xá, Quận Ba
/// Đình, Hà Nội", "phuc xa, ba dinh, ha noi"). A partly merged old ward is `ambiguous`, with
/// every successor as a candidate.
#[utoipa::path(post, path = "/api/v1/addresses/resolve", tag = "geography",
    request_body = AddressBody,
    responses(
        (status = 200, body = ResolutionView),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn resolve_address(
    State(state): State<AppState>,
    ClientLang(lang): ClientLang,
    ApiJson(body): ApiJson<AddressBody>,
) -> ApiResult<ApiJson<ResolutionView>> {
    let input = body.to_input("address").map_err(unprefixed)?;
    let resolution =
        crate::services::routing::resolve_address(&state.gazetteer, &input).map_err(unprefixed)?;
    Ok(ApiJson(ResolutionView::of(&resolution, lang)))
}
