//! The Open311 facade's API keys and the dossiers filed through it.

use chrono::{DateTime, Utc};
use entity::{open311_keys, open311_requests};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, Statement, Value,
};
use uuid::Uuid;

pub type Key = open311_keys::Model;

pub async fn insert_key<C: ConnectionTrait>(db: &C, k: Key) -> Result<Key, DbErr> {
    open311_keys::ActiveModel {
        id: Set(k.id),
        name: Set(k.name),
        key_digest: Set(k.key_digest),
        account_id: Set(k.account_id),
        created_at: Set(k.created_at),
        created_by: Set(k.created_by),
        revoked_at: Set(k.revoked_at),
    }
    .insert(db)
    .await
}

/// The key with this digest, revoked or not.
pub async fn find_by_digest<C: ConnectionTrait>(
    db: &C,
    digest: &str,
) -> Result<Option<Key>, DbErr> {
    open311_keys::Entity::find()
        .filter(open311_keys::Column::KeyDigest.eq(digest))
        .one(db)
        .await
}

pub async fn list_keys<C: ConnectionTrait>(db: &C) -> Result<Vec<Key>, DbErr> {
    open311_keys::Entity::find()
        .order_by_desc(open311_keys::Column::CreatedAt)
        .all(db)
        .await
}

/// Revoke a key; whether it was active.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = open311_keys::Entity::update_many()
        .col_expr(open311_keys::Column::RevokedAt, Expr::value(at))
        .filter(open311_keys::Column::Id.eq(id))
        .filter(open311_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

pub async fn find_key<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Key>, DbErr> {
    open311_keys::Entity::find_by_id(id).one(db).await
}

/// Record that a dossier was filed through the facade (once: a replayed filing is the same).
pub async fn record_request<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    case_code: &str,
    key: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::OnConflict;
    open311_requests::Entity::insert(open311_requests::ActiveModel {
        case_id: Set(case_id),
        case_code: Set(case_code.to_string()),
        key_id: Set(key),
        created_at: Set(at),
    })
    .on_conflict(
        OnConflict::column(open311_requests::Column::CaseId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// What the facade shows of a dossier filed through it: no personal data.
#[derive(Debug, Clone, FromQueryResult)]
pub struct RequestRow {
    pub code: String,
    pub procedure_code: String,
    pub status: String,
    pub outcome: Option<String>,
    pub receiving_unit: String,
    pub handling_unit: Option<String>,
    pub ward_code: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub appointment_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// The facade's filters (`GET requests`).
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub codes: Vec<String>,
    pub procedures: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Statuses of ours (the facade's `open`/`closed` turned into them).
    pub statuses: Vec<String>,
}

/// Dossiers filed through the facade, newest first, at most `limit`.
pub async fn requests<C: ConnectionTrait>(
    db: &C,
    f: &RequestFilter,
    limit: u64,
) -> Result<Vec<RequestRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let mut sql = String::from(
        "SELECT c.code, c.procedure_code, c.status, c.outcome, c.receiving_unit, c.handling_unit, \
         c.ward_code, c.submitted_at, c.updated_at, c.appointment_at, c.due_at \
         FROM open311_requests r JOIN cases c ON c.id = r.case_id WHERE 1 = 1",
    );
    let list = |sql: &mut String, values: &mut Vec<Value>, col: &str, items: &[String]| {
        if items.is_empty() {
            return;
        }
        sql.push_str(&format!(" AND {col} IN ("));
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
            values.push(it.clone().into());
        }
        sql.push(')');
    };
    list(&mut sql, &mut values, "c.code", &f.codes);
    list(&mut sql, &mut values, "c.procedure_code", &f.procedures);
    list(&mut sql, &mut values, "c.status", &f.statuses);
    if let Some(from) = f.from {
        sql.push_str(" AND c.submitted_at >= ?");
        values.push(from.into());
    }
    if let Some(to) = f.to {
        sql.push_str(" AND c.submitted_at <= ?");
        values.push(to.into());
    }
    sql.push_str(" ORDER BY r.created_at DESC LIMIT ?");
    values.push((limit as i64).into());
    RequestRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        super::placeholders(backend, &sql),
        values,
    ))
    .all(db)
    .await
}
