//! Code newtypes for the administrative units, in the National Statistics Office's notation.
//!
//! The CSV files carry plain integers ("4"); the official notation is zero-padded to a fixed
//! width per level ("00004" for a ward). Every newtype parses both, prints the padded form and
//! (de)serialises as the padded string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a code failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeErrorKind {
    /// The string is empty.
    Empty,
    /// A character that is not an ASCII digit.
    NotDigits,
    /// More digits than the level's width.
    TooLong,
    /// All zeros: no unit has code 0.
    Zero,
}

/// A code that failed to parse, with the field it was meant for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {}", self.reason())]
pub struct CodeError {
    /// The field, e.g. `ward_code`.
    pub field: &'static str,
    /// The reason.
    pub kind: CodeErrorKind,
    /// The level's width in digits.
    pub width: usize,
}

impl CodeError {
    /// The reason as an English sentence fragment.
    pub fn reason(&self) -> String {
        match self.kind {
            CodeErrorKind::Empty => "is empty".to_string(),
            CodeErrorKind::NotDigits => {
                format!(
                    "must contain only the digits 0-9 (1 to {} digits)",
                    self.width
                )
            }
            CodeErrorKind::TooLong => format!("has more than {} digits", self.width),
            CodeErrorKind::Zero => "must not be zero".to_string(),
        }
    }
}

/// Parse 1..=`width` ASCII digits, not all zero.
fn parse_digits(s: &str, width: usize, field: &'static str) -> Result<u32, CodeError> {
    let err = |kind| CodeError { field, kind, width };
    if s.is_empty() {
        return Err(err(CodeErrorKind::Empty));
    }
    let bytes = s.as_bytes();
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(err(CodeErrorKind::NotDigits));
    }
    if bytes.len() > width {
        return Err(err(CodeErrorKind::TooLong));
    }
    // At most 5 digits: no overflow.
    let value = bytes
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    if value == 0 {
        return Err(err(CodeErrorKind::Zero));
    }
    Ok(value)
}

macro_rules! code_newtype {
    ($(#[$doc:meta])* $name:ident, $width:expr, $field:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u32);

        impl $name {
            /// Width of the official zero-padded notation.
            pub const WIDTH: usize = $width;
            /// Field name used in errors.
            pub const FIELD: &'static str = $field;

            /// Parse "1", "01", … up to the level's width; rejects empty, non-digits,
            /// too many digits and zero.
            pub fn parse(s: &str) -> Result<Self, CodeError> {
                parse_digits(s, Self::WIDTH, Self::FIELD).map(Self)
            }

            /// Build from the integer value; rejects zero and values wider than the notation.
            pub fn new(value: u32) -> Result<Self, CodeError> {
                let err = |kind| CodeError { field: Self::FIELD, kind, width: Self::WIDTH };
                if value == 0 {
                    return Err(err(CodeErrorKind::Zero));
                }
                if u64::from(value) >= 10u64.pow(Self::WIDTH as u32) {
                    return Err(err(CodeErrorKind::TooLong));
                }
                Ok(Self(value))
            }

            /// The integer value (what the CSV files carry).
            pub fn value(self) -> u32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:0width$}", self.0, width = Self::WIDTH)
            }
        }

        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = CodeError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl TryFrom<u32> for $name {
            type Error = CodeError;
            fn try_from(v: u32) -> Result<Self, Self::Error> {
                Self::new(v)
            }
        }

        impl From<$name> for u32 {
            fn from(c: $name) -> u32 {
                c.value()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a {}-digit code as a string", $name::WIDTH)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$name, E> {
                        let v = u32::try_from(v).map_err(E::custom)?;
                        $name::new(v).map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$name, E> {
                        let v = u32::try_from(v).map_err(E::custom)?;
                        $name::new(v).map_err(E::custom)
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

code_newtype!(
    /// A 2025 province code, 2 digits ("01" = Hà Nội).
    ProvinceCode, 2, "province_code"
);
code_newtype!(
    /// A 2025 ward (commune-level unit: phường, xã, đặc khu) code, 5 digits.
    WardCode, 5, "ward_code"
);
code_newtype!(
    /// A pre-2025 province code, 2 digits. Not interchangeable with [`ProvinceCode`]:
    /// the same number may name different provinces in the two eras (91).
    LegacyProvinceCode, 2, "legacy_province_code"
);
code_newtype!(
    /// A pre-2025 district code, 3 digits.
    LegacyDistrictCode, 3, "legacy_district_code"
);
code_newtype!(
    /// A pre-2025 ward code, 5 digits.
    LegacyWardCode, 5, "legacy_ward_code"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_padded_and_unpadded() {
        for s in ["4", "04", "004", "0004", "00004"] {
            assert_eq!(WardCode::parse(s).unwrap().value(), 4, "{s}");
        }
        assert_eq!(ProvinceCode::parse("1").unwrap().to_string(), "01");
        assert_eq!(ProvinceCode::parse("01").unwrap().to_string(), "01");
        assert_eq!(LegacyDistrictCode::parse("1").unwrap().to_string(), "001");
        assert_eq!(LegacyWardCode::parse("26929").unwrap().to_string(), "26929");
        assert_eq!("00004".parse::<WardCode>().unwrap().to_string(), "00004");
        assert_eq!(LegacyProvinceCode::try_from("96").unwrap().value(), 96);
    }

    #[test]
    fn rejects_bad_codes_with_field_and_reason() {
        let e = WardCode::parse("").unwrap_err();
        assert_eq!((e.field, e.kind), ("ward_code", CodeErrorKind::Empty));
        let e = WardCode::parse("12a").unwrap_err();
        assert_eq!(e.kind, CodeErrorKind::NotDigits);
        assert_eq!(
            WardCode::parse(" 4").unwrap_err().kind,
            CodeErrorKind::NotDigits
        );
        assert_eq!(
            WardCode::parse("-4").unwrap_err().kind,
            CodeErrorKind::NotDigits
        );
        assert_eq!(
            WardCode::parse("٤").unwrap_err().kind,
            CodeErrorKind::NotDigits
        );
        let e = WardCode::parse("000004").unwrap_err();
        assert_eq!(e.kind, CodeErrorKind::TooLong);
        assert_eq!(e.to_string(), "ward_code: has more than 5 digits");
        let e = ProvinceCode::parse("001").unwrap_err();
        assert_eq!((e.field, e.kind), ("province_code", CodeErrorKind::TooLong));
        let e = LegacyDistrictCode::parse("000").unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            ("legacy_district_code", CodeErrorKind::Zero)
        );
        assert_eq!(
            ProvinceCode::new(100).unwrap_err().kind,
            CodeErrorKind::TooLong
        );
        assert_eq!(WardCode::new(0).unwrap_err().kind, CodeErrorKind::Zero);
        assert_eq!(WardCode::new(99_999).unwrap().to_string(), "99999");
    }

    #[test]
    fn serde_as_padded_string() {
        let c = WardCode::parse("4").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"00004\"");
        let back: WardCode = serde_json::from_str("\"00004\"").unwrap();
        assert_eq!(back, c);
        let from_int: WardCode = serde_json::from_str("4").unwrap();
        assert_eq!(from_int, c);
        assert!(serde_json::from_str::<ProvinceCode>("\"x1\"").is_err());
        assert!(serde_json::from_str::<ProvinceCode>("0").is_err());
    }
}
