//! Routing overrides.

use entity::routing_overrides::{self, Column, Entity};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::routing::OverrideRule;

/// Every active override, oldest first (their windows are checked where they are used).
pub async fn all_active<C: ConnectionTrait>(db: &C) -> Result<Vec<OverrideRule>, DbErr> {
    let rows = Entity::find()
        .filter(Column::Active.eq(true))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(rule_of).collect())
}

/// The domain rule of a row.
pub fn rule_of(r: routing_overrides::Model) -> OverrideRule {
    OverrideRule {
        id: r.id,
        province_code: r.province_code,
        procedure_code: r.procedure_code,
        from_unit_code: r.from_unit_code,
        to_unit_code: r.to_unit_code,
        priority: r.priority,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        reason: r.reason,
    }
}

/// One override.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<routing_overrides::Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Every override (of a province), newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    province: Option<&str>,
    active: Option<bool>,
) -> Result<Vec<routing_overrides::Model>, DbErr> {
    let mut q = Entity::find();
    if let Some(p) = province {
        q = q.filter(Column::ProvinceCode.eq(p));
    }
    if let Some(a) = active {
        q = q.filter(Column::Active.eq(a));
    }
    q.order_by_desc(Column::Id).all(db).await
}
