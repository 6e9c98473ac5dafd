//! Values of Decision 766 sub-indicators that supervisors enter (motcua does not hold the
//! data behind them), one per province, indicator and period start.

use chrono::{DateTime, NaiveDate, Utc};
use entity::scorecard_entries::{self, ActiveModel, Column, Entity};
use sea_orm::{
    sea_query::OnConflict, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

pub type EntryRow = scorecard_entries::Model;

/// Enter (or correct) a value.
#[allow(clippy::too_many_arguments)]
pub async fn upsert<C: ConnectionTrait>(
    db: &C,
    province: &str,
    indicator: &str,
    period_start: NaiveDate,
    value: f64,
    note: Option<String>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        province_code: Set(province.to_string()),
        indicator: Set(indicator.to_string()),
        period_start: Set(period_start),
        value: Set(value),
        note: Set(note),
        entered_by: Set(Some(by)),
        entered_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([Column::ProvinceCode, Column::Indicator, Column::PeriodStart])
            .update_columns([
                Column::Value,
                Column::Note,
                Column::EnteredBy,
                Column::EnteredAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Every entry for a period starting before `before` (of one province, or all), the newest
/// period first: the first of each (province, indicator) is the one that applies.
pub async fn before<C: ConnectionTrait>(
    db: &C,
    province: Option<&str>,
    before: NaiveDate,
) -> Result<Vec<EntryRow>, DbErr> {
    let mut q = Entity::find().filter(Column::PeriodStart.lt(before));
    if let Some(p) = province {
        q = q.filter(Column::ProvinceCode.eq(p));
    }
    q.order_by_desc(Column::PeriodStart).all(db).await
}
