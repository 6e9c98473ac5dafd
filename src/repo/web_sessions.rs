//! Browser-session rows (see migration 000010): looked up by the digest of the cookie's token.

use chrono::{DateTime, Utc};
use entity::web_sessions;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

/// A browser session as stored.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub id: Uuid,
    pub account_id: Uuid,
    pub token_generation: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<web_sessions::Model> for WebSession {
    fn from(m: web_sessions::Model) -> Self {
        WebSession {
            id: m.id,
            account_id: m.account_id,
            token_generation: m.token_generation,
            created_at: m.created_at,
            expires_at: m.expires_at,
        }
    }
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    token_hash: String,
    account_id: Uuid,
    token_generation: i32,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    web_sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(token_hash),
        account_id: Set(account_id),
        token_generation: Set(token_generation),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn find_by_hash<C: ConnectionTrait>(
    db: &C,
    hash: &str,
) -> Result<Option<WebSession>, DbErr> {
    Ok(web_sessions::Entity::find()
        .filter(web_sessions::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .map(WebSession::from))
}

/// Move a session's idle deadline.
pub async fn extend<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    web_sessions::Entity::update_many()
        .col_expr(web_sessions::Column::ExpiresAt, Expr::value(expires_at))
        .filter(web_sessions::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn delete<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    web_sessions::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|_| ())
}

/// Forget sessions that ended before `now` (housekeeping; a lookup checks expiry itself).
pub async fn delete_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(web_sessions::Entity::delete_many()
        .filter(web_sessions::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}
