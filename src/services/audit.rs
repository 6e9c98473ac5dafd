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

/// What `motcua audit verify` found walking every dossier's chain of events.
#[derive(Debug, Default)]
pub struct ChainReport {
    pub dossiers: u64,
    pub events: u64,
    /// Events written before chains existed (a prefix of their dossier's history).
    pub unchained: u64,
    /// The first broken link, if any: the dossier, the event's `seq` and what is wrong.
    pub broken: Option<(String, i32, &'static str)>,
    /// Audit entries checked, of which written before chains.
    pub audit_entries: u64,
    pub audit_unchained: u64,
    /// The first broken link of the audit log: the entry's id and what is wrong.
    pub audit_broken: Option<(i64, &'static str)>,
}

/// Walk each dossier's events in `seq` order: numbers without gaps from 1, each event's
/// `prev_hash` the previous one's `hash`, each `hash` that of its content
/// (`repo::events::chain_hash`). Stops at the first broken link.
pub async fn verify_chains(db: &DatabaseConnection) -> Result<ChainReport, sea_orm::DbErr> {
    let mut r = ChainReport::default();
    let mut after = (i64::MIN, i32::MAX);
    // The dossier being walked: its id, the last seq and hash seen, whether chained yet.
    let mut cur: Option<(i64, i32, Option<String>, bool)> = None;
    loop {
        let page = repo::events::chain_page(db, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = (last.case_id, last.seq);
        for e in &page {
            if cur.as_ref().map(|c| c.0) != Some(e.case_id) {
                r.dossiers += 1;
                cur = Some((e.case_id, 0, None, false));
            }
            let c = cur.as_mut().expect("set above");
            r.events += 1;
            let problem = if e.seq != c.1 + 1 {
                Some("an event is missing (its number is skipped)")
            } else {
                match &e.hash {
                    None if c.3 => Some("the event's hash was removed"),
                    None => {
                        r.unchained += 1;
                        None
                    }
                    Some(h) => {
                        if e.prev_hash != c.2 {
                            Some("the event does not follow the one before it (prev_hash)")
                        } else if *h != repo::events::hash_of(e) {
                            Some("the event was changed after it was written (hash)")
                        } else {
                            c.3 = true;
                            None
                        }
                    }
                }
            };
            if let Some(p) = problem {
                let code = repo::cases::code_of(db, e.case_id)
                    .await?
                    .unwrap_or_else(|| format!("#{}", e.case_id));
                r.broken = Some((code, e.seq, p));
                return Ok(r);
            }
            c.1 = e.seq;
            c.2 = e.hash.clone();
        }
    }
    verify_audit_log(db, &mut r).await?;
    Ok(r)
}

/// The audit log's one chain, by id: each entry's `prev_hash` the previous entry's `hash`,
/// each `hash` that of its content; entries before chains only as a prefix.
async fn verify_audit_log(
    db: &DatabaseConnection,
    r: &mut ChainReport,
) -> Result<(), sea_orm::DbErr> {
    let mut after = i64::MIN;
    let mut prev: Option<String> = None;
    let mut chained = false;
    loop {
        let page = repo::audit::chain_page(db, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for e in &page {
            r.audit_entries += 1;
            let problem = match &e.hash {
                None if chained => Some("the entry's hash was removed"),
                None => {
                    r.audit_unchained += 1;
                    None
                }
                Some(h) => {
                    if e.prev_hash != prev {
                        Some("the entry does not follow the one before it (an entry removed or inserted)")
                    } else if *h != repo::audit::hash_of(e) {
                        Some("the entry was changed after it was written (hash)")
                    } else {
                        chained = true;
                        None
                    }
                }
            };
            if let Some(p) = problem {
                r.audit_broken = Some((e.id, p));
                return Ok(());
            }
            prev = e.hash.clone();
        }
    }
    Ok(())
}
