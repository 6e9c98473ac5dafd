//! How dates and amounts are written for people (pages, letters, messages): Vietnam's time,
//! Vietnamese number grouping.

use chrono::{DateTime, Utc};

use crate::domain::calendar::vn_offset;

/// `03/12/2026 14:05`, in Vietnam's time.
pub fn date_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&vn_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// `03/12/2026`, in Vietnam's time.
pub fn date(t: DateTime<Utc>) -> String {
    t.with_timezone(&vn_offset()).format("%d/%m/%Y").to_string()
}

/// An amount in đồng: `1.250.000 ₫`.
pub fn vnd(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 4);
    if amount < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out.push_str(" ₫");
    out
}
