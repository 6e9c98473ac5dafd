//! The applicant's rating of the service (Decision 766/QĐ-TTg's satisfaction group): once
//! per dossier, after its result was returned.

use chrono::{DateTime, Utc};
use serde_json::{json, Map};

use super::aggregate::{Dossier, DossierEvent, EventKind};
use crate::domain::access::Actor;
use crate::domain::account::{Invalid, Role};
use crate::domain::lifecycle::{Status, TransitionError};

/// A rating from 1 (very dissatisfied) to 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rating(u8);

impl Rating {
    pub fn parse(value: i64) -> Result<Rating, Invalid> {
        match u8::try_from(value) {
            Ok(v @ 1..=5) => Ok(Rating(v)),
            _ => Err(Invalid::new("rating", "out_of_range")),
        }
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl Dossier {
    /// Whether `actor` may rate the service now: the applicant who filed it online (their
    /// account), once the result was returned (`result_not_returned` before). Scope is
    /// checked before, as for every read; a second rating is refused by the store.
    pub fn may_rate(&self, actor: &Actor) -> Result<(), TransitionError> {
        if actor.role != Role::Citizen || self.applicant.account != Some(actor.account_id) {
            return Err(TransitionError::Forbidden("applicant_only"));
        }
        if self.status != Status::Returned {
            return Err(TransitionError::ResultNotReturned);
        }
        Ok(())
    }

    /// The rating, in the dossier's history (the unit that handled it is told).
    pub fn rated(&self, actor: &Actor, rating: Rating, now: DateTime<Utc>) -> DossierEvent {
        let mut data = Map::new();
        data.insert("rating".into(), json!(rating.value()));
        DossierEvent {
            kind: EventKind::Rated,
            actor: Some(actor.into()),
            from_status: Some(self.status),
            to_status: self.status,
            reason: None,
            data,
            public: true,
            at: now,
            pause: None,
        }
    }

    /// The unit a rating is counted for: the one that handled the dossier.
    pub fn rated_unit(&self) -> &crate::domain::unit::UnitCode {
        self.current_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_one_to_five() {
        assert_eq!(Rating::parse(1).unwrap().value(), 1);
        assert_eq!(Rating::parse(5).unwrap().value(), 5);
        for bad in [0, 6, -1, 256, i64::MAX] {
            assert_eq!(Rating::parse(bad).unwrap_err().code, "out_of_range");
        }
    }
}
