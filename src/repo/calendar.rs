//! Calendar announcements posted by administrators (the body is a `YearAnnouncement` as JSON).

use chrono::{DateTime, Utc};
use entity::calendar_announcements::{self, ActiveModel, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryOrder,
};
use uuid::Uuid;

/// Every stored announcement, oldest first.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<calendar_announcements::Model>, DbErr> {
    Entity::find().order_by_asc(Column::Id).all(db).await
}

/// Store an announcement; its id.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    year: i32,
    body: serde_json::Value,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = ActiveModel {
        year: Set(year),
        body: Set(body),
        created_by: Set(Some(by)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// How many announcements are stored.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    Entity::find().count(db).await
}
