//! The transactional outbox: notifications written in the same transaction as the change
//! they announce, delivered later by the dispatcher.

use chrono::{DateTime, Utc};
use entity::outbox::{self, Column, Entity};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A stored outbox row.
pub type Row = outbox::Model;

/// A new outbox row, due at once (also used for bulk inserts).
pub fn row(
    topic: &str,
    case_code: Option<&str>,
    recipients: serde_json::Value,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        event_id: Set(Uuid::now_v7()),
        topic: Set(topic.to_string()),
        case_code: Set(case_code.map(str::to_string)),
        recipients: Set(recipients),
        payload: Set(payload),
        created_at: Set(now),
        available_at: Set(now),
        attempts: Set(0),
        delivered_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    topic: &str,
    case_code: Option<&str>,
    recipients: serde_json::Value,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<outbox::Model, DbErr> {
    row(topic, case_code, recipients, payload, now)
        .insert(db)
        .await
}

/// Up to `limit` rows due at `now` (neither delivered nor failed), oldest first. On
/// PostgreSQL they are locked, skipping rows another dispatcher holds: call inside the
/// transaction that leases them.
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let mut q = Entity::find()
        .filter(Column::DeliveredAt.is_null())
        .filter(Column::FailedAt.is_null())
        .filter(Column::AvailableAt.lte(now))
        .order_by_asc(Column::Id)
        .limit(limit);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    q.all(db).await
}

/// Hide rows from every dispatcher until `until`.
pub async fn lease<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::AvailableAt, Expr::value(until))
        .filter(Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn mark_delivered<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    Entity::update_many()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .col_expr(Column::DeliveredAt, Expr::value(at))
        .exec(db)
        .await?;
    Ok(())
}

/// A failed attempt: the row is tried again at `retry_at`, or (none) given up at `at`.
pub async fn mark_attempt_failed<C: ConnectionTrait>(
    db: &C,
    id: i64,
    attempts: i32,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let u = Entity::update_many()
        .filter(Column::Id.eq(id))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::LastError, Expr::value(error));
    let u = match retry_at {
        Some(r) => u.col_expr(Column::AvailableAt, Expr::value(r)),
        None => u.col_expr(Column::FailedAt, Expr::value(at)),
    };
    u.exec(db).await?;
    Ok(())
}

/// Rows neither delivered nor failed.
pub async fn backlog<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::DeliveredAt.is_null())
        .filter(Column::FailedAt.is_null())
        .count(db)
        .await
}
