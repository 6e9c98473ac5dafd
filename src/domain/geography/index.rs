//! The in-memory gazetteer: both eras, the conversion table, name indexes.

use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::codes::{
    LegacyDistrictCode, LegacyProvinceCode, LegacyWardCode, ProvinceCode, WardCode,
};
use super::data::{
    ConversionRow, GazetteerData, LegacyDistrictRow, LegacyProvinceRow, LegacyWardRow, ProvinceRow,
    WardRow,
};
use super::normalize::{province_alias, Query, TypePrefix};

/// A shared, immutable name (cheap to clone: one reference count).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Arc::from(s))
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The `division_type` column, in either era.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionType {
    /// "thành phố trung ương" (province level).
    ThanhPhoTrungUong,
    /// "tỉnh".
    Tinh,
    /// "quận" (pre-2025 district level).
    Quan,
    /// "huyện" (pre-2025 district level).
    Huyen,
    /// "thành phố" (pre-2025 district level: provincial city).
    ThanhPho,
    /// "thị xã" (pre-2025 district level).
    ThiXa,
    /// "phường".
    Phuong,
    /// "xã".
    Xa,
    /// "thị trấn" (pre-2025 only).
    ThiTran,
    /// "đặc khu" (2025 only).
    DacKhu,
    /// Anything else (reported as a [`DataQuirk`]).
    Other,
}

impl DivisionType {
    /// Parse the `division_type` column (case and diacritic variants accepted).
    pub fn parse(s: &str) -> Option<DivisionType> {
        Some(match super::normalize::normalize(s).as_str() {
            "thanh pho trung uong" => DivisionType::ThanhPhoTrungUong,
            "tinh" => DivisionType::Tinh,
            "quan" => DivisionType::Quan,
            "huyen" => DivisionType::Huyen,
            "thanh pho" => DivisionType::ThanhPho,
            "thi xa" => DivisionType::ThiXa,
            "phuong" => DivisionType::Phuong,
            "xa" => DivisionType::Xa,
            "thi tran" => DivisionType::ThiTran,
            "dac khu" => DivisionType::DacKhu,
            _ => return None,
        })
    }

    /// The Vietnamese term.
    pub fn as_str(self) -> &'static str {
        match self {
            DivisionType::ThanhPhoTrungUong => "thành phố trung ương",
            DivisionType::Tinh => "tỉnh",
            DivisionType::Quan => "quận",
            DivisionType::Huyen => "huyện",
            DivisionType::ThanhPho => "thành phố",
            DivisionType::ThiXa => "thị xã",
            DivisionType::Phuong => "phường",
            DivisionType::Xa => "xã",
            DivisionType::ThiTran => "thị trấn",
            DivisionType::DacKhu => "đặc khu",
            DivisionType::Other => "khác",
        }
    }

    /// Whether a typed prefix names this type.
    pub fn matches(self, prefix: TypePrefix) -> bool {
        matches!(
            (self, prefix),
            (DivisionType::ThanhPhoTrungUong, TypePrefix::ThanhPho)
                | (DivisionType::ThanhPho, TypePrefix::ThanhPho)
                | (DivisionType::Tinh, TypePrefix::Tinh)
                | (DivisionType::Quan, TypePrefix::Quan)
                | (DivisionType::Huyen, TypePrefix::Huyen)
                | (DivisionType::ThiXa, TypePrefix::ThiXa)
                | (DivisionType::Phuong, TypePrefix::Phuong)
                | (DivisionType::Xa, TypePrefix::Xa)
                | (DivisionType::ThiTran, TypePrefix::ThiTran)
                | (DivisionType::DacKhu, TypePrefix::DacKhu)
        )
    }
}

/// Normalised keys of a name (see [`super::normalize`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NameKey {
    pub plain: Box<str>,
    pub accent: Box<str>,
}

impl NameKey {
    fn of(name: &str) -> NameKey {
        let q = Query::parse(name);
        NameKey {
            plain: q.primary.plain.into_boxed_str(),
            accent: q.primary.accent.into_boxed_str(),
        }
    }
}

/// A 2025 province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Province {
    pub code: ProvinceCode,
    pub name: Name,
    pub division_type: DivisionType,
    pub codename: Name,
    pub phone_code: Name,
    #[serde(skip)]
    pub(crate) key: NameKey,
}

/// A 2025 commune-level unit (phường, xã, đặc khu).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ward {
    pub code: WardCode,
    pub name: Name,
    pub division_type: DivisionType,
    pub codename: Name,
    pub province_code: ProvinceCode,
    #[serde(skip)]
    pub(crate) key: NameKey,
}

/// A pre-2025 province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyProvince {
    pub code: LegacyProvinceCode,
    pub name: Name,
    pub division_type: DivisionType,
    #[serde(skip)]
    pub(crate) key: NameKey,
}

/// A pre-2025 district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyDistrict {
    pub code: LegacyDistrictCode,
    pub name: Name,
    pub division_type: DivisionType,
    pub province_code: LegacyProvinceCode,
    #[serde(skip)]
    pub(crate) key: NameKey,
}

/// A pre-2025 ward (phường, xã, thị trấn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyWard {
    pub code: LegacyWardCode,
    pub name: Name,
    pub division_type: DivisionType,
    pub district_code: LegacyDistrictCode,
    pub province_code: LegacyProvinceCode,
    #[serde(skip)]
    pub(crate) key: NameKey,
}

/// One new ward that an old ward went into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Successor {
    pub ward: WardCode,
    /// Only part of the old ward went into this new ward.
    pub partly_merged: bool,
}

/// Something odd in the data, found while building. Logged by the service at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataQuirk {
    /// A code appears twice in a table; the later row was ignored.
    DuplicateCode { table: &'static str, code: String },
    /// A `division_type` value not known for this table (kept as [`DivisionType::Other`]).
    UnknownDivisionType {
        table: &'static str,
        code: String,
        division_type: String,
    },
    /// A row refers to a unit missing from its parent table; the row was ignored.
    DanglingReference {
        table: &'static str,
        code: String,
        column: &'static str,
        value: String,
    },
    /// A pre-2025 ward's province differs from its district's province.
    LegacyWardProvinceMismatch {
        ward: LegacyWardCode,
        ward_province: LegacyProvinceCode,
        district_province: LegacyProvinceCode,
    },
    /// The conversion table maps an old ward code absent from the pre-2025 ward list
    /// (codes changed by earlier mergers). Still resolved by code.
    ConversionOldWardNotInLegacyList {
        old_ward: LegacyWardCode,
        old_district: LegacyDistrictCode,
        old_province: LegacyProvinceCode,
        rows: usize,
    },
    /// A conversion row names a new ward that does not exist; the row was ignored.
    ConversionUnknownNewWard {
        old_ward: LegacyWardCode,
        new_ward: WardCode,
    },
    /// A conversion row's new province is not the new ward's province (the ward's was used).
    ConversionNewProvinceMismatch {
        old_ward: LegacyWardCode,
        new_ward: WardCode,
        row_province: ProvinceCode,
        ward_province: ProvinceCode,
    },
    /// The same (old ward, new ward) pair twice; the later row was ignored.
    ConversionDuplicateRow {
        old_ward: LegacyWardCode,
        new_ward: WardCode,
    },
    /// A conversion row's old district/province differ from the pre-2025 list (the list was used).
    ConversionLocationMismatch {
        old_ward: LegacyWardCode,
        row_district: LegacyDistrictCode,
        row_province: LegacyProvinceCode,
        list_district: LegacyDistrictCode,
        list_province: LegacyProvinceCode,
    },
    /// Some rows of an old ward are flagged partly merged and some are not (treated as split).
    ConversionInconsistentPartlyMerged { old_ward: LegacyWardCode },
    /// Flagged partly merged but only one successor listed (resolved as ambiguous).
    PartlyMergedSingleSuccessor {
        old_ward: LegacyWardCode,
        successor: WardCode,
    },
    /// A pre-2025 ward with no conversion row (resolves to not found, with an explanation).
    LegacyWardWithoutConversion { ward: LegacyWardCode, name: String },
    /// Several pre-2025 wards of one district with exactly the same name (resolved as the union).
    DuplicateLegacyWardName {
        district: LegacyDistrictCode,
        name: String,
        wards: Vec<LegacyWardCode>,
    },
    /// Several 2025 wards of one province with exactly the same name.
    DuplicateWardName {
        province: ProvinceCode,
        name: String,
        wards: Vec<WardCode>,
    },
    /// Several pre-2025 districts of one province with exactly the same name.
    DuplicateLegacyDistrictName {
        province: LegacyProvinceCode,
        name: String,
        districts: Vec<LegacyDistrictCode>,
    },
    /// A 2025 ward that no conversion row leads to (island districts without wards).
    WardWithoutPredecessor { ward: WardCode, name: String },
    /// A pre-2025 district with no wards in the list (island districts).
    LegacyDistrictWithoutWards {
        district: LegacyDistrictCode,
        name: String,
    },
}

impl DataQuirk {
    /// The variant's snake_case name (for counting and logs).
    pub fn kind(&self) -> &'static str {
        match self {
            DataQuirk::DuplicateCode { .. } => "duplicate_code",
            DataQuirk::UnknownDivisionType { .. } => "unknown_division_type",
            DataQuirk::DanglingReference { .. } => "dangling_reference",
            DataQuirk::LegacyWardProvinceMismatch { .. } => "legacy_ward_province_mismatch",
            DataQuirk::ConversionOldWardNotInLegacyList { .. } => {
                "conversion_old_ward_not_in_legacy_list"
            }
            DataQuirk::ConversionUnknownNewWard { .. } => "conversion_unknown_new_ward",
            DataQuirk::ConversionNewProvinceMismatch { .. } => "conversion_new_province_mismatch",
            DataQuirk::ConversionDuplicateRow { .. } => "conversion_duplicate_row",
            DataQuirk::ConversionLocationMismatch { .. } => "conversion_location_mismatch",
            DataQuirk::ConversionInconsistentPartlyMerged { .. } => {
                "conversion_inconsistent_partly_merged"
            }
            DataQuirk::PartlyMergedSingleSuccessor { .. } => "partly_merged_single_successor",
            DataQuirk::LegacyWardWithoutConversion { .. } => "legacy_ward_without_conversion",
            DataQuirk::DuplicateLegacyWardName { .. } => "duplicate_legacy_ward_name",
            DataQuirk::DuplicateWardName { .. } => "duplicate_ward_name",
            DataQuirk::DuplicateLegacyDistrictName { .. } => "duplicate_legacy_district_name",
            DataQuirk::WardWithoutPredecessor { .. } => "ward_without_predecessor",
            DataQuirk::LegacyDistrictWithoutWards { .. } => "legacy_district_without_wards",
        }
    }
}

impl fmt::Display for DataQuirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DataQuirk as Q;
        match self {
            Q::DuplicateCode { table, code } => {
                write!(f, "{table}: code {code} appears twice; the later row was ignored")
            }
            Q::UnknownDivisionType {
                table,
                code,
                division_type,
            } => write!(f, "{table}: code {code} has unknown division_type {division_type:?}"),
            Q::DanglingReference {
                table,
                code,
                column,
                value,
            } => write!(
                f,
                "{table}: code {code} refers to unknown {column} {value}; the row was ignored"
            ),
            Q::LegacyWardProvinceMismatch {
                ward,
                ward_province,
                district_province,
            } => write!(
                f,
                "legacy ward {ward} is listed in province {ward_province} but its district is in {district_province}"
            ),
            Q::ConversionOldWardNotInLegacyList {
                old_ward,
                old_district,
                old_province,
                rows,
            } => write!(
                f,
                "conversion table maps old ward {old_ward} (district {old_district}, province {old_province}, \
                 {rows} row(s)) that is not in the legacy ward list; resolvable by code only"
            ),
            Q::ConversionUnknownNewWard { old_ward, new_ward } => write!(
                f,
                "conversion row {old_ward} -> {new_ward}: new ward unknown; row ignored"
            ),
            Q::ConversionNewProvinceMismatch {
                old_ward,
                new_ward,
                row_province,
                ward_province,
            } => write!(
                f,
                "conversion row {old_ward} -> {new_ward} says province {row_province}, the ward is in {ward_province}"
            ),
            Q::ConversionDuplicateRow { old_ward, new_ward } => {
                write!(f, "conversion row {old_ward} -> {new_ward} appears twice")
            }
            Q::ConversionLocationMismatch {
                old_ward,
                row_district,
                row_province,
                list_district,
                list_province,
            } => write!(
                f,
                "conversion rows of old ward {old_ward} say district {row_district}, province {row_province}; \
                 the legacy list says district {list_district}, province {list_province} (list used)"
            ),
            Q::ConversionInconsistentPartlyMerged { old_ward } => write!(
                f,
                "old ward {old_ward}: some conversion rows are flagged partly merged and some not (treated as split)"
            ),
            Q::PartlyMergedSingleSuccessor {
                old_ward,
                successor,
            } => write!(
                f,
                "old ward {old_ward} is flagged partly merged but lists one successor ({successor}); resolved as ambiguous"
            ),
            Q::LegacyWardWithoutConversion { ward, name } => {
                write!(f, "legacy ward {ward} {name} has no conversion row")
            }
            Q::DuplicateLegacyWardName {
                district,
                name,
                wards,
            } => write!(
                f,
                "legacy district {district} has {} wards named {name}: {}",
                wards.len(),
                wards.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            Q::DuplicateWardName {
                province,
                name,
                wards,
            } => write!(
                f,
                "province {province} has {} wards named {name}: {}",
                wards.len(),
                wards.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            Q::DuplicateLegacyDistrictName {
                province,
                name,
                districts,
            } => write!(
                f,
                "legacy province {province} has {} districts named {name}: {}",
                districts.len(),
                districts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
            Q::WardWithoutPredecessor { ward, name } => {
                write!(f, "2025 ward {ward} {name} has no predecessor in the conversion table")
            }
            Q::LegacyDistrictWithoutWards { district, name } => {
                write!(f, "legacy district {district} {name} has no wards")
            }
        }
    }
}

const NONE: u32 = u32::MAX;

/// An old ward code present in the conversion table (whether or not in the legacy list).
#[derive(Debug, Clone)]
pub(crate) struct ConversionEntry {
    pub code: LegacyWardCode,
    pub successors: Vec<Successor>,
    /// Index in `legacy_wards`, when the code is in the legacy list.
    pub legacy: Option<u32>,
    /// Index in `legacy_districts` (from the list, or from the row when absent from the list).
    pub district: Option<u32>,
    /// Index in `legacy_provinces`.
    pub province: Option<u32>,
}

/// Matches of a name in one table.
#[derive(Debug, Default)]
pub(crate) struct Matches {
    pub idx: Vec<u32>,
    /// A type prefix was given and the matches have exactly that type.
    pub type_exact: bool,
}

/// Provinces matching a name, in either era.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvinceMatches<'a> {
    pub current: Vec<&'a Province>,
    pub legacy: Vec<&'a LegacyProvince>,
}

impl ProvinceMatches<'_> {
    pub fn is_empty(&self) -> bool {
        self.current.is_empty() && self.legacy.is_empty()
    }
}

/// Something with a name key and a type, for generic name matching.
pub(crate) trait Named {
    fn key(&self) -> &NameKey;
    fn division_type(&self) -> DivisionType;
}

macro_rules! named {
    ($($t:ty),*) => {$(
        impl Named for $t {
            fn key(&self) -> &NameKey {
                &self.key
            }
            fn division_type(&self) -> DivisionType {
                self.division_type
            }
        }
    )*};
}
named!(Province, Ward, LegacyProvince, LegacyDistrict, LegacyWard);

type NameIndex = HashMap<Box<str>, Vec<u32>>;

/// The gazetteer: every unit of both eras, the conversion table and name indexes.
/// Immutable once built; `Send + Sync`; share it in an `Arc`.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    pub(crate) provinces: Vec<Province>,
    pub(crate) wards: Vec<Ward>,
    pub(crate) legacy_provinces: Vec<LegacyProvince>,
    pub(crate) legacy_districts: Vec<LegacyDistrict>,
    pub(crate) legacy_wards: Vec<LegacyWard>,

    // Dense code → index tables (NONE when absent).
    province_by_code: Vec<u32>,
    ward_by_code: Vec<u32>,
    legacy_province_by_code: Vec<u32>,
    legacy_district_by_code: Vec<u32>,
    legacy_ward_by_code: Vec<u32>,
    conversion_by_code: Vec<u32>,

    // Parents as indexes.
    pub(crate) ward_province: Vec<u32>,
    pub(crate) legacy_district_province: Vec<u32>,
    pub(crate) legacy_ward_district: Vec<u32>,
    pub(crate) legacy_ward_province: Vec<u32>,

    pub(crate) conversions: Vec<ConversionEntry>,
    /// Per 2025 ward index: old ward codes that went (wholly or partly) into it.
    predecessors: Vec<Vec<LegacyWardCode>>,

    // Children, sorted by index.
    pub(crate) wards_by_province: Vec<Vec<u32>>,
    pub(crate) districts_by_legacy_province: Vec<Vec<u32>>,
    pub(crate) legacy_wards_by_district: Vec<Vec<u32>>,
    pub(crate) legacy_wards_by_legacy_province: Vec<Vec<u32>>,

    // Across the merger, sorted by index.
    /// Per 2025 province: legacy wards with a successor in it.
    pub(crate) legacy_wards_into_province: Vec<Vec<u32>>,
    /// Per 2025 province: legacy districts with a ward converting into it.
    pub(crate) legacy_districts_into_province: Vec<Vec<u32>>,
    /// Per legacy province: 2025 provinces its area went into.
    pub(crate) legacy_province_now_in: Vec<Vec<u32>>,

    // Name indexes: plain key → indexes (sorted).
    pub(crate) province_names: NameIndex,
    pub(crate) ward_names: NameIndex,
    pub(crate) legacy_province_names: NameIndex,
    pub(crate) legacy_district_names: NameIndex,
    pub(crate) legacy_ward_names: NameIndex,

    /// Ward indexes sorted by (plain key, code), for prefix search.
    pub(crate) wards_sorted: Vec<u32>,
    /// Legacy ward indexes sorted by (plain key, code).
    pub(crate) legacy_wards_sorted: Vec<u32>,
}

fn dense_get(table: &[u32], code: u32) -> Option<u32> {
    table.get(code as usize).copied().filter(|&i| i != NONE)
}

fn dense_set(table: &mut Vec<u32>, code: u32, idx: u32) -> bool {
    let c = code as usize;
    if table.len() <= c {
        table.resize(c + 1, NONE);
    }
    if table[c] != NONE {
        return false;
    }
    table[c] = idx;
    true
}

fn parse_type(
    table: &'static str,
    code: &dyn fmt::Display,
    s: &str,
    quirks: &mut Vec<DataQuirk>,
) -> DivisionType {
    DivisionType::parse(s).unwrap_or_else(|| {
        quirks.push(DataQuirk::UnknownDivisionType {
            table,
            code: code.to_string(),
            division_type: s.to_string(),
        });
        DivisionType::Other
    })
}

fn name_index<T: Named>(items: &[T]) -> NameIndex {
    let mut map: NameIndex = HashMap::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        map.entry(it.key().plain.clone())
            .or_default()
            .push(i as u32);
    }
    map.shrink_to_fit();
    map
}

fn sorted_by_key<T: Named>(items: &[T]) -> Vec<u32> {
    let mut v: Vec<u32> = (0..items.len() as u32).collect();
    v.sort_by(|&a, &b| {
        items[a as usize]
            .key()
            .plain
            .cmp(&items[b as usize].key().plain)
            .then(a.cmp(&b))
    });
    v
}

fn sort_dedup(v: &mut Vec<u32>) {
    v.sort_unstable();
    v.dedup();
}

impl Gazetteer {
    /// Build from the six tables. Never fails: every inconsistency is returned as a
    /// [`DataQuirk`] (and rows that cannot be used are skipped).
    pub fn build(
        provinces: &[ProvinceRow],
        wards: &[WardRow],
        legacy_provinces: &[LegacyProvinceRow],
        legacy_districts: &[LegacyDistrictRow],
        legacy_wards: &[LegacyWardRow],
        conversions: &[ConversionRow],
    ) -> (Gazetteer, Vec<DataQuirk>) {
        let mut quirks = Vec::new();
        let q = &mut quirks;

        // 2025 provinces.
        let mut province_by_code = Vec::new();
        let mut prov = Vec::with_capacity(provinces.len());
        for r in provinces {
            if !dense_set(&mut province_by_code, r.code.value(), prov.len() as u32) {
                q.push(DataQuirk::DuplicateCode {
                    table: "provinces",
                    code: r.code.to_string(),
                });
                continue;
            }
            prov.push(Province {
                code: r.code,
                name: Name::from(r.name.as_str()),
                division_type: parse_type("provinces", &r.code, &r.division_type, q),
                codename: Name::from(r.codename.as_str()),
                phone_code: Name::from(r.phone_code.as_str()),
                key: NameKey::of(&r.name),
            });
        }

        // 2025 wards.
        let mut ward_by_code = Vec::new();
        let mut ward = Vec::with_capacity(wards.len());
        let mut ward_province = Vec::with_capacity(wards.len());
        for r in wards {
            let Some(p) = dense_get(&province_by_code, r.province_code.value()) else {
                q.push(DataQuirk::DanglingReference {
                    table: "wards",
                    code: r.code.to_string(),
                    column: "province_code",
                    value: r.province_code.to_string(),
                });
                continue;
            };
            if !dense_set(&mut ward_by_code, r.code.value(), ward.len() as u32) {
                q.push(DataQuirk::DuplicateCode {
                    table: "wards",
                    code: r.code.to_string(),
                });
                continue;
            }
            ward_province.push(p);
            ward.push(Ward {
                code: r.code,
                name: Name::from(r.name.as_str()),
                division_type: parse_type("wards", &r.code, &r.division_type, q),
                codename: Name::from(r.codename.as_str()),
                province_code: r.province_code,
                key: NameKey::of(&r.name),
            });
        }

        // Legacy provinces.
        let mut legacy_province_by_code = Vec::new();
        let mut lprov = Vec::with_capacity(legacy_provinces.len());
        for r in legacy_provinces {
            if !dense_set(
                &mut legacy_province_by_code,
                r.code.value(),
                lprov.len() as u32,
            ) {
                q.push(DataQuirk::DuplicateCode {
                    table: "legacy_provinces",
                    code: r.code.to_string(),
                });
                continue;
            }
            lprov.push(LegacyProvince {
                code: r.code,
                name: Name::from(r.name.as_str()),
                division_type: parse_type("legacy_provinces", &r.code, &r.division_type, q),
                key: NameKey::of(&r.name),
            });
        }

        // Legacy districts.
        let mut legacy_district_by_code = Vec::new();
        let mut ldist = Vec::with_capacity(legacy_districts.len());
        let mut legacy_district_province = Vec::with_capacity(legacy_districts.len());
        for r in legacy_districts {
            let Some(p) = dense_get(&legacy_province_by_code, r.province_code.value()) else {
                q.push(DataQuirk::DanglingReference {
                    table: "legacy_districts",
                    code: r.code.to_string(),
                    column: "province_code",
                    value: r.province_code.to_string(),
                });
                continue;
            };
            if !dense_set(
                &mut legacy_district_by_code,
                r.code.value(),
                ldist.len() as u32,
            ) {
                q.push(DataQuirk::DuplicateCode {
                    table: "legacy_districts",
                    code: r.code.to_string(),
                });
                continue;
            }
            legacy_district_province.push(p);
            ldist.push(LegacyDistrict {
                code: r.code,
                name: Name::from(r.name.as_str()),
                division_type: parse_type("legacy_districts", &r.code, &r.division_type, q),
                province_code: r.province_code,
                key: NameKey::of(&r.name),
            });
        }

        // Legacy wards.
        let mut legacy_ward_by_code = Vec::new();
        let mut lward = Vec::with_capacity(legacy_wards.len());
        let mut legacy_ward_district = Vec::with_capacity(legacy_wards.len());
        let mut legacy_ward_province = Vec::with_capacity(legacy_wards.len());
        for r in legacy_wards {
            let Some(d) = dense_get(&legacy_district_by_code, r.district_code.value()) else {
                q.push(DataQuirk::DanglingReference {
                    table: "legacy_wards",
                    code: r.code.to_string(),
                    column: "district_code",
                    value: r.district_code.to_string(),
                });
                continue;
            };
            let district_province = legacy_district_province[d as usize];
            let p = match dense_get(&legacy_province_by_code, r.province_code.value()) {
                Some(p) if p == district_province => p,
                _ => {
                    q.push(DataQuirk::LegacyWardProvinceMismatch {
                        ward: r.code,
                        ward_province: r.province_code,
                        district_province: lprov[district_province as usize].code,
                    });
                    district_province
                }
            };
            if !dense_set(&mut legacy_ward_by_code, r.code.value(), lward.len() as u32) {
                q.push(DataQuirk::DuplicateCode {
                    table: "legacy_wards",
                    code: r.code.to_string(),
                });
                continue;
            }
            legacy_ward_district.push(d);
            legacy_ward_province.push(p);
            lward.push(LegacyWard {
                code: r.code,
                name: Name::from(r.name.as_str()),
                division_type: parse_type("legacy_wards", &r.code, &r.division_type, q),
                district_code: ldist[d as usize].code,
                province_code: lprov[p as usize].code,
                key: NameKey::of(&r.name),
            });
        }

        // Conversion table, grouped by old code in first-seen order.
        let mut conversion_by_code = Vec::new();
        let mut convs: Vec<ConversionEntry> = Vec::new();
        let mut flags: Vec<(bool, bool)> = Vec::new(); // (any partly merged, any not)
        let mut first_row: Vec<&ConversionRow> = Vec::new();
        let mut row_counts: Vec<usize> = Vec::new();
        for r in conversions {
            let Some(w) = dense_get(&ward_by_code, r.new_ward_code.value()) else {
                q.push(DataQuirk::ConversionUnknownNewWard {
                    old_ward: r.old_ward_code,
                    new_ward: r.new_ward_code,
                });
                continue;
            };
            let ward_prov = prov[ward_province[w as usize] as usize].code;
            if ward_prov != r.new_province_code {
                q.push(DataQuirk::ConversionNewProvinceMismatch {
                    old_ward: r.old_ward_code,
                    new_ward: r.new_ward_code,
                    row_province: r.new_province_code,
                    ward_province: ward_prov,
                });
            }
            let e = match dense_get(&conversion_by_code, r.old_ward_code.value()) {
                Some(e) => e as usize,
                None => {
                    let e = convs.len();
                    dense_set(&mut conversion_by_code, r.old_ward_code.value(), e as u32);
                    let legacy = dense_get(&legacy_ward_by_code, r.old_ward_code.value());
                    let (district, province) = match legacy {
                        Some(l) => (
                            Some(legacy_ward_district[l as usize]),
                            Some(legacy_ward_province[l as usize]),
                        ),
                        None => (
                            dense_get(&legacy_district_by_code, r.old_district_code.value()),
                            dense_get(&legacy_province_by_code, r.old_province_code.value()),
                        ),
                    };
                    convs.push(ConversionEntry {
                        code: r.old_ward_code,
                        successors: Vec::new(),
                        legacy,
                        district,
                        province,
                    });
                    flags.push((false, false));
                    first_row.push(r);
                    row_counts.push(0);
                    e
                }
            };
            row_counts[e] += 1;
            let entry = &mut convs[e];
            if entry.successors.iter().any(|s| s.ward == r.new_ward_code) {
                q.push(DataQuirk::ConversionDuplicateRow {
                    old_ward: r.old_ward_code,
                    new_ward: r.new_ward_code,
                });
                continue;
            }
            entry.successors.push(Successor {
                ward: r.new_ward_code,
                partly_merged: r.partly_merged,
            });
            if r.partly_merged {
                flags[e].0 = true;
            } else {
                flags[e].1 = true;
            }
        }
        let mut legacy_ward_conversion = vec![NONE; lward.len()];
        for (e, entry) in convs.iter_mut().enumerate() {
            let row = first_row[e];
            match entry.legacy {
                Some(l) => {
                    legacy_ward_conversion[l as usize] = e as u32;
                    let lw = &lward[l as usize];
                    if lw.district_code != row.old_district_code
                        || lw.province_code != row.old_province_code
                    {
                        q.push(DataQuirk::ConversionLocationMismatch {
                            old_ward: entry.code,
                            row_district: row.old_district_code,
                            row_province: row.old_province_code,
                            list_district: lw.district_code,
                            list_province: lw.province_code,
                        });
                    }
                }
                None => q.push(DataQuirk::ConversionOldWardNotInLegacyList {
                    old_ward: entry.code,
                    old_district: row.old_district_code,
                    old_province: row.old_province_code,
                    rows: row_counts[e],
                }),
            }
            let (any_pm, any_full) = flags[e];
            if any_pm && any_full {
                q.push(DataQuirk::ConversionInconsistentPartlyMerged {
                    old_ward: entry.code,
                });
                for s in &mut entry.successors {
                    s.partly_merged = true;
                }
            }
            if any_pm && entry.successors.len() == 1 {
                q.push(DataQuirk::PartlyMergedSingleSuccessor {
                    old_ward: entry.code,
                    successor: entry.successors[0].ward,
                });
            }
        }
        for (l, lw) in lward.iter().enumerate() {
            if legacy_ward_conversion[l] == NONE {
                q.push(DataQuirk::LegacyWardWithoutConversion {
                    ward: lw.code,
                    name: lw.name.to_string(),
                });
            }
        }

        // Children.
        let mut wards_by_province = vec![Vec::new(); prov.len()];
        for (w, &p) in ward_province.iter().enumerate() {
            wards_by_province[p as usize].push(w as u32);
        }
        let mut districts_by_legacy_province = vec![Vec::new(); lprov.len()];
        for (d, &p) in legacy_district_province.iter().enumerate() {
            districts_by_legacy_province[p as usize].push(d as u32);
        }
        let mut legacy_wards_by_district = vec![Vec::new(); ldist.len()];
        let mut legacy_wards_by_legacy_province = vec![Vec::new(); lprov.len()];
        for (l, (&d, &p)) in legacy_ward_district
            .iter()
            .zip(&legacy_ward_province)
            .enumerate()
        {
            legacy_wards_by_district[d as usize].push(l as u32);
            legacy_wards_by_legacy_province[p as usize].push(l as u32);
        }

        // Across the merger.
        let mut predecessors = vec![Vec::new(); ward.len()];
        let mut legacy_wards_into_province = vec![Vec::new(); prov.len()];
        let mut legacy_districts_into_province = vec![Vec::new(); prov.len()];
        let mut legacy_province_now_in = vec![Vec::new(); lprov.len()];
        for entry in &convs {
            for s in &entry.successors {
                let Some(w) = dense_get(&ward_by_code, s.ward.value()) else {
                    continue;
                };
                predecessors[w as usize].push(entry.code);
                let p = ward_province[w as usize];
                if let Some(l) = entry.legacy {
                    legacy_wards_into_province[p as usize].push(l);
                }
                if let Some(d) = entry.district {
                    legacy_districts_into_province[p as usize].push(d);
                }
                if let Some(lp) = entry.province {
                    legacy_province_now_in[lp as usize].push(p);
                }
            }
        }
        for v in legacy_wards_into_province
            .iter_mut()
            .chain(&mut legacy_districts_into_province)
            .chain(&mut legacy_province_now_in)
        {
            sort_dedup(v);
        }
        for (w, preds) in predecessors.iter().enumerate() {
            if preds.is_empty() {
                q.push(DataQuirk::WardWithoutPredecessor {
                    ward: ward[w].code,
                    name: ward[w].name.to_string(),
                });
            }
        }
        for (d, children) in legacy_wards_by_district.iter().enumerate() {
            if children.is_empty() {
                q.push(DataQuirk::LegacyDistrictWithoutWards {
                    district: ldist[d].code,
                    name: ldist[d].name.to_string(),
                });
            }
        }

        // Exact duplicate names within a parent.
        for (d, children) in legacy_wards_by_district.iter().enumerate() {
            let mut groups: Vec<(&Name, Vec<LegacyWardCode>)> = Vec::new();
            for &l in children {
                let lw = &lward[l as usize];
                match groups.iter_mut().find(|(n, _)| **n == lw.name) {
                    Some((_, v)) => v.push(lw.code),
                    None => groups.push((&lw.name, vec![lw.code])),
                }
            }
            for (name, wards) in groups.into_iter().filter(|(_, v)| v.len() > 1) {
                q.push(DataQuirk::DuplicateLegacyWardName {
                    district: ldist[d].code,
                    name: name.to_string(),
                    wards,
                });
            }
        }
        for (p, children) in wards_by_province.iter().enumerate() {
            let mut groups: Vec<(&Name, Vec<WardCode>)> = Vec::new();
            for &w in children {
                let wd = &ward[w as usize];
                match groups.iter_mut().find(|(n, _)| **n == wd.name) {
                    Some((_, v)) => v.push(wd.code),
                    None => groups.push((&wd.name, vec![wd.code])),
                }
            }
            for (name, wards) in groups.into_iter().filter(|(_, v)| v.len() > 1) {
                q.push(DataQuirk::DuplicateWardName {
                    province: prov[p].code,
                    name: name.to_string(),
                    wards,
                });
            }
        }
        for (p, children) in districts_by_legacy_province.iter().enumerate() {
            let mut groups: Vec<(&Name, Vec<LegacyDistrictCode>)> = Vec::new();
            for &d in children {
                let ld = &ldist[d as usize];
                match groups.iter_mut().find(|(n, _)| **n == ld.name) {
                    Some((_, v)) => v.push(ld.code),
                    None => groups.push((&ld.name, vec![ld.code])),
                }
            }
            for (name, districts) in groups.into_iter().filter(|(_, v)| v.len() > 1) {
                q.push(DataQuirk::DuplicateLegacyDistrictName {
                    province: lprov[p].code,
                    name: name.to_string(),
                    districts,
                });
            }
        }

        let g = Gazetteer {
            province_names: name_index(&prov),
            ward_names: name_index(&ward),
            legacy_province_names: name_index(&lprov),
            legacy_district_names: name_index(&ldist),
            legacy_ward_names: name_index(&lward),
            wards_sorted: sorted_by_key(&ward),
            legacy_wards_sorted: sorted_by_key(&lward),
            provinces: prov,
            wards: ward,
            legacy_provinces: lprov,
            legacy_districts: ldist,
            legacy_wards: lward,
            province_by_code,
            ward_by_code,
            legacy_province_by_code,
            legacy_district_by_code,
            legacy_ward_by_code,
            conversion_by_code,
            ward_province,
            legacy_district_province,
            legacy_ward_district,
            legacy_ward_province,
            conversions: convs,
            predecessors,
            wards_by_province,
            districts_by_legacy_province,
            legacy_wards_by_district,
            legacy_wards_by_legacy_province,
            legacy_wards_into_province,
            legacy_districts_into_province,
            legacy_province_now_in,
        };
        (g, quirks)
    }

    /// Build from [`GazetteerData`] (e.g. [`GazetteerData::read_dir`]).
    pub fn from_data(data: &GazetteerData) -> (Gazetteer, Vec<DataQuirk>) {
        Gazetteer::build(
            &data.provinces,
            &data.wards,
            &data.legacy_provinces,
            &data.legacy_districts,
            &data.legacy_wards,
            &data.conversions,
        )
    }

    // ---- lookups by code -------------------------------------------------------------

    pub(crate) fn province_index(&self, code: ProvinceCode) -> Option<u32> {
        dense_get(&self.province_by_code, code.value())
    }
    pub(crate) fn ward_index(&self, code: WardCode) -> Option<u32> {
        dense_get(&self.ward_by_code, code.value())
    }
    pub(crate) fn legacy_province_index(&self, code: LegacyProvinceCode) -> Option<u32> {
        dense_get(&self.legacy_province_by_code, code.value())
    }
    pub(crate) fn legacy_district_index(&self, code: LegacyDistrictCode) -> Option<u32> {
        dense_get(&self.legacy_district_by_code, code.value())
    }
    pub(crate) fn legacy_ward_index(&self, code: LegacyWardCode) -> Option<u32> {
        dense_get(&self.legacy_ward_by_code, code.value())
    }
    pub(crate) fn conversion(&self, code: LegacyWardCode) -> Option<&ConversionEntry> {
        dense_get(&self.conversion_by_code, code.value()).map(|e| &self.conversions[e as usize])
    }

    /// All 2025 provinces, in file order.
    pub fn provinces(&self) -> &[Province] {
        &self.provinces
    }
    /// All 2025 wards, in file order.
    pub fn wards(&self) -> &[Ward] {
        &self.wards
    }
    /// All pre-2025 provinces.
    pub fn legacy_provinces(&self) -> &[LegacyProvince] {
        &self.legacy_provinces
    }
    /// All pre-2025 districts.
    pub fn legacy_districts(&self) -> &[LegacyDistrict] {
        &self.legacy_districts
    }
    /// All pre-2025 wards.
    pub fn legacy_wards(&self) -> &[LegacyWard] {
        &self.legacy_wards
    }

    pub fn province(&self, code: ProvinceCode) -> Option<&Province> {
        self.province_index(code)
            .map(|i| &self.provinces[i as usize])
    }
    pub fn ward(&self, code: WardCode) -> Option<&Ward> {
        self.ward_index(code).map(|i| &self.wards[i as usize])
    }
    pub fn legacy_province(&self, code: LegacyProvinceCode) -> Option<&LegacyProvince> {
        self.legacy_province_index(code)
            .map(|i| &self.legacy_provinces[i as usize])
    }
    pub fn legacy_district(&self, code: LegacyDistrictCode) -> Option<&LegacyDistrict> {
        self.legacy_district_index(code)
            .map(|i| &self.legacy_districts[i as usize])
    }
    pub fn legacy_ward(&self, code: LegacyWardCode) -> Option<&LegacyWard> {
        self.legacy_ward_index(code)
            .map(|i| &self.legacy_wards[i as usize])
    }

    /// The 2025 wards of a province (empty for an unknown code), in file order.
    pub fn wards_of_province(&self, code: ProvinceCode) -> impl Iterator<Item = &Ward> + '_ {
        self.province_index(code)
            .map(|p| self.wards_by_province[p as usize].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(move |&w| &self.wards[w as usize])
    }

    /// The pre-2025 districts of a pre-2025 province.
    pub fn legacy_districts_of_province(
        &self,
        code: LegacyProvinceCode,
    ) -> impl Iterator<Item = &LegacyDistrict> + '_ {
        self.legacy_province_index(code)
            .map(|p| self.districts_by_legacy_province[p as usize].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(move |&d| &self.legacy_districts[d as usize])
    }

    /// The pre-2025 wards of a pre-2025 province.
    pub fn legacy_wards_of_province(
        &self,
        code: LegacyProvinceCode,
    ) -> impl Iterator<Item = &LegacyWard> + '_ {
        self.legacy_province_index(code)
            .map(|p| self.legacy_wards_by_legacy_province[p as usize].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(move |&l| &self.legacy_wards[l as usize])
    }

    /// The pre-2025 wards of a pre-2025 district.
    pub fn legacy_wards_of_district(
        &self,
        code: LegacyDistrictCode,
    ) -> impl Iterator<Item = &LegacyWard> + '_ {
        self.legacy_district_index(code)
            .map(|d| self.legacy_wards_by_district[d as usize].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(move |&l| &self.legacy_wards[l as usize])
    }

    /// The new ward(s) an old ward went into, in table order. Empty when the conversion table
    /// has no row for the code. Works for old codes absent from the legacy list too.
    pub fn successors(&self, code: LegacyWardCode) -> &[Successor] {
        self.conversion(code)
            .map(|e| e.successors.as_slice())
            .unwrap_or(&[])
    }

    /// Whether the old ward was split (any of its rows flagged partly merged).
    pub fn is_partly_merged(&self, code: LegacyWardCode) -> bool {
        self.successors(code).iter().any(|s| s.partly_merged)
    }

    /// The old wards that went (wholly or partly) into a 2025 ward.
    pub fn predecessors(&self, code: WardCode) -> &[LegacyWardCode] {
        self.ward_index(code)
            .map(|w| self.predecessors[w as usize].as_slice())
            .unwrap_or(&[])
    }

    /// The district of an old ward (from the legacy list, or from the conversion row for
    /// codes absent from the list).
    pub fn legacy_ward_district(&self, code: LegacyWardCode) -> Option<&LegacyDistrict> {
        match self.legacy_ward_index(code) {
            Some(l) => Some(&self.legacy_districts[self.legacy_ward_district[l as usize] as usize]),
            None => self
                .conversion(code)
                .and_then(|e| e.district)
                .map(|d| &self.legacy_districts[d as usize]),
        }
    }

    /// The province of an old ward (same sources as [`Gazetteer::legacy_ward_district`]).
    pub fn legacy_ward_province(&self, code: LegacyWardCode) -> Option<&LegacyProvince> {
        match self.legacy_ward_index(code) {
            Some(l) => Some(&self.legacy_provinces[self.legacy_ward_province[l as usize] as usize]),
            None => self
                .conversion(code)
                .and_then(|e| e.province)
                .map(|p| &self.legacy_provinces[p as usize]),
        }
    }

    /// The 2025 provinces a pre-2025 province's area went into.
    pub fn legacy_province_successors(
        &self,
        code: LegacyProvinceCode,
    ) -> impl Iterator<Item = &Province> + '_ {
        self.legacy_province_index(code)
            .map(|p| self.legacy_province_now_in[p as usize].as_slice())
            .unwrap_or(&[])
            .iter()
            .map(move |&p| &self.provinces[p as usize])
    }

    // ---- name matching ------------------------------------------------------------------

    /// Match a parsed name against one table, within a scope.
    ///
    /// Every reading of the query is looked up by plain key; with a type prefix, the hits of that
    /// type are kept (all hits if none has it); when the query carries marks, the hits whose
    /// accent form is the query's are kept (all hits if none is).
    pub(crate) fn match_names<T: Named>(
        items: &[T],
        index: &NameIndex,
        q: &Query,
        in_scope: impl Fn(u32) -> bool,
    ) -> Matches {
        let mut hits: Vec<(u32, bool)> = Vec::new(); // (index, accent matches)
        let mut type_exact = false;
        for interp in q.interps() {
            let Some(list) = index.get(interp.plain.as_str()) else {
                continue;
            };
            let scoped = list.iter().copied().filter(|&i| in_scope(i));
            let typed: Vec<u32> = match interp.prefix {
                Some(p) => {
                    let all: Vec<u32> = scoped.collect();
                    let exact: Vec<u32> = all
                        .iter()
                        .copied()
                        .filter(|&i| items[i as usize].division_type().matches(p))
                        .collect();
                    if exact.is_empty() {
                        all
                    } else {
                        type_exact = true;
                        exact
                    }
                }
                None => scoped.collect(),
            };
            for i in typed {
                if hits.iter().all(|h| h.0 != i) {
                    let accent_ok = *items[i as usize].key().accent == *interp.accent;
                    hits.push((i, accent_ok));
                }
            }
        }
        if q.has_marks && hits.iter().any(|h| h.1) {
            hits.retain(|h| h.1);
        }
        let mut idx: Vec<u32> = hits.into_iter().map(|h| h.0).collect();
        idx.sort_unstable();
        Matches { idx, type_exact }
    }

    /// Province indexes (2025, legacy) matching a parsed name, aliases included.
    pub(crate) fn match_provinces(&self, q: &Query) -> (Vec<u32>, Vec<u32>) {
        let mut current = Self::match_names(&self.provinces, &self.province_names, q, |_| true).idx;
        let mut legacy = Self::match_names(
            &self.legacy_provinces,
            &self.legacy_province_names,
            q,
            |_| true,
        )
        .idx;
        if current.is_empty() && legacy.is_empty() {
            for interp in q.interps() {
                if let Some(target) = province_alias(&interp.plain) {
                    if let Some(v) = self.province_names.get(target) {
                        current.extend(v);
                    }
                    if let Some(v) = self.legacy_province_names.get(target) {
                        legacy.extend(v);
                    }
                }
            }
            sort_dedup(&mut current);
            sort_dedup(&mut legacy);
        }
        (current, legacy)
    }

    /// Provinces of either era matching a name ("Hà Nội", "tp hcm", "Tỉnh Hà Giang", "ha giang").
    pub fn find_provinces(&self, name: &str) -> ProvinceMatches<'_> {
        let (c, l) = self.match_provinces(&Query::parse(name));
        ProvinceMatches {
            current: c.iter().map(|&i| &self.provinces[i as usize]).collect(),
            legacy: l
                .iter()
                .map(|&i| &self.legacy_provinces[i as usize])
                .collect(),
        }
    }

    /// 2025 wards of a province matching a name (diacritics, case and type prefix ignored;
    /// exact marks and type preferred when given).
    pub fn wards_named(&self, province: ProvinceCode, name: &str) -> Vec<&Ward> {
        let Some(p) = self.province_index(province) else {
            return Vec::new();
        };
        let m = Self::match_names(&self.wards, &self.ward_names, &Query::parse(name), |w| {
            self.ward_province[w as usize] == p
        });
        m.idx.iter().map(|&w| &self.wards[w as usize]).collect()
    }

    /// Pre-2025 wards of a pre-2025 district matching a name.
    pub fn legacy_wards_named_in_district(
        &self,
        district: LegacyDistrictCode,
        name: &str,
    ) -> Vec<&LegacyWard> {
        let Some(d) = self.legacy_district_index(district) else {
            return Vec::new();
        };
        let m = Self::match_names(
            &self.legacy_wards,
            &self.legacy_ward_names,
            &Query::parse(name),
            |l| self.legacy_ward_district[l as usize] == d,
        );
        m.idx
            .iter()
            .map(|&l| &self.legacy_wards[l as usize])
            .collect()
    }

    /// Pre-2025 wards of a pre-2025 province matching a name.
    pub fn legacy_wards_named_in_province(
        &self,
        province: LegacyProvinceCode,
        name: &str,
    ) -> Vec<&LegacyWard> {
        let Some(p) = self.legacy_province_index(province) else {
            return Vec::new();
        };
        let m = Self::match_names(
            &self.legacy_wards,
            &self.legacy_ward_names,
            &Query::parse(name),
            |l| self.legacy_ward_province[l as usize] == p,
        );
        m.idx
            .iter()
            .map(|&l| &self.legacy_wards[l as usize])
            .collect()
    }

    /// Pre-2025 districts matching a name, in one pre-2025 province or nationwide.
    pub fn legacy_districts_named(
        &self,
        province: Option<LegacyProvinceCode>,
        name: &str,
    ) -> Vec<&LegacyDistrict> {
        let p = match province {
            Some(c) => match self.legacy_province_index(c) {
                Some(p) => Some(p),
                None => return Vec::new(),
            },
            None => None,
        };
        let m = Self::match_names(
            &self.legacy_districts,
            &self.legacy_district_names,
            &Query::parse(name),
            |d| p.is_none_or(|p| self.legacy_district_province[d as usize] == p),
        );
        m.idx
            .iter()
            .map(|&d| &self.legacy_districts[d as usize])
            .collect()
    }

    /// Search 2025 wards by name, ignoring diacritics, case and type prefix: exact key first,
    /// then keys starting with the query, then keys containing it; ties by key then code.
    /// An empty query lists the wards (of the province) by key.
    pub fn search_wards(
        &self,
        q: &str,
        province: Option<ProvinceCode>,
        limit: usize,
    ) -> Vec<&Ward> {
        if limit == 0 {
            return Vec::new();
        }
        let p = match province {
            Some(c) => match self.province_index(c) {
                Some(p) => Some(p),
                None => return Vec::new(),
            },
            None => None,
        };
        let query = Query::parse(q);
        let keys: Vec<&str> = query.interps().map(|i| i.plain.as_str()).collect();
        let mut ranked: Vec<(u8, u32)> = Vec::new();
        for &w in &self.wards_sorted {
            if p.is_some_and(|p| self.ward_province[w as usize] != p) {
                continue;
            }
            let key = &*self.wards[w as usize].key.plain;
            let rank = keys
                .iter()
                .filter_map(|k| {
                    if key == *k {
                        Some(0)
                    } else if key.starts_with(k) {
                        Some(1)
                    } else if key.contains(k) {
                        Some(2)
                    } else {
                        None
                    }
                })
                .min();
            if let Some(r) = rank {
                ranked.push((r, w));
            }
        }
        // `wards_sorted` is already in (key, code) order: a stable sort on rank keeps it.
        ranked.sort_by_key(|&(r, _)| r);
        ranked
            .into_iter()
            .take(limit)
            .map(|(_, w)| &self.wards[w as usize])
            .collect()
    }

    /// 2025 ward indexes whose key starts with `prefix`, in (key, code) order.
    pub(crate) fn ward_prefix_matches<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = u32> + 'a {
        let start = self
            .wards_sorted
            .partition_point(|&w| &*self.wards[w as usize].key.plain < prefix);
        self.wards_sorted[start..]
            .iter()
            .copied()
            .take_while(move |&w| self.wards[w as usize].key.plain.starts_with(prefix))
    }

    /// Legacy ward indexes whose key starts with `prefix`, in (key, code) order.
    pub(crate) fn legacy_ward_prefix_matches<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = u32> + 'a {
        let start = self
            .legacy_wards_sorted
            .partition_point(|&l| &*self.legacy_wards[l as usize].key.plain < prefix);
        self.legacy_wards_sorted[start..]
            .iter()
            .copied()
            .take_while(move |&l| self.legacy_wards[l as usize].key.plain.starts_with(prefix))
    }
}
