//! Account rows.

use chrono::{DateTime, Utc};
use entity::accounts;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::repo::open;
use crate::security::data_key::DataKeys;

/// An account as stored (with its password hash), its personal data opened.
pub type AccountRow = accounts::Model;

/// The columns sealed like an applicant's on a dossier (a citizen's account holds the same).
const PHONE: &str = "accounts.phone";
const EMAIL: &str = "accounts.email";
const ID_NUMBER: &str = "accounts.id_number";

fn opened(keys: &DataKeys, mut row: AccountRow) -> Result<AccountRow, DbErr> {
    row.phone = open(keys, PHONE, row.phone)?;
    row.email = open(keys, EMAIL, row.email)?;
    row.id_number = open(keys, ID_NUMBER, row.id_number)?;
    Ok(row)
}

/// Phone, e-mail and ID number (as stored) sealed again with the current key.
pub(crate) fn reseal(
    keys: &DataKeys,
    [phone, email, id]: [Option<String>; 3],
) -> Result<[Option<String>; 3], DbErr> {
    let again =
        |column, v| open(keys, column, v).map(|v: Option<String>| v.map(|v| keys.seal(column, &v)));
    Ok([
        again(PHONE, phone)?,
        again(EMAIL, email)?,
        again(ID_NUMBER, id)?,
    ])
}

fn opened_opt(keys: &DataKeys, row: Option<AccountRow>) -> Result<Option<AccountRow>, DbErr> {
    row.map(|r| opened(keys, r)).transpose()
}

pub async fn find_by_id<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    id: Uuid,
) -> Result<Option<AccountRow>, DbErr> {
    opened_opt(keys, accounts::Entity::find_by_id(id).one(db).await?)
}

/// An account's role, unit and whether it is disabled (nothing sealed is read).
pub async fn placement<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<(String, Option<String>, bool)>, DbErr> {
    accounts::Entity::find_by_id(id)
        .select_only()
        .columns([
            accounts::Column::Role,
            accounts::Column::UnitCode,
            accounts::Column::Disabled,
        ])
        .into_tuple()
        .one(db)
        .await
}

/// The channel on which account changes are announced to every instance (PostgreSQL).
pub const CHANGES_CHANNEL: &str = "motcua_account_changes";

/// Announce that an account changed, to every instance's account cache. Inside the changing
/// transaction: PostgreSQL delivers the notification when, and only if, it commits. On
/// SQLite, which has one serving process, nothing is sent.
pub async fn notify_changed<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANGES_CHANNEL.into(), id.to_string().into()],
    ))
    .await?;
    Ok(())
}

pub async fn find_by_username_key<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    key: &str,
) -> Result<Option<AccountRow>, DbErr> {
    let row = accounts::Entity::find()
        .filter(accounts::Column::UsernameKey.eq(key))
        .one(db)
        .await?;
    opened_opt(keys, row)
}

/// Filters for the admin list.
#[derive(Debug, Default, Clone)]
pub struct AccountFilter {
    pub role: Option<String>,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub q: Option<String>,
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    filter: &AccountFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<AccountRow>, u64), DbErr> {
    let mut query = accounts::Entity::find();
    if let Some(role) = &filter.role {
        query = query.filter(accounts::Column::Role.eq(role.as_str()));
    }
    if let Some(unit) = &filter.unit_code {
        query = query.filter(accounts::Column::UnitCode.eq(unit.as_str()));
    }
    if let Some(p) = &filter.province_code {
        query = query.filter(accounts::Column::ProvinceCode.eq(p.as_str()));
    }
    if let Some(q) = &filter.q {
        query = query.filter(
            Expr::col(accounts::Column::UsernameKey)
                .like(super::contains_literally(&q.to_ascii_lowercase())),
        );
    }
    let (rows, total) = super::page(
        query.order_by_asc(accounts::Column::UsernameKey),
        db,
        offset,
        limit,
    )
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| opened(keys, r))
        .collect::<Result<_, _>>()?;
    Ok((rows, total))
}

/// Insert an account (the caller has checked every column); a username already taken is a
/// unique violation.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    mut row: AccountRow,
) -> Result<AccountRow, DbErr> {
    let seal = |column, v: Option<String>| v.map(|v| keys.seal(column, &v));
    row.phone = seal(PHONE, row.phone);
    row.email = seal(EMAIL, row.email);
    row.id_number = seal(ID_NUMBER, row.id_number);
    let row = accounts::ActiveModel::from(row)
        .reset_all()
        .insert(db)
        .await?;
    opened(keys, row)
}

/// The columns of an account to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub role: Option<String>,
    pub unit_code: Option<Option<String>>,
    pub province_code: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub full_name: Option<String>,
}

/// Write the changes to the row read as `current`, with `updated_at`; returns the row as it
/// now is.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    keys: &DataKeys,
    current: AccountRow,
    ch: AccountChange,
    now: DateTime<Utc>,
) -> Result<AccountRow, DbErr> {
    let mut am: accounts::ActiveModel = current.into();
    if let Some(r) = ch.role {
        am.role = Set(r);
    }
    if let Some(u) = ch.unit_code {
        am.unit_code = Set(u);
    }
    if let Some(p) = ch.province_code {
        am.province_code = Set(p);
    }
    if let Some(d) = ch.disabled {
        am.disabled = Set(d);
    }
    if let Some(n) = ch.full_name {
        am.full_name = Set(n);
    }
    am.updated_at = Set(now);
    // Only the columns set are written; the row comes back as stored, sealed.
    opened(keys, am.update(db).await?)
}

/// Revoke every access token issued to the account so far: its token generation goes up by
/// one, in the database (concurrent revocations each count), and a token of an older
/// generation is refused.
pub async fn revoke_access_tokens<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::TokenGeneration,
            Expr::col(accounts::Column::TokenGeneration).add(1),
        )
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}
