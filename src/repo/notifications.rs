//! Messages to applicants and their delivery status (`notifications`).

use chrono::{DateTime, Utc};
use entity::notifications::{self, Column, Entity};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

pub type Notification = notifications::Model;

/// A message to send for a step, unless that step's message on that channel exists.
pub async fn want<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    case_code: &str,
    event_seq: i32,
    kind: &str,
    channel: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::insert(notifications::ActiveModel {
        case_id: Set(case_id),
        case_code: Set(case_code.to_string()),
        event_seq: Set(event_seq),
        kind: Set(kind.to_string()),
        channel: Set(channel.to_string()),
        status: Set("pending".to_string()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([Column::CaseId, Column::EventSeq, Column::Channel])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Up to `limit` pending messages due at `now`; locked on PostgreSQL, skipping those another
/// instance holds (call in the transaction that leases them).
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Notification>, DbErr> {
    let mut q = Entity::find()
        .filter(Column::Status.eq("pending"))
        .filter(Column::NextAttemptAt.lte(now))
        .order_by_asc(Column::Id)
        .limit(limit);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    q.all(db).await
}

pub async fn lease<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::NextAttemptAt, Expr::value(until))
        .filter(Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

/// Record an attempt: `sent`, `failed` (given up) or still `pending` until `retry_at`.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: &str,
    attempts: i32,
    error: Option<&str>,
    retry_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .filter(Column::Id.eq(id))
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::LastError, Expr::value(error.map(str::to_string)))
        .col_expr(Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(Column::SentAt, Expr::value(sent_at))
        .exec(db)
        .await?;
    Ok(())
}

/// A dossier's messages, oldest first.
pub async fn of_case<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Vec<Notification>, DbErr> {
    Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}
