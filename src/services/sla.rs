//! The SLA sweep: finds dossiers whose next check is due, moves each to the state it has
//! reached (exactly once, never early), and records `sla_at_risk` / `sla_overdue` events
//! and notifications.
//!
//! Rows are taken through the partial index on `next_check_at` in batches: `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL so several sweepers share the work, an immediate (single-writer)
//! transaction on SQLite. Each batch is a handful of statements whatever its size.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use entity::cases::{self, Column, Entity};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use crate::db;
use crate::domain::sla::{self, SlaState};

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
    now: DateTime<Utc>,
    batch_size: u64,
) -> Result<SweepReport, DbErr> {
    let started = Instant::now();
    let mut report = SweepReport::default();
    loop {
        let n = sweep_batch(db, now, batch_size, &mut report).await?;
        report.batches += 1;
        if n < batch_size as usize {
            break;
        }
        // Let request handlers in; the API stays responsive during a large catch-up.
        tokio::task::yield_now().await;
    }
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// One batch in one transaction; returns the number of rows taken.
async fn sweep_batch(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch_size: u64,
    report: &mut SweepReport,
) -> Result<usize, DbErr> {
    let txn = db::begin_write(db).await?;
    let mut q = Entity::find()
        .filter(Column::NextCheckAt.is_not_null())
        .filter(Column::NextCheckAt.lte(now))
        .order_by_asc(Column::NextCheckAt)
        .limit(batch_size);
    if is_postgres(db) {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = q.all(&txn).await?;
    if rows.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    report.examined += rows.len();
    if let Some(oldest) = rows.iter().filter_map(|r| r.next_check_at).min() {
        report.max_lag_secs = report.max_lag_secs.max((now - oldest).num_seconds());
    }

    let mut to_at_risk = Vec::new();
    let mut to_overdue = Vec::new();
    let mut recheck = Vec::new();
    let mut clear = Vec::new();
    let mut changes: Vec<(&cases::Model, Change)> = Vec::new();
    for row in &rows {
        let (Some(risk), Some(due)) = (row.at_risk_at, row.due_at) else {
            clear.push(row.id);
            continue;
        };
        if row.closed_at.is_some() || row.paused_at.is_some() || row.decided_at.is_some() {
            clear.push(row.id);
            continue;
        }
        let current = SlaState::parse(&row.sla_state).unwrap_or(SlaState::OnTrack);
        let reached = sla::state_at(now, risk, due);
        if reached <= current {
            // Checked early (e.g. the deadline moved): look again at the right time.
            recheck.push(row.id);
            continue;
        }
        // Each state is recorded once, at the instant it was reached, even when a late sweep
        // crosses both thresholds at once.
        if current < SlaState::AtRisk {
            changes.push((
                row,
                Change {
                    code: row.code.clone(),
                    from: current,
                    to: SlaState::AtRisk,
                    reached_at: risk,
                },
            ));
        }
        if reached == SlaState::Overdue {
            let from = if current < SlaState::AtRisk {
                SlaState::AtRisk
            } else {
                current
            };
            changes.push((
                row,
                Change {
                    code: row.code.clone(),
                    from,
                    to: SlaState::Overdue,
                    reached_at: due,
                },
            ));
            to_overdue.push(row.id);
        } else {
            to_at_risk.push(row.id);
        }
    }

    if !to_at_risk.is_empty() {
        Entity::update_many()
            .col_expr(Column::SlaState, Expr::value(SlaState::AtRisk.as_str()))
            .col_expr(Column::NextCheckAt, Expr::col(Column::DueAt))
            .filter(Column::Id.is_in(to_at_risk))
            .exec(&txn)
            .await?;
    }
    if !to_overdue.is_empty() {
        Entity::update_many()
            .col_expr(Column::SlaState, Expr::value(SlaState::Overdue.as_str()))
            .col_expr(
                Column::NextCheckAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(Column::Id.is_in(to_overdue))
            .exec(&txn)
            .await?;
    }
    if !recheck.is_empty() {
        // on_track rows next look at at_risk_at, at_risk rows at due_at.
        Entity::update_many()
            .col_expr(
                Column::NextCheckAt,
                Expr::case(
                    Column::SlaState.eq(SlaState::AtRisk.as_str()),
                    Expr::col(Column::DueAt),
                )
                .finally(Expr::col(Column::AtRiskAt))
                .into(),
            )
            .filter(Column::Id.is_in(recheck))
            .exec(&txn)
            .await?;
    }
    if !clear.is_empty() {
        Entity::update_many()
            .col_expr(
                Column::NextCheckAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(Column::Id.is_in(clear))
            .exec(&txn)
            .await?;
    }

    if !changes.is_empty() {
        write_events(&txn, &changes, now).await?;
    }
    txn.commit().await?;
    report.changes.extend(changes.into_iter().map(|(_, c)| c));
    Ok(rows.len())
}

/// Rows per INSERT: a batch's events (or outbox rows) in one or two statements. Large
/// statements are only cheap with TCP_NODELAY on the PostgreSQL connection, which sqlx 0.9.0
/// lost: see `vendor/README.md`.
const INSERT_CHUNK: usize = 500;

/// Append the events and outbox rows of a batch's changes (a few inserts).
async fn write_events<C: ConnectionTrait>(
    txn: &C,
    changes: &[(&cases::Model, Change)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use entity::{case_events, outbox};
    let ids: Vec<i64> = changes.iter().map(|(r, _)| r.id).collect();
    let last: Vec<(i64, Option<i32>)> = case_events::Entity::find()
        .select_only()
        .column(case_events::Column::CaseId)
        .column_as(case_events::Column::Seq.max(), "max_seq")
        .filter(case_events::Column::CaseId.is_in(ids))
        .group_by(case_events::Column::CaseId)
        .into_tuple()
        .all(txn)
        .await?;
    let mut next: HashMap<i64, i32> = last
        .into_iter()
        .map(|(id, s)| (id, s.unwrap_or(0) + 1))
        .collect();
    let mut events = Vec::with_capacity(changes.len());
    let mut notes = Vec::with_capacity(changes.len());
    for (row, change) in changes {
        let seq = next.entry(row.id).or_insert(1);
        let action = match change.to {
            SlaState::Overdue => "sla_overdue",
            _ => "sla_at_risk",
        };
        events.push(
            crate::repo::events::NewEvent {
                case_id: row.id,
                action: action.to_string(),
                actor_id: None,
                actor_role: "system".into(),
                actor_unit: None,
                from_status: Some(row.status.clone()),
                to_status: row.status.clone(),
                reason: None,
                data: json!({
                    "sla_from": change.from.as_str(),
                    "sla_to": change.to.as_str(),
                    "reached_at": change.reached_at,
                    "due_at": row.due_at,
                    "detected_at": now,
                }),
                public: false,
                at: change.reached_at,
            }
            .into_row(*seq),
        );
        *seq += 1;
        // The handling unit's clerks and head are warned; when the deadline passes without a
        // new appointment, the applicant is owed an apology (Form 04) and is told.
        let mut recipients = vec![
            json!({"kind": "unit", "unit": row.handling_unit.as_ref().unwrap_or(&row.receiving_unit)}),
        ];
        if let Some(a) = row.assigned_to {
            recipients.push(json!({"kind": "account", "account_id": a}));
        }
        let apology_due = change.to == SlaState::Overdue && row.appointment_at == row.due_at;
        if apology_due {
            if let Some(a) = row.applicant_account_id {
                recipients.push(json!({"kind": "applicant", "account_id": a}));
            }
        }
        notes.push(crate::repo::outbox::row(
            &format!("sla.{}", change.to.as_str()),
            Some(&row.code),
            json!(recipients),
            json!({
                "event": action,
                "MaHoSo": row.code,
                "handling_unit": row.handling_unit,
                "due_at": row.due_at,
                "reached_at": change.reached_at,
                "apology_due": apology_due,
            }),
            now,
        ));
    }
    for chunk in events.chunks(INSERT_CHUNK) {
        case_events::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in notes.chunks(INSERT_CHUNK) {
        outbox::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
