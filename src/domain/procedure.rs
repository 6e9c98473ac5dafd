//! Administrative procedures (thủ tục hành chính): competence, legal time limit, steps.
//!
//! The catalog shipped with motcua lives in `data/procedures.toml`; administrators add and
//! edit procedures through the API, each edit making a new version.

use serde::{Deserialize, Serialize};

use super::account::Invalid;
use super::unit::{Level, UnitKind};

/// How far a procedure can be done online (Decree 42/2022: full or partial online public service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    Full,
    Partial,
    None,
}

impl OnlineLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            OnlineLevel::Full => "full",
            OnlineLevel::Partial => "partial",
            OnlineLevel::None => "none",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s {
            "full" => Ok(OnlineLevel::Full),
            "partial" => Ok(OnlineLevel::Partial),
            "none" => Ok(OnlineLevel::None),
            _ => Err(Invalid::new("online_level", "invalid_online_level")),
        }
    }
}

/// The stages of handling a dossier, each of which may carry an hour budget.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StepKey {
    /// From receipt until a clerk starts processing.
    Reception,
    /// Examination by the specialist office.
    Processing,
    /// Another agency's share (liên thông).
    Interagency,
    /// Waiting for the leader's signature.
    Approval,
    /// From the decision until the result is handed over.
    Result,
}

impl StepKey {
    pub const ALL: [StepKey; 5] = [
        StepKey::Reception,
        StepKey::Processing,
        StepKey::Interagency,
        StepKey::Approval,
        StepKey::Result,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKey::Reception => "reception",
            StepKey::Processing => "processing",
            StepKey::Interagency => "interagency",
            StepKey::Approval => "approval",
            StepKey::Result => "result",
        }
    }

    pub fn parse(s: &str) -> Option<StepKey> {
        StepKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One step with its budget of working hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub key: StepKey,
    pub name_vi: String,
    pub name_en: String,
    /// The kind of unit that performs the step, when not the handling unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_kind: Option<UnitKind>,
    pub hours: u32,
}

/// A document the applicant must submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredDocument {
    /// Stable key used in a dossier's `documents[].kind`.
    pub kind: String,
    pub name_vi: String,
    pub name_en: String,
    #[serde(default = "yes")]
    pub mandatory: bool,
}

fn yes() -> bool {
    true
}

/// A limit the law allows instead of the usual one in a named case (verification needed,
/// many documents, a remote commune), chosen at receipt with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitVariant {
    /// Stable key, given as `variant` to `receive`.
    pub key: String,
    pub name_vi: String,
    pub name_en: String,
    /// The limit in this case, in working hours (8 per working day).
    pub time_limit_hours: u32,
    /// The article that allows it.
    pub legal_basis: String,
}

/// One procedure of a bundle (Decree 63/2024/NĐ-CP's liên thông): filed once with the
/// bundle, it becomes a sub-dossier at the unit competent for it, with its share of the
/// bundle's combined limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundlePart {
    /// The part's own procedure (its code in the catalog; never a bundle itself).
    pub procedure: String,
    /// Its share of the combined limit, in the competent unit's working hours (8 per day).
    pub share_hours: u32,
    /// A part that must be decided (approved) first, by procedure code: residence
    /// registration needs the child's personal ID number that birth registration gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// The legal time limit of a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Limit {
    /// Returned the same working day; received after 15:00 → the next working day.
    SameDay,
    /// A number of working hours (8 per working day).
    WorkingHours { hours: u32 },
    /// Days of the calendar, where the law says `ngày` rather than `ngày làm việc`
    /// (counted as the Civil Code 2015 counts periods, arts. 147–148).
    CalendarDays { days: u32 },
}

impl Limit {
    /// The nominal budget in working hours (a same-day procedure has one working day).
    pub fn budget_hours(self) -> u32 {
        match self {
            Limit::SameDay => 8,
            Limit::WorkingHours { hours } => hours,
            // At most one working day per calendar day: a bound for the steps' budgets.
            Limit::CalendarDays { days } => days.saturating_mul(8),
        }
    }
}

/// A procedure definition (one version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureSpec {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub field: String,
    /// The national catalogue's code of the field (lĩnh vực), sent to the national portal
    /// as `MaLinhVuc`; absent: the field's name folded to ASCII is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_code: Option<String>,
    pub level: Level,
    pub competent_unit_kind: UnitKind,
    /// Working hours; absent for same-day procedures and limits in calendar days.
    #[serde(default)]
    pub time_limit_hours: Option<u32>,
    /// Calendar days, where the law counts `ngày` (not `ngày làm việc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_days: Option<u32>,
    #[serde(default)]
    pub same_day: bool,
    pub boundary_independent: bool,
    pub online_level: OnlineLevel,
    #[serde(default)]
    pub fee_vnd: i64,
    #[serde(default)]
    pub fee_note: String,
    /// The fee is set by each province's People's Council (`fee_vnd` is then 0 here and
    /// `fee_note` names the resolution to look up).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fee_by_province: bool,
    /// Whether waiting for this procedure's fee or tax payment pauses the clock (default:
    /// the configuration's `sla.payment_pauses_clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_pauses_clock: Option<bool>,
    #[serde(default)]
    pub required_documents: Vec<RequiredDocument>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Share of the working time after which the dossier is at risk (default: configuration).
    #[serde(default)]
    pub at_risk_ratio: Option<f64>,
    #[serde(default)]
    pub legal_basis: String,
    /// Longer limits the law allows in named cases, chosen at receipt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limit_variants: Vec<LimitVariant>,
    /// A bundle's procedures (empty for an ordinary procedure). The bundle's own competent
    /// unit receives it, coordinates the parts and returns their results as one set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<BundlePart>,
}

impl ProcedureSpec {
    /// Whether this is a bundle of procedures.
    pub fn is_bundle(&self) -> bool {
        !self.parts.is_empty()
    }

    /// The parts to open when the part `decided` is approved (`None`: at the bundle's
    /// receipt, the parts that wait for nothing).
    pub fn parts_after<'a>(
        &'a self,
        decided: Option<&'a str>,
    ) -> impl Iterator<Item = &'a BundlePart> {
        self.parts
            .iter()
            .filter(move |p| p.after.as_deref() == decided)
    }

    /// A variant by key.
    pub fn variant(&self, key: &str) -> Option<&LimitVariant> {
        self.limit_variants.iter().find(|v| v.key == key)
    }

    /// The limit of a dossier received with `variant` (the usual one without).
    pub fn limit_with(&self, variant: Option<&str>) -> Limit {
        match variant.and_then(|k| self.variant(k)) {
            Some(v) => Limit::WorkingHours {
                hours: v.time_limit_hours,
            },
            None => self.limit(),
        }
    }

    pub fn limit(&self) -> Limit {
        if self.same_day {
            Limit::SameDay
        } else if let Some(days) = self.time_limit_days {
            Limit::CalendarDays { days }
        } else {
            Limit::WorkingHours {
                hours: self.time_limit_hours.unwrap_or(0),
            }
        }
    }

    /// Check the rules every version must satisfy; returns every broken one.
    pub fn validate(&self) -> Vec<Invalid> {
        let mut out = Vec::new();
        if !is_procedure_code(&self.code) {
            out.push(Invalid::new("code", "invalid_procedure_code"));
        }
        for (field, v) in [
            ("name_vi", &self.name_vi),
            ("name_en", &self.name_en),
            ("field", &self.field),
        ] {
            if v.trim().is_empty() || v.chars().count() > 500 {
                out.push(Invalid::new(field, "invalid_length"));
            }
        }
        if let Some(f) = &self.field_code {
            if !is_field_code(f) {
                out.push(Invalid::new("field_code", "invalid_field_code"));
            }
        }
        if self.competent_unit_kind.level() != self.level {
            out.push(Invalid::new("competent_unit_kind", "kind_level_mismatch"));
        }
        if self.competent_unit_kind.receives_dossiers() {
            out.push(Invalid::new("competent_unit_kind", "not_a_handling_kind"));
        }
        match (self.same_day, self.time_limit_hours, self.time_limit_days) {
            (true, Some(_), _) => {
                out.push(Invalid::new("time_limit_hours", "same_day_has_no_hours"))
            }
            (true, _, Some(_)) => out.push(Invalid::new("time_limit_days", "same_day_has_no_days")),
            (false, Some(_), Some(_)) => out.push(Invalid::new("time_limit_days", "hours_or_days")),
            (false, None, None) => out.push(Invalid::new("time_limit_hours", "required")),
            (false, Some(h), None) if h == 0 || h > 8 * 365 => {
                out.push(Invalid::new("time_limit_hours", "out_of_range"))
            }
            (false, None, Some(d)) if d == 0 || d > 365 => {
                out.push(Invalid::new("time_limit_days", "out_of_range"))
            }
            _ => {}
        }
        if self.fee_by_province && self.fee_vnd != 0 {
            out.push(Invalid::new("fee_vnd", "fee_set_by_province"));
        }
        if self.fee_vnd < 0 {
            out.push(Invalid::new("fee_vnd", "out_of_range"));
        }
        if let Some(r) = self.at_risk_ratio {
            if !(r > 0.0 && r < 1.0) {
                out.push(Invalid::new("at_risk_ratio", "out_of_range"));
            }
        }
        let total = self
            .steps
            .iter()
            .fold(0u32, |t, s| t.saturating_add(s.hours));
        if total > self.limit().budget_hours() {
            out.push(Invalid::new("steps", "steps_exceed_limit"));
        }
        let mut keys: Vec<StepKey> = self.steps.iter().map(|s| s.key).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != self.steps.len() {
            out.push(Invalid::new("steps", "duplicate_step"));
        }
        let mut keys: Vec<&str> = self.limit_variants.iter().map(|v| v.key.as_str()).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != self.limit_variants.len() {
            out.push(Invalid::new("limit_variants", "duplicate_variant"));
        }
        for v in &self.limit_variants {
            let key_ok = !v.key.is_empty()
                && v.key.len() <= 64
                && v.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok || v.name_vi.trim().is_empty() || v.name_en.trim().is_empty() {
                out.push(Invalid::new("limit_variants", "invalid_variant"));
            } else if v.time_limit_hours > 8 * 365 {
                out.push(Invalid::new("limit_variants", "out_of_range"));
            } else if v.time_limit_hours <= self.limit().budget_hours() {
                // A variant is a longer limit than the usual one (for a limit in calendar
                // days the budget is an upper bound, so this errs on the strict side).
                out.push(Invalid::new("limit_variants", "variant_not_longer"));
            }
        }
        out.extend(self.validate_parts());
        let mut kinds: Vec<&str> = self
            .required_documents
            .iter()
            .map(|d| d.kind.as_str())
            .collect();
        kinds.sort();
        kinds.dedup();
        if kinds.len() != self.required_documents.len() {
            out.push(Invalid::new(
                "required_documents",
                "duplicate_document_kind",
            ));
        }
        out
    }
}

impl ProcedureSpec {
    /// A bundle's parts: each a procedure code, once, other than the bundle's; each waits
    /// for an earlier part or for nothing; a chain of shares fits the combined limit.
    fn validate_parts(&self) -> Vec<Invalid> {
        let mut out = Vec::new();
        let budget = self.limit().budget_hours();
        for (i, p) in self.parts.iter().enumerate() {
            let earlier = &self.parts[..i];
            if !is_procedure_code(&p.procedure) || p.procedure == self.code {
                out.push(Invalid::new("parts", "invalid_part"));
            } else if earlier.iter().any(|e| e.procedure == p.procedure) {
                out.push(Invalid::new("parts", "duplicate_part"));
            } else if p.share_hours == 0 || p.share_hours > 8 * 365 {
                out.push(Invalid::new("parts", "out_of_range"));
            } else if p
                .after
                .as_ref()
                .is_some_and(|a| !earlier.iter().any(|e| &e.procedure == a))
            {
                out.push(Invalid::new("parts", "after_unknown_part"));
            } else if self.chain_hours(i) > budget {
                out.push(Invalid::new("parts", "shares_exceed_limit"));
            }
        }
        out
    }

    /// The shares of part `i` and of the parts it waits for, in working hours.
    fn chain_hours(&self, i: usize) -> u32 {
        let mut total = 0u32;
        let mut at = Some(&self.parts[i]);
        // Each `after` names an earlier part, so the walk ends within `parts.len()` steps.
        for _ in 0..self.parts.len() {
            let Some(p) = at else { break };
            total = total.saturating_add(p.share_hours);
            at = p
                .after
                .as_ref()
                .and_then(|a| self.parts.iter().find(|e| &e.procedure == a));
        }
        total
    }
}

/// A procedure's code in the national database (`1.001193`, `2.000815`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if !is_procedure_code(s) {
            return Err(Invalid::new("procedure_code", "invalid_procedure_code"));
        }
        Ok(ProcedureCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ProcedureCode::parse(&s)
    }
}

impl From<ProcedureCode> for String {
    fn from(c: ProcedureCode) -> String {
        c.0
    }
}

/// Procedure codes of the national database look like `1.001193` or `2.000815`.
/// A field code of the national catalogue: 1–50 of letters, digits, `.`, `-` and `_`.
pub fn is_field_code(s: &str) -> bool {
    (1..=50).contains(&s.len())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

pub fn is_procedure_code(s: &str) -> bool {
    let digits = |x: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&x.len()) && x.bytes().all(|c| c.is_ascii_digit())
    };
    let mut groups = s.split('.');
    let (Some(a), Some(b)) = (groups.next(), groups.next()) else {
        return false;
    };
    // A part or variant without a national code of its own carries its bundle's code and
    // its number, as provinces publish them (`3.000722.03`).
    let part = groups.next();
    digits(a, 1..=2)
        && digits(b, 6..=7)
        && part.is_none_or(|p| digits(p, 1..=2))
        && groups.next().is_none()
}

/// Each part of a bundle is a procedure `find` knows that is not a bundle itself; `Err`
/// names the first that is not.
pub fn parts_known<'a>(
    bundle: &ProcedureSpec,
    find: impl Fn(&str) -> Option<&'a ProcedureSpec>,
) -> Result<(), String> {
    for part in &bundle.parts {
        match find(&part.procedure) {
            Some(p) if !p.is_bundle() => {}
            _ => return Err(part.procedure.clone()),
        }
    }
    Ok(())
}

/// The catalog file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    procedure: Vec<ProcedureSpec>,
}

/// The catalog shipped with motcua (`data/procedures.toml`).
pub const CATALOG_TOML: &str = include_str!("../../data/procedures.toml");

/// Parse and check a catalog.
pub fn parse_catalog(toml_text: &str) -> Result<Vec<ProcedureSpec>, String> {
    let file: CatalogFile = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    for p in &file.procedure {
        let errors = p.validate();
        if !errors.is_empty() {
            return Err(format!("procedure {}: {:?}", p.code, errors));
        }
        if let Err(part) = parts_known(p, |code| file.procedure.iter().find(|q| q.code == code)) {
            return Err(format!(
                "procedure {}: part {part} is not an ordinary procedure of the catalog",
                p.code
            ));
        }
    }
    Ok(file.procedure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_parts_are_checked() {
        let catalog = parse_catalog(CATALOG_TOML).unwrap();
        let mut b = catalog
            .iter()
            .find(|p| p.code == "3.000722")
            .unwrap()
            .clone();
        assert!(b.validate().is_empty());
        // A chain of shares longer than the combined limit: 8 + 24 > 24 hours.
        b.parts[1].share_hours = 24;
        assert!(b.validate().iter().any(|e| e.code == "shares_exceed_limit"));
        b.parts[1].share_hours = 16;
        b.parts[1].after = Some("1.000001".into());
        assert!(b.validate().iter().any(|e| e.code == "after_unknown_part"));
        b.parts[1].after = None;
        b.parts.push(b.parts[0].clone());
        assert!(b.validate().iter().any(|e| e.code == "duplicate_part"));
        b.parts.pop();
        assert!(parts_known(&b, |c| catalog.iter().find(|p| p.code == c)).is_ok());
        b.parts[0].procedure = "2.002913".into();
        assert_eq!(
            parts_known(&b, |c| catalog.iter().find(|p| p.code == c)),
            Err("2.002913".into())
        );
        assert!(is_procedure_code("3.000722.03"));
        assert!(!is_procedure_code("3.000722.003"));
        assert!(!is_procedure_code("3.000722.03.1"));
    }

    #[test]
    fn the_shipped_catalog_is_valid_and_complete() {
        let catalog = parse_catalog(CATALOG_TOML).unwrap();
        // domain.md §6 lists 21 procedures; every one must be there.
        for code in [
            "1.001193", "1.000894", "1.000656", "2.000806", "2.000528", "2.000635", "1.004873",
            "2.000815", "2.000884", "1.004222", "1.004194", "1.001612", "2.001610", "1.013225",
            "1.013227", "1.012753", "1.012783", "3.000333", "1.001776", "1.001731", "1.001699",
        ] {
            assert!(catalog.iter().any(|p| p.code == code), "{code} missing");
        }
        let birth = catalog.iter().find(|p| p.code == "1.001193").unwrap();
        assert_eq!(birth.limit(), Limit::SameDay);
        // Decree 63/2024 (amended by Decree 301/2026): the birth bundle in 3 working days,
        // birth registration first, then residence and the card side by side.
        let bundle = catalog.iter().find(|p| p.code == "3.000722").unwrap();
        assert_eq!(bundle.limit(), Limit::WorkingHours { hours: 24 });
        let after_birth: Vec<&str> = bundle
            .parts_after(Some("1.001193"))
            .map(|p| p.procedure.as_str())
            .collect();
        assert_eq!(after_birth, ["1.004222", "3.000722.03"]);
        let card = catalog.iter().find(|p| p.code == "3.000722.03").unwrap();
        assert_eq!(card.competent_unit_kind, UnitKind::SocialInsurance);
        let death = catalog.iter().find(|p| p.code == "2.002913").unwrap();
        assert_eq!(death.limit(), Limit::WorkingHours { hours: 48 });
        assert_eq!(death.parts.len(), 3);
        assert_eq!(birth.competent_unit_kind, UnitKind::CommunePc);
        let enterprise = catalog.iter().find(|p| p.code == "2.001610").unwrap();
        assert_eq!(enterprise.level, Level::Province);
        assert_eq!(enterprise.limit(), Limit::WorkingHours { hours: 24 });
    }

    #[test]
    fn validation_catches_inconsistencies() {
        let mut p = parse_catalog(CATALOG_TOML).unwrap().remove(0);
        p.code = "abc".into();
        p.competent_unit_kind = UnitKind::DeptJustice;
        p.time_limit_hours = Some(8);
        let codes: Vec<&str> = p.validate().iter().map(|e| e.code).collect();
        assert!(codes.contains(&"invalid_procedure_code"));
        assert!(codes.contains(&"kind_level_mismatch"));
        assert!(codes.contains(&"same_day_has_no_hours"));
    }

    /// Absurd numbers are refused, never overflowed (found by fuzzing the API).
    #[test]
    fn huge_limits_are_out_of_range() {
        let mut p = parse_catalog(CATALOG_TOML).unwrap().remove(0);
        p.same_day = false;
        p.time_limit_days = Some(u32::MAX);
        p.steps[0].hours = u32::MAX;
        let codes: Vec<&str> = p.validate().iter().map(|e| e.code).collect();
        assert!(codes.contains(&"out_of_range"), "{codes:?}");
    }
}
