//! Per-unit daily counters for dossier numbers.

use entity::unit_day_counters::{self, Column, Entity};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// The next number of `unit` on `day` (1, 2, ...): one atomic upsert, so concurrent
/// intakes get distinct numbers on both databases without `MAX()+1`.
pub async fn next<C: ConnectionTrait>(db: &C, unit: &str, day: &str) -> Result<i32, DbErr> {
    let row = unit_day_counters::ActiveModel {
        unit_code: Set(unit.to_string()),
        day: Set(day.to_string()),
        last: Set(1),
    };
    let model = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::UnitCode, Column::Day])
                .value(Column::Last, Expr::col((Entity, Column::Last)).add(1))
                .to_owned(),
        )
        .exec_with_returning(db)
        .await?;
    Ok(model.last)
}
