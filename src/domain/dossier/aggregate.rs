//! The dossier aggregate: a dossier's state, and the only code that changes it.
//!
//! [`Dossier::file`] makes a new dossier, [`Dossier::act`] applies an action (the state
//! machine's checks in [`lifecycle::transition`], then every effect), [`Dossier::sla_check`]
//! moves its SLA state for the sweeper and [`Dossier::recompute_deadline`] moves its deadline
//! after a calendar announcement. Each returns the events it caused, and each leaves the
//! dossier unchanged when it refuses. Pure: the caller loads the dossier, calls one of these,
//! and saves the dossier with its events in one transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{Channel, DocumentRef, DossierCode, ResultDelivery};
use crate::domain::access::{Actor, CaseFacts};
use crate::domain::account::{Email, IdNumber, Phone, Role, TaxCode};
use crate::domain::calendar::WorkCalendar;
use crate::domain::geography::{ProvinceCode, WardCode};
use crate::domain::lifecycle::{
    self, Action, Effect, Facts, Input, Outcome, PauseReason, Status, TransitionError,
};
use crate::domain::procedure::{ProcedureCode, ProcedureSpec, StepKey};
use crate::domain::routing::{UnitDirectory, UnitInfo};
use crate::domain::sla::{self, SlaState};
use crate::domain::unit::UnitCode;

/// Decision 766 counts a dossier as decided on time when it was decided by its legal
/// deadline (moved by supplement pauses) after at most this many supplement requests.
pub const ON_TIME_MAX_SUPPLEMENTS: i32 = 1;

/// The on-time verdict of Decision 766, given when a dossier is decided.
pub fn on_time(decided_at: DateTime<Utc>, due_at: DateTime<Utc>, supplements: i32) -> bool {
    decided_at <= due_at && supplements <= ON_TIME_MAX_SUPPLEMENTS
}

/// The applicant, as given at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// The citizen's account, for online filings.
    pub account: Option<Uuid>,
    pub full_name: String,
    pub id_number: Option<IdNumber>,
    pub tax_code: Option<TaxCode>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
}

/// The handling step a dossier is in, with its budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub key: StepKey,
    pub started_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// A dossier. `id` is 0 and `code` `None` until the database has numbered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    pub id: i64,
    pub code: Option<DossierCode>,
    pub procedure_code: ProcedureCode,
    /// The procedure version in force at filing, kept for the dossier's whole life.
    pub procedure_version: i32,
    pub channel: Channel,
    pub status: Status,
    /// Grows by one with every accepted action (optimistic concurrency).
    pub version: i32,
    pub applicant: Applicant,
    /// The address as the applicant wrote it.
    pub address: Value,
    pub ward_code: Option<WardCode>,
    pub province_code: ProvinceCode,
    pub receiving_unit: UnitCode,
    pub handling_unit: Option<UnitCode>,
    pub assigned_to: Option<Uuid>,
    pub form: Value,
    pub documents: Value,
    /// How it was routed at intake (status, explanations in both languages, candidates).
    pub routing: Value,
    pub submitted_at: DateTime<Utc>,
    /// Valid receipt: the legal clock started.
    pub received_at: Option<DateTime<Utc>>,
    /// The legal deadline, moved only by pauses and calendar announcements.
    pub due_at: Option<DateTime<Utc>>,
    /// The deadline as first computed at receipt.
    pub original_due_at: Option<DateTime<Utc>>,
    /// The appointment given to the applicant (Form 01; Form 04 sets a later one).
    pub appointment_at: Option<DateTime<Utc>>,
    pub at_risk_at: Option<DateTime<Utc>>,
    pub sla_state: SlaState,
    /// When the SLA sweeper looks at it next (`None`: never, until something changes).
    pub next_check_at: Option<DateTime<Utc>>,
    /// The clock is paused since then (supplement, or payment where that pauses it).
    pub paused_at: Option<DateTime<Utc>>,
    pub paused_working_secs: i64,
    /// The status to go back to after a supplement or a payment.
    pub resume_status: Option<Status>,
    /// The status a pending withdrawal request interrupted (`cancel_withdrawal` goes back).
    pub withdrawn_from: Option<Status>,
    /// The agency that has the dossier for its part (liên thông), and when its share ends
    /// (on its own calendar).
    pub consulted_unit: Option<UnitCode>,
    pub consult_due_at: Option<DateTime<Utc>>,
    /// The procedure's longer limit chosen at receipt for a named case (`None`: the usual).
    pub limit_variant: Option<String>,
    /// A sub-dossier of a bundle (Decree 63/2024): the bundle's code, and this part's share
    /// of the combined limit in working hours, which is its limit.
    pub bundle_code: Option<DossierCode>,
    pub part_share_hours: Option<u32>,
    pub supplement_count: i32,
    pub step: Option<StepState>,
    pub outcome: Option<Outcome>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub processing_working_secs: Option<i64>,
    /// Decision 766's verdict, given at the decision ([`on_time`]).
    pub on_time: Option<bool>,
    pub result_delivery: Option<ResultDelivery>,
    /// Where the applicant collects the result (a reception point of the province, chosen at
    /// intake; `None`: where it was received).
    pub result_point: Option<UnitCode>,
    /// The fee the province set for the procedure when the dossier was filed (`None`: none).
    pub fee_vnd: Option<i64>,
    /// An amount asked for with `request_payment`, until it is paid.
    pub payment_due_vnd: Option<i64>,
    /// What was paid, oldest first.
    pub receipts: Vec<super::payment::Receipt>,
    /// The last payment, and whether any went through the online gateway (Decision 766's
    /// online-payment indicator reads these two).
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_online: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What happened to a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Filed online, waiting for receipt.
    Submitted,
    /// Filed and received at the counter (a walk-in), recorded as `receive`.
    ReceivedAtCounter,
    Action(Action),
    /// The SLA state moved, to `at_risk` or `overdue`.
    Sla {
        from: SlaState,
        to: SlaState,
    },
    /// A calendar announcement moved the deadline.
    DeadlineRecomputed,
    /// Anonymous tracking of the dossier was blocked after repeated wrong digits.
    TrackingBlocked,
    /// A file was attached (by the applicant, the counter or the handling unit).
    DocumentAttached,
    /// A bundle's part was opened at its competent unit (the sub-dossier's first event).
    PartOpened,
    /// A part of this bundle was decided (the bundle's history).
    PartDecided,
    /// The part's bundle was closed, and the part with it.
    ClosedWithBundle,
    /// The applicant rated the service.
    Rated,
}

impl EventKind {
    /// The event's name in the history.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Submitted => "submit",
            EventKind::ReceivedAtCounter => "receive",
            EventKind::Action(a) => a.as_str(),
            EventKind::Sla {
                to: SlaState::Overdue,
                ..
            } => "sla_overdue",
            EventKind::Sla { .. } => "sla_at_risk",
            EventKind::DeadlineRecomputed => "deadline_recomputed",
            EventKind::TrackingBlocked => "tracking_blocked",
            EventKind::DocumentAttached => "attach_document",
            EventKind::PartOpened => "open_part",
            EventKind::PartDecided => "part_decided",
            EventKind::ClosedWithBundle => "close_with_bundle",
            EventKind::Rated => "feedback",
        }
    }
}

/// Who caused an event (`None` on [`DossierEvent::actor`]: the system).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventActor {
    pub id: Uuid,
    pub role: Role,
    pub unit: Option<UnitCode>,
}

impl From<&Actor> for EventActor {
    fn from(a: &Actor) -> Self {
        EventActor {
            id: a.account_id,
            role: a.role,
            unit: a.unit.clone(),
        }
    }
}

/// What an event did to the clock's pause record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseChange {
    Started(PauseReason),
    /// The open pause ended, after this many working seconds.
    Ended {
        working_secs: i64,
    },
}

/// One step of a dossier's history, as the dossier decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierEvent {
    pub kind: EventKind,
    pub actor: Option<EventActor>,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub reason: Option<String>,
    /// The facts of the step: forms issued (01–06), clock moves, units, amounts.
    pub data: Map<String, Value>,
    /// Whether the applicant sees it in their history and is told about it.
    pub public: bool,
    pub at: DateTime<Utc>,
    pub pause: Option<PauseChange>,
}

impl DossierEvent {
    /// The actor's role as recorded (`system` for the sweeper and recomputations).
    pub fn actor_role(&self) -> &'static str {
        self.actor.as_ref().map_or("system", |a| a.role.as_str())
    }
}

/// The working calendars by unit (the service's calendar set implements it).
pub trait CalendarSource {
    /// The calendar of `unit`'s office hours; the default one for no unit.
    fn calendar_of(&self, unit: Option<&UnitInfo>) -> Arc<WorkCalendar>;
}

/// One calendar for every unit (tests, benchmarks).
impl CalendarSource for Arc<WorkCalendar> {
    fn calendar_of(&self, _: Option<&UnitInfo>) -> Arc<WorkCalendar> {
        self.clone()
    }
}

/// What the dossier's rules need besides the dossier: its procedure as pinned, the unit
/// directory, the calendars and the configured policy.
pub struct Rules<'a> {
    pub spec: &'a ProcedureSpec,
    pub units: &'a UnitDirectory,
    pub calendars: &'a dyn CalendarSource,
    /// The share of the working time after which a dossier is at risk, unless its
    /// procedure sets its own.
    pub at_risk_ratio: f64,
    /// Whether waiting for a payment pauses the clock, unless the procedure says.
    pub payment_pauses_clock: bool,
}

impl Rules<'_> {
    /// The calendar of a unit (the default one for an unknown unit).
    pub fn calendar(&self, unit: Option<&UnitCode>) -> Arc<WorkCalendar> {
        let info = unit.and_then(|u| self.units.unit(u.as_str()));
        self.calendars.calendar_of(info.map(|u| u.as_ref()))
    }

    fn risk_ratio(&self) -> f64 {
        self.spec.at_risk_ratio.unwrap_or(self.at_risk_ratio)
    }

    /// Whether waiting for a payment pauses this procedure's clock: its own rule, else the
    /// configured default.
    fn payment_pauses_clock(&self) -> bool {
        self.spec
            .payment_pauses_clock
            .unwrap_or(self.payment_pauses_clock)
    }
}

/// A dossier to file: what intake decided (routing, channel, applicant) before it exists.
#[derive(Debug, Clone)]
pub struct Filing {
    pub procedure_code: ProcedureCode,
    pub procedure_version: i32,
    pub channel: Channel,
    /// `Submitted` when routed, `AwaitingRouting` for the coordination queue.
    pub routed_status: Status,
    pub applicant: Applicant,
    pub address: Value,
    pub ward_code: Option<WardCode>,
    pub province_code: ProvinceCode,
    pub receiving_unit: UnitCode,
    pub handling_unit: Option<UnitCode>,
    pub form: Value,
    pub documents: Value,
    pub routing: Value,
    /// The collection point chosen at intake (checked by routing).
    pub result_point: Option<UnitCode>,
    /// The province's fee for the procedure at filing.
    pub fee_vnd: Option<i64>,
    /// The fee paid with the filing (online: through the gateway; walk-in: at the counter).
    pub payment: Option<super::payment::Payment>,
}

impl Dossier {
    /// File a dossier. A walk-in (in person or by post) is received at once: its clock
    /// starts now, on the handling unit's calendar (the receiving unit's while it waits
    /// for routing). Returns it with its first event.
    pub fn file(
        f: Filing,
        filer: &Actor,
        rules: &Rules<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Dossier, DossierEvent), TransitionError> {
        let walk_in = f.channel != Channel::Online;
        // A walk-in is received at once only with every mandatory component's file (scans
        // uploaded first); otherwise it waits for them as an online filing does.
        // A bundle is received by the `receive` action, which opens its parts in the same
        // transaction (`services::bundles`).
        let received = walk_in
            && !rules.spec.is_bundle()
            && super::documents::missing_from(&f.documents, rules.spec).is_empty();
        let status = if received && f.routed_status == Status::Submitted {
            Status::Received
        } else {
            f.routed_status
        };
        let mut d = Dossier {
            id: 0,
            code: None,
            procedure_code: f.procedure_code,
            procedure_version: f.procedure_version,
            channel: f.channel,
            status,
            version: 1,
            applicant: Applicant {
                account: (filer.role == Role::Citizen).then_some(filer.account_id),
                ..f.applicant
            },
            address: f.address,
            ward_code: f.ward_code,
            province_code: f.province_code,
            receiving_unit: f.receiving_unit,
            handling_unit: f.handling_unit,
            assigned_to: None,
            form: f.form,
            documents: f.documents,
            routing: f.routing,
            submitted_at: now,
            received_at: None,
            due_at: None,
            original_due_at: None,
            appointment_at: None,
            at_risk_at: None,
            sla_state: SlaState::NotStarted,
            next_check_at: None,
            paused_at: None,
            paused_working_secs: 0,
            resume_status: None,
            withdrawn_from: None,
            consulted_unit: None,
            consult_due_at: None,
            limit_variant: None,
            bundle_code: None,
            part_share_hours: None,
            supplement_count: 0,
            step: None,
            outcome: None,
            decided_at: None,
            closed_at: None,
            processing_working_secs: None,
            on_time: None,
            result_delivery: None,
            result_point: f.result_point,
            fee_vnd: f.fee_vnd.filter(|f| *f > 0),
            payment_due_vnd: None,
            receipts: Vec::new(),
            paid_at: None,
            paid_online: false,
            created_at: now,
            updated_at: now,
        };
        let mut receipt = None;
        if let Some(payment) = &f.payment {
            // Online, the applicant pays through the gateway; the counter takes any channel.
            if filer.role == Role::Citizen
                && payment.channel != super::payment::PaymentChannel::OnlineGateway
            {
                return Err(TransitionError::InvalidField {
                    field: "payment_channel",
                    code: "online_gateway_only",
                });
            }
            let unit = d.receiving_unit.clone();
            receipt = Some(d.take_fee(payment, &unit, now)?);
        }
        if received {
            let clock_unit = d.handling_unit.clone().unwrap_or(d.receiving_unit.clone());
            let cal = rules.calendar(Some(&clock_unit));
            d.start_clock(&cal, rules, now)?;
            if status == Status::Received {
                d.enter_step(rules.spec, &cal, now);
            }
        }
        let routing_status = d.routing.get("status").cloned().unwrap_or(Value::Null);
        let mut data = Map::new();
        data.insert("channel".into(), json!(d.channel));
        data.insert("procedure_version".into(), json!(d.procedure_version));
        data.insert("form".into(), json!(received.then_some("01")));
        data.insert("due_at".into(), json!(d.due_at));
        data.insert("routing".into(), routing_status);
        if let Some(r) = receipt {
            data.insert("receipt".into(), r);
        }
        let event = DossierEvent {
            kind: if received {
                EventKind::ReceivedAtCounter
            } else {
                EventKind::Submitted
            },
            actor: Some(filer.into()),
            from_status: None,
            to_status: status,
            reason: None,
            data,
            public: true,
            at: now,
            pause: None,
        };
        Ok((d, event))
    }

    /// The dossier's legal limit: a part's share of its bundle's combined limit, or the
    /// procedure's (with the variant chosen at receipt).
    pub fn limit(&self, spec: &ProcedureSpec) -> crate::domain::procedure::Limit {
        match self.part_share_hours {
            Some(hours) => crate::domain::procedure::Limit::WorkingHours { hours },
            None => spec.limit_with(self.limit_variant.as_deref()),
        }
    }

    /// The national status code (1–10), derived from the internal status.
    pub fn national_status(&self) -> u8 {
        self.status.national(self.received_at.is_some())
    }

    /// The dossier code, or `""` before it is numbered.
    pub fn code_str(&self) -> &str {
        self.code.as_ref().map_or("", DossierCode::as_str)
    }

    /// The unit that has the dossier: the handling unit, or the receiving one before routing.
    pub fn current_unit(&self) -> &UnitCode {
        self.handling_unit.as_ref().unwrap_or(&self.receiving_unit)
    }

    /// What decides who may see the dossier.
    pub fn access_facts(&self) -> CaseFacts<'_> {
        CaseFacts {
            applicant_account: self.applicant.account,
            province: self.province_code_str(),
            receiving_unit: Some(self.receiving_unit.as_str()),
            handling_unit: self.handling_unit.as_ref().map(UnitCode::as_str),
            consulted_unit: self.consulted_unit.as_ref().map(UnitCode::as_str),
        }
    }

    fn province_code_str(&self) -> &str {
        // ProvinceCode is a number; the zero-padded text is what the access rules compare.
        PROVINCES[self.province_code.value() as usize % PROVINCES.len()]
    }

    /// What the state machine needs to know.
    fn facts(&self) -> Facts<'_> {
        Facts {
            status: self.status,
            province: self.province_code_str(),
            receiving_unit: self.receiving_unit.as_str(),
            handling_unit: self.handling_unit.as_ref().map(UnitCode::as_str),
            applicant: self.applicant.account,
            assigned_to: self.assigned_to,
            resume_status: self.resume_status,
            withdrawn_from: self.withdrawn_from,
            consulted_unit: self.consulted_unit.as_ref().map(UnitCode::as_str),
            bundle_part: self.bundle_code.is_some(),
            received: self.received_at.is_some(),
            paused: self.paused_at.is_some(),
        }
    }

    /// Working time left before the legal deadline on `cal` (negative: overdue by that much);
    /// `None` before the clock starts or once the dossier is decided. While the clock is
    /// paused the time left is the time left when it paused.
    pub fn working_secs_left(&self, cal: &WorkCalendar, now: DateTime<Utc>) -> Option<i64> {
        let due = self.due_at?;
        if self.decided_at.is_some() || !self.status.is_open() {
            return None;
        }
        let at = self.paused_at.unwrap_or(now);
        Some(if due >= at {
            cal.working_secs_between(at, due)
        } else {
            -cal.working_secs_between(due, at)
        })
    }

    /// Whether `actor` sees the applicant's identity and contact details in full: the
    /// applicant and the staff of the units that receive or handle the dossier, who need them
    /// to work it. Everyone else in scope (supervisors, administrators) sees them masked.
    pub fn shows_personal_data_to(&self, actor: &Actor) -> bool {
        if actor.role == Role::Citizen {
            return self.applicant.account == Some(actor.account_id);
        }
        actor.role.is_unit_staff()
            && actor.unit.as_ref().is_some_and(|u| {
                *u == self.receiving_unit
                    || self.handling_unit.as_ref() == Some(u)
                    || self.consulted_unit.as_ref() == Some(u)
            })
    }

    /// The actions `actor` may take now, in [`Action::ALL`]'s order: each is put to the state
    /// machine with every field filled in, and kept unless refused for the dossier's status or
    /// for who the caller is. A page shows these as its buttons; the action itself is still
    /// checked in full when taken.
    pub fn available_actions(&self, actor: &Actor) -> Vec<Action> {
        let probe = Input {
            reason: Some("-".into()),
            unit: Some(self.current_unit().to_string()),
            assignee: Some(actor.account_id),
            assignee_unit: actor.unit.clone(),
            amount_vnd: Some(1),
            new_appointment_at: Some(DateTime::<Utc>::MAX_UTC),
            documents: vec![DocumentRef {
                kind: "-".into(),
                document_id: None,
            }],
            components: vec!["-".into()],
            working_days: Some(1),
            variant: None,
            note: None,
            result_delivery: Some(ResultDelivery::InPerson),
            parts_pending: Vec::new(),
            payment: Some(super::payment::Payment {
                channel: super::payment::PaymentChannel::Cash,
                reference: None,
            }),
        };
        let facts = self.facts();
        Action::ALL
            .into_iter()
            .filter(|&action| {
                !matches!(
                    lifecycle::transition(&facts, actor, action, &probe),
                    Err(TransitionError::Invalid { .. }
                        | TransitionError::Forbidden(_)
                        | TransitionError::AlreadyClaimed
                        | TransitionError::BundlePart)
                )
            })
            .collect()
    }

    /// Apply `action` by `actor`: the state machine's checks, then every effect, the step,
    /// the version. A refused action leaves the dossier as it was.
    pub fn act(
        &mut self,
        actor: &Actor,
        action: Action,
        input: &Input,
        rules: &Rules<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DossierEvent>, TransitionError> {
        let t = lifecycle::transition(&self.facts(), actor, action, input)?;
        let variant = match input.variant.as_deref() {
            Some(key) if action == Action::Receive => Some(rules.spec.variant(key).ok_or(
                TransitionError::InvalidField {
                    field: "variant",
                    code: "unknown_variant",
                },
            )?),
            _ => None,
        };
        // Receipt checks the components against the procedure version (Decision 766 counts
        // a dossier received with its papers complete); nothing changes when one is missing.
        if action == Action::Receive {
            let missing = self.missing_components(rules.spec);
            if !missing.is_empty() {
                return Err(TransitionError::MissingComponents(missing));
            }
        }
        if action == Action::RequestSupplement {
            check_components(&input.components, rules.spec)?;
            // Form 02 lists what is missing, whether at the counter or after receipt.
        }
        if action == Action::ReturnResult
            && input.result_delivery == Some(ResultDelivery::Electronic)
            && !self.has_result_file()
        {
            return Err(TransitionError::ResultFileRequired);
        }
        // Effects are applied to a copy, kept only if every one of them succeeds.
        let mut d = self.clone();
        let mut data = Map::new();
        let mut pause = None;
        for effect in &t.effects {
            match effect {
                Effect::StartClock => {
                    d.limit_variant = variant.map(|v| v.key.clone());
                    let cal = rules.calendar(d.handling_unit.as_ref());
                    let due = d.start_clock(&cal, rules, now)?;
                    data.insert("form".into(), json!("01"));
                    data.insert("due_at".into(), json!(due));
                    if let Some(v) = variant {
                        data.insert("variant".into(), json!(v.key));
                        data.insert("variant_hours".into(), json!(v.time_limit_hours));
                        data.insert("variant_basis".into(), json!(v.legal_basis));
                    }
                }
                Effect::PauseClock(reason) => {
                    if *reason == PauseReason::Payment && !rules.payment_pauses_clock() {
                        continue;
                    }
                    if self.received_at.is_some() && self.paused_at.is_none() {
                        d.paused_at = Some(now);
                        d.next_check_at = None;
                        pause = Some(PauseChange::Started(*reason));
                        data.insert("clock".into(), json!("paused"));
                    }
                }
                Effect::ResumeClock => {
                    if let (Some(paused_at), Some(due), Some(risk)) =
                        (self.paused_at, self.due_at, self.at_risk_at)
                    {
                        let cal = rules.calendar(d.handling_unit.as_ref());
                        let paused = cal.working_secs_between(paused_at, now);
                        let new_due = cal.extend_due(due, paused)?;
                        let new_risk = cal.extend_due(risk, paused)?;
                        d.paused_at = None;
                        d.paused_working_secs += paused;
                        d.due_at = Some(new_due);
                        d.at_risk_at = Some(new_risk);
                        // The appointment moves with the deadline unless an apology set a
                        // later one.
                        let appointment = self.appointment_at.map(|a| {
                            if a <= due {
                                new_due
                            } else {
                                a.max(new_due)
                            }
                        });
                        d.appointment_at = appointment.or(Some(new_due));
                        if let Some(step) = &mut d.step {
                            step.due_at = step.due_at.and_then(|s| cal.extend_due(s, paused).ok());
                        }
                        // The state never goes back (a warning given stays given); only the
                        // next check moves.
                        let evaluated = sla::state_at(now, new_risk, new_due).max(d.sla_state);
                        d.next_check_at =
                            sla::next_check(evaluated, new_risk, new_due).map(|t| t.max(now));
                        pause = Some(PauseChange::Ended {
                            working_secs: paused,
                        });
                        data.insert("clock".into(), json!("resumed"));
                        data.insert("paused_working_secs".into(), json!(paused));
                        data.insert("previous_due_at".into(), json!(due));
                        data.insert("due_at".into(), json!(new_due));
                    }
                }
                Effect::CountSupplement => {
                    d.supplement_count += 1;
                    data.insert(
                        "supplement_request_number".into(),
                        json!(d.supplement_count),
                    );
                }
                Effect::RememberResume(s) => d.resume_status = Some(*s),
                Effect::RememberWithdrawal(s) => d.withdrawn_from = Some(*s),
                Effect::ForgetWithdrawal => d.withdrawn_from = None,
                Effect::SetAssignee(who) => {
                    if let Some(id) = who {
                        let eligible =
                            input.assignee_unit.is_some() && input.assignee_unit == d.handling_unit;
                        if *id != actor.account_id && !eligible {
                            return Err(TransitionError::InvalidField {
                                field: "assignee",
                                code: "invalid_assignee",
                            });
                        }
                    }
                    // A hand-over between officers is a line of the control sheet (Form 06).
                    if who.is_some() && *who != self.assigned_to {
                        data.insert("form".into(), json!("06"));
                        data.insert("from_assignee".into(), json!(self.assigned_to));
                    }
                    d.assigned_to = *who;
                    data.insert("assignee".into(), json!(who));
                }
                Effect::SetHandlingUnit(target) => {
                    let unit = self.check_handling_unit(rules, target, action)?;
                    if action == Action::Transfer {
                        data.insert("form".into(), json!("06"));
                        data.insert("from_unit".into(), json!(self.handling_unit));
                    }
                    data.insert("to_unit".into(), json!(unit.code));
                    if let Some(w) = unit
                        .ward_code
                        .as_deref()
                        .and_then(|w| WardCode::parse(w).ok())
                    {
                        d.ward_code = Some(w);
                    }
                    d.handling_unit = Some(UnitCode::parse(&unit.code).map_err(|_| {
                        TransitionError::InvalidField {
                            field: "unit",
                            code: "unknown_unit",
                        }
                    })?);
                }
                Effect::SetOutcome(o) => {
                    d.outcome = Some(*o);
                    d.decided_at = Some(now);
                    if let (Some(received), Some(due)) = (self.received_at, self.due_at) {
                        let cal = rules.calendar(d.handling_unit.as_ref());
                        let worked =
                            cal.working_secs_between(received, now) - self.paused_working_secs;
                        d.processing_working_secs = Some(worked.max(0));
                        // Supplement time is excluded: the due date moved by it.
                        d.on_time = Some(on_time(now, due, self.supplement_count));
                    }
                    d.next_check_at = None;
                    data.insert("outcome".into(), json!(o));
                }
                Effect::SetAppointment => {
                    let new = input.new_appointment_at.ok_or(TransitionError::Missing {
                        field: "new_appointment_at",
                    })?;
                    let current = self.appointment_at.or(self.due_at);
                    if new <= now || current.is_some_and(|c| new <= c) {
                        return Err(TransitionError::InvalidField {
                            field: "new_appointment_at",
                            code: "appointment_not_later",
                        });
                    }
                    d.appointment_at = Some(new);
                    data.insert("form".into(), json!("04"));
                    data.insert("previous_appointment_at".into(), json!(current));
                    data.insert("new_appointment_at".into(), json!(new));
                    data.insert("due_at".into(), json!(self.due_at));
                    data.insert(
                        "issued_before_due".into(),
                        json!(self.due_at.is_some_and(|due| now < due)),
                    );
                }
                Effect::Consult(target) => {
                    let (unit, due) = self.check_agency(rules, target, input, now)?;
                    data.insert("form".into(), json!("06"));
                    data.insert("from_unit".into(), json!(self.handling_unit));
                    data.insert("to_unit".into(), json!(unit));
                    data.insert("working_days".into(), json!(input.working_days));
                    data.insert("agency_due_at".into(), json!(due));
                    d.consulted_unit = Some(unit);
                    d.consult_due_at = Some(due);
                }
                Effect::EndConsult => {
                    data.insert("form".into(), json!("06"));
                    data.insert("from_unit".into(), json!(self.consulted_unit));
                    data.insert("to_unit".into(), json!(self.handling_unit));
                    data.insert("agency_due_at".into(), json!(self.consult_due_at));
                    data.insert(
                        "agency_on_time".into(),
                        json!(self.consult_due_at.is_none_or(|due| now <= due)),
                    );
                    d.consulted_unit = None;
                    d.consult_due_at = None;
                }
                Effect::Close => {
                    d.closed_at = Some(now);
                    d.consulted_unit = None;
                    d.consult_due_at = None;
                    d.next_check_at = None;
                    if let Some(paused_at) = self.paused_at {
                        let cal = rules.calendar(d.handling_unit.as_ref());
                        let paused = cal.working_secs_between(paused_at, now);
                        pause = Some(PauseChange::Ended {
                            working_secs: paused,
                        });
                        d.paused_at = None;
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
            d.payment_due_vnd = input.amount_vnd;
            data.insert("amount_vnd".into(), json!(input.amount_vnd));
        }
        if let (Action::ConfirmPayment, Some(payment)) = (action, &input.payment) {
            let amount = d.payment_due_vnd.take().unwrap_or(0);
            let unit = actor_unit(actor, &d);
            let receipt = d.take_payment(
                super::payment::ReceiptPurpose::Requested,
                amount,
                payment,
                &unit,
                now,
            );
            data.insert("receipt".into(), receipt);
        }
        if let (Action::Receive, Some(payment)) = (action, &input.payment) {
            let unit = actor_unit(actor, &d);
            let receipt = d.take_fee(payment, &unit, now)?;
            data.insert("receipt".into(), receipt);
        }
        if action == Action::RequestSupplement {
            let mut components: Vec<&str> = input.components.iter().map(|c| c.trim()).collect();
            components.dedup();
            data.insert("form".into(), json!("02"));
            data.insert("components".into(), json!(components));
            data.insert("at_counter".into(), json!(t.from == Status::Submitted));
        }
        if let (Action::ReturnResult, Some(delivery)) = (action, input.result_delivery) {
            d.result_delivery = Some(delivery);
            data.insert("result_delivery".into(), json!(delivery));
        }
        if let Some(note) = &input.note {
            data.insert("note".into(), json!(note));
        }
        if action == Action::SubmitSupplement && !input.documents.is_empty() {
            data.insert("documents".into(), json!(input.documents));
        }
        d.status = t.to;
        if t.to != t.from {
            let cal = rules.calendar(d.handling_unit.as_ref());
            d.enter_step(rules.spec, &cal, now);
            // The agency's step ends with the share it was given, not the procedure's budget.
            if let (Status::AwaitingAgency, Some(step)) = (d.status, d.step.as_mut()) {
                step.due_at = d.consult_due_at;
            }
        }
        d.version += 1;
        d.updated_at = now;
        *self = d;
        Ok(vec![DossierEvent {
            kind: EventKind::Action(action),
            actor: Some(actor.into()),
            from_status: Some(t.from),
            to_status: t.to,
            reason: input.reason.clone().filter(|r| !r.trim().is_empty()),
            data,
            public: action.is_public(),
            at: now,
            pause,
        }])
    }

    /// The SLA sweeper's look at the dossier at `now`: move it to the state it has reached,
    /// never back and never early, recording each state once, at the instant it was reached
    /// (a late look may cross both thresholds at once), and set when to look again. Nothing
    /// happens before `next_check_at`, and the state of a paused, decided or closed dossier
    /// never changes.
    pub fn sla_check(&mut self, now: DateTime<Utc>) -> Vec<DossierEvent> {
        if self.next_check_at.is_none_or(|t| t > now) {
            return Vec::new();
        }
        let (Some(risk), Some(due)) = (self.at_risk_at, self.due_at) else {
            self.next_check_at = None;
            return Vec::new();
        };
        if self.closed_at.is_some() || self.paused_at.is_some() || self.decided_at.is_some() {
            self.next_check_at = None;
            return Vec::new();
        }
        let current = self.sla_state;
        let reached = sla::state_at(now, risk, due);
        if reached <= current {
            // Looked at early (the deadline moved): look again at the right time.
            self.next_check_at = sla::next_check(current, risk, due);
            return Vec::new();
        }
        let mut events = Vec::with_capacity(2);
        if current < SlaState::AtRisk {
            events.push(self.sla_event(current, SlaState::AtRisk, risk, now));
        }
        if reached == SlaState::Overdue {
            events.push(self.sla_event(current.max(SlaState::AtRisk), SlaState::Overdue, due, now));
        }
        self.sla_state = reached;
        self.next_check_at = sla::next_check(reached, risk, due);
        events
    }

    fn sla_event(
        &self,
        from: SlaState,
        to: SlaState,
        reached_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DossierEvent {
        let mut data = Map::new();
        data.insert("sla_from".into(), json!(from));
        data.insert("sla_to".into(), json!(to));
        data.insert("reached_at".into(), json!(reached_at));
        data.insert("due_at".into(), json!(self.due_at));
        data.insert("detected_at".into(), json!(now));
        // Who has it when the threshold passes: the agency consulted, or the handling unit.
        data.insert(
            "held_by".into(),
            json!(self.consulted_unit.as_ref().or(self.handling_unit.as_ref())),
        );
        DossierEvent {
            kind: EventKind::Sla { from, to },
            actor: None,
            from_status: Some(self.status),
            to_status: self.status,
            reason: None,
            data,
            public: false,
            at: reached_at,
            pause: None,
        }
    }

    /// Recompute the deadline of a received, undecided dossier on the current calendars
    /// (after a calendar announcement): the limit from receipt, extended by the working time
    /// of its finished pauses (`pauses`: start and end of each). `None` when nothing moved.
    /// The state never goes back; the sweeper takes the dossier if it is now due.
    pub fn recompute_deadline(
        &mut self,
        rules: &Rules<'_>,
        pauses: &[(DateTime<Utc>, DateTime<Utc>)],
        announcement: Option<i64>,
        now: DateTime<Utc>,
    ) -> Option<DossierEvent> {
        let received = self.received_at?;
        if self.decided_at.is_some() {
            return None;
        }
        let cal = rules.calendar(Some(self.current_unit()));
        let limit = self.limit(rules.spec);
        let base = sla::schedule(&cal, received, limit, rules.risk_ratio()).ok()?;
        let paused: i64 = pauses
            .iter()
            .map(|(start, end)| cal.working_secs_between(*start, *end))
            .sum();
        let due = cal.extend_due(base.due_at, paused).ok()?;
        let risk = cal.extend_due(base.at_risk_at, paused).ok()?;
        if Some(due) == self.due_at && Some(risk) == self.at_risk_at {
            return None;
        }
        let previous = self.due_at;
        if self.appointment_at == previous {
            self.appointment_at = Some(due);
        }
        self.due_at = Some(due);
        self.at_risk_at = Some(risk);
        self.original_due_at = Some(base.due_at);
        self.paused_working_secs = paused;
        self.next_check_at = if self.paused_at.is_some() {
            None
        } else {
            sla::next_check(self.sla_state, risk, due)
        };
        self.updated_at = now;
        let mut data = Map::new();
        data.insert("previous_due_at".into(), json!(previous));
        data.insert("due_at".into(), json!(due));
        data.insert("announcement_id".into(), json!(announcement));
        Some(DossierEvent {
            kind: EventKind::DeadlineRecomputed,
            actor: None,
            from_status: Some(self.status),
            to_status: self.status,
            reason: Some("calendar announcement".into()),
            data,
            public: true,
            at: now,
            pause: None,
        })
    }

    /// Public tracking of the dossier is blocked until `until` because its last four digits
    /// were being guessed: recorded in its history, which its applicant sees, and told.
    pub fn tracking_blocked(&self, until: DateTime<Utc>, now: DateTime<Utc>) -> DossierEvent {
        let mut data = Map::new();
        data.insert("blocked_until".into(), json!(until));
        DossierEvent {
            kind: EventKind::TrackingBlocked,
            actor: None,
            from_status: Some(self.status),
            to_status: self.status,
            reason: None,
            data,
            public: true,
            at: now,
            pause: None,
        }
    }

    /// Start the legal clock at `now`; returns the deadline.
    pub(super) fn start_clock(
        &mut self,
        cal: &WorkCalendar,
        rules: &Rules<'_>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, TransitionError> {
        let limit = self.limit(rules.spec);
        let s = sla::schedule(cal, now, limit, rules.risk_ratio())?;
        let state = sla::state_at(now, s.at_risk_at, s.due_at);
        self.received_at = Some(now);
        self.due_at = Some(s.due_at);
        self.original_due_at = Some(s.due_at);
        self.appointment_at = Some(s.due_at);
        self.at_risk_at = Some(s.at_risk_at);
        self.sla_state = state;
        self.next_check_at = sla::next_check(state, s.at_risk_at, s.due_at);
        Ok(s.due_at)
    }

    /// Enter the step of the current status, with its due time from the procedure's hour
    /// budgets; a final status leaves every step, a pause keeps the current one.
    pub(super) fn enter_step(
        &mut self,
        spec: &ProcedureSpec,
        cal: &WorkCalendar,
        now: DateTime<Utc>,
    ) {
        match sla::step_of(self.status) {
            Some(key) => {
                let due = spec
                    .steps
                    .iter()
                    .find(|s| s.key == key)
                    .and_then(|s| cal.add_working_secs(now, s.hours as i64 * 3600).ok());
                self.step = Some(StepState {
                    key,
                    started_at: Some(now),
                    due_at: due,
                });
            }
            None if self.status.is_final() => self.step = None,
            None => {}
        }
    }

    /// The agency a dossier may be sent to for its part, and the end of its share: a unit of
    /// the province other than the handling one, whose share (its working days, on its own
    /// calendar) ends by the dossier's deadline.
    fn check_agency(
        &self,
        rules: &Rules<'_>,
        target: &str,
        input: &Input,
        now: DateTime<Utc>,
    ) -> Result<(UnitCode, DateTime<Utc>), TransitionError> {
        // The same unit checks as a transfer's (any kind of handling unit may be consulted).
        let info = self.check_handling_unit(rules, target, Action::SendToAgency)?;
        let unit = UnitCode::parse(&info.code).map_err(|_| TransitionError::InvalidField {
            field: "unit",
            code: "unknown_unit",
        })?;
        let days = input.working_days.ok_or(TransitionError::Missing {
            field: "working_days",
        })?;
        let cal = rules.calendar(Some(&unit));
        let due = cal.add_working_secs(now, i64::from(days) * cal.secs_per_day())?;
        if self.due_at.is_some_and(|limit| due > limit) {
            return Err(TransitionError::InvalidField {
                field: "working_days",
                code: "share_exceeds_remaining",
            });
        }
        Ok((unit, due))
    }

    /// The unit a dossier may be routed (`assign` from the coordination queue), transferred
    /// or sent for its part (`send_to_agency`) to.
    fn check_handling_unit<'u>(
        &self,
        rules: &'u Rules<'_>,
        target: &str,
        action: Action,
    ) -> Result<&'u Arc<UnitInfo>, TransitionError> {
        let bad = |code: &'static str| TransitionError::InvalidField {
            field: "unit",
            code,
        };
        let unit = rules.units.unit(target).ok_or(bad("unknown_unit"))?;
        if !unit.active {
            return Err(bad("unit_inactive"));
        }
        if unit.province_code != self.province_code_str() {
            return Err(bad("unit_in_other_province"));
        }
        if unit.receives_dossiers {
            return Err(bad("not_a_handling_unit"));
        }
        if action == Action::Assign && unit.kind != rules.spec.competent_unit_kind {
            return Err(bad("not_competent"));
        }
        if self.handling_unit.as_ref().map(UnitCode::as_str) == Some(target) {
            return Err(bad("same_unit"));
        }
        Ok(unit)
    }
}

/// The components a supplement request names: each a component of the procedure version
/// the dossier was filed under (Form 02 lists them by name).
fn check_components(components: &[String], spec: &ProcedureSpec) -> Result<(), TransitionError> {
    let known = |c: &str| spec.required_documents.iter().any(|d| d.kind == c);
    if components.iter().any(|c| !known(c.trim())) {
        return Err(TransitionError::InvalidField {
            field: "components",
            code: "unknown_component",
        });
    }
    Ok(())
}

/// Province codes as text, indexed by number (`"01"` … `"99"`), so that a dossier can lend
/// its province as `&str` to the access rules without allocating.
static PROVINCES: [&str; 100] = {
    const DIGITS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let mut out = [""; 100];
    let mut i = 0;
    while i < 100 {
        // Two ASCII digits of DIGITS: always UTF-8.
        out[i] = match std::str::from_utf8(DIGITS.split_at(i * 2).1.split_at(2).0) {
            Ok(s) => s,
            Err(_) => "",
        };
        i += 1;
    }
    out
};

/// The unit a payment is taken at: the officer's, else the one that has the dossier.
fn actor_unit(actor: &Actor, d: &Dossier) -> UnitCode {
    actor
        .unit
        .clone()
        .unwrap_or_else(|| d.current_unit().clone())
}
