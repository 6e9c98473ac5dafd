//! The event feed: dossier events in commit order after a cursor (see migration 22 for why
//! the position is (transaction, id) on PostgreSQL).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, FromQueryResult, Statement, Value};

/// One event as the feed hands it out: what happened to which dossier, when and by which
/// role and unit; no personal data (no actor id, no reason text, no event data).
#[derive(Debug, Clone, FromQueryResult)]
pub struct FeedRow {
    pub txid: i64,
    pub id: i64,
    pub case_id: i64,
    pub case_code: String,
    pub procedure_code: String,
    pub province_code: String,
    pub seq: i32,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub public: bool,
    pub actor_role: String,
    pub actor_unit: Option<String>,
    pub at: DateTime<Utc>,
    pub hash: Option<String>,
}

const COLUMNS: &str =
    "e.id, e.case_id, c.code AS case_code, c.procedure_code, c.province_code, e.seq, \
     e.action, e.from_status, e.to_status, e.public, e.actor_role, e.actor_unit, e.at, e.hash";

/// Up to `limit` events after (`txid`, `id`), oldest first, of one province or all. On
/// PostgreSQL only events whose transaction is older than every transaction still running:
/// nothing can commit before them later.
pub async fn after<C: ConnectionTrait>(
    db: &C,
    txid: i64,
    id: i64,
    province: Option<&str>,
    limit: u64,
) -> Result<Vec<FeedRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            values.extend([txid.into(), id.into()]);
            let mut sql = format!(
                "SELECT COALESCE(e.commit_txid, 0) AS txid, {COLUMNS} \
                 FROM case_events e JOIN cases c ON c.id = e.case_id \
                 WHERE (COALESCE(e.commit_txid, 0), e.id) > ($1, $2) \
                   AND COALESCE(e.commit_txid, 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
            );
            if let Some(p) = province {
                values.push(p.into());
                sql.push_str(" AND c.province_code = $3");
            }
            values.push((limit as i64).into());
            sql.push_str(&format!(
                " ORDER BY COALESCE(e.commit_txid, 0), e.id LIMIT ${}",
                values.len()
            ));
            sql
        }
        _ => {
            // One writer at a time: ids are taken in commit order.
            values.push(id.into());
            let mut sql = format!(
                "SELECT 0 AS txid, {COLUMNS} FROM case_events e JOIN cases c ON c.id = e.case_id \
                 WHERE e.id > ?"
            );
            if let Some(p) = province {
                values.push(p.into());
                sql.push_str(" AND c.province_code = ?");
            }
            values.push((limit as i64).into());
            sql.push_str(" ORDER BY e.id LIMIT ?");
            sql
        }
    };
    FeedRow::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await
}

/// The position of the last event handed out so far ((0, 0) when there is none).
pub async fn last<C: ConnectionTrait>(db: &C) -> Result<(i64, i64), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT COALESCE(commit_txid, 0) AS txid, id FROM case_events \
             WHERE COALESCE(commit_txid, 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY COALESCE(commit_txid, 0) DESC, id DESC LIMIT 1"
        }
        _ => "SELECT 0 AS txid, id FROM case_events ORDER BY id DESC LIMIT 1",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    match row {
        Some(r) => Ok((r.try_get("", "txid")?, r.try_get("", "id")?)),
        None => Ok((0, 0)),
    }
}
