//! Provinces' published lists (boundary-independent procedures, fees), one row per version.

use chrono::{DateTime, Utc};
use entity::province_lists::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::domain::province_lists::{Entries, ListKind, ListVersion, ProvinceLists};

pub type ListRow = province_lists::Model;

/// Every version of every list, read into the routing catalog. A row that cannot be read is
/// logged and skipped (the previous version, or the national default, stays in force).
pub async fn load_all<C: ConnectionTrait>(db: &C) -> Result<ProvinceLists, DbErr> {
    let mut lists = ProvinceLists::default();
    for row in Entity::find().order_by_asc(Column::Id).all(db).await? {
        let Some(kind) = ListKind::parse(&row.kind) else {
            tracing::error!(list.id = row.id, "province list of an unknown kind");
            continue;
        };
        let Some(entries) = Entries::from_json(kind, &row.entries) else {
            tracing::error!(list.id = row.id, "unreadable province list");
            continue;
        };
        lists.insert(
            &row.province_code,
            kind,
            ListVersion {
                valid_from: row.valid_from,
                entries,
            },
        );
    }
    Ok(lists)
}

/// The versions of a province's list, newest first.
pub async fn versions<C: ConnectionTrait>(
    db: &C,
    province: &str,
    kind: ListKind,
) -> Result<Vec<ListRow>, DbErr> {
    Entity::find()
        .filter(Column::ProvinceCode.eq(province))
        .filter(Column::Kind.eq(kind.as_str()))
        .order_by_desc(Column::ValidFrom)
        .all(db)
        .await
}

/// Whether a province has any version of a list.
pub async fn exists<C: ConnectionTrait>(
    db: &C,
    province: &str,
    kind: ListKind,
) -> Result<bool, DbErr> {
    Ok(Entity::find()
        .filter(Column::ProvinceCode.eq(province))
        .filter(Column::Kind.eq(kind.as_str()))
        .count(db)
        .await?
        > 0)
}

/// A new version.
pub struct NewVersion<'a> {
    pub province: &'a str,
    pub kind: ListKind,
    pub valid_from: DateTime<Utc>,
    pub entries: &'a Entries,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(db: &C, v: NewVersion<'_>) -> Result<ListRow, DbErr> {
    ActiveModel {
        province_code: Set(v.province.to_string()),
        kind: Set(v.kind.as_str().to_string()),
        valid_from: Set(v.valid_from),
        entries: Set(v.entries.to_json()),
        note: Set(v.note),
        created_by: Set(v.created_by),
        created_at: Set(v.created_at),
        ..Default::default()
    }
    .insert(db)
    .await
}
