//! Who may do what. Every endpoint calls one of these functions explicitly and works within
//! the scope it returns; nothing is allowed by default.

use uuid::Uuid;

use super::account::Role;
use super::unit::UnitCode;

/// The authenticated caller, as loaded from the database for this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: Uuid,
    pub username: String,
    pub role: Role,
    /// Clerks and unit heads: their unit.
    pub unit: Option<UnitCode>,
    /// Clerks and unit heads: their unit's province. Supervisors: their province (none:
    /// national).
    pub province: Option<String>,
}

/// The caller is not allowed to do this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("access denied: {reason}")]
pub struct Denied {
    pub reason: &'static str,
}

const fn denied(reason: &'static str) -> Denied {
    Denied { reason }
}

/// Which dossiers a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseScope {
    /// A citizen: the dossiers they submitted.
    Applicant(Uuid),
    /// Clerks and unit heads: dossiers received or handled by their unit, or sent to it for
    /// its part (liên thông) while it has them.
    Unit { unit: UnitCode, province: String },
    /// A provincial supervisor.
    Province(String),
    /// A national supervisor.
    National,
    /// An administrator: everything, and every read of dossier data is logged.
    Audited,
}

/// The facts about a dossier that decide who sees it.
#[derive(Debug, Clone, Copy)]
pub struct CaseFacts<'a> {
    pub applicant_account: Option<Uuid>,
    pub province: &'a str,
    pub receiving_unit: Option<&'a str>,
    pub handling_unit: Option<&'a str>,
    /// The agency consulted (liên thông) while it has the dossier.
    pub consulted_unit: Option<&'a str>,
}

impl CaseScope {
    /// True when the scope covers the dossier.
    pub fn covers(&self, case: &CaseFacts<'_>) -> bool {
        match self {
            CaseScope::Applicant(id) => case.applicant_account == Some(*id),
            CaseScope::Unit { unit, .. } => {
                case.receiving_unit == Some(unit.as_str())
                    || case.handling_unit == Some(unit.as_str())
                    || case.consulted_unit == Some(unit.as_str())
            }
            CaseScope::Province(p) => case.province == p,
            CaseScope::National | CaseScope::Audited => true,
        }
    }

    /// Officers may see personal data in full on a dossier's page; applicants see their own.
    pub fn is_officer(&self) -> bool {
        !matches!(self, CaseScope::Applicant(_))
    }
}

/// What statistics a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsScope {
    Unit { unit: UnitCode, province: String },
    Province(String),
    National,
}

impl Actor {
    /// Administrators manage accounts, units, procedures, overrides and the calendar.
    pub fn require_admin(&self) -> Result<(), Denied> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(denied("admin_only"))
        }
    }

    /// Who edits a province's published lists: administrators, and the province's own
    /// administrators (`province_admin` of that province).
    pub fn require_province_admin(&self, province: &str) -> Result<(), Denied> {
        match (&self.role, &self.province) {
            (Role::Admin, _) => Ok(()),
            (Role::ProvinceAdmin, Some(p)) if p == province => Ok(()),
            _ => Err(denied("not_province_admin")),
        }
    }

    /// Any staff role (not a citizen).
    pub fn require_staff(&self) -> Result<(), Denied> {
        if self.role == Role::Citizen {
            Err(denied("staff_only"))
        } else {
            Ok(())
        }
    }

    /// The dossiers this caller may read.
    pub fn case_scope(&self) -> Result<CaseScope, Denied> {
        match self.role {
            Role::Citizen => Ok(CaseScope::Applicant(self.account_id)),
            Role::Clerk | Role::UnitHead => match (&self.unit, &self.province) {
                (Some(unit), Some(province)) => Ok(CaseScope::Unit {
                    unit: unit.clone(),
                    province: province.clone(),
                }),
                _ => Err(denied("no_unit")),
            },
            Role::Supervisor => Ok(match &self.province {
                Some(p) => CaseScope::Province(p.clone()),
                None => CaseScope::National,
            }),
            Role::Admin => Ok(CaseScope::Audited),
            Role::ProvinceAdmin | Role::Integrator => Err(denied("no_case_access")),
        }
    }

    /// Whose events the caller may follow in the event feed: administrators all, an
    /// integrator its province's (or all without one).
    pub fn feed_scope(&self) -> Result<Option<String>, Denied> {
        match self.role {
            Role::Admin => Ok(None),
            Role::Integrator => Ok(self.province.clone()),
            _ => Err(denied("integrators_only")),
        }
    }

    /// The staff of one unit: a clerk or the head of `unit`.
    pub fn require_unit_staff(&self, unit: &str) -> Result<(), Denied> {
        if self.role.is_unit_staff() && self.unit.as_ref().is_some_and(|u| u.as_str() == unit) {
            Ok(())
        } else {
            Err(denied("not_unit_staff"))
        }
    }

    /// The head of `unit`.
    pub fn require_unit_head(&self, unit: &str) -> Result<(), Denied> {
        if self.role == Role::UnitHead && self.unit.as_ref().is_some_and(|u| u.as_str() == unit) {
            Ok(())
        } else {
            Err(denied("not_unit_head"))
        }
    }

    /// May read a unit's queue: its staff, or a supervisor over its province.
    pub fn queue_scope(&self, unit: &str, unit_province: &str) -> Result<(), Denied> {
        match self.role {
            Role::Clerk | Role::UnitHead => self.require_unit_staff(unit),
            Role::Supervisor => self.require_province(unit_province),
            _ => Err(denied("not_unit_staff")),
        }
    }

    /// Staff who coordinate a province's dossiers awaiting routing: supervisors over it and
    /// the clerks and heads of its units.
    pub fn require_coordinator(&self, province: &str) -> Result<(), Denied> {
        match self.role {
            Role::Supervisor => self.require_province(province),
            Role::Clerk | Role::UnitHead if self.province.as_deref() == Some(province) => Ok(()),
            _ => Err(denied("not_coordinator")),
        }
    }

    /// A supervisor whose scope includes `province` (national supervisors include all).
    pub fn require_province(&self, province: &str) -> Result<(), Denied> {
        match (&self.role, &self.province) {
            (Role::Supervisor, None) => Ok(()),
            (Role::Supervisor, Some(p)) if p == province => Ok(()),
            _ => Err(denied("outside_province")),
        }
    }

    /// The statistics this caller may read.
    pub fn stats_scope(&self) -> Result<StatsScope, Denied> {
        match self.role {
            Role::Supervisor => Ok(match &self.province {
                Some(p) => StatsScope::Province(p.clone()),
                None => StatsScope::National,
            }),
            Role::UnitHead => match (&self.unit, &self.province) {
                (Some(unit), Some(province)) => Ok(StatsScope::Unit {
                    unit: unit.clone(),
                    province: province.clone(),
                }),
                _ => Err(denied("no_unit")),
            },
            Role::Admin => Ok(StatsScope::National),
            Role::Citizen | Role::Clerk | Role::ProvinceAdmin | Role::Integrator => {
                Err(denied("supervisors_only"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, unit: Option<&str>, province: Option<&str>) -> Actor {
        Actor {
            account_id: Uuid::nil(),
            username: "u".into(),
            role,
            unit: unit.map(|u| UnitCode::parse(u).unwrap()),
            province: province.map(str::to_string),
        }
    }

    #[test]
    fn case_scopes() {
        let facts = CaseFacts {
            applicant_account: Some(Uuid::nil()),
            province: "01",
            receiving_unit: Some("01.TTPVHCC"),
            handling_unit: Some("01.00004.UBND"),
            consulted_unit: None,
        };
        let clerk = actor(Role::Clerk, Some("01.00004.UBND"), Some("01"));
        assert!(clerk.case_scope().unwrap().covers(&facts));
        let other = actor(Role::Clerk, Some("01.00008.UBND"), Some("01"));
        assert!(!other.case_scope().unwrap().covers(&facts));
        let sup = actor(Role::Supervisor, None, Some("79"));
        assert!(!sup.case_scope().unwrap().covers(&facts));
        let national = actor(Role::Supervisor, None, None);
        assert_eq!(national.case_scope().unwrap(), CaseScope::National);
        let citizen = actor(Role::Citizen, None, None);
        assert!(citizen.case_scope().unwrap().covers(&facts));
        assert!(actor(Role::Clerk, None, None).case_scope().is_err());
    }

    #[test]
    fn the_event_feed_is_for_administrators_and_integrators() {
        assert_eq!(actor(Role::Admin, None, None).feed_scope(), Ok(None));
        assert_eq!(actor(Role::Integrator, None, None).feed_scope(), Ok(None));
        assert_eq!(
            actor(Role::Integrator, None, Some("79")).feed_scope(),
            Ok(Some("79".to_string()))
        );
        for role in [
            Role::Citizen,
            Role::Clerk,
            Role::Supervisor,
            Role::ProvinceAdmin,
        ] {
            assert!(
                actor(role, None, Some("79")).feed_scope().is_err(),
                "{role}"
            );
        }
        // An integrator reads events, never a dossier nor the statistics.
        let integrator = actor(Role::Integrator, None, None);
        assert!(integrator.case_scope().is_err() && integrator.stats_scope().is_err());
    }

    #[test]
    fn admin_and_stats() {
        assert!(actor(Role::Admin, None, None).require_admin().is_ok());
        assert!(actor(Role::Supervisor, None, None).require_admin().is_err());
        assert!(actor(Role::Clerk, Some("01.STP"), Some("01"))
            .stats_scope()
            .is_err());
        assert_eq!(
            actor(Role::Supervisor, None, Some("01"))
                .stats_scope()
                .unwrap(),
            StatsScope::Province("01".into())
        );
    }
}
