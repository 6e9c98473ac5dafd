//! Service-level state of a dossier: on track, at risk, overdue, and when to look again.
//!
//! A dossier becomes `at_risk` once a share of its working time is spent (`at_risk_at`) and
//! `overdue` at `due_at`. The sweeper visits it only at those instants (`next_check_at`), so
//! the cost of a sweep follows the number of dossiers due, not the number open.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{CalendarError, TimeLimit, WorkCalendar};
use super::lifecycle::Status;
use super::procedure::{Limit, StepKey};

/// The SLA state.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// The clock has not started (not yet received).
    NotStarted,
    OnTrack,
    AtRisk,
    Overdue,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::NotStarted => "not_started",
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<SlaState> {
        [
            SlaState::NotStarted,
            SlaState::OnTrack,
            SlaState::AtRisk,
            SlaState::Overdue,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// The calendar form of a procedure's limit.
pub fn time_limit(limit: Limit) -> TimeLimit {
    match limit {
        Limit::SameDay => TimeLimit::SameDay,
        Limit::WorkingHours { hours } => TimeLimit::WorkingHours(hours),
        Limit::CalendarDays { days } => TimeLimit::CalendarDays(days),
    }
}

/// Deadlines fixed at valid receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub clock_start: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub at_risk_at: DateTime<Utc>,
}

/// Compute the schedule of a dossier received at `received_at`.
pub fn schedule(
    cal: &WorkCalendar,
    received_at: DateTime<Utc>,
    limit: Limit,
    at_risk_ratio: f64,
) -> Result<Schedule, CalendarError> {
    let clock_start = cal.clock_start(received_at)?;
    let due_at = cal.due_at(received_at, time_limit(limit))?;
    let at_risk_at = cal.at_risk_at(received_at, due_at, at_risk_ratio)?;
    Ok(Schedule {
        clock_start,
        due_at,
        at_risk_at,
    })
}

/// The state a running clock is in at `now` (never earlier than its instants).
pub fn state_at(now: DateTime<Utc>, at_risk_at: DateTime<Utc>, due_at: DateTime<Utc>) -> SlaState {
    if now >= due_at {
        SlaState::Overdue
    } else if now >= at_risk_at {
        SlaState::AtRisk
    } else {
        SlaState::OnTrack
    }
}

/// When the sweeper should look at a dossier in `state` next (`None`: never again).
pub fn next_check(
    state: SlaState,
    at_risk_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match state {
        SlaState::NotStarted | SlaState::Overdue => None,
        SlaState::OnTrack => Some(at_risk_at),
        SlaState::AtRisk => Some(due_at),
    }
}

/// The handling step a status belongs to.
pub fn step_of(status: Status) -> Option<StepKey> {
    match status {
        Status::Received | Status::Assigned => Some(StepKey::Reception),
        Status::Processing => Some(StepKey::Processing),
        Status::AwaitingApproval => Some(StepKey::Approval),
        Status::AwaitingAgency => Some(StepKey::Interagency),
        Status::Decided => Some(StepKey::Result),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).unwrap()
    }

    #[test]
    fn states_change_exactly_at_their_instants() {
        let (risk, due) = (t(5), t(8));
        assert_eq!(state_at(t(4), risk, due), SlaState::OnTrack);
        assert_eq!(state_at(t(5), risk, due), SlaState::AtRisk);
        assert_eq!(state_at(t(7), risk, due), SlaState::AtRisk);
        assert_eq!(state_at(t(8), risk, due), SlaState::Overdue);
        assert_eq!(next_check(SlaState::OnTrack, risk, due), Some(risk));
        assert_eq!(next_check(SlaState::AtRisk, risk, due), Some(due));
        assert_eq!(next_check(SlaState::Overdue, risk, due), None);
    }
}
