//! What each province publishes about its procedures (issue 21 §1–2), versioned by the
//! instant each version takes effect:
//!
//! - `boundary_independent`: the procedures an applicant may file, and collect the result of,
//!   at any one-stop point of the province whatever the government level (Decree
//!   118/2025/NĐ-CP and the chairman's decision publishing the province's list; Hà
//!   Tĩnh's lists 2,010 procedures). Competence never moves with the place of receipt.
//! - `fees`: the fees the provincial People's Council set for procedures its authorities
//!   handle (Law on Fees and Charges 2015 art. 21); a procedure not on it costs the
//!   catalog's national fee.
//!
//! A version replaces the previous one whole; the one in force at `t` is the newest whose
//! `valid_from` has passed, so a list published in advance takes effect at its instant.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::account::Invalid;
use crate::domain::dossier::check_amount;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    BoundaryIndependent,
    Fees,
}

impl ListKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::BoundaryIndependent => "boundary_independent",
            ListKind::Fees => "fees",
        }
    }

    pub fn parse(s: &str) -> Option<ListKind> {
        [ListKind::BoundaryIndependent, ListKind::Fees]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One fee of a province's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeeEntry {
    #[schema(example = "2.000635")]
    pub procedure_code: String,
    /// 0 (the province exempts it) to 100,000,000.
    #[schema(minimum = 0, maximum = 100000000, example = 8000)]
    pub fee_vnd: i64,
}

/// The entries of one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entries {
    Procedures(BTreeSet<String>),
    Fees(BTreeMap<String, i64>),
}

impl Entries {
    /// As stored: a list of procedure codes, or of `{procedure_code, fee_vnd}`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Entries::Procedures(set) => serde_json::json!(set),
            Entries::Fees(map) => serde_json::json!(map
                .iter()
                .map(|(code, fee)| FeeEntry {
                    procedure_code: code.clone(),
                    fee_vnd: *fee
                })
                .collect::<Vec<_>>()),
        }
    }

    /// Read back a stored version (`None`: unreadable, logged by the caller).
    pub fn from_json(kind: ListKind, v: &serde_json::Value) -> Option<Entries> {
        match kind {
            ListKind::BoundaryIndependent => serde_json::from_value::<BTreeSet<String>>(v.clone())
                .ok()
                .map(Entries::Procedures),
            ListKind::Fees => serde_json::from_value::<Vec<FeeEntry>>(v.clone())
                .ok()
                .map(|fees| {
                    Entries::Fees(
                        fees.into_iter()
                            .map(|f| (f.procedure_code, f.fee_vnd))
                            .collect(),
                    )
                }),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Entries::Procedures(s) => s.len(),
            Entries::Fees(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A version of a province's list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListVersion {
    pub valid_from: DateTime<Utc>,
    pub entries: Entries,
}

/// Parse the procedure codes of a new `boundary_independent` version: each known to the
/// catalog (`known`), no duplicates, at most 10,000.
pub fn parse_procedures(
    codes: &[String],
    known: impl Fn(&str) -> bool,
) -> Result<Entries, Invalid> {
    if codes.len() > 10_000 {
        return Err(Invalid::new("procedures", "too_many"));
    }
    let mut set = BTreeSet::new();
    for c in codes {
        let c = c.trim();
        if !known(c) {
            return Err(Invalid::new("procedures", "unknown_procedure"));
        }
        if !set.insert(c.to_string()) {
            return Err(Invalid::new("procedures", "duplicate_procedure"));
        }
    }
    Ok(Entries::Procedures(set))
}

/// Parse the fees of a new `fees` version: known procedures, each once, amounts checked.
pub fn parse_fees(fees: &[FeeEntry], known: impl Fn(&str) -> bool) -> Result<Entries, Invalid> {
    if fees.len() > 10_000 {
        return Err(Invalid::new("fees", "too_many"));
    }
    let mut map = BTreeMap::new();
    for f in fees {
        let c = f.procedure_code.trim();
        if !known(c) {
            return Err(Invalid::new("fees", "unknown_procedure"));
        }
        let fee = check_amount("fees", f.fee_vnd)?;
        if map.insert(c.to_string(), fee).is_some() {
            return Err(Invalid::new("fees", "duplicate_procedure"));
        }
    }
    Ok(Entries::Fees(map))
}

/// Every province's lists, each newest version first.
#[derive(Debug, Default, Clone)]
pub struct ProvinceLists {
    lists: HashMap<(String, ListKind), Vec<ListVersion>>,
}

impl ProvinceLists {
    /// Add a version (any order).
    pub fn insert(&mut self, province: &str, kind: ListKind, version: ListVersion) {
        let v = self.lists.entry((province.to_string(), kind)).or_default();
        v.push(version);
        v.sort_by_key(|x| std::cmp::Reverse(x.valid_from));
    }

    /// The version in force at `at`.
    pub fn in_force(
        &self,
        province: &str,
        kind: ListKind,
        at: DateTime<Utc>,
    ) -> Option<&ListVersion> {
        self.lists
            .get(&(province.to_string(), kind))?
            .iter()
            .find(|v| v.valid_from <= at)
    }

    /// Whether `procedure` is received and returned anywhere in `province` at `at`:
    /// the province's list in force, else (no list published yet) the catalog's national
    /// flag `national`.
    pub fn boundary_independent(
        &self,
        province: &str,
        procedure: &str,
        at: DateTime<Utc>,
        national: bool,
    ) -> bool {
        match self.in_force(province, ListKind::BoundaryIndependent, at) {
            Some(ListVersion {
                entries: Entries::Procedures(set),
                ..
            }) => set.contains(procedure),
            _ => national,
        }
    }

    /// The fee of `procedure` in `province` at `at`: the province's, else the national one.
    pub fn fee(&self, province: &str, procedure: &str, at: DateTime<Utc>, national: i64) -> i64 {
        match self.in_force(province, ListKind::Fees, at) {
            Some(ListVersion {
                entries: Entries::Fees(map),
                ..
            }) => map.get(procedure).copied().unwrap_or(national),
            _ => national,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()
    }

    fn procs(codes: &[&str]) -> Entries {
        Entries::Procedures(codes.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn the_version_in_force_is_the_newest_started() {
        let mut l = ProvinceLists::default();
        l.insert(
            "42",
            ListKind::BoundaryIndependent,
            ListVersion {
                valid_from: t(10),
                entries: procs(&["b"]),
            },
        );
        l.insert(
            "42",
            ListKind::BoundaryIndependent,
            ListVersion {
                valid_from: t(1),
                entries: procs(&["a"]),
            },
        );
        // Before any version: the national flag.
        assert!(l.boundary_independent("42", "x", t(1) - chrono::Duration::days(1), true));
        assert!(l.boundary_independent("42", "a", t(5), false));
        assert!(!l.boundary_independent("42", "b", t(5), true));
        assert!(l.boundary_independent("42", "b", t(10), false));
        assert!(!l.boundary_independent("42", "a", t(10), true));
        // Another province keeps the national flag.
        assert!(l.boundary_independent("01", "a", t(10), true));
    }

    #[test]
    fn a_province_fee_replaces_the_national_one() {
        let mut l = ProvinceLists::default();
        let fees = parse_fees(
            &[FeeEntry {
                procedure_code: "2.000635".into(),
                fee_vnd: 5000,
            }],
            |_| true,
        )
        .unwrap();
        l.insert(
            "42",
            ListKind::Fees,
            ListVersion {
                valid_from: t(1),
                entries: fees,
            },
        );
        assert_eq!(l.fee("42", "2.000635", t(2), 8000), 5000);
        assert_eq!(l.fee("42", "1.004222", t(2), 20000), 20000);
        assert_eq!(l.fee("01", "2.000635", t(2), 8000), 8000);
    }

    #[test]
    fn bad_lists_are_refused() {
        let fee = |c: &str, f| FeeEntry {
            procedure_code: c.into(),
            fee_vnd: f,
        };
        assert_eq!(
            parse_fees(&[fee("a", -1)], |_| true).unwrap_err().code,
            "negative_amount"
        );
        assert_eq!(
            parse_fees(&[fee("a", 100_000_001)], |_| true)
                .unwrap_err()
                .code,
            "amount_too_large"
        );
        assert_eq!(
            parse_fees(&[fee("a", 1), fee("a", 2)], |_| true)
                .unwrap_err()
                .code,
            "duplicate_procedure"
        );
        assert_eq!(
            parse_fees(&[fee("zz", 1)], |c| c != "zz").unwrap_err().code,
            "unknown_procedure"
        );
        assert_eq!(
            parse_procedures(&["a".into(), "a".into()], |_| true)
                .unwrap_err()
                .code,
            "duplicate_procedure"
        );
    }
}
