//! The dossier lifecycle: statuses, actions, and the one transition function that changes
//! a status. Every action is checked here for role, unit scope and current status; the
//! service applies the returned [`Transition`] (status and effects) in one transaction.
//!
//! National status codes (Cổng DVCQG `TrangThaiHoSo`, domain.md §2) are derived from the
//! internal status.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::access::Actor;
use super::account::Role;
use super::dossier::{DocumentRef, ResultDelivery};
use super::unit::UnitCode;

/// Internal status of a dossier. Several internal statuses share a national code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed online, not yet accepted (1).
    Submitted,
    /// Incomplete at the counter: Form 02 lists what is missing; not received, so the clock
    /// has not started and no supplement is counted (1). Decree 118/2025/NĐ-CP on receipt (as
    /// Decree 61/2018/NĐ-CP art. 19 before it); Form 02 of Circular 03/2025/TT-VPCP.
    SupplementAtCounter,
    /// The address was ambiguous: in the province's coordination queue (1, or 2 once received).
    AwaitingRouting,
    /// Accepted; the legal clock runs (2).
    Received,
    /// A clerk of the handling unit has it (claimed or assigned) but has not started (2).
    Assigned,
    /// Being examined (4).
    Processing,
    /// Sent for the leader's signature (4).
    AwaitingApproval,
    /// Sent to another agency (liên thông) for its opinion, a verification or its part of the
    /// decision, with its share of the time limit; the clock runs (4).
    AwaitingAgency,
    /// Supplement requested (Form 02); the clock is paused (5).
    SupplementRequested,
    /// Waiting for a fee or tax payment (6).
    AwaitingPayment,
    /// The applicant asked to withdraw (7).
    WithdrawalRequested,
    /// Refused at receipt (Form 03) (3). Final.
    Refused,
    /// Stopped (Form 05) (8). Final.
    Stopped,
    /// Decided: approved or rejected (9).
    Decided,
    /// Result handed over (10). Final.
    Returned,
}

impl Status {
    pub const ALL: [Status; 15] = [
        Status::Submitted,
        Status::SupplementAtCounter,
        Status::AwaitingRouting,
        Status::Received,
        Status::Assigned,
        Status::Processing,
        Status::AwaitingApproval,
        Status::AwaitingAgency,
        Status::SupplementRequested,
        Status::AwaitingPayment,
        Status::WithdrawalRequested,
        Status::Refused,
        Status::Stopped,
        Status::Decided,
        Status::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::SupplementAtCounter => "supplement_at_counter",
            Status::AwaitingRouting => "awaiting_routing",
            Status::Received => "received",
            Status::Assigned => "assigned",
            Status::Processing => "processing",
            Status::AwaitingApproval => "awaiting_approval",
            Status::AwaitingAgency => "awaiting_agency",
            Status::SupplementRequested => "supplement_requested",
            Status::AwaitingPayment => "awaiting_payment",
            Status::WithdrawalRequested => "withdrawal_requested",
            Status::Refused => "refused",
            Status::Stopped => "stopped",
            Status::Decided => "decided",
            Status::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The national status code (1–10). `received`: whether valid receipt happened.
    pub fn national(self, received: bool) -> u8 {
        match self {
            Status::Submitted | Status::SupplementAtCounter => 1,
            Status::AwaitingRouting => {
                if received {
                    2
                } else {
                    1
                }
            }
            Status::Received | Status::Assigned => 2,
            Status::Refused => 3,
            Status::Processing | Status::AwaitingApproval | Status::AwaitingAgency => 4,
            Status::SupplementRequested => 5,
            Status::AwaitingPayment => 6,
            Status::WithdrawalRequested => 7,
            Status::Stopped => 8,
            Status::Decided => 9,
            Status::Returned => 10,
        }
    }

    /// No further action is possible.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Refused | Status::Stopped | Status::Returned)
    }

    /// Work remains for the administration (the dossier is in a backlog).
    pub fn is_open(self) -> bool {
        !self.is_final()
    }

    /// Statuses after valid receipt in which the handling unit is working on it.
    fn in_handling(self) -> bool {
        matches!(
            self,
            Status::Received | Status::Assigned | Status::Processing
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was done to a dossier. `Submit` and `Sla*` are recorded by the system, not posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Receive,
    Refuse,
    Assign,
    Claim,
    RequestSupplement,
    SubmitSupplement,
    StartProcessing,
    SendForApproval,
    Approve,
    Reject,
    RequestPayment,
    ConfirmPayment,
    ReturnResult,
    RequestWithdrawal,
    CancelWithdrawal,
    Stop,
    Transfer,
    ApologizeAndExtend,
    SendToAgency,
    AgencyReply,
}

impl Action {
    pub const ALL: [Action; 20] = [
        Action::Receive,
        Action::Refuse,
        Action::Assign,
        Action::Claim,
        Action::RequestSupplement,
        Action::SubmitSupplement,
        Action::StartProcessing,
        Action::SendForApproval,
        Action::Approve,
        Action::Reject,
        Action::RequestPayment,
        Action::ConfirmPayment,
        Action::ReturnResult,
        Action::RequestWithdrawal,
        Action::CancelWithdrawal,
        Action::Stop,
        Action::Transfer,
        Action::ApologizeAndExtend,
        Action::SendToAgency,
        Action::AgencyReply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Receive => "receive",
            Action::Refuse => "refuse",
            Action::Assign => "assign",
            Action::Claim => "claim",
            Action::RequestSupplement => "request_supplement",
            Action::SubmitSupplement => "submit_supplement",
            Action::StartProcessing => "start_processing",
            Action::SendForApproval => "send_for_approval",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::RequestPayment => "request_payment",
            Action::ConfirmPayment => "confirm_payment",
            Action::ReturnResult => "return_result",
            Action::RequestWithdrawal => "request_withdrawal",
            Action::CancelWithdrawal => "cancel_withdrawal",
            Action::Stop => "stop",
            Action::Transfer => "transfer",
            Action::ApologizeAndExtend => "apologize_and_extend",
            Action::SendToAgency => "send_to_agency",
            Action::AgencyReply => "agency_reply",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the applicant sees this step in their history.
    pub fn is_public(self) -> bool {
        !matches!(
            self,
            Action::Assign
                | Action::Claim
                | Action::StartProcessing
                | Action::SendForApproval
                | Action::Transfer
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a clock pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    Supplement,
    Payment,
}

impl PauseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::Supplement => "supplement",
            PauseReason::Payment => "payment",
        }
    }
}

/// The decision's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Approved, Outcome::Rejected]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Something the service must do besides changing the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Valid receipt: the legal clock starts now.
    StartClock,
    /// Pause the clock (supplement always; payment when configured).
    PauseClock(PauseReason),
    /// Resume a paused clock, moving the due date by the paused working time.
    ResumeClock,
    /// Count a supplement request (more than one makes the dossier late).
    CountSupplement,
    /// Remember the status to return to after a pause or payment.
    RememberResume(Status),
    /// Remember the status a withdrawal request interrupted (kept apart from the pause's
    /// own status to return to, so a withdrawal asked during a supplement can be cancelled).
    RememberWithdrawal(Status),
    /// The withdrawal request is over (cancelled).
    ForgetWithdrawal,
    SetAssignee(Option<Uuid>),
    /// Route or transfer to another handling unit (validated by the service).
    SetHandlingUnit(String),
    SetOutcome(Outcome),
    /// Record a new appointment date (Form 04); the legal due date is kept.
    SetAppointment,
    /// Send the dossier to another agency with its share of the time limit (liên thông;
    /// the unit and the share are checked by the dossier).
    Consult(String),
    /// The agency answered: the dossier is back with the handling unit.
    EndConsult,
    /// The dossier is finished.
    Close,
}

/// What the transition function needs to know about the dossier.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub status: Status,
    pub province: &'a str,
    pub receiving_unit: &'a str,
    pub handling_unit: Option<&'a str>,
    pub applicant: Option<Uuid>,
    pub assigned_to: Option<Uuid>,
    pub resume_status: Option<Status>,
    /// The status a pending withdrawal request interrupted.
    pub withdrawn_from: Option<Status>,
    /// The agency consulted (liên thông) while `awaiting_agency`.
    pub consulted_unit: Option<&'a str>,
    /// A sub-dossier of a bundle: its result goes back, and it is withdrawn, with the bundle.
    pub bundle_part: bool,
    pub received: bool,
    pub paused: bool,
}

/// The action's own fields, parsed by the caller. The state machine reads what decides
/// whether the action is possible; [`crate::domain::dossier::Dossier::act`] applies the rest.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub reason: Option<String>,
    /// `assign` in the coordination queue, and `transfer`: the target unit.
    pub unit: Option<String>,
    /// `assign` by a unit head: the clerk.
    pub assignee: Option<Uuid>,
    /// The unit whose active staff (clerk or unit head) the `assignee` is, as the caller
    /// found the account; `None` when it is unknown, disabled or not unit staff.
    pub assignee_unit: Option<UnitCode>,
    /// `request_payment`: the amount.
    pub amount_vnd: Option<i64>,
    /// `apologize_and_extend`: the new appointment.
    pub new_appointment_at: Option<DateTime<Utc>>,
    /// `submit_supplement`: what was added.
    pub documents: Vec<DocumentRef>,
    /// `request_supplement`: the missing component kinds of the procedure (Form 02's list).
    pub components: Vec<String>,
    /// `send_to_agency`: the agency's share of the time limit, in its working days.
    pub working_days: Option<u32>,
    /// `receive`: a longer limit the procedure allows in a named case (with a reason).
    pub variant: Option<String>,
    /// A bundle's `approve` and `reject`: the parts not decided yet, as the caller found
    /// them (each part's procedure code); the bundle is decided only after every part.
    pub parts_pending: Vec<String>,
    pub note: Option<String>,
    /// `return_result`: how the result was handed over (not recorded when absent).
    pub result_delivery: Option<ResultDelivery>,
    /// `confirm_payment` (required) and `receive` (the fee, at the counter): how it was paid.
    pub payment: Option<crate::domain::dossier::Payment>,
}

/// The result of a legal transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    pub effects: Vec<Effect>,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Not possible from this status (409 `invalid_transition`).
    #[error("{action} is not possible while the dossier is {from}")]
    Invalid { action: Action, from: Status },
    /// The caller may not do this to this dossier (403).
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Another clerk already has it (409 `already_claimed`).
    #[error("already claimed")]
    AlreadyClaimed,
    /// A required field is missing (422).
    #[error("{field} is required")]
    Missing { field: &'static str },
    /// A field names something the action cannot use (422 with `code` on `field`): a unit
    /// that cannot take the dossier, an assignee outside the handling unit, an appointment
    /// that is not later.
    #[error("{field}: {code}")]
    InvalidField {
        field: &'static str,
        code: &'static str,
    },
    /// The deadline cannot be computed on the calendar (422 `outside_calendar`).
    #[error("{0}")]
    Calendar(String),
    /// Receipt with mandatory components that have no file (422 `missing_components`).
    #[error("missing components: {0:?}")]
    MissingComponents(Vec<String>),
    /// An electronic result without a result file (422 `result_file_required`).
    #[error("an electronic result needs a result file")]
    ResultFileRequired,
    /// A bundle is decided only when each of its parts is (409 `parts_pending`).
    #[error("parts not decided: {0:?}")]
    PartsPending(Vec<String>),
    /// A part of a bundle returns its result, and is withdrawn, only with the bundle (409
    /// `bundle_part`).
    #[error("a part of a bundle")]
    BundlePart,
    /// The service is rated once its result was returned (409 `result_not_returned`).
    #[error("the result was not returned yet")]
    ResultNotReturned,
    /// Nothing is attached to a closed dossier (409 `case_closed`).
    #[error("the dossier is closed")]
    Closed,
    /// A file cannot be attached by this caller while the dossier is in this status (409
    /// `attach_not_allowed`).
    #[error("no file can be attached while the dossier is {0}")]
    AttachNotNow(Status),
}

impl From<crate::domain::calendar::CalendarError> for TransitionError {
    fn from(e: crate::domain::calendar::CalendarError) -> Self {
        TransitionError::Calendar(e.to_string())
    }
}

fn is_staff_of(actor: &Actor, unit: Option<&str>) -> bool {
    actor.role.is_unit_staff() && unit.is_some() && actor.unit.as_ref().map(|u| u.as_str()) == unit
}

fn is_head_of(actor: &Actor, unit: Option<&str>) -> bool {
    actor.role == Role::UnitHead && is_staff_of(actor, unit)
}

fn is_applicant(actor: &Actor, f: &Facts<'_>) -> bool {
    actor.role == Role::Citizen && f.applicant == Some(actor.account_id)
}

/// The applicant, or for a walk-in without an account the unit staff who filed for them.
fn speaks_for_applicant(actor: &Actor, f: &Facts<'_>, staff_either: bool) -> bool {
    is_applicant(actor, f) || (f.applicant.is_none() && staff_either)
}

/// Coordinators of a province: its supervisors and the staff of its units.
fn is_coordinator(actor: &Actor, province: &str) -> bool {
    match actor.role {
        Role::Supervisor => actor.province.as_deref().is_none_or(|p| p == province),
        Role::Clerk | Role::UnitHead => actor.province.as_deref() == Some(province),
        _ => false,
    }
}

/// A supplement request names what is missing (Form 02 lists the components).
fn need_components(input: &Input) -> Result<(), TransitionError> {
    if input.components.iter().all(|c| c.trim().is_empty()) {
        return Err(TransitionError::Missing {
            field: "components",
        });
    }
    Ok(())
}

fn need_reason(input: &Input) -> Result<(), TransitionError> {
    match input.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Ok(()),
        _ => Err(TransitionError::Missing { field: "reason" }),
    }
}

/// The one function that changes a dossier's status.
pub fn transition(
    f: &Facts<'_>,
    actor: &Actor,
    action: Action,
    input: &Input,
) -> Result<Transition, TransitionError> {
    use Action as A;
    use Status as S;
    let from = f.status;
    let invalid = || TransitionError::Invalid { action, from };
    let ok = |to: Status, effects: Vec<Effect>| Ok(Transition { from, to, effects });
    let handling = f.handling_unit;
    let receiving = Some(f.receiving_unit);
    let staff_handling = is_staff_of(actor, handling);
    let staff_either = staff_handling || is_staff_of(actor, receiving);

    match action {
        A::Receive => {
            if from != S::Submitted {
                return Err(invalid());
            }
            if !is_staff_of(actor, receiving) {
                return Err(TransitionError::Forbidden("receiving_unit_staff_only"));
            }
            // A longer limit is chosen for a stated reason.
            if input.variant.is_some() {
                need_reason(input)?;
            }
            ok(S::Received, vec![Effect::StartClock])
        }
        A::Refuse => {
            match from {
                S::Submitted | S::SupplementAtCounter if is_staff_of(actor, receiving) => {}
                S::AwaitingRouting if is_coordinator(actor, f.province) => {}
                S::Submitted | S::SupplementAtCounter | S::AwaitingRouting => {
                    return Err(TransitionError::Forbidden("receiving_unit_staff_only"))
                }
                _ => return Err(invalid()),
            }
            need_reason(input)?;
            ok(S::Refused, vec![Effect::Close])
        }
        A::Assign => match from {
            S::AwaitingRouting => {
                if !is_coordinator(actor, f.province) {
                    return Err(TransitionError::Forbidden("coordinators_only"));
                }
                let unit = input
                    .unit
                    .clone()
                    .ok_or(TransitionError::Missing { field: "unit" })?;
                let to = if f.received {
                    S::Received
                } else {
                    S::Submitted
                };
                ok(to, vec![Effect::SetHandlingUnit(unit)])
            }
            S::Received | S::Assigned | S::Processing => {
                if !is_head_of(actor, handling) {
                    return Err(TransitionError::Forbidden("unit_head_only"));
                }
                let who = input
                    .assignee
                    .ok_or(TransitionError::Missing { field: "assignee" })?;
                let to = if from == S::Processing {
                    S::Processing
                } else {
                    S::Assigned
                };
                ok(to, vec![Effect::SetAssignee(Some(who))])
            }
            _ => Err(invalid()),
        },
        A::Claim => {
            if from != S::Received {
                if from == S::Assigned && f.assigned_to.is_some() {
                    return Err(TransitionError::AlreadyClaimed);
                }
                return Err(invalid());
            }
            if !staff_handling {
                return Err(TransitionError::Forbidden("handling_unit_staff_only"));
            }
            if f.assigned_to.is_some() {
                return Err(TransitionError::AlreadyClaimed);
            }
            ok(
                S::Assigned,
                vec![Effect::SetAssignee(Some(actor.account_id))],
            )
        }
        A::StartProcessing => match from {
            S::Assigned => {
                if !(f.assigned_to == Some(actor.account_id) || is_head_of(actor, handling)) {
                    return Err(TransitionError::Forbidden("assignee_only"));
                }
                ok(S::Processing, vec![])
            }
            S::Received => {
                if !staff_handling {
                    return Err(TransitionError::Forbidden("handling_unit_staff_only"));
                }
                ok(
                    S::Processing,
                    vec![Effect::SetAssignee(Some(actor.account_id))],
                )
            }
            _ => Err(invalid()),
        },
        A::RequestSupplement => {
            if from == S::Submitted {
                // At the counter, before receipt (Decree 118/2025/NĐ-CP, Form 02): the
                // dossier is not received, so no clock pauses and nothing is counted.
                if !is_staff_of(actor, receiving) {
                    return Err(TransitionError::Forbidden("receiving_unit_staff_only"));
                }
                need_reason(input)?;
                need_components(input)?;
                return ok(S::SupplementAtCounter, vec![]);
            }
            if !from.in_handling() {
                return Err(invalid());
            }
            if !staff_handling {
                return Err(TransitionError::Forbidden("handling_unit_staff_only"));
            }
            need_reason(input)?;
            need_components(input)?;
            ok(
                S::SupplementRequested,
                vec![
                    Effect::RememberResume(from),
                    Effect::PauseClock(PauseReason::Supplement),
                    Effect::CountSupplement,
                ],
            )
        }
        A::SubmitSupplement => {
            if from == S::SupplementAtCounter {
                // Completed online by the applicant or at the counter: back to waiting for
                // receipt, which checks the components again.
                if !(is_applicant(actor, f) || is_staff_of(actor, receiving)) {
                    return Err(TransitionError::Forbidden("applicant_only"));
                }
                return ok(S::Submitted, vec![]);
            }
            if from != S::SupplementRequested {
                return Err(invalid());
            }
            // The applicant online; for a walk-in dossier, a clerk records it at the counter.
            if !(is_applicant(actor, f) || staff_either) {
                return Err(TransitionError::Forbidden("applicant_only"));
            }
            let to = f.resume_status.unwrap_or(S::Received);
            ok(to, vec![Effect::ResumeClock])
        }
        A::SendForApproval => {
            if from != S::Processing {
                return Err(invalid());
            }
            if !(f.assigned_to == Some(actor.account_id) || is_head_of(actor, handling)) {
                return Err(TransitionError::Forbidden("assignee_only"));
            }
            ok(S::AwaitingApproval, vec![])
        }
        A::Approve | A::Reject => {
            if from != S::AwaitingApproval {
                return Err(invalid());
            }
            if !is_head_of(actor, handling) {
                return Err(TransitionError::Forbidden("unit_head_only"));
            }
            if action == A::Reject {
                need_reason(input)?;
            }
            if !input.parts_pending.is_empty() {
                return Err(TransitionError::PartsPending(input.parts_pending.clone()));
            }
            let outcome = if action == A::Approve {
                Outcome::Approved
            } else {
                Outcome::Rejected
            };
            ok(S::Decided, vec![Effect::SetOutcome(outcome)])
        }
        A::RequestPayment => {
            if !matches!(from, S::Processing | S::AwaitingApproval | S::Decided) {
                return Err(invalid());
            }
            if !staff_handling {
                return Err(TransitionError::Forbidden("handling_unit_staff_only"));
            }
            match input.amount_vnd {
                Some(a) if a > crate::domain::dossier::MAX_AMOUNT_VND => {
                    return Err(TransitionError::InvalidField {
                        field: "amount_vnd",
                        code: "amount_too_large",
                    })
                }
                Some(a) if a > 0 => {}
                _ => {
                    return Err(TransitionError::Missing {
                        field: "amount_vnd",
                    })
                }
            }
            ok(
                S::AwaitingPayment,
                vec![
                    Effect::RememberResume(from),
                    Effect::PauseClock(PauseReason::Payment),
                ],
            )
        }
        A::ConfirmPayment => {
            if from != S::AwaitingPayment {
                return Err(invalid());
            }
            if !staff_either {
                return Err(TransitionError::Forbidden("unit_staff_only"));
            }
            if input.payment.is_none() {
                return Err(TransitionError::Missing {
                    field: "payment_channel",
                });
            }
            let to = f.resume_status.unwrap_or(S::Processing);
            ok(to, vec![Effect::ResumeClock])
        }
        A::ReturnResult => {
            if from != S::Decided {
                return Err(invalid());
            }
            if f.bundle_part {
                return Err(TransitionError::BundlePart);
            }
            if !staff_either {
                return Err(TransitionError::Forbidden("unit_staff_only"));
            }
            ok(S::Returned, vec![Effect::Close])
        }
        A::RequestWithdrawal => {
            if !from.is_open() || matches!(from, S::WithdrawalRequested | S::Decided) {
                return Err(invalid());
            }
            // The applicant withdraws the bundle they filed, not one of its parts.
            if f.bundle_part {
                return Err(TransitionError::BundlePart);
            }
            if !speaks_for_applicant(actor, f, staff_either) {
                return Err(TransitionError::Forbidden("applicant_only"));
            }
            ok(
                S::WithdrawalRequested,
                vec![Effect::RememberWithdrawal(from)],
            )
        }
        A::CancelWithdrawal => {
            // The applicant changes their mind before the unit stops the dossier: it goes on
            // where it was (Decree 118/2025/NĐ-CP sets no pause for a withdrawal request, so
            // the clock never stopped).
            if from != S::WithdrawalRequested {
                return Err(invalid());
            }
            if !speaks_for_applicant(actor, f, staff_either) {
                return Err(TransitionError::Forbidden("applicant_only"));
            }
            let to = f.withdrawn_from.ok_or_else(invalid)?;
            ok(to, vec![Effect::ForgetWithdrawal])
        }
        A::Stop => {
            let unit = handling.or(receiving);
            match from {
                S::WithdrawalRequested => {
                    if !(is_staff_of(actor, unit) || is_staff_of(actor, receiving)) {
                        return Err(TransitionError::Forbidden("unit_staff_only"));
                    }
                }
                S::Received
                | S::Assigned
                | S::Processing
                | S::AwaitingApproval
                | S::AwaitingAgency
                | S::SupplementRequested
                | S::AwaitingPayment => {
                    if !is_head_of(actor, handling) {
                        return Err(TransitionError::Forbidden("unit_head_only"));
                    }
                    need_reason(input)?;
                }
                _ => return Err(invalid()),
            }
            ok(S::Stopped, vec![Effect::Close])
        }
        A::Transfer => {
            if !from.in_handling() {
                return Err(invalid());
            }
            if !staff_handling {
                return Err(TransitionError::Forbidden("handling_unit_staff_only"));
            }
            need_reason(input)?;
            let unit = input
                .unit
                .clone()
                .ok_or(TransitionError::Missing { field: "unit" })?;
            ok(
                S::Received,
                vec![Effect::SetHandlingUnit(unit), Effect::SetAssignee(None)],
            )
        }
        A::ApologizeAndExtend => {
            if !(from.in_handling()
                || matches!(
                    from,
                    S::AwaitingApproval
                        | S::AwaitingAgency
                        | S::SupplementRequested
                        | S::AwaitingPayment
                ))
            {
                return Err(invalid());
            }
            if !staff_handling {
                return Err(TransitionError::Forbidden("handling_unit_staff_only"));
            }
            need_reason(input)?;
            if input.new_appointment_at.is_none() {
                return Err(TransitionError::Missing {
                    field: "new_appointment_at",
                });
            }
            ok(from, vec![Effect::SetAppointment])
        }
        A::SendToAgency => {
            // Liên thông: the handling unit asks another agency for its opinion, a
            // verification or its part of the decision (Decree 118/2025/NĐ-CP; Form 06).
            if !from.in_handling() {
                return Err(invalid());
            }
            if !staff_handling {
                return Err(TransitionError::Forbidden("handling_unit_staff_only"));
            }
            need_reason(input)?;
            let unit = input
                .unit
                .clone()
                .ok_or(TransitionError::Missing { field: "unit" })?;
            match input.working_days {
                Some(d) if d > 0 => {}
                _ => {
                    return Err(TransitionError::Missing {
                        field: "working_days",
                    })
                }
            }
            ok(
                S::AwaitingAgency,
                vec![Effect::RememberResume(from), Effect::Consult(unit)],
            )
        }
        A::AgencyReply => {
            if from != S::AwaitingAgency {
                return Err(invalid());
            }
            if !is_staff_of(actor, f.consulted_unit) {
                return Err(TransitionError::Forbidden("consulted_agency_only"));
            }
            let to = f.resume_status.unwrap_or(S::Processing);
            ok(to, vec![Effect::EndConsult])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::unit::UnitCode;

    fn actor(role: Role, unit: Option<&str>) -> Actor {
        Actor {
            account_id: Uuid::from_u128(role as u128 + 100),
            username: "x".into(),
            role,
            unit: unit.map(|u| UnitCode::parse(u).unwrap()),
            province: Some("01".into()),
        }
    }

    fn facts(status: Status) -> Facts<'static> {
        Facts {
            status,
            province: "01",
            receiving_unit: "01.00004.TTPVHCC",
            handling_unit: Some("01.00004.UBND"),
            applicant: Some(Uuid::from_u128(7)),
            assigned_to: None,
            resume_status: None,
            withdrawn_from: None,
            consulted_unit: None,
            bundle_part: false,
            received: status != Status::Submitted,
            paused: false,
        }
    }

    fn reason() -> Input {
        Input {
            reason: Some("thiếu giấy tờ".into()),
            components: vec!["to_khai".into()],
            ..Default::default()
        }
    }

    #[test]
    fn happy_path() {
        let reception = actor(Role::Clerk, Some("01.00004.TTPVHCC"));
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"));
        let head = actor(Role::UnitHead, Some("01.00004.UBND"));
        let t = transition(
            &facts(Status::Submitted),
            &reception,
            Action::Receive,
            &Input::default(),
        )
        .unwrap();
        assert_eq!(
            (t.to, t.effects),
            (Status::Received, vec![Effect::StartClock])
        );
        let t = transition(
            &facts(Status::Received),
            &clerk,
            Action::Claim,
            &Input::default(),
        )
        .unwrap();
        assert_eq!(t.to, Status::Assigned);
        let mut f = facts(Status::Assigned);
        f.assigned_to = Some(clerk.account_id);
        assert_eq!(
            transition(&f, &clerk, Action::StartProcessing, &Input::default())
                .unwrap()
                .to,
            Status::Processing
        );
        f.status = Status::Processing;
        assert_eq!(
            transition(&f, &clerk, Action::SendForApproval, &Input::default())
                .unwrap()
                .to,
            Status::AwaitingApproval
        );
        f.status = Status::AwaitingApproval;
        assert!(matches!(
            transition(&f, &clerk, Action::Approve, &Input::default()),
            Err(TransitionError::Forbidden(_))
        ));
        assert_eq!(
            transition(&f, &head, Action::Approve, &Input::default())
                .unwrap()
                .to,
            Status::Decided
        );
        f.status = Status::Decided;
        let t = transition(&f, &reception, Action::ReturnResult, &Input::default()).unwrap();
        assert_eq!((t.to, t.effects), (Status::Returned, vec![Effect::Close]));
    }

    #[test]
    fn every_action_from_a_final_status_is_invalid() {
        let head = actor(Role::UnitHead, Some("01.00004.UBND"));
        for status in [Status::Refused, Status::Stopped, Status::Returned] {
            for action in Action::ALL {
                let r = transition(&facts(status), &head, action, &reason());
                assert!(
                    matches!(r, Err(TransitionError::Invalid { .. })),
                    "{action} from {status}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn supplement_pauses_and_resumes_to_where_it_was() {
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"));
        let t = transition(
            &facts(Status::Processing),
            &clerk,
            Action::RequestSupplement,
            &reason(),
        )
        .unwrap();
        assert_eq!(t.to, Status::SupplementRequested);
        assert!(t
            .effects
            .contains(&Effect::PauseClock(PauseReason::Supplement)));
        assert!(t
            .effects
            .contains(&Effect::RememberResume(Status::Processing)));
        let mut f = facts(Status::SupplementRequested);
        f.resume_status = Some(Status::Processing);
        let citizen = Actor {
            account_id: Uuid::from_u128(7),
            ..actor(Role::Citizen, None)
        };
        let t = transition(&f, &citizen, Action::SubmitSupplement, &Input::default()).unwrap();
        assert_eq!(
            (t.to, t.effects),
            (Status::Processing, vec![Effect::ResumeClock])
        );
        let stranger = actor(Role::Citizen, None);
        assert!(matches!(
            transition(&f, &stranger, Action::SubmitSupplement, &Input::default()),
            Err(TransitionError::Forbidden(_))
        ));
        assert_eq!(
            transition(
                &facts(Status::Processing),
                &clerk,
                Action::RequestSupplement,
                &Input::default()
            ),
            Err(TransitionError::Missing { field: "reason" })
        );
    }

    #[test]
    fn claims_are_exclusive_and_scoped() {
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"));
        let other_unit = actor(Role::Clerk, Some("01.00008.UBND"));
        let mut f = facts(Status::Received);
        assert!(matches!(
            transition(&f, &other_unit, Action::Claim, &Input::default()),
            Err(TransitionError::Forbidden(_))
        ));
        f.status = Status::Assigned;
        f.assigned_to = Some(Uuid::from_u128(1));
        assert_eq!(
            transition(&f, &clerk, Action::Claim, &Input::default()),
            Err(TransitionError::AlreadyClaimed)
        );
    }

    #[test]
    fn national_codes() {
        assert_eq!(Status::Submitted.national(false), 1);
        assert_eq!(Status::AwaitingRouting.national(true), 2);
        assert_eq!(Status::SupplementRequested.national(true), 5);
        assert_eq!(Status::Returned.national(true), 10);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert!((1..=10).contains(&s.national(true)));
        }
    }

    #[test]
    fn withdrawal_is_two_steps() {
        let citizen = Actor {
            account_id: Uuid::from_u128(7),
            ..actor(Role::Citizen, None)
        };
        let t = transition(
            &facts(Status::Processing),
            &citizen,
            Action::RequestWithdrawal,
            &Input::default(),
        )
        .unwrap();
        assert_eq!(t.to, Status::WithdrawalRequested);
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"));
        let t = transition(
            &facts(Status::WithdrawalRequested),
            &clerk,
            Action::Stop,
            &Input::default(),
        )
        .unwrap();
        assert_eq!(t.to, Status::Stopped);
    }

    /// Decree 118/2025/NĐ-CP (receipt): incomplete at the counter → Form 02, not received.
    #[test]
    fn a_counter_supplement_is_before_receipt() {
        let reception = actor(Role::Clerk, Some("01.00004.TTPVHCC"));
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"));
        let t = transition(
            &facts(Status::Submitted),
            &reception,
            Action::RequestSupplement,
            &reason(),
        )
        .unwrap();
        assert_eq!((t.to, t.effects), (Status::SupplementAtCounter, vec![]));
        assert_eq!(Status::SupplementAtCounter.national(false), 1);
        assert!(matches!(
            transition(
                &facts(Status::Submitted),
                &clerk,
                Action::RequestSupplement,
                &reason()
            ),
            Err(TransitionError::Forbidden(_))
        ));
        let no_components = Input {
            components: vec![],
            ..reason()
        };
        assert_eq!(
            transition(
                &facts(Status::Submitted),
                &reception,
                Action::RequestSupplement,
                &no_components
            ),
            Err(TransitionError::Missing {
                field: "components"
            })
        );
        let t = transition(
            &facts(Status::SupplementAtCounter),
            &reception,
            Action::SubmitSupplement,
            &Input::default(),
        )
        .unwrap();
        assert_eq!((t.to, t.effects), (Status::Submitted, vec![]));
        assert!(matches!(
            transition(
                &facts(Status::SupplementAtCounter),
                &reception,
                Action::Receive,
                &Input::default()
            ),
            Err(TransitionError::Invalid { .. })
        ));
    }

    #[test]
    fn a_withdrawal_request_is_cancelled_back_to_where_it_was() {
        let citizen = Actor {
            account_id: Uuid::from_u128(7),
            ..actor(Role::Citizen, None)
        };
        let t = transition(
            &facts(Status::SupplementRequested),
            &citizen,
            Action::RequestWithdrawal,
            &Input::default(),
        )
        .unwrap();
        assert_eq!(
            t.effects,
            vec![Effect::RememberWithdrawal(Status::SupplementRequested)]
        );
        let mut f = facts(Status::WithdrawalRequested);
        f.withdrawn_from = Some(Status::SupplementRequested);
        let t = transition(&f, &citizen, Action::CancelWithdrawal, &Input::default()).unwrap();
        assert_eq!(
            (t.to, t.effects),
            (Status::SupplementRequested, vec![Effect::ForgetWithdrawal])
        );
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"));
        assert!(matches!(
            transition(&f, &clerk, Action::CancelWithdrawal, &Input::default()),
            Err(TransitionError::Forbidden(_))
        ));
    }
}
