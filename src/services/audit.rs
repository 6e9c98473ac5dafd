//! Reading the audit log (administrators). Entries are written by the use cases they record,
//! in their own transactions (`repo::audit::record`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use sea_orm::DatabaseConnection;

use crate::error::ApiResult;
use crate::repo;

pub use crate::repo::audit::Filter;

/// One entry of the audit log.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub account_id: Uuid,
    pub action: String,
    pub subject: String,
    pub details: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// One page of entries (1-based), newest first, and the number of entries that match.
pub async fn list(
    db: &DatabaseConnection,
    filter: &Filter,
    page: u64,
    per_page: u64,
) -> ApiResult<(Vec<AuditEntry>, u64)> {
    let (rows, total) = repo::audit::list(db, filter, page, per_page).await?;
    let entries = rows
        .into_iter()
        .map(|m| AuditEntry {
            id: m.id,
            account_id: m.account_id,
            action: m.action,
            subject: m.subject,
            details: m.details,
            at: m.at,
        })
        .collect();
    Ok((entries, total))
}
