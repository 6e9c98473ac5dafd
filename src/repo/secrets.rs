//! Secrets the application generates and keeps in the database (`app_secrets`), so that
//! every instance uses the same ones.

use chrono::{DateTime, Utc};
use entity::app_secrets;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// The value stored under `name`.
pub async fn find<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<String>, DbErr> {
    Ok(app_secrets::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map(|row| row.value))
}

/// Store `value` under `name`, replacing what was there.
pub async fn put<C: ConnectionTrait>(
    db: &C,
    name: &str,
    value: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    app_secrets::Entity::insert(app_secrets::ActiveModel {
        name: Set(name.to_string()),
        value: Set(value),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(app_secrets::Column::Name)
            .update_columns([app_secrets::Column::Value, app_secrets::Column::CreatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// Store a value under `name`; fails if one is there already.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    name: &str,
    value: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    app_secrets::ActiveModel {
        name: Set(name.to_string()),
        value: Set(value),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map(|_| ())
}
