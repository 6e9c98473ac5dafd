//! Units (agencies): codes, kinds, and the standard set every province and commune has.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::account::Invalid;

/// A stable unit code, usable inside dossier codes: upper-case letters and digits in
/// dot-separated groups, e.g. `01.TTPVHCC` or `01.00004.UBND`. Never contains `-`, which
/// separates the parts of a dossier code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let ok = (2..=40).contains(&s.len())
            && s.split('.').all(|g| {
                !g.is_empty()
                    && g.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            });
        if !ok {
            return Err(Invalid::new("unit_code", "invalid_unit_code"));
        }
        Ok(UnitCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Code of a provincial unit: `{province}.{suffix}`.
    pub fn provincial(province_code: &str, kind: UnitKind) -> UnitCode {
        UnitCode(format!("{province_code}.{}", kind.suffix()))
    }

    /// Code of a commune unit: `{province}.{ward}.{suffix}`.
    pub fn communal(province_code: &str, ward_code: &str, kind: UnitKind) -> UnitCode {
        UnitCode(format!("{province_code}.{ward_code}.{}", kind.suffix()))
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for UnitCode {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        UnitCode::parse(&s)
    }
}

impl From<UnitCode> for String {
    fn from(c: UnitCode) -> String {
        c.0
    }
}

/// Which tier a unit belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    Commune,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Commune => "commune",
        }
    }
}

impl FromStr for Level {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "province" => Ok(Level::Province),
            "commune" => Ok(Level::Commune),
            _ => Err(Invalid::new("level", "invalid_level")),
        }
    }
}

macro_rules! unit_kinds {
    ($( $variant:ident => $s:literal, $suffix:literal, $level:ident, $receives:literal, $vi:literal, $en:literal; )*) => {
        /// The kind of a unit. Competence is expressed as a kind: a procedure names the kind
        /// of unit that handles it, and routing finds that unit for the address.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum UnitKind { $( $variant, )* }

        impl UnitKind {
            pub const ALL: &'static [UnitKind] = &[ $( UnitKind::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( UnitKind::$variant => $s, )* }
            }

            /// The last group of the unit code.
            pub fn suffix(self) -> &'static str {
                match self { $( UnitKind::$variant => $suffix, )* }
            }

            pub fn level(self) -> Level {
                match self { $( UnitKind::$variant => Level::$level, )* }
            }

            /// Service centres: where dossiers are received (one-stop-shop counters).
            pub fn receives_dossiers(self) -> bool {
                match self { $( UnitKind::$variant => $receives, )* }
            }

            /// Vietnamese name of the kind, prefixed to the place's name.
            pub fn name_vi(self) -> &'static str {
                match self { $( UnitKind::$variant => $vi, )* }
            }

            pub fn name_en(self) -> &'static str {
                match self { $( UnitKind::$variant => $en, )* }
            }
        }

        impl FromStr for UnitKind {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $s => Ok(UnitKind::$variant), )*
                    _ => Err(Invalid::new("kind", "invalid_unit_kind")),
                }
            }
        }
    };
}

unit_kinds! {
    ProvincePc => "province_pc", "UBND", Province, false, "Ủy ban nhân dân", "People's Committee";
    ProvinceServiceCentre => "province_service_centre", "TTPVHCC", Province, true, "Trung tâm Phục vụ hành chính công", "Public Administrative Service Centre";
    DeptJustice => "dept_justice", "STP", Province, false, "Sở Tư pháp", "Department of Justice";
    DeptFinance => "dept_finance", "STC", Province, false, "Sở Tài chính (Phòng Đăng ký kinh doanh)", "Department of Finance (Business Registration Office)";
    DeptConstruction => "dept_construction", "SXD", Province, false, "Sở Xây dựng", "Department of Construction";
    DeptAgricultureEnvironment => "dept_agriculture_environment", "SNNMT", Province, false, "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment";
    LandRegistrationOffice => "land_registration_office", "VPDKDD", Province, false, "Văn phòng Đăng ký đất đai", "Land Registration Office";
    DeptHealth => "dept_health", "SYT", Province, false, "Sở Y tế", "Department of Health";
    DeptEducation => "dept_education", "SGDDT", Province, false, "Sở Giáo dục và Đào tạo", "Department of Education and Training";
    DeptHomeAffairs => "dept_home_affairs", "SNV", Province, false, "Sở Nội vụ", "Department of Home Affairs";
    ProvincePolice => "province_police", "CAT", Province, false, "Công an", "Police";
    SocialInsurance => "social_insurance", "BHXH", Province, false, "Bảo hiểm xã hội", "Social Insurance";
    CommunePc => "commune_pc", "UBND", Commune, false, "Ủy ban nhân dân", "People's Committee";
    CommuneServiceCentre => "commune_service_centre", "TTPVHCC", Commune, true, "Trung tâm Phục vụ hành chính công", "Public Administrative Service Centre";
    CommunePolice => "commune_police", "CA", Commune, false, "Công an", "Police";
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default office hours of the civil service (domain.md §3).
pub const DEFAULT_WORKING_HOURS: &str = "07:30-11:30,13:00-17:00";

/// A unit to create when seeding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardUnit {
    pub code: UnitCode,
    pub name: String,
    pub name_en: String,
    pub kind: UnitKind,
    pub province_code: String,
    pub ward_code: Option<String>,
    pub parent_code: Option<UnitCode>,
}

/// The standard provincial units of one province.
pub fn standard_province_units(province_code: &str, province_name: &str) -> Vec<StandardUnit> {
    let pc = UnitCode::provincial(province_code, UnitKind::ProvincePc);
    UnitKind::ALL
        .iter()
        .filter(|k| k.level() == Level::Province)
        .map(|&kind| StandardUnit {
            code: UnitCode::provincial(province_code, kind),
            name: format!("{} {}", kind.name_vi(), province_name),
            name_en: format!("{} of {}", kind.name_en(), province_name),
            kind,
            province_code: province_code.to_string(),
            ward_code: None,
            parent_code: (kind != UnitKind::ProvincePc).then(|| pc.clone()),
        })
        .collect()
}

/// The standard units of one commune (ward, commune or special zone).
pub fn standard_commune_units(
    province_code: &str,
    ward_code: &str,
    ward_name: &str,
) -> Vec<StandardUnit> {
    let pc = UnitCode::communal(province_code, ward_code, UnitKind::CommunePc);
    UnitKind::ALL
        .iter()
        .filter(|k| k.level() == Level::Commune)
        .map(|&kind| StandardUnit {
            code: UnitCode::communal(province_code, ward_code, kind),
            name: format!("{} {}", kind.name_vi(), ward_name),
            name_en: format!("{} of {}", kind.name_en(), ward_name),
            kind,
            province_code: province_code.to_string(),
            ward_code: Some(ward_code.to_string()),
            parent_code: (kind != UnitKind::CommunePc).then(|| pc.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_codes() {
        assert!(UnitCode::parse("01.TTPVHCC").is_ok());
        assert!(UnitCode::parse("01.00004.UBND").is_ok());
        assert!(UnitCode::parse("01-TTPVHCC").is_err());
        assert!(UnitCode::parse("01..X").is_err());
        assert!(UnitCode::parse("ab.cd").is_err());
        assert!(UnitCode::parse("").is_err());
    }

    #[test]
    fn standard_sets() {
        let p = standard_province_units("01", "Thành phố Hà Nội");
        assert_eq!(p.len(), 12);
        assert!(p.iter().any(|u| u.code.as_str() == "01.BHXH"));
        assert!(p
            .iter()
            .any(|u| u.code.as_str() == "01.TTPVHCC" && u.kind.receives_dossiers()));
        let c = standard_commune_units("01", "00004", "Phường Ba Đình");
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].code.as_str(), "01.00004.UBND");
        assert_eq!(c[1].parent_code.as_ref().unwrap().as_str(), "01.00004.UBND");
        for k in UnitKind::ALL {
            assert_eq!(k.as_str().parse::<UnitKind>().unwrap(), *k);
        }
    }
}
