//! Reads that a PostgreSQL streaming replica may serve (`database.read_url`).
//!
//! Statistics, queues, lists and public tracking tolerate data a moment old; everything that
//! writes, or must read what it just wrote (a dossier's page after an action, the action's own
//! checks), stays on the primary. A replica is used only while it is known to be at most
//! `database.read_max_lag_ms` behind: [`Reads::probe`] (run by `jobs::replica` a few times per
//! bound) samples the primary's WAL insert position, then the replica's replay position, and
//! remembers the newest moment at which the replica held everything the primary had
//! committed. When that moment grows older than the bound — replay paused or slow, the replica
//! down, the probes failing — reads go to the primary until it catches up. A reader therefore
//! sees data at most the bound old (plus one probe interval), never older, and never an error
//! because of the replica.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

/// The streaming replica, if one is configured, and how fresh it is known to be. The primary
/// is not held here: callers read from [`Reads::replica`] when it answers, else from their own
/// primary connection (`AppState::read_db`).
pub struct Reads {
    replica: Option<Replica>,
}

struct Replica {
    conn: DatabaseConnection,
    max_lag: Duration,
    state: Mutex<Freshness>,
}

/// The primary's WAL positions as sampled, and the newest moment the replica had replayed.
struct Freshness {
    /// (when sampled, primary WAL insert position), oldest first.
    samples: VecDeque<(Instant, u64)>,
    /// The replica held everything the primary had committed at this moment.
    fresh_as_of: Option<Instant>,
}

impl Reads {
    /// No replica (SQLite, or no `read_url`): every read goes to the primary.
    pub fn none() -> Self {
        Reads { replica: None }
    }

    /// A replica that serves the tolerant reads while it is at most `max_lag` behind.
    pub fn with_replica(replica: DatabaseConnection, max_lag: Duration) -> Self {
        Reads {
            replica: Some(Replica {
                conn: replica,
                max_lag,
                state: Mutex::new(Freshness {
                    samples: VecDeque::new(),
                    fresh_as_of: None,
                }),
            }),
        }
    }

    /// The replica, while it keeps up; `None`: read from the primary.
    pub fn replica(&self) -> Option<&DatabaseConnection> {
        self.replica
            .as_ref()
            .filter(|r| r.staleness().is_some_and(|s| s <= r.max_lag))
            .map(|r| &r.conn)
    }

    /// Whether a replica is configured.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// How far behind the replica is known to be (`None`: no replica, or never seen caught up).
    pub fn staleness(&self) -> Option<Duration> {
        self.replica.as_ref().and_then(Replica::staleness)
    }

    /// Whether tolerant reads go to the replica now.
    pub fn replica_in_use(&self) -> bool {
        self.replica().is_some()
    }

    /// How often [`Reads::probe`] should run: four times per bound, between 50 ms and 1 s.
    pub fn probe_interval(&self) -> Option<Duration> {
        self.replica
            .as_ref()
            .map(|r| (r.max_lag / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)))
    }

    /// Sample `primary`'s WAL position, then the replica's replay position, and update how
    /// fresh the replica is. An error leaves the last known freshness to age.
    pub async fn probe(&self, primary: &DatabaseConnection) -> Result<(), DbErr> {
        let Some(r) = &self.replica else {
            return Ok(());
        };
        let sampled_at = Instant::now();
        let primary = lsn(primary, "pg_current_wal_lsn()").await?;
        let replayed = lsn(&r.conn, "pg_last_wal_replay_lsn()").await?;
        let mut s = r.state.lock().unwrap_or_else(|p| p.into_inner());
        s.samples.push_back((sampled_at, primary));
        // The newest sample the replica has reached: everything committed on the primary
        // before that sample was taken is visible on the replica.
        if let Some(&(at, _)) = s.samples.iter().rev().find(|(_, p)| *p <= replayed) {
            s.fresh_as_of = Some(s.fresh_as_of.map_or(at, |f| f.max(at)));
            while s.samples.front().is_some_and(|(t, _)| *t < at) {
                s.samples.pop_front();
            }
        }
        // Samples far older than the bound cannot change a decision any more.
        let horizon = r.max_lag * 4 + Duration::from_secs(1);
        while s
            .samples
            .front()
            .is_some_and(|(t, _)| sampled_at.duration_since(*t) > horizon)
            && s.samples.len() > 1
        {
            s.samples.pop_front();
        }
        Ok(())
    }
}

impl Replica {
    fn staleness(&self) -> Option<Duration> {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.fresh_as_of.map(|f| f.elapsed())
    }
}

/// A WAL position (`pg_lsn`) as a byte offset; a standby that has replayed nothing yet gives 0.
async fn lsn(db: &DatabaseConnection, expr: &str) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT COALESCE(({expr} - '0/0'::pg_lsn)::bigint, 0) AS lsn"),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no WAL position".into()))?;
    let n: i64 = row.try_get("", "lsn")?;
    Ok(n.max(0) as u64)
}
