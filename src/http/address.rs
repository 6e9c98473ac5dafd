//! The address as clients send it, shared by address resolution, routing and intake.

use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::geography::AddressInput;
use crate::error::{ApiError, FieldError};
use crate::text;

/// Exactly one form: `{ward_code}` (2025), `{legacy_ward_code}`, names
/// `{province?, district?, ward}` of either era, or `{text}` ("Phường Phúc Xá, Quận Ba Đình, Hà Nội").
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    #[schema(example = "00004")]
    pub ward_code: Option<String>,
    #[schema(example = "00001")]
    pub legacy_ward_code: Option<String>,
    #[schema(example = "Hà Nội")]
    pub province: Option<String>,
    #[schema(example = "Quận Ba Đình")]
    pub district: Option<String>,
    #[schema(example = "Phường Phúc Xá")]
    pub ward: Option<String>,
    #[schema(example = "Phường Phúc Xá, Quận Ba Đình, Hà Nội")]
    pub text: Option<String>,
}

fn present(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|v| !v.trim().is_empty())
}

impl AddressBody {
    /// The one form given, or 422 naming the problem (`field` prefixes the field names).
    pub fn to_input(&self, field: &str) -> Result<AddressInput, ApiError> {
        let names = present(&self.province) || present(&self.district) || present(&self.ward);
        let forms = [
            present(&self.ward_code),
            present(&self.legacy_ward_code),
            names,
            present(&self.text),
        ];
        match forms.iter().filter(|f| **f).count() {
            0 => Err(ApiError::validation(vec![FieldError::new(
                field,
                "address_required",
                text!(
                    "Cần một địa chỉ: ward_code, legacy_ward_code, tên (province, district, ward) hoặc text.",
                    "An address is needed: ward_code, legacy_ward_code, names (province, district, ward) or text."
                ),
            )])),
            1 => Ok(if let Some(c) = self.ward_code.as_ref().filter(|_| forms[0]) {
                AddressInput::WardCode(c.clone())
            } else if let Some(c) = self.legacy_ward_code.as_ref().filter(|_| forms[1]) {
                AddressInput::LegacyWardCode(c.clone())
            } else if let Some(t) = self.text.as_ref().filter(|_| forms[3]) {
                AddressInput::Text(t.clone())
            } else {
                if !present(&self.ward) {
                    return Err(ApiError::validation(vec![FieldError::new(
                        format!("{field}.ward"),
                        "required",
                        text!("Thiếu tên xã/phường.", "The ward name is missing."),
                    )]));
                }
                AddressInput::Names {
                    province: self.province.clone().filter(|s| !s.trim().is_empty()),
                    district: self.district.clone().filter(|s| !s.trim().is_empty()),
                    ward: self.ward.clone().unwrap_or_default(),
                }
            }),
            _ => Err(ApiError::validation(vec![FieldError::new(
                field,
                "mixed_address_forms",
                text!(
                    "Chỉ dùng một dạng địa chỉ: mã 2025, mã cũ, tên, hoặc chuỗi địa chỉ — không trộn lẫn.",
                    "Use exactly one address form: 2025 code, legacy code, names, or text — not a mix."
                ),
            )])),
        }
    }
}
