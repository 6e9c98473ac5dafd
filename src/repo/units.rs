//! Unit rows.

use chrono::{DateTime, Utc};
use entity::units;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

/// A unit as stored.
pub type UnitRow = units::Model;

pub async fn find<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<UnitRow>, DbErr> {
    units::Entity::find_by_id(code.to_string()).one(db).await
}

pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<UnitRow>, DbErr> {
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
) -> Result<(Vec<UnitRow>, u64), DbErr> {
    super::page(
        filtered(f).order_by_asc(units::Column::Code),
        db,
        offset,
        limit,
    )
    .await
}

/// Every unit matching the filters, by code.
pub async fn list_all<C: ConnectionTrait>(db: &C, f: &UnitFilter) -> Result<Vec<UnitRow>, DbErr> {
    filtered(f).order_by_asc(units::Column::Code).all(db).await
}

/// Number of units.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    units::Entity::find().count(db).await
}

/// Insert a unit row (the caller has checked every column); a unit with the same code is
/// a unique violation.
pub async fn insert<C: ConnectionTrait>(db: &C, row: UnitRow) -> Result<UnitRow, DbErr> {
    units::ActiveModel::from(row).reset_all().insert(db).await
}

/// The columns of a unit to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct UnitChange {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub working_hours: Option<String>,
    pub active: Option<bool>,
    pub receives_dossiers: Option<bool>,
    /// `Some(None)` clears it.
    pub national_code: Option<Option<String>>,
}

/// Write the changes to the row read as `current`, with `updated_at`; returns the row as it
/// now is.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    current: UnitRow,
    ch: UnitChange,
    now: DateTime<Utc>,
) -> Result<UnitRow, DbErr> {
    let mut am: units::ActiveModel = current.into();
    if let Some(n) = ch.name {
        am.name = Set(n);
    }
    if let Some(n) = ch.name_en {
        am.name_en = Set(n);
    }
    if let Some(h) = ch.working_hours {
        am.working_hours = Set(h);
    }
    if let Some(a) = ch.active {
        am.active = Set(a);
    }
    if let Some(r) = ch.receives_dossiers {
        am.receives_dossiers = Set(r);
    }
    if let Some(n) = ch.national_code {
        am.national_code = Set(n);
    }
    am.updated_at = Set(now);
    am.update(db).await
}
