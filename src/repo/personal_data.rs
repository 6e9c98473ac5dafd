//! The sealed columns, read and rewritten in pages by `motcua keys rotate`: nothing else of
//! the rows is read or written, and a row changed since it was read is left for the next
//! pass rather than overwritten.

use chrono::{DateTime, Utc};
use entity::{accounts, cases, idempotency_keys};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::security::data_key::DataKeys;

/// The sealed columns of one dossier.
#[derive(Debug, Clone)]
pub struct CaseSeal {
    pub id: i64,
    pub version: i32,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_index: Option<String>,
}

/// The next `limit` dossiers after id `after`.
pub async fn cases_after<C: ConnectionTrait>(
    db: &C,
    after: i64,
    limit: u64,
) -> Result<Vec<CaseSeal>, DbErr> {
    use cases::Column as C;
    type Row = (
        i64,
        i32,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = cases::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::Version,
            C::ApplicantIdNumber,
            C::ApplicantPhone,
            C::ApplicantEmail,
            C::ApplicantIdIndex,
        ])
        .filter(C::Id.gt(after))
        .order_by_asc(C::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, version, id_number, phone, email, id_index)| CaseSeal {
                id,
                version,
                id_number,
                phone,
                email,
                id_index,
            },
        )
        .collect())
}

/// Whether the dossier's seals and index are all the current key's.
pub fn case_is_current(keys: &DataKeys, c: &CaseSeal) -> Result<bool, DbErr> {
    let sealed = [&c.id_number, &c.phone, &c.email]
        .into_iter()
        .flatten()
        .all(|v| keys.is_current(v));
    let id = super::open(keys, super::dossiers::ID_NUMBER, c.id_number.clone())?;
    Ok(sealed && c.id_index == id.map(|i| keys.index(&i)))
}

/// Re-seal one dossier's columns with the current key, unless it changed since it was read
/// (its version moved). True when written.
pub async fn reseal_case<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    c: &CaseSeal,
) -> Result<bool, DbErr> {
    use super::dossiers::{EMAIL, ID_NUMBER, PHONE};
    use super::open;
    use cases::Column as Col;
    let id = open(keys, ID_NUMBER, c.id_number.clone())?;
    let phone = open(keys, PHONE, c.phone.clone())?;
    let email = open(keys, EMAIL, c.email.clone())?;
    let seal = |column, v: &Option<String>| v.as_deref().map(|v| keys.seal(column, v));
    let res = cases::Entity::update_many()
        .col_expr(Col::ApplicantIdNumber, Expr::value(seal(ID_NUMBER, &id)))
        .col_expr(
            Col::ApplicantIdIndex,
            Expr::value(id.as_deref().map(|i| keys.index(i))),
        )
        .col_expr(Col::ApplicantPhone, Expr::value(seal(PHONE, &phone)))
        .col_expr(Col::ApplicantEmail, Expr::value(seal(EMAIL, &email)))
        .filter(Col::Id.eq(c.id))
        .filter(Col::Version.eq(c.version))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The sealed columns of one account.
#[derive(Debug, Clone)]
pub struct AccountSeal {
    pub id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub values: [Option<String>; 3],
}

/// The next `limit` accounts after `after` (by id).
pub async fn accounts_after<C: ConnectionTrait>(
    db: &C,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<AccountSeal>, DbErr> {
    use accounts::Column as C;
    let mut q = accounts::Entity::find().select_only().columns([
        C::Id,
        C::UpdatedAt,
        C::Phone,
        C::Email,
        C::IdNumber,
    ]);
    if let Some(after) = after {
        q = q.filter(C::Id.gt(after));
    }
    type Row = (
        Uuid,
        DateTime<Utc>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = q
        .order_by_asc(C::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, updated_at, p, e, i)| AccountSeal {
            id,
            updated_at,
            values: [p, e, i],
        })
        .collect())
}

/// Re-seal one account's columns, unless it changed since it was read. True when written.
pub async fn reseal_account<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    a: &AccountSeal,
) -> Result<bool, DbErr> {
    use accounts::Column as Col;
    let [phone, email, id] = super::accounts::reseal(keys, a.values.clone())?;
    let res = accounts::Entity::update_many()
        .col_expr(Col::Phone, Expr::value(phone))
        .col_expr(Col::Email, Expr::value(email))
        .col_expr(Col::IdNumber, Expr::value(id))
        .filter(Col::Id.eq(a.id))
        .filter(Col::UpdatedAt.eq(a.updated_at))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A completed idempotency key's stored answer.
#[derive(Debug, Clone)]
pub struct AnswerSeal {
    pub account_id: Uuid,
    pub key: String,
    pub body: String,
}

/// The next `limit` stored answers after `(account, key)`.
pub async fn answers_after<C: ConnectionTrait>(
    db: &C,
    after: Option<(Uuid, String)>,
    limit: u64,
) -> Result<Vec<AnswerSeal>, DbErr> {
    use idempotency_keys::Column as C;
    let mut q = idempotency_keys::Entity::find()
        .select_only()
        .columns([C::AccountId, C::Key, C::ResponseBody])
        .filter(C::ResponseBody.is_not_null());
    if let Some((account, key)) = after {
        q = q.filter(
            sea_orm::Condition::any()
                .add(C::AccountId.gt(account))
                .add(C::AccountId.eq(account).and(C::Key.gt(key))),
        );
    }
    let rows: Vec<(Uuid, String, Option<String>)> = q
        .order_by_asc(C::AccountId)
        .order_by_asc(C::Key)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(account_id, key, body)| {
            Some(AnswerSeal {
                account_id,
                key,
                body: body?,
            })
        })
        .collect())
}

/// Re-seal one stored answer (written once, never changed: no guard needed beyond its text).
pub async fn reseal_answer<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    a: &AnswerSeal,
) -> Result<bool, DbErr> {
    use idempotency_keys::Column as Col;
    let body = super::idempotency::reseal(keys, &a.body)?;
    let res = idempotency_keys::Entity::update_many()
        .col_expr(Col::ResponseBody, Expr::value(body))
        .filter(Col::AccountId.eq(a.account_id))
        .filter(Col::Key.eq(a.key.as_str()))
        .filter(Col::ResponseBody.eq(a.body.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
