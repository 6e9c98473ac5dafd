//! Queries, generic over `C: ConnectionTrait` so that they join the caller's transaction.
//! No business rules here: services decide, repositories read and write.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod calendar;
pub mod cases;
pub mod counters;
pub mod documents;
pub mod dossiers;
pub mod events;
pub mod feed;
pub mod feedback;
pub mod geography;
pub mod idempotency;
pub mod national;
pub mod notifications;
pub mod open311;
pub mod outbox;
pub mod overrides;
pub mod personal_data;
pub mod procedures;
pub mod province_lists;
pub mod reference;
pub mod reports;
pub mod scorecard;
pub mod secrets;
pub mod stats;
pub mod throttle;
pub mod tokens;
pub mod units;
pub mod web_sessions;
pub mod webhooks;

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, PaginatorTrait, QuerySelect, Select,
};

/// A `LIKE` pattern matching values that contain `s` as it is written: its `%` and `_`
/// (LIKE's wildcards) and the escape character `\` are escaped, and the escape character is
/// named with `ESCAPE` (SQLite has none by default), so both databases read it alike.
pub fn contains_literally(s: &str) -> sea_orm::sea_query::LikeExpr {
    let mut pattern = String::with_capacity(s.len() + 2);
    pattern.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')
}

/// A sealed column's plaintext (see `security::data_key`); a value that does not open is a
/// database error.
pub(crate) fn open(
    keys: &crate::security::data_key::DataKeys,
    column: &'static str,
    v: Option<String>,
) -> Result<Option<String>, DbErr> {
    v.map(|v| keys.open(column, &v))
        .transpose()
        .map_err(|e| DbErr::Custom(e.to_string()))
}

/// Hand-written SQL with `?` placeholders, written for the backend (PostgreSQL numbers them).
pub fn placeholders(backend: DatabaseBackend, text: &str) -> String {
    if backend != DatabaseBackend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut n = 0;
    for ch in text.chars() {
        if ch == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(ch);
        }
    }
    out
}

/// One page of an ordered query and the number of rows it matches.
pub async fn page<E, C>(
    query: Select<E>,
    db: &C,
    offset: u64,
    limit: u64,
) -> Result<(Vec<E::Model>, u64), DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = query.clone().count(db).await?;
    let rows = query.offset(offset).limit(limit).all(db).await?;
    Ok((rows, total))
}
