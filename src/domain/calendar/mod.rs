//! The working calendar of Vietnam's civil service: lunar calendar, statutory
//! holidays, yearly announcements, office hours, and the working-time index
//! used to compute legal deadlines (domain.md §3).
//!
//! Pure domain code: no I/O except [`load_dir`], which reads the shipped
//! `config/calendar/{year}.toml` files.
//!
//! ```no_run
//! use motcua::domain::calendar::*;
//! # fn main() -> Result<(), CalendarError> {
//! let announcements = load_dir("config/calendar")?;
//! let holidays = Holidays::build(2000..=2100, &announcements)?;
//! let cal = WorkCalendar::new(&holidays, WorkingHours::default(), 2000..=2100)?;
//! let received = chrono::Utc::now();
//! let due = cal.due_at(received, TimeLimit::WorkingDays(3))?; // fast path
//! let deadline = cal.deadline(received, TimeLimit::WorkingDays(3))?; // with explanation
//! println!("{}", deadline.render(Lang::Vi));
//! # let _ = due; Ok(()) }
//! ```
//!
//! Local time is Asia/Ho_Chi_Minh, a fixed UTC+7 without daylight saving
//! ([`vn_offset`]); no time-zone database is needed.

mod announcements;
mod deadline;
mod explain;
mod holidays;
mod hours;
mod index;
pub mod lunar;

use chrono::{FixedOffset, NaiveDate};
use std::path::PathBuf;

pub use announcements::{
    load_dir, AnnouncedDayOff, AnnouncementError, Cancel, NationalDayChoice, Swap, TetDays,
    WorkingDay, YearAnnouncement,
};
pub use deadline::{Deadline, TimeLimit};
pub use explain::{render_all, Explanation, Lang, NextDayReason, StartReason};
pub use holidays::{
    default_national_day_adjacent, default_tet_days, weekday_en, weekday_vi, year_view, DayOff,
    DayOffKind, Holidays, YearView,
};
pub use hours::WorkingHours;
pub use index::{WorkCalendar, SAME_DAY_CUTOFF};
pub use lunar::{hung_kings_day, lunar_to_solar, solar_to_lunar, tet, LunarDate};

/// Vietnam's UTC offset in seconds (UTC+7, no daylight saving).
pub const VN_OFFSET_SECS: i32 = 7 * 3600;

/// Asia/Ho_Chi_Minh as a fixed offset.
pub fn vn_offset() -> FixedOffset {
    FixedOffset::east_opt(VN_OFFSET_SECS).expect("UTC+7 is a valid offset")
}

/// Errors of the calendar module.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error(transparent)]
    Announcement(#[from] AnnouncementError),
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: AnnouncementError,
    },
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid working hours {input:?}: {reason}")]
    WorkingHours { input: String, reason: String },
    #[error("announcement conflict on {date}: {reason}")]
    Conflict { date: NaiveDate, reason: String },
    #[error("{what} is outside the working calendar's years {first}–{last}")]
    OutOfRange { what: String, first: i32, last: i32 },
    #[error("the holidays cover {have_first}–{have_last}, not the requested {first}–{last}")]
    RangeNotCovered {
        first: i32,
        last: i32,
        have_first: i32,
        have_last: i32,
    },
    #[error("ratio {0} is not between 0 and 1")]
    InvalidRatio(f64),
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    /// 2024–2027 with the shipped 2025 and 2026 announcements and the
    /// default office hours.
    pub fn cal() -> WorkCalendar {
        let anns = [
            YearAnnouncement::parse_for_year(
                include_str!("../../../config/calendar/2025.toml"),
                2025,
            )
            .unwrap(),
            YearAnnouncement::parse_for_year(
                include_str!("../../../config/calendar/2026.toml"),
                2026,
            )
            .unwrap(),
        ];
        let h = Holidays::build(2024..=2027, &anns).unwrap();
        WorkCalendar::new(&h, WorkingHours::default(), 2024..=2027).unwrap()
    }

    /// A local (UTC+7) wall-clock time as an instant.
    pub fn vn(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> DateTime<Utc> {
        vn_offset()
            .with_ymd_and_hms(y, m, d, hh, mm, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_files_load() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendar");
        let anns = load_dir(dir).unwrap();
        assert_eq!(
            anns.iter().map(|a| a.year).collect::<Vec<_>>(),
            vec![2025, 2026]
        );
        let h = Holidays::build(2000..=2100, &anns).unwrap();
        let cal = WorkCalendar::new(&h, WorkingHours::default(), 2000..=2100).unwrap();
        assert_eq!(cal.years(), 2000..=2100);
    }

    #[test]
    fn load_dir_reports_the_file() {
        let dir = std::env::temp_dir().join(format!("motcua-cal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("2027.toml"), "year = 2026\n").unwrap();
        std::fs::write(dir.join("README.md"), "ignored").unwrap();
        let err = load_dir(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            &err,
            CalendarError::File {
                source: AnnouncementError::WrongYear {
                    expected: 2027,
                    found: 2026
                },
                ..
            }
        ));
        assert!(err.to_string().contains("2027.toml"), "{err}");
    }
}
