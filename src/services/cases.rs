//! Dossier use cases after filing (which is `services::intake`): actions, reads within
//! scope, queues, public tracking.
//!
//! An action loads the dossier, lets it decide ([`Dossier::act`]), and saves it with its
//! event and notice in one write transaction, so an acknowledged change and its history are
//! never lost or half-written.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;
use uuid::Uuid;

use crate::config::{CalendarSettings, IntakeSettings, SlaSettings, ThrottleSettings};
use crate::db;
use crate::domain::access::{Actor, CaseScope};
use crate::domain::account::{IdNumber, TaxCode};
use crate::domain::dossier::{DocumentRef, Dossier, DossierCode, RecordedEvent, Rules};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::{Action, Input, Status, TransitionError};
use crate::domain::procedure::ProcedureSpec;
use crate::error::Checks;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::repo;
use crate::repo::dossiers::{CaseFilter, QueueFilter, QueueSort};
use crate::services::calendar::CalendarHandle;
use crate::services::geography::DirectoryHandle;
use crate::services::intake_writer::IntakeWriter;
use crate::services::routing::CatalogHandle;
use crate::text;

/// What the dossier's use cases read: the database, this instance's in-memory reference data
/// and intake queues, and the configuration they follow.
pub struct Deps<'a> {
    /// The primary: writes, and reads that must see them.
    pub db: &'a sea_orm::DatabaseConnection,
    /// Lists, queues and tracking, which tolerate a moment's delay: a replica while it keeps
    /// up (`crate::replica`).
    pub read: &'a sea_orm::DatabaseConnection,
    pub gazetteer: &'a crate::domain::geography::Gazetteer,
    pub directory: &'a DirectoryHandle,
    pub catalog: &'a CatalogHandle,
    pub calendars: &'a CalendarHandle,
    pub intakes: &'a IntakeWriter,
    pub sla: &'a SlaSettings,
    pub intake: &'a IntakeSettings,
    /// The failed-attempt window public tracking shares with logins.
    pub throttle: &'a ThrottleSettings,
    /// Where calendar announcements are read from (deadline recomputation).
    pub calendar: &'a CalendarSettings,
    /// The file store and its limits.
    pub storage: &'a crate::storage::Storage,
    pub files: &'a crate::config::StorageSettings,
    /// Applicants' ID numbers, phones and e-mails are sealed.
    pub keys: &'a crate::security::data_key::DataKeys,
}

/// The rules a dossier of `spec` lives by on this instance.
pub(crate) fn rules<'a>(
    sla: &SlaSettings,
    spec: &'a ProcedureSpec,
    directory: &'a crate::domain::routing::UnitDirectory,
    calendars: &'a crate::services::calendar::Calendars,
) -> Rules<'a> {
    Rules {
        spec,
        units: directory,
        calendars,
        at_risk_ratio: sla.at_risk_ratio,
        payment_pauses_clock: sla.payment_pauses_clock,
    }
}

pub(crate) fn internal(what: &str) -> ApiError {
    ApiError::internal(std::io::Error::other(what.to_string()))
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
    pub documents: Vec<DocumentRef>,
    /// `request_supplement`: the missing component kinds.
    pub components: Vec<String>,
    /// `send_to_agency`: the agency's share in its working days.
    pub working_days: Option<u32>,
    /// `receive`: a longer limit of the procedure, for a named case.
    pub variant: Option<String>,
    pub note: Option<String>,
    /// `return_result`: how the result was handed over (not recorded when absent).
    pub result_delivery: Option<crate::domain::dossier::ResultDelivery>,
    /// `confirm_payment` (required) and `receive` (the fee): `cash`, `bank_transfer` or
    /// `online_gateway`.
    pub payment_channel: Option<String>,
    /// The transfer's or the gateway's reference (required unless cash).
    pub payment_reference: Option<String>,
}

pub(crate) fn not_found(code: &str) -> ApiError {
    ApiError::not_found(
        "case_not_found",
        text!(
            format!("Không có hồ sơ {code}."),
            format!("There is no dossier {code}.")
        ),
    )
}

pub(crate) fn version_conflict() -> ApiError {
    ApiError::conflict(
        "version_conflict",
        text!(
            "Hồ sơ đã được cập nhật bởi người khác; hãy tải lại.",
            "The dossier was changed by someone else; reload it."
        ),
    )
}

/// The problem document of a refused action (`d`: the dossier it was refused on).
pub(crate) fn transition_error(e: TransitionError, d: Option<&Dossier>) -> ApiError {
    match e {
        TransitionError::Invalid { action, from } => {
            let mut err = ApiError::conflict(
                "invalid_transition",
                text!(
                    format!("Không thể thực hiện '{action}' khi hồ sơ đang ở trạng thái '{from}'."),
                    format!("'{action}' is not possible while the dossier is '{from}'.")
                ),
            );
            if let Some(d) = d {
                err = err
                    .with_extra("case_status", json!(d.status))
                    .with_extra("current_version", json!(d.version));
            }
            err
        }
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
        TransitionError::InvalidField { field, code } => {
            let (vi, en) = match code {
                "unknown_unit" => ("Không có đơn vị này.", "There is no such unit."),
                "unit_inactive" => ("Đơn vị đang ngừng hoạt động.", "The unit is not active."),
                "unit_in_other_province" => (
                    "Chỉ chuyển trong phạm vi tỉnh.",
                    "Dossiers move only within their province.",
                ),
                "not_a_handling_unit" => (
                    "Trung tâm phục vụ hành chính công không phải đơn vị giải quyết.",
                    "A service centre is not a handling unit.",
                ),
                "not_competent" => (
                    "Đơn vị không có thẩm quyền giải quyết thủ tục này.",
                    "That unit is not competent for this procedure.",
                ),
                "same_unit" => (
                    "Hồ sơ đã ở đơn vị này.",
                    "The dossier is already at that unit.",
                ),
                "invalid_assignee" => (
                    "Người được giao phải là cán bộ đang hoạt động của đơn vị giải quyết.",
                    "The assignee must be an active clerk of the handling unit.",
                ),
                "appointment_not_later" => (
                    "Ngày hẹn mới phải sau thời điểm hiện tại và sau ngày hẹn đang có.",
                    "The new appointment must be in the future and after the current one.",
                ),
                "share_exceeds_remaining" => (
                    "Thời gian dành cho cơ quan phối hợp vượt quá thời hạn còn lại của hồ sơ.",
                    "The agency's share ends after the dossier's deadline.",
                ),
                "unknown_variant" => (
                    "Thủ tục không có trường hợp thời hạn này.",
                    "The procedure has no such limit variant.",
                ),
                "unknown_component" => (
                    "Thành phần không có trong danh mục thành phần hồ sơ của thủ tục.",
                    "That is not a component of the procedure's dossier.",
                ),
                "amount_too_large" => (
                    "Số tiền vượt quá 100.000.000 đồng: hãy kiểm tra lại.",
                    "The amount exceeds 100,000,000 đồng: check it.",
                ),
                "no_fee_due" => (
                    "Hồ sơ không có phí, lệ phí phải nộp (hoặc đã nộp).",
                    "The dossier has no fee to pay (or it was paid).",
                ),
                "online_gateway_only" => (
                    "Nộp trực tuyến chỉ thanh toán qua cổng thanh toán trực tuyến.",
                    "Online filings are paid through the online payment gateway.",
                ),
                _ => ("Giá trị không hợp lệ.", "Invalid value."),
            };
            ApiError::invalid_field(field, code, text!(vi.to_string(), en.to_string()))
        }
        TransitionError::MissingComponents(missing) => ApiError::unprocessable(
            "missing_components",
            text!(
                format!("Hồ sơ thiếu thành phần bắt buộc: {}.", missing.join(", ")),
                format!("Mandatory components are missing: {}.", missing.join(", "))
            ),
        )
        .with_extra("missing", json!(missing)),
        TransitionError::ResultFileRequired => ApiError::unprocessable(
            "result_file_required",
            text!(
                "Trả kết quả điện tử cần tệp kết quả (kind=result) của đơn vị giải quyết.",
                "An electronic result needs the handling unit's result file (kind=result)."
            ),
        ),
        TransitionError::PartsPending(pending) => ApiError::conflict(
            "parts_pending",
            text!(
                format!("Hồ sơ liên thông còn phần chưa giải quyết xong: {}.", pending.join(", ")),
                format!("Parts of the bundle are not decided yet: {}.", pending.join(", "))
            ),
        )
        .with_extra("pending", json!(pending)),
        TransitionError::BundlePart => ApiError::conflict(
            "bundle_part",
            text!(
                format!(
                    "Hồ sơ là một phần của hồ sơ liên thông {}: kết quả được trả, và việc rút hồ sơ được thực hiện, trên hồ sơ liên thông.",
                    d.and_then(|d| d.bundle_code.as_ref()).map(|c| c.to_string()).unwrap_or_default()
                ),
                format!(
                    "A part of the bundled dossier {}: results are returned, and withdrawals made, on the bundle.",
                    d.and_then(|d| d.bundle_code.as_ref()).map(|c| c.to_string()).unwrap_or_default()
                )
            ),
        ),
        TransitionError::ResultNotReturned => ApiError::conflict(
            "result_not_returned",
            text!(
                "Chỉ đánh giá được sau khi đã nhận kết quả.",
                "The service can be rated once the result was returned."
            ),
        ),
        TransitionError::Closed => ApiError::conflict(
            "case_closed",
            text!(
                "Hồ sơ đã kết thúc; không thêm được giấy tờ.",
                "The dossier is closed; nothing can be attached."
            ),
        ),
        TransitionError::AttachNotNow(status) => ApiError::conflict(
            "attach_not_allowed",
            text!(
                format!("Không thể thêm giấy tờ khi hồ sơ đang ở trạng thái '{status}'."),
                format!("No file can be attached while the dossier is '{status}'.")
            ),
        ),
        TransitionError::Calendar(e) => ApiError::unprocessable(
            "outside_calendar",
            text!(
                format!("Không tính được thời hạn: {e}"),
                format!("The deadline cannot be computed: {e}")
            ),
        ),
    }
}

/// The procedure version a dossier was filed under.
pub(crate) async fn pinned_spec<C: ConnectionTrait>(
    db: &C,
    d: &Dossier,
) -> ApiResult<ProcedureSpec> {
    let procedure = repo::procedures::version(db, d.procedure_code.as_str(), d.procedure_version)
        .await?
        .ok_or_else(|| internal("pinned procedure version missing"))?;
    Ok(repo::procedures::spec_of(&procedure)?)
}

/// The procedure version a dossier lives by (its components, steps, limit).
pub async fn spec_of(deps: &Deps<'_>, d: &Dossier) -> ApiResult<ProcedureSpec> {
    pinned_spec(deps.db, d).await
}

/// An action's free text: at most so many characters, no control characters but line
/// breaks; every field wrong is named.
fn check_free_text(req: &ActionRequest) -> ApiResult<()> {
    let mut c = Checks::default();
    for (field, value, max) in [
        ("reason", &req.reason, 2000),
        ("note", &req.note, 2000),
        ("unit", &req.unit, 40),
    ] {
        if value.as_deref().is_some_and(|s| {
            s.chars().count() > max || s.chars().any(|ch| ch.is_control() && ch != '\n')
        }) {
            c.push(FieldError::new(
                field,
                "invalid_text",
                text!(
                    format!("Tối đa {max} ký tự, không có ký tự điều khiển."),
                    format!("At most {max} characters, no control characters.")
                ),
            ));
        }
    }
    c.finish()
}

/// Apply an action to a dossier: optimistic concurrency on `version`, then the dossier's
/// own rules ([`Dossier::act`]), saved with its event and notice in one transaction.
pub async fn act(
    deps: &Deps<'_>,
    actor: &Actor,
    code: &str,
    action: Action,
    req: ActionRequest,
) -> ApiResult<Dossier> {
    check_free_text(&req)?;
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
    let txn = db::begin_write(deps.db).await?;
    // A part's decision changes its bundle too: lock the bundle first, as the bundle's own
    // actions do before touching their parts, so that the two never wait for each other.
    if matches!(action, Action::Approve | Action::Reject | Action::Stop) {
        if let Some(bundle) = repo::dossiers::find(&txn, deps.keys, code)
            .await?
            .and_then(|d| d.bundle_code)
        {
            repo::dossiers::find_for_update(&txn, deps.keys, bundle.as_str()).await?;
        }
    }
    let mut dossier = repo::dossiers::find_for_update(&txn, deps.keys, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    let scope = actor.case_scope()?;
    if !scope.covers(&dossier.access_facts()) {
        return Err(not_found(code));
    }
    if dossier.version != expected {
        return Err(version_conflict().with_extra("current_version", json!(dossier.version)));
    }
    let assignee_unit = match req.assignee {
        Some(id) => repo::dossiers::staff_unit(&txn, id).await?,
        None => None,
    };
    let spec = pinned_spec(&txn, &dossier).await?;
    let payment = crate::domain::dossier::Payment::parse(
        req.payment_channel.as_deref(),
        req.payment_reference.as_deref(),
    )
    .map_err(|e| ApiError::validation(vec![e.into()]))?;
    let parts_pending =
        crate::services::bundles::pending_for(&txn, deps.keys, &dossier, &spec, action).await?;
    let input = Input {
        parts_pending,
        reason: req.reason,
        unit: req.unit,
        assignee: req.assignee,
        assignee_unit,
        amount_vnd: req.amount_vnd,
        new_appointment_at: req.new_appointment_at,
        documents: req.documents,
        components: req.components,
        working_days: req.working_days,
        variant: req.variant,
        note: req.note,
        result_delivery: req.result_delivery,
        payment,
    };
    let directory = deps.directory.current();
    let calendars = deps.calendars.current();
    let before = dossier.clone();
    let events = dossier
        .act(
            actor,
            action,
            &input,
            &rules(deps.sla, &spec, &directory, &calendars),
            now,
        )
        .map_err(|e| transition_error(e, Some(&before)))?;
    if !repo::dossiers::save(&txn, deps.keys, &dossier, expected).await? {
        return Err(version_conflict());
    }
    repo::dossiers::record(&txn, &dossier, &events, now).await?;
    crate::services::bundles::after_action(&txn, deps, &dossier, &spec, action, now).await?;
    txn.commit().await?;
    tracing::info!(case.code = %dossier.code_str(), case.action = %action, case.status = %dossier.status, "dossier action");
    Ok(dossier)
}

/// Read a dossier within the caller's scope (404 outside it). Administrators' reads are
/// recorded in the audit log.
pub async fn get(deps: &Deps<'_>, actor: &Actor, code: &str) -> ApiResult<(Dossier, CaseScope)> {
    if DossierCode::parse(code).is_err() {
        return Err(not_found(code));
    }
    let scope = actor.case_scope()?;
    let dossier = repo::dossiers::find(deps.db, deps.keys, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    if !scope.covers(&dossier.access_facts()) {
        return Err(not_found(code));
    }
    if scope == CaseScope::Audited {
        // The audit log is one chain: appended in a write transaction.
        let txn = crate::db::begin_write(deps.db).await?;
        repo::audit::record(
            &txn,
            actor.account_id,
            "read_case",
            dossier.code_str(),
            None,
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
        tracing::info!(audit.account = %actor.account_id, case.code = %dossier.code_str(), "administrator read a dossier");
    }
    Ok((dossier, scope))
}

/// A dossier's history as the caller may see it: every step for officers, the public ones
/// for the applicant.
pub async fn history(
    deps: &Deps<'_>,
    actor: &Actor,
    code: &str,
) -> ApiResult<(Vec<RecordedEvent>, CaseScope)> {
    let (dossier, scope) = get(deps, actor, code).await?;
    Ok((history_of(deps, &dossier, &scope).await?, scope))
}

/// The history of a dossier the caller has already read (with [`get`]) under `scope`.
pub async fn history_of(
    deps: &Deps<'_>,
    dossier: &Dossier,
    scope: &CaseScope,
) -> ApiResult<Vec<RecordedEvent>> {
    Ok(repo::dossiers::history(deps.db, dossier.id, !scope.is_officer()).await?)
}

/// Filters of a dossier list, as posted.
#[derive(Debug, Default, Clone)]
pub struct ListRequest {
    pub mine: bool,
    pub statuses: Vec<String>,
    pub procedure: Option<String>,
    pub open_only: bool,
    pub sla_state: Option<String>,
    /// Staff's search by the applicant's ID number (through its blind index).
    pub applicant_id_number: Option<String>,
}

/// A page of the dossiers the caller may see, newest first. Administrators' lists are
/// recorded in the audit log.
pub async fn list(
    deps: &Deps<'_>,
    actor: &Actor,
    req: ListRequest,
    offset: u64,
    limit: u64,
) -> ApiResult<(Vec<Dossier>, u64)> {
    let scope = if req.mine {
        CaseScope::Applicant(actor.account_id)
    } else {
        actor.case_scope()?
    };
    let applicant_id_indexes = match req.applicant_id_number.as_deref() {
        None => Vec::new(),
        Some(_) if !scope.is_officer() => {
            return Err(ApiError::forbidden_as(
                "search_by_id_number_forbidden",
                text!(
                    "Chỉ cán bộ được tìm hồ sơ theo số định danh.",
                    "Only staff search dossiers by ID number."
                ),
            ))
        }
        Some(raw) => {
            let mut c = Checks::default();
            let id = c.take(IdNumber::parse(raw.trim()).map_err(|mut e| {
                e.field = "applicant_id_number";
                e
            }));
            c.finish()?;
            let id = id.expect("checked");
            // Every key's index: a rotation may be half done.
            deps.keys.indexes(id.as_str())
        }
    };
    if scope == CaseScope::Audited {
        // A search by ID number is recorded as one, never with the number.
        let details =
            (!applicant_id_indexes.is_empty()).then(|| json!({"search": "applicant_id_number"}));
        let txn = crate::db::begin_write(deps.db).await?;
        repo::audit::record(
            &txn,
            actor.account_id,
            "list_cases",
            "*",
            details,
            Utc::now(),
        )
        .await?;
        txn.commit().await?;
    }
    let filter = CaseFilter {
        statuses: req.statuses,
        procedure: req.procedure,
        open_only: req.open_only,
        sla_state: req.sla_state,
        applicant_id_indexes,
    };
    Ok(repo::dossiers::list(deps.read, deps.keys, &scope, &filter, offset, limit).await?)
}

/// Comma-separated statuses, checked.
pub fn parse_statuses(raw: Option<&str>) -> ApiResult<Vec<String>> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|s| {
            Status::parse(s.trim())
                .map(|s| s.as_str().to_string())
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "status",
                        "invalid_status",
                        text!(
                            format!("Trạng thái không hợp lệ: {s}"),
                            format!("Unknown status: {s}")
                        ),
                    )
                })
        })
        .collect()
}

/// A unit's queue as asked for (checked once the caller may see the unit).
#[derive(Debug, Clone, Default)]
pub struct QueueRequest {
    /// Comma-separated statuses.
    pub statuses: Option<String>,
    pub claimed: Option<bool>,
    /// An account id, or `me`.
    pub assignee: Option<String>,
    /// `urgency` (the default) or `received_at`.
    pub sort: Option<String>,
    /// A procedure code.
    pub procedure: Option<String>,
    /// not_started, on_track, at_risk or overdue.
    pub sla_state: Option<String>,
}

fn not_found_unit(code: &str) -> ApiError {
    ApiError::not_found(
        "unit_not_found",
        text!(
            format!("Không có đơn vị {code}."),
            format!("There is no unit {code}.")
        ),
    )
}

/// A unit's queue, for its clerks and head (and supervisors over its province): open
/// dossiers it handles and online dossiers waiting for it to receive them.
pub async fn queue(
    deps: &Deps<'_>,
    actor: &Actor,
    unit_code: &str,
    req: QueueRequest,
    offset: u64,
    limit: u64,
) -> ApiResult<(Vec<Dossier>, u64)> {
    let directory = deps.directory.current();
    let unit = directory
        .unit(unit_code)
        .ok_or_else(|| not_found_unit(unit_code))?;
    actor.queue_scope(&unit.code, &unit.province_code)?;
    let sort = match req.sort.as_deref() {
        None | Some("urgency") => QueueSort::Urgency,
        Some("received_at") => QueueSort::ReceivedAt,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "sort",
                "invalid_sort",
                text!(
                    "sort phải là urgency hoặc received_at.",
                    "sort must be urgency or received_at."
                ),
            ))
        }
    };
    let assignee = match req.assignee.as_deref() {
        None => None,
        Some("me") => Some(actor.account_id),
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| {
            ApiError::invalid_field(
                "assignee",
                "invalid_assignee",
                text!("Mã cán bộ không hợp lệ.", "Invalid account id."),
            )
        })?),
    };
    let procedure = match req.procedure.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(
            crate::domain::procedure::ProcedureCode::parse(p)
                .map_err(|_| {
                    ApiError::invalid_field(
                        "procedure",
                        "invalid_procedure_code",
                        text!("Mã thủ tục không hợp lệ.", "Invalid procedure code."),
                    )
                })?
                .to_string(),
        ),
    };
    let sla_state = match req.sla_state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s @ ("not_started" | "on_track" | "at_risk" | "overdue")) => Some(s.to_string()),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "sla_state",
                "invalid_sla_state",
                text!(
                    "sla_state phải là not_started, on_track, at_risk hoặc overdue.",
                    "sla_state must be not_started, on_track, at_risk or overdue."
                ),
            ))
        }
    };
    let filter = QueueFilter {
        statuses: parse_statuses(req.statuses.as_deref())?,
        claimed: req.claimed,
        assignee,
        procedure,
        sla_state,
        sort,
    };
    Ok(repo::dossiers::queue(deps.read, deps.keys, &unit.code, &filter, offset, limit).await?)
}

/// A province's dossiers awaiting routing, for its coordinators.
pub async fn coordination_queue(
    deps: &Deps<'_>,
    actor: &Actor,
    province: &str,
    offset: u64,
    limit: u64,
) -> ApiResult<(Vec<Dossier>, u64)> {
    let province = crate::services::geography::province_code(province)?;
    actor.require_coordinator(&province)?;
    Ok(repo::dossiers::coordination_queue(deps.read, deps.keys, &province, offset, limit).await?)
}

/// Failed tracking look-ups a client may make within the throttle window before it must wait.
const TRACKING_FAILURES: i32 = 20;
const TRACKING_LOCK_SECS: i64 = 600;
/// Wrong digits for one dossier within [`TRACKING_CODE_WINDOW_SECS`] before its anonymous
/// look-ups are blocked for as long: four digits are 10,000 guesses, which rotating source
/// addresses would otherwise spread past any per-address bound.
const TRACKING_CODE_MISSES: i32 = 10;
const TRACKING_CODE_WINDOW_SECS: i64 = 3600;

fn too_many(until: DateTime<Utc>, now: DateTime<Utc>) -> ApiError {
    ApiError::too_many_requests((until - now).num_seconds().max(1) as u64)
}

/// Public tracking: the code and the last four digits of the applicant's ID number (or tax
/// code). A mismatch is indistinguishable from an unknown code. A client that keeps guessing
/// is throttled, and so is a dossier whose digits are being guessed (from any address): its
/// applicant, signed in, still sees it and is told.
pub async fn track(
    deps: &Deps<'_>,
    code: &str,
    last4: &str,
    client: Option<&str>,
) -> ApiResult<Dossier> {
    let now = Utc::now();
    let client_key = client.map(|c| format!("track:{c}"));
    let code_key = format!("track-code:{code}");
    for k in client_key.iter().chain([&code_key]) {
        if let Some(until) = repo::throttle::get(deps.db, k)
            .await?
            .and_then(|r| r.locked_until)
        {
            if until > now {
                return Err(too_many(until, now));
            }
        }
    }
    let (mut found, mut miss) = lookup(deps.read, deps.keys, code, last4).await?;
    if miss.is_some() && !std::ptr::eq(deps.read, deps.db) {
        // A miss on a replica may be only its delay (a dossier filed a moment ago, a number
        // just corrected): the primary confirms it before it counts against anyone.
        (found, miss) = lookup(deps.db, deps.keys, code, last4).await?;
    }
    let Some(miss) = miss else {
        return Ok(found.expect("a hit has its dossier"));
    };
    // Counted in the writer turn on SQLite, like every write.
    if let Some(k) = &client_key {
        let window = Duration::seconds(deps.throttle.window_secs as i64);
        let txn = db::begin_write(deps.db).await?;
        let failures = repo::throttle::record_failure(&txn, k, now, now - window).await?;
        if failures >= TRACKING_FAILURES {
            repo::throttle::lock_until(&txn, k, now + Duration::seconds(TRACKING_LOCK_SECS))
                .await?;
        }
        txn.commit().await?;
    }
    // Misses are counted per dossier only for dossiers that exist (made-up codes would
    // otherwise fill the table).
    if let Some(dossier) = found {
        let window = Duration::seconds(TRACKING_CODE_WINDOW_SECS);
        let txn = db::begin_write(deps.db).await?;
        let misses = repo::throttle::record_failure(&txn, &code_key, now, now - window).await?;
        if misses == TRACKING_CODE_MISSES {
            let until = now + window;
            repo::throttle::lock_until(&txn, &code_key, until).await?;
            let event = dossier.tracking_blocked(until, now);
            repo::dossiers::record(&txn, &dossier, std::slice::from_ref(&event), now).await?;
            tracing::warn!(case.code = %dossier.code_str(), "public tracking of a dossier blocked after repeated wrong digits");
        }
        txn.commit().await?;
    }
    Err(miss)
}

/// The dossier a tracking look-up names, and the error to answer if its digits do not match
/// (`None`: they do). A code that names no dossier gives neither dossier nor a hit.
async fn lookup<C: ConnectionTrait>(
    db: &C,
    keys: &crate::security::data_key::DataKeys,
    code: &str,
    last4: &str,
) -> ApiResult<(Option<Dossier>, Option<ApiError>)> {
    let unknown = || {
        ApiError::not_found(
            "case_not_found",
            text!(
                "Không tìm thấy hồ sơ với mã và 4 số cuối đã cho.",
                "No dossier matches that code and those last four digits."
            ),
        )
    };
    if DossierCode::parse(code).is_err() {
        return Ok((None, Some(unknown())));
    }
    let Some(case) = repo::dossiers::find(db, keys, code).await? else {
        return Ok((None, Some(unknown())));
    };
    let id = case
        .applicant
        .id_number
        .as_ref()
        .map(IdNumber::as_str)
        .or(case.applicant.tax_code.as_ref().map(TaxCode::as_str))
        .unwrap_or("");
    let digits: String = id.chars().filter(|c| c.is_ascii_digit()).collect();
    let matches = last4.len() == 4
        && last4.bytes().all(|b| b.is_ascii_digit())
        && digits.len() >= 4
        && digits.ends_with(last4);
    Ok(if matches {
        (Some(case), None)
    } else {
        (Some(case), Some(unknown()))
    })
}

/// Each dossier's working time left before its deadline, on its current unit's calendar (see
/// [`Dossier::working_secs_left`]).
pub fn working_time_left(
    deps: &Deps<'_>,
    dossiers: &[Dossier],
    now: DateTime<Utc>,
) -> Vec<Option<i64>> {
    use crate::domain::dossier::CalendarSource;
    let directory = deps.directory.current();
    let calendars = deps.calendars.current();
    dossiers
        .iter()
        .map(|d| {
            let unit = directory.unit(d.current_unit().as_str());
            let cal = calendars.calendar_of(unit.map(|u| u.as_ref()));
            d.working_secs_left(&cal, now)
        })
        .collect()
}

/// Whether the caller may open a dossier's page: 404 when there is no such dossier; for staff
/// outside its scope 403 (`case_out_of_scope`): officials may learn that a code exists, the
/// public learns nothing (404, as the API answers everyone).
pub async fn check_page_access(deps: &Deps<'_>, actor: &Actor, code: &str) -> ApiResult<()> {
    if DossierCode::parse(code).is_err() {
        return Err(not_found(code));
    }
    let scope = actor.case_scope()?;
    let dossier = repo::dossiers::find(deps.db, deps.keys, code)
        .await?
        .ok_or_else(|| not_found(code))?;
    if scope.covers(&dossier.access_facts()) {
        return Ok(());
    }
    if actor.role == crate::domain::account::Role::Citizen {
        return Err(not_found(code));
    }
    Err(ApiError::forbidden_as(
        "case_out_of_scope",
        text!(
            format!("Hồ sơ {code} không thuộc phạm vi đơn vị hoặc tỉnh của bạn."),
            format!("Dossier {code} is outside your unit's or province's scope.")
        ),
    ))
}

/// The name of a procedure in force now, in `lang`.
pub fn procedure_name(deps: &Deps<'_>, code: &str, lang: Lang) -> Option<String> {
    let catalog = deps.catalog.current();
    let version = catalog.in_force(code, Utc::now())?;
    let spec = version.spec().ok()?;
    Some(if lang == Lang::En {
        spec.name_en.clone()
    } else {
        spec.name_vi.clone()
    })
}
