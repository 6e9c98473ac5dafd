//! The dossier: its identity (code, channel, result delivery), the aggregate that owns its
//! state and rules ([`Dossier`]), and what it tells the outside ([`notice`]).

mod aggregate;
mod bundle;
mod documents;
mod feedback;
pub mod notice;
mod payment;
#[cfg(test)]
pub(crate) mod tests;

pub use aggregate::{
    on_time, Applicant, CalendarSource, Dossier, DossierEvent, EventActor, EventKind, Filing,
    PauseChange, Rules, StepState, ON_TIME_MAX_SUPPLEMENTS,
};
pub use bundle::parts_pending;
pub use documents::{valid_kind, Attached, Document, MediaType, NewDocument, RESULT_KIND};
pub use feedback::Rating;
pub use payment::{check_amount, Payment, PaymentChannel, Receipt, ReceiptPurpose, MAX_AMOUNT_VND};

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::unit::UnitCode;

/// How a dossier was filed (`KenhThucHien`: 1 in person, 2 online, 3 public postal service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InPerson,
    Online,
    Postal,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InPerson => "in_person",
            Channel::Online => "online",
            Channel::Postal => "postal",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "in_person" => Some(Channel::InPerson),
            "online" => Some(Channel::Online),
            "postal" => Some(Channel::Postal),
            _ => None,
        }
    }

    /// The national portal's code.
    pub fn national(self) -> u8 {
        match self {
            Channel::InPerson => 1,
            Channel::Online => 2,
            Channel::Postal => 3,
        }
    }
}

/// How a dossier's result was handed over (`return_result`). Decision 766's indicator 3.3
/// counts online dossiers whose result was electronic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultDelivery {
    /// An electronic result (e-document, digitally signed copy) sent to the applicant.
    Electronic,
    /// Collected at the counter.
    InPerson,
    /// Sent by the public postal service.
    Postal,
}

impl ResultDelivery {
    pub const ALL: [ResultDelivery; 3] = [
        ResultDelivery::Electronic,
        ResultDelivery::InPerson,
        ResultDelivery::Postal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResultDelivery::Electronic => "electronic",
            ResultDelivery::InPerson => "in_person",
            ResultDelivery::Postal => "postal",
        }
    }

    pub fn parse(s: &str) -> Option<ResultDelivery> {
        ResultDelivery::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A component named by an action: what a supplement request asks for (a kind), or a file
/// the supplement added (its attached document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRef {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<uuid::Uuid>,
}

/// A step of a dossier's history as stored (the read side of [`DossierEvent`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub seq: i32,
    pub action: String,
    pub actor_id: Option<uuid::Uuid>,
    pub actor_role: String,
    pub actor_unit: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
    pub public: bool,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A pause of a dossier's clock as stored; `ended_at` is `None` while it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub reason: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub working_secs: Option<i64>,
}

/// A dossier code: `{receiving unit code}-{yyMMdd}-{NNNN}`, e.g. `01.00004.TTPVHCC-250701-0001`.
/// The number comes from the receiving unit's counter for that day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DossierCode(String);

/// Not a dossier code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a dossier code")]
pub struct BadDossierCode;

impl DossierCode {
    /// Make the code of the `number`-th dossier received by `unit` on `day` (local date).
    pub fn new(unit: &UnitCode, day: NaiveDate, number: u32) -> DossierCode {
        DossierCode(format!("{}-{}-{:04}", unit, day.format("%y%m%d"), number))
    }

    pub fn parse(raw: &str) -> Result<DossierCode, BadDossierCode> {
        let s = raw.trim();
        let mut parts = s.rsplitn(3, '-');
        let (Some(number), Some(day), Some(unit)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(BadDossierCode);
        };
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if !(digits(number)
            && number.len() >= 4
            && number.len() <= 6
            && digits(day)
            && day.len() == 6)
        {
            return Err(BadDossierCode);
        }
        if NaiveDate::parse_from_str(&format!("20{day}"), "%Y%m%d").is_err() {
            return Err(BadDossierCode);
        }
        UnitCode::parse(unit).map_err(|_| BadDossierCode)?;
        Ok(DossierCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The receiving unit's code.
    pub fn unit(&self) -> &str {
        self.0.rsplitn(3, '-').nth(2).unwrap_or_default()
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DossierCode {
    type Error = BadDossierCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DossierCode::parse(&s)
    }
}

impl From<DossierCode> for String {
    fn from(c: DossierCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let unit = UnitCode::parse("01.00004.TTPVHCC").unwrap();
        let code = DossierCode::new(&unit, NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(), 1);
        assert_eq!(code.as_str(), "01.00004.TTPVHCC-250701-0001");
        assert_eq!(DossierCode::parse(code.as_str()).unwrap(), code);
        assert_eq!(code.unit(), "01.00004.TTPVHCC");
        assert!(DossierCode::parse("01.TTPVHCC-251301-0001").is_err());
        assert!(DossierCode::parse("nope").is_err());
        assert!(DossierCode::parse("01.TTPVHCC-250701-1").is_err());
        assert_eq!(
            DossierCode::new(&unit, NaiveDate::from_ymd_opt(2026, 1, 9).unwrap(), 12345).as_str(),
            "01.00004.TTPVHCC-260109-12345"
        );
    }

    #[test]
    fn channels() {
        assert_eq!(Channel::parse("online").unwrap().national(), 2);
        assert_eq!(Channel::InPerson.national(), 1);
        assert_eq!(Channel::Postal.national(), 3);
    }
}
