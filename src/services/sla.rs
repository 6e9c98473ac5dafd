//! The SLA sweep: finds dossiers whose next check is due, moves each to the state it has
//! reached (exactly once, never early), and records `sla_at_risk` / `sla_overdue` events
//! and notifications.
//!
//! Dossiers are taken through the partial index on `next_check_at` in batches: `FOR UPDATE
//! SKIP LOCKED` on PostgreSQL so several sweepers share the work, an immediate
//! (single-writer) transaction on SQLite. Each dossier decides its own move
//! ([`crate::domain::dossier::Dossier::sla_check`]); each batch is a handful of statements
//! whatever its size.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use crate::db;
use crate::domain::dossier::{DossierEvent, EventKind};
use crate::domain::sla::SlaState;
use crate::repo;
use crate::security::data_key::DataKeys;

/// One change made by a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub code: String,
    pub from: SlaState,
    pub to: SlaState,
    /// When the state was reached (the threshold instant, which may be before the sweep).
    pub reached_at: DateTime<Utc>,
}

/// What a sweep did.
#[derive(Debug, Default, Clone)]
pub struct SweepReport {
    pub changes: Vec<Change>,
    /// Rows examined (due for a check).
    pub examined: usize,
    pub batches: usize,
    /// How late the oldest due check was, in seconds.
    pub max_lag_secs: i64,
    pub elapsed_ms: u128,
}

impl SweepReport {
    pub fn count(&self, to: SlaState) -> usize {
        self.changes.iter().filter(|c| c.to == to).count()
    }
}

fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
}

/// Sweep everything due at `now`, in batches of `batch_size`, yielding between batches.
pub async fn sweep(
    db: &DatabaseConnection,
    keys: &DataKeys,
    now: DateTime<Utc>,
    batch_size: u64,
) -> Result<SweepReport, DbErr> {
    sweep_paced(db, keys, now, batch_size, std::time::Duration::ZERO).await
}

/// [`sweep`], pausing `pause` between batches (`sla.batch_pause_ms`): a deadline storm (a
/// hundred thousand dossiers due at once) is drained at a pace that leaves the database and
/// the cores to the requests meanwhile.
pub async fn sweep_paced(
    db: &DatabaseConnection,
    keys: &DataKeys,
    now: DateTime<Utc>,
    batch_size: u64,
    pause: std::time::Duration,
) -> Result<SweepReport, DbErr> {
    let started = Instant::now();
    let mut report = SweepReport::default();
    loop {
        let n = sweep_batch(db, keys, now, batch_size, &mut report).await?;
        report.batches += 1;
        if n < batch_size as usize {
            break;
        }
        // Let request handlers in; the API stays responsive during a large catch-up.
        if pause.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(pause).await;
        }
    }
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// One batch in one transaction; returns the number of rows taken.
async fn sweep_batch(
    db: &DatabaseConnection,
    keys: &DataKeys,
    now: DateTime<Utc>,
    batch_size: u64,
    report: &mut SweepReport,
) -> Result<usize, DbErr> {
    let txn = db::begin_write(db).await?;
    let mut swept =
        repo::dossiers::due_for_check(&txn, keys, now, batch_size, is_postgres(db)).await?;
    if swept.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    report.examined += swept.len();
    if let Some(oldest) = swept.iter().filter_map(|d| d.next_check_at).min() {
        report.max_lag_secs = report.max_lag_secs.max((now - oldest).num_seconds());
    }
    let events: Vec<Vec<DossierEvent>> = swept.iter_mut().map(|d| d.sla_check(now)).collect();
    repo::dossiers::save_sla_checks(&txn, &swept).await?;
    let mut recorded = Vec::new();
    for (d, es) in swept.iter().zip(&events) {
        recorded.extend(es.iter().map(|e| (d, e)));
    }
    repo::dossiers::record_many(&txn, recorded, now).await?;
    txn.commit().await?;
    for (d, es) in swept.iter().zip(&events) {
        for e in es {
            let EventKind::Sla { from, to } = e.kind else {
                continue;
            };
            report.changes.push(Change {
                code: d.code_str().to_string(),
                from,
                to,
                reached_at: e.at,
            });
        }
    }
    Ok(swept.len())
}
