//! `/api/v1/cases`: intake, actions, reads, events; unit and coordination queues; public
//! tracking.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::app::AppState;
use crate::domain::calendar::vn_offset;
use crate::domain::dossier::{DocumentRef, Dossier, PaymentChannel, RecordedEvent, ResultDelivery};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::{Action, Status};
use crate::error::{ApiError, ApiResult, FieldError, ProblemDocument};
use crate::http::address::AddressBody;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth, ClientAddr, ClientLang, RawJson};
use crate::http::Page;
use crate::services::cases::{self as svc, ActionRequest};
use crate::services::documents::IntakeDocument;
use crate::services::intake::{self, ApplicantIn, IntakeOutcome, IntakeRequest};
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit, list_cases))
        .routes(routes!(get_case))
        .routes(routes!(national_sync))
        .routes(routes!(notifications))
        .routes(routes!(case_events))
        .routes(routes!(act))
        .routes(routes!(unit_queue))
        .routes(routes!(coordination_queue))
        .routes(routes!(tracking))
}

/// A time shown in Asia/Ho_Chi_Minh (stored in UTC).
pub fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&vn_offset())
}

fn local_opt(t: Option<DateTime<Utc>>) -> Option<DateTime<FixedOffset>> {
    t.map(local)
}

/// The applicant, as an officer or the applicant sees them (or masked, in lists).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicantView {
    pub full_name: String,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The current step and its budget.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub key: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<DateTime<FixedOffset>>,
}

/// A dossier. Times are in Asia/Ho_Chi_Minh.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[schema(example = "01.00097.TTPVHCC-260302-0001")]
    pub code: String,
    pub procedure_code: String,
    pub procedure_version: i32,
    /// online, in_person or postal.
    pub channel: String,
    /// Internal status (state machine).
    pub status: Status,
    /// National status code (1–10).
    pub national_status: i16,
    /// Optimistic-concurrency version: send it back with actions.
    pub version: i32,
    pub applicant: ApplicantView,
    /// The address as given.
    pub address: Value,
    pub ward_code: Option<String>,
    pub province_code: String,
    pub receiving_unit: String,
    pub handling_unit: Option<String>,
    /// The agency that has the dossier for its part (liên thông), while `awaiting_agency`.
    pub consulted_unit: Option<String>,
    /// When the agency's share ends (on its calendar).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub consult_due_at: Option<DateTime<FixedOffset>>,
    /// The longer limit chosen at receipt (`limit_variants[].key` of the procedure version).
    pub limit_variant: Option<String>,
    pub assigned_to: Option<Uuid>,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: DateTime<FixedOffset>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<DateTime<FixedOffset>>,
    /// The legal deadline (moved only by supplement pauses; kept by apologies).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<DateTime<FixedOffset>>,
    /// The appointment given to the applicant (Form 01; changed by Form 04).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub appointment_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at_risk_at: Option<DateTime<FixedOffset>>,
    /// not_started, on_track, at_risk or overdue.
    pub sla_state: String,
    /// The clock is paused (supplement or payment).
    pub paused: bool,
    /// Working hours paused so far.
    pub paused_working_hours: f64,
    pub supplement_count: i32,
    pub step: Option<StepView>,
    pub outcome: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<DateTime<FixedOffset>>,
    /// How the result was handed over (`electronic`, `in_person`, `postal`), once returned
    /// and if recorded.
    #[schema(example = "electronic")]
    pub result_delivery: Option<String>,
    /// Where the applicant collects the result (a reception point of the province chosen at
    /// intake; absent: where it was received).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "01.00008.TTPVHCC")]
    pub result_point: Option<String>,
    /// The procedure's fee in the dossier's province when it was filed (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_vnd: Option<i64>,
    /// The fee still to pay (absent: none, or paid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_due_vnd: Option<i64>,
    /// An amount asked for with `request_payment`, until `confirm_payment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_due_vnd: Option<i64>,
    /// The receipts of what was paid, oldest first (omitted when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receipts: Vec<ReceiptView>,
    /// Dossier details (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Value>,
    /// How it was routed, in the caller's language (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingView>,
    /// A part of a bundled dossier (Decree 63/2024 liên thông): the bundle's code. Its
    /// result is returned with the bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_code: Option<String>,
    /// A bundle's parts, each a dossier at its competent unit (`GET` of the bundle only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<PartView>>,
}

/// A receipt (biên lai) on a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    /// `{dossier code}-BL{n}`.
    #[schema(example = "01.00004.TTPVHCC-260702-0001-BL1")]
    pub number: String,
    /// `fee` (the procedure's fee) or `requested` (asked for with `request_payment`).
    #[schema(example = "fee")]
    pub purpose: String,
    pub amount_vnd: i64,
    /// `cash`, `bank_transfer` or `online_gateway`.
    pub channel: PaymentChannel,
    pub reference: Option<String>,
    /// The unit that took it.
    pub unit: String,
    pub at: DateTime<FixedOffset>,
}

/// One part of a bundled dossier, as its bundle's page lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartView {
    pub code: String,
    pub procedure_code: String,
    pub handling_unit: Option<String>,
    pub status: Status,
    pub national_status: i16,
    pub due_at: Option<DateTime<FixedOffset>>,
    /// `approved` or `rejected` once decided.
    pub outcome: Option<String>,
    pub decided_at: Option<DateTime<FixedOffset>>,
    pub on_time: Option<bool>,
}

impl PartView {
    pub fn of(d: &Dossier) -> PartView {
        PartView {
            code: d.code_str().to_string(),
            procedure_code: d.procedure_code.to_string(),
            handling_unit: d.handling_unit.as_ref().map(|u| u.to_string()),
            status: d.status,
            national_status: i16::from(d.national_status()),
            due_at: local_opt(d.due_at),
            outcome: d.outcome.map(|o| o.as_str().to_string()),
            decided_at: local_opt(d.decided_at),
            on_time: d.on_time,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingView {
    pub status: Value,
    pub explanation: Vec<String>,
    pub candidates: Value,
}

/// How much personal data a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Lists: ID numbers and phones masked, no form or documents.
    List,
    /// The dossier page for its applicant or an officer in scope.
    Full,
}

impl CaseView {
    pub fn of(c: &Dossier, detail: Detail, lang: Lang) -> CaseView {
        let full = detail == Detail::Full;
        let a = &c.applicant;
        let applicant = ApplicantView {
            full_name: a.full_name.clone(),
            id_number: a.id_number.as_ref().map(|v| {
                if full {
                    v.as_str().to_string()
                } else {
                    v.masked()
                }
            }),
            tax_code: a.tax_code.as_ref().map(|t| t.as_str().to_string()),
            phone: a.phone.as_ref().map(|v| {
                if full {
                    v.as_str().to_string()
                } else {
                    v.masked()
                }
            }),
            email: if full {
                a.email.as_ref().map(|e| e.as_str().to_string())
            } else {
                None
            },
        };
        let routing = full.then(|| RoutingView {
            status: c.routing.get("status").cloned().unwrap_or(Value::Null),
            explanation: c
                .routing
                .get(if lang == Lang::En {
                    "explanation_en"
                } else {
                    "explanation_vi"
                })
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
            candidates: c.routing.get("candidates").cloned().unwrap_or(Value::Null),
        });
        CaseView {
            code: c.code_str().to_string(),
            procedure_code: c.procedure_code.to_string(),
            procedure_version: c.procedure_version,
            channel: c.channel.as_str().to_string(),
            status: c.status,
            national_status: i16::from(c.national_status()),
            version: c.version,
            applicant,
            address: c.address.clone(),
            ward_code: c.ward_code.map(|w| w.to_string()),
            province_code: c.province_code.to_string(),
            receiving_unit: c.receiving_unit.to_string(),
            handling_unit: c.handling_unit.as_ref().map(|u| u.to_string()),
            consulted_unit: c.consulted_unit.as_ref().map(|u| u.to_string()),
            consult_due_at: local_opt(c.consult_due_at),
            limit_variant: c.limit_variant.clone(),
            assigned_to: c.assigned_to,
            submitted_at: local(c.submitted_at),
            received_at: local_opt(c.received_at),
            due_at: local_opt(c.due_at),
            appointment_at: local_opt(c.appointment_at),
            at_risk_at: local_opt(c.at_risk_at),
            sla_state: c.sla_state.as_str().to_string(),
            paused: c.paused_at.is_some(),
            paused_working_hours: c.paused_working_secs as f64 / 3600.0,
            supplement_count: c.supplement_count,
            step: c.step.as_ref().map(|s| StepView {
                key: s.key.as_str().to_string(),
                started_at: local_opt(s.started_at),
                due_at: local_opt(s.due_at),
            }),
            outcome: c.outcome.map(|o| o.as_str().to_string()),
            decided_at: local_opt(c.decided_at),
            closed_at: local_opt(c.closed_at),
            result_delivery: c.result_delivery.map(|r| r.as_str().to_string()),
            result_point: c.result_point.as_ref().map(|u| u.to_string()),
            fee_vnd: c.fee_vnd,
            fee_due_vnd: c.fee_due(),
            payment_due_vnd: c.payment_due_vnd,
            receipts: c
                .receipts
                .iter()
                .map(|r| ReceiptView {
                    number: c.receipt_number(r),
                    purpose: match r.purpose {
                        crate::domain::dossier::ReceiptPurpose::Fee => "fee",
                        crate::domain::dossier::ReceiptPurpose::Requested => "requested",
                    }
                    .to_string(),
                    amount_vnd: r.amount_vnd,
                    channel: r.channel,
                    reference: r.reference.clone(),
                    unit: r.unit.to_string(),
                    at: r.at.with_timezone(&vn_offset()),
                })
                .collect(),
            form: full.then(|| c.form.clone()),
            documents: full.then(|| c.documents.clone()),
            routing,
            bundle_code: c.bundle_code.as_ref().map(|b| b.to_string()),
            parts: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantBody {
    #[schema(example = "Nguyễn Văn An")]
    pub full_name: String,
    /// 12-digit citizen ID (individuals).
    #[schema(example = "001203004567")]
    pub id_number: Option<String>,
    /// Business tax code.
    pub tax_code: Option<String>,
    #[schema(example = "0912345678")]
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A file named in a dossier: an upload (`POST /api/v1/uploads`) or, at filing, an earlier
/// digitised document of the applicant's to reuse; in an action, a component (what a
/// supplement request asks for) or an attached document.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentBody {
    /// A component of the procedure (e.g. `to_khai`).
    pub kind: String,
    /// Filing: an upload of the filer's, not yet used.
    pub upload_id: Option<Uuid>,
    /// Filing (citizens): an earlier digitised document of theirs, reused.
    pub reuse_document_id: Option<Uuid>,
    /// Actions: a document attached to the dossier.
    pub document_id: Option<Uuid>,
    /// No longer accepted (a file nobody received): 422 `upload_required`.
    #[schema(deprecated)]
    pub file_name: Option<String>,
    #[schema(deprecated)]
    pub sha256: Option<String>,
    #[schema(deprecated)]
    pub size: Option<u64>,
}

impl DocumentBody {
    /// The metadata-only shape of earlier versions, which asserted files nobody received.
    fn asserts_a_file(&self) -> bool {
        self.file_name.is_some() || self.sha256.is_some() || self.size.is_some()
    }
}

fn upload_required() -> ApiError {
    ApiError::unprocessable(
        "upload_required",
        text!(
            "Giấy tờ phải được tải lên (POST /api/v1/uploads) rồi gửi kèm upload_id; không nhận mô tả tệp không kèm tệp.",
            "Documents must be uploaded (POST /api/v1/uploads) and named by upload_id; a description without the file is not accepted."
        ),
    )
}

/// The documents of an intake: each an upload or a reuse.
fn intake_documents(docs: Vec<DocumentBody>) -> ApiResult<Vec<IntakeDocument>> {
    if docs.iter().any(DocumentBody::asserts_a_file) {
        return Err(upload_required());
    }
    let mut c = crate::error::Checks::default();
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.into_iter().enumerate() {
        match (d.upload_id, d.reuse_document_id, d.document_id) {
            (Some(upload_id), None, None) => out.push(IntakeDocument::Upload {
                kind: d.kind,
                upload_id,
            }),
            (None, Some(document_id), None) => out.push(IntakeDocument::Reuse {
                kind: d.kind,
                document_id,
            }),
            _ => c.push(FieldError::new(
                format!("documents[{i}]"),
                "upload_or_reuse",
                text!(
                    "Mỗi giấy tờ có đúng một trong upload_id và reuse_document_id.",
                    "Each document has exactly one of upload_id and reuse_document_id."
                ),
            )),
        }
    }
    c.finish()?;
    Ok(out)
}

/// The documents an action names.
fn action_documents(docs: Vec<DocumentBody>) -> ApiResult<Vec<DocumentRef>> {
    if docs.iter().any(DocumentBody::asserts_a_file) {
        return Err(upload_required());
    }
    Ok(docs
        .into_iter()
        .map(|d| DocumentRef {
            kind: d.kind,
            document_id: d.document_id,
        })
        .collect())
}

/// A dossier to file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeBody {
    #[schema(example = "1.001193")]
    pub procedure_code: String,
    pub applicant: ApplicantBody,
    pub address: AddressBody,
    /// Where it is received: a clerk's own unit (walk-in), or a service centre chosen online.
    pub received_at_unit: Option<String>,
    /// `online` (citizens), `in_person` or `postal` (clerks).
    pub channel: Option<String>,
    /// The procedure's form, free JSON (size-limited).
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub form: Value,
    #[serde(default)]
    pub documents: Vec<DocumentBody>,
    /// Where the applicant will collect the result: any reception point of the province for a
    /// procedure on the province's boundary-independent list (Decree 118/2025/NĐ-CP),
    /// else the receiving or the handling unit. Default: where it is received.
    #[schema(example = "01.00008.TTPVHCC")]
    pub result_point: Option<String>,
    /// The procedure's fee paid with the filing: online through the payment gateway
    /// (`online_gateway`, with its `payment_reference`), at the counter any channel.
    pub payment_channel: Option<PaymentChannel>,
    #[schema(max_length = 64)]
    pub payment_reference: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

pub(crate) fn parse_intake(raw: &Value) -> ApiResult<IntakeRequest> {
    let body: IntakeBody = serde_json::from_value(raw.clone()).map_err(|e| {
        let msg = e.to_string();
        ApiError::validation(vec![FieldError::new(
            "body",
            "invalid_body",
            text!(
                format!("Nội dung không đúng cấu trúc: {msg}"),
                format!("The body does not have the expected shape: {msg}")
            ),
        )])
    })?;
    let address = body.address.to_input("address")?;
    Ok(IntakeRequest {
        procedure_code: body.procedure_code,
        applicant: ApplicantIn {
            full_name: body.applicant.full_name,
            id_number: body.applicant.id_number,
            tax_code: body.applicant.tax_code,
            phone: body.applicant.phone,
            email: body.applicant.email,
        },
        address,
        address_raw: raw.get("address").cloned().unwrap_or(Value::Null),
        received_at_unit: body.received_at_unit,
        channel: body.channel,
        form: body.form,
        documents: intake_documents(body.documents)?,
        result_point: body.result_point,
        payment_channel: body.payment_channel.map(|c| c.as_str().to_string()),
        payment_reference: body.payment_reference,
    })
}

/// File a dossier: a citizen online (`Idempotency-Key` required), or a clerk for a walk-in
/// applicant at their own unit. Routed, numbered and recorded in one transaction. An
/// ambiguous address puts it in the province's coordination queue (`awaiting_routing`).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    security(("bearer" = [])),
    request_body = IntakeBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Required for online submissions; the same key and body replay the first answer")),
    responses(
        (status = 201, description = "Filed (replays carry `Idempotent-Replayed: true`)", body = CaseView),
        (status = 400, description = "Missing or bad Idempotency-Key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Unknown procedure", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "A request with the same key is in progress", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, a refused routing, or a key reused with another body", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn submit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    headers: HeaderMap,
    RawJson(raw): RawJson,
) -> ApiResult<Response> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                text!(
                    "Idempotency-Key không hợp lệ.",
                    "The Idempotency-Key is not valid."
                ),
            )
        })?),
        None => None,
    };
    let req = parse_intake(&raw)?;
    match intake::intake(&state.dossiers(), &actor, req, &raw, key).await? {
        IntakeOutcome::Created(case) => Ok((
            StatusCode::CREATED,
            ApiJson(CaseView::of(&case, Detail::Full, lang)),
        )
            .into_response()),
        IntakeOutcome::Replayed(case) => {
            let mut res = (
                StatusCode::CREATED,
                ApiJson(CaseView::of(&case, Detail::Full, lang)),
            )
                .into_response();
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(res)
        }
        IntakeOutcome::ReplayedBody { status, body } => {
            let mut res = (
                StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
                body,
            )
                .into_response();
            res.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(res)
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the caller's own dossiers (citizens always see only theirs).
    pub mine: Option<bool>,
    /// Comma-separated internal statuses.
    #[param(
        pattern = r"^ *(submitted|supplement_at_counter|awaiting_routing|received|assigned|processing|awaiting_approval|awaiting_agency|supplement_requested|awaiting_payment|withdrawal_requested|refused|stopped|decided|returned) *(, *(submitted|supplement_at_counter|awaiting_routing|received|assigned|processing|awaiting_approval|awaiting_agency|supplement_requested|awaiting_payment|withdrawal_requested|refused|stopped|decided|returned) *)*$"
    )]
    pub status: Option<String>,
    #[param(pattern = r"^[0-9]{1,2}\.[0-9]{6,7}(\.[0-9]{1,2})?$")]
    pub procedure: Option<String>,
    /// Only dossiers not yet closed.
    pub open: Option<bool>,
    #[param(pattern = r"^(not_started|on_track|at_risk|overdue)$")]
    pub sla_state: Option<String>,
    /// Staff only: the dossiers of the applicant with this citizen ID number (12 digits),
    /// found through its blind index (the number itself is stored sealed).
    #[param(pattern = r"^[0-9]{12}$")]
    pub applicant_id_number: Option<String>,
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// Dossiers within the caller's scope, newest first; personal data masked.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, body = Page<CaseView>),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_cases(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<Page<CaseView>>> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let req = svc::ListRequest {
        mine: q.mine == Some(true),
        statuses: svc::parse_statuses(q.status.as_deref())?,
        procedure: q.procedure,
        open_only: q.open.unwrap_or(false),
        sla_state: q.sla_state,
        applicant_id_number: q.applicant_id_number,
    };
    let (rows, total) = svc::list(
        &state.dossiers(),
        &actor,
        req,
        (page - 1) * per_page,
        per_page,
    )
    .await?;
    Ok(ApiJson(Page {
        items: rows
            .iter()
            .map(|c| CaseView::of(c, Detail::List, lang))
            .collect(),
        page,
        per_page,
        total,
    }))
}

/// One dossier (404 outside the caller's scope). Administrators' reads are logged.
#[utoipa::path(get, path = "/api/v1/cases/{code}", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    responses(
        (status = 200, body = CaseView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_case(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let deps = state.dossiers();
    let (case, _) = svc::get(&deps, &actor, &code).await?;
    let mut view = CaseView::of(&case, Detail::Full, lang);
    if case.bundle_code.is_none() {
        let parts = crate::services::bundles::parts(&deps, &case).await?;
        view.parts = (!parts.is_empty()).then(|| parts.iter().map(PartView::of).collect());
    }
    let mut res = ApiJson(view).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", case.version)) {
        res.headers_mut().insert(axum::http::header::ETAG, v);
    }
    Ok(res)
}

/// Whether the national public-service portal holds the dossier up to its last public
/// step, and the last attempt and error (staff with access to the dossier).
#[utoipa::path(get, path = "/api/v1/cases/{code}/national-sync", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    responses(
        (status = 200, body = crate::services::national::SyncStatus),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn national_sync(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<crate::services::national::SyncStatus>> {
    actor.require_staff()?;
    let (case, _) = svc::get(&state.dossiers(), &actor, &code).await?;
    Ok(ApiJson(
        crate::services::national::status(&state.db, case.id).await?,
    ))
}

/// The messages sent to the applicant about the dossier (e-mail, SMS) and their delivery
/// status: to staff with access to the dossier and to the applicant.
#[utoipa::path(get, path = "/api/v1/cases/{code}/notifications", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    responses(
        (status = 200, body = Vec<crate::services::tell::MessageStatus>),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn notifications(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<crate::services::tell::MessageStatus>>> {
    let (case, _) = svc::get(&state.dossiers(), &actor, &code).await?;
    Ok(ApiJson(
        crate::services::tell::of_case(&state.db, case.id).await?,
    ))
}

/// One step of a dossier's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i32,
    pub action: String,
    pub actor_role: String,
    /// Officers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    pub actor_unit: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub data: Value,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
}

impl EventView {
    fn of(e: &RecordedEvent, officer: bool) -> EventView {
        EventView {
            seq: e.seq,
            action: e.action.clone(),
            actor_role: e.actor_role.clone(),
            actor_id: if officer { e.actor_id } else { None },
            actor_unit: e.actor_unit.clone(),
            from_status: e.from_status.clone(),
            to_status: e.to_status.clone(),
            reason: e.reason.clone(),
            data: e.data.clone(),
            at: local(e.at),
        }
    }
}

/// A dossier's history: every step for officers, the public ones for the applicant.
#[utoipa::path(get, path = "/api/v1/cases/{code}/events", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    responses(
        (status = 200, body = Vec<EventView>),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn case_events(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<EventView>>> {
    let (events, scope) = svc::history(&state.dossiers(), &actor, &code).await?;
    let officer = scope.is_officer();
    Ok(ApiJson(
        events.iter().map(|e| EventView::of(e, officer)).collect(),
    ))
}

/// The fields of an action. `version` (or an `If-Match` header) is required.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// The dossier's current version.
    pub version: Option<i32>,
    /// Required for refuse, request_supplement, reject, stop (by a unit head), transfer,
    /// apologize_and_extend, send_to_agency.
    pub reason: Option<String>,
    /// `assign` in the coordination queue, `transfer` and `send_to_agency`: the target unit
    /// code.
    pub unit: Option<String>,
    /// `send_to_agency`: the agency's share of the time limit, in its working days (it must
    /// end by the dossier's deadline).
    #[schema(minimum = 1, maximum = 365)]
    pub working_days: Option<u32>,
    /// `receive`: the key of a longer limit the procedure allows in a named case
    /// (`limit_variants[].key`, e.g. verification needed); needs a `reason`.
    #[schema(max_length = 64)]
    pub variant: Option<String>,
    /// `assign` by a unit head: the clerk's account id.
    pub assignee: Option<Uuid>,
    /// `request_payment`: the amount in VND.
    pub amount_vnd: Option<i64>,
    /// `apologize_and_extend`: the new appointment (RFC 3339).
    pub new_appointment_at: Option<DateTime<Utc>>,
    /// `submit_supplement`: the documents added (each `{kind, document_id}`).
    #[serde(default)]
    pub documents: Vec<DocumentBody>,
    /// `request_supplement` (required): the missing components, as the procedure's component
    /// kinds (`required_documents[].kind`); Form 02 lists them. Files that do not exist yet are
    /// never described.
    #[serde(default)]
    #[schema(max_items = 50, example = json!(["giay_chung_sinh"]))]
    pub components: Vec<String>,
    pub note: Option<String>,
    /// `return_result`: how the result was handed over: `electronic`, `in_person` or
    /// `postal` (Decision 766's indicator 3.3 counts online dossiers with an electronic one).
    pub result_delivery: Option<ResultDelivery>,
    /// `confirm_payment` (required) and `receive` (to take the procedure's fee at the
    /// counter): how it was paid.
    pub payment_channel: Option<PaymentChannel>,
    /// `confirm_payment` / `receive`: the bank transfer's or the payment gateway's reference
    /// (required unless `cash`; 1–64 letters, digits, `.`, `_`, `/`, `-`).
    #[schema(max_length = 64, example = "FT26338123456")]
    pub payment_reference: Option<String>,
}

fn if_match(headers: &HeaderMap) -> ApiResult<Option<i32>> {
    let Some(v) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .unwrap_or("")
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"');
    s.parse::<i32>().map(Some).map_err(|_| {
        ApiError::bad_request(
            "invalid_if_match",
            text!(
                "If-Match phải là phiên bản hồ sơ.",
                "If-Match must be the dossier version."
            ),
        )
    })
}

/// Do something to a dossier. Each action checks role, unit scope and current status; an
/// impossible one is 409 `invalid_transition` and changes nothing.
#[utoipa::path(post, path = "/api/v1/cases/{code}/actions/{action}", tag = "cases",
    security(("bearer" = [])),
    params(
        ("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60),
        ("action" = Action, Path, description = "The action (the state machine's list)"),
        ("If-Match" = Option<String>, Header, description = "The dossier version, instead of `version` in the body"),
    ),
    request_body = ActionBody,
    responses(
        (status = 200, description = "The dossier after the action", body = CaseView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Unknown dossier or action", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition, version_conflict, already_claimed, parts_pending (a bundle decided before its parts) or bundle_part (a part returned or withdrawn on its own)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 428, description = "No version given", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn act(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    headers: HeaderMap,
    ApiPath((code, action)): ApiPath<(String, String)>,
    body: Option<ApiJson<ActionBody>>,
) -> ApiResult<ApiJson<CaseView>> {
    let action = Action::parse(&action).ok_or_else(|| {
        ApiError::not_found(
            "unknown_action",
            text!(
                format!("Không có thao tác '{action}'."),
                format!("There is no action '{action}'.")
            ),
        )
    })?;
    let body = body.map(|ApiJson(b)| b).unwrap_or_default();
    let version = body.version.or(if_match(&headers)?);
    let case = svc::act(
        &state.dossiers(),
        &actor,
        &code,
        action,
        ActionRequest {
            version,
            reason: body.reason,
            unit: body.unit,
            assignee: body.assignee,
            amount_vnd: body.amount_vnd,
            new_appointment_at: body.new_appointment_at,
            documents: action_documents(body.documents)?,
            components: body.components,
            working_days: body.working_days,
            variant: body.variant,
            note: body.note,
            result_delivery: body.result_delivery,
            payment_channel: body.payment_channel.map(|c| c.as_str().to_string()),
            payment_reference: body.payment_reference,
        },
    )
    .await?;
    Ok(ApiJson(CaseView::of(&case, Detail::Full, lang)))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Comma-separated statuses.
    #[param(
        pattern = r"^ *(submitted|supplement_at_counter|awaiting_routing|received|assigned|processing|awaiting_approval|awaiting_agency|supplement_requested|awaiting_payment|withdrawal_requested|refused|stopped|decided|returned) *(, *(submitted|supplement_at_counter|awaiting_routing|received|assigned|processing|awaiting_approval|awaiting_agency|supplement_requested|awaiting_payment|withdrawal_requested|refused|stopped|decided|returned) *)*$"
    )]
    pub status: Option<String>,
    /// true: only claimed or assigned; false: only unclaimed.
    pub claimed: Option<bool>,
    /// Only dossiers assigned to this clerk (`me` for the caller).
    pub assignee: Option<String>,
    /// `urgency` (default: overdue first, then the nearest deadline) or `received_at`.
    #[param(pattern = r"^(urgency|received_at)$")]
    pub sort: Option<String>,
    /// Only dossiers of this procedure.
    #[param(pattern = r"^[0-9]{1,2}\.[0-9]{6,7}(\.[0-9]{1,2})?$")]
    pub procedure: Option<String>,
    /// Only dossiers in this SLA state.
    #[param(pattern = r"^(not_started|on_track|at_risk|overdue)$")]
    pub sla_state: Option<String>,
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A unit's queue, for its clerks and head (and supervisors over its province): open
/// dossiers it handles and online dossiers waiting for it to receive them.
#[utoipa::path(get, path = "/api/v1/units/{unit_code}/queue", tag = "cases",
    security(("bearer" = [])),
    params(("unit_code" = String, Path, description = "Unit code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$", max_length = 40), QueueQuery),
    responses(
        (status = 200, body = Page<CaseView>),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn unit_queue(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiPath(unit_code): ApiPath<String>,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<ApiJson<Page<CaseView>>> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let req = svc::QueueRequest {
        statuses: q.status,
        claimed: q.claimed,
        assignee: q.assignee,
        sort: q.sort,
        procedure: q.procedure,
        sla_state: q.sla_state,
    };
    let (rows, total) = svc::queue(
        &state.dossiers(),
        &actor,
        &unit_code,
        req,
        (page - 1) * per_page,
        per_page,
    )
    .await?;
    Ok(ApiJson(Page {
        items: rows
            .iter()
            .map(|c| CaseView::of(c, Detail::List, lang))
            .collect(),
        page,
        per_page,
        total,
    }))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A province's dossiers awaiting routing (ambiguous addresses), for its coordinators:
/// supervisors over the province and the staff of its units. Pick the unit with `assign`.
#[utoipa::path(get, path = "/api/v1/provinces/{code}/coordination-queue", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Province code", pattern = r"^(0?[1-9]|[1-9][0-9])$"), PageQuery),
    responses(
        (status = 200, body = Page<CaseView>),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn coordination_queue(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ClientLang(lang): ClientLang,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<ApiJson<Page<CaseView>>> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let (rows, total) = svc::coordination_queue(
        &state.dossiers(),
        &actor,
        &code,
        (page - 1) * per_page,
        per_page,
    )
    .await?;
    // Masked like every list: the queue is open to every clerk of the province so that one
    // of them picks the dossier up, but only the unit it goes to sees it whole.
    Ok(ApiJson(Page {
        items: rows
            .iter()
            .map(|c| CaseView::of(c, Detail::List, lang))
            .collect(),
        page,
        per_page,
        total,
    }))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackingQuery {
    /// The last four digits of the applicant's ID number (or tax code).
    pub id_last4: String,
}

/// What anyone with the code and the last four ID digits may know.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingView {
    pub code: String,
    pub status: Status,
    pub national_status: i16,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub appointment_at: Option<DateTime<FixedOffset>>,
    /// An electronic result is issued and waits for the applicant, who downloads it after
    /// signing in (tracking never gives the file).
    pub result_ready: bool,
}

/// Public tracking without an account: status and appointment date only.
#[utoipa::path(get, path = "/api/v1/tracking/{code}", tag = "cases",
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60), TrackingQuery),
    responses(
        (status = 200, body = TrackingView),
        (status = 404, description = "No dossier with that code and digits", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed look-ups from this client", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn tracking(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<TrackingQuery>,
) -> ApiResult<ApiJson<TrackingView>> {
    let case = svc::track(&state.dossiers(), &code, &q.id_last4, client.as_deref()).await?;
    Ok(ApiJson(TrackingView {
        code: case.code_str().to_string(),
        status: case.status,
        national_status: i16::from(case.national_status()),
        appointment_at: local_opt(case.appointment_at),
        result_ready: case.result_ready(),
    }))
}
