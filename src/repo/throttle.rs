//! Failed-login counters, one row per account key or client address.

use chrono::{DateTime, Utc};
use entity::login_throttle::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

pub async fn get<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<login_throttle::Model>, DbErr> {
    login_throttle::Entity::find_by_id(key.to_string())
        .one(db)
        .await
}

/// Count one more failure atomically (concurrent failures are all counted); failures older
/// than `window_start` are forgotten first. Returns the new count.
pub async fn record_failure<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
) -> Result<i32, DbErr> {
    let row = login_throttle::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(1),
        last_failure_at: Set(now),
        locked_until: Set(None),
    };
    let failures = Expr::case(
        Expr::col((login_throttle::Entity, Column::LastFailureAt)).lt(window_start),
        Expr::val(1),
    )
    .finally(Expr::col((login_throttle::Entity, Column::Failures)).add(1));
    let model = login_throttle::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Key)
                .value(Column::Failures, failures)
                .value(Column::LastFailureAt, Expr::val(now))
                .to_owned(),
        )
        .exec_with_returning(db)
        .await?;
    Ok(model.failures)
}

/// Lock the key until the given instant.
pub async fn lock_until<C: ConnectionTrait>(
    db: &C,
    key: &str,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_throttle::Entity::update_many()
        .col_expr(Column::LockedUntil, Expr::value(until))
        .filter(Column::Key.eq(key))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn clear<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    login_throttle::Entity::delete_by_id(key.to_string())
        .exec(db)
        .await
        .map(|_| ())
}
