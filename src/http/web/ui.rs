//! What every page shares: the language, the signed-in user, the anti-forgery token, and how
//! dates, times, durations and amounts are written for Vietnamese readers (dd/MM/yyyy,
//! 24-hour, Asia/Ho_Chi_Minh; `1.250.000 ₫`).

use chrono::{DateTime, TimeZone, Utc};

use crate::domain::account::Role;
use crate::domain::calendar::vn_offset;
use crate::domain::lang::Lang;

/// The page's language, with the two texts of each phrase side by side in the templates
/// (`ui.t("Hàng đợi", "Queue")`): Vietnamese first, and no key to get out of step.
#[derive(Debug, Clone)]
pub struct Ui {
    pub lang: Lang,
    /// The signed-in user, if any.
    pub user: Option<UserBar>,
    /// The anti-forgery token of this browser, for every form and htmx request.
    pub csrf: String,
    /// The path and query of this page, without `lang` (for the language switch).
    pub here: String,
}

/// The signed-in user as the page header shows them.
#[derive(Debug, Clone)]
pub struct UserBar {
    pub name: String,
    pub role: Role,
}

impl Ui {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    pub fn lang_code(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// This page in the other language.
    pub fn switch_href(&self) -> String {
        let other = match self.lang {
            Lang::Vi => "en",
            Lang::En => "vi",
        };
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={other}", self.here)
    }

    pub fn switch_label(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "English",
            Lang::En => "Tiếng Việt",
        }
    }

    pub fn is(&self, role: &str) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.as_str() == role)
    }

    pub fn is_unit_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.is_unit_staff())
    }

    pub fn is_supervisor(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| matches!(u.role, Role::Supervisor | Role::Admin))
    }

    pub fn role_label(&self) -> &'static str {
        let Some(u) = &self.user else { return "" };
        role_label(u.role, self.lang)
    }
}

pub fn role_label(role: Role, lang: Lang) -> &'static str {
    let (vi, en) = match role {
        Role::Citizen => ("Công dân", "Citizen"),
        Role::Clerk => ("Cán bộ một cửa", "Clerk"),
        Role::UnitHead => ("Lãnh đạo đơn vị", "Unit head"),
        Role::Supervisor => ("Giám sát", "Supervisor"),
        Role::ProvinceAdmin => ("Quản trị tỉnh", "Province administrator"),
        Role::Integrator => ("Hệ thống kết nối", "Integrator"),
        Role::Admin => ("Quản trị", "Administrator"),
    };
    if lang == Lang::En {
        en
    } else {
        vi
    }
}

pub use crate::domain::display::{date, date_time, vnd};

/// A `datetime-local` field's value (`2026-12-03T14:05`), read as Vietnam's wall-clock time.
pub fn parse_local(v: &str) -> Option<DateTime<Utc>> {
    let naive = chrono::NaiveDateTime::parse_from_str(v.trim(), "%Y-%m-%dT%H:%M").ok()?;
    vn_offset()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

pub fn opt_date_time(t: Option<DateTime<Utc>>) -> String {
    t.map(date_time).unwrap_or_else(|| "—".into())
}

/// A whole number with `.` thousands separators.
pub fn count(n: u64) -> String {
    let s = vnd(n as i64);
    s.trim_end_matches(" ₫").to_string()
}

/// Working time as `2 ngày 3 giờ` / `2 d 3 h` (a working day being `secs_per_day`), with
/// minutes when under an hour; negative durations are written as their size (the caller says
/// "overdue").
pub fn working_duration(secs: i64, secs_per_day: i64, lang: Lang) -> String {
    let secs = secs.unsigned_abs() as i64;
    let days = secs / secs_per_day.max(1);
    let rest = secs % secs_per_day.max(1);
    let hours = rest / 3600;
    let minutes = (rest % 3600) / 60;
    let (d, h, m) = match lang {
        Lang::Vi => ("ngày", "giờ", "phút"),
        Lang::En => ("d", "h", "min"),
    };
    match (days, hours) {
        (0, 0) => format!("{minutes} {m}"),
        (0, _) => format!("{hours} {h} {minutes} {m}"),
        (_, 0) => format!("{days} {d}"),
        _ => format!("{days} {d} {hours} {h}"),
    }
}

/// A file size for people: `820 KB`, `12,4 MB` (Vietnamese decimal comma).
pub fn file_size(bytes: i64) -> String {
    let b = bytes.max(0) as u64;
    if b < 1024 {
        format!("{b} B")
    } else if b < 1024 * 1024 {
        format!("{} KB", count(b.div_ceil(1024)))
    } else {
        format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)).replace('.', ",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn vietnamese_formats() {
        assert_eq!(vnd(1_250_000), "1.250.000 ₫");
        assert_eq!(vnd(500), "500 ₫");
        assert_eq!(vnd(1000), "1.000 ₫");
        assert_eq!(count(1234567), "1.234.567");
        let t = Utc.with_ymd_and_hms(2026, 12, 3, 17, 5, 0).unwrap();
        // 17:05 UTC is 00:05 on the next day in Hà Nội.
        assert_eq!(date_time(t), "04/12/2026 00:05");
        assert_eq!(date(t), "04/12/2026");
        assert_eq!(
            working_duration(8 * 3600 * 2 + 3 * 3600, 8 * 3600, Lang::Vi),
            "2 ngày 3 giờ"
        );
        assert_eq!(working_duration(-1800, 8 * 3600, Lang::En), "30 min");
    }
}
