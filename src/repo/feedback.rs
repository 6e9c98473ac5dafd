//! Applicants' ratings of the service, one per dossier.

use chrono::{DateTime, Utc};
use entity::case_feedback::{self, ActiveModel, Column, Entity};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A stored rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub rating: i16,
    pub comment: Option<String>,
    pub unit: String,
    pub created_at: DateTime<Utc>,
}

fn stored(m: case_feedback::Model) -> Stored {
    Stored {
        rating: m.rating,
        comment: m.comment,
        unit: m.unit,
        created_at: m.created_at,
    }
}

/// The rating of a dossier, if it was rated.
pub async fn of_case<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Option<Stored>, DbErr> {
    Ok(Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .one(db)
        .await?
        .map(stored))
}

/// The new rating of a dossier (a second one is a unique violation on the key).
pub struct NewRating<'a> {
    pub case_id: i64,
    pub account: Uuid,
    pub unit: &'a str,
    pub province: &'a str,
    pub rating: u8,
    pub comment: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Store a rating.
pub async fn insert<C: ConnectionTrait>(db: &C, r: NewRating<'_>) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        case_id: Set(r.case_id),
        account_id: Set(Some(r.account)),
        unit: Set(r.unit.to_string()),
        province_code: Set(r.province.to_string()),
        rating: Set(i16::from(r.rating)),
        comment: Set(r.comment.map(str::to_string)),
        created_at: Set(r.at),
    })
    .exec_without_returning(db)
    .await
    .map(|_| ())
}
