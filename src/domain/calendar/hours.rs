//! Office hours of a unit: ordered, non-overlapping segments of local time
//! (Asia/Ho_Chi_Minh, a fixed UTC+7 with no daylight saving).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

use super::CalendarError;

/// Seconds in a day.
pub(crate) const DAY_SECS: u32 = 86_400;

/// A unit's office hours on a working day, e.g. `07:30-11:30,13:00-17:00`.
///
/// Segments are half-open `[start, end)` in seconds after local midnight,
/// sorted and non-overlapping (touching is allowed); `24:00` may end the
/// last one. Serialised (serde) as the string form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkingHours {
    segments: Vec<(u32, u32)>,
    total: u32,
}

impl Default for WorkingHours {
    /// 07:30–11:30 and 13:00–17:00, the usual civil-service hours (8 h).
    fn default() -> Self {
        Self::new(vec![
            (7 * 3600 + 1800, 11 * 3600 + 1800),
            (13 * 3600, 17 * 3600),
        ])
        .expect("default working hours are valid")
    }
}

fn hours_error(input: &str, reason: impl Into<String>) -> CalendarError {
    CalendarError::WorkingHours {
        input: input.to_owned(),
        reason: reason.into(),
    }
}

fn parse_hhmm(s: &str, whole: &str) -> Result<u32, CalendarError> {
    let s = s.trim();
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| hours_error(whole, format!("{s:?} is not HH:MM")))?;
    let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return Err(hours_error(whole, format!("{s:?} is not HH:MM")));
    }
    let (h, m): (u32, u32) = (h.parse().unwrap_or(99), m.parse().unwrap_or(99));
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(hours_error(whole, format!("{s:?} is not a time of day")));
    }
    Ok(h * 3600 + m * 60)
}

impl WorkingHours {
    /// Builds from `(start, end)` pairs in seconds after local midnight.
    pub fn new(segments: Vec<(u32, u32)>) -> Result<Self, CalendarError> {
        let shown = || {
            segments
                .iter()
                .map(|&(a, b)| format!("{}-{}", hhmm(a), hhmm(b)))
                .collect::<Vec<_>>()
                .join(",")
        };
        if segments.is_empty() {
            return Err(hours_error(&shown(), "no segment"));
        }
        let mut prev_end = 0;
        for (i, &(start, end)) in segments.iter().enumerate() {
            if end > DAY_SECS {
                return Err(hours_error(&shown(), "a segment ends after 24:00"));
            }
            if start >= end {
                return Err(hours_error(
                    &shown(),
                    format!("segment {} does not end after it starts", i + 1),
                ));
            }
            if i > 0 && start < prev_end {
                return Err(hours_error(
                    &shown(),
                    format!("segment {} overlaps or precedes the one before", i + 1),
                ));
            }
            prev_end = end;
        }
        let total = segments.iter().map(|&(a, b)| b - a).sum();
        Ok(Self { segments, total })
    }

    /// The segments, `(start, end)` in seconds after local midnight.
    pub fn segments(&self) -> &[(u32, u32)] {
        &self.segments
    }

    /// Working seconds in one working day (28 800 for the default hours).
    pub fn secs_per_day(&self) -> u32 {
        self.total
    }

    /// Working hours in one working day (8.0 for the default hours).
    pub fn hours_per_day(&self) -> f64 {
        f64::from(self.total) / 3600.0
    }

    /// Start of the first segment (opening time), seconds after midnight.
    pub fn opening(&self) -> u32 {
        self.segments[0].0
    }

    /// End of the last segment (closing time), seconds after midnight.
    pub fn closing(&self) -> u32 {
        self.segments[self.segments.len() - 1].1
    }

    /// Working seconds of a working day that have elapsed at `sod` seconds
    /// after local midnight.
    #[inline]
    pub(crate) fn secs_before(&self, sod: u32) -> u32 {
        let mut acc = 0;
        for &(start, end) in &self.segments {
            if sod >= end {
                acc += end - start;
            } else {
                if sod > start {
                    acc += sod - start;
                }
                break;
            }
        }
        acc
    }

    /// The time of day at which the `r`-th working second of the day ends,
    /// `0 < r <= secs_per_day()`: the end of a segment rather than the start
    /// of the next one when `r` falls on a boundary.
    #[inline]
    pub(crate) fn time_ending(&self, mut r: u32) -> u32 {
        for &(start, end) in &self.segments {
            let len = end - start;
            if r <= len {
                return start + r;
            }
            r -= len;
        }
        self.closing()
    }

    /// The time of day at which the working second following `r` elapsed
    /// working seconds starts, `0 <= r < secs_per_day()`.
    #[inline]
    pub(crate) fn time_starting(&self, mut r: u32) -> u32 {
        for &(start, end) in &self.segments {
            let len = end - start;
            if r < len {
                return start + r;
            }
            r -= len;
        }
        self.closing()
    }

    /// Whether `sod` (seconds after local midnight) is inside a segment.
    pub fn contains(&self, sod: u32) -> bool {
        self.segments.iter().any(|&(a, b)| sod >= a && sod < b)
    }
}

fn hhmm(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(a, b)) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}-{}", hhmm(a), hhmm(b))?;
        }
        Ok(())
    }
}

impl FromStr for WorkingHours {
    type Err = CalendarError;

    /// Parses `"07:30-11:30,13:00-17:00"` (spaces around items allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(hours_error(s, "empty"));
        }
        let mut segments = Vec::new();
        for part in s.split(',') {
            let (a, b) = part
                .split_once('-')
                .ok_or_else(|| hours_error(s, format!("{:?} is not HH:MM-HH:MM", part.trim())))?;
            segments.push((parse_hhmm(a, s)?, parse_hhmm(b, s)?));
        }
        Self::new(segments).map_err(|e| match e {
            CalendarError::WorkingHours { reason, .. } => hours_error(s, reason),
            other => other,
        })
    }
}

impl Serialize for WorkingHours {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_default_form() {
        let h: WorkingHours = "07:30-11:30,13:00-17:00".parse().unwrap();
        assert_eq!(h, WorkingHours::default());
        assert_eq!(h.secs_per_day(), 8 * 3600);
        assert_eq!(h.hours_per_day(), 8.0);
        assert_eq!(h.to_string(), "07:30-11:30,13:00-17:00");
        let spaced: WorkingHours = " 07:30 - 11:30 , 13:00 - 17:00 ".parse().unwrap();
        assert_eq!(spaced, h);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "07:30",
            "7:30-11:30",
            "07:30-11:60",
            "25:00-26:00",
            "11:30-07:30",
            "07:30-07:30",
            "07:30-12:00,11:00-17:00",
            "13:00-17:00,07:30-11:30",
            "07:30-11:30,",
            "24:30-24:45",
        ] {
            let err = bad.parse::<WorkingHours>().unwrap_err();
            assert!(
                matches!(err, CalendarError::WorkingHours { .. }),
                "{bad:?}: {err}"
            );
        }
        // 24:00 may end the day.
        assert_eq!(
            "00:00-24:00"
                .parse::<WorkingHours>()
                .unwrap()
                .secs_per_day(),
            DAY_SECS
        );
    }

    #[test]
    fn serde_as_string() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Unit {
            hours: WorkingHours,
        }
        let u: Unit = toml::from_str(r#"hours = "08:00-12:00,13:30-17:30""#).unwrap();
        assert_eq!(u.hours.secs_per_day(), 8 * 3600);
        assert_eq!(
            toml::to_string(&u).unwrap().trim(),
            r#"hours = "08:00-12:00,13:30-17:30""#
        );
        assert!(toml::from_str::<Unit>(r#"hours = "08:00-07:00""#).is_err());
    }

    #[test]
    fn intra_day_offsets() {
        let h = WorkingHours::default();
        let t = |hh: u32, mm: u32| hh * 3600 + mm * 60;
        assert_eq!(h.secs_before(t(6, 0)), 0);
        assert_eq!(h.secs_before(t(8, 30)), 3600);
        assert_eq!(h.secs_before(t(12, 0)), 4 * 3600);
        assert_eq!(h.secs_before(t(14, 0)), 5 * 3600);
        assert_eq!(h.secs_before(t(18, 0)), 8 * 3600);
        // 4 h of work end at 11:30 (not 13:00); the 4 h-th second starts again at 13:00.
        assert_eq!(h.time_ending(4 * 3600), t(11, 30));
        assert_eq!(h.time_starting(4 * 3600), t(13, 0));
        assert_eq!(h.time_ending(8 * 3600), t(17, 0));
        assert_eq!(h.time_starting(0), t(7, 30));
    }
}
