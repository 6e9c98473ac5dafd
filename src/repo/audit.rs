//! The audit log: administrators' reads of personal data and their changes to reference
//! data (units, routing overrides, procedures) and accounts.

use chrono::{DateTime, Utc};
use entity::audit_log::{self, Column, Entity};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::Value;
use uuid::Uuid;

/// Append an entry (in the caller's transaction when it is a change, so the entry and the
/// change commit together).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
    action: &str,
    subject: &str,
    details: Option<Value>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        account_id: Set(account),
        action: Set(action.to_string()),
        subject: Set(subject.to_string()),
        details: Set(details),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Which entries to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub action: Option<String>,
    pub subject: Option<String>,
    pub account: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One page of entries, newest first, and the number of entries that match.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_log::Model>, u64), DbErr> {
    let mut q = Entity::find();
    if let Some(a) = &f.action {
        q = q.filter(Column::Action.eq(a.as_str()));
    }
    if let Some(s) = &f.subject {
        q = q.filter(Column::Subject.eq(s.as_str()));
    }
    if let Some(a) = f.account {
        q = q.filter(Column::AccountId.eq(a));
    }
    if let Some(t) = f.since {
        q = q.filter(Column::At.gte(t));
    }
    if let Some(t) = f.until {
        q = q.filter(Column::At.lt(t));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(Column::At)
        .order_by_desc(Column::Id)
        .paginate(db, per_page)
        .fetch_page(page.saturating_sub(1))
        .await?;
    Ok((rows, total))
}
