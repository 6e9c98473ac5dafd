//! The transactional outbox: notifications written in the same transaction as the change
//! they announce, delivered later by the dispatcher.

use chrono::{DateTime, Utc};
use entity::outbox;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};
use uuid::Uuid;

/// A new outbox row, due at once (also used for bulk inserts).
pub fn row(
    topic: &str,
    case_code: Option<&str>,
    recipients: serde_json::Value,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        event_id: Set(Uuid::now_v7()),
        topic: Set(topic.to_string()),
        case_code: Set(case_code.map(str::to_string)),
        recipients: Set(recipients),
        payload: Set(payload),
        created_at: Set(now),
        available_at: Set(now),
        attempts: Set(0),
        delivered_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    topic: &str,
    case_code: Option<&str>,
    recipients: serde_json::Value,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<outbox::Model, DbErr> {
    row(topic, case_code, recipients, payload, now)
        .insert(db)
        .await
}
