//! Unit rows.

use entity::units;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

pub async fn find<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<units::Model>, DbErr> {
    units::Entity::find_by_id(code.to_string()).one(db).await
}

pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<units::Model>, DbErr> {
    units::Entity::find().all(db).await
}

/// Filters of the unit list.
#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub province: Option<String>,
    pub kind: Option<String>,
    pub ward: Option<String>,
    pub active: Option<bool>,
}

fn filtered(f: &UnitFilter) -> sea_orm::Select<units::Entity> {
    let mut q = units::Entity::find();
    if let Some(p) = &f.province {
        q = q.filter(units::Column::ProvinceCode.eq(p.as_str()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(units::Column::Kind.eq(k.as_str()));
    }
    if let Some(w) = &f.ward {
        q = q.filter(units::Column::WardCode.eq(w.as_str()));
    }
    if let Some(a) = f.active {
        q = q.filter(units::Column::Active.eq(a));
    }
    q
}

/// One page of the units matching the filters, by code, and the number matching.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    f: &UnitFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<units::Model>, u64), DbErr> {
    super::page(
        filtered(f).order_by_asc(units::Column::Code),
        db,
        offset,
        limit,
    )
    .await
}

/// Every unit matching the filters, by code.
pub async fn list_all<C: ConnectionTrait>(
    db: &C,
    f: &UnitFilter,
) -> Result<Vec<units::Model>, DbErr> {
    filtered(f).order_by_asc(units::Column::Code).all(db).await
}

/// Number of units.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    units::Entity::find().count(db).await
}
