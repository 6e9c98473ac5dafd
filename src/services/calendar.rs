//! The working calendars the service computes deadlines with.
//!
//! Built at start from the statutory rules, the yearly announcements shipped in
//! `config/calendar/` (compiled in; files in `calendar.dir` override them per year) and the
//! announcements administrators posted (database). One [`WorkCalendar`] per distinct set of
//! office hours, built on first use.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::config::CalendarSettings;
use crate::domain::calendar::{
    load_dir, CalendarError, Holidays, WorkCalendar, WorkingHours, YearAnnouncement,
};

/// The years the index covers.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Announcements shipped with the binary.
const SHIPPED: [(i32, &str); 2] = [
    (2025, include_str!("../../config/calendar/2025.toml")),
    (2026, include_str!("../../config/calendar/2026.toml")),
];

/// Holidays plus a cache of per-hours working calendars.
pub struct Calendars {
    holidays: Holidays,
    default_hours: WorkingHours,
    default: Arc<WorkCalendar>,
    by_hours: Mutex<HashMap<String, Arc<WorkCalendar>>>,
    /// How many database announcements went into this build (to notice new ones).
    pub db_announcements: u64,
}

impl std::fmt::Debug for Calendars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calendars")
            .field("default_hours", &self.default_hours.to_string())
            .field("db_announcements", &self.db_announcements)
            .finish_non_exhaustive()
    }
}

impl Calendars {
    /// Build from announcements (shipped and file ones first, then database ones in order).
    pub fn build(
        announcements: &[YearAnnouncement],
        default_hours: WorkingHours,
        db_announcements: u64,
    ) -> Result<Self, CalendarError> {
        let holidays = Holidays::build(YEARS, announcements)?;
        let default = Arc::new(WorkCalendar::new(&holidays, default_hours.clone(), YEARS)?);
        Ok(Calendars {
            holidays,
            default_hours,
            default,
            by_hours: Mutex::new(HashMap::new()),
            db_announcements,
        })
    }

    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    /// The calendar with the default office hours.
    pub fn default_calendar(&self) -> Arc<WorkCalendar> {
        self.default.clone()
    }

    /// The calendar for a unit's office hours (`"07:30-11:30,13:00-17:00"`); the default one
    /// when the hours are the default or do not parse (they are validated on write).
    pub fn for_hours(&self, hours: &str) -> Arc<WorkCalendar> {
        let Ok(parsed) = hours.parse::<WorkingHours>() else {
            return self.default.clone();
        };
        if parsed == self.default_hours {
            return self.default.clone();
        }
        let key = parsed.to_string();
        let mut cache = self.by_hours.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&key) {
            return c.clone();
        }
        match WorkCalendar::new(&self.holidays, parsed, YEARS) {
            Ok(c) => {
                let c = Arc::new(c);
                cache.insert(key, c.clone());
                c
            }
            Err(_) => self.default.clone(),
        }
    }
}

/// Shipped announcements, replaced per year by files found in `dir`.
pub fn file_announcements(dir: &str) -> Result<Vec<YearAnnouncement>, CalendarError> {
    let mut by_year: BTreeMap<i32, YearAnnouncement> = BTreeMap::new();
    for (year, text) in SHIPPED {
        by_year.insert(year, YearAnnouncement::parse_for_year(text, year)?);
    }
    let path = std::path::Path::new(dir);
    if path.is_dir() {
        for a in load_dir(path)? {
            by_year.insert(a.year, a);
        }
    }
    Ok(by_year.into_values().collect())
}

/// Announcements posted by administrators, oldest first.
pub async fn db_announcements<C: ConnectionTrait>(db: &C) -> Result<Vec<YearAnnouncement>, DbErr> {
    let rows = crate::repo::calendar::all(db).await?;
    rows.into_iter()
        .map(|r| {
            serde_json::from_value::<YearAnnouncement>(r.body)
                .map_err(|e| DbErr::Custom(format!("calendar announcement {}: {e}", r.id)))
        })
        .collect()
}

/// Why the calendars could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Build the calendars from every source.
pub async fn load(
    db: &DatabaseConnection,
    dir: &str,
    default_hours: &str,
) -> Result<Calendars, LoadError> {
    let mut all = file_announcements(dir)?;
    let posted = db_announcements(db).await?;
    let count = posted.len() as u64;
    all.extend(posted);
    let hours: WorkingHours = default_hours.parse()?;
    Ok(Calendars::build(&all, hours, count)?)
}

/// The live calendars of an app instance; swapped whole when announcements change.
#[derive(Clone)]
pub struct CalendarHandle(Arc<RwLock<Arc<Calendars>>>);

impl CalendarHandle {
    pub fn new(c: Calendars) -> Self {
        CalendarHandle(Arc::new(RwLock::new(Arc::new(c))))
    }

    pub fn current(&self) -> Arc<Calendars> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, c: Calendars) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(c);
    }
}

/// Store an announcement posted by an administrator.
pub async fn store_announcement<C: ConnectionTrait>(
    db: &C,
    a: &YearAnnouncement,
    by: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let body = serde_json::to_value(a).map_err(|e| DbErr::Custom(e.to_string()))?;
    crate::repo::calendar::insert(db, a.year, body, by, now).await
}

/// Count stored announcements (other instances compare it with their build).
pub async fn count_announcements<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    crate::repo::calendar::count(db).await
}

/// Rebuild this instance's calendars when another instance stored an announcement.
pub async fn refresh_if_changed(
    db: &DatabaseConnection,
    calendars: &CalendarHandle,
    settings: &CalendarSettings,
) -> Result<bool, LoadError> {
    let stored = count_announcements(db).await?;
    if stored == calendars.current().db_announcements {
        return Ok(false);
    }
    let fresh = load(db, &settings.dir, &settings.default_working_hours).await?;
    calendars.replace(fresh);
    tracing::info!(announcements = stored, "calendars rebuilt");
    Ok(true)
}

/// Dossiers take their unit's calendar from here.
impl crate::domain::dossier::CalendarSource for Calendars {
    fn calendar_of(&self, unit: Option<&crate::domain::routing::UnitInfo>) -> Arc<WorkCalendar> {
        match unit {
            Some(u) => self.for_hours(&u.working_hours),
            None => self.default_calendar(),
        }
    }
}
