//! Bundled procedures (liên thông, Decree 63/2024/NĐ-CP arts. 5–10): one filing, one
//! combined limit and one result set for the applicant; behind it a sub-dossier at each
//! competent unit (the commune for birth registration, the commune police for residence,
//! social insurance for the child's health-insurance card), each with its share of the
//! limit on its own unit's calendar.
//!
//! The bundle is the dossier the applicant filed: its receiving unit receives it, its
//! competent unit (the lead) coordinates and returns the results. Its parts are dossiers of
//! their own procedures, opened at the bundle's receipt (or when the part they wait for is
//! approved), decided by their units, and closed with the bundle. Each is its own aggregate;
//! the service changes a bundle and its parts in one transaction.

use chrono::{DateTime, Utc};
use serde_json::{json, Map};

use super::aggregate::{Dossier, DossierEvent, EventKind, PauseChange, Rules};
use crate::domain::calendar::WorkCalendar;
use crate::domain::lifecycle::{Outcome, Status, TransitionError};
use crate::domain::procedure::{BundlePart, ProcedureSpec};
use crate::domain::sla::SlaState;
use crate::domain::unit::UnitCode;

impl Dossier {
    /// The sub-dossier of `part` of this bundle, received now at `unit` (the unit competent
    /// for the part's procedure at the bundle's address), timed by the part's share on that
    /// unit's calendar. `rules` are the part's procedure version's, `version` its number.
    /// Numbered by the bundle's receiving unit, like any dossier it received.
    pub fn open_part(
        &self,
        part: &BundlePart,
        version: i32,
        unit: UnitCode,
        rules: &Rules<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Dossier, DossierEvent), TransitionError> {
        let bundle = self
            .code
            .clone()
            .ok_or(TransitionError::Missing { field: "code" })?;
        let procedure_code = crate::domain::procedure::ProcedureCode::parse(&part.procedure)
            .map_err(|_| TransitionError::InvalidField {
                field: "parts",
                code: "invalid_part",
            })?;
        let mut d = self.clone();
        d.id = 0;
        d.code = None;
        d.procedure_code = procedure_code;
        d.procedure_version = version;
        d.status = Status::Received;
        d.version = 1;
        d.handling_unit = Some(unit);
        d.assigned_to = None;
        d.received_at = None;
        d.paused_at = None;
        d.paused_working_secs = 0;
        d.resume_status = None;
        d.withdrawn_from = None;
        d.consulted_unit = None;
        d.consult_due_at = None;
        d.limit_variant = None;
        // The part holds copies of the bundle's files, given by the caller (`hold_copies`).
        d.documents = json!([]);
        d.bundle_code = Some(bundle.clone());
        d.part_share_hours = Some(part.share_hours);
        d.supplement_count = 0;
        d.step = None;
        d.outcome = None;
        d.decided_at = None;
        d.closed_at = None;
        d.processing_working_secs = None;
        d.on_time = None;
        d.result_delivery = None;
        d.sla_state = SlaState::NotStarted;
        d.submitted_at = now;
        d.created_at = now;
        d.updated_at = now;
        let cal = rules.calendar(d.handling_unit.as_ref());
        let due = d.start_clock(&cal, rules, now)?;
        d.enter_step(rules.spec, &cal, now);
        let mut data = Map::new();
        data.insert("bundle".into(), json!(bundle));
        data.insert("share_hours".into(), json!(part.share_hours));
        data.insert("due_at".into(), json!(due));
        data.insert("procedure_version".into(), json!(version));
        let event = DossierEvent {
            kind: EventKind::PartOpened,
            actor: None,
            from_status: None,
            to_status: Status::Received,
            reason: None,
            data,
            public: false,
            at: now,
            pause: None,
        };
        Ok((d, event))
    }

    /// This bundle learns that its part `part` was decided, and which parts that opened
    /// (`opened`: their codes). Recorded in the bundle's history, which the applicant sees.
    pub fn part_decided(
        &mut self,
        part: &Dossier,
        opened: &[String],
        now: DateTime<Utc>,
    ) -> DossierEvent {
        let mut data = Map::new();
        data.insert("part".into(), json!(part.code_str()));
        data.insert("procedure".into(), json!(part.procedure_code));
        data.insert("unit".into(), json!(part.handling_unit));
        data.insert("outcome".into(), json!(part.outcome));
        data.insert("on_time".into(), json!(part.on_time));
        if !opened.is_empty() {
            data.insert("opened".into(), json!(opened));
        }
        self.version += 1;
        self.updated_at = now;
        DossierEvent {
            kind: EventKind::PartDecided,
            actor: None,
            from_status: Some(self.status),
            to_status: self.status,
            reason: part
                .outcome
                .filter(|o| *o == Outcome::Rejected)
                .map(|_| format!("{} {}", part.procedure_code, part.code_str())),
            data,
            public: true,
            at: now,
            pause: None,
        }
    }

    /// This part's bundle `bundle` was closed (its results returned, or it was refused,
    /// stopped or withdrawn): a decided part is returned with it, an undecided one stopped.
    /// `None` when the part is closed already.
    pub fn close_with_bundle(
        &mut self,
        bundle: &Dossier,
        cal: &WorkCalendar,
        now: DateTime<Utc>,
    ) -> Option<DossierEvent> {
        if !self.status.is_open() {
            return None;
        }
        let from = self.status;
        let to = if from == Status::Decided && bundle.status == Status::Returned {
            Status::Returned
        } else {
            Status::Stopped
        };
        self.status = to;
        self.closed_at = Some(now);
        self.next_check_at = None;
        self.consulted_unit = None;
        self.consult_due_at = None;
        self.step = None;
        // A pause still open ends now (on the part's unit's calendar), as any closing ends it.
        let pause = self.paused_at.take().map(|at| PauseChange::Ended {
            working_secs: cal.working_secs_between(at, now),
        });
        self.version += 1;
        self.updated_at = now;
        let mut data = Map::new();
        data.insert("bundle".into(), json!(bundle.code_str()));
        data.insert("bundle_status".into(), json!(bundle.status));
        Some(DossierEvent {
            kind: EventKind::ClosedWithBundle,
            actor: None,
            from_status: Some(from),
            to_status: to,
            reason: None,
            data,
            public: false,
            at: now,
            pause,
        })
    }
}

/// The parts of a bundle not decided yet (procedure codes, in the catalog's order), given its
/// sub-dossiers so far: a part is settled once its sub-dossier is decided or closed, or when
/// it will never open because a part it waits for was not approved.
pub fn parts_pending(spec: &ProcedureSpec, parts: &[Dossier]) -> Vec<String> {
    let of = |code: &str| parts.iter().find(|d| d.procedure_code.as_str() == code);
    // Whether a part will never open: one it waits for ended without approval.
    fn blocked(spec: &ProcedureSpec, parts: &[Dossier], p: &BundlePart, depth: usize) -> bool {
        let Some(after) = p.after.as_deref() else {
            return false;
        };
        if depth > spec.parts.len() {
            return false;
        }
        match parts.iter().find(|d| d.procedure_code.as_str() == after) {
            Some(d) => {
                let settled = d.decided_at.is_some() || !d.status.is_open();
                settled && d.outcome != Some(Outcome::Approved)
            }
            None => spec
                .parts
                .iter()
                .find(|e| e.procedure == after)
                .is_some_and(|e| blocked(spec, parts, e, depth + 1)),
        }
    }
    spec.parts
        .iter()
        .filter(|p| match of(&p.procedure) {
            Some(d) => d.decided_at.is_none() && d.status.is_open(),
            None => !blocked(spec, parts, p, 0),
        })
        .map(|p| p.procedure.clone())
        .collect()
}
