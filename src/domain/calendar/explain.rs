//! Structured explanations of a deadline, rendered as full sentences in
//! Vietnamese or English, with local times (Asia/Ho_Chi_Minh) shown as
//! `dd/mm/yyyy HH:MM`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

use super::deadline::TimeLimit;
use super::holidays::{weekday_en, weekday_vi, DayOff};
use super::vn_offset;

pub use crate::domain::lang::Lang;

/// Why the clock did not start at the receipt instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StartReason {
    /// Received on a working day before opening time.
    BeforeOpening,
    /// Received between two segments (the midday break).
    Break,
    /// Received on a working day after closing time.
    AfterClosing,
    /// Received on an ordinary Saturday or Sunday.
    Weekend,
    /// Received on a named day off.
    DayOff { name_vi: String, name_en: String },
}

/// Why a same-day dossier is due the next working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextDayReason {
    /// Received at or after the cut-off (15:00).
    AfterCutoff,
    /// Received on a day that is not a working day.
    NonWorkingDay,
}

/// One step of the reasoning behind a deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Explanation {
    /// Received during working time: the clock starts at receipt.
    ClockStartsAtReceipt { received_at: DateTime<Utc> },
    /// Received outside working time: the clock starts later.
    ClockStartMoved {
        received_at: DateTime<Utc>,
        clock_start: DateTime<Utc>,
        reason: StartReason,
    },
    /// The time limit in working time.
    Limit {
        limit: TimeLimit,
        working_secs: i64,
        secs_per_day: i64,
    },
    /// A limit in calendar days (Civil Code 2015 arts. 147–148).
    CalendarDays {
        days: u32,
        /// The period's last day.
        last_date: NaiveDate,
        /// The day it ends: the last day, or the next working day when that is off.
        due_date: NaiveDate,
    },
    /// The same-day rule.
    SameDay {
        received_at: DateTime<Utc>,
        cutoff: NaiveTime,
        /// The day the result is due.
        due_date: NaiveDate,
        /// `None` when due the same day.
        next_day: Option<NextDayReason>,
    },
    /// Named days off and ordinary weekend days between receipt and the due
    /// date, which are not counted.
    DaysOffSkipped {
        days: Vec<DayOff>,
        weekend_days: u32,
    },
    /// Make-up working Saturdays (or Sundays) in the period, which count.
    WorkingWeekendDays { dates: Vec<NaiveDate> },
    /// The result.
    Due { due_at: DateTime<Utc> },
}

fn local(t: DateTime<Utc>) -> DateTime<chrono::FixedOffset> {
    t.with_timezone(&vn_offset())
}

/// "thứ Ba, 10/03/2026 18:20" / "Tuesday 10/03/2026 18:20", local time.
fn at(t: DateTime<Utc>, lang: Lang) -> String {
    let l = local(t);
    format!(
        "{} {}",
        day_prefix(l.date_naive(), lang),
        l.format("%d/%m/%Y %H:%M")
    )
}

/// "thứ Hai, 16/02/2026" / "Monday 16/02/2026".
fn day(d: NaiveDate, lang: Lang) -> String {
    format!("{} {}", day_prefix(d, lang), d.format("%d/%m/%Y"))
}

fn day_prefix(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("{},", weekday(d, lang)),
        Lang::En => weekday(d, lang).to_owned(),
    }
}

fn weekday(d: NaiveDate, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => weekday_vi(d.weekday()),
        Lang::En => weekday_en(d.weekday()),
    }
}

/// A duration of working time: "24 giờ", "7 giờ 30 phút" / "24 hours".
pub(super) fn duration(secs: i64, lang: Lang) -> String {
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    match lang {
        Lang::Vi => match (h, m) {
            (h, 0) => format!("{h} giờ"),
            (0, m) => format!("{m} phút"),
            (h, m) => format!("{h} giờ {m} phút"),
        },
        Lang::En => {
            let hs = if h == 1 { "hour" } else { "hours" };
            let ms = if m == 1 { "minute" } else { "minutes" };
            match (h, m) {
                (h, 0) => format!("{h} {hs}"),
                (0, m) => format!("{m} {ms}"),
                (h, m) => format!("{h} {hs} {m} {ms}"),
            }
        }
    }
}

impl Explanation {
    /// One or two full sentences.
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::ClockStartsAtReceipt { received_at }, Lang::Vi) => format!(
                "Hồ sơ được tiếp nhận vào {}, trong giờ làm việc, nên thời hạn được tính từ thời điểm tiếp nhận.",
                at(*received_at, lang)
            ),
            (Self::ClockStartsAtReceipt { received_at }, Lang::En) => format!(
                "The dossier was received on {}, during working hours, so the time limit runs from the moment of receipt.",
                at(*received_at, lang)
            ),
            (
                Self::ClockStartMoved {
                    received_at,
                    clock_start,
                    reason,
                },
                Lang::Vi,
            ) => {
                let why = match reason {
                    StartReason::BeforeOpening => "trước giờ làm việc".to_owned(),
                    StartReason::Break => "trong giờ nghỉ giữa ca".to_owned(),
                    StartReason::AfterClosing => "sau giờ làm việc".to_owned(),
                    StartReason::Weekend => "vào ngày nghỉ cuối tuần".to_owned(),
                    StartReason::DayOff { name_vi, .. } => format!("vào ngày nghỉ {name_vi}"),
                };
                format!(
                    "Hồ sơ được tiếp nhận vào {}, {why}, nên thời hạn bắt đầu được tính từ {}.",
                    at(*received_at, lang),
                    at(*clock_start, lang)
                )
            }
            (
                Self::ClockStartMoved {
                    received_at,
                    clock_start,
                    reason,
                },
                Lang::En,
            ) => {
                let why = match reason {
                    StartReason::BeforeOpening => "before office hours".to_owned(),
                    StartReason::Break => "during the midday break".to_owned(),
                    StartReason::AfterClosing => "after office hours".to_owned(),
                    StartReason::Weekend => "on a weekend".to_owned(),
                    StartReason::DayOff { name_en, .. } => format!("on a day off ({name_en})"),
                };
                format!(
                    "The dossier was received on {}, {why}, so the clock starts on {}.",
                    at(*received_at, lang),
                    at(*clock_start, lang)
                )
            }
            (
                Self::Limit {
                    limit,
                    working_secs,
                    secs_per_day,
                },
                _,
            ) => match (limit, lang) {
                (TimeLimit::WorkingDays(n), Lang::Vi) => format!(
                    "Thời hạn giải quyết là {n} ngày làm việc, tức {} làm việc ({} mỗi ngày làm việc).",
                    duration(*working_secs, lang),
                    duration(*secs_per_day, lang)
                ),
                (TimeLimit::WorkingDays(n), Lang::En) => format!(
                    "The time limit is {n} working {}, that is {} of working time ({} per working day).",
                    if *n == 1 { "day" } else { "days" },
                    duration(*working_secs, lang),
                    duration(*secs_per_day, lang)
                ),
                (TimeLimit::WorkingHours(_), Lang::Vi) => format!(
                    "Thời hạn giải quyết là {} làm việc.",
                    duration(*working_secs, lang)
                ),
                (TimeLimit::WorkingHours(_), Lang::En) => format!(
                    "The time limit is {} of working time.",
                    duration(*working_secs, lang)
                ),
                (TimeLimit::CalendarDays(n), Lang::Vi) => format!("Thời hạn giải quyết là {n} ngày."),
                (TimeLimit::CalendarDays(n), Lang::En) => format!("The time limit is {n} days."),
                (TimeLimit::SameDay, Lang::Vi) => "Thủ tục được giải quyết trong ngày.".to_owned(),
                (TimeLimit::SameDay, Lang::En) => "The procedure is a same-day procedure.".to_owned(),
            },
            (
                Self::CalendarDays {
                    days,
                    last_date,
                    due_date,
                },
                Lang::Vi,
            ) => {
                let mut s = format!(
                    "Thời hạn giải quyết là {days} ngày theo lịch (không phải ngày làm việc), tính từ ngày tiếp theo ngày tiếp nhận (Bộ luật Dân sự 2015, Điều 147): ngày cuối cùng là {}.",
                    day(*last_date, lang)
                );
                if due_date != last_date {
                    s.push_str(&format!(
                        " Ngày đó là ngày nghỉ nên thời hạn kết thúc vào cuối ngày làm việc tiếp theo, {} (Điều 148 khoản 5).",
                        day(*due_date, lang)
                    ));
                }
                s
            }
            (
                Self::CalendarDays {
                    days,
                    last_date,
                    due_date,
                },
                Lang::En,
            ) => {
                let mut s = format!(
                    "The time limit is {days} calendar days (not working days), counted from the day after receipt (Civil Code 2015, Art. 147): the last day is {}.",
                    day(*last_date, lang)
                );
                if due_date != last_date {
                    s.push_str(&format!(
                        " That day is a day off, so the period ends at the close of the next working day, {} (Art. 148(5)).",
                        day(*due_date, lang)
                    ));
                }
                s
            }
            (
                Self::SameDay {
                    cutoff,
                    due_date,
                    next_day,
                    ..
                },
                Lang::Vi,
            ) => {
                let c = cutoff.format("%H:%M");
                match next_day {
                    None => format!(
                        "Thủ tục giải quyết trong ngày: hồ sơ được tiếp nhận trong ngày làm việc, trước {c}, nên được trả kết quả ngay trong ngày ({}).",
                        day(*due_date, lang)
                    ),
                    Some(NextDayReason::AfterCutoff) => format!(
                        "Thủ tục giải quyết trong ngày: hồ sơ tiếp nhận từ {c} trở đi được trả kết quả vào ngày làm việc tiếp theo, tức {}.",
                        day(*due_date, lang)
                    ),
                    Some(NextDayReason::NonWorkingDay) => format!(
                        "Thủ tục giải quyết trong ngày: hồ sơ tiếp nhận vào ngày không làm việc được trả kết quả vào ngày làm việc tiếp theo, tức {}.",
                        day(*due_date, lang)
                    ),
                }
            }
            (
                Self::SameDay {
                    cutoff,
                    due_date,
                    next_day,
                    ..
                },
                Lang::En,
            ) => {
                let c = cutoff.format("%H:%M");
                match next_day {
                    None => format!(
                        "Same-day procedure: the dossier was received on a working day before {c}, so the result is due the same day, {}.",
                        day(*due_date, lang)
                    ),
                    Some(NextDayReason::AfterCutoff) => format!(
                        "Same-day procedure: a dossier received at or after {c} is returned on the next working day, {}.",
                        day(*due_date, lang)
                    ),
                    Some(NextDayReason::NonWorkingDay) => format!(
                        "Same-day procedure: a dossier received on a non-working day is returned on the next working day, {}.",
                        day(*due_date, lang)
                    ),
                }
            }
            (Self::DaysOffSkipped { days, weekend_days }, _) => {
                let list = days
                    .iter()
                    .map(|d| {
                        let name = match lang {
                            Lang::Vi => &d.name_vi,
                            Lang::En => &d.name_en,
                        };
                        format!("{} – {name}", day(d.date, lang))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut s = String::new();
                match (lang, days.is_empty(), *weekend_days) {
                    (Lang::Vi, false, 0) => {
                        let _ = write!(s, "Các ngày nghỉ sau không được tính: {list}.");
                    }
                    (Lang::Vi, false, w) => {
                        let _ = write!(
                            s,
                            "Các ngày nghỉ sau không được tính: {list}; cùng {w} ngày nghỉ cuối tuần."
                        );
                    }
                    (Lang::Vi, true, w) => {
                        let _ = write!(s, "{w} ngày nghỉ cuối tuần không được tính.");
                    }
                    (Lang::En, false, 0) => {
                        let _ = write!(s, "These days off are not counted: {list}.");
                    }
                    (Lang::En, false, w) => {
                        let _ = write!(
                            s,
                            "These days off are not counted: {list}; nor are {w} weekend {}.",
                            if w == 1 { "day" } else { "days" }
                        );
                    }
                    (Lang::En, true, w) => {
                        let _ = write!(
                            s,
                            "{w} weekend {} not counted.",
                            if w == 1 { "day is" } else { "days are" }
                        );
                    }
                }
                s
            }
            (Self::WorkingWeekendDays { dates }, Lang::Vi) => {
                let list = dates.iter().map(|d| day(*d, lang)).collect::<Vec<_>>().join(", ");
                format!("Ngày làm việc bù được tính như ngày làm việc bình thường: {list}.")
            }
            (Self::WorkingWeekendDays { dates }, Lang::En) => {
                let list = dates.iter().map(|d| day(*d, lang)).collect::<Vec<_>>().join(", ");
                format!("Make-up working days count as ordinary working days: {list}.")
            }
            (Self::Due { due_at }, Lang::Vi) => {
                format!("Hạn giải quyết: {} (giờ Việt Nam).", at(*due_at, lang))
            }
            (Self::Due { due_at }, Lang::En) => {
                format!("Due: {} (Vietnam time).", at(*due_at, lang))
            }
        }
    }
}

/// Renders a list of explanations as one paragraph.
pub fn render_all(explanation: &[Explanation], lang: Lang) -> String {
    explanation
        .iter()
        .map(|e| e.render(lang))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(24 * 3600, Lang::Vi), "24 giờ");
        assert_eq!(duration(7 * 3600 + 1800, Lang::Vi), "7 giờ 30 phút");
        assert_eq!(duration(1800, Lang::En), "30 minutes");
        assert_eq!(duration(3600, Lang::En), "1 hour");
    }
}
