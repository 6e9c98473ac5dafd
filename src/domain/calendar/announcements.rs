//! Yearly civil-service schedule announcements (data, not code).
//!
//! Each year the government announces which days around Tết and National Day
//! are off, swapped days and make-up working Saturdays. They live in
//! `config/calendar/{year}.toml` (shipped) and in the database (posted by
//! admins at run time, as the same [`YearAnnouncement`] struct in JSON).
//!
//! # Format
//!
//! ```toml
//! year = 2026                       # must match the file name
//!
//! [tet]                             # optional: replaces the rule-derived 5 Tết days
//! days = ["2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"]
//! source = "Thông báo 9441/TB-BNV"
//!
//! [national_day]                    # optional: replaces the rule-derived day next to 2 Sep
//! adjacent = "2026-09-01"           # 1 or 3 September
//! source = "Thông báo 9441/TB-BNV"
//!
//! [[day_off]]                       # extra day off (kind defaults to "announced")
//! date = "2026-11-23"
//! name_vi = "…"
//! name_en = "…"
//! kind = "announced"                # or "holiday" / "compensatory"
//! source = "…"
//!
//! [[swap]]                          # a working weekday becomes off, a weekend day is worked
//! off = "2026-01-02"
//! work = "2026-01-10"
//! source = "Công văn 12729/VPCP-KGVX"
//!
//! [[working_day]]                   # a make-up working Saturday/Sunday without a paired day
//! date = "…"
//! source = "…"
//!
//! [[cancel]]                        # removes a rule-derived day off (e.g. a moved make-up day)
//! date = "…"
//! source = "…"
//! ```
//!
//! Dates are quoted ISO strings (`"YYYY-MM-DD"`). Unknown keys are rejected.
//! Every date must fall in `year`, except a swap's `work` day, which may fall
//! in the adjacent year (2015's 2 January was swapped for 27 December 2014).
//! Every entry names its `source` (the notice number).

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::holidays::DayOffKind;
use super::lunar;

/// Why an announcement was rejected.
#[derive(Debug, thiserror::Error)]
pub enum AnnouncementError {
    /// Syntax, type, unknown key, missing key or malformed date; the message
    /// carries the line and column.
    #[error("invalid announcement: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("announcement is for year {found}, expected {expected}")]
    WrongYear { expected: i32, found: i32 },
    #[error("{field} {date} is not in year {year}")]
    DateOutsideYear {
        field: &'static str,
        date: NaiveDate,
        year: i32,
    },
    #[error("{field} {date} is a {weekday:?}: {expected}")]
    WrongWeekday {
        field: &'static str,
        date: NaiveDate,
        weekday: Weekday,
        expected: &'static str,
    },
    #[error("[tet] must list 5 distinct days within 10 days of Tết ({tet}): {reason}")]
    TetDays { tet: NaiveDate, reason: String },
    #[error("[national_day] adjacent {date} must be 1 or 3 September {year}")]
    NationalDay { date: NaiveDate, year: i32 },
    #[error("{date} is listed twice ({first} and {second})")]
    Duplicate {
        date: NaiveDate,
        first: &'static str,
        second: &'static str,
    },
    #[error("{field} {date}: `source` must name the notice")]
    MissingSource {
        field: &'static str,
        date: NaiveDate,
    },
    #[error("{field} {date}: `name_vi` and `name_en` must not be empty")]
    MissingName {
        field: &'static str,
        date: NaiveDate,
    },
}

/// The five Tết days as the announcement fixes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TetDays {
    pub days: Vec<NaiveDate>,
    pub source: String,
}

/// The day next to 2 September as the announcement fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalDayChoice {
    pub adjacent: NaiveDate,
    pub source: String,
}

/// An extra day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnouncedDayOff {
    pub date: NaiveDate,
    pub name_vi: String,
    pub name_en: String,
    #[serde(default = "announced_kind")]
    pub kind: DayOffKind,
    pub source: String,
}

fn announced_kind() -> DayOffKind {
    DayOffKind::Announced
}

/// A working weekday made a day off in exchange for a weekend day worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Swap {
    pub off: NaiveDate,
    pub work: NaiveDate,
    pub source: String,
}

/// A make-up working Saturday (or Sunday) not paired with a day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingDay {
    pub date: NaiveDate,
    pub source: String,
}

/// Removal of a rule-derived day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    pub date: NaiveDate,
    pub source: String,
}

/// One year's announced schedule (one notice, or several merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearAnnouncement {
    pub year: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tet: Option<TetDays>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_day: Option<NationalDayChoice>,
    #[serde(default, rename = "day_off", skip_serializing_if = "Vec::is_empty")]
    pub days_off: Vec<AnnouncedDayOff>,
    #[serde(default, rename = "swap", skip_serializing_if = "Vec::is_empty")]
    pub swaps: Vec<Swap>,
    #[serde(default, rename = "working_day", skip_serializing_if = "Vec::is_empty")]
    pub working_days: Vec<WorkingDay>,
    #[serde(default, rename = "cancel", skip_serializing_if = "Vec::is_empty")]
    pub cancels: Vec<Cancel>,
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl YearAnnouncement {
    /// An empty announcement for `year`.
    pub fn empty(year: i32) -> Self {
        Self {
            year,
            tet: None,
            national_day: None,
            days_off: Vec::new(),
            swaps: Vec::new(),
            working_days: Vec::new(),
            cancels: Vec::new(),
        }
    }

    /// Parses and validates a TOML announcement.
    pub fn parse(s: &str) -> Result<Self, AnnouncementError> {
        let a: Self = toml::from_str(s)?;
        a.validate()?;
        Ok(a)
    }

    /// Parses, validates and checks that the announcement is for `year`
    /// (the year its file is named after).
    pub fn parse_for_year(s: &str, year: i32) -> Result<Self, AnnouncementError> {
        let a = Self::parse(s)?;
        if a.year != year {
            return Err(AnnouncementError::WrongYear {
                expected: year,
                found: a.year,
            });
        }
        Ok(a)
    }

    /// Checks dates, weekdays, sources and duplicates. Run it on
    /// announcements that come from the database or an API too.
    pub fn validate(&self) -> Result<(), AnnouncementError> {
        let year = self.year;
        let in_year = |field: &'static str, date: NaiveDate| {
            if date.year() == year {
                Ok(())
            } else {
                Err(AnnouncementError::DateOutsideYear { field, date, year })
            }
        };
        let sourced = |field: &'static str, date: NaiveDate, source: &str| {
            if source.trim().is_empty() {
                Err(AnnouncementError::MissingSource { field, date })
            } else {
                Ok(())
            }
        };
        // Each date may appear once among the days made off and once among
        // the days made working.
        let mut off: Vec<(NaiveDate, &'static str)> = Vec::new();
        let mut work: Vec<(NaiveDate, &'static str)> = Vec::new();

        if let Some(tet) = &self.tet {
            let computed = lunar::tet(year);
            let fail = |reason: String| AnnouncementError::TetDays {
                tet: computed,
                reason,
            };
            let distinct: BTreeSet<_> = tet.days.iter().collect();
            if tet.days.len() != 5 || distinct.len() != 5 {
                return Err(fail(format!("{} days listed", tet.days.len())));
            }
            for &d in &tet.days {
                in_year("tet.days", d)?;
                if (d - computed).num_days().abs() > 10 {
                    return Err(fail(format!("{d} is too far from Tết")));
                }
                off.push((d, "tet.days"));
            }
            sourced("tet", tet.days[0], &tet.source)?;
        }
        if let Some(nd) = &self.national_day {
            let d = nd.adjacent;
            if d.year() != year || d.month() != 9 || !(d.day() == 1 || d.day() == 3) {
                return Err(AnnouncementError::NationalDay { date: d, year });
            }
            sourced("national_day", d, &nd.source)?;
            off.push((d, "national_day.adjacent"));
        }
        for e in &self.days_off {
            in_year("day_off.date", e.date)?;
            sourced("day_off", e.date, &e.source)?;
            if e.name_vi.trim().is_empty() || e.name_en.trim().is_empty() {
                return Err(AnnouncementError::MissingName {
                    field: "day_off",
                    date: e.date,
                });
            }
            off.push((e.date, "day_off.date"));
        }
        for s in &self.swaps {
            in_year("swap.off", s.off)?;
            if (s.work.year() - year).abs() > 1 {
                return Err(AnnouncementError::DateOutsideYear {
                    field: "swap.work",
                    date: s.work,
                    year,
                });
            }
            if is_weekend(s.off) {
                return Err(AnnouncementError::WrongWeekday {
                    field: "swap.off",
                    date: s.off,
                    weekday: s.off.weekday(),
                    expected: "the day made off must be a working weekday",
                });
            }
            if !is_weekend(s.work) {
                return Err(AnnouncementError::WrongWeekday {
                    field: "swap.work",
                    date: s.work,
                    weekday: s.work.weekday(),
                    expected: "the make-up working day must be a Saturday or Sunday",
                });
            }
            sourced("swap", s.off, &s.source)?;
            off.push((s.off, "swap.off"));
            work.push((s.work, "swap.work"));
        }
        for w in &self.working_days {
            in_year("working_day.date", w.date)?;
            if !is_weekend(w.date) {
                return Err(AnnouncementError::WrongWeekday {
                    field: "working_day.date",
                    date: w.date,
                    weekday: w.date.weekday(),
                    expected: "a make-up working day must be a Saturday or Sunday",
                });
            }
            sourced("working_day", w.date, &w.source)?;
            work.push((w.date, "working_day.date"));
        }
        for c in &self.cancels {
            in_year("cancel.date", c.date)?;
            sourced("cancel", c.date, &c.source)?;
        }
        for list in [&mut off, &mut work] {
            list.sort();
            for pair in list.windows(2) {
                if pair[0].0 == pair[1].0 {
                    return Err(AnnouncementError::Duplicate {
                        date: pair[0].0,
                        first: pair[0].1,
                        second: pair[1].1,
                    });
                }
            }
        }
        // A day both made off and made working is contradictory.
        for &(d, f) in &work {
            if let Some(&(_, g)) = off.iter().find(|(o, _)| *o == d) {
                return Err(AnnouncementError::Duplicate {
                    date: d,
                    first: g,
                    second: f,
                });
            }
        }
        Ok(())
    }

    /// Merges a later announcement for the same year into this one: a later
    /// `[tet]` or `[national_day]` replaces the earlier one, lists are
    /// appended (exact repeats dropped). The result is validated.
    pub fn merge(&mut self, later: &YearAnnouncement) -> Result<(), AnnouncementError> {
        if later.year != self.year {
            return Err(AnnouncementError::WrongYear {
                expected: self.year,
                found: later.year,
            });
        }
        let mut merged = self.clone();
        if later.tet.is_some() {
            merged.tet.clone_from(&later.tet);
        }
        if later.national_day.is_some() {
            merged.national_day.clone_from(&later.national_day);
        }
        fn append<T: Clone + PartialEq>(into: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !into.contains(x) {
                    into.push(x.clone());
                }
            }
        }
        append(&mut merged.days_off, &later.days_off);
        append(&mut merged.swaps, &later.swaps);
        append(&mut merged.working_days, &later.working_days);
        append(&mut merged.cancels, &later.cancels);
        merged.validate()?;
        *self = merged;
        Ok(())
    }
}

/// Reads every `{year}.toml` in `dir` (other files are ignored), checking
/// each file's `year` against its name. Sorted by year.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<YearAnnouncement>, super::CalendarError> {
    let dir = dir.as_ref();
    let io = |path: PathBuf, source: std::io::Error| super::CalendarError::Io { path, source };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir.to_owned(), e))? {
        let path = entry.map_err(|e| io(dir.to_owned(), e))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let Some(year) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|e| io(path.clone(), e))?;
        let a = YearAnnouncement::parse_for_year(&text, year)
            .map_err(|source| super::CalendarError::File { path, source })?;
        out.push(a);
    }
    out.sort_by_key(|a| a.year);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const OK: &str = r#"
year = 2026
[[swap]]
off = "2026-01-02"
work = "2026-01-10"
source = "Công văn 12729/VPCP-KGVX"
"#;

    #[test]
    fn parses_minimal() {
        let a = YearAnnouncement::parse_for_year(OK, 2026).unwrap();
        assert_eq!(a.swaps[0].off, d(2026, 1, 2));
        assert_eq!(a.swaps[0].work, d(2026, 1, 10));
        // Round trip through TOML and JSON-like serde.
        let back = YearAnnouncement::parse(&toml::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn rejects_bad_date() {
        let err = YearAnnouncement::parse(&OK.replace("2026-01-02", "2026-02-30")).unwrap_err();
        assert!(matches!(err, AnnouncementError::Toml(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("2026-02-30") || msg.contains("line"), "{msg}");
        let err = YearAnnouncement::parse(&OK.replace("2026-01-02", "02/01/2026")).unwrap_err();
        assert!(matches!(err, AnnouncementError::Toml(_)), "{err}");
    }

    #[test]
    fn rejects_wrong_year() {
        // The file is 2025.toml but says 2026.
        let err = YearAnnouncement::parse_for_year(OK, 2025).unwrap_err();
        assert!(
            matches!(
                err,
                AnnouncementError::WrongYear {
                    expected: 2025,
                    found: 2026
                }
            ),
            "{err}"
        );
        // A date of another year inside a 2026 announcement.
        let err = YearAnnouncement::parse(&OK.replace("2026-01-02", "2025-01-03")).unwrap_err();
        assert!(
            matches!(
                err,
                AnnouncementError::DateOutsideYear {
                    field: "swap.off",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn rejects_unknown_key() {
        let err = YearAnnouncement::parse(&format!("{OK}note = \"x\"\n")).unwrap_err();
        assert!(matches!(err, AnnouncementError::Toml(_)));
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = YearAnnouncement::parse(&OK.replace("work =", "wrk =")).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = YearAnnouncement::parse("year = 2026\n[[holiday]]\ndate = \"2026-11-24\"\n")
            .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn rejects_inconsistent_entries() {
        // 3 January 2026 is a Saturday: it cannot be the day made off.
        let err = YearAnnouncement::parse(&OK.replace("2026-01-02", "2026-01-03")).unwrap_err();
        assert!(
            matches!(
                err,
                AnnouncementError::WrongWeekday {
                    field: "swap.off",
                    ..
                }
            ),
            "{err}"
        );
        // 9 January 2026 is a Friday: it cannot be the make-up working day.
        let err = YearAnnouncement::parse(&OK.replace("2026-01-10", "2026-01-09")).unwrap_err();
        assert!(
            matches!(
                err,
                AnnouncementError::WrongWeekday {
                    field: "swap.work",
                    ..
                }
            ),
            "{err}"
        );
        let err =
            YearAnnouncement::parse(&OK.replace("Công văn 12729/VPCP-KGVX", " ")).unwrap_err();
        assert!(
            matches!(err, AnnouncementError::MissingSource { .. }),
            "{err}"
        );
        let tet4 = "year = 2026\n[tet]\ndays = [\"2026-02-16\", \"2026-02-17\", \"2026-02-18\", \"2026-02-19\"]\nsource = \"x\"\n";
        assert!(matches!(
            YearAnnouncement::parse(tet4).unwrap_err(),
            AnnouncementError::TetDays { .. }
        ));
        // A Tết day in March is a typo (Tết 2026 is 17 February).
        let far = tet4.replace("\"2026-02-19\"]", "\"2026-02-19\", \"2026-03-19\"]");
        assert!(matches!(
            YearAnnouncement::parse(&far).unwrap_err(),
            AnnouncementError::TetDays { .. }
        ));
        let nd = "year = 2026\n[national_day]\nadjacent = \"2026-09-04\"\nsource = \"x\"\n";
        assert!(matches!(
            YearAnnouncement::parse(nd).unwrap_err(),
            AnnouncementError::NationalDay { .. }
        ));
        let twice = format!("{OK}[[day_off]]\ndate = \"2026-01-02\"\nname_vi = \"a\"\nname_en = \"b\"\nsource = \"c\"\n");
        assert!(matches!(
            YearAnnouncement::parse(&twice).unwrap_err(),
            AnnouncementError::Duplicate { .. }
        ));
    }

    #[test]
    fn merge_appends_and_replaces() {
        let mut a = YearAnnouncement::parse(OK).unwrap();
        let later = YearAnnouncement::parse(
            "year = 2026\n[national_day]\nadjacent = \"2026-09-01\"\nsource = \"TB 9441\"\n\
             [[swap]]\noff = \"2026-08-31\"\nwork = \"2026-08-22\"\nsource = \"TB 9441\"\n",
        )
        .unwrap();
        a.merge(&later).unwrap();
        a.merge(&later).unwrap(); // idempotent
        assert_eq!(a.swaps.len(), 2);
        assert_eq!(a.national_day.as_ref().unwrap().adjacent, d(2026, 9, 1));
        let other_year = YearAnnouncement::empty(2025);
        assert!(a.merge(&other_year).is_err());
    }
}
