//! Routing overrides.

use chrono::{DateTime, Utc};
use entity::routing_overrides::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::domain::routing::OverrideRule;

/// An override as stored.
pub type OverrideRow = routing_overrides::Model;

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
pub async fn find<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<OverrideRow>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Every override (of a province), newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    province: Option<&str>,
    active: Option<bool>,
) -> Result<Vec<OverrideRow>, DbErr> {
    let mut q = Entity::find();
    if let Some(p) = province {
        q = q.filter(Column::ProvinceCode.eq(p));
    }
    if let Some(a) = active {
        q = q.filter(Column::Active.eq(a));
    }
    q.order_by_desc(Column::Id).all(db).await
}

/// The columns of a new override (active).
#[derive(Debug, Clone)]
pub struct NewOverride {
    pub province_code: String,
    pub procedure_code: Option<String>,
    pub from_unit_code: Option<String>,
    pub to_unit_code: String,
    pub priority: i32,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(db: &C, o: NewOverride) -> Result<OverrideRow, DbErr> {
    ActiveModel {
        province_code: Set(o.province_code),
        procedure_code: Set(o.procedure_code),
        from_unit_code: Set(o.from_unit_code),
        to_unit_code: Set(o.to_unit_code),
        priority: Set(o.priority),
        valid_from: Set(o.valid_from),
        valid_until: Set(o.valid_until),
        reason: Set(o.reason),
        active: Set(true),
        created_by: Set(o.created_by),
        created_at: Set(o.created_at),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The columns of an override to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct OverrideChange {
    pub active: Option<bool>,
    pub priority: Option<i32>,
    pub valid_until: Option<Option<DateTime<Utc>>>,
    pub reason: Option<String>,
}

/// Write the changes to the row read as `current`; returns the row as it now is.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: OverrideRow,
    ch: OverrideChange,
) -> Result<OverrideRow, DbErr> {
    let mut am: ActiveModel = current.into();
    if let Some(a) = ch.active {
        am.active = Set(a);
    }
    if let Some(p) = ch.priority {
        am.priority = Set(p);
    }
    if let Some(u) = ch.valid_until {
        am.valid_until = Set(u);
    }
    if let Some(r) = ch.reason {
        am.reason = Set(r);
    }
    am.update(db).await
}
