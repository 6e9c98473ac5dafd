//! Address resolution: a code, names or free text, in either era → the 2025 ward(s).

use serde::{Deserialize, Serialize};

use super::codes::{
    LegacyDistrictCode, LegacyProvinceCode, LegacyWardCode, ProvinceCode, WardCode,
};
use super::explain::Explanation;
use super::index::{Gazetteer, Matches, Name};
use super::normalize::{normalize, Query};
use crate::domain::lang::Lang;

/// Longest accepted input string, in characters.
pub const MAX_INPUT_CHARS: usize = 200;
/// Longest candidate list; the explanation says how many matched when cut.
pub const MAX_CANDIDATES: usize = 20;
/// Most suggestions offered with a `NotFound`.
pub const MAX_SUGGESTIONS: usize = 5;
/// Most old wards explained one by one.
const MAX_DETAILED: usize = 5;

/// An address as the citizen gives it: exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressInput {
    /// A 2025 ward code ("00004" or "4").
    WardCode(String),
    /// A pre-2025 ward code.
    LegacyWardCode(String),
    /// Names, in either era. A district means a pre-2025 address.
    Names {
        #[serde(default)]
        province: Option<String>,
        #[serde(default)]
        district: Option<String>,
        ward: String,
    },
    /// A free string: "Phường Phúc Xá, Quận Ba Đình, Hà Nội", "phuc xa, ba dinh, ha noi".
    Text(String),
}

/// Invalid input: for a 422 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct AddressError {
    /// `ward_code`, `legacy_ward_code`, `province`, `district`, `ward` or `text`.
    pub field: &'static str,
    /// `invalid_ward_code`, `invalid_legacy_ward_code`, `required`, `too_long`,
    /// `control_characters`, `no_letters_or_digits`.
    pub code: &'static str,
    /// English message.
    pub message: String,
}

/// Outcome of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Exactly one 2025 ward.
    Resolved,
    /// Several possible 2025 wards (or a split old ward): see `candidates`.
    Ambiguous,
    /// No ward: see `explanation` and `suggestions`.
    NotFound,
}

/// Which administrative structure the input was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Era {
    /// The two-tier structure in force since 1 July 2025.
    #[serde(rename = "2025")]
    Y2025,
    /// The pre-2025 three-tier structure.
    #[serde(rename = "legacy")]
    Legacy,
}

/// A 2025 ward with its province, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WardRef {
    pub code: WardCode,
    pub name: Name,
    pub province_code: ProvinceCode,
    pub province_name: Name,
}

/// A pre-2025 ward with its district and province. `name` is `None` for old codes that are only
/// in the conversion table; district and province are then taken from the table's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyWardRef {
    pub code: LegacyWardCode,
    pub name: Option<Name>,
    pub district_code: Option<LegacyDistrictCode>,
    pub district_name: Option<Name>,
    pub province_code: Option<LegacyProvinceCode>,
    pub province_name: Option<Name>,
}

/// How a candidate was reached from an old ward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Via {
    pub legacy: LegacyWardRef,
    /// Only part of the old ward went into this candidate.
    pub partly_merged: bool,
}

/// A possible 2025 ward. `via` is empty when the 2025 ward was named or coded directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub ward: WardRef,
    pub via: Vec<Via>,
}

/// The result of [`Gazetteer::resolve`].
///
/// - `Resolved`: `ward` is set and `candidates` holds exactly that ward (with `via` when reached
///   from an old ward).
/// - `Ambiguous`: `ward` is `None`; `candidates` lists every possible ward (at most
///   [`MAX_CANDIDATES`]; possibly one, for an old ward flagged as split with one listed successor).
/// - `NotFound`: no candidates; `suggestions` may offer up to [`MAX_SUGGESTIONS`] wards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub status: Status,
    pub era: Option<Era>,
    pub ward: Option<WardRef>,
    pub candidates: Vec<Candidate>,
    pub explanation: Vec<Explanation>,
    pub suggestions: Vec<WardRef>,
}

impl Resolution {
    fn not_found(explanation: Vec<Explanation>) -> Resolution {
        Resolution {
            status: Status::NotFound,
            era: None,
            ward: None,
            candidates: Vec::new(),
            explanation,
            suggestions: Vec::new(),
        }
    }

    /// The explanation as sentences.
    pub fn render(&self, lang: Lang) -> Vec<String> {
        self.explanation.iter().map(|e| e.render(lang)).collect()
    }

    /// The codes of the candidates, in order.
    pub fn candidate_codes(&self) -> Vec<WardCode> {
        self.candidates.iter().map(|c| c.ward.code).collect()
    }

    fn prepend(&mut self, mut pre: Vec<Explanation>) {
        if !pre.is_empty() {
            pre.append(&mut self.explanation);
            self.explanation = pre;
        }
    }

    fn truncate(&mut self) {
        let total = self.candidates.len();
        if total > MAX_CANDIDATES {
            self.candidates.truncate(MAX_CANDIDATES);
            self.explanation.push(Explanation::Truncated {
                total,
                shown: MAX_CANDIDATES,
            });
        }
    }
}

// ---- input validation -----------------------------------------------------------------------

fn check_text(field: &'static str, s: &str) -> Result<(), AddressError> {
    if s.len() > MAX_INPUT_CHARS && s.chars().count() > MAX_INPUT_CHARS {
        return Err(AddressError {
            field,
            code: "too_long",
            message: format!("must be at most {MAX_INPUT_CHARS} characters"),
        });
    }
    if s.chars().any(char::is_control) {
        return Err(AddressError {
            field,
            code: "control_characters",
            message: "must not contain control characters".to_string(),
        });
    }
    Ok(())
}

fn check_required(field: &'static str, s: &str) -> Result<(), AddressError> {
    check_text(field, s)?;
    if s.trim().is_empty() {
        return Err(AddressError {
            field,
            code: "required",
            message: "is required".to_string(),
        });
    }
    if normalize(s).is_empty() {
        return Err(AddressError {
            field,
            code: "no_letters_or_digits",
            message: "must contain letters or digits".to_string(),
        });
    }
    Ok(())
}

fn check_optional<'a>(
    field: &'static str,
    s: Option<&'a str>,
) -> Result<Option<&'a str>, AddressError> {
    match s {
        None => Ok(None),
        Some(s) => {
            check_text(field, s)?;
            let t = s.trim();
            Ok((!t.is_empty() && !normalize(t).is_empty()).then_some(t))
        }
    }
}

fn check_code<T>(
    field: &'static str,
    code: &'static str,
    s: &str,
    parse: impl Fn(&str) -> Result<T, super::codes::CodeError>,
) -> Result<T, AddressError> {
    check_text(field, s)?;
    parse(s.trim()).map_err(|e| AddressError {
        field,
        code,
        message: e.reason(),
    })
}

// ---- province scope ----------------------------------------------------------------------------

/// The province given, matched in both eras.
struct Scope {
    /// 2025 province indexes.
    current: Vec<u32>,
    /// Legacy province indexes.
    legacy: Vec<u32>,
}

/// Free text split into hard groups (commas) of soft pieces (" - ").
fn split_text(text: &str) -> Vec<Vec<&str>> {
    let mut groups: Vec<Vec<&str>> = text
        .split([',', ';'])
        .map(|g| {
            let mut pieces = Vec::new();
            let mut rest = g;
            if !g.contains(['-', '–', '—']) {
                if g.chars().any(char::is_alphanumeric) {
                    pieces.push(g.trim());
                }
                return pieces;
            }
            loop {
                let next = [" - ", " – ", " — "]
                    .iter()
                    .filter_map(|sep| rest.find(sep).map(|i| (i, sep.len())))
                    .min();
                match next {
                    Some((i, len)) => {
                        pieces.push(rest[..i].trim());
                        rest = &rest[i + len..];
                    }
                    None => {
                        pieces.push(rest.trim());
                        break;
                    }
                }
            }
            pieces.retain(|p| p.chars().any(char::is_alphanumeric));
            pieces
        })
        .filter(|g| !g.is_empty())
        .collect();
    // A trailing country name.
    if groups.len() > 1 {
        if let Some(last) = groups.last() {
            if last.len() == 1
                && matches!(normalize(last[0]).as_str(), "viet nam" | "vietnam" | "vn")
            {
                groups.pop();
            }
        }
    }
    groups
}

impl Gazetteer {
    // ---- refs -------------------------------------------------------------------------------

    pub(crate) fn ward_ref_at(&self, w: u32) -> WardRef {
        let ward = &self.wards[w as usize];
        let p = &self.provinces[self.ward_province[w as usize] as usize];
        WardRef {
            code: ward.code,
            name: ward.name.clone(),
            province_code: p.code,
            province_name: p.name.clone(),
        }
    }

    /// A 2025 ward with its province name.
    pub fn ward_ref(&self, code: WardCode) -> Option<WardRef> {
        self.ward_index(code).map(|w| self.ward_ref_at(w))
    }

    /// An old ward with its district and province (names may be missing for codes that are only
    /// in the conversion table).
    pub fn legacy_ward_ref(&self, code: LegacyWardCode) -> LegacyWardRef {
        let name = self.legacy_ward(code).map(|l| l.name.clone());
        let district = self.legacy_ward_district(code);
        let province = self.legacy_ward_province(code);
        LegacyWardRef {
            code,
            name,
            district_code: district.map(|d| d.code),
            district_name: district.map(|d| d.name.clone()),
            province_code: province.map(|p| p.code),
            province_name: province.map(|p| p.name.clone()),
        }
    }

    // ---- entry points -----------------------------------------------------------------------

    /// Resolve an address. `Err` only for invalid input (a 422); every well-formed input gets a
    /// [`Resolution`], `NotFound` included.
    pub fn resolve(&self, input: &AddressInput) -> Result<Resolution, AddressError> {
        match input {
            AddressInput::WardCode(s) => {
                let code = check_code("ward_code", "invalid_ward_code", s, WardCode::parse)?;
                Ok(self.resolve_ward_code(code))
            }
            AddressInput::LegacyWardCode(s) => {
                let code = check_code(
                    "legacy_ward_code",
                    "invalid_legacy_ward_code",
                    s,
                    LegacyWardCode::parse,
                )?;
                Ok(self.resolve_legacy_ward_code(code))
            }
            AddressInput::Names {
                province,
                district,
                ward,
            } => self.resolve_names(province.as_deref(), district.as_deref(), ward),
            AddressInput::Text(text) => self.resolve_text(text),
        }
    }

    /// Resolve a 2025 ward code.
    pub fn resolve_ward_code(&self, code: WardCode) -> Resolution {
        match self.ward_index(code) {
            Some(w) => self.outcome_current(&[w], None),
            None => Resolution::not_found(vec![Explanation::UnknownWardCode { code }]),
        }
    }

    /// Resolve a pre-2025 ward code through the conversion table.
    pub fn resolve_legacy_ward_code(&self, code: LegacyWardCode) -> Resolution {
        if self.conversion(code).is_some() {
            return self.outcome_legacy(&[code], None);
        }
        if self.legacy_ward_index(code).is_some() {
            return Resolution::not_found(vec![Explanation::NoConversionRow {
                old: self.legacy_ward_ref(code),
            }]);
        }
        Resolution::not_found(vec![Explanation::UnknownLegacyWardCode { code }])
    }

    /// Resolve names: a ward, with an optional province and an optional (pre-2025) district.
    pub fn resolve_names(
        &self,
        province: Option<&str>,
        district: Option<&str>,
        ward: &str,
    ) -> Result<Resolution, AddressError> {
        check_required("ward", ward)?;
        let province = check_optional("province", province)?;
        let district = check_optional("district", district)?;
        let ward = ward.trim();
        let scope = province.and_then(|p| self.scope_of(p));
        let dq = district.map(Query::parse);
        let mut r = self.names_core(
            province.map(|p| (p, scope.as_ref())),
            district.zip(dq.as_ref()),
            ward,
        );
        if r.status == Status::NotFound && r.suggestions.is_empty() {
            r.suggestions = self.suggest(ward, scope.as_ref());
        }
        Ok(r)
    }

    /// Resolve a free-text address: split on commas (and " - "), read from the end: province,
    /// then district if there are three parts or more, then ward; leading parts (street, house
    /// number) are ignored. Hyphens inside official names ("Bà Rịa - Vũng Tàu") are kept.
    pub fn resolve_text(&self, text: &str) -> Result<Resolution, AddressError> {
        check_required("text", text)?;
        let groups = split_text(text);
        let soft: usize = groups.iter().map(|g| g.len() - 1).sum();
        // Readings: bit i of the mask splits soft boundary i. All joined first (official names
        // keep their hyphens), then all split, then the mixes.
        let all = if soft > 3 { 1 } else { (1u32 << soft) - 1 };
        let full_split = if soft > 3 { u32::MAX } else { all };
        let mut masks = vec![0u32];
        if soft > 0 {
            masks.push(full_split);
            if soft <= 3 {
                masks.extend((1..all).filter(|&m| m != full_split));
            }
        }
        let primary = if groups.len() > 1 || soft == 0 {
            0
        } else {
            full_split
        };
        for &mask in &masks {
            let parts = Self::parts(&groups, mask);
            let r = self.parts_core(&parts, false);
            if r.status != Status::NotFound {
                return Ok(r);
            }
        }
        let parts = Self::parts(&groups, primary);
        Ok(self.parts_core(&parts, true))
    }

    fn parts(groups: &[Vec<&str>], mask: u32) -> Vec<String> {
        let mut out = Vec::new();
        let mut bit = 0;
        for g in groups {
            let mut cur = g[0].to_string();
            for p in &g[1..] {
                if bit >= 32 || mask & (1 << bit) != 0 {
                    out.push(std::mem::take(&mut cur));
                    cur.push_str(p);
                } else {
                    cur.push_str(" - ");
                    cur.push_str(p);
                }
                bit += 1;
            }
            out.push(cur);
        }
        out
    }

    fn parts_core(&self, parts: &[String], suggest: bool) -> Resolution {
        let n = parts.len();
        let ignored: &[String];
        let (province, district, ward): (Option<&str>, Option<&str>, &str);
        let scope: Option<Scope>;
        let dq: Option<Query>;
        match n {
            0 => return Resolution::not_found(Vec::new()),
            1 => {
                (province, district, ward, ignored) = (None, None, &parts[0], &[]);
                (scope, dq) = (None, None);
            }
            2 => {
                let last = parts[1].as_str();
                ignored = &[];
                ward = &parts[0];
                scope = self.scope_of(last);
                let lq = if scope.is_none() {
                    Some(Query::parse(last)).filter(|q| self.is_legacy_district(q))
                } else {
                    None
                };
                if lq.is_some() {
                    (province, district, dq) = (None, Some(last), lq);
                } else {
                    (province, district, dq) = (Some(last), None, None);
                }
            }
            _ => {
                let (p, d, w) = (
                    parts[n - 1].as_str(),
                    parts[n - 2].as_str(),
                    parts[n - 3].as_str(),
                );
                let sc = self.scope_of(p);
                let q = Query::parse(d);
                match &sc {
                    Some(s) if self.find_districts(s, &q).0.is_empty() => {
                        // "…, street, ward, province": a 2025 address.
                        let mut r = self.names_core(Some((p, Some(s))), None, d);
                        if r.status != Status::NotFound {
                            r.prepend(vec![Explanation::ReadAs {
                                ward: d.to_string(),
                                district: None,
                                province: Some(p.to_string()),
                                ignored: parts[..n - 2].to_vec(),
                            }]);
                            return r;
                        }
                        (province, district, ward, ignored) =
                            (Some(p), Some(d), w, &parts[..n - 3]);
                        (scope, dq) = (sc, Some(q));
                    }
                    Some(_) => {
                        (province, district, ward, ignored) =
                            (Some(p), Some(d), w, &parts[..n - 3]);
                        (scope, dq) = (sc, Some(q));
                    }
                    None => {
                        let pq = Query::parse(p);
                        if self.is_legacy_district(&pq) {
                            // "…, ward, district" without a province.
                            (province, district, ward, ignored) =
                                (None, Some(p), d, &parts[..n - 2]);
                            (scope, dq) = (None, Some(pq));
                        } else {
                            (province, district, ward, ignored) =
                                (Some(p), Some(d), w, &parts[..n - 3]);
                            (scope, dq) = (None, Some(q));
                        }
                    }
                }
            }
        }
        let mut r = self.names_core(
            province.map(|p| (p, scope.as_ref())),
            district.zip(dq.as_ref()),
            ward,
        );
        if suggest && r.status == Status::NotFound && r.suggestions.is_empty() {
            r.suggestions = self.suggest(ward, scope.as_ref());
        }
        r.prepend(vec![Explanation::ReadAs {
            ward: ward.to_string(),
            district: district.map(str::to_string),
            province: province.map(str::to_string),
            ignored: ignored.to_vec(),
        }]);
        r
    }

    fn is_legacy_district(&self, q: &Query) -> bool {
        q.interps()
            .any(|i| self.legacy_district_names.contains_key(i.plain.as_str()))
    }

    fn scope_of(&self, province: &str) -> Option<Scope> {
        let (current, legacy) = self.match_provinces(&Query::parse(province));
        (!current.is_empty() || !legacy.is_empty()).then_some(Scope { current, legacy })
    }

    // ---- scopes -------------------------------------------------------------------------------

    fn scope_label(&self, s: &Scope) -> Name {
        match (s.current.first(), s.legacy.first()) {
            (Some(&p), _) => self.provinces[p as usize].name.clone(),
            (None, Some(&l)) => self.legacy_provinces[l as usize].name.clone(),
            (None, None) => Name::from(""),
        }
    }

    /// For a pre-2025 province: the 2025 wards of the provinces its area went into (the island
    /// special zones have no predecessor ward but belong there too).
    fn new_ward_in_scope(&self, s: &Scope, w: u32) -> bool {
        if s.current.is_empty() {
            let p = self.ward_province[w as usize];
            s.legacy
                .iter()
                .any(|&lp| self.legacy_province_now_in[lp as usize].contains(&p))
        } else {
            s.current.contains(&self.ward_province[w as usize])
        }
    }

    fn legacy_ward_in_narrow_scope(&self, s: &Scope, l: u32) -> bool {
        s.legacy.contains(&self.legacy_ward_province[l as usize])
    }

    fn legacy_ward_in_wide_scope(&self, s: &Scope, l: u32) -> bool {
        self.legacy_ward_in_narrow_scope(s, l)
            || s.current.iter().any(|&p| {
                self.legacy_wards_into_province[p as usize]
                    .binary_search(&l)
                    .is_ok()
            })
    }

    /// Districts matching in the province's legacy province(s); failing that, districts whose
    /// area went into the 2025 province. Returns (districts, widened).
    fn find_districts(&self, s: &Scope, dq: &Query) -> (Vec<u32>, bool) {
        let narrow = Self::match_names(
            &self.legacy_districts,
            &self.legacy_district_names,
            dq,
            |d| {
                s.legacy
                    .contains(&self.legacy_district_province[d as usize])
            },
        );
        if !narrow.idx.is_empty() || s.current.is_empty() {
            return (narrow.idx, false);
        }
        let wide = Self::match_names(
            &self.legacy_districts,
            &self.legacy_district_names,
            dq,
            |d| {
                s.current.iter().any(|&p| {
                    self.legacy_districts_into_province[p as usize]
                        .binary_search(&d)
                        .is_ok()
                })
            },
        );
        (wide.idx, true)
    }

    fn district_label(&self, d: u32) -> Name {
        let ld = &self.legacy_districts[d as usize];
        let lp = &self.legacy_provinces[self.legacy_district_province[d as usize] as usize];
        Name::from(format!("{} ({})", ld.name, lp.name))
    }

    fn distinct_names(names: impl Iterator<Item = Name>, cap: usize) -> Vec<Name> {
        let mut out: Vec<Name> = Vec::new();
        for n in names {
            if !out.contains(&n) {
                out.push(n);
                if out.len() == cap {
                    break;
                }
            }
        }
        out
    }

    // ---- names --------------------------------------------------------------------------------

    /// `province`: the text given and its match (`None`: matches no province);
    /// `district`: the text given and its parse.
    fn names_core(
        &self,
        province: Option<(&str, Option<&Scope>)>,
        district: Option<(&str, &Query)>,
        ward: &str,
    ) -> Resolution {
        let wq = Query::parse(ward);
        let scope = match province {
            Some((_, Some(s))) => Some(s),
            Some((p, None)) => {
                return Resolution::not_found(vec![Explanation::UnknownProvince {
                    input: p.to_string(),
                }])
            }
            None => None,
        };
        let mut pre = Vec::new();
        if let Some(s) = scope {
            if s.current.is_empty() {
                for &lp in &s.legacy {
                    pre.push(Explanation::LegacyProvince {
                        province: self.legacy_provinces[lp as usize].name.clone(),
                        now_in: self.legacy_province_now_in[lp as usize]
                            .iter()
                            .map(|&p| self.provinces[p as usize].name.clone())
                            .collect(),
                    });
                }
            }
        }
        let mut r = match (district, scope) {
            (Some((d, dq)), _) => self.with_district(scope, d, dq, ward, &wq, &mut pre),
            (None, Some(s)) => self.in_province(s, ward, &wq, &mut pre),
            (None, None) => self.nationwide(ward, &wq),
        };
        r.prepend(pre);
        r
    }

    fn with_district(
        &self,
        scope: Option<&Scope>,
        district: &str,
        dq: &Query,
        ward: &str,
        wq: &Query,
        pre: &mut Vec<Explanation>,
    ) -> Resolution {
        let (districts, widened) = match scope {
            Some(s) => self.find_districts(s, dq),
            None => (
                Self::match_names(
                    &self.legacy_districts,
                    &self.legacy_district_names,
                    dq,
                    |_| true,
                )
                .idx,
                false,
            ),
        };
        if districts.is_empty() {
            if let Some(s) = scope {
                let elsewhere = Self::match_names(
                    &self.legacy_districts,
                    &self.legacy_district_names,
                    dq,
                    |_| true,
                )
                .idx;
                if !elsewhere.is_empty() {
                    return Resolution::not_found(vec![Explanation::DistrictNotInProvince {
                        input: district.to_string(),
                        province: self.scope_label(s),
                        found_in: Self::distinct_names(
                            elsewhere.iter().map(|&d| {
                                self.legacy_provinces
                                    [self.legacy_district_province[d as usize] as usize]
                                    .name
                                    .clone()
                            }),
                            MAX_SUGGESTIONS,
                        ),
                    }]);
                }
            }
            return Resolution::not_found(vec![Explanation::UnknownDistrict {
                input: district.to_string(),
                province: scope.map(|s| self.scope_label(s)),
            }]);
        }
        if let (true, Some(s)) = (widened, scope) {
            for &d in &districts {
                pre.push(Explanation::AcrossMerger {
                    unit: self.legacy_districts[d as usize].name.clone(),
                    old_province: self.legacy_provinces
                        [self.legacy_district_province[d as usize] as usize]
                        .name
                        .clone(),
                    province: self.scope_label(s),
                });
            }
        }
        let m = Self::match_names(&self.legacy_wards, &self.legacy_ward_names, wq, |l| {
            districts.contains(&self.legacy_ward_district[l as usize])
        });
        if !m.idx.is_empty() {
            let codes: Vec<LegacyWardCode> = m
                .idx
                .iter()
                .map(|&l| self.legacy_wards[l as usize].code)
                .collect();
            return self.outcome_legacy(&codes, Some(ward));
        }

        // Not in the district(s): say why.
        let district_names = Name::from(
            districts
                .iter()
                .map(|&d| self.legacy_districts[d as usize].name.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
        let elsewhere = Self::match_names(&self.legacy_wards, &self.legacy_ward_names, wq, |l| {
            scope.is_none_or(|s| self.legacy_ward_in_wide_scope(s, l))
        });
        let current = Self::match_names(&self.wards, &self.ward_names, wq, |w| {
            scope.is_none_or(|s| self.new_ward_in_scope(s, w))
        });
        if !elsewhere.idx.is_empty() || !current.idx.is_empty() {
            let mut explanation = Vec::new();
            let mut suggestions: Vec<WardRef> = Vec::new();
            // A 2025 ward of exactly the type given comes first ("Phường Hồng Hà, Quận Ba Đình"
            // is a 2025 ward given with a district, not the old "Xã Hồng Hà" elsewhere).
            let current_first = !current.idx.is_empty()
                && (elsewhere.idx.is_empty() || (current.type_exact && !elsewhere.type_exact));
            let current_part = |explanation: &mut Vec<Explanation>,
                                suggestions: &mut Vec<WardRef>| {
                if let Some(&w) = current.idx.first() {
                    explanation.push(Explanation::Ward2025WithDistrict {
                        ward: self.ward_ref_at(w),
                        district: district_names.clone(),
                    });
                    suggestions.extend(current.idx.iter().map(|&w| self.ward_ref_at(w)));
                }
            };
            if current_first {
                current_part(&mut explanation, &mut suggestions);
            }
            if !elsewhere.idx.is_empty() {
                explanation.push(Explanation::WardNotInDistrict {
                    input: ward.to_string(),
                    district: district_names.clone(),
                    found_in: Self::distinct_names(
                        elsewhere
                            .idx
                            .iter()
                            .map(|&l| self.district_label(self.legacy_ward_district[l as usize])),
                        MAX_SUGGESTIONS,
                    ),
                });
                suggestions.extend(self.successor_refs(&elsewhere.idx));
            }
            if !current_first {
                current_part(&mut explanation, &mut suggestions);
            }
            let mut r = Resolution::not_found(explanation);
            for w in suggestions {
                if r.suggestions.len() < MAX_SUGGESTIONS
                    && !r.suggestions.iter().any(|x| x.code == w.code)
                {
                    r.suggestions.push(w);
                }
            }
            return r;
        }
        if districts
            .iter()
            .all(|&d| self.legacy_wards_by_district[d as usize].is_empty())
        {
            return Resolution::not_found(vec![Explanation::DistrictHadNoWards {
                district: district_names,
            }]);
        }
        Resolution::not_found(vec![Explanation::NoWardNamed {
            input: ward.to_string(),
            scope: Some(district_names),
        }])
    }

    fn in_province(
        &self,
        s: &Scope,
        ward: &str,
        wq: &Query,
        pre: &mut Vec<Explanation>,
    ) -> Resolution {
        let label = self.scope_label(s);
        let current = Self::match_names(&self.wards, &self.ward_names, wq, |w| {
            self.new_ward_in_scope(s, w)
        });
        let mut legacy = Self::match_names(&self.legacy_wards, &self.legacy_ward_names, wq, |l| {
            self.legacy_ward_in_narrow_scope(s, l)
        });
        let mut widened = false;
        if legacy.idx.is_empty() && !s.current.is_empty() {
            legacy = Self::match_names(&self.legacy_wards, &self.legacy_ward_names, wq, |l| {
                self.legacy_ward_in_wide_scope(s, l)
            });
            widened = !legacy.idx.is_empty();
        }
        match (current.idx.is_empty(), legacy.idx.is_empty()) {
            (true, true) => {
                let cur = Self::match_names(&self.wards, &self.ward_names, wq, |_| true);
                let old =
                    Self::match_names(&self.legacy_wards, &self.legacy_ward_names, wq, |_| true);
                if cur.idx.is_empty() && old.idx.is_empty() {
                    return Resolution::not_found(vec![Explanation::NoWardNamed {
                        input: ward.to_string(),
                        scope: Some(label),
                    }]);
                }
                let found_in = Self::distinct_names(
                    cur.idx
                        .iter()
                        .map(|&w| {
                            self.provinces[self.ward_province[w as usize] as usize]
                                .name
                                .clone()
                        })
                        .chain(old.idx.iter().map(|&l| {
                            self.legacy_provinces[self.legacy_ward_province[l as usize] as usize]
                                .name
                                .clone()
                        })),
                    MAX_SUGGESTIONS,
                );
                let mut r = Resolution::not_found(vec![Explanation::WardNotInProvince {
                    input: ward.to_string(),
                    province: label,
                    found_in,
                }]);
                let mut sugg: Vec<WardRef> = cur
                    .idx
                    .iter()
                    .take(MAX_SUGGESTIONS)
                    .map(|&w| self.ward_ref_at(w))
                    .collect();
                for w in self.successor_refs(&old.idx) {
                    if sugg.len() < MAX_SUGGESTIONS && !sugg.iter().any(|x| x.code == w.code) {
                        sugg.push(w);
                    }
                }
                r.suggestions = sugg;
                r
            }
            (false, true) => self.outcome_current(&current.idx, Some(ward)),
            (true, false) => {
                if !s.current.is_empty() {
                    pre.push(Explanation::NoWard2025MatchedLegacy {
                        input: ward.to_string(),
                        province: Some(label.clone()),
                    });
                }
                if widened {
                    let lps = Self::distinct_names(
                        legacy.idx.iter().map(|&l| {
                            self.legacy_provinces[self.legacy_ward_province[l as usize] as usize]
                                .name
                                .clone()
                        }),
                        3,
                    );
                    for lp in lps {
                        pre.push(Explanation::AcrossMerger {
                            unit: Name::from(ward),
                            old_province: lp,
                            province: label.clone(),
                        });
                    }
                }
                self.outcome_legacy_idx(&legacy.idx, ward)
            }
            (false, false) => {
                let type_says_legacy =
                    wq.primary.prefix.is_some() && legacy.type_exact && !current.type_exact;
                let first = self.ward_ref_at(current.idx[0]);
                if s.current.is_empty() || type_says_legacy {
                    let mut r = self.outcome_legacy_idx(&legacy.idx, ward);
                    r.explanation.push(Explanation::PreferredLegacy {
                        ward: first,
                        province: label,
                        legacy_type: type_says_legacy,
                    });
                    r
                } else {
                    let mut r = self.outcome_current(&current.idx, Some(ward));
                    r.explanation.push(Explanation::Preferred2025 {
                        ward: first,
                        legacy: legacy
                            .idx
                            .iter()
                            .take(3)
                            .map(|&l| self.legacy_ward_ref(self.legacy_wards[l as usize].code))
                            .collect(),
                    });
                    r
                }
            }
        }
    }

    fn nationwide(&self, ward: &str, wq: &Query) -> Resolution {
        let mut current = Self::match_names(&self.wards, &self.ward_names, wq, |_| true);
        let mut legacy =
            Self::match_names(&self.legacy_wards, &self.legacy_ward_names, wq, |_| true);
        let mut type_note = None;
        if wq.primary.prefix.is_some() && !current.idx.is_empty() && !legacy.idx.is_empty() {
            if legacy.type_exact && !current.type_exact {
                type_note = Some(self.ward_ref_at(current.idx[0]));
                current = Matches::default();
            } else if current.type_exact && !legacy.type_exact {
                legacy = Matches::default();
            }
        }
        let (nc, nl) = (current.idx.len(), legacy.idx.len());
        let mut r = match (nc, nl) {
            (0, 0) => {
                return Resolution::not_found(vec![Explanation::NoWardNamed {
                    input: ward.to_string(),
                    scope: None,
                }])
            }
            (_, 0) => self.outcome_current(&current.idx, Some(ward)),
            (0, _) => {
                let mut r = self.outcome_legacy_idx(&legacy.idx, ward);
                r.prepend(vec![Explanation::NoWard2025MatchedLegacy {
                    input: ward.to_string(),
                    province: None,
                }]);
                if let Some(w) = type_note {
                    r.explanation.push(Explanation::PreferredLegacy {
                        ward: w,
                        province: Name::from(""),
                        legacy_type: true,
                    });
                }
                r
            }
            _ => {
                let a = self.outcome_current(&current.idx, Some(ward));
                let b = self.outcome_legacy_idx(&legacy.idx, ward);
                let legacy_certain = b.status == Status::Resolved;
                let mut candidates = a.candidates;
                for c in b.candidates {
                    match candidates.iter_mut().find(|x| x.ward.code == c.ward.code) {
                        Some(x) => x.via.extend(c.via),
                        None => candidates.push(c),
                    }
                }
                let mut explanation = a.explanation;
                explanation.extend(
                    b.explanation
                        .into_iter()
                        .filter(|e| !matches!(e, Explanation::Truncated { .. })),
                );
                let resolved = candidates.len() == 1 && legacy_certain;
                Resolution {
                    status: if resolved {
                        Status::Resolved
                    } else {
                        Status::Ambiguous
                    },
                    era: resolved.then_some(Era::Y2025),
                    ward: if resolved {
                        Some(candidates[0].ward.clone())
                    } else {
                        None
                    },
                    candidates,
                    explanation,
                    suggestions: Vec::new(),
                }
            }
        };
        if r.status == Status::Ambiguous && nc + nl > 1 {
            r.prepend(vec![Explanation::NationwideMatches {
                input: ward.to_string(),
                current: nc,
                legacy: nl,
            }]);
        }
        r.truncate();
        r
    }

    // ---- outcomes -----------------------------------------------------------------------------

    /// 2025 ward(s) named or coded directly.
    fn outcome_current(&self, idx: &[u32], input: Option<&str>) -> Resolution {
        if let [w] = idx {
            let r = self.ward_ref_at(*w);
            return Resolution {
                status: Status::Resolved,
                era: Some(Era::Y2025),
                ward: Some(r.clone()),
                candidates: vec![Candidate {
                    ward: r.clone(),
                    via: Vec::new(),
                }],
                explanation: vec![Explanation::Ward2025 { ward: r }],
                suggestions: Vec::new(),
            };
        }
        let mut r = Resolution {
            status: Status::Ambiguous,
            era: Some(Era::Y2025),
            ward: None,
            candidates: idx
                .iter()
                .map(|&w| Candidate {
                    ward: self.ward_ref_at(w),
                    via: Vec::new(),
                })
                .collect(),
            explanation: vec![Explanation::SeveralWards2025 {
                input: input.unwrap_or_default().to_string(),
                count: idx.len(),
            }],
            suggestions: Vec::new(),
        };
        r.truncate();
        r
    }

    fn outcome_legacy_idx(&self, idx: &[u32], input: &str) -> Resolution {
        let codes: Vec<LegacyWardCode> = idx
            .iter()
            .map(|&l| self.legacy_wards[l as usize].code)
            .collect();
        self.outcome_legacy(&codes, Some(input))
    }

    /// Old ward(s) → the union of their successors.
    fn outcome_legacy(&self, olds: &[LegacyWardCode], input: Option<&str>) -> Resolution {
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut explanation = Vec::new();
        let mut certain = true;
        if olds.len() > 1 {
            let first = self.legacy_ward(olds[0]);
            let same = first.is_some_and(|f| {
                olds.iter().all(|&c| {
                    self.legacy_ward(c)
                        .is_some_and(|l| l.name == f.name && l.district_code == f.district_code)
                })
            });
            match (same, first) {
                (true, Some(f)) => explanation.push(Explanation::DuplicateLegacyName {
                    name: f.name.clone(),
                    district: self
                        .legacy_district(f.district_code)
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| Name::from("")),
                    count: olds.len(),
                }),
                _ => explanation.push(Explanation::SeveralLegacyWards {
                    input: input.unwrap_or_default().to_string(),
                    count: olds.len(),
                }),
            }
        }
        for (i, &old) in olds.iter().enumerate() {
            let detailed = i < MAX_DETAILED;
            let lref = self.legacy_ward_ref(old);
            let succ = self.successors(old);
            if detailed && lref.name.is_none() && !succ.is_empty() {
                explanation.push(Explanation::LegacyCodeNotInList { old: lref.clone() });
            }
            if succ.is_empty() {
                certain = false;
                if detailed {
                    explanation.push(Explanation::NoConversionRow { old: lref });
                }
                continue;
            }
            let pm = succ.iter().any(|s| s.partly_merged);
            if pm || succ.len() > 1 {
                certain = false;
            }
            if detailed {
                explanation.push(match (pm, succ) {
                    (true, [one]) => Explanation::LegacySplitOneListed {
                        old: lref.clone(),
                        new: self.ward_ref(one.ward).expect("successor exists"),
                    },
                    (false, [one]) => Explanation::LegacyConverted {
                        old: lref.clone(),
                        new: self.ward_ref(one.ward).expect("successor exists"),
                    },
                    _ => Explanation::LegacySplit {
                        old: lref.clone(),
                        successors: succ.len(),
                    },
                });
            }
            for s in succ {
                let via = Via {
                    legacy: lref.clone(),
                    partly_merged: s.partly_merged,
                };
                match candidates.iter_mut().find(|c| c.ward.code == s.ward) {
                    Some(c) => c.via.push(via),
                    None => {
                        if let Some(ward) = self.ward_ref(s.ward) {
                            candidates.push(Candidate {
                                ward,
                                via: vec![via],
                            });
                        }
                    }
                }
            }
        }
        let status = if candidates.is_empty() {
            Status::NotFound
        } else if certain && candidates.len() == 1 {
            Status::Resolved
        } else {
            Status::Ambiguous
        };
        let mut r = Resolution {
            status,
            era: (status != Status::NotFound).then_some(Era::Legacy),
            ward: (status == Status::Resolved).then(|| candidates[0].ward.clone()),
            candidates,
            explanation,
            suggestions: Vec::new(),
        };
        r.truncate();
        r
    }

    fn successor_refs(&self, legacy_idx: &[u32]) -> Vec<WardRef> {
        let mut out: Vec<WardRef> = Vec::new();
        for &l in legacy_idx {
            for s in self.successors(self.legacy_wards[l as usize].code) {
                if out.len() < MAX_SUGGESTIONS && !out.iter().any(|w| w.code == s.ward) {
                    if let Some(w) = self.ward_ref(s.ward) {
                        out.push(w);
                    }
                }
            }
        }
        out
    }

    /// Up to [`MAX_SUGGESTIONS`] 2025 wards whose name starts like `ward` (then successors of old
    /// wards whose name does), within the province when one is known.
    fn suggest(&self, ward: &str, scope: Option<&Scope>) -> Vec<WardRef> {
        let q = Query::parse(ward);
        let mut out: Vec<WardRef> = Vec::new();
        for interp in q.interps() {
            let key = interp.plain.as_str();
            if key.is_empty() {
                continue;
            }
            for w in self.ward_prefix_matches(key) {
                if out.len() >= MAX_SUGGESTIONS {
                    return out;
                }
                if scope.is_none_or(|s| self.new_ward_in_scope(s, w))
                    && !out.iter().any(|x| x.code == self.wards[w as usize].code)
                {
                    out.push(self.ward_ref_at(w));
                }
            }
        }
        for interp in q.interps() {
            let key = interp.plain.as_str();
            if key.is_empty() {
                continue;
            }
            let olds: Vec<u32> = self
                .legacy_ward_prefix_matches(key)
                .filter(|&l| scope.is_none_or(|s| self.legacy_ward_in_wide_scope(s, l)))
                .take(MAX_SUGGESTIONS)
                .collect();
            for w in self.successor_refs(&olds) {
                if out.len() >= MAX_SUGGESTIONS {
                    return out;
                }
                if !out.iter().any(|x| x.code == w.code) {
                    out.push(w);
                }
            }
        }
        out
    }
}
