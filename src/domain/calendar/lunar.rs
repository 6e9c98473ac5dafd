//! The Vietnamese lunisolar calendar (âm lịch), computed for UTC+7.
//!
//! Vietnam's calendar follows the same rules as China's but is reckoned on the
//! meridian of UTC+7 (Decision 121-CP, 1967) instead of UTC+8, so a new moon or
//! a solar term that falls between 23:00 and 24:00 Beijing time lands on
//! different days in the two countries. That is why Tết 1985 was 21 January in
//! Vietnam and 20 February in China, Tết 2007 17 vs 18 February, and Tết 2030
//! 2 vs 3 February.
//!
//! The method is the one Hồ Ngọc Đức published ("Âm lịch Việt Nam", with
//! `timeZone = 7.0`), written here from the astronomical formulas it uses
//! (Jean Meeus, *Astronomical Algorithms*, 1998):
//!
//! * a lunar month starts on the local day of a new moon (ch. 49, truncated series);
//! * the 11th month is the one that contains the winter solstice (sun's
//!   apparent longitude 270°, ch. 25 low-precision series);
//! * a lunar year with 13 months has as its leap month the first month after
//!   the 11th that contains no major solar term (trung khí).
//!
//! The accuracy of these series (a few minutes) is what the Vietnamese
//! almanacs themselves use for 1900–2100; results are checked against Hồ Ngọc
//! Đức's published tables in the tests.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Vietnam's standard time, in hours east of UTC.
const TIME_ZONE: f64 = 7.0;
/// Julian day number of the new moon of 1 January 1900 (k = 0 in Meeus' numbering
/// as used by Hồ Ngọc Đức).
const EPOCH_NEW_MOON: f64 = 2_415_021.076_998_695;
/// Mean synodic month, in days.
const SYNODIC_MONTH: f64 = 29.530_588_853;
/// `NaiveDate::num_days_from_ce() + JDN_OFFSET` is the Julian day number.
const JDN_OFFSET: i64 = 1_721_425;

/// A date in the Vietnamese lunar calendar.
///
/// `year` is the Gregorian year in which the lunar year starts (Tết): lunar
/// year 2026 is Bính Ngọ, starting 17 February 2026. `leap` marks the
/// intercalary (nhuận) month that repeats `month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LunarDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub leap: bool,
}

impl std::fmt::Display for LunarDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.day, self.month)?;
        if self.leap {
            f.write_str(" nhuận")?;
        }
        write!(f, "/{}", self.year)
    }
}

fn jdn(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + JDN_OFFSET
}

fn from_jdn(jd: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(jd - JDN_OFFSET).ok()?)
}

/// Julian day (fractional, UT) of the `k`-th new moon after 1 January 1900
/// (Meeus ch. 49, with the terms Hồ Ngọc Đức keeps).
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85; // Julian centuries from 1900-01-01 12:00
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    // Sun's mean anomaly, Moon's mean anomaly, Moon's argument of latitude.
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 -= 0.4068 * (mpr * dr).sin() - 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 += 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 -= 0.0074 * (dr * (m - mpr)).sin() - 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 -= 0.0004 * (dr * (2.0 * f - m)).sin() + 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 += 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    // ΔT (TT − UT) in days.
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// Apparent longitude of the sun, in radians in [0, 2π), at Julian day `jd`
/// (Meeus ch. 25, low-precision series with nutation and aberration).
fn sun_longitude(jd: f64) -> f64 {
    let t = (jd - 2_451_545.0) / 36_525.0; // Julian centuries from J2000.0
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let mut dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin();
    dl += (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin() + 0.000_290 * (dr * 3.0 * m).sin();
    let theta = l0 + dl;
    let omega = 125.04 - 1934.136 * t;
    let lambda = (theta - 0.005_69 - 0.004_78 * (omega * dr).sin()) * dr;
    lambda.rem_euclid(2.0 * PI)
}

/// Local (UTC+7) day number of the `k`-th new moon.
fn new_moon_day(k: i64) -> i64 {
    (new_moon(k) + 0.5 + TIME_ZONE / 24.0).floor() as i64
}

/// Index 0..=11 of the major solar term (30° sector of the sun's longitude)
/// in force at local midnight starting day `day`; 9 means the winter solstice
/// (270°) has passed.
fn sun_sector(day: i64) -> i64 {
    (sun_longitude(day as f64 - 0.5 - TIME_ZONE / 24.0) / PI * 6.0).floor() as i64
}

/// Day number of the start of the 11th lunar month (the month containing the
/// winter solstice) of Gregorian year `year`.
fn month11_start(year: i32) -> i64 {
    let dec31 = NaiveDate::from_ymd_opt(year, 12, 31).map_or(0, jdn);
    let off = dec31 as f64 - 2_415_021.0;
    let k = (off / SYNODIC_MONTH).floor() as i64;
    let nm = new_moon_day(k);
    if sun_sector(nm) >= 9 {
        new_moon_day(k - 1)
    } else {
        nm
    }
}

/// In a 13-month year starting with the 11th month at `a11`, the offset (in
/// months after month 11) of the first month without a major solar term: the
/// leap month.
fn leap_month_offset(a11: i64) -> i64 {
    let k = ((a11 as f64 - EPOCH_NEW_MOON) / SYNODIC_MONTH + 0.5).floor() as i64;
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i));
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i));
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

/// The lunar date of a solar (Gregorian) date, Vietnamese reckoning.
pub fn solar_to_lunar(date: NaiveDate) -> LunarDate {
    let day_number = jdn(date);
    let k = ((day_number as f64 - EPOCH_NEW_MOON) / SYNODIC_MONTH).floor() as i64;
    let mut month_start = new_moon_day(k + 1);
    if month_start > day_number {
        month_start = new_moon_day(k);
    }
    let yy = date.year();
    let mut a11 = month11_start(yy);
    let mut b11 = a11;
    let mut lunar_year;
    if a11 >= month_start {
        lunar_year = yy;
        a11 = month11_start(yy - 1);
    } else {
        lunar_year = yy + 1;
        b11 = month11_start(yy + 1);
    }
    let day = (day_number - month_start + 1) as u32;
    let diff = (month_start - a11) / 29;
    let mut leap = false;
    let mut month = diff + 11;
    if b11 - a11 > 365 {
        let leap_diff = leap_month_offset(a11);
        if diff >= leap_diff {
            month = diff + 10;
            leap = diff == leap_diff;
        }
    }
    if month > 12 {
        month -= 12;
    }
    if month >= 11 && diff < 4 {
        lunar_year -= 1;
    }
    LunarDate {
        year: lunar_year,
        month: month as u32,
        day,
        leap,
    }
}

/// The solar date of a lunar date, or `None` if that lunar date does not
/// exist (month out of 1..=12, day out of the month's 29 or 30 days, or a
/// leap month that the year does not have).
pub fn lunar_to_solar(year: i32, month: u32, day: u32, leap: bool) -> Option<NaiveDate> {
    if !(1..=12).contains(&month) || !(1..=30).contains(&day) {
        return None;
    }
    let month_i = i64::from(month);
    let (a11, b11) = if month < 11 {
        (month11_start(year - 1), month11_start(year))
    } else {
        (month11_start(year), month11_start(year + 1))
    };
    let k = (0.5 + (a11 as f64 - EPOCH_NEW_MOON) / SYNODIC_MONTH).floor() as i64;
    let mut off = month_i - 11;
    if off < 0 {
        off += 12;
    }
    if b11 - a11 > 365 {
        let leap_off = leap_month_offset(a11);
        let mut leap_month = leap_off - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if leap && month_i != leap_month {
            return None;
        }
        if leap || off >= leap_off {
            off += 1;
        }
    } else if leap {
        return None;
    }
    let month_start = new_moon_day(k + off);
    let date = from_jdn(month_start + i64::from(day) - 1)?;
    // Day 30 of a 29-day month spills into the next month: reject it.
    let back = solar_to_lunar(date);
    (back
        == LunarDate {
            year,
            month,
            day,
            leap,
        })
    .then_some(date)
}

/// Tết Nguyên đán: the 1st day of the 1st lunar month of lunar year `year`.
pub fn tet(year: i32) -> NaiveDate {
    // Month 1 exists in every lunar year and day 1 in every month.
    lunar_to_solar(year, 1, 1, false).expect("the 1st day of the 1st lunar month always exists")
}

/// Giỗ Tổ Hùng Vương: the 10th day of the 3rd lunar month of `year`.
pub fn hung_kings_day(year: i32) -> NaiveDate {
    lunar_to_solar(year, 3, 10, false).expect("the 10th day of the 3rd lunar month always exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Tết (1/1 lunar) for 1990–2050, Vietnamese reckoning.
    ///
    /// Source: Hồ Ngọc Đức's published year tables `TK20` (years 1900–1999) and
    /// `TK21` (2000–2099) from his "Âm lịch Việt Nam" program (amlich-hnd.js,
    /// reproduced in many public repositories). Each year is a 24-bit code
    /// whose bits 17 and up give the number of days from 1 January to Tết;
    /// the dates below were decoded from those codes by hand
    /// (e.g. 2026: 0x5ea4e0 >> 17 = 47, 1 Jan + 47 days = 17 Feb), not from
    /// this module. Spot checks against government notices: Tết Ất Tỵ
    /// 29/01/2025 (Thông báo 6150/TB-BLĐTBXH), Tết Bính Ngọ 17/02/2026
    /// (Thông báo 9441/TB-BNV). 2007 (17 Feb, China 18 Feb) and 2030
    /// (2 Feb, China 3 Feb) are years where Vietnam and China differ.
    #[rustfmt::skip]
    const TET_1990_2050: [(i32, u32, u32); 61] = [
        (1990, 1, 27), (1991, 2, 15), (1992, 2, 4), (1993, 1, 23), (1994, 2, 10),
        (1995, 1, 31), (1996, 2, 19), (1997, 2, 7), (1998, 1, 28), (1999, 2, 16),
        (2000, 2, 5), (2001, 1, 24), (2002, 2, 12), (2003, 2, 1), (2004, 1, 22),
        (2005, 2, 9), (2006, 1, 29), (2007, 2, 17), (2008, 2, 7), (2009, 1, 26),
        (2010, 2, 14), (2011, 2, 3), (2012, 1, 23), (2013, 2, 10), (2014, 1, 31),
        (2015, 2, 19), (2016, 2, 8), (2017, 1, 28), (2018, 2, 16), (2019, 2, 5),
        (2020, 1, 25), (2021, 2, 12), (2022, 2, 1), (2023, 1, 22), (2024, 2, 10),
        (2025, 1, 29), (2026, 2, 17), (2027, 2, 6), (2028, 1, 26), (2029, 2, 13),
        (2030, 2, 2), (2031, 1, 23), (2032, 2, 11), (2033, 1, 31), (2034, 2, 19),
        (2035, 2, 8), (2036, 1, 28), (2037, 2, 15), (2038, 2, 4), (2039, 1, 24),
        (2040, 2, 12), (2041, 2, 1), (2042, 1, 22), (2043, 2, 10), (2044, 1, 30),
        (2045, 2, 17), (2046, 2, 6), (2047, 1, 26), (2048, 2, 14), (2049, 2, 2),
        (2050, 1, 23),
    ];

    #[test]
    fn tet_matches_published_table_1990_2050() {
        for (y, m, day) in TET_1990_2050 {
            assert_eq!(tet(y), d(y, m, day), "Tết {y}");
            assert_eq!(
                solar_to_lunar(d(y, m, day)),
                LunarDate {
                    year: y,
                    month: 1,
                    day: 1,
                    leap: false
                },
                "solar_to_lunar(Tết {y})"
            );
        }
    }

    #[test]
    fn tet_1985_is_vietnamese_not_chinese() {
        // Tết Ất Sửu 1985: 21 January in Vietnam (20 February in China); the
        // classic case where the UTC+7 meridian matters.
        assert_eq!(tet(1985), d(1985, 1, 21));
    }

    #[test]
    fn hung_kings_days() {
        // 10/3 Ất Tỵ = Monday 7 April 2025 (the day off in Thông báo
        // 6150/TB-BLĐTBXH); 10/3 Bính Ngọ = Sunday 26 April 2026.
        assert_eq!(hung_kings_day(2025), d(2025, 4, 7));
        assert_eq!(hung_kings_day(2026), d(2026, 4, 26));
        // 2023 has a leap 2nd month (TK21[23] = 0x2a5b52, low nibble 2), so its
        // 3rd month starts after it, on 20 April 2023 (decoded month lengths
        // 29, 30, leap 29 from 22 January): 10/3 Quý Mão was Saturday
        // 29 April 2023, the year its make-up day fell on 2 May.
        assert_eq!(hung_kings_day(2023), d(2023, 4, 29));
    }

    #[test]
    fn leap_months() {
        // 2025 (Ất Tỵ) has a leap 6th month (TK21[25] = 0x38a6e6, low nibble 6);
        // decoding the month-length bits from Tết (29 January: 30, 29, 30, 29,
        // 29, 30 days) puts its 1st day on 25 July 2025. 2023 has a leap 2nd
        // month from 22 March 2023 (22 January + 29 + 30 days).
        assert_eq!(
            solar_to_lunar(d(2025, 7, 25)),
            LunarDate {
                year: 2025,
                month: 6,
                day: 1,
                leap: true
            }
        );
        assert_eq!(lunar_to_solar(2025, 6, 1, true), Some(d(2025, 7, 25)));
        assert_eq!(lunar_to_solar(2023, 2, 1, true), Some(d(2023, 3, 22)));
        // 2026 has no leap month.
        assert_eq!(lunar_to_solar(2026, 6, 1, true), None);
        // Wrong leap month in a leap year.
        assert_eq!(lunar_to_solar(2025, 5, 1, true), None);
    }

    #[test]
    fn invalid_lunar_dates() {
        assert_eq!(lunar_to_solar(2026, 13, 1, false), None);
        assert_eq!(lunar_to_solar(2026, 1, 0, false), None);
        assert_eq!(lunar_to_solar(2026, 1, 31, false), None);
        // Tháng Chạp (12th month) of Ất Tỵ starts 19/01/2026 and has 29 days
        // (TK21[25] month bits), so 29 Chạp is 16/02/2026, the eve of Tết
        // Bính Ngọ (17/02/2026), and there is no 30 Chạp.
        assert_eq!(lunar_to_solar(2025, 12, 1, false), Some(d(2026, 1, 19)));
        assert_eq!(lunar_to_solar(2025, 12, 29, false), Some(d(2026, 2, 16)));
        assert_eq!(lunar_to_solar(2025, 12, 30, false), None);
    }

    #[test]
    fn round_trip_every_day_2000_2030() {
        let mut day = d(2000, 1, 1);
        while day < d(2031, 1, 1) {
            let l = solar_to_lunar(day);
            assert_eq!(
                lunar_to_solar(l.year, l.month, l.day, l.leap),
                Some(day),
                "{day} {l}"
            );
            day = day.succ_opt().unwrap();
        }
    }
}
