//! Per-unit daily counters for dossier numbers.

use entity::unit_day_counters::{Column, Entity};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, InsertStatement, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

/// Take the next `n` numbers of `unit` on `day` and return the last of them (the numbers
/// are `last - n + 1 ..= last`): one atomic upsert, so concurrent intakes get distinct
/// numbers on both databases without `MAX()+1`. The new value comes back from the same
/// statement (`RETURNING`, SQLite ≥ 3.35 and PostgreSQL), so the row is not read again.
pub async fn take<C: ConnectionTrait>(db: &C, unit: &str, day: &str, n: i32) -> Result<i32, DbErr> {
    let mut stmt = take_many([(unit, day, n)]);
    stmt.returning_col(Column::Last);
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("unit_day_counters".into()))?;
    row.try_get("", "last")
}

/// The upsert that takes `n` numbers from each `(unit, day, n)` counter (each counter named
/// once), for a caller that numbers its rows in the same statement or transaction.
pub fn take_many<'a>(takes: impl IntoIterator<Item = (&'a str, &'a str, i32)>) -> InsertStatement {
    take_many_exprs(
        takes
            .into_iter()
            .map(|(unit, day, n)| [unit.into(), day.into(), n.into()]),
    )
}

/// [`take_many`] with each `[unit, day, n]` given as an expression.
pub fn take_many_exprs(takes: impl IntoIterator<Item = [Expr; 3]>) -> InsertStatement {
    let mut stmt = Query::insert();
    stmt.into_table(Entity)
        .columns([Column::UnitCode, Column::Day, Column::Last]);
    for take in takes {
        stmt.values_panic(take);
    }
    stmt.on_conflict(
        OnConflict::columns([Column::UnitCode, Column::Day])
            .value(
                Column::Last,
                Expr::col((Entity, Column::Last))
                    .add(Expr::col((Alias::new("excluded"), Column::Last))),
            )
            .to_owned(),
    );
    stmt
}

/// Every counter as `(unit, day, last)`.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String, i32)>, DbErr> {
    use sea_orm::EntityTrait;
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.unit_code, r.day, r.last))
        .collect())
}

/// Raise counters to at least the given values (numbers given out by a bulk writer), in one
/// write transaction.
pub async fn raise(
    db: &sea_orm::DatabaseConnection,
    counters: impl IntoIterator<Item = (String, String, i32)>,
) -> Result<(), DbErr> {
    use entity::unit_day_counters::ActiveModel;
    use sea_orm::sea_query::Func;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let rows: Vec<ActiveModel> = counters
        .into_iter()
        .map(|(unit, day, last)| ActiveModel {
            unit_code: Set(unit),
            day: Set(day),
            last: Set(last),
        })
        .collect();
    let txn = crate::db::begin_write(db).await?;
    for chunk in rows.chunks(1000) {
        Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([Column::UnitCode, Column::Day])
                    .value(
                        Column::Last,
                        Func::greatest([
                            Expr::col((Entity, Column::Last)),
                            Expr::cust("excluded.last"),
                        ]),
                    )
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await
}
