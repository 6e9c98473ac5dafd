//! The audit log of reads of personal data by administrators.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};
use uuid::Uuid;

pub async fn record<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
    action: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    entity::audit_log::ActiveModel {
        account_id: Set(account),
        action: Set(action.to_string()),
        subject: Set(subject.to_string()),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}
