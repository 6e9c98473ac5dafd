//! Idempotency keys of submissions.

use chrono::{DateTime, Utc};
use entity::idempotency_keys::{self, Column, Entity};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::security::data_key::DataKeys;

/// The stored answer repeats the applicant's personal data: it is sealed like the dossier's.
const RESPONSE_BODY: &str = "idempotency_keys.response_body";

/// A stored answer (as stored) sealed again with the current key.
pub(crate) fn reseal(keys: &DataKeys, stored: &str) -> Result<String, DbErr> {
    let plain = crate::repo::open(keys, RESPONSE_BODY, Some(stored.to_string()))?;
    Ok(keys.seal(RESPONSE_BODY, &plain.unwrap_or_default()))
}

/// Try to take the key. True when this request now owns it.
pub async fn try_begin<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
    key: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let row = idempotency_keys::ActiveModel {
        account_id: Set(account),
        key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        state: Set("in_progress".into()),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(now),
    };
    let inserted = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::AccountId, Column::Key])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The key's row, its stored answer opened.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    account: Uuid,
    key: &str,
) -> Result<Option<idempotency_keys::Model>, DbErr> {
    let Some(mut row) = Entity::find_by_id((account, key.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    row.response_body = crate::repo::open(keys, RESPONSE_BODY, row.response_body)?;
    Ok(Some(row))
}

/// Take over an in-progress key whose owner died (older than `stale_before`).
pub async fn take_over_stale<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
    key: &str,
    hash: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .col_expr(Column::CreatedAt, Expr::value(now))
        .col_expr(Column::RequestHash, Expr::value(hash))
        .filter(Column::AccountId.eq(account))
        .filter(Column::Key.eq(key))
        .filter(Column::State.eq("in_progress"))
        .filter(Column::CreatedAt.lt(stale_before))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Store the answers of several keys (sealed), completed: one statement, however many (a
/// batch of the intake writer stores its answers under the writer turn, where a round trip
/// per answer would hold every other intake up). A key whose marker row exists is completed;
/// one without (SQLite keeps its markers in memory) gets its row now, `now` as its time.
pub async fn complete_many<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    answers: &[(Uuid, &str, &str, &str)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if answers.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let rows = vec!["(?, ?, ?, 'completed', 201, ?, ?)"; answers.len()].join(", ");
    let sql = crate::repo::placeholders(
        backend,
        &format!(
            "INSERT INTO idempotency_keys (account_id, key, request_hash, state, \
             response_status, response_body, created_at) VALUES {rows} \
             ON CONFLICT (account_id, key) DO UPDATE SET state = 'completed', \
             response_status = 201, response_body = excluded.response_body, \
             request_hash = excluded.request_hash"
        ),
    );
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(answers.len() * 5);
    for (account, key, hash, body) in answers {
        values.push((*account).into());
        values.push((*key).into());
        values.push((*hash).into());
        values.push(keys.seal(RESPONSE_BODY, body).into());
        values.push(now.into());
    }
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend, sql, values,
    ))
    .await
    .map(|_| ())
}

/// Release a key whose request failed, so that the client can retry with it.
pub async fn release<C: ConnectionTrait>(db: &C, account: Uuid, key: &str) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::AccountId.eq(account))
        .filter(Column::Key.eq(key))
        .filter(Column::State.eq("in_progress"))
        .exec(db)
        .await
        .map(|_| ())
}
