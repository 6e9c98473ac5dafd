//! Human sentences (Vietnamese and English) for the validation codes the domain returns.

use crate::domain::account::Invalid;
use crate::error::{FieldError, Text};
use crate::text;

/// The message for a domain validation code.
pub fn invalid_message(code: &str) -> Text {
    match code {
        "invalid_length" => text!("Độ dài không hợp lệ.", "The length is not allowed."),
        "invalid_characters" => text!(
            "Chỉ được dùng chữ cái không dấu, chữ số và . _ - @.",
            "Only unaccented letters, digits and . _ - @ are allowed."
        ),
        "too_short" => text!(
            "Mật khẩu phải có ít nhất 10 ký tự.",
            "The password must have at least 10 characters."
        ),
        "too_long" => text!("Giá trị quá dài.", "The value is too long."),
        "too_weak" => text!(
            "Mật khẩu quá dễ đoán.",
            "The password is too easy to guess."
        ),
        "invalid_id_number" => text!(
            "Số định danh cá nhân phải gồm 12 chữ số hợp lệ.",
            "The citizen ID number must be 12 valid digits."
        ),
        "invalid_phone" => text!(
            "Số điện thoại không hợp lệ.",
            "The phone number is not valid."
        ),
        "invalid_email" => text!(
            "Địa chỉ thư điện tử không hợp lệ.",
            "The e-mail address is not valid."
        ),
        "invalid_tax_code" => text!(
            "Mã số thuế phải gồm 10 chữ số (hoặc 10-3 cho chi nhánh).",
            "The tax code must be 10 digits (or 10-3 for a branch)."
        ),
        "invalid_unit_code" => text!("Mã đơn vị không hợp lệ.", "The unit code is not valid."),
        "invalid_unit_kind" => text!("Loại đơn vị không hợp lệ.", "The unit kind is not valid."),
        "invalid_level" => text!(
            "Cấp không hợp lệ (commune hoặc province).",
            "The level must be commune or province."
        ),
        "invalid_full_name" => text!("Họ tên không hợp lệ.", "The full name is not valid."),
        "required" => text!("Trường này là bắt buộc.", "This field is required."),
        "invalid_value" => text!("Giá trị không hợp lệ.", "The value is not valid."),
        _ => text!("Giá trị không hợp lệ.", "The value is not valid."),
    }
}

impl From<Invalid> for FieldError {
    fn from(e: Invalid) -> Self {
        FieldError::new(e.field, e.code, invalid_message(e.code))
    }
}

/// Turn `validator` errors into our field errors.
pub fn from_validator(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let code = e.code.to_string();
                    let message = match code.as_str() {
                        "length" => {
                            let min = e.params.get("min").map(|v| v.to_string());
                            let max = e.params.get("max").map(|v| v.to_string());
                            text!(
                                format!(
                                    "Độ dài phải trong khoảng {}–{}.",
                                    min.clone().unwrap_or("0".into()),
                                    max.clone().unwrap_or("∞".into())
                                ),
                                format!(
                                    "The length must be between {} and {}.",
                                    min.unwrap_or("0".into()),
                                    max.unwrap_or("∞".into())
                                ),
                            )
                        }
                        "range" => text!(
                            "Giá trị nằm ngoài khoảng cho phép.",
                            "The value is out of range."
                        ),
                        "email" => invalid_message("invalid_email"),
                        other => invalid_message(other),
                    };
                    let code = match code.as_str() {
                        "length" => "invalid_length".to_string(),
                        "range" => "out_of_range".to_string(),
                        "email" => "invalid_email".to_string(),
                        _ => code,
                    };
                    out.push(FieldError::new(path.clone(), code, message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}
