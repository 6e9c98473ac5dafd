//! Dossier events (the audit trail) and pauses.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{case_events, case_pauses};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub case_id: i64,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    pub actor_unit: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
    pub public: bool,
    pub at: DateTime<Utc>,
}

/// The hash that chains a dossier's events: SHA-256 (hex) of the previous event's hash and
/// this event's content, as one JSON array (`serde_json` writes objects with sorted keys, so
/// the stored `data` hashes the same when read back). The instant counts to the
/// microsecond, as PostgreSQL keeps it. The dossier's id is not in it (the first event is
/// written before the database gives one): each chain starts with an event with no
/// `prev_hash`, and `motcua audit verify` walks each dossier's events in `seq` order.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev: Option<&str>,
    seq: i32,
    action: &str,
    actor_id: Option<Uuid>,
    actor_role: &str,
    actor_unit: Option<&str>,
    from_status: Option<&str>,
    to_status: &str,
    reason: Option<&str>,
    data: &serde_json::Value,
    public: bool,
    at: DateTime<Utc>,
) -> String {
    use chrono::SubsecRound;
    use sha2::{Digest, Sha256};
    let content = serde_json::json!([
        prev.unwrap_or(""),
        seq,
        action,
        actor_id,
        actor_role,
        actor_unit,
        from_status,
        to_status,
        reason,
        data,
        public,
        at.trunc_subsecs(6)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    ]);
    hex::encode(Sha256::digest(
        serde_json::to_vec(&content).unwrap_or_default(),
    ))
}

/// The hash a stored event should carry.
pub fn hash_of(m: &case_events::Model) -> String {
    chain_hash(
        m.prev_hash.as_deref(),
        m.seq,
        &m.action,
        m.actor_id,
        &m.actor_role,
        m.actor_unit.as_deref(),
        m.from_status.as_deref(),
        &m.to_status,
        m.reason.as_deref(),
        &m.data,
        m.public,
        m.at,
    )
}

impl NewEvent {
    /// The row of this event with sequence number `seq`, chained to `prev` (the hash of the
    /// dossier's event `seq - 1`); its own hash is the row's `hash`.
    pub fn into_row(self, seq: i32, prev: Option<&str>) -> case_events::ActiveModel {
        let hash = chain_hash(
            prev,
            seq,
            &self.action,
            self.actor_id,
            &self.actor_role,
            self.actor_unit.as_deref(),
            self.from_status.as_deref(),
            &self.to_status,
            self.reason.as_deref(),
            &self.data,
            self.public,
            self.at,
        );
        case_events::ActiveModel {
            prev_hash: Set(prev.map(str::to_string)),
            hash: Set(Some(hash)),
            case_id: Set(self.case_id),
            seq: Set(seq),
            action: Set(self.action),
            actor_id: Set(self.actor_id),
            actor_role: Set(self.actor_role),
            actor_unit: Set(self.actor_unit),
            from_status: Set(self.from_status),
            to_status: Set(self.to_status),
            reason: Set(self.reason),
            data: Set(self.data),
            public: Set(self.public),
            at: Set(self.at),
            ..Default::default()
        }
    }
}

/// Append an event with the next sequence number of its dossier. Call it under the
/// dossier's row lock (the unique (case_id, seq) index refuses a duplicate otherwise).
pub async fn append<C: ConnectionTrait>(db: &C, e: NewEvent) -> Result<case_events::Model, DbErr> {
    let (seq, prev) = match heads(db, &[e.case_id]).await?.remove(&e.case_id) {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, None),
    };
    e.into_row(seq, prev.as_deref()).insert(db).await
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct Head {
    case_id: i64,
    seq: i32,
    hash: Option<String>,
}

/// The last event of each dossier of `ids`: its `seq` and `hash`.
pub async fn heads<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, (i32, Option<String>)>, DbErr> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let text = format!(
            "SELECT e.case_id, e.seq, e.hash FROM case_events e WHERE e.case_id IN ({marks}) \
             AND e.seq = (SELECT MAX(m.seq) FROM case_events m WHERE m.case_id = e.case_id)"
        );
        let backend = db.get_database_backend();
        let values: Vec<sea_orm::Value> = chunk.iter().map(|i| (*i).into()).collect();
        let rows = <Head as sea_orm::FromQueryResult>::find_by_statement(
            sea_orm::Statement::from_sql_and_values(
                backend,
                super::placeholders(backend, &text),
                values,
            ),
        )
        .all(db)
        .await?;
        for r in rows {
            out.insert(r.case_id, (r.seq, r.hash));
        }
    }
    Ok(out)
}

/// A page of every chained event, by dossier then `seq`, after (`case_id`, `seq`).
pub async fn chain_page<C: ConnectionTrait>(
    db: &C,
    after: (i64, i32),
    limit: u64,
) -> Result<Vec<case_events::Model>, DbErr> {
    use sea_orm::sea_query::Condition;
    case_events::Entity::find()
        .filter(
            Condition::any()
                .add(case_events::Column::CaseId.gt(after.0))
                .add(
                    Condition::all()
                        .add(case_events::Column::CaseId.eq(after.0))
                        .add(case_events::Column::Seq.gt(after.1)),
                ),
        )
        .order_by_asc(case_events::Column::CaseId)
        .order_by_asc(case_events::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// A dossier's events in order; `public_only` for the applicant's view.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    public_only: bool,
) -> Result<Vec<case_events::Model>, DbErr> {
    Ok(list_of_cases(db, &[case_id], public_only)
        .await?
        .remove(&case_id)
        .unwrap_or_default())
}

/// [`list`] for each of `case_ids` (those without events are absent), in one read.
pub async fn list_of_cases<C: ConnectionTrait>(
    db: &C,
    case_ids: &[i64],
    public_only: bool,
) -> Result<HashMap<i64, Vec<case_events::Model>>, DbErr> {
    let mut by_case: HashMap<i64, Vec<case_events::Model>> = HashMap::new();
    if case_ids.is_empty() {
        return Ok(by_case);
    }
    let mut q = case_events::Entity::find()
        .filter(case_events::Column::CaseId.is_in(case_ids.iter().copied()));
    if public_only {
        q = q.filter(case_events::Column::Public.eq(true));
    }
    for m in q
        .order_by_asc(case_events::Column::CaseId)
        .order_by_asc(case_events::Column::Seq)
        .all(db)
        .await?
    {
        by_case.entry(m.case_id).or_default().push(m);
    }
    Ok(by_case)
}

pub async fn open_pause<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    case_pauses::ActiveModel {
        case_id: Set(case_id),
        reason: Set(reason.to_string()),
        started_at: Set(at),
        ended_at: Set(None),
        working_secs: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Close the dossier's open pause, recording its length in working seconds.
pub async fn close_pause<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    at: DateTime<Utc>,
    working_secs: i64,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    case_pauses::Entity::update_many()
        .col_expr(case_pauses::Column::EndedAt, Expr::value(at))
        .col_expr(case_pauses::Column::WorkingSecs, Expr::value(working_secs))
        .filter(case_pauses::Column::CaseId.eq(case_id))
        .filter(case_pauses::Column::EndedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

pub async fn pauses<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
) -> Result<Vec<case_pauses::Model>, DbErr> {
    case_pauses::Entity::find()
        .filter(case_pauses::Column::CaseId.eq(case_id))
        .order_by_asc(case_pauses::Column::Id)
        .all(db)
        .await
}
