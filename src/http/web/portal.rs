//! The citizens' portal: registration, the procedure catalogue, filing with the address as
//! the applicant knows it (with the routing preview), and "my dossiers". A dossier's own page
//! is the same as the staff's (`staff::case_page`), scoped to its applicant.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::session::{self, Browser, Signed, SESSION_COOKIE};
use super::ui::{self, Ui};
use super::{labels, page, page_with_status, problem_lines};
use crate::domain::account::Role;
use crate::domain::geography::{Gazetteer, LegacyDistrictCode, LegacyProvinceCode, ProvinceCode};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::Status;
use crate::domain::procedure::ProcedureSpec;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ClientAddr;
use crate::services::cases::{self as svc, ListRequest};
use crate::state::AppState;
use crate::text;

// ---- registration -------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    phone: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    ui: Ui,
    f: RegisterForm,
    errors: Vec<String>,
}

pub async fn register_page(b: Browser) -> Response {
    page(&RegisterPage {
        ui: b.ui,
        f: RegisterForm::default(),
        errors: Vec::new(),
    })
}

/// `POST /register`: the API's rules; signed in at once, on to the catalogue.
pub async fn register(
    State(state): State<AppState>,
    b: Browser,
    ClientAddr(client): ClientAddr,
    Form(f): Form<RegisterForm>,
) -> Response {
    let now = Utc::now();
    let reg = crate::services::auth::Registration {
        username: f.username.trim().to_string(),
        password: f.password.clone(),
        full_name: f.full_name.clone(),
        phone: Some(f.phone.trim().to_string()).filter(|p| !p.is_empty()),
        email: None,
        id_number: None,
    };
    let lang = b.ui.lang;
    let fail = |e: ApiError, ui: Ui, f: RegisterForm| {
        if e.status().is_server_error() {
            return e.into_response();
        }
        let status = e.status();
        let errors = problem_lines(&e, lang);
        page_with_status(
            status,
            &RegisterPage {
                ui,
                f: RegisterForm {
                    password: String::new(),
                    ..f
                },
                errors,
            },
        )
    };
    if let Err(e) = crate::services::auth::register(&state.auth(), reg, now).await {
        return fail(e, b.ui, f);
    }
    match crate::services::auth::open_web_session(
        &state.auth(),
        &state.settings.web,
        &f.username,
        f.password.clone(),
        client.as_deref(),
        now,
    )
    .await
    {
        Ok(token) => {
            let mut res = Redirect::to("/procedures").into_response();
            session::add_cookies(
                &mut res,
                &[session::cookie(
                    SESSION_COOKIE,
                    token,
                    session::secure_cookies(&state),
                    None,
                )],
            );
            res
        }
        Err(e) => fail(e, b.ui, f),
    }
}

// ---- the catalogue ------------------------------------------------------------------------

struct ProcRow {
    code: String,
    name: String,
    level: &'static str,
    limit: String,
    fee: String,
}

fn limit_text(spec: &ProcedureSpec, lang: Lang) -> String {
    if spec.same_day {
        return if lang == Lang::En {
            "same day"
        } else {
            "trong ngày"
        }
        .into();
    }
    if let Some(d) = spec.time_limit_days {
        return format!("{d} {}", if lang == Lang::En { "days" } else { "ngày" });
    }
    match spec.time_limit_hours {
        Some(h) if h % 8 == 0 => format!(
            "{} {}",
            h / 8,
            if lang == Lang::En {
                "working days"
            } else {
                "ngày làm việc"
            }
        ),
        Some(h) => format!(
            "{h} {}",
            if lang == Lang::En {
                "working hours"
            } else {
                "giờ làm việc"
            }
        ),
        None => "—".into(),
    }
}

fn fee_text(spec: &ProcedureSpec, lang: Lang) -> String {
    if spec.fee_vnd == 0 {
        return if lang == Lang::En {
            "free"
        } else {
            "miễn phí"
        }
        .into();
    }
    ui::vnd(spec.fee_vnd)
}

fn level_text(spec: &ProcedureSpec, lang: Lang) -> &'static str {
    match (spec.level.as_str(), lang) {
        ("commune", Lang::En) => "commune",
        ("commune", _) => "cấp xã",
        (_, Lang::En) => "province",
        _ => "cấp tỉnh",
    }
}

#[derive(Template)]
#[template(path = "procedures.html")]
struct ProceduresPage {
    ui: Ui,
    q: String,
    rows: Vec<ProcRow>,
}

#[derive(Debug, Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `/procedures?q=`: search by name, with or without diacritics, or by code.
pub async fn procedures(
    State(state): State<AppState>,
    b: Browser,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Response> {
    let lang = b.ui.lang;
    let query = q.q.unwrap_or_default();
    let list = crate::services::procedures::list(
        &state.db,
        crate::services::procedures::ListProcedures {
            q: Some(query.clone()).filter(|s| !s.trim().is_empty()),
            ..Default::default()
        },
        Utc::now(),
    )
    .await?;
    let rows = list
        .into_iter()
        .filter(|l| l.stored.active)
        .map(|l| ProcRow {
            code: l.stored.code.clone(),
            name: if lang == Lang::En {
                l.spec.name_en.clone()
            } else {
                l.spec.name_vi.clone()
            },
            level: level_text(&l.spec, lang),
            limit: limit_text(&l.spec, lang),
            fee: fee_text(&l.spec, lang),
        })
        .collect();
    Ok(page(&ProceduresPage {
        ui: b.ui,
        q: query,
        rows,
    }))
}

struct DocRow {
    name: String,
    mandatory: bool,
    kind: String,
    /// The upload already made for it (a form shown again).
    upload: Option<String>,
}

#[derive(Template)]
#[template(path = "procedure.html")]
struct ProcedurePage {
    ui: Ui,
    code: String,
    name: String,
    field: String,
    level: &'static str,
    limit: String,
    fee: String,
    fee_note: String,
    handled_by: String,
    documents: Vec<DocRow>,
    online: bool,
}

/// `/procedures/{code}`: what a procedure asks for, costs and takes, and who handles it.
pub async fn procedure(
    State(state): State<AppState>,
    b: Browser,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let lang = b.ui.lang;
    let (l, _) = crate::services::procedures::get(&state.db, &code, None, Utc::now()).await?;
    let s = &l.spec;
    let documents = s
        .required_documents
        .iter()
        .map(|d| DocRow {
            name: if lang == Lang::En {
                d.name_en.clone()
            } else {
                d.name_vi.clone()
            },
            mandatory: d.mandatory,
            kind: d.kind.clone(),
            upload: None,
        })
        .collect();
    Ok(page(&ProcedurePage {
        code: l.stored.code.clone(),
        name: if lang == Lang::En {
            s.name_en.clone()
        } else {
            s.name_vi.clone()
        },
        field: s.field.clone(),
        level: level_text(s, lang),
        limit: limit_text(s, lang),
        fee: fee_text(s, lang),
        fee_note: s.fee_note.clone(),
        handled_by: labels::unit_kind(s.competent_unit_kind.as_str(), lang).to_string(),
        documents,
        online: s.online_level.as_str() != "none" && l.stored.active,
        ui: b.ui,
    }))
}

// ---- the address pickers ------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct OptionsQuery {
    /// `ward` (2025, of a province), `legacy_district` (of a pre-2025 province) or
    /// `legacy_ward` (of a pre-2025 district).
    level: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    legacy_province: String,
    #[serde(default)]
    legacy_district: String,
}

#[derive(Template)]
#[template(path = "options.html")]
struct Options {
    items: Vec<(String, String)>,
}

/// `/address/options`: the `<option>`s of a picker for the one above it (htmx).
pub async fn address_options(
    State(state): State<AppState>,
    Query(q): Query<OptionsQuery>,
) -> Response {
    let parent = match q.level.as_str() {
        "ward" => &q.province,
        "legacy_district" => &q.legacy_province,
        _ => &q.legacy_district,
    };
    let items = picker_options(&state.gazetteer, &q.level, parent);
    page(&Options { items })
}

/// The (code, name) choices of a picker under `parent`: the 2025 wards of a province
/// (`ward`), the old districts of an old province (`legacy_district`), the old wards of an
/// old district (`legacy_ward`); none for an unknown level or parent.
fn picker_options(g: &Gazetteer, level: &str, parent: &str) -> Vec<(String, String)> {
    match level {
        "ward" => ProvinceCode::parse(parent)
            .map(|p| {
                g.wards_of_province(p)
                    .map(|w| (w.code.to_string(), w.name.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        "legacy_district" => LegacyProvinceCode::parse(parent)
            .map(|p| {
                g.legacy_districts_of_province(p)
                    .map(|d| (d.code.to_string(), d.name.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        "legacy_ward" => LegacyDistrictCode::parse(parent)
            .map(|d| {
                g.legacy_wards_of_district(d)
                    .map(|w| (w.code.to_string(), w.name.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

// ---- filing -------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default, Clone)]
pub struct FileForm {
    #[serde(default)]
    idempotency_key: String,
    /// `ward` (2025 pickers), `legacy` (pre-2025 pickers) or `text`.
    #[serde(default)]
    mode: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    legacy_province: String,
    #[serde(default)]
    legacy_district: String,
    #[serde(default)]
    legacy_ward: String,
    #[serde(default)]
    text: String,
    /// A 2025 ward chosen among the candidates of a split old ward.
    #[serde(default)]
    candidate: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    details: String,
    /// Where to file and collect the result (empty: the default centre).
    #[serde(default)]
    received_at_unit: String,
    #[serde(default)]
    result_point: String,
    /// The online payment's reference, when the fee was paid through the gateway.
    #[serde(default)]
    payment_reference: String,
    /// `doc_{kind}`: the upload made for a component; `reuse_{kind}`: a digitised document
    /// chosen instead (and whatever else the form sends, ignored).
    #[serde(flatten)]
    files: std::collections::BTreeMap<String, String>,
}

impl FileForm {
    /// The dossier's documents: each component's upload, or the digitised one reused.
    fn documents(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for (k, v) in &self.files {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            if let Some(kind) = k.strip_prefix("doc_") {
                out.push(json!({"kind": kind, "upload_id": v}));
            } else if let Some(kind) = k.strip_prefix("reuse_") {
                if self.upload_of(kind).is_none() {
                    out.push(json!({"kind": kind, "reuse_document_id": v}));
                }
            }
        }
        out
    }

    fn upload_of(&self, kind: &str) -> Option<&str> {
        self.files
            .get(&format!("doc_{kind}"))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// The address as given: the chosen candidate when there is one, else the mode's fields.
    fn address(&self) -> Value {
        if !self.candidate.trim().is_empty() {
            return json!({ "ward_code": self.candidate.trim() });
        }
        match self.mode.as_str() {
            "legacy" => json!({ "legacy_ward_code": self.legacy_ward.trim() }),
            "text" => json!({ "text": self.text.trim() }),
            _ => json!({ "ward_code": self.ward.trim() }),
        }
    }

    fn has_address(&self) -> bool {
        match self.mode.as_str() {
            "legacy" => !self.legacy_ward.trim().is_empty(),
            "text" => !self.text.trim().is_empty(),
            _ => !self.ward.trim().is_empty(),
        }
    }
}

/// The routing preview as shown under the address.
pub struct Preview {
    pub status: String,
    pub explanation: Vec<String>,
    pub handling: Option<String>,
    /// (ward code, ward name, unit name) of each candidate of a split old ward.
    pub candidates: Vec<(String, String, String)>,
    pub error: Option<String>,
    /// The fee in the address's province, formatted (empty: free).
    pub fee: String,
    /// On the province's boundary-independent list: filed and collected at any centre.
    pub boundary_independent: bool,
    /// The province's reception points (code, name), the provincial centre first.
    pub centres: Vec<(String, String)>,
}

fn preview(state: &AppState, code: &str, f: &FileForm, lang: Lang) -> Option<Preview> {
    if !f.has_address() {
        return None;
    }
    let mut shown = f.clone();
    shown.candidate = String::new();
    let body: crate::http::address::AddressBody = serde_json::from_value(shown.address()).ok()?;
    let input = match body.to_input("address") {
        Ok(i) => i,
        Err(e) => {
            return Some(Preview {
                status: "rejected".into(),
                explanation: Vec::new(),
                handling: None,
                candidates: Vec::new(),
                error: problem_lines(&e, lang).into_iter().last(),
                fee: String::new(),
                boundary_independent: false,
                centres: Vec::new(),
            })
        }
    };
    let routed = crate::services::routing::route(
        &state.catalog(),
        &state.gazetteer,
        &state.directory(),
        code,
        &input,
        None,
        None,
        Utc::now(),
    );
    Some(match routed {
        Err(e) => Preview {
            status: "rejected".into(),
            explanation: Vec::new(),
            handling: None,
            candidates: Vec::new(),
            error: problem_lines(&e, lang).into_iter().last(),
            fee: String::new(),
            boundary_independent: false,
            centres: Vec::new(),
        },
        Ok(r) => {
            let d = &r.decision;
            let directory = state.directory();
            let mut centres: Vec<(bool, String, String)> = d
                .province()
                .map(|p| {
                    directory
                        .all()
                        .filter(|u| u.province_code == p && u.receives_dossiers && u.active)
                        .map(|u| {
                            (
                                u.ward_code.is_some(),
                                u.name_in(lang).to_string(),
                                u.code.clone(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            centres.sort();
            Preview {
                fee: if r.fee_vnd > 0 {
                    ui::vnd(r.fee_vnd)
                } else {
                    String::new()
                },
                boundary_independent: r.boundary_independent,
                centres: centres.into_iter().map(|(_, n, c)| (c, n)).collect(),
                status: serde_json::to_value(d.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                explanation: d.render(lang),
                handling: d
                    .handling_unit
                    .as_deref()
                    .map(|u| u.name_in(lang).to_string()),
                candidates: d
                    .candidates
                    .iter()
                    .map(|c| {
                        (
                            c.ward.code.to_string(),
                            c.ward.name.to_string(),
                            c.unit
                                .as_deref()
                                .map(|u| u.name_in(lang).to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
                error: None,
            }
        }
    })
}

#[derive(Template)]
#[template(path = "file.html")]
struct FilePage {
    ui: Ui,
    code: String,
    name: String,
    documents: Vec<DocRow>,
    /// The applicant's digitised documents (id, label) a component may reuse.
    reusable: Vec<(String, String)>,
    f: FileForm,
    provinces: Vec<(String, String)>,
    wards: Vec<(String, String)>,
    legacy_provinces: Vec<(String, String)>,
    legacy_districts: Vec<(String, String)>,
    legacy_wards: Vec<(String, String)>,
    preview: Option<Preview>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "preview.html")]
struct PreviewFragment {
    ui: Ui,
    preview: Option<Preview>,
    f: FileForm,
}

async fn file_page(
    state: &AppState,
    ui: Ui,
    actor: &crate::domain::access::Actor,
    code: &str,
    f: FileForm,
    errors: Vec<String>,
    status: StatusCode,
) -> ApiResult<Response> {
    let lang = ui.lang;
    let (l, _) = crate::services::procedures::get(&state.db, code, None, Utc::now()).await?;
    let g = &state.gazetteer;
    let provinces = g
        .provinces()
        .iter()
        .map(|p| (p.code.to_string(), p.name.to_string()))
        .collect();
    let legacy_provinces = g
        .legacy_provinces()
        .iter()
        .map(|p| (p.code.to_string(), p.name.to_string()))
        .collect();
    let wards = picker_options(g, "ward", &f.province);
    let legacy_districts = picker_options(g, "legacy_district", &f.legacy_province);
    let legacy_wards = picker_options(g, "legacy_ward", &f.legacy_district);
    let documents = l
        .spec
        .required_documents
        .iter()
        .map(|d| DocRow {
            name: if lang == Lang::En {
                d.name_en.clone()
            } else {
                d.name_vi.clone()
            },
            mandatory: d.mandatory,
            kind: d.kind.clone(),
            upload: f.upload_of(&d.kind).map(str::to_string),
        })
        .collect();
    let reusable = crate::services::documents::reusable(&state.dossiers(), actor)
        .await?
        .into_iter()
        .map(|d| {
            (
                d.id.to_string(),
                format!("{} — {} ({})", d.file_name, ui::date(d.uploaded_at), d.kind),
            )
        })
        .collect();
    let preview = preview(state, code, &f, lang);
    Ok(page_with_status(
        status,
        &FilePage {
            code: l.stored.code.clone(),
            name: if lang == Lang::En {
                l.spec.name_en.clone()
            } else {
                l.spec.name_vi.clone()
            },
            documents,
            reusable,
            f,
            provinces,
            wards,
            legacy_provinces,
            legacy_districts,
            legacy_wards,
            preview,
            errors,
            ui,
        },
    ))
}

fn citizens_only() -> ApiError {
    ApiError::forbidden(text!(
        "Nộp hồ sơ trực tuyến dành cho tài khoản công dân, doanh nghiệp.",
        "Online filing is for citizens' and businesses' accounts."
    ))
}

/// `/procedures/{code}/file`: the filing form, with a fresh idempotency key.
pub async fn file_form(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    if s.actor.role != Role::Citizen {
        return Err(citizens_only());
    }
    let f = FileForm {
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        mode: "ward".into(),
        full_name: s.session.full_name.clone(),
        phone: s.session.phone.clone().unwrap_or_default(),
        ..Default::default()
    };
    file_page(&state, s.ui, &s.actor, &code, f, Vec::new(), StatusCode::OK).await
}

/// `POST /procedures/{code}/preview`: the resolution and routing of the address as typed
/// so far (htmx, on every change).
pub async fn file_preview(
    State(state): State<AppState>,
    b: Browser,
    Path(code): Path<String>,
    Form(f): Form<FileForm>,
) -> Response {
    let preview = preview(&state, &code, &f, b.ui.lang);
    page(&PreviewFragment {
        ui: b.ui,
        preview,
        f,
    })
}

/// `POST /procedures/{code}/file`: files the dossier under the form's idempotency key, so a
/// double click or a refresh files once; the form again, as typed, if a field is refused.
pub async fn file(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Form(f): Form<FileForm>,
) -> ApiResult<Response> {
    if s.actor.role != Role::Citizen {
        return Err(citizens_only());
    }
    let lang = s.ui.lang;
    let opt = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| Value::String(v.to_string()))
    };
    let mut applicant = Map::new();
    applicant.insert("full_name".into(), json!(f.full_name.trim()));
    for (k, v) in [
        ("id_number", &f.id_number),
        ("phone", &f.phone),
        ("email", &f.email),
    ] {
        if let Some(v) = opt(v) {
            applicant.insert(k.into(), v);
        }
    }
    let mut form = Map::new();
    if let Some(d) = opt(&f.details) {
        form.insert("details".into(), d);
    }
    let mut raw = json!({
        "procedure_code": code,
        "applicant": applicant,
        "address": f.address(),
        "channel": "online",
        "form": form,
        "documents": f.documents(),
    });
    for (k, v) in [
        ("received_at_unit", &f.received_at_unit),
        ("result_point", &f.result_point),
    ] {
        if let Some(v) = opt(v) {
            raw[k] = v;
        }
    }
    // Online, the fee is paid through the payment gateway; its reference proves it.
    if let Some(r) = opt(&f.payment_reference) {
        raw["payment_channel"] = json!("online_gateway");
        raw["payment_reference"] = r;
    }
    let key = f.idempotency_key.trim().to_string();
    let mut outcome = Err(ApiError::bad_request(
        "idempotency_key_required",
        text!(
            "Thiếu khóa chống nộp trùng.",
            "The idempotency key is missing."
        ),
    ));
    // A second click while the first is still being written is told to wait (409): wait
    // for the first one's answer instead, briefly.
    for _ in 0..50 {
        outcome = match crate::http::cases::parse_intake(&raw) {
            Ok(req) => {
                crate::services::intake::intake(
                    &state.dossiers(),
                    &s.actor,
                    req,
                    &raw,
                    Some(&key).filter(|k| !k.is_empty()).map(String::as_str),
                )
                .await
            }
            Err(e) => Err(e),
        };
        match &outcome {
            Err(e) if e.status() == StatusCode::CONFLICT => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            _ => break,
        }
    }
    use crate::services::intake::IntakeOutcome as O;
    match outcome {
        Ok(O::Created(d)) | Ok(O::Replayed(d)) => {
            Ok(Redirect::to(&format!("/cases/{}?done=submit", d.code_str())).into_response())
        }
        Ok(O::ReplayedBody { body, .. }) => {
            let code = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_string));
            Ok(Redirect::to(
                &code
                    .map(|c| format!("/cases/{c}"))
                    .unwrap_or("/me/cases".into()),
            )
            .into_response())
        }
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            let errors = problem_lines(&e, lang);
            file_page(&state, s.ui, &s.actor, &code, f, errors, status).await
        }
        Err(e) => Err(e),
    }
}

// ---- my dossiers --------------------------------------------------------------------------

struct Mine {
    code: String,
    procedure: String,
    status: String,
    step: usize,
    submitted: String,
    appointment: String,
    todo: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "my_cases.html")]
struct MyCases {
    ui: Ui,
    rows: Vec<Mine>,
}

/// Where a dossier is on the way from filing to result (for the status timeline, 1–4).
fn step_of(s: Status) -> usize {
    use Status as S;
    match s {
        S::Submitted | S::SupplementAtCounter | S::AwaitingRouting => 1,
        S::Received | S::Assigned => 2,
        S::Processing
        | S::AwaitingApproval
        | S::AwaitingAgency
        | S::SupplementRequested
        | S::AwaitingPayment => 3,
        _ => 4,
    }
}

/// `/me/cases`: the signed-in applicant's dossiers, newest first.
pub async fn my_cases(State(state): State<AppState>, s: Signed) -> ApiResult<Response> {
    let lang = s.ui.lang;
    let deps = state.dossiers();
    let (list, _) = svc::list(
        &deps,
        &s.actor,
        ListRequest {
            mine: true,
            ..Default::default()
        },
        0,
        200,
    )
    .await?;
    let rows = list
        .iter()
        .map(|d| Mine {
            code: d.code_str().to_string(),
            procedure: svc::procedure_name(&deps, d.procedure_code.as_str(), lang)
                .unwrap_or_else(|| d.procedure_code.to_string()),
            status: labels::status(d.status, lang).to_string(),
            step: step_of(d.status),
            submitted: ui::date_time(d.submitted_at),
            appointment: ui::opt_date_time(d.appointment_at),
            todo: match d.status {
                Status::SupplementRequested | Status::SupplementAtCounter => {
                    Some(if lang == Lang::En {
                        "Add the missing components"
                    } else {
                        "Cần bổ sung hồ sơ"
                    })
                }
                Status::AwaitingPayment => Some(if lang == Lang::En {
                    "Pay the fee"
                } else {
                    "Cần nộp phí, lệ phí"
                }),
                _ => None,
            },
        })
        .collect();
    Ok(page(&MyCases { ui: s.ui, rows }))
}
