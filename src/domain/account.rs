//! Accounts: roles and the value types that carry their rules (username, password policy,
//! citizen ID number, phone, e-mail).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an account may do. Clerks and unit heads belong to one unit; a supervisor has a
/// province, or none for national scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Clerk,
    UnitHead,
    Supervisor,
    Admin,
    /// Administers one province's published lists (boundary-independent procedures, fees):
    /// a province's own People's Committee publishes them (Decree 118/2025/NĐ-CP),
    /// not the national administrators alone. Reads no dossier.
    ProvinceAdmin,
    /// Another system that follows the dossiers' events (the event feed and webhooks): a
    /// statistics office, a city's complaint app. Of one province, or of the country
    /// without one. Reads events, never a dossier's content.
    Integrator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Citizen,
        Role::Clerk,
        Role::UnitHead,
        Role::Supervisor,
        Role::Admin,
        Role::ProvinceAdmin,
        Role::Integrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Clerk => "clerk",
            Role::UnitHead => "unit_head",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::ProvinceAdmin => "province_admin",
            Role::Integrator => "integrator",
        }
    }

    /// Officers of a unit (work its queue).
    pub fn is_unit_staff(self) -> bool {
        matches!(self, Role::Clerk | Role::UnitHead)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role string is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role")]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownRole)
    }
}

/// A rule a value broke: a stable code for clients, and the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {code}")]
pub struct Invalid {
    pub field: &'static str,
    pub code: &'static str,
}

impl Invalid {
    pub fn new(field: &'static str, code: &'static str) -> Self {
        Invalid { field, code }
    }
}

/// A username: 3–64 characters of letters, digits, `.`, `_`, `-`, `@`. Compared
/// case-insensitively through [`Username::key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            return Err(Invalid::new("username", "invalid_length"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(Invalid::new("username", "invalid_characters"));
        }
        Ok(Username(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-folded form the uniqueness constraint is on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A new password that meets the policy: 10–256 characters, not all the same character.
/// `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len < 10 {
            return Err(Invalid::new("password", "too_short"));
        }
        if len > 256 {
            return Err(Invalid::new("password", "too_long"));
        }
        let first = raw.chars().next();
        if raw.chars().all(|c| Some(c) == first) {
            return Err(Invalid::new("password", "too_weak"));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A 12-digit citizen identity number (căn cước). The first three digits are the province
/// of birth registration (001–096).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("id_number", "invalid_id_number"));
        }
        let province: u32 = s[..3].parse().unwrap_or(0);
        if !(1..=96).contains(&province) {
            return Err(Invalid::new("id_number", "invalid_id_number"));
        }
        Ok(IdNumber(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, the only part shown in lists and used for public tracking.
    pub fn last4(&self) -> &str {
        &self.0[8..]
    }

    /// `********1234`.
    pub fn masked(&self) -> String {
        format!("********{}", self.last4())
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl TryFrom<String> for IdNumber {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(v: IdNumber) -> String {
        v.0
    }
}

/// A Vietnamese phone number, kept as digits with a leading 0 (`+84` is folded to `0`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let digits = if let Some(rest) = compact.strip_prefix("+84") {
            format!("0{rest}")
        } else if let Some(rest) = compact.strip_prefix("84").filter(|r| r.len() == 9) {
            format!("0{rest}")
        } else {
            compact
        };
        if !(10..=11).contains(&digits.len())
            || !digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Invalid::new("phone", "invalid_phone"));
        }
        Ok(Phone(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `*******789`: only the last three digits.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// Mask a stored phone number, keeping its last three digits.
pub fn mask_phone(p: &str) -> String {
    let n = p.chars().count();
    if n <= 3 {
        return "*".repeat(n);
    }
    let tail: String = p.chars().skip(n - 3).collect();
    format!("{}{}", "*".repeat(n - 3), tail)
}

/// Mask a stored ID number or tax code, keeping its last four characters.
pub fn mask_id(s: &str) -> String {
    let n = s.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    let tail: String = s.chars().skip(n - 4).collect();
    format!("{}{}", "*".repeat(n - 4), tail)
}

/// An e-mail address, checked for shape only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let ok = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
                    && !domain.contains('@')
            });
        if !ok {
            return Err(Invalid::new("email", "invalid_email"));
        }
        Ok(Email(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A business tax code (mã số thuế): 10 digits, or 10 digits, a dash and 3 digits for a branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaxCode(String);

impl TaxCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let (main, branch) = match s.split_once('-') {
            Some((m, b)) => (m, Some(b)),
            None => (s, None),
        };
        let digits = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_digit());
        if !digits(main, 10) || branch.is_some_and(|b| !digits(b, 3)) {
            return Err(Invalid::new("tax_code", "invalid_tax_code"));
        }
        Ok(TaxCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Serde conversions of the personal-data newtypes: parsed on the way in.
macro_rules! string_conversions {
    ($($t:ident),*) => {$(
        impl TryFrom<String> for $t {
            type Error = Invalid;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $t::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    )*};
}

string_conversions!(Phone, Email, TaxCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse("  Lan.Nguyen ").unwrap().key(),
            "lan.nguyen"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("có dấu").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords() {
        assert_eq!(NewPassword::parse("short").unwrap_err().code, "too_short");
        assert_eq!(
            NewPassword::parse("aaaaaaaaaaaa").unwrap_err().code,
            "too_weak"
        );
        assert!(NewPassword::parse("mật khẩu dài đủ").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret-password").unwrap()),
            "NewPassword(***)"
        );
    }

    #[test]
    fn id_numbers() {
        let id = IdNumber::parse("001203004567").unwrap();
        assert_eq!(id.last4(), "4567");
        assert_eq!(id.masked(), "********4567");
        assert!(!format!("{id:?}").contains("0012030"));
        assert!(IdNumber::parse("00120300456").is_err());
        assert!(IdNumber::parse("00120300456a").is_err());
        assert!(IdNumber::parse("999203004567").is_err());
        assert!(IdNumber::parse("000203004567").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("+84 912 345 678").unwrap().as_str(),
            "0912345678"
        );
        assert_eq!(Phone::parse("0912.345.678").unwrap().masked(), "*******678");
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("09123456789012").is_err());
    }

    #[test]
    fn emails_and_tax_codes() {
        assert!(Email::parse("lan@example.vn").is_ok());
        assert!(Email::parse("lan@example").is_err());
        assert!(Email::parse("lan example@x.vn").is_err());
        assert!(TaxCode::parse("0101234567").is_ok());
        assert!(TaxCode::parse("0101234567-001").is_ok());
        assert!(TaxCode::parse("010123456").is_err());
    }
}
