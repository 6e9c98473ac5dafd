//! What a dossier's events tell the outside: the outbox row's topic, recipients and payload
//! (the national portal's `DongBoHoSoMC` view of the dossier for status changes).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{Dossier, DossierEvent, EventKind};
use crate::domain::calendar::vn_offset;
use crate::domain::lifecycle::Action;
use crate::domain::sla::SlaState;

/// The key of the dossier code in a notice's payload (filled in by the database when the
/// dossier is numbered in the same statement).
pub const CODE_KEY: &str = "MaHoSo";

/// An outbox row's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub topic: String,
    pub recipients: Value,
    pub payload: Value,
}

impl Dossier {
    /// The notice of `event`, which this dossier (as it is after the event) just recorded.
    pub fn notice(&self, event: &DossierEvent, now: DateTime<Utc>) -> Notice {
        match event.kind {
            EventKind::Sla { to, .. } => self.sla_notice(event, to),
            kind => {
                let topic = match kind {
                    EventKind::Submitted => "case.submitted".to_string(),
                    EventKind::ReceivedAtCounter => "case.received".to_string(),
                    other => format!("case.{}", other.as_str()),
                };
                // A bundle's parts tell the applicant through the bundle (`part_decided`),
                // except the steps that ask something of them or move their appointment.
                let tell_applicant = event.public
                    && (self.bundle_code.is_none()
                        || matches!(
                            kind,
                            EventKind::Action(
                                Action::RequestSupplement
                                    | Action::ApologizeAndExtend
                                    | Action::RequestPayment
                            )
                        ));
                Notice {
                    topic,
                    recipients: self.recipients(tell_applicant),
                    payload: self.sync_payload(kind.as_str(), now),
                }
            }
        }
    }

    /// Who is told: the applicant for public steps, the unit that has the dossier always.
    fn recipients(&self, public: bool) -> Value {
        let mut r = Vec::new();
        if public {
            if let Some(a) = self.applicant.account {
                r.push(json!({"kind": "applicant", "account_id": a}));
            }
        }
        r.push(json!({"kind": "unit", "unit": self.current_unit()}));
        Value::Array(r)
    }

    /// The handling unit's clerks and head are warned; when the deadline passes without a
    /// new appointment, the applicant is owed an apology (Form 04) and is told.
    fn sla_notice(&self, event: &DossierEvent, to: SlaState) -> Notice {
        let mut recipients = vec![json!({"kind": "unit", "unit": self.current_unit()})];
        if let Some(a) = self.assigned_to {
            recipients.push(json!({"kind": "account", "account_id": a}));
        }
        let apology_due = to == SlaState::Overdue && self.appointment_at == self.due_at;
        if apology_due {
            if let Some(a) = self.applicant.account {
                recipients.push(json!({"kind": "applicant", "account_id": a}));
            }
        }
        Notice {
            topic: format!("sla.{}", to.as_str()),
            recipients: json!(recipients),
            payload: json!({
                "event": event.kind.as_str(),
                CODE_KEY: self.code_str(),
                "handling_unit": self.handling_unit,
                "due_at": self.due_at,
                "reached_at": event.at,
                "apology_due": apology_due,
            }),
        }
    }

    /// The national portal's view of the dossier (DongBoHoSoMC fields).
    pub fn sync_payload(&self, event: &str, at: DateTime<Utc>) -> Value {
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
            CODE_KEY: self.code_str(),
            "MaTTHC": self.procedure_code,
            "TrangThaiHoSo": self.national_status(),
            "KenhThucHien": self.channel.national(),
            "NgayTiepNhan": fmt(self.received_at),
            "NgayHenTra": fmt(self.appointment_at),
            "HanXuLy": fmt(self.due_at),
            "NgayKetThucXuLy": fmt(self.decided_at),
            "NgayTra": fmt(self.closed_at.filter(|_| self.status == crate::domain::lifecycle::Status::Returned)),
            "DonViTiepNhan": self.receiving_unit,
            "DonViXuLy": self.handling_unit,
            "status": self.status,
            "sla_state": self.sla_state,
        })
    }
}
