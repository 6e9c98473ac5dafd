//! Reports computed in advance (`report_snapshots`, migration 27): the latest result of each,
//! and the lease that lets one instance compute it at a time. The lease also says when the
//! next computation is due: storing a result holds the lease until then, so instances that
//! try more often than that find it taken.

use chrono::{DateTime, Utc};
use entity::report_snapshots::{self, Column};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

/// The report's latest result and the instant it is as of, if it was ever computed.
pub async fn latest<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> Result<Option<(DateTime<Utc>, String)>, DbErr> {
    Ok(report_snapshots::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .and_then(|r| Some((r.computed_at?, r.body?))))
}

/// Take the report's lease until `until`, unless it runs past `now` (another instance is
/// computing it, or the next computation is not due); true when taken.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    name: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    report_snapshots::Entity::insert(report_snapshots::ActiveModel {
        name: Set(name.to_string()),
        computed_at: Set(None),
        body: Set(None),
        lease_until: Set(None),
    })
    .on_conflict(OnConflict::column(Column::Name).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    let taken = report_snapshots::Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(until))
        .filter(Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(Column::LeaseUntil.is_null())
                .add(Column::LeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Keep `body` as the report's result as of `at`; the next computation is due at `next`.
pub async fn store<C: ConnectionTrait>(
    db: &C,
    name: &str,
    at: DateTime<Utc>,
    body: String,
    next: DateTime<Utc>,
) -> Result<(), DbErr> {
    report_snapshots::Entity::update_many()
        .col_expr(Column::ComputedAt, Expr::value(at))
        .col_expr(Column::Body, Expr::value(body))
        .col_expr(Column::LeaseUntil, Expr::value(next))
        .filter(Column::Name.eq(name))
        .exec(db)
        .await
        .map(|_| ())
}
