//! Structured explanations of a resolution, rendered as full sentences in Vietnamese or English.

use serde::Serialize;

use super::codes::{LegacyWardCode, WardCode};
use super::index::Name;
use super::resolve::{LegacyWardRef, WardRef};
use crate::domain::lang::Lang;

/// One step of reasoning behind a [`Resolution`](super::Resolution). Structured, so that the
/// service can log or test it; [`Explanation::render`] gives a sentence for the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Explanation {
    /// The ward is a unit of the structure in force since 1 July 2025.
    Ward2025 { ward: WardRef },
    /// No 2025 ward has this code.
    UnknownWardCode { code: WardCode },
    /// No pre-2025 ward has this code and the conversion table has no row for it.
    UnknownLegacyWardCode { code: LegacyWardCode },
    /// The old ward went whole into one new ward.
    LegacyConverted { old: LegacyWardRef, new: WardRef },
    /// The old ward was split across several new wards.
    LegacySplit {
        old: LegacyWardRef,
        successors: usize,
    },
    /// The old ward is flagged as split, but the table lists a single successor.
    LegacySplitOneListed { old: LegacyWardRef, new: WardRef },
    /// The conversion table has no row for this old ward.
    NoConversionRow { old: LegacyWardRef },
    /// The conversion table maps an old code that is not in the pre-2025 ward list.
    LegacyCodeNotInList { old: LegacyWardRef },
    /// Several old wards of one district have exactly the same name (a data quirk).
    DuplicateLegacyName {
        name: Name,
        district: Name,
        count: usize,
    },
    /// Several old wards match the name given.
    SeveralLegacyWards { input: String, count: usize },
    /// Several 2025 wards match the name given.
    SeveralWards2025 { input: String, count: usize },
    /// No 2025 ward has the name (in the province, or nationwide); old wards matched.
    NoWard2025MatchedLegacy {
        input: String,
        province: Option<Name>,
    },
    /// A 2025 ward and old ward(s) share the name; the 2025 ward was chosen.
    Preferred2025 {
        ward: WardRef,
        legacy: Vec<LegacyWardRef>,
    },
    /// A 2025 ward and old ward(s) share the name; the old ward(s) were chosen.
    PreferredLegacy {
        ward: WardRef,
        province: Name,
        legacy_type: bool,
    },
    /// The province given is a pre-2025 one.
    LegacyProvince { province: Name, now_in: Vec<Name> },
    /// A pre-2025 unit found through the 2025 province its area now belongs to.
    AcrossMerger {
        unit: Name,
        old_province: Name,
        province: Name,
    },
    /// No province of either era has the name.
    UnknownProvince { input: String },
    /// No pre-2025 district has the name (in the province, or nationwide).
    UnknownDistrict {
        input: String,
        province: Option<Name>,
    },
    /// Contradiction: the district is not in the province given.
    DistrictNotInProvince {
        input: String,
        province: Name,
        found_in: Vec<Name>,
    },
    /// Contradiction: the ward was not in the district given.
    WardNotInDistrict {
        input: String,
        district: Name,
        found_in: Vec<Name>,
    },
    /// Contradiction: the ward is not in the province given.
    WardNotInProvince {
        input: String,
        province: Name,
        found_in: Vec<Name>,
    },
    /// A 2025 ward name given together with a (pre-2025) district.
    Ward2025WithDistrict { ward: WardRef, district: Name },
    /// The district had no wards (island districts), so the table cannot convert it.
    DistrictHadNoWards { district: Name },
    /// Nothing of that name in the scope (or nationwide).
    NoWardNamed { input: String, scope: Option<Name> },
    /// No province given and the name matches several units nationwide.
    NationwideMatches {
        input: String,
        current: usize,
        legacy: usize,
    },
    /// The candidate list was cut.
    Truncated { total: usize, shown: usize },
    /// How a free-text address was split.
    ReadAs {
        ward: String,
        district: Option<String>,
        province: Option<String>,
        ignored: Vec<String>,
    },
}

fn join(names: &[Name]) -> String {
    let mut out = String::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(n);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

impl WardRef {
    /// "Phường Hồng Hà (Thành phố Hà Nội)".
    fn full(&self) -> String {
        format!("{} ({})", self.name, self.province_name)
    }
}

impl LegacyWardRef {
    /// "Phường Phúc Xá (Quận Ba Đình, Thành phố Hà Nội)"; "with code 03980 (…)" when the code is
    /// not in the pre-2025 list.
    pub fn describe(&self, lang: Lang) -> String {
        let mut s = match (&self.name, lang) {
            (Some(n), _) => n.to_string(),
            (None, Lang::En) => format!("with code {}", self.code),
            (None, Lang::Vi) => format!("mã {}", self.code),
        };
        let parts: Vec<&str> = [self.district_name.as_deref(), self.province_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !parts.is_empty() {
            s.push_str(" (");
            s.push_str(&parts.join(", "));
            s.push(')');
        }
        s
    }
}

impl Explanation {
    /// A full sentence in the given language.
    pub fn render(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.render_en(),
            Lang::Vi => self.render_vi(),
        }
    }

    fn render_en(&self) -> String {
        use Explanation as E;
        match self {
            E::Ward2025 { ward } => format!(
                "{} ({}) is a commune-level unit of the structure in force since 1 July 2025.",
                ward.name, ward.province_name
            ),
            E::UnknownWardCode { code } => format!("No 2025 ward has code {code}."),
            E::UnknownLegacyWardCode { code } => format!(
                "No pre-2025 ward has code {code}, and the conversion table has no row for it."
            ),
            E::LegacyConverted { old, new } => format!(
                "Old ward {} became {} on 1 July 2025.",
                old.describe(Lang::En),
                new.full()
            ),
            E::LegacySplit { old, successors } => format!(
                "The old ward {} was split across {} new wards; give a street or village to choose.",
                old.describe(Lang::En),
                successors
            ),
            E::LegacySplitOneListed { old, new } => format!(
                "The conversion table marks the old ward {} as split but lists only one successor, {}; \
                 part of its area may now belong to another ward: give a street or village to check.",
                old.describe(Lang::En),
                new.full()
            ),
            E::NoConversionRow { old } => format!(
                "The official conversion table has no row for the old ward {}; it cannot be converted \
                 automatically and must be checked by hand.",
                old.describe(Lang::En)
            ),
            E::LegacyCodeNotInList { old } => format!(
                "The old ward code {} is not in the pre-2025 ward list (it probably changed in an earlier \
                 merger), but the conversion table maps it; the table was used.",
                old.code
            ),
            E::DuplicateLegacyName {
                name,
                district,
                count,
            } => format!(
                "{count} pre-2025 wards of {district} were named {name}; the successors of all of them are listed."
            ),
            E::SeveralLegacyWards { input, count } => format!(
                "{count} pre-2025 wards match “{input}”; the successors of all of them are listed."
            ),
            E::SeveralWards2025 { input, count } => {
                format!("{count} 2025 wards match “{input}”; all of them are listed.")
            }
            E::NoWard2025MatchedLegacy { input, province } => match province {
                Some(p) => format!(
                    "No 2025 ward is named “{input}” in {p}; matched the pre-2025 ward(s) of that name."
                ),
                None => format!(
                    "No 2025 ward is named “{input}”; matched the pre-2025 ward(s) of that name."
                ),
            },
            E::Preferred2025 { ward, legacy } => format!(
                "{} is a 2025 ward of {}, and a pre-2025 ward had the same name: {}. The 2025 ward was \
                 chosen because the province is a 2025 province and no district was given; for the old \
                 address, add its district.",
                ward.name,
                ward.province_name,
                legacy
                    .iter()
                    .map(|l| l.describe(Lang::En))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            E::PreferredLegacy {
                ward,
                province,
                legacy_type,
            } => {
                let why = if *legacy_type {
                    "the type given exists only before 2025".to_string()
                } else {
                    format!("{province} is a pre-2025 province")
                };
                format!(
                    "The pre-2025 ward was used because {why}; a 2025 ward has the same name: {}.",
                    ward.full()
                )
            }
            E::LegacyProvince { province, now_in } => format!(
                "{province} is a pre-2025 province; since 1 July 2025 its area is part of {}.",
                join(now_in)
            ),
            E::AcrossMerger {
                unit,
                old_province,
                province,
            } => format!("{unit} was in {old_province}, whose area is now part of {province}."),
            E::UnknownProvince { input } => {
                format!("No province, 2025 or pre-2025, is named “{input}”.")
            }
            E::UnknownDistrict { input, province } => match province {
                Some(p) => format!("No pre-2025 district is named “{input}” in {p}."),
                None => format!("No pre-2025 district is named “{input}”."),
            },
            E::DistrictNotInProvince {
                input,
                province,
                found_in,
            } => format!(
                "The address contradicts itself: the district “{input}” is not in {province}; \
                 a district of that name was in {}.",
                join(found_in)
            ),
            E::WardNotInDistrict {
                input,
                district,
                found_in,
            } => format!(
                "The address contradicts itself: there was no ward “{input}” in {district}; \
                 a ward of that name was in {}.",
                join(found_in)
            ),
            E::WardNotInProvince {
                input,
                province,
                found_in,
            } => format!(
                "The address contradicts itself: there is no ward “{input}” in {province}; \
                 a ward of that name is or was in {}.",
                join(found_in)
            ),
            E::Ward2025WithDistrict { ward, district } => format!(
                "{} is a 2025 ward, but 2025 addresses have no district and {district} had no ward of \
                 that name; drop the district to use the 2025 ward.",
                ward.full()
            ),
            E::DistrictHadNoWards { district } => format!(
                "{district} had no wards, so the conversion table has no row for its area."
            ),
            E::NoWardNamed { input, scope } => match scope {
                Some(s) => format!("No ward, 2025 or pre-2025, is named “{input}” in {s}."),
                None => format!("No ward, 2025 or pre-2025, is named “{input}” anywhere in the country."),
            },
            E::NationwideMatches {
                input,
                current,
                legacy,
            } => format!(
                "“{input}” matches {} and {} nationwide; add the province (and the district for an old address).",
                plural(*current, "2025 ward", "2025 wards"),
                plural(*legacy, "pre-2025 ward", "pre-2025 wards")
            ),
            E::Truncated { total, shown } => {
                format!("{total} wards match; only the first {shown} are listed.")
            }
            E::ReadAs {
                ward,
                district,
                province,
                ignored,
            } => {
                let mut s = format!("Read the address as ward “{ward}”");
                if let Some(d) = district {
                    s.push_str(&format!(", district “{d}”"));
                }
                if let Some(p) = province {
                    s.push_str(&format!(", province “{p}”"));
                }
                if !ignored.is_empty() {
                    s.push_str(&format!(" (ignored: “{}”)", ignored.join("”, “")));
                }
                s.push('.');
                s
            }
        }
    }

    fn render_vi(&self) -> String {
        use Explanation as E;
        match self {
            E::Ward2025 { ward } => format!(
                "{} ({}) là đơn vị hành chính cấp xã theo cơ cấu có hiệu lực từ ngày 01/7/2025.",
                ward.name, ward.province_name
            ),
            E::UnknownWardCode { code } => {
                format!("Không có đơn vị hành chính cấp xã (từ 01/7/2025) nào có mã {code}.")
            }
            E::UnknownLegacyWardCode { code } => format!(
                "Không có đơn vị cấp xã cũ (trước 01/7/2025) nào có mã {code}, và bảng chuyển đổi \
                 không có dòng nào cho mã này."
            ),
            E::LegacyConverted { old, new } => format!(
                "Đơn vị cũ {} đã được sắp xếp vào {} từ ngày 01/7/2025.",
                old.describe(Lang::Vi),
                new.full()
            ),
            E::LegacySplit { old, successors } => format!(
                "Đơn vị cũ {} đã được chia về {} đơn vị hành chính mới; cần cho biết tên đường, thôn hoặc tổ dân phố để xác định.",
                old.describe(Lang::Vi),
                successors
            ),
            E::LegacySplitOneListed { old, new } => format!(
                "Bảng chuyển đổi ghi đơn vị cũ {} được sáp nhập một phần nhưng chỉ nêu một đơn vị mới là {}; \
                 một phần địa bàn có thể thuộc đơn vị khác: cần cho biết tên đường, thôn hoặc tổ dân phố để kiểm tra.",
                old.describe(Lang::Vi),
                new.full()
            ),
            E::NoConversionRow { old } => format!(
                "Bảng chuyển đổi chính thức không có dòng nào cho đơn vị cũ {}; không thể tự động chuyển đổi, \
                 cần kiểm tra thủ công.",
                old.describe(Lang::Vi)
            ),
            E::LegacyCodeNotInList { old } => format!(
                "Mã đơn vị cũ {} không có trong danh mục đơn vị hành chính trước 01/7/2025 (có thể đã thay đổi \
                 do sắp xếp trước đó), nhưng có trong bảng chuyển đổi; kết quả dựa theo bảng chuyển đổi.",
                old.code
            ),
            E::DuplicateLegacyName {
                name,
                district,
                count,
            } => format!(
                "{district} (cũ) có {count} đơn vị cùng tên {name}; liệt kê các đơn vị mới của tất cả các đơn vị này."
            ),
            E::SeveralLegacyWards { input, count } => format!(
                "Có {count} đơn vị cấp xã cũ khớp với “{input}”; liệt kê các đơn vị mới tương ứng."
            ),
            E::SeveralWards2025 { input, count } => format!(
                "Có {count} đơn vị cấp xã mới khớp với “{input}”; liệt kê tất cả."
            ),
            E::NoWard2025MatchedLegacy { input, province } => match province {
                Some(p) => format!(
                    "Không có đơn vị cấp xã mới nào tên “{input}” tại {p}; đã đối chiếu với đơn vị cấp xã cũ cùng tên."
                ),
                None => format!(
                    "Không có đơn vị cấp xã mới nào tên “{input}”; đã đối chiếu với đơn vị cấp xã cũ cùng tên."
                ),
            },
            E::Preferred2025 { ward, legacy } => format!(
                "{} là đơn vị cấp xã mới của {}; trước 01/7/2025 cũng có đơn vị cùng tên: {}. Đã chọn đơn vị mới \
                 vì tỉnh, thành phố đã nêu là đơn vị hiện hành và không nêu quận, huyện; nếu là địa chỉ cũ, \
                 hãy ghi thêm quận, huyện.",
                ward.name,
                ward.province_name,
                legacy
                    .iter()
                    .map(|l| l.describe(Lang::Vi))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            E::PreferredLegacy {
                ward,
                province,
                legacy_type,
            } => {
                let why = if *legacy_type {
                    "loại đơn vị đã nêu chỉ có trước 01/7/2025".to_string()
                } else {
                    format!("{province} là tỉnh cũ")
                };
                format!(
                    "Đã dùng đơn vị cấp xã cũ vì {why}; cũng có đơn vị cấp xã mới cùng tên: {}.",
                    ward.full()
                )
            }
            E::LegacyProvince { province, now_in } => format!(
                "{province} là tỉnh, thành phố cũ; từ ngày 01/7/2025 địa bàn thuộc {}.",
                join(now_in)
            ),
            E::AcrossMerger {
                unit,
                old_province,
                province,
            } => format!("{unit} trước đây thuộc {old_province}, nay địa bàn thuộc {province}."),
            E::UnknownProvince { input } => {
                format!("Không có tỉnh, thành phố nào (mới hoặc cũ) tên “{input}”.")
            }
            E::UnknownDistrict { input, province } => match province {
                Some(p) => format!("Không có quận, huyện cũ nào tên “{input}” tại {p}."),
                None => format!("Không có quận, huyện cũ nào tên “{input}”."),
            },
            E::DistrictNotInProvince {
                input,
                province,
                found_in,
            } => format!(
                "Địa chỉ mâu thuẫn: quận, huyện “{input}” không thuộc {province}; quận, huyện cùng tên thuộc {}.",
                join(found_in)
            ),
            E::WardNotInDistrict {
                input,
                district,
                found_in,
            } => format!(
                "Địa chỉ mâu thuẫn: {district} không có đơn vị cấp xã “{input}”; đơn vị cùng tên thuộc {}.",
                join(found_in)
            ),
            E::WardNotInProvince {
                input,
                province,
                found_in,
            } => format!(
                "Địa chỉ mâu thuẫn: {province} không có đơn vị cấp xã “{input}”; đơn vị cùng tên thuộc {}.",
                join(found_in)
            ),
            E::Ward2025WithDistrict { ward, district } => format!(
                "{} là đơn vị cấp xã mới, nhưng địa chỉ mới không còn cấp quận, huyện và {district} không có \
                 đơn vị cũ cùng tên; hãy bỏ quận, huyện để dùng đơn vị mới.",
                ward.full()
            ),
            E::DistrictHadNoWards { district } => format!(
                "{district} không có đơn vị cấp xã trực thuộc nên bảng chuyển đổi không có dòng nào cho địa bàn này."
            ),
            E::NoWardNamed { input, scope } => match scope {
                Some(s) => format!("Không có đơn vị cấp xã nào (mới hoặc cũ) tên “{input}” tại {s}."),
                None => format!("Không có đơn vị cấp xã nào (mới hoặc cũ) tên “{input}” trên toàn quốc."),
            },
            E::NationwideMatches {
                input,
                current,
                legacy,
            } => format!(
                "“{input}” khớp với {current} đơn vị cấp xã mới và {legacy} đơn vị cấp xã cũ trên toàn quốc; \
                 hãy ghi thêm tỉnh, thành phố (và quận, huyện nếu là địa chỉ cũ)."
            ),
            E::Truncated { total, shown } => {
                format!("Có {total} đơn vị khớp; chỉ liệt kê {shown} đơn vị đầu tiên.")
            }
            E::ReadAs {
                ward,
                district,
                province,
                ignored,
            } => {
                let mut s = format!("Đã hiểu địa chỉ là: cấp xã “{ward}”");
                if let Some(d) = district {
                    s.push_str(&format!(", quận, huyện “{d}”"));
                }
                if let Some(p) = province {
                    s.push_str(&format!(", tỉnh, thành phố “{p}”"));
                }
                if !ignored.is_empty() {
                    s.push_str(&format!(" (bỏ qua: “{}”)", ignored.join("”, “")));
                }
                s.push('.');
                s
            }
        }
    }
}
