//! Idempotency keys of submissions.

use chrono::{DateTime, Utc};
use entity::idempotency_keys::{self, Column, Entity};
use sea_orm::sea_query::OnConflict;
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

/// Take the key with an `in_progress` marker. True when this request now owns it.
///
/// Earlier versions took every key so before writing its dossier; the marker of one of their
/// requests still in flight (during a rolling upgrade) is answered 409, and one whose owner
/// died is taken over once stale. Tests use it to stand for such a request.
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
        case_id: Set(None),
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

/// The key's row of an online intake, completed, written in the intake's own statement
/// (`repo::cases::NewDossier::answer`): `body` is the dossier as filed without its id and
/// code, which the database gives in that statement and attaches as `case_id`; a replay
/// puts them back. Sealed: it repeats the applicant's personal data.
pub fn answer_row(
    keys: &DataKeys,
    account: Uuid,
    key: &str,
    hash: &str,
    body: &str,
    now: DateTime<Utc>,
) -> idempotency_keys::ActiveModel {
    idempotency_keys::ActiveModel {
        account_id: Set(account),
        key: Set(key.to_string()),
        request_hash: Set(hash.to_string()),
        state: Set("completed".into()),
        response_status: Set(Some(201)),
        response_body: Set(Some(keys.seal(RESPONSE_BODY, body))),
        created_at: Set(now),
        case_id: sea_orm::ActiveValue::NotSet,
    }
}

/// Whether a database error is an Idempotency-Key taken already (by a concurrent request
/// of another instance, which committed first).
pub fn is_taken(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(m))
        if m.contains("idempotency_keys"))
}

/// A key's row as the intake reads it, its stored answer opened.
#[derive(Debug)]
pub struct StoredKey {
    pub request_hash: String,
    /// `in_progress` (an earlier version's marker) or `completed`.
    pub state: String,
    pub response_status: Option<i16>,
    pub response_body: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The dossier of an answer stored without its id and code (see [`answer_row`]).
    pub case_id: Option<i64>,
}

/// The key's row, its stored answer opened.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    account: Uuid,
    key: &str,
) -> Result<Option<StoredKey>, DbErr> {
    let Some(row) = Entity::find_by_id((account, key.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(StoredKey {
        response_body: crate::repo::open(keys, RESPONSE_BODY, row.response_body)?,
        request_hash: row.request_hash,
        state: row.state,
        response_status: row.response_status,
        created_at: row.created_at,
        case_id: row.case_id,
    }))
}

/// Which of `asked` (account, key) have a row: one read for a batch of intakes whose
/// statement failed on a key taken already.
pub async fn taken<C: ConnectionTrait>(
    db: &C,
    asked: &[(Uuid, &str)],
) -> Result<std::collections::HashSet<(Uuid, String)>, DbErr> {
    use sea_orm::{Condition, QuerySelect};
    if asked.is_empty() {
        return Ok(Default::default());
    }
    let any = asked.iter().fold(Condition::any(), |any, (account, key)| {
        any.add(
            Condition::all()
                .add(Column::AccountId.eq(*account))
                .add(Column::Key.eq(*key)),
        )
    });
    Ok(Entity::find()
        .select_only()
        .columns([Column::AccountId, Column::Key])
        .filter(any)
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Delete an in-progress marker whose owner died (older than `stale_before`), so that the
/// key can be taken anew. True when it was there.
pub async fn drop_stale<C: ConnectionTrait>(
    db: &C,
    account: Uuid,
    key: &str,
    stale_before: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = Entity::delete_many()
        .filter(Column::AccountId.eq(account))
        .filter(Column::Key.eq(key))
        .filter(Column::State.eq("in_progress"))
        .filter(Column::CreatedAt.lt(stale_before))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
