//! The national portal's synchronisation state per dossier (`national_sync`) and the
//! positions of internal feed consumers (`feed_consumers`).

use chrono::{DateTime, Utc};
use entity::{feed_consumers, national_sync};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

pub type SyncRow = national_sync::Model;

/// A consumer's position, locked for the transaction on PostgreSQL ((0, 0) when new).
pub async fn consumer_position<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> Result<(i64, i64), DbErr> {
    Ok(consumer_position_if_any(db, name).await?.unwrap_or((0, 0)))
}

/// A consumer's position, or none when it has never run (locked as above).
pub async fn consumer_position_if_any<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> Result<Option<(i64, i64)>, DbErr> {
    let mut q = feed_consumers::Entity::find_by_id(name.to_string());
    if db.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock(LockType::Update);
    }
    Ok(q.one(db).await?.map(|r| (r.after_txid, r.after_id)))
}

pub async fn set_consumer_position<C: ConnectionTrait>(
    db: &C,
    name: &str,
    at: (i64, i64),
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    feed_consumers::Entity::insert(feed_consumers::ActiveModel {
        name: Set(name.to_string()),
        after_txid: Set(at.0),
        after_id: Set(at.1),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(feed_consumers::Column::Name)
            .update_columns([
                feed_consumers::Column::AfterTxid,
                feed_consumers::Column::AfterId,
                feed_consumers::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A dossier to be brought up to its public step `seq` (collected from the feed).
pub struct Wanted<'a> {
    pub case_id: i64,
    pub case_code: &'a str,
    pub province: &'a str,
    pub seq: i32,
}

/// Dossiers have public steps up to `seq` to send: each row is made, or its `pending_seq`
/// raised; a dossier waiting for a retry keeps its time, one given up is due again. One
/// statement per 500 dossiers (a round's worth), not one per dossier; each dossier appears
/// once (an upsert cannot touch one row twice).
pub async fn want<C: ConnectionTrait>(
    db: &C,
    wanted: &[Wanted<'_>],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let greatest = match backend {
        DatabaseBackend::Postgres => "GREATEST",
        _ => "MAX",
    };
    for chunk in wanted.chunks(500) {
        let rows = vec!["(?, ?, ?, 0, ?, 0, ?, ?)"; chunk.len()].join(", ");
        let stmt = super::placeholders(
            backend,
            &format!(
                "INSERT INTO national_sync (case_id, case_code, province_code, synced_seq, pending_seq, attempts, next_attempt_at, updated_at) \
                 VALUES {rows} \
                 ON CONFLICT (case_id) DO UPDATE SET \
                   pending_seq = {greatest}(national_sync.pending_seq, excluded.pending_seq), \
                   next_attempt_at = COALESCE(national_sync.next_attempt_at, excluded.next_attempt_at), \
                   updated_at = excluded.updated_at"
            ),
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 6);
        for w in chunk {
            values.extend([
                w.case_id.into(),
                w.case_code.into(),
                w.province.into(),
                w.seq.into(),
                now.into(),
                now.into(),
            ]);
        }
        db.execute_raw(Statement::from_sql_and_values(backend, stmt, values))
            .await?;
    }
    Ok(())
}

/// Up to `limit` dossiers with steps to send whose attempt is due; locked on PostgreSQL,
/// skipping those another instance holds (call in the transaction that leases them).
pub async fn due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<SyncRow>, DbErr> {
    let mut q = national_sync::Entity::find()
        .filter(national_sync::Column::NextAttemptAt.lte(now))
        .filter(
            Expr::col(national_sync::Column::PendingSeq)
                .gt(Expr::col(national_sync::Column::SyncedSeq)),
        )
        .order_by_asc(national_sync::Column::NextAttemptAt)
        .limit(limit);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    q.all(db).await
}

pub async fn lease<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    national_sync::Entity::update_many()
        .col_expr(national_sync::Column::NextAttemptAt, Expr::value(until))
        .filter(national_sync::Column::CaseId.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

/// What an attempt did: the steps acknowledged up to `synced_seq`, and on failure the
/// error and when to try again (none: given up).
pub struct Attempt {
    pub synced_seq: i32,
    pub error: Option<String>,
    pub attempts: i32,
    pub retry_at: Option<DateTime<Utc>>,
}

/// Record attempts, all in one statement. After a success the row is due again at once if
/// more steps came in meanwhile (`pending_seq` is read as it now is), and otherwise rests.
/// `synced_seq` only moves forward: an instance whose lease ran out while it was sending
/// (another then sent the same steps, under the same keys) cannot take back what the other
/// recorded.
pub async fn record_attempts<C: ConnectionTrait>(
    db: &C,
    attempts: &[(i64, Attempt)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if attempts.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let pg = backend == DatabaseBackend::Postgres;
    // Parameters are typed on PostgreSQL (the rows' columns come from a union of selects);
    // SQLite keeps timestamps as text and must not cast them.
    let p = |i: usize, pg_type: &str| {
        if pg {
            format!("CAST(${i} AS {pg_type})")
        } else {
            format!("?{i}")
        }
    };
    let mut values: Vec<sea_orm::Value> = vec![now.into()];
    let mut rows = Vec::with_capacity(attempts.len());
    for (case_id, a) in attempts {
        let i = values.len() + 1;
        rows.push(format!(
            "SELECT {} AS case_id, {} AS seq, {} AS attempts, {} AS error, {} AS retry_at",
            p(i, "BIGINT"),
            p(i + 1, "INTEGER"),
            p(i + 2, "INTEGER"),
            p(i + 3, "TEXT"),
            p(i + 4, "TIMESTAMPTZ"),
        ));
        values.extend([
            (*case_id).into(),
            a.synced_seq.into(),
            a.attempts.into(),
            a.error.clone().into(),
            a.retry_at.into(),
        ]);
    }
    let (greatest, now) = if pg {
        ("GREATEST", "CAST($1 AS TIMESTAMPTZ)")
    } else {
        ("MAX", "?1")
    };
    let sql = format!(
        "UPDATE national_sync AS n SET synced_seq = {greatest}(n.synced_seq, v.seq), \
         attempts = v.attempts, last_error = v.error, last_attempt_at = {now}, updated_at = {now}, \
         synced_at = CASE WHEN v.error IS NULL THEN {now} ELSE n.synced_at END, \
         next_attempt_at = CASE WHEN v.error IS NOT NULL THEN v.retry_at \
         WHEN n.pending_seq > {greatest}(n.synced_seq, v.seq) THEN {now} END \
         FROM ({}) AS v WHERE n.case_id = v.case_id",
        rows.join(" UNION ALL ")
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

pub async fn of_case<C: ConnectionTrait>(db: &C, case_id: i64) -> Result<Option<SyncRow>, DbErr> {
    national_sync::Entity::find_by_id(case_id).one(db).await
}

/// Make failed dossiers (an error recorded) whose last step is at or after `since` due
/// now, with their attempts counted afresh; how many.
pub async fn requeue_failed<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let r = national_sync::Entity::update_many()
        .col_expr(national_sync::Column::NextAttemptAt, Expr::value(now))
        .col_expr(national_sync::Column::Attempts, Expr::value(0))
        .filter(national_sync::Column::LastError.is_not_null())
        .filter(
            Expr::col(national_sync::Column::PendingSeq)
                .gt(Expr::col(national_sync::Column::SyncedSeq)),
        )
        .filter(national_sync::Column::UpdatedAt.gte(since))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Dossiers filed in [from, to), by id, after `after_id` (for the batch export).
pub async fn codes_filed_between<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<(i64, String)>, DbErr> {
    use entity::cases;
    cases::Entity::find()
        .select_only()
        .columns([cases::Column::Id, cases::Column::Code])
        .filter(cases::Column::SubmittedAt.gte(from))
        .filter(cases::Column::SubmittedAt.lt(to))
        .filter(cases::Column::Id.gt(after_id))
        .order_by_asc(cases::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}
