//! Per-unit daily counters for dossier numbers.

use entity::unit_day_counters::{Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

/// Take the next `n` numbers of `unit` on `day` and return the last of them (the numbers
/// are `last - n + 1 ..= last`): one atomic upsert, so concurrent intakes get distinct
/// numbers on both databases without `MAX()+1`. The new value comes back from the same
/// statement (`RETURNING`, SQLite ≥ 3.35 and PostgreSQL), so the row is not read again.
pub async fn take<C: ConnectionTrait>(db: &C, unit: &str, day: &str, n: i32) -> Result<i32, DbErr> {
    let stmt = Query::insert()
        .into_table(Entity)
        .columns([Column::UnitCode, Column::Day, Column::Last])
        .values_panic([unit.into(), day.into(), n.into()])
        .on_conflict(
            OnConflict::columns([Column::UnitCode, Column::Day])
                .value(Column::Last, Expr::col((Entity, Column::Last)).add(n))
                .to_owned(),
        )
        .returning_col(Column::Last)
        .to_owned();
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("unit_day_counters".into()))?;
    row.try_get("", "last")
}
