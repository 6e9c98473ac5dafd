//! The working-time index: per-day prefix sums of working seconds.
//!
//! Every local day `i` of the range gets `cum[i]`, the working seconds from
//! the start of the range to local midnight starting day `i` (`cum` has one
//! more entry than there are days). The *working offset* of an instant is
//! `cum[day] + working seconds of that day elapsed at that time`; it is a
//! non-decreasing, continuous function of time, so
//!
//! * working time between two instants is a difference of offsets (O(1));
//! * the instant at a given offset is a binary search over `cum` plus a scan
//!   of the day's few segments (O(log n), ~16 probes for 2000–2100).
//!
//! Time is handled in whole seconds (sub-second parts are truncated) in
//! Vietnam's fixed UTC+7.
//!
//! # Outside the range
//!
//! The index knows working time only inside its years: outside, there is
//! none. [`WorkCalendar::working_secs_between`] and
//! [`WorkCalendar::working_offset`] clamp (instants before the range count
//! as its start, after it as its end). Functions that must return an instant
//! fail with [`CalendarError::OutOfRange`] when the input instant is outside
//! the range or the result would be.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use std::ops::RangeInclusive;

use super::holidays::{Holidays, YearView};
use super::hours::{WorkingHours, DAY_SECS};
use super::{CalendarError, VN_OFFSET_SECS};

const DAY: i64 = DAY_SECS as i64;
const TZ: i64 = VN_OFFSET_SECS as i64;

/// Working calendar of a unit: its days off and office hours over a range
/// of years, indexed for fast deadline arithmetic.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    years: RangeInclusive<i32>,
    /// Local day number (days since 1970-01-01) of 1 January of the first year.
    first_day: i64,
    /// `cum[i]`: working seconds before local day `i`; `len = days + 1`.
    cum: Vec<i64>,
    hours: WorkingHours,
    same_day_cutoff: u32,
    holidays: Holidays,
}

/// Default cut-off for same-day procedures: 15:00 local time.
pub const SAME_DAY_CUTOFF: u32 = 15 * 3600;

pub(super) fn local_day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163 // 1970-01-01 is day 719 163 from CE
}

fn date_of_day_number(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(n + 719_163).ok()?)
}

impl WorkCalendar {
    /// Indexes `years` (e.g. `2000..=2100`) from `holidays` (which must cover
    /// them) with the unit's office hours.
    pub fn new(
        holidays: &Holidays,
        hours: WorkingHours,
        years: RangeInclusive<i32>,
    ) -> Result<Self, CalendarError> {
        let have = holidays.years();
        if years.is_empty() || years.start() < have.start() || years.end() > have.end() {
            return Err(CalendarError::RangeNotCovered {
                first: *years.start(),
                last: *years.end(),
                have_first: *have.start(),
                have_last: *have.end(),
            });
        }
        let range_err = || CalendarError::OutOfRange {
            what: format!("years {}–{}", years.start(), years.end()),
            first: *years.start(),
            last: *years.end(),
        };
        let first = NaiveDate::from_ymd_opt(*years.start(), 1, 1).ok_or_else(range_err)?;
        let end = NaiveDate::from_ymd_opt(*years.end() + 1, 1, 1).ok_or_else(range_err)?;
        let days = (end - first).num_days() as usize;
        let spd = i64::from(hours.secs_per_day());
        let mut cum = Vec::with_capacity(days + 1);
        let mut acc = 0i64;
        cum.push(0);
        let mut date = first;
        for _ in 0..days {
            if holidays.is_working_day(date) {
                acc += spd;
            }
            cum.push(acc);
            date = date.succ_opt().ok_or_else(range_err)?;
        }
        Ok(Self {
            first_day: local_day_number(first),
            years,
            cum,
            hours,
            same_day_cutoff: SAME_DAY_CUTOFF,
            holidays: holidays.clone(),
        })
    }

    /// Changes the same-day cut-off (default 15:00 local).
    pub fn with_same_day_cutoff(mut self, cutoff: NaiveTime) -> Self {
        self.same_day_cutoff = cutoff.num_seconds_from_midnight();
        self
    }

    /// The same-day cut-off, local time.
    pub fn same_day_cutoff(&self) -> NaiveTime {
        NaiveTime::from_num_seconds_from_midnight_opt(self.same_day_cutoff, 0)
            .unwrap_or(NaiveTime::MIN)
    }

    /// The years indexed.
    pub fn years(&self) -> RangeInclusive<i32> {
        self.years.clone()
    }

    /// The office hours.
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// Working hours in one working day (8.0 by default).
    pub fn hours_per_day(&self) -> f64 {
        self.hours.hours_per_day()
    }

    /// Working seconds in one working day (28 800 by default).
    pub fn secs_per_day(&self) -> i64 {
        i64::from(self.hours.secs_per_day())
    }

    /// The days off the calendar was built from.
    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    /// The year's days off and make-up working days.
    pub fn year_view(&self, year: i32) -> YearView {
        self.holidays.year_view(year)
    }

    #[inline]
    pub(super) fn days(&self) -> usize {
        self.cum.len() - 1
    }

    /// Day index (may be out of range) and second of day of a Unix timestamp.
    #[inline]
    pub(super) fn split(&self, ts: i64) -> (i64, u32) {
        let local = ts + TZ;
        (
            local.div_euclid(DAY) - self.first_day,
            local.rem_euclid(DAY) as u32,
        )
    }

    #[inline]
    pub(super) fn ts_of(&self, day: usize, sod: u32) -> i64 {
        (self.first_day + day as i64) * DAY + i64::from(sod) - TZ
    }

    #[inline]
    pub(super) fn day_is_working(&self, day: usize) -> bool {
        self.cum[day + 1] > self.cum[day]
    }

    pub(super) fn day_index(&self, date: NaiveDate) -> Option<usize> {
        let i = local_day_number(date) - self.first_day;
        (i >= 0 && (i as usize) < self.days()).then_some(i as usize)
    }

    pub(super) fn date_of(&self, day: usize) -> NaiveDate {
        date_of_day_number(self.first_day + day as i64).expect("day inside the range")
    }

    pub(super) fn out_of_range(&self, what: impl std::fmt::Display) -> CalendarError {
        CalendarError::OutOfRange {
            what: what.to_string(),
            first: *self.years.start(),
            last: *self.years.end(),
        }
    }

    /// Checks that `t` is inside the range; returns its timestamp.
    #[inline]
    pub(super) fn check(&self, t: DateTime<Utc>) -> Result<i64, CalendarError> {
        let ts = t.timestamp();
        let (day, _) = self.split(ts);
        if day < 0 || day as usize >= self.days() {
            return Err(self.out_of_range(
                t.with_timezone(&super::vn_offset())
                    .format("%d/%m/%Y %H:%M"),
            ));
        }
        Ok(ts)
    }

    /// Working offset of a timestamp, clamped to the range.
    #[inline]
    pub(super) fn offset_ts(&self, ts: i64) -> i64 {
        let (day, sod) = self.split(ts);
        if day < 0 {
            return 0;
        }
        let n = self.days();
        if day as usize >= n {
            return self.cum[n];
        }
        let d = day as usize;
        let base = self.cum[d];
        if self.cum[d + 1] == base {
            base
        } else {
            base + i64::from(self.hours.secs_before(sod))
        }
    }

    /// The instant at which working offset `target > 0` is reached: the end
    /// of the `target`-th working second (17:00, not the next 07:30).
    #[inline]
    pub(super) fn ts_at_offset_end(&self, target: i64) -> Option<i64> {
        if target <= 0 {
            return None;
        }
        let d = self.cum[1..].partition_point(|&c| c < target);
        if d >= self.days() {
            return None;
        }
        let r = (target - self.cum[d]) as u32;
        Some(self.ts_of(d, self.hours.time_ending(r)))
    }

    /// The first instant whose working offset is `target >= 0` and from which
    /// working time runs: the start of the next working second.
    #[inline]
    pub(super) fn ts_at_offset_start(&self, target: i64) -> Option<i64> {
        if target < 0 {
            return None;
        }
        let d = self.cum[1..].partition_point(|&c| c <= target);
        if d >= self.days() {
            return None;
        }
        let r = (target - self.cum[d]) as u32;
        Some(self.ts_of(d, self.hours.time_starting(r)))
    }

    #[inline]
    pub(super) fn instant(ts: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(ts, 0).expect("timestamp inside chrono's range")
    }

    /// First working day strictly after day index `day`.
    #[inline]
    pub(super) fn next_working_day_index(&self, day: usize) -> Option<usize> {
        let after = self.cum[day + 1];
        let j = self.cum[1..].partition_point(|&c| c <= after);
        (j < self.days()).then_some(j)
    }

    /// Working seconds from the start of the range to `t` (clamped). Two
    /// offsets subtract to the working time between their instants; store
    /// them to do pause arithmetic in bulk.
    #[inline]
    pub fn working_offset(&self, t: DateTime<Utc>) -> i64 {
        self.offset_ts(t.timestamp())
    }

    /// The instant at which working offset `offset` is reached (the end of
    /// that working second); the inverse of [`WorkCalendar::working_offset`]
    /// for offsets > 0.
    pub fn instant_at_offset(&self, offset: i64) -> Result<DateTime<Utc>, CalendarError> {
        self.ts_at_offset_end(offset)
            .map(Self::instant)
            .ok_or_else(|| self.out_of_range(format_args!("working offset {offset}")))
    }

    /// Working seconds from `a` to `b` (negative if `b < a`), O(1). Instants
    /// outside the range are clamped to it (no working time there).
    #[inline]
    pub fn working_secs_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        self.offset_ts(b.timestamp()) - self.offset_ts(a.timestamp())
    }

    /// Adds `secs` working seconds to `start`.
    ///
    /// * `secs > 0`: the instant at which the `secs`-th working second after
    ///   `start` ends. 8 h from Monday 07:30 is Monday 17:00 (not Tuesday
    ///   07:30); from outside working time it counts from the next working
    ///   instant.
    /// * `secs == 0`: `start` itself.
    /// * `secs < 0`: goes back: the earliest instant from which `-secs`
    ///   working seconds run until `start` (Tuesday 08:30 − 1 h = Tuesday
    ///   07:30, not Monday 17:00).
    ///
    /// Errors if `start` or the result is outside the range.
    #[inline]
    pub fn add_working_secs(
        &self,
        start: DateTime<Utc>,
        secs: i64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let ts = self.check(start)?;
        if secs == 0 {
            return Ok(start);
        }
        let target = self.offset_ts(ts) + secs;
        let found = if secs > 0 {
            self.ts_at_offset_end(target)
        } else {
            self.ts_at_offset_start(target)
        };
        found
            .map(Self::instant)
            .ok_or_else(|| self.out_of_range(format_args!("{secs} working seconds from {start}")))
    }

    /// `t` if it is inside working time, else the start of the next working
    /// period (next segment of the day, or opening time of the next working
    /// day). Truncated to the second.
    #[inline]
    pub fn next_working_instant(&self, t: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        let ts = self.check(t)?;
        self.ts_at_offset_start(self.offset_ts(ts))
            .map(Self::instant)
            .ok_or_else(|| self.out_of_range(format_args!("next working time after {t}")))
    }

    /// Whether `date` is a working day. `false` outside the range.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day_index(date).is_some_and(|d| self.day_is_working(d))
    }

    /// The first working day strictly after `date`, if inside the range.
    pub fn next_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let d = self.day_index(date)?;
        self.next_working_day_index(d).map(|j| self.date_of(j))
    }

    /// Closing time (end of the last segment) of `date` as an instant, or
    /// `None` if `date` is not a working day or outside the range.
    pub fn end_of_working_day(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let d = self.day_index(date)?;
        self.day_is_working(d)
            .then(|| Self::instant(self.ts_of(d, self.hours.closing())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::*;
    use super::*;

    #[test]
    fn eight_hours_from_monday_morning_end_monday_evening() {
        let c = cal();
        // Mon 9 Mar 2026, an ordinary working day.
        let r = c.add_working_secs(vn(2026, 3, 9, 7, 30), 8 * 3600).unwrap();
        assert_eq!(r, vn(2026, 3, 9, 17, 0));
        // 4 h from 07:30 end at 11:30, not 13:00.
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 9, 7, 30), 4 * 3600).unwrap(),
            vn(2026, 3, 9, 11, 30)
        );
        // 1 s more starts after lunch.
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 9, 7, 30), 4 * 3600 + 1)
                .unwrap(),
            vn(2026, 3, 9, 13, 0) + chrono::Duration::seconds(1)
        );
        // From 16:00: 1 h ends 17:00, 2 h end Tue 08:30.
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 9, 16, 0), 3600).unwrap(),
            vn(2026, 3, 9, 17, 0)
        );
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 9, 16, 0), 7200).unwrap(),
            vn(2026, 3, 10, 8, 30)
        );
        // Going back: Tue 08:30 − 1 h = Tue 07:30; − 2 h = Mon 16:00.
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 10, 8, 30), -3600).unwrap(),
            vn(2026, 3, 10, 7, 30)
        );
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 10, 8, 30), -7200).unwrap(),
            vn(2026, 3, 9, 16, 0)
        );
        assert_eq!(
            c.add_working_secs(vn(2026, 3, 9, 20, 0), 0).unwrap(),
            vn(2026, 3, 9, 20, 0)
        );
    }

    #[test]
    fn between_and_next_instant() {
        let c = cal();
        // Fri 6 Mar 16:00 → Mon 9 Mar 08:00: 1 h Friday + 0.5 h Monday.
        assert_eq!(
            c.working_secs_between(vn(2026, 3, 6, 16, 0), vn(2026, 3, 9, 8, 0)),
            5400
        );
        assert_eq!(
            c.working_secs_between(vn(2026, 3, 9, 8, 0), vn(2026, 3, 6, 16, 0)),
            -5400
        );
        // Lunch break counts nothing: 11:00 → 13:30 = 0.5 h + 0.5 h.
        assert_eq!(
            c.working_secs_between(vn(2026, 3, 9, 11, 0), vn(2026, 3, 9, 13, 30)),
            3600
        );
        assert_eq!(
            c.next_working_instant(vn(2026, 3, 9, 12, 0)).unwrap(),
            vn(2026, 3, 9, 13, 0)
        );
        assert_eq!(
            c.next_working_instant(vn(2026, 3, 9, 9, 0)).unwrap(),
            vn(2026, 3, 9, 9, 0)
        );
        assert_eq!(
            c.next_working_instant(vn(2026, 3, 9, 6, 0)).unwrap(),
            vn(2026, 3, 9, 7, 30)
        );
        // 11:30 exactly is the end of the morning: next is 13:00.
        assert_eq!(
            c.next_working_instant(vn(2026, 3, 9, 11, 30)).unwrap(),
            vn(2026, 3, 9, 13, 0)
        );
        // Fri 17:00 → Mon 07:30.
        assert_eq!(
            c.next_working_instant(vn(2026, 3, 6, 17, 0)).unwrap(),
            vn(2026, 3, 9, 7, 30)
        );
        assert!(c.is_working_day(date(2026, 3, 9)));
        assert!(!c.is_working_day(date(2026, 3, 8)));
        assert!(c.is_working_day(date(2026, 1, 10))); // make-up Saturday
        assert_eq!(
            c.end_of_working_day(date(2026, 3, 9)),
            Some(vn(2026, 3, 9, 17, 0))
        );
        assert_eq!(c.end_of_working_day(date(2026, 3, 8)), None);
        assert_eq!(
            c.next_working_day(date(2026, 2, 13)),
            Some(date(2026, 2, 23))
        );
        assert_eq!(c.hours_per_day(), 8.0);
    }

    #[test]
    fn outside_the_range() {
        let c = cal(); // 2024–2027
        let before = vn(2023, 12, 29, 9, 0);
        let after = vn(2028, 1, 3, 9, 0);
        assert!(matches!(
            c.add_working_secs(before, 3600),
            Err(CalendarError::OutOfRange { .. })
        ));
        assert!(matches!(
            c.next_working_instant(after),
            Err(CalendarError::OutOfRange { .. })
        ));
        // Past the last working day of 2027 (Fri 31 Dec 2027).
        assert!(c
            .add_working_secs(vn(2027, 12, 31, 16, 0), 2 * 3600)
            .is_err());
        assert_eq!(
            c.add_working_secs(vn(2027, 12, 31, 16, 0), 3600).unwrap(),
            vn(2027, 12, 31, 17, 0)
        );
        // Clamped: from before the range to 2 Jan 2024 09:00 (1 Jan is a
        // holiday) counts only 1.5 h of 2 Jan.
        assert_eq!(c.working_secs_between(before, vn(2024, 1, 2, 9, 0)), 5400);
        assert!(!c.is_working_day(date(2030, 1, 2)));
        assert_eq!(c.end_of_working_day(date(2030, 1, 2)), None);
        let err = Holidays::rules_only(2025..=2026);
        assert!(matches!(
            WorkCalendar::new(&err, WorkingHours::default(), 2024..=2026),
            Err(CalendarError::RangeNotCovered { .. })
        ));
    }

    #[test]
    fn inverse_on_pseudo_random_samples() {
        let c = cal();
        // xorshift64*: deterministic.
        let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let start = vn(2024, 1, 1, 0, 0).timestamp();
        let span = vn(2027, 6, 1, 0, 0).timestamp() - start;
        for _ in 0..20_000 {
            let t = WorkCalendar::instant(start + (next() % span as u64) as i64);
            let secs = (next() % (40 * 8 * 3600)) as i64 + 1;
            let due = c.add_working_secs(t, secs).unwrap();
            assert_eq!(c.working_secs_between(t, due), secs, "{t} + {secs}");
            // The result is the earliest such instant: one second earlier is short.
            assert_eq!(
                c.working_secs_between(t, due - chrono::Duration::seconds(1)),
                secs - 1
            );
            // Going back lands on an instant from which the same time runs.
            let back = c.add_working_secs(due, -secs).unwrap();
            assert_eq!(c.working_secs_between(back, due), secs);
            assert!(back >= t || c.working_secs_between(back, t) == 0);
        }
    }
}
