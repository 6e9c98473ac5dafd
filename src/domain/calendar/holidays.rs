//! Statutory days off (Labour Code 2019, Art. 111–112) and the yearly
//! announcements applied on top of them.
//!
//! # Rules, for any year
//!
//! * 1 January (Tết Dương lịch).
//! * Tết Nguyên đán, 5 days. The Prime Minister fixes them each year; when no
//!   announcement does, the **default rule** is the last day of the old
//!   lunar year plus days 1–4 of the new one (the most common choice since
//!   2014: 2024, 2026). A default Tết day on a Saturday or Sunday gets a
//!   compensatory day like any other holiday.
//! * Hùng Kings' Commemoration, 10th day of the 3rd lunar month.
//! * 30 April and 1 May.
//! * 2 September plus one adjacent day (1 or 3 September). **Default rule**
//!   without an announcement: the adjacent *weekday* that joins the holiday
//!   to a weekend (a Monday 1 Sep or a Friday 3 Sep); if only one adjacent
//!   day is a weekday, that one; otherwise (2 Sep on a Wednesday) 3 Sep.
//! * Art. 111(3): a holiday above that falls on a Saturday or Sunday gives a
//!   compensatory day off (`Compensatory`) on the next working day (the next
//!   Monday–Friday that is not already off), taken in date order.
//! * Vietnam Culture Day (24 November) is **not** a rule here: Nghị quyết
//!   28/2026/QH16 exists (Nghị định 277/2026/NĐ-CP cites it), but no text making
//!   the day a paid day off, nor an amendment of Art. 112(1), could be read; until
//!   one is, each year's calendar data carries it (`config/calendar/2026.toml`).
//!   Were it added to Art. 112(1), Art. 111(3) would give a compensatory day when
//!   it falls on a weekend.
//!
//! These rules are applied to every year, including years before the 2019
//! code took effect (2021): earlier years are approximations.
//!
//! # Announcements
//!
//! A [`YearAnnouncement`] replaces the rule-derived Tết days and/or the day
//! next to 2 September, adds days off (`Announced`), swaps (the weekday made
//! off is `Announced`, the weekend day becomes a working day), make-up
//! working days, and may cancel a rule-derived day. Compensatory days are
//! derived after the announced days off are known, so they never land on one.
//! Announced Tết days get no automatic compensatory day: the notice decides.
//! When an announced day off falls on a date that is already off, the
//! existing entry is kept.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use super::announcements::YearAnnouncement;
use super::lunar::{self, solar_to_lunar};
use super::CalendarError;

/// What kind of day off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOffKind {
    /// A public holiday (Labour Code Art. 112, or another law).
    Holiday,
    /// A compensatory day for a holiday that fell on a weekend (Art. 111(3)).
    Compensatory,
    /// A day off granted by a yearly announcement (swapped days, extras).
    Announced,
}

/// A non-working day other than an ordinary Saturday or Sunday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOff {
    pub date: NaiveDate,
    pub name_vi: String,
    pub name_en: String,
    pub kind: DayOffKind,
    /// The legal basis or notice number.
    pub source: String,
}

/// A year at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearView {
    pub year: i32,
    /// Every non-working day other than ordinary Saturdays and Sundays
    /// (holidays falling on a weekend included), sorted by date.
    pub days_off: Vec<DayOff>,
    /// Make-up working Saturdays (or Sundays), sorted.
    pub working_saturdays: Vec<NaiveDate>,
}

const LAW_112: &str = "Bộ luật Lao động 2019, Điều 112";
const LAW_111: &str = "Bộ luật Lao động 2019, Điều 111 khoản 3";

pub(crate) fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid fixed date")
}

fn ordinal_en(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Vietnamese weekday name ("thứ Hai" … "Chủ nhật").
pub fn weekday_vi(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "thứ Hai",
        Weekday::Tue => "thứ Ba",
        Weekday::Wed => "thứ Tư",
        Weekday::Thu => "thứ Năm",
        Weekday::Fri => "thứ Sáu",
        Weekday::Sat => "thứ Bảy",
        Weekday::Sun => "Chủ nhật",
    }
}

/// English weekday name.
pub fn weekday_en(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn tet_day(date: NaiveDate, kind: DayOffKind, source: &str) -> DayOff {
    let l = solar_to_lunar(date);
    let (name_vi, name_en) = if l.month == 1 && !l.leap {
        (
            format!("Tết Nguyên đán (mùng {})", l.day),
            format!("Lunar New Year (day {})", l.day),
        )
    } else {
        (
            format!("Tết Nguyên đán ({} tháng Chạp)", l.day),
            format!(
                "Lunar New Year holiday ({} day of the 12th lunar month)",
                ordinal_en(l.day)
            ),
        )
    };
    DayOff {
        date,
        name_vi,
        name_en,
        kind,
        source: source.to_owned(),
    }
}

fn holiday(date: NaiveDate, vi: &str, en: &str, source: &str) -> DayOff {
    DayOff {
        date,
        name_vi: vi.to_owned(),
        name_en: en.to_owned(),
        kind: DayOffKind::Holiday,
        source: source.to_owned(),
    }
}

/// The rule's choice of the day next to 2 September (see module docs).
pub fn default_national_day_adjacent(year: i32) -> NaiveDate {
    let (before, after) = (ymd(year, 9, 1), ymd(year, 9, 3));
    let weekdays: Vec<NaiveDate> = [before, after]
        .into_iter()
        .filter(|d| !is_weekend(*d))
        .collect();
    if let Some(d) = weekdays
        .iter()
        .find(|d| matches!(d.weekday(), Weekday::Mon | Weekday::Fri))
    {
        return *d;
    }
    match weekdays.as_slice() {
        [only] => *only,
        _ => after,
    }
}

/// The rule's five Tết days: the last day of the old lunar year and days 1–4.
pub fn default_tet_days(year: i32) -> Vec<NaiveDate> {
    let tet = lunar::tet(year);
    (0..5)
        .map(|i| tet.pred_opt().expect("date in range") + Days::new(i))
        .collect()
}

/// Per-year result: days off sorted by date, working weekend days.
#[derive(Debug, Clone, Default)]
struct YearData {
    days_off: Vec<DayOff>,
    working: Vec<(NaiveDate, String)>,
}

fn compute_year(year: i32, ann: Option<&YearAnnouncement>) -> Result<YearData, CalendarError> {
    // (day, compensable under Art. 111(3))
    let mut base: Vec<(DayOff, bool)> = Vec::new();
    base.push((
        holiday(ymd(year, 1, 1), "Tết Dương lịch", "New Year's Day", LAW_112),
        true,
    ));
    match ann.and_then(|a| a.tet.as_ref()) {
        Some(t) => {
            for &d in &t.days {
                base.push((tet_day(d, DayOffKind::Holiday, &t.source), false));
            }
        }
        None => {
            let src = format!("{LAW_112} (quy tắc mặc định: ngày cuối năm cũ và mùng 1–4)");
            for d in default_tet_days(year) {
                base.push((tet_day(d, DayOffKind::Holiday, &src), true));
            }
        }
    }
    base.push((
        holiday(
            lunar::hung_kings_day(year),
            "Giỗ Tổ Hùng Vương (10/3 âm lịch)",
            "Hùng Kings' Commemoration Day (10th day of the 3rd lunar month)",
            LAW_112,
        ),
        true,
    ));
    base.push((
        holiday(
            ymd(year, 4, 30),
            "Ngày Chiến thắng (30/4)",
            "Reunification Day (30 April)",
            LAW_112,
        ),
        true,
    ));
    base.push((
        holiday(
            ymd(year, 5, 1),
            "Ngày Quốc tế Lao động (1/5)",
            "International Labour Day (1 May)",
            LAW_112,
        ),
        true,
    ));
    base.push((
        holiday(
            ymd(year, 9, 2),
            "Quốc khánh (2/9)",
            "National Day (2 September)",
            LAW_112,
        ),
        true,
    ));
    let (adjacent, adjacent_src) = match ann.and_then(|a| a.national_day.as_ref()) {
        Some(n) => (n.adjacent, n.source.clone()),
        None => (
            default_national_day_adjacent(year),
            format!("{LAW_112} (quy tắc mặc định cho ngày liền kề)"),
        ),
    };
    base.push((
        holiday(
            adjacent,
            "Quốc khánh (ngày liền kề)",
            "National Day (adjacent day)",
            &adjacent_src,
        ),
        true,
    ));
    base.sort_by_key(|(d, _)| d.date);

    let mut announced: Vec<DayOff> = Vec::new();
    let mut working: Vec<(NaiveDate, String)> = Vec::new();
    if let Some(a) = ann {
        for e in &a.days_off {
            announced.push(DayOff {
                date: e.date,
                name_vi: e.name_vi.clone(),
                name_en: e.name_en.clone(),
                kind: e.kind,
                source: e.source.clone(),
            });
        }
        for s in &a.swaps {
            let w = s.work;
            announced.push(DayOff {
                date: s.off,
                name_vi: format!(
                    "Nghỉ hoán đổi (làm bù {} {})",
                    weekday_vi(w.weekday()),
                    w.format("%d/%m/%Y")
                ),
                name_en: format!(
                    "Swapped day off (made up on {} {})",
                    weekday_en(w.weekday()),
                    w.format("%d/%m/%Y")
                ),
                kind: DayOffKind::Announced,
                source: s.source.clone(),
            });
            working.push((w, s.source.clone()));
        }
        for w in &a.working_days {
            working.push((w.date, w.source.clone()));
        }
    }

    // Compensatory days, after everything that is off is known.
    let mut taken: BTreeSet<NaiveDate> = base.iter().map(|(d, _)| d.date).collect();
    taken.extend(announced.iter().map(|d| d.date));
    let mut days: Vec<DayOff> = Vec::new();
    for (h, compensable) in &base {
        if *compensable && is_weekend(h.date) {
            let mut c = h.date;
            loop {
                c = c.succ_opt().expect("date in range");
                if !is_weekend(c) && !taken.contains(&c) {
                    break;
                }
            }
            taken.insert(c);
            days.push(DayOff {
                date: c,
                name_vi: format!("Nghỉ bù {}", h.name_vi),
                name_en: format!("Compensatory day off for {}", h.name_en),
                kind: DayOffKind::Compensatory,
                source: LAW_111.to_owned(),
            });
        }
    }
    days.extend(base.into_iter().map(|(d, _)| d));

    if let Some(a) = ann {
        for c in &a.cancels {
            let before = days.len();
            days.retain(|d| d.date != c.date);
            if days.len() == before {
                return Err(CalendarError::Conflict {
                    date: c.date,
                    reason: format!("[[cancel]] ({}) names no rule-derived day off", c.source),
                });
            }
        }
    }
    let mut seen: BTreeSet<NaiveDate> = days.iter().map(|d| d.date).collect();
    for d in announced {
        if seen.insert(d.date) {
            days.push(d);
        }
    }
    days.sort_by_key(|d| d.date);
    // Should two rule-derived days ever share a date, keep the first.
    days.dedup_by_key(|d| d.date);

    working.sort();
    for (w, src) in &working {
        if let Some(d) = days.iter().find(|d| d.date == *w) {
            return Err(CalendarError::Conflict {
                date: *w,
                reason: format!(
                    "made a working day ({src}) but it is a day off: {}",
                    d.name_vi
                ),
            });
        }
    }
    Ok(YearData {
        days_off: days,
        working,
    })
}

/// Days off and make-up working days over a range of years: the rules for
/// every year, each year's announcements applied.
#[derive(Debug, Clone)]
pub struct Holidays {
    years: RangeInclusive<i32>,
    announcements: BTreeMap<i32, YearAnnouncement>,
    data: BTreeMap<i32, YearData>,
    off: BTreeMap<NaiveDate, DayOff>,
    working: BTreeMap<NaiveDate, String>,
}

impl Holidays {
    /// The statutory rules only, for every year of `years`.
    pub fn rules_only(years: RangeInclusive<i32>) -> Self {
        Self::build(years, &[]).expect("rules alone never conflict")
    }

    /// The rules for every year of `years`, then each year's announcements
    /// (several for the same year are merged in order, see
    /// [`YearAnnouncement::merge`]). Announcements for years outside the
    /// range are kept for [`Holidays::year_view`] but do not affect lookups.
    pub fn build(
        years: RangeInclusive<i32>,
        announcements: &[YearAnnouncement],
    ) -> Result<Self, CalendarError> {
        let mut merged: BTreeMap<i32, YearAnnouncement> = BTreeMap::new();
        for a in announcements {
            a.validate()?;
            match merged.get_mut(&a.year) {
                Some(m) => m.merge(a)?,
                None => {
                    merged.insert(a.year, a.clone());
                }
            }
        }
        let mut data = BTreeMap::new();
        for y in years.clone() {
            data.insert(y, compute_year(y, merged.get(&y))?);
        }
        let mut h = Self {
            years,
            announcements: merged,
            data,
            off: BTreeMap::new(),
            working: BTreeMap::new(),
        };
        h.reindex();
        Ok(h)
    }

    fn reindex(&mut self) {
        self.off.clear();
        self.working.clear();
        for y in self.data.values() {
            for d in &y.days_off {
                self.off.entry(d.date).or_insert_with(|| d.clone());
            }
            for (w, s) in &y.working {
                self.working.entry(*w).or_insert_with(|| s.clone());
            }
        }
    }

    /// Merges an announcement added at run time (e.g. posted by an admin)
    /// into its year and recomputes that year. On error nothing changes.
    /// A [`WorkCalendar`](super::WorkCalendar) built earlier must be rebuilt.
    pub fn merge(&mut self, announcement: &YearAnnouncement) -> Result<(), CalendarError> {
        announcement.validate()?;
        let year = announcement.year;
        let mut merged = self
            .announcements
            .get(&year)
            .cloned()
            .unwrap_or_else(|| YearAnnouncement::empty(year));
        merged.merge(announcement)?;
        if self.years.contains(&year) {
            let data = compute_year(year, Some(&merged))?;
            self.data.insert(year, data);
        }
        self.announcements.insert(year, merged);
        self.reindex();
        Ok(())
    }

    /// The years covered.
    pub fn years(&self) -> RangeInclusive<i32> {
        self.years.clone()
    }

    /// The (merged) announcement in force for `year`, if any.
    pub fn announcement(&self, year: i32) -> Option<&YearAnnouncement> {
        self.announcements.get(&year)
    }

    /// The named day off on `date`, if any (ordinary weekends have none).
    pub fn day_off(&self, date: NaiveDate) -> Option<&DayOff> {
        self.off.get(&date)
    }

    /// Whether `date` is a make-up working Saturday (or Sunday).
    pub fn is_working_saturday(&self, date: NaiveDate) -> bool {
        self.working.contains_key(&date)
    }

    /// Whether `date` is not a working day: a named day off, or a Saturday or
    /// Sunday that is not a make-up working day. Outside the built years
    /// only weekends are known (use [`Holidays::year_view`] for any year).
    pub fn is_day_off(&self, date: NaiveDate) -> bool {
        self.off.contains_key(&date) || (is_weekend(date) && !self.working.contains_key(&date))
    }

    /// Whether `date` is a working day (the opposite of [`Holidays::is_day_off`]).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !self.is_day_off(date)
    }

    /// The year's days off and make-up working days. Works for any year:
    /// outside the built range it is computed on the fly from the rules and
    /// any announcement stored for that year.
    pub fn year_view(&self, year: i32) -> YearView {
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return YearView {
                year,
                days_off: Vec::new(),
                working_saturdays: Vec::new(),
            };
        };
        if self.years.contains(&year) {
            return YearView {
                year,
                days_off: self
                    .off
                    .range(first..=last)
                    .map(|(_, d)| d.clone())
                    .collect(),
                working_saturdays: self.working.range(first..=last).map(|(d, _)| *d).collect(),
            };
        }
        let data = compute_year(year, self.announcements.get(&year))
            .or_else(|_| compute_year(year, None))
            .unwrap_or_default();
        YearView {
            year,
            days_off: data.days_off,
            working_saturdays: data
                .working
                .into_iter()
                .map(|(d, _)| d)
                .filter(|d| d.year() == year)
                .collect(),
        }
    }
}

/// The year view from the rules alone (no announcement), for any year.
pub fn year_view(year: i32) -> YearView {
    let data = compute_year(year, None).unwrap_or_default();
    YearView {
        year,
        days_off: data.days_off,
        working_saturdays: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DayOffKind::{Announced, Compensatory, Holiday};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn shipped() -> Vec<YearAnnouncement> {
        vec![
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
        ]
    }

    fn view_dates(v: &YearView) -> Vec<(NaiveDate, DayOffKind)> {
        v.days_off.iter().map(|x| (x.date, x.kind)).collect()
    }

    #[test]
    fn national_day_default_rule() {
        // 2/9/2025 Tue → Mon 1/9 joins the weekend.
        assert_eq!(default_national_day_adjacent(2025), d(2025, 9, 1));
        // 2/9/2026 Wed → neither adjacent day touches a weekend → 3/9.
        assert_eq!(default_national_day_adjacent(2026), d(2026, 9, 3));
        // 2/9/2027 Thu → Fri 3/9.
        assert_eq!(default_national_day_adjacent(2027), d(2027, 9, 3));
        // 2/9/2023 Sat → Fri 1/9 (3/9 is a Sunday); as Thông báo 5034/TB-LĐTBXH.
        assert_eq!(default_national_day_adjacent(2023), d(2023, 9, 1));
        // 2/9/2029 Sun → Mon 3/9.
        assert_eq!(default_national_day_adjacent(2029), d(2029, 9, 3));
        // 2/9/2024 Mon → 1/9 is Sunday, so Tue 3/9 (as the 2024 notice).
        assert_eq!(default_national_day_adjacent(2024), d(2024, 9, 3));
        // 2/9/2022 Fri → 3/9 is Saturday, so Thu 1/9 (as the 2022 notice).
        assert_eq!(default_national_day_adjacent(2022), d(2022, 9, 1));
    }

    #[test]
    fn rules_2023_compensatory_days() {
        // 2023 by the rules alone. 1 Jan Sunday → comp Mon 2 Jan.
        // Tết Quý Mão: 22 Jan (Sun); default days Sat 21 (30 Chạp) – Wed 25.
        // Sat 21 → comp Thu 26; Sun 22 → comp Fri 27.
        // Hùng Kings Sat 29 Apr; 30 Apr Sun; 1 May Mon (holiday):
        // Sat 29/4 → Tue 2/5; Sun 30/4 → Wed 3/5.
        // 2 Sep Saturday; adjacent Fri 1 Sep; comp for Sat 2/9 → Mon 4/9
        // (matches Thông báo 5034/TB-LĐTBXH's National Day).
        let v = year_view(2023);
        assert_eq!(
            view_dates(&v),
            vec![
                (d(2023, 1, 1), Holiday),
                (d(2023, 1, 2), Compensatory),
                (d(2023, 1, 21), Holiday),
                (d(2023, 1, 22), Holiday),
                (d(2023, 1, 23), Holiday),
                (d(2023, 1, 24), Holiday),
                (d(2023, 1, 25), Holiday),
                (d(2023, 1, 26), Compensatory),
                (d(2023, 1, 27), Compensatory),
                (d(2023, 4, 29), Holiday),
                (d(2023, 4, 30), Holiday),
                (d(2023, 5, 1), Holiday),
                (d(2023, 5, 2), Compensatory),
                (d(2023, 5, 3), Compensatory),
                (d(2023, 9, 1), Holiday),
                (d(2023, 9, 2), Holiday),
                (d(2023, 9, 4), Compensatory),
            ]
        );
        assert_eq!(v.days_off[2].name_vi, "Tết Nguyên đán (30 tháng Chạp)");
        assert_eq!(v.days_off[3].name_vi, "Tết Nguyên đán (mùng 1)");
        assert!(v.days_off[12]
            .name_vi
            .starts_with("Nghỉ bù Giỗ Tổ Hùng Vương"));
    }

    /// Official 2025 civil-service calendar, date by date.
    ///
    /// * 1/1 Wed: New Year (Art. 112).
    /// * Tết Ất Tỵ: Thông báo 6150/TB-BLĐTBXH (3/12/2024, after Công văn
    ///   8726/VPCP-KGVX of 26/11/2024): off Sat 25/1 – Sun 2/2, i.e. 5 Tết
    ///   days Mon 27 – Fri 31 January (28 Chạp to mùng 3) plus 4 weekend days.
    /// * Hùng Kings 10/3 Ất Tỵ = Mon 7/4.
    /// * 30/4 Wed, 1/5 Thu; same notice swaps Fri 2/5 (off) with Sat 26/4 (worked).
    /// * National Day: Sat 30/8 – Tue 2/9, so the adjacent day is Mon 1/9.
    /// * No compensatory day: no holiday falls on a weekend.
    #[test]
    fn official_2025() {
        let h = Holidays::build(2024..=2027, &shipped()).unwrap();
        let v = h.year_view(2025);
        assert_eq!(
            view_dates(&v),
            vec![
                (d(2025, 1, 1), Holiday),
                (d(2025, 1, 27), Holiday),
                (d(2025, 1, 28), Holiday),
                (d(2025, 1, 29), Holiday),
                (d(2025, 1, 30), Holiday),
                (d(2025, 1, 31), Holiday),
                (d(2025, 4, 7), Holiday),
                (d(2025, 4, 30), Holiday),
                (d(2025, 5, 1), Holiday),
                (d(2025, 5, 2), Announced),
                (d(2025, 9, 1), Holiday),
                (d(2025, 9, 2), Holiday),
            ]
        );
        assert_eq!(v.working_saturdays, vec![d(2025, 4, 26)]);
        // Tết Ất Tỵ is 29/1 (mùng 1); 27/1 is 28 Chạp (Chạp Giáp Thìn has 29 days).
        assert_eq!(v.days_off[1].name_vi, "Tết Nguyên đán (28 tháng Chạp)");
        assert_eq!(v.days_off[3].name_vi, "Tết Nguyên đán (mùng 1)");
        assert!(
            v.days_off[9].name_vi.contains("26/04/2025"),
            "{}",
            v.days_off[9].name_vi
        );
        assert!(h.is_working_saturday(d(2025, 4, 26)));
        assert!(h.is_working_day(d(2025, 4, 26)));
        assert!(h.is_day_off(d(2025, 5, 2)));
        assert!(h.is_day_off(d(2025, 2, 1))); // ordinary Saturday
        assert!(h.is_working_day(d(2025, 2, 3))); // the rules' comp day is gone
    }

    /// Official 2026 civil-service calendar, date by date.
    ///
    /// * 1/1 Thu; Công văn 12729/VPCP-KGVX (25/12/2025): Fri 2/1 off,
    ///   Sat 10/1 worked (off Thu 1/1 – Sun 4/1).
    /// * Tết Bính Ngọ: Thông báo 9441/TB-BNV (16/10/2025): Mon 16/2 (29 Chạp)
    ///   – Fri 20/2 (mùng 4), off Sat 14/2 – Sun 22/2.
    /// * Hùng Kings 10/3 Bính Ngọ = Sun 26/4 → compensatory Mon 27/4.
    /// * 30/4 Thu, 1/5 Fri, no swap (Công văn 3383/BNV-CVL).
    /// * National Day: 9441/TB-BNV fixes the adjacent day as Tue 1/9 (the
    ///   rule alone would give Thu 3/9) and swaps Mon 31/8 (off) with
    ///   Sat 22/8 (worked): off Sat 29/8 – Wed 2/9.
    /// * Vietnam Culture Day Tue 24/11, from the year's data (Nghị quyết 28/2026/QH16).
    #[test]
    fn official_2026() {
        let h = Holidays::build(2024..=2027, &shipped()).unwrap();
        let v = h.year_view(2026);
        assert_eq!(
            view_dates(&v),
            vec![
                (d(2026, 1, 1), Holiday),
                (d(2026, 1, 2), Announced),
                (d(2026, 2, 16), Holiday),
                (d(2026, 2, 17), Holiday),
                (d(2026, 2, 18), Holiday),
                (d(2026, 2, 19), Holiday),
                (d(2026, 2, 20), Holiday),
                (d(2026, 4, 26), Holiday),
                (d(2026, 4, 27), Compensatory),
                (d(2026, 4, 30), Holiday),
                (d(2026, 5, 1), Holiday),
                (d(2026, 8, 31), Announced),
                (d(2026, 9, 1), Holiday),
                (d(2026, 9, 2), Holiday),
                (d(2026, 11, 24), Holiday),
            ]
        );
        assert_eq!(v.working_saturdays, vec![d(2026, 1, 10), d(2026, 8, 22)]);
        assert_eq!(v.days_off[2].name_vi, "Tết Nguyên đán (29 tháng Chạp)");
        assert_eq!(v.days_off[6].name_en, "Lunar New Year (day 4)");
        assert!(h.is_working_day(d(2026, 9, 3)));
        // Rules alone would differ on 2/1, 3/9 vs 1/9, 31/8 and the Saturdays.
        let rules = year_view(2026);
        assert!(rules.days_off.iter().any(|x| x.date == d(2026, 9, 3)));
        assert!(!rules.days_off.iter().any(|x| x.date == d(2026, 9, 1)));
    }

    #[test]
    fn runtime_merge_and_cancel() {
        let mut h = Holidays::build(2026..=2026, &shipped()).unwrap();
        // A hypothetical later notice: swap Mon 23/11 for Sat 28/11 and move
        // the Hùng Kings make-up day from Mon 27/4 to Tue 28/4.
        let later = YearAnnouncement::parse(
            r#"
year = 2026
[[swap]]
off = "2026-11-23"
work = "2026-11-28"
source = "test"
[[cancel]]
date = "2026-04-27"
source = "test"
[[day_off]]
date = "2026-04-28"
name_vi = "Nghỉ bù Giỗ Tổ"
name_en = "Hung Kings make-up"
kind = "compensatory"
source = "test"
"#,
        )
        .unwrap();
        h.merge(&later).unwrap();
        assert!(h.is_day_off(d(2026, 11, 23)));
        assert!(h.is_working_saturday(d(2026, 11, 28)));
        assert!(h.is_working_day(d(2026, 4, 27)));
        assert_eq!(h.day_off(d(2026, 4, 28)).unwrap().kind, Compensatory);
        // Earlier entries survive.
        assert!(h.is_working_saturday(d(2026, 1, 10)));
        // A working day that is a holiday is a conflict; nothing changes.
        let bad = YearAnnouncement::parse(
            "year = 2026\n[[working_day]]\ndate = \"2026-04-26\"\nsource = \"x\"\n",
        )
        .unwrap();
        assert!(matches!(h.merge(&bad), Err(CalendarError::Conflict { .. })));
        assert!(h.is_day_off(d(2026, 4, 26)));
        let bad_cancel = YearAnnouncement::parse(
            "year = 2026\n[[cancel]]\ndate = \"2026-06-01\"\nsource = \"x\"\n",
        )
        .unwrap();
        assert!(matches!(
            h.merge(&bad_cancel),
            Err(CalendarError::Conflict { .. })
        ));
    }

    /// Culture Day is a day off only where a year's data says so (2026), until a text in
    /// force makes it a rule.
    #[test]
    fn culture_day_comes_from_the_years_data() {
        for year in [2025, 2026, 2027] {
            assert!(!year_view(year)
                .days_off
                .iter()
                .any(|x| x.date == d(year, 11, 24)));
        }
        let h = Holidays::build(2025..=2027, &shipped()).unwrap();
        assert!(h.is_day_off(d(2026, 11, 24)));
        assert!(!h.is_day_off(d(2027, 11, 24)));
    }
}
