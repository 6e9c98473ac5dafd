//! Legal deadlines: time limits in working time, the same-day rule, pauses
//! and at-risk instants.
//!
//! * The clock starts at the receipt instant, or at the next working instant
//!   if the dossier was received outside working time.
//! * `WorkingDays(n)` is `n ×` the unit's working seconds per day, counted
//!   from the clock start; `WorkingHours(h)` is `h` hours. The due instant is
//!   where the last working second ends (a limit that ends with the working
//!   day is due at 17:00, not at 07:30 the next day).
//! * `SameDay`: received on a working day before the cut-off (15:00 local) →
//!   due at the end of that working day; at or after the cut-off, or on a
//!   non-working day → due at the end of the next working day.
//!
//! [`WorkCalendar::due_at`] is the fast path (no allocation);
//! [`WorkCalendar::deadline`] adds the explanation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::explain::{render_all, Explanation, Lang, NextDayReason, StartReason};
use super::holidays::is_weekend;
use super::index::WorkCalendar;
use super::CalendarError;

/// A procedure's legal time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeLimit {
    /// Hours of working time.
    WorkingHours(u32),
    /// Working days, each worth the unit's hours per day.
    WorkingDays(u32),
    /// Same day, or next working day when received at or after the cut-off.
    SameDay,
    /// Days of the calendar (`ngày`, not `ngày làm việc`), counted as the Civil Code 2015
    /// counts periods: from the day after receipt (Art. 147(2)), ending with the last day
    /// (Art. 148(1)), or with the next working day when that is a day off (Art. 148(5)).
    /// An office's day ends when it closes.
    CalendarDays(u32),
}

/// A computed deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    pub due_at: DateTime<Utc>,
    pub clock_start: DateTime<Utc>,
    pub explanation: Vec<Explanation>,
}

impl Deadline {
    /// The explanation as one paragraph.
    pub fn render(&self, lang: Lang) -> String {
        render_all(&self.explanation, lang)
    }
}

impl WorkCalendar {
    /// The clock start for a dossier received at `received_at`: that instant
    /// if inside working time, else the next working instant.
    #[inline]
    pub fn clock_start(&self, received_at: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        self.next_working_instant(received_at)
    }

    /// The due instant, without explanation (the fast path for bulk jobs).
    #[inline]
    pub fn due_at(
        &self,
        received_at: DateTime<Utc>,
        limit: TimeLimit,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let ts = self.check(received_at)?;
        let secs = match limit {
            TimeLimit::WorkingHours(h) => i64::from(h) * 3600,
            TimeLimit::WorkingDays(n) => i64::from(n) * self.secs_per_day(),
            TimeLimit::SameDay => {
                let (due_day, _) = self.same_day(ts)?;
                return Ok(Self::instant(self.ts_of(due_day, self.hours().closing())));
            }
            TimeLimit::CalendarDays(n) => {
                let (_, due_day) = self.calendar_days(ts, n)?;
                return Ok(Self::instant(self.ts_of(due_day, self.hours().closing())));
            }
        };
        let off = self.offset_ts(ts);
        let found = if secs == 0 {
            self.ts_at_offset_start(off)
        } else {
            self.ts_at_offset_end(off + secs)
        };
        found
            .map(Self::instant)
            .ok_or_else(|| self.out_of_range(format_args!("{limit:?} from {received_at}")))
    }

    /// The same-day rule: (due day index, reason if the next working day).
    fn same_day(&self, ts: i64) -> Result<(usize, Option<NextDayReason>), CalendarError> {
        let (day, sod) = self.split(ts);
        let day = day as usize; // checked by the caller
        let reason = if !self.day_is_working(day) {
            NextDayReason::NonWorkingDay
        } else if sod >= self.same_day_cutoff_secs() {
            NextDayReason::AfterCutoff
        } else {
            return Ok((day, None));
        };
        let next = self
            .next_working_day_index(day)
            .ok_or_else(|| self.out_of_range("the next working day"))?;
        Ok((next, Some(reason)))
    }

    /// A period of `n` calendar days from the day of `ts`: (its last day, the day it ends:
    /// the last day, or the next working day when the last day is off).
    fn calendar_days(&self, ts: i64, n: u32) -> Result<(usize, usize), CalendarError> {
        let (day, _) = self.split(ts);
        let last = day as usize + n as usize;
        if last >= self.days() {
            return Err(self.out_of_range(format_args!("{n} days")));
        }
        if self.day_is_working(last) {
            return Ok((last, last));
        }
        let next = self
            .next_working_day_index(last)
            .ok_or_else(|| self.out_of_range("the next working day"))?;
        Ok((last, next))
    }

    fn same_day_cutoff_secs(&self) -> u32 {
        chrono::Timelike::num_seconds_from_midnight(&self.same_day_cutoff())
    }

    /// The deadline with its explanation.
    pub fn deadline(
        &self,
        received_at: DateTime<Utc>,
        limit: TimeLimit,
    ) -> Result<Deadline, CalendarError> {
        let ts = self.check(received_at)?;
        let received = Self::instant(ts); // whole seconds
        let clock_start = self.next_working_instant(received)?;
        let due_at = self.due_at(received, limit)?;
        let mut explanation = Vec::new();

        if clock_start == received {
            explanation.push(Explanation::ClockStartsAtReceipt {
                received_at: received,
            });
        } else {
            let (day, sod) = self.split(ts);
            let date = self.date_of(day as usize);
            let reason = if let Some(off) = self.holidays().day_off(date) {
                StartReason::DayOff {
                    name_vi: off.name_vi.clone(),
                    name_en: off.name_en.clone(),
                }
            } else if !self.day_is_working(day as usize) {
                StartReason::Weekend
            } else if sod < self.hours().opening() {
                StartReason::BeforeOpening
            } else if sod >= self.hours().closing() {
                StartReason::AfterClosing
            } else {
                StartReason::Break
            };
            explanation.push(Explanation::ClockStartMoved {
                received_at: received,
                clock_start,
                reason,
            });
        }

        let working_secs = match limit {
            TimeLimit::WorkingHours(h) => i64::from(h) * 3600,
            TimeLimit::WorkingDays(n) => i64::from(n) * self.secs_per_day(),
            TimeLimit::SameDay | TimeLimit::CalendarDays(_) => {
                self.working_secs_between(clock_start, due_at)
            }
        };
        if let TimeLimit::CalendarDays(days) = limit {
            let (last, due_day) = self.calendar_days(ts, days)?;
            explanation.push(Explanation::CalendarDays {
                days,
                last_date: self.date_of(last),
                due_date: self.date_of(due_day),
            });
        } else if let TimeLimit::SameDay = limit {
            let (due_day, next_day) = self.same_day(ts)?;
            explanation.push(Explanation::SameDay {
                received_at: received,
                cutoff: self.same_day_cutoff(),
                due_date: self.date_of(due_day),
                next_day,
            });
        } else {
            explanation.push(Explanation::Limit {
                limit,
                working_secs,
                secs_per_day: self.secs_per_day(),
            });
        }

        // Days between the receipt date and the due date.
        let local = |t: DateTime<Utc>| t.with_timezone(&super::vn_offset()).date_naive();
        let (first, last) = (local(received), local(due_at));
        let mut days = Vec::new();
        let mut weekend_days = 0;
        let mut working_weekend = Vec::new();
        let mut d = first;
        while d <= last {
            if let Some(off) = self.holidays().day_off(d) {
                days.push(off.clone());
            } else if is_weekend(d) {
                if self.holidays().is_working_saturday(d) {
                    working_weekend.push(d);
                } else {
                    weekend_days += 1;
                }
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        if !days.is_empty() || weekend_days > 0 {
            explanation.push(Explanation::DaysOffSkipped { days, weekend_days });
        }
        if !working_weekend.is_empty() {
            explanation.push(Explanation::WorkingWeekendDays {
                dates: working_weekend,
            });
        }
        explanation.push(Explanation::Due { due_at });
        Ok(Deadline {
            due_at,
            clock_start,
            explanation,
        })
    }

    /// Moves a due instant later by `paused_working_secs` of working time
    /// (e.g. the time a supplement request paused the clock). From a due
    /// instant at closing time, one more hour ends at 08:30 the next working
    /// day. `paused_working_secs <= 0` leaves it unchanged.
    pub fn extend_due(
        &self,
        due_at: DateTime<Utc>,
        paused_working_secs: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if paused_working_secs <= 0 {
            return Ok(due_at);
        }
        self.check(due_at)?;
        let off = self.offset_ts(due_at.timestamp());
        self.ts_at_offset_end(off + paused_working_secs)
            .map(Self::instant)
            .ok_or_else(|| self.out_of_range(format_args!("{due_at} + {paused_working_secs} s")))
    }

    /// The due instant after a pause from `paused_at` to `resumed_at`: the
    /// working time of the pause (weekends, holidays and nights excluded) is
    /// added to `due_at`.
    pub fn due_after_pause(
        &self,
        due_at: DateTime<Utc>,
        paused_at: DateTime<Utc>,
        resumed_at: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, CalendarError> {
        self.extend_due(due_at, self.working_secs_between(paused_at, resumed_at))
    }

    /// The instant when `ratio` (0.0–1.0, e.g. 0.75) of the working time
    /// between the clock start and `due_at` has been spent (rounded up to
    /// the second). Ratio 0 gives the clock start.
    pub fn at_risk_at(
        &self,
        received_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        ratio: f64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if !(0.0..=1.0).contains(&ratio) {
            return Err(CalendarError::InvalidRatio(ratio));
        }
        let ts = self.check(received_at)?;
        let start = self.offset_ts(ts);
        let total = (self.offset_ts(due_at.timestamp()) - start).max(0);
        let spent = (total as f64 * ratio).ceil() as i64;
        let found = if spent == 0 {
            self.ts_at_offset_start(start)
        } else {
            self.ts_at_offset_end(start + spent)
        };
        found
            .map(Self::instant)
            .ok_or_else(|| self.out_of_range(format_args!("{ratio} of the way to {due_at}")))
    }

    /// Renders a deadline's explanation (convenience for [`Deadline::render`]).
    pub fn explain(&self, deadline: &Deadline, lang: Lang) -> String {
        deadline.render(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::*;
    use super::*;
    use chrono::Duration;

    // All expected values below are worked out by hand from the calendar:
    // office hours 07:30–11:30 and 13:00–17:00 (8 h a day), the 2025 and 2026
    // announcements (config/calendar) and the rules.

    #[test]
    fn friday_afternoon_rolls_over_the_weekend() {
        let c = cal();
        // Fri 6 Mar 2026 16:00, 1 working day = 8 h: 1 h Friday (16–17),
        // then Mon 9 Mar: 4 h morning (07:30–11:30) + 3 h afternoon → 16:00.
        let d = c
            .deadline(vn(2026, 3, 6, 16, 0), TimeLimit::WorkingDays(1))
            .unwrap();
        assert_eq!(d.clock_start, vn(2026, 3, 6, 16, 0));
        assert_eq!(d.due_at, vn(2026, 3, 9, 16, 0));
        let vi = d.render(Lang::Vi);
        assert!(vi.contains("2 ngày nghỉ cuối tuần"), "{vi}");
        assert!(vi.contains("thứ Hai, 09/03/2026 16:00"), "{vi}");
        let en = d.render(Lang::En);
        assert!(
            en.contains("Due: Monday 09/03/2026 16:00 (Vietnam time)."),
            "{en}"
        );
        // 2 working hours from Fri 16:00: 1 h Friday, 1 h Monday → 08:30.
        assert_eq!(
            c.due_at(vn(2026, 3, 6, 16, 0), TimeLimit::WorkingHours(2))
                .unwrap(),
            vn(2026, 3, 9, 8, 30)
        );
    }

    /// Civil Code 2015 arts. 147(2), 148(1) and 148(5): a period in days runs from the day
    /// after receipt, ends with its last day, and moves to the next working day's end when
    /// that day is off. 10 days from Thu 19 Nov 2026 end on Sun 29 Nov → Mon 30 Nov 17:00;
    /// 15 days from Mon 9 Nov end on Tue 24 Nov (Culture Day, in 2026's data) → Wed 25 Nov.
    #[test]
    fn calendar_days_as_the_civil_code_counts_them() {
        let c = cal();
        let d = c
            .deadline(vn(2026, 11, 19, 10, 0), TimeLimit::CalendarDays(10))
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 11, 30, 17, 0));
        let vi = d.render(Lang::Vi);
        assert!(vi.contains("10 ngày theo lịch"), "{vi}");
        assert!(
            vi.contains("chủ nhật, 29/11/2026") || vi.contains("Chủ nhật, 29/11/2026"),
            "{vi}"
        );
        assert!(vi.contains("thứ Hai, 30/11/2026"), "{vi}");
        let d = c
            .deadline(vn(2026, 11, 9, 8, 0), TimeLimit::CalendarDays(15))
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 11, 25, 17, 0));
        // A last day that is a working day ends that day, whatever the hour of receipt.
        assert_eq!(
            c.due_at(vn(2026, 11, 2, 16, 59), TimeLimit::CalendarDays(10))
                .unwrap(),
            vn(2026, 11, 12, 17, 0)
        );
        // Received on a Saturday: the period still starts the next day.
        assert_eq!(
            c.due_at(vn(2026, 3, 7, 9, 0), TimeLimit::CalendarDays(3))
                .unwrap(),
            vn(2026, 3, 10, 17, 0)
        );
    }

    #[test]
    fn across_tet_2026() {
        let c = cal();
        // Received Thu 12 Feb 2026 10:00, 3 working days = 24 h.
        // Thu 12: 10:00–11:30 (1.5 h) + 13:00–17:00 (4 h) = 5.5 h.
        // Fri 13: 8 h → 13.5 h. Sat 14 – Sun 22: weekend + Tết 16–20 (9441/TB-BNV).
        // Mon 23: 8 h → 21.5 h. Tue 24: 2.5 h more → 07:30 + 2.5 h = 10:00.
        let d = c
            .deadline(vn(2026, 2, 12, 10, 0), TimeLimit::WorkingDays(3))
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 2, 24, 10, 0));
        let skipped = d
            .explanation
            .iter()
            .find_map(|e| match e {
                Explanation::DaysOffSkipped { days, weekend_days } => {
                    Some((days.len(), *weekend_days))
                }
                _ => None,
            })
            .unwrap();
        // 16–20 Feb named; 14, 15, 21, 22 ordinary weekend days.
        assert_eq!(skipped, (5, 4));
        let vi = d.render(Lang::Vi);
        assert!(
            vi.contains("thứ Hai, 16/02/2026 – Tết Nguyên đán (29 tháng Chạp)"),
            "{vi}"
        );
        assert!(vi.contains("Thời hạn giải quyết là 3 ngày làm việc, tức 24 giờ làm việc (8 giờ mỗi ngày làm việc)."), "{vi}");
        // Received on Tết itself (Tue 17 Feb, 09:00): clock starts Mon 23 Feb 07:30.
        let d = c
            .deadline(vn(2026, 2, 17, 9, 0), TimeLimit::WorkingHours(4))
            .unwrap();
        assert_eq!(d.clock_start, vn(2026, 2, 23, 7, 30));
        assert_eq!(d.due_at, vn(2026, 2, 23, 11, 30));
        assert!(matches!(
            &d.explanation[0],
            Explanation::ClockStartMoved { reason: StartReason::DayOff { name_vi, .. }, .. } if name_vi == "Tết Nguyên đán (mùng 1)"
        ));
        let en = d.render(Lang::En);
        assert!(en.contains("on a day off (Lunar New Year (day 1))"), "{en}");
    }

    #[test]
    fn across_a_makeup_working_saturday() {
        let c = cal();
        // Fri 9 Jan 2026 13:00, 2 working days = 16 h. Fri: 4 h.
        // Sat 10 Jan is a make-up working day (12729/VPCP-KGVX): 8 h → 12 h.
        // Sun 11 off. Mon 12: 4 h → 07:30–11:30 → due 11:30.
        let d = c
            .deadline(vn(2026, 1, 9, 13, 0), TimeLimit::WorkingDays(2))
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 1, 12, 11, 30));
        assert!(d
            .explanation
            .iter()
            .any(|e| matches!(e, Explanation::WorkingWeekendDays { dates } if dates == &vec![date(2026, 1, 10)])));
        // And around the swapped Friday 2 Jan: received Wed 31 Dec 2025 15:00,
        // 1 day: Wed 2 h; Thu 1 Jan holiday, Fri 2 Jan swapped off, weekend;
        // Mon 5 Jan 6 h → 07:30 + 4 h (11:30) + 2 h (13:00–15:00) → 15:00.
        let d = c
            .deadline(vn(2025, 12, 31, 15, 0), TimeLimit::WorkingDays(1))
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 1, 5, 15, 0));
        let names: Vec<_> = d
            .explanation
            .iter()
            .find_map(|e| match e {
                Explanation::DaysOffSkipped { days, .. } => {
                    Some(days.iter().map(|x| x.date).collect::<Vec<_>>())
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(names, vec![date(2026, 1, 1), date(2026, 1, 2)]);
    }

    #[test]
    fn same_day_rule() {
        let c = cal();
        // Thu 12 Mar 2026 14:59 → due the same day 17:00.
        let d = c
            .deadline(vn(2026, 3, 12, 14, 59), TimeLimit::SameDay)
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 3, 12, 17, 0));
        assert!(d
            .render(Lang::Vi)
            .contains("trước 15:00, nên được trả kết quả ngay trong ngày (thứ Năm, 12/03/2026)"));
        // 15:00 exactly → next working day, Fri 13 Mar 17:00.
        let d = c
            .deadline(vn(2026, 3, 12, 15, 0), TimeLimit::SameDay)
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 3, 13, 17, 0));
        assert!(d
            .render(Lang::En)
            .contains("at or after 15:00 is returned on the next working day, Friday 13/03/2026"));
        // Saturday 14 Mar 10:00 → Mon 16 Mar 17:00.
        let d = c
            .deadline(vn(2026, 3, 14, 10, 0), TimeLimit::SameDay)
            .unwrap();
        assert_eq!(d.due_at, vn(2026, 3, 16, 17, 0));
        assert_eq!(d.clock_start, vn(2026, 3, 16, 7, 30));
        assert!(d.explanation.iter().any(|e| matches!(
            e,
            Explanation::SameDay {
                next_day: Some(NextDayReason::NonWorkingDay),
                ..
            }
        )));
        // Fri 13 Feb 2026 15:30: next working day is Mon 23 Feb (Tết week off).
        assert_eq!(
            c.due_at(vn(2026, 2, 13, 15, 30), TimeLimit::SameDay)
                .unwrap(),
            vn(2026, 2, 23, 17, 0)
        );
        // Make-up Saturday 10 Jan 2026 at 09:00 is a working day → same day.
        assert_eq!(
            c.due_at(vn(2026, 1, 10, 9, 0), TimeLimit::SameDay).unwrap(),
            vn(2026, 1, 10, 17, 0)
        );
        // Before opening on a working day (06:45) → same day.
        assert_eq!(
            c.due_at(vn(2026, 3, 12, 6, 45), TimeLimit::SameDay)
                .unwrap(),
            vn(2026, 3, 12, 17, 0)
        );
    }

    #[test]
    fn received_outside_hours() {
        let c = cal();
        // Tue 10 Mar 2026 18:20 → clock starts Wed 11 Mar 07:30; 4 h → 11:30.
        let d = c
            .deadline(vn(2026, 3, 10, 18, 20), TimeLimit::WorkingHours(4))
            .unwrap();
        assert_eq!(d.clock_start, vn(2026, 3, 11, 7, 30));
        assert_eq!(d.due_at, vn(2026, 3, 11, 11, 30));
        assert!(matches!(
            &d.explanation[0],
            Explanation::ClockStartMoved {
                reason: StartReason::AfterClosing,
                ..
            }
        ));
        let vi = d.render(Lang::Vi);
        assert!(
            vi.starts_with("Hồ sơ được tiếp nhận vào thứ Ba, 10/03/2026 18:20, sau giờ làm việc, nên thời hạn bắt đầu được tính từ thứ Tư, 11/03/2026 07:30."),
            "{vi}"
        );
        // Lunch: 12:10 → 13:00.
        let d = c
            .deadline(vn(2026, 3, 10, 12, 10), TimeLimit::WorkingHours(1))
            .unwrap();
        assert_eq!(d.clock_start, vn(2026, 3, 10, 13, 0));
        assert_eq!(d.due_at, vn(2026, 3, 10, 14, 0));
        assert!(matches!(
            &d.explanation[0],
            Explanation::ClockStartMoved {
                reason: StartReason::Break,
                ..
            }
        ));
        // Sub-second receipt inside hours: clock starts at the (truncated) receipt.
        let t = vn(2026, 3, 10, 9, 0) + Duration::milliseconds(400);
        let d = c.deadline(t, TimeLimit::WorkingHours(1)).unwrap();
        assert_eq!(d.clock_start, vn(2026, 3, 10, 9, 0));
        assert!(matches!(
            &d.explanation[0],
            Explanation::ClockStartsAtReceipt { .. }
        ));
    }

    #[test]
    fn pause_spanning_a_holiday() {
        let c = cal();
        // Paused Wed 29 Apr 2026 15:00, resumed Mon 4 May 09:00.
        // Wed 29: 2 h (15–17). Thu 30/4, Fri 1/5 holidays; Sat, Sun weekend.
        // Mon 4 May: 07:30–09:00 = 1.5 h. Total 3.5 h = 12 600 s.
        let paused = c.working_secs_between(vn(2026, 4, 29, 15, 0), vn(2026, 5, 4, 9, 0));
        assert_eq!(paused, 12_600);
        // A due instant at the end of a day, Tue 5 May 17:00, moves by 3.5 h:
        // Wed 6 May 07:30 + 3.5 h → 11:00.
        let due = vn(2026, 5, 5, 17, 0);
        assert_eq!(c.extend_due(due, paused).unwrap(), vn(2026, 5, 6, 11, 0));
        assert_eq!(
            c.due_after_pause(due, vn(2026, 4, 29, 15, 0), vn(2026, 5, 4, 9, 0))
                .unwrap(),
            vn(2026, 5, 6, 11, 0)
        );
        // A pause entirely on days off moves nothing.
        assert_eq!(
            c.due_after_pause(due, vn(2026, 4, 30, 8, 0), vn(2026, 5, 3, 20, 0))
                .unwrap(),
            due
        );
        // Due Fri 28 Aug 2026 17:00 + 1 h: Sat 29 Aug – Wed 2 Sep off (swap
        // 31/8, adjacent 1/9, 2/9) → Thu 3 Sep 08:30.
        assert_eq!(
            c.extend_due(vn(2026, 8, 28, 17, 0), 3600).unwrap(),
            vn(2026, 9, 3, 8, 30)
        );
    }

    #[test]
    fn at_risk() {
        let c = cal();
        // Received Mon 9 Mar 2026 07:30, 2 working days (16 h) → due Tue 10 Mar 17:00.
        // 75 % = 12 h → Mon 8 h + Tue 4 h → Tue 11:30.
        let r = vn(2026, 3, 9, 7, 30);
        let due = c.due_at(r, TimeLimit::WorkingDays(2)).unwrap();
        assert_eq!(due, vn(2026, 3, 10, 17, 0));
        assert_eq!(c.at_risk_at(r, due, 0.75).unwrap(), vn(2026, 3, 10, 11, 30));
        assert_eq!(c.at_risk_at(r, due, 1.0).unwrap(), due);
        assert_eq!(c.at_risk_at(r, due, 0.0).unwrap(), r);
        // From a Saturday receipt the clock start is Monday 07:30.
        // Half of 16 h from Monday 07:30 is Monday 17:00.
        assert_eq!(
            c.at_risk_at(vn(2026, 3, 7, 9, 0), due, 0.5).unwrap(),
            vn(2026, 3, 9, 17, 0)
        );
        assert!(matches!(
            c.at_risk_at(r, due, 1.5),
            Err(CalendarError::InvalidRatio(_))
        ));
        assert!(c.at_risk_at(r, due, f64::NAN).is_err());
    }

    #[test]
    fn zero_limit_and_2025_swap() {
        let c = cal();
        // 0 h from Saturday: the clock start.
        assert_eq!(
            c.due_at(vn(2026, 3, 7, 9, 0), TimeLimit::WorkingHours(0))
                .unwrap(),
            vn(2026, 3, 9, 7, 30)
        );
        // Received Fri 25 Apr 2025 08:00, 5 working days (40 h).
        // Fri 25: 08:00–11:30 (3.5 h) + 13:00–17:00 (4 h) = 7.5 h.
        // Sat 26 Apr: make-up working day (6150/TB-BLĐTBXH) 8 h → 15.5.
        // Sun 27 off. Mon 28 8 → 23.5; Tue 29 8 → 31.5.
        // Wed 30/4, Thu 1/5 holidays; Fri 2/5 swapped off; Sat, Sun.
        // Mon 5 May 8 → 39.5; Tue 6 May 0.5 h → 08:00.
        assert_eq!(
            c.due_at(vn(2025, 4, 25, 8, 0), TimeLimit::WorkingDays(5))
                .unwrap(),
            vn(2025, 5, 6, 8, 0)
        );
    }
}
