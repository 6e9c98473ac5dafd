//! Dossier use cases: intake, actions through the state machine, reads within scope.
//!
//! Every change happens in one write transaction that also appends the dossier's event and an
//! outbox row, so an acknowledged dossier and its history are never lost or half-written.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::cases;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, IntoActiveModel};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::domain::access::{Actor, CaseFacts, CaseScope};
use crate::domain::account::{IdNumber, Phone, Role, TaxCode};
use crate::domain::calendar::{vn_offset, WorkCalendar};
use crate::domain::dossier::{Channel, DossierCode};
use crate::domain::geography::AddressInput;
use crate::domain::lifecycle::{
    self, Action, Effect, Facts, Input, PauseReason, Status, TransitionError,
};
use crate::domain::procedure::ProcedureSpec;
use crate::domain::routing::{RouteStatus, UnitInfo};
use crate::domain::sla::{self, SlaState};
use crate::domain::unit::UnitCode;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::services::auth::{check_full_name, Checks};
use crate::services::intake_writer;
use crate::text;

/// The applicant as given at intake.
#[derive(Debug, Clone, Default)]
pub struct ApplicantIn {
    pub full_name: String,
    pub id_number: Option<String>,
    pub tax_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// A submitted document (the file itself lives in the document store; we keep its digest).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DocumentIn {
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
}

/// A dossier as submitted.
#[derive(Debug, Clone)]
pub struct IntakeRequest {
    pub procedure_code: String,
    pub applicant: ApplicantIn,
    pub address: AddressInput,
    /// The address as the applicant wrote it, kept on the dossier.
    pub address_raw: Value,
    pub received_at_unit: Option<String>,
    pub channel: Option<String>,
    pub form: Value,
    pub documents: Vec<DocumentIn>,
}

/// The answer to an intake: the dossier, or the stored answer to an earlier identical request.
pub enum IntakeOutcome {
    Created(Box<cases::Model>),
    Replayed { status: u16, body: String },
}

/// Renders the response body of a created dossier (kept for idempotent replays).
pub type Render = std::sync::Arc<dyn Fn(&cases::Model) -> String + Send + Sync>;

const IDEMPOTENCY_STALE_SECS: i64 = 60;

fn hash_body(v: &Value) -> String {
    // serde_json's map keeps keys sorted, so equal bodies serialise identically.
    hex::encode(Sha256::digest(serde_json::to_vec(v).unwrap_or_default()))
}

fn check_idempotency_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            text!(
                "Idempotency-Key phải gồm 1–255 ký tự ASCII in được.",
                "Idempotency-Key must be 1–255 printable ASCII characters."
            ),
        ));
    }
    Ok(())
}

/// Submit a dossier. `raw_body` is the request body as received (for idempotency).
pub async fn intake(
    state: &AppState,
    actor: &Actor,
    req: IntakeRequest,
    raw_body: &Value,
    idempotency_key: Option<&str>,
    render: Render,
) -> ApiResult<IntakeOutcome> {
    let online = actor.role == Role::Citizen;
    if online && idempotency_key.is_none() {
        return Err(ApiError::bad_request(
            "idempotency_key_required",
            text!(
                "Nộp hồ sơ trực tuyến cần tiêu đề Idempotency-Key.",
                "Online submissions need an Idempotency-Key header."
            ),
        ));
    }
    let Some(key) = idempotency_key else {
        return create(state, actor, req, None, render)
            .await
            .map(|m| IntakeOutcome::Created(Box::new(m)));
    };
    check_idempotency_key(key)?;
    let hash = hash_body(raw_body);
    let now = Utc::now();
    let owned = repo::idempotency::try_begin(&state.db, actor.account_id, key, &hash, now).await?
        || repo::idempotency::take_over_stale(
            &state.db,
            actor.account_id,
            key,
            &hash,
            now,
            now - Duration::seconds(IDEMPOTENCY_STALE_SECS),
        )
        .await?;
    if !owned {
        let existing = repo::idempotency::get(&state.db, actor.account_id, key).await?;
        return match existing {
            Some(row) if row.request_hash != hash => Err(ApiError::unprocessable(
                "idempotency_key_reused",
                text!(
                    "Idempotency-Key này đã được dùng cho một yêu cầu khác.",
                    "This Idempotency-Key was used for a different request."
                ),
            )),
            Some(row) if row.state == "completed" => Ok(IntakeOutcome::Replayed {
                status: row.response_status.unwrap_or(201) as u16,
                body: row.response_body.unwrap_or_default(),
            }),
            _ => Err(ApiError::conflict(
                "idempotency_in_progress",
                text!(
                    "Một yêu cầu với cùng Idempotency-Key đang được xử lý.",
                    "A request with the same Idempotency-Key is being processed."
                ),
            )),
        };
    }
    match create(state, actor, req, Some(key), render).await {
        Ok(m) => Ok(IntakeOutcome::Created(Box::new(m))),
        Err(e) => {
            // Free the key so that a corrected retry can use it.
            if let Err(db) = repo::idempotency::release(&state.db, actor.account_id, key).await {
                tracing::warn!(error = %db, "could not release an idempotency key");
            }
            Err(e)
        }
    }
}

struct Validated {
    procedure_code: String,
    applicant_name: String,
    id_number: Option<String>,
    tax_code: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    channel: Channel,
}

fn validate(state: &AppState, actor: &Actor, req: &IntakeRequest) -> ApiResult<Validated> {
    let mut c = Checks::default();
    let name = c.take(check_full_name(&req.applicant.full_name).map_err(|mut e| {
        e.field = "applicant.full_name";
        e
    }));
    let id_number = req.applicant.id_number.as_deref().and_then(|v| {
        c.take(
            IdNumber::parse(v)
                .map(|i| i.as_str().to_string())
                .map_err(|mut e| {
                    e.field = "applicant.id_number";
                    e
                }),
        )
    });
    let tax_code = req.applicant.tax_code.as_deref().and_then(|v| {
        c.take(
            TaxCode::parse(v)
                .map(|t| t.as_str().to_string())
                .map_err(|mut e| {
                    e.field = "applicant.tax_code";
                    e
                }),
        )
    });
    if req.applicant.id_number.is_none() && req.applicant.tax_code.is_none() {
        c.push(FieldError::new(
            "applicant",
            "id_number_or_tax_code_required",
            text!(
                "Cần số định danh cá nhân (công dân) hoặc mã số thuế (doanh nghiệp).",
                "A citizen ID number or a business tax code is required."
            ),
        ));
    }
    let phone = req.applicant.phone.as_deref().and_then(|v| {
        c.take(
            Phone::parse(v)
                .map(|p| p.as_str().to_string())
                .map_err(|mut e| {
                    e.field = "applicant.phone";
                    e
                }),
        )
    });
    if req.applicant.phone.is_none() {
        c.push(FieldError::new(
            "applicant.phone",
            "required",
            text!(
                "Cần số điện thoại liên hệ.",
                "A contact phone number is required."
            ),
        ));
    }
    let email = req.applicant.email.as_deref().and_then(|v| {
        c.take(
            crate::domain::account::Email::parse(v)
                .map(|m| m.as_str().to_string())
                .map_err(|mut e| {
                    e.field = "applicant.email";
                    e
                }),
        )
    });
    if !req.form.is_object() {
        c.push(FieldError::new(
            "form",
            "invalid_form",
            text!(
                "Tờ khai phải là một đối tượng JSON.",
                "The form must be a JSON object."
            ),
        ));
    } else if serde_json::to_vec(&req.form)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
        > state.settings.intake.form_max_bytes
    {
        c.push(FieldError::new(
            "form",
            "form_too_large",
            text!(
                format!(
                    "Tờ khai vượt quá {} byte.",
                    state.settings.intake.form_max_bytes
                ),
                format!(
                    "The form exceeds {} bytes.",
                    state.settings.intake.form_max_bytes
                )
            ),
        ));
    }
    if req.documents.len() > state.settings.intake.max_documents {
        c.push(FieldError::new(
            "documents",
            "too_many_documents",
            text!("Quá nhiều giấy tờ.", "Too many documents."),
        ));
    }
    for (i, d) in req.documents.iter().enumerate() {
        let bad = |field: &str, code: &'static str, vi: &str, en: &str| {
            FieldError::new(
                format!("documents[{i}].{field}"),
                code,
                text!(vi.to_string(), en.to_string()),
            )
        };
        if d.kind.trim().is_empty() || d.kind.len() > 64 {
            c.push(bad(
                "kind",
                "invalid_document_kind",
                "Loại giấy tờ không hợp lệ.",
                "Invalid document kind.",
            ));
        }
        if d.file_name.trim().is_empty()
            || d.file_name.chars().count() > 255
            || d.file_name.chars().any(char::is_control)
        {
            c.push(bad(
                "file_name",
                "invalid_file_name",
                "Tên tệp không hợp lệ.",
                "Invalid file name.",
            ));
        }
        if d.sha256.len() != 64 || !d.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            c.push(bad(
                "sha256",
                "invalid_sha256",
                "Mã băm SHA-256 phải gồm 64 ký tự hex.",
                "SHA-256 must be 64 hex characters.",
            ));
        }
        if d.size == 0 || d.size > 100 * 1024 * 1024 {
            c.push(bad(
                "size",
                "invalid_size",
                "Kích thước tệp không hợp lệ (tối đa 100 MiB).",
                "Invalid file size (at most 100 MiB).",
            ));
        }
    }
    let channel = match (actor.role, req.channel.as_deref()) {
        (Role::Citizen, None | Some("online")) => Some(Channel::Online),
        (Role::Citizen, Some(_)) => {
            c.push(FieldError::new(
                "channel",
                "invalid_channel",
                text!("Công dân chỉ nộp trực tuyến.", "Citizens file online only."),
            ));
            None
        }
        (Role::Clerk | Role::UnitHead, None) => Some(Channel::InPerson),
        (Role::Clerk | Role::UnitHead, Some(ch)) => match Channel::parse(ch) {
            Some(Channel::Online) | None => {
                c.push(FieldError::new(
                    "channel",
                    "invalid_channel",
                    text!(
                        "Cán bộ tiếp nhận trực tiếp (in_person) hoặc qua bưu chính (postal).",
                        "Clerks take dossiers in person (in_person) or by post (postal)."
                    ),
                ));
                None
            }
            some => some,
        },
        // Other roles were turned away by `check_filer`.
        _ => Some(Channel::InPerson),
    };
    c.finish()?;
    Ok(Validated {
        procedure_code: req.procedure_code.trim().to_string(),
        applicant_name: name.expect("checked"),
        id_number,
        tax_code,
        phone,
        email,
        channel: channel.expect("checked"),
    })
}

/// Who may file: citizens online, clerks and unit heads at their reception unit.
fn check_filer(actor: &Actor, received_at: Option<&str>) -> ApiResult<Option<String>> {
    match actor.role {
        Role::Citizen => Ok(received_at.map(str::to_string)),
        Role::Clerk | Role::UnitHead => {
            let unit = actor.unit.as_ref().map(|u| u.to_string()).ok_or_else(|| {
                ApiError::from(crate::domain::access::Denied { reason: "no_unit" })
            })?;
            if let Some(given) = received_at {
                if given != unit {
                    return Err(ApiError::invalid_field(
                        "received_at_unit",
                        "not_your_unit",
                        text!(
                            "Hồ sơ trực tiếp được tiếp nhận tại đơn vị của cán bộ.",
                            "A walk-in dossier is received at the clerk's own unit."
                        ),
                    ));
                }
            }
            Ok(Some(unit))
        }
        _ => Err(ApiError::forbidden(text!(
            "Chỉ công dân và cán bộ tiếp nhận được nộp hồ sơ.",
            "Only citizens and reception clerks file dossiers."
        ))),
    }
}

fn local_day(t: DateTime<Utc>) -> chrono::NaiveDate {
    t.with_timezone(&vn_offset()).date_naive()
}

/// The at-risk share of a procedure.
fn risk_ratio(state: &AppState, spec: &ProcedureSpec) -> f64 {
    spec.at_risk_ratio
        .unwrap_or(state.settings.sla.at_risk_ratio)
}

fn calendar_for(state: &AppState, unit: Option<&UnitInfo>) -> std::sync::Arc<WorkCalendar> {
    let cals = state.calendars.current();
    match unit {
        Some(u) => cals.for_hours(&u.working_hours),
        None => cals.default_calendar(),
    }
}

fn calendar_error(e: crate::domain::calendar::CalendarError) -> ApiError {
    ApiError::unprocessable(
        "outside_calendar",
        text!(
            format!("Không tính được thời hạn: {e}"),
            format!("The deadline cannot be computed: {e}")
        ),
    )
}

/// Start the legal clock on a dossier row.
fn start_clock(
    state: &AppState,
    am: &mut cases::ActiveModel,
    spec: &ProcedureSpec,
    unit: Option<&UnitInfo>,
    now: DateTime<Utc>,
) -> ApiResult<sla::Schedule> {
    let cal = calendar_for(state, unit);
    let s =
        sla::schedule(&cal, now, spec.limit(), risk_ratio(state, spec)).map_err(calendar_error)?;
    let st = sla::state_at(now, s.at_risk_at, s.due_at);
    am.received_at = Set(Some(now));
    am.due_at = Set(Some(s.due_at));
    am.original_due_at = Set(Some(s.due_at));
    am.appointment_at = Set(Some(s.due_at));
    am.at_risk_at = Set(Some(s.at_risk_at));
    am.sla_state = Set(st.as_str().to_string());
    am.next_check_at = Set(sla::next_check(st, s.at_risk_at, s.due_at));
    Ok(s)
}

/// Set the current step and its due time from the procedure's hour budgets.
fn enter_step(
    am: &mut cases::ActiveModel,
    spec: &ProcedureSpec,
    status: Status,
    cal: &WorkCalendar,
    now: DateTime<Utc>,
) {
    match sla::step_of(status) {
        Some(key) => {
            am.step_key = Set(Some(key.as_str().to_string()));
            am.step_started_at = Set(Some(now));
            let due = spec
                .steps
                .iter()
                .find(|s| s.key == key)
                .and_then(|s| cal.add_working_secs(now, s.hours as i64 * 3600).ok());
            am.step_due_at = Set(due);
        }
        None if status.is_final() => {
            am.step_key = Set(None);
            am.step_started_at = Set(None);
            am.step_due_at = Set(None);
        }
        None => {}
    }
}

/// The key of the dossier code in [`sync_payload`].
pub const SYNC_CODE_KEY: &str = "MaHoSo";

/// The national portal's view of a dossier (DongBoHoSoMC fields), for outbox payloads.
pub fn sync_payload(c: &cases::Model, event: &str, at: DateTime<Utc>) -> Value {
    let fmt = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&vn_offset())
                .format("%Y%m%d%H%M%S")
                .to_string()
        })
    };
    json!({
        "event": event,
        "at": at,
        SYNC_CODE_KEY: c.code,
        "MaTTHC": c.procedure_code,
        "TrangThaiHoSo": c.national_status,
        "KenhThucHien": Channel::parse(&c.channel).map(Channel::national),
        "NgayTiepNhan": fmt(c.received_at),
        "NgayHenTra": fmt(c.appointment_at),
        "HanXuLy": fmt(c.due_at),
        "NgayKetThucXuLy": fmt(c.decided_at),
        "NgayTra": fmt(c.closed_at.filter(|_| c.status == "returned")),
        "DonViTiepNhan": c.receiving_unit,
        "DonViXuLy": c.handling_unit,
        "status": c.status,
        "sla_state": c.sla_state,
    })
}

/// Who is told about an event: the applicant for public steps, the handling unit's staff
/// for internal ones.
fn recipients(c: &cases::Model, public: bool) -> Value {
    let mut r = Vec::new();
    if public {
        if let Some(a) = c.applicant_account_id {
            r.push(json!({"kind": "applicant", "account_id": a}));
        }
    }
    if let Some(u) = &c.handling_unit {
        r.push(json!({"kind": "unit", "unit": u}));
    } else {
        r.push(json!({"kind": "unit", "unit": c.receiving_unit}));
    }
    Value::Array(r)
}

async fn create(
    state: &AppState,
    actor: &Actor,
    req: IntakeRequest,
    idempotency_key: Option<&str>,
    render: Render,
) -> ApiResult<cases::Model> {
    let received_at_unit = check_filer(actor, req.received_at_unit.as_deref())?;
    let v = validate(state, actor, &req)?;
    // Microseconds, as PostgreSQL stores them: the dossier returned is built from these
    // values, not read back, and must equal what a later read gives.
    let now = Utc::now().trunc_subsecs(6);
    // Routing reads nothing from the database (catalog and units are in memory), so a
    // dossier that cannot be routed never opens a transaction.
    let routed = crate::services::routing::route(
        state,
        &v.procedure_code,
        &req.address,
        received_at_unit.as_deref(),
        now,
    )?;
    let spec = routed.procedure.spec()?;
    let d = &routed.decision;
    let directory = state.directory();

    let (status, receiving, handling, province, ward) = match d.status {
        RouteStatus::Rejected => {
            let r = d.rejection.expect("a rejection has a reason");
            let lines = d.render(crate::domain::lang::Lang::Vi);
            let lines_en = d.render(crate::domain::lang::Lang::En);
            return Err(ApiError::unprocessable(
                r.code(),
                text!(lines.join(" "), lines_en.join(" ")),
            ));
        }
        RouteStatus::Routed => {
            let receiving = d.receiving_unit.clone().expect("routed");
            let handling = d.handling_unit.clone().expect("routed");
            let ward = d.ward.as_ref().map(|w| w.code.to_string());
            (
                Status::Submitted,
                receiving,
                Some(handling),
                d.province().unwrap_or_default(),
                ward,
            )
        }
        RouteStatus::Ambiguous => {
            let provinces: std::collections::BTreeSet<String> = d
                .candidates
                .iter()
                .map(|c| c.ward.province_code.to_string())
                .collect();
            if provinces.len() != 1 {
                return Err(ApiError::unprocessable(
                    "address_ambiguous_across_provinces",
                    text!(
                        "Địa chỉ có thể thuộc nhiều tỉnh; hãy ghi rõ tỉnh/thành phố.",
                        "The address may be in several provinces; give the province."
                    ),
                ));
            }
            let province = provinces.into_iter().next().unwrap_or_default();
            // The province's coordination queue: received at the clerk's unit, or (online) at
            // the province's service centre.
            let receiving = match &received_at_unit {
                Some(u) => directory.unit(u).cloned(),
                None => directory
                    .competent(
                        crate::domain::unit::UnitKind::ProvinceServiceCentre,
                        &province,
                        "",
                    )
                    .cloned(),
            }
            .ok_or_else(|| {
                ApiError::unprocessable(
                    "no_reception_unit",
                    text!("Không có đơn vị tiếp nhận.", "There is no reception unit."),
                )
            })?;
            if receiving.province_code != province {
                return Err(ApiError::unprocessable(
                    "receipt_in_other_province",
                    text!(
                        "Không tiếp nhận được: địa chỉ thuộc tỉnh khác với nơi nộp hồ sơ.",
                        "Cannot be received here: the address is in another province."
                    ),
                ));
            }
            (Status::AwaitingRouting, receiving, None, province, None)
        }
    };

    let day = local_day(now);
    let unit_code = UnitCode::parse(&receiving.code).map_err(ApiError::internal)?;
    let walk_in = v.channel != Channel::Online;
    let status = if walk_in && status == Status::Submitted {
        Status::Received
    } else {
        status
    };
    // The code comes with the dossier's number, when it is written.
    let mut am = cases::ActiveModel {
        procedure_code: Set(routed.procedure.model.code.clone()),
        procedure_version: Set(routed.procedure.model.version),
        channel: Set(v.channel.as_str().to_string()),
        status: Set(status.as_str().to_string()),
        national_status: Set(status.national(walk_in) as i16),
        version: Set(1),
        applicant_account_id: Set((actor.role == Role::Citizen).then_some(actor.account_id)),
        applicant_name: Set(v.applicant_name),
        applicant_id_number: Set(v.id_number),
        applicant_tax_code: Set(v.tax_code),
        applicant_phone: Set(v.phone),
        applicant_email: Set(v.email),
        address: Set(req.address_raw.clone()),
        ward_code: Set(ward),
        province_code: Set(province),
        receiving_unit: Set(receiving.code.clone()),
        handling_unit: Set(handling.as_ref().map(|h| h.code.clone())),
        assigned_to: Set(None),
        form: Set(req.form.clone()),
        documents: Set(serde_json::to_value(&req.documents).unwrap_or_default()),
        routing: Set(json!({
            "status": d.status,
            "explanation_vi": d.render(crate::domain::lang::Lang::Vi),
            "explanation_en": d.render(crate::domain::lang::Lang::En),
            "candidates": d.candidates.iter().map(|c| json!({
                "ward_code": c.ward.code.to_string(),
                "ward_name": c.ward.name.to_string(),
                "unit": c.unit.as_ref().map(|u| u.code.clone()),
            })).collect::<Vec<_>>(),
        })),
        submitted_at: Set(now),
        received_at: Set(None),
        due_at: Set(None),
        original_due_at: Set(None),
        appointment_at: Set(None),
        at_risk_at: Set(None),
        sla_state: Set(SlaState::NotStarted.as_str().to_string()),
        next_check_at: Set(None),
        paused_at: Set(None),
        paused_working_secs: Set(0),
        resume_status: Set(None),
        supplement_count: Set(0),
        step_key: Set(None),
        step_started_at: Set(None),
        step_due_at: Set(None),
        outcome: Set(None),
        decided_at: Set(None),
        closed_at: Set(None),
        processing_working_secs: Set(None),
        on_time: Set(None),
        result_delivery: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    if walk_in {
        // Received at the counter: the clock starts now, on the handling unit's calendar.
        let clock_unit = handling.as_deref().unwrap_or(&receiving);
        start_clock(state, &mut am, spec, Some(clock_unit), now)?;
        if status == Status::Received {
            enter_step(
                &mut am,
                spec,
                status,
                &calendar_for(state, Some(clock_unit)),
                now,
            );
        }
    }
    let action = if walk_in { "receive" } else { "submit" };
    let topic = format!("case.{}", if walk_in { "received" } else { "submitted" });
    let routing_status = json!(d.status);
    let (actor_id, actor_role) = (actor.account_id, actor.role.as_str());
    let actor_unit = actor.unit.as_ref().map(|u| u.to_string());
    let answer = idempotency_key.map(|key| intake_writer::StoredAnswer {
        account: actor_id,
        key: key.to_string(),
        render: Box::new(move |case: &cases::Model| render(case)),
    });
    let followups = move |case: &cases::Model| intake_writer::Followups {
        event: repo::events::NewEvent {
            // Attached to the dossier by its code when both are written.
            case_id: 0,
            action: action.into(),
            actor_id: Some(actor_id),
            actor_role: actor_role.into(),
            actor_unit: actor_unit.clone(),
            from_status: None,
            to_status: case.status.clone(),
            reason: None,
            data: json!({
                "channel": case.channel,
                "procedure_version": case.procedure_version,
                "form": if walk_in { Some("01") } else { None },
                "due_at": case.due_at,
                "routing": routing_status,
            }),
            public: true,
            at: now,
        },
        outbox: repo::outbox::row(
            &topic,
            Some(&case.code),
            recipients(case, true),
            sync_payload(case, action, now),
            now,
        ),
        code_in_payload: Some(SYNC_CODE_KEY),
    };
    // Written with the intakes waiting beside it, if any, in one transaction that also
    // takes its number, appends its first event and outbox row and stores the answer to
    // its Idempotency-Key.
    let case = state
        .intakes
        .write(
            &state.db,
            intake_writer::Draft {
                unit: unit_code,
                day,
                row: am,
                followups: Box::new(followups),
                answer,
            },
        )
        .await?;
    tracing::info!(case.code = %case.code, case.status = %case.status, "dossier filed");
    Ok(case)
}

/// An action's fields as posted.
#[derive(Debug, Clone, Default)]
pub struct ActionRequest {
    pub version: Option<i32>,
    pub reason: Option<String>,
    pub unit: Option<String>,
    pub assignee: Option<Uuid>,
    pub amount_vnd: Option<i64>,
    pub new_appointment_at: Option<DateTime<Utc>>,
    pub documents: Vec<DocumentIn>,
    pub note: Option<String>,
    /// `return_result`: how the result was handed over (not recorded when absent).
    pub result_delivery: Option<crate::domain::dossier::ResultDelivery>,
}

fn not_found(code: &str) -> ApiError {
    ApiError::not_found(
        "case_not_found",
        text!(
            format!("Không có hồ sơ {code}."),
            format!("There is no dossier {code}.")
        ),
    )
}

fn facts_of(c: &cases::Model) -> CaseFacts<'_> {
    CaseFacts {
        applicant_account: c.applicant_account_id,
        province: &c.province_code,
        receiving_unit: Some(&c.receiving_unit),
        handling_unit: c.handling_unit.as_deref(),
    }
}

fn transition_error(e: TransitionError, c: &cases::Model) -> ApiError {
    match e {
        TransitionError::Invalid { action, from } => ApiError::conflict(
            "invalid_transition",
            text!(
                format!("Không thể thực hiện '{action}' khi hồ sơ đang ở trạng thái '{from}'."),
                format!("'{action}' is not possible while the dossier is '{from}'.")
            ),
        )
        .with_extra("case_status", json!(c.status))
        .with_extra("current_version", json!(c.version)),
        TransitionError::Forbidden(reason) => ApiError::forbidden(text!(
            format!("Bạn không được thực hiện thao tác này trên hồ sơ ({reason})."),
            format!("You may not do this to this dossier ({reason}).")
        )),
        TransitionError::AlreadyClaimed => ApiError::conflict(
            "already_claimed",
            text!(
                "Hồ sơ đã có cán bộ khác nhận xử lý.",
                "Another clerk already has this dossier."
            ),
        ),
        TransitionError::Missing { field } => ApiError::invalid_field(
            field,
            "required",
            text!(
                format!("Thiếu trường {field}."),
                format!("{field} is required.")
            ),
        ),
    }
}

/// Apply an action to a dossier: optimistic concurrency on `version`, the state machine's
/// checks, the effects, the event and the outbox row, all in one transaction.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    code: &str,
    action: Action,
    req: ActionRequest,
) -> ApiResult<cases::Model> {
    let Some(expected) = req.version else {
        return Err(ApiError::precondition_required(
            "version_required",
            text!(
                "Cần phiên bản hồ sơ (trường version hoặc tiêu đề If-Match).",
                "The dossier version is required (the version field or an If-Match header)."
            ),
        ));
    };
    if DossierCode::parse(code).is_err() {
        return Err(not_found(code));
    }
    let now = Utc::now();
    let txn = db::begin_write(&state.db).await?;
    let case = repo::cases::find_for_update(&txn, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    let scope = actor.case_scope()?;
    if !scope.covers(&facts_of(&case)) {
        return Err(not_found(code));
    }
    if case.version != expected {
        return Err(ApiError::conflict(
            "version_conflict",
            text!(
                "Hồ sơ đã được cập nhật bởi người khác; hãy tải lại.",
                "The dossier was changed by someone else; reload it."
            ),
        )
        .with_extra("current_version", json!(case.version)));
    }
    let status = Status::parse(&case.status)
        .ok_or_else(|| ApiError::internal(std::io::Error::other("bad status")))?;
    let facts = Facts {
        status,
        province: &case.province_code,
        receiving_unit: &case.receiving_unit,
        handling_unit: case.handling_unit.as_deref(),
        applicant: case.applicant_account_id,
        assigned_to: case.assigned_to,
        resume_status: case.resume_status.as_deref().and_then(Status::parse),
        received: case.received_at.is_some(),
        paused: case.paused_at.is_some(),
    };
    let input = Input {
        reason: req.reason.clone(),
        unit: req.unit.clone(),
        assignee: req.assignee,
        amount_vnd: req.amount_vnd,
        has_new_appointment: req.new_appointment_at.is_some(),
    };
    let t = lifecycle::transition(&facts, actor, action, &input)
        .map_err(|e| transition_error(e, &case))?;

    let procedure = repo::procedures::version(&txn, &case.procedure_code, case.procedure_version)
        .await?
        .ok_or_else(|| {
            ApiError::internal(std::io::Error::other("pinned procedure version missing"))
        })?;
    let spec = repo::procedures::spec_of(&procedure)?;
    let directory = state.directory();
    let mut data = serde_json::Map::new();
    let mut am = case.clone().into_active_model();
    let mut handling_unit = case.handling_unit.clone();

    for effect in &t.effects {
        match effect {
            Effect::StartClock => {
                let unit = handling_unit
                    .as_deref()
                    .and_then(|u| directory.unit(u))
                    .map(|u| u.as_ref());
                let s = start_clock(state, &mut am, &spec, unit, now)?;
                data.insert("form".into(), json!("01"));
                data.insert("due_at".into(), json!(s.due_at));
            }
            Effect::PauseClock(reason) => {
                if *reason == PauseReason::Payment && !state.settings.sla.payment_pauses_clock {
                    continue;
                }
                if case.received_at.is_some() && case.paused_at.is_none() {
                    am.paused_at = Set(Some(now));
                    am.next_check_at = Set(None);
                    repo::events::open_pause(&txn, case.id, reason.as_str(), now).await?;
                    data.insert("clock".into(), json!("paused"));
                }
                if *reason == PauseReason::Supplement {
                    data.insert("form".into(), json!("02"));
                }
            }
            Effect::ResumeClock => {
                if let (Some(paused_at), Some(due), Some(risk)) =
                    (case.paused_at, case.due_at, case.at_risk_at)
                {
                    let unit = handling_unit
                        .as_deref()
                        .and_then(|u| directory.unit(u))
                        .map(|u| u.as_ref());
                    let cal = calendar_for(state, unit);
                    let paused = cal.working_secs_between(paused_at, now);
                    let new_due = cal.extend_due(due, paused).map_err(calendar_error)?;
                    let new_risk = cal.extend_due(risk, paused).map_err(calendar_error)?;
                    am.paused_at = Set(None);
                    am.paused_working_secs = Set(case.paused_working_secs + paused);
                    am.due_at = Set(Some(new_due));
                    am.at_risk_at = Set(Some(new_risk));
                    // The appointment moves with the deadline unless an apology set a later one.
                    let appointment =
                        case.appointment_at
                            .map(|a| if a <= due { new_due } else { a.max(new_due) });
                    am.appointment_at = Set(appointment.or(Some(new_due)));
                    if let Some(step_due) = case.step_due_at {
                        am.step_due_at = Set(cal.extend_due(step_due, paused).ok());
                    }
                    // The state never goes back (a warning given stays given); only the next
                    // check moves.
                    let current = SlaState::parse(&case.sla_state).unwrap_or(SlaState::OnTrack);
                    let evaluated = sla::state_at(now, new_risk, new_due).max(current);
                    am.next_check_at =
                        Set(sla::next_check(evaluated, new_risk, new_due).map(|t| t.max(now)));
                    repo::events::close_pause(&txn, case.id, now, paused).await?;
                    data.insert("clock".into(), json!("resumed"));
                    data.insert("paused_working_secs".into(), json!(paused));
                    data.insert("previous_due_at".into(), json!(due));
                    data.insert("due_at".into(), json!(new_due));
                }
            }
            Effect::CountSupplement => {
                am.supplement_count = Set(case.supplement_count + 1);
                data.insert(
                    "supplement_request_number".into(),
                    json!(case.supplement_count + 1),
                );
                if !req.documents.is_empty() {
                    data.insert("documents".into(), json!(req.documents));
                }
            }
            Effect::RememberResume(s) => am.resume_status = Set(Some(s.as_str().to_string())),
            Effect::SetAssignee(who) => {
                if let Some(id) = who {
                    if *id != actor.account_id {
                        check_assignee(&txn, *id, handling_unit.as_deref()).await?;
                    }
                }
                am.assigned_to = Set(*who);
                data.insert("assignee".into(), json!(who));
            }
            Effect::SetHandlingUnit(target) => {
                let unit = check_handling_unit(&directory, &spec, &case, target, action)?;
                if action == Action::Transfer {
                    data.insert("form".into(), json!("06"));
                    data.insert("from_unit".into(), json!(case.handling_unit));
                }
                data.insert("to_unit".into(), json!(unit.code));
                if let Some(w) = &unit.ward_code {
                    am.ward_code = Set(Some(w.clone()));
                }
                am.handling_unit = Set(Some(unit.code.clone()));
                handling_unit = Some(unit.code.clone());
            }
            Effect::SetOutcome(o) => {
                am.outcome = Set(Some(o.as_str().to_string()));
                am.decided_at = Set(Some(now));
                if let (Some(received), Some(due)) = (case.received_at, case.due_at) {
                    let unit = handling_unit
                        .as_deref()
                        .and_then(|u| directory.unit(u))
                        .map(|u| u.as_ref());
                    let cal = calendar_for(state, unit);
                    let worked = cal.working_secs_between(received, now) - case.paused_working_secs;
                    am.processing_working_secs = Set(Some(worked.max(0)));
                    // Decision 766: within the legal deadline (supplement time excluded, as the
                    // due date moved by it), and at most one supplement request.
                    am.on_time = Set(Some(now <= due && case.supplement_count <= 1));
                }
                am.next_check_at = Set(None);
                data.insert("outcome".into(), json!(o));
            }
            Effect::SetAppointment => {
                let new = req
                    .new_appointment_at
                    .expect("checked by the state machine");
                let current = case.appointment_at.or(case.due_at);
                if new <= now || current.is_some_and(|c| new <= c) {
                    return Err(ApiError::invalid_field(
                        "new_appointment_at",
                        "appointment_not_later",
                        text!(
                            "Ngày hẹn mới phải sau thời điểm hiện tại và sau ngày hẹn đang có.",
                            "The new appointment must be in the future and after the current one."
                        ),
                    ));
                }
                am.appointment_at = Set(Some(new));
                data.insert("form".into(), json!("04"));
                data.insert("previous_appointment_at".into(), json!(current));
                data.insert("new_appointment_at".into(), json!(new));
                data.insert("due_at".into(), json!(case.due_at));
                data.insert(
                    "issued_before_due".into(),
                    json!(case.due_at.is_some_and(|d| now < d)),
                );
            }
            Effect::Close => {
                am.closed_at = Set(Some(now));
                am.next_check_at = Set(None);
                if case.paused_at.is_some() {
                    let unit = handling_unit
                        .as_deref()
                        .and_then(|u| directory.unit(u))
                        .map(|u| u.as_ref());
                    let paused = calendar_for(state, unit)
                        .working_secs_between(case.paused_at.unwrap_or(now), now);
                    repo::events::close_pause(&txn, case.id, now, paused).await?;
                    am.paused_at = Set(None);
                }
                match t.to {
                    Status::Refused => {
                        data.insert("form".into(), json!("03"));
                    }
                    Status::Stopped => {
                        data.insert("form".into(), json!("05"));
                    }
                    _ => {}
                }
            }
        }
    }
    if action == Action::RequestPayment {
        data.insert("amount_vnd".into(), json!(req.amount_vnd));
    }
    if let (Action::ReturnResult, Some(d)) = (action, req.result_delivery) {
        am.result_delivery = Set(Some(d.as_str().to_string()));
        data.insert("result_delivery".into(), json!(d));
    }
    if let Some(note) = &req.note {
        data.insert("note".into(), json!(note));
    }
    if action == Action::SubmitSupplement && !req.documents.is_empty() {
        data.insert("documents".into(), json!(req.documents));
    }
    if t.to != t.from {
        let unit = handling_unit
            .as_deref()
            .and_then(|u| directory.unit(u))
            .map(|u| u.as_ref());
        enter_step(&mut am, &spec, t.to, &calendar_for(state, unit), now);
    }
    let received = case.received_at.is_some() || t.effects.contains(&Effect::StartClock);
    am.status = Set(t.to.as_str().to_string());
    am.national_status = Set(t.to.national(received) as i16);
    am.version = Set(case.version + 1);
    am.updated_at = Set(now);
    if !repo::cases::update_if_version(&txn, am, case.id, expected).await? {
        return Err(ApiError::conflict(
            "version_conflict",
            text!(
                "Hồ sơ đã được cập nhật bởi người khác; hãy tải lại.",
                "The dossier was changed by someone else; reload it."
            ),
        ));
    }
    let updated = repo::cases::find_by_code(&txn, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    repo::events::append(
        &txn,
        repo::events::NewEvent {
            case_id: case.id,
            action: action.as_str().to_string(),
            actor_id: Some(actor.account_id),
            actor_role: actor.role.as_str().to_string(),
            actor_unit: actor.unit.as_ref().map(|u| u.to_string()),
            from_status: Some(t.from.as_str().to_string()),
            to_status: t.to.as_str().to_string(),
            reason: req.reason.clone().filter(|r| !r.trim().is_empty()),
            data: Value::Object(data),
            public: action.is_public(),
            at: now,
        },
    )
    .await?;
    repo::outbox::insert(
        &txn,
        &format!("case.{}", action.as_str()),
        Some(&updated.code),
        recipients(&updated, action.is_public()),
        sync_payload(&updated, action.as_str(), now),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(case.code = %updated.code, case.action = %action, case.status = %updated.status, "dossier action");
    Ok(updated)
}

async fn check_assignee(txn: &DatabaseTransaction, id: Uuid, unit: Option<&str>) -> ApiResult<()> {
    let ok = repo::accounts::find_by_id(txn, id).await?.is_some_and(|a| {
        !a.disabled
            && matches!(a.role.as_str(), "clerk" | "unit_head")
            && a.unit_code.as_deref() == unit
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            "assignee",
            "invalid_assignee",
            text!(
                "Người được giao phải là cán bộ đang hoạt động của đơn vị giải quyết.",
                "The assignee must be an active clerk of the handling unit."
            ),
        ))
    }
}

fn check_handling_unit<'a>(
    directory: &'a crate::domain::routing::UnitDirectory,
    spec: &ProcedureSpec,
    case: &cases::Model,
    target: &str,
    action: Action,
) -> ApiResult<&'a std::sync::Arc<UnitInfo>> {
    let bad = |code: &'static str, vi: &str, en: &str| {
        ApiError::invalid_field("unit", code, text!(vi.to_string(), en.to_string()))
    };
    let unit = directory.unit(target).ok_or_else(|| {
        bad(
            "unknown_unit",
            "Không có đơn vị này.",
            "There is no such unit.",
        )
    })?;
    if !unit.active {
        return Err(bad(
            "unit_inactive",
            "Đơn vị đang ngừng hoạt động.",
            "The unit is not active.",
        ));
    }
    if unit.province_code != case.province_code {
        return Err(bad(
            "unit_in_other_province",
            "Chỉ chuyển trong phạm vi tỉnh.",
            "Dossiers move only within their province.",
        ));
    }
    if unit.receives_dossiers {
        return Err(bad(
            "not_a_handling_unit",
            "Trung tâm phục vụ hành chính công không phải đơn vị giải quyết.",
            "A service centre is not a handling unit.",
        ));
    }
    if action == Action::Assign && unit.kind != spec.competent_unit_kind {
        return Err(bad(
            "not_competent",
            "Đơn vị không có thẩm quyền giải quyết thủ tục này.",
            "That unit is not competent for this procedure.",
        ));
    }
    if case.handling_unit.as_deref() == Some(target) {
        return Err(bad(
            "same_unit",
            "Hồ sơ đã ở đơn vị này.",
            "The dossier is already at that unit.",
        ));
    }
    Ok(unit)
}

/// Read a dossier within the caller's scope (404 outside it). Administrators' reads are
/// recorded in the audit log.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    code: &str,
) -> ApiResult<(cases::Model, CaseScope)> {
    if DossierCode::parse(code).is_err() {
        return Err(not_found(code));
    }
    let scope = actor.case_scope()?;
    let case = repo::cases::find_by_code(&state.db, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    if !scope.covers(&facts_of(&case)) {
        return Err(not_found(code));
    }
    if scope == CaseScope::Audited {
        repo::audit::record(
            &state.db,
            actor.account_id,
            "read_case",
            &case.code,
            None,
            Utc::now(),
        )
        .await?;
        tracing::info!(audit.account = %actor.account_id, case.code = %case.code, "administrator read a dossier");
    }
    Ok((case, scope))
}

/// Failed tracking look-ups a client may make within the throttle window before it must wait.
const TRACKING_FAILURES: i32 = 20;
const TRACKING_LOCK_SECS: i64 = 600;

/// Public tracking: the code and the last four digits of the applicant's ID number (or tax
/// code). A mismatch is indistinguishable from an unknown code, and a client that keeps
/// guessing is throttled (four digits are few).
pub async fn track(
    state: &AppState,
    code: &str,
    last4: &str,
    client: Option<&str>,
) -> ApiResult<cases::Model> {
    let now = Utc::now();
    let key = client.map(|c| format!("track:{c}"));
    if let Some(k) = &key {
        if let Some(until) = repo::throttle::get(&state.db, k)
            .await?
            .and_then(|r| r.locked_until)
        {
            if until > now {
                return Err(ApiError::too_many_requests(
                    (until - now).num_seconds().max(1) as u64,
                ));
            }
        }
    }
    match lookup(&state.db, code, last4).await {
        Ok(c) => Ok(c),
        Err(e) if e.code() == "case_not_found" => {
            if let Some(k) = &key {
                let window = Duration::seconds(state.settings.auth.throttle.window_secs as i64);
                let failures =
                    repo::throttle::record_failure(&state.db, k, now, now - window).await?;
                if failures >= TRACKING_FAILURES {
                    repo::throttle::lock_until(
                        &state.db,
                        k,
                        now + Duration::seconds(TRACKING_LOCK_SECS),
                    )
                    .await?;
                }
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}

async fn lookup<C: ConnectionTrait>(db: &C, code: &str, last4: &str) -> ApiResult<cases::Model> {
    let unknown = || {
        ApiError::not_found(
            "case_not_found",
            text!(
                "Không tìm thấy hồ sơ với mã và 4 số cuối đã cho.",
                "No dossier matches that code and those last four digits."
            ),
        )
    };
    if DossierCode::parse(code).is_err()
        || last4.len() != 4
        || !last4.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(unknown());
    }
    let case = repo::cases::find_by_code(db, code)
        .await?
        .ok_or_else(unknown)?;
    let id = case
        .applicant_id_number
        .as_deref()
        .or(case.applicant_tax_code.as_deref())
        .unwrap_or("");
    let digits: String = id.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 || !digits.ends_with(last4) {
        return Err(unknown());
    }
    Ok(case)
}
