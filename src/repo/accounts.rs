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

/// The channel on which account changes are announced to every instance (PostgreSQL).
pub const CHANGES_CHANNEL: &str = "motcua_account_changes";

/// Announce that an account changed, to every instance's account cache. Inside the changing
/// transaction: PostgreSQL delivers the notification when, and only if, it commits. On
/// SQLite, which has one serving process, nothing is sent.
pub async fn notify_changed<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANGES_CHANNEL.into(), id.to_string().into()],
    ))
    .await?;
    Ok(())
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
