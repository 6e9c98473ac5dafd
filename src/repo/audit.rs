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

/// The hash that chains the audit log: SHA-256 (hex) of the previous entry's hash and this
/// entry's content as one JSON array (the instant to the microsecond, as PostgreSQL keeps it).
pub fn chain_hash(
    prev: Option<&str>,
    account: Uuid,
    action: &str,
    subject: &str,
    details: Option<&Value>,
    at: DateTime<Utc>,
) -> String {
    use chrono::SubsecRound;
    use sha2::{Digest, Sha256};
    let content = serde_json::json!([
        prev.unwrap_or(""),
        account,
        action,
        subject,
        details,
        at.trunc_subsecs(6)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    ]);
    hex::encode(Sha256::digest(
        serde_json::to_vec(&content).unwrap_or_default(),
    ))
}

/// The hash a stored entry should carry.
pub fn hash_of(m: &audit_log::Model) -> String {
    chain_hash(
        m.prev_hash.as_deref(),
        m.account_id,
        &m.action,
        &m.subject,
        m.details.as_ref(),
        m.at,
    )
}

/// Append an entry, chained to the newest one, in the caller's write transaction (a change's,
/// so the entry and the change commit together). The log is one chain, so appends take
/// turns: on PostgreSQL a transaction-scoped advisory lock, on SQLite the write transaction's
/// own lock (`db::begin_write` begins it IMMEDIATE).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
    action: &str,
    subject: &str,
    details: Option<Value>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // 766022: this lock's number, the audit log's only one.
        db.execute_unprepared("SELECT pg_advisory_xact_lock(766022)")
            .await?;
    }
    let prev = Entity::find()
        .order_by_desc(Column::Id)
        .one(db)
        .await?
        .and_then(|m| m.hash);
    let hash = chain_hash(
        prev.as_deref(),
        account,
        action,
        subject,
        details.as_ref(),
        at,
    );
    audit_log::ActiveModel {
        account_id: Set(account),
        action: Set(action.to_string()),
        subject: Set(subject.to_string()),
        details: Set(details),
        at: Set(at),
        prev_hash: Set(prev),
        hash: Set(Some(hash)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// A page of the log in chain order (by id), after `after`.
pub async fn chain_page<C: ConnectionTrait>(
    db: &C,
    after: i64,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    use sea_orm::QuerySelect;
    Entity::find()
        .filter(Column::Id.gt(after))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
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
