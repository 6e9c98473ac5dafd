//! Account rows.

use entity::accounts;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

pub async fn find_by_id<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<accounts::Model>, DbErr> {
    accounts::Entity::find_by_id(id).one(db).await
}

pub async fn find_by_username_key<C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<Option<accounts::Model>, DbErr> {
    accounts::Entity::find()
        .filter(accounts::Column::UsernameKey.eq(key))
        .one(db)
        .await
}

/// Filters for the admin list.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    pub role: Option<String>,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub q: Option<String>,
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &AccountFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<accounts::Model>, u64), DbErr> {
    let mut query = accounts::Entity::find();
    if let Some(role) = &filter.role {
        query = query.filter(accounts::Column::Role.eq(role.as_str()));
    }
    if let Some(unit) = &filter.unit_code {
        query = query.filter(accounts::Column::UnitCode.eq(unit.as_str()));
    }
    if let Some(p) = &filter.province_code {
        query = query.filter(accounts::Column::ProvinceCode.eq(p.as_str()));
    }
    if let Some(q) = &filter.q {
        query = query.filter(accounts::Column::UsernameKey.contains(q.to_ascii_lowercase()));
    }
    super::page(
        query.order_by_asc(accounts::Column::UsernameKey),
        db,
        offset,
        limit,
    )
    .await
}
