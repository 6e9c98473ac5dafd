//! Dossier rows.

use chrono::{DateTime, Utc};
use entity::cases::{self, Column, Entity};
use entity::{case_events, outbox};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, InsertStatement, Query, QueryStatementBuilder,
    WithClause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityName,
    EntityTrait, IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement,
};
use uuid::Uuid;

use crate::domain::access::CaseScope;

/// Insert several dossiers together with the first event and the outbox row of each, in
/// one round trip, and return the `(id, code)` of each dossier, in no particular order.
/// Only the key comes back: the caller holds every other value already, and reading the
/// whole row back (fifty columns, three of them JSON) cost an intake more than any of its
/// other statements.
///
/// Each event is given with the code of its dossier, whose id the database assigns in the
/// same round trip: the event's `case_id` is looked up by that code. On PostgreSQL the
/// three inserts are one statement (data-modifying `WITH`); on SQLite, which has no such
/// statement, they are three statements sent together, run in order by the connection's
/// thread. Either way they are one hand-over to the database instead of three: a lone
/// intake spends most of its time waiting on such hand-overs. Call it inside a
/// transaction: on SQLite a failing statement undoes only itself, and the caller's rollback
/// undoes the ones before it.
pub async fn insert_with_followups<C: ConnectionTrait>(
    db: &C,
    rows: Vec<cases::ActiveModel>,
    events: Vec<(String, case_events::ActiveModel)>,
    outbox_rows: Vec<outbox::ActiveModel>,
) -> Result<Vec<(i64, String)>, DbErr> {
    let backend = db.get_database_backend();
    let mut dossiers = Entity::insert_many(rows).into_query();
    dossiers.returning(Query::returning().columns([Column::Id, Column::Code]));
    let outbox_insert = outbox::Entity::insert_many(outbox_rows).into_query();
    let found = if backend == DatabaseBackend::Postgres {
        // The events read the new ids from the dossiers' RETURNING: sub-statements of one
        // statement share a snapshot, so the table itself would not show the new rows yet.
        let new_cases = Alias::new("new_cases");
        let events_insert = first_events(events, new_cases.clone())?;
        let with = WithClause::new()
            .cte(
                CommonTableExpression::new()
                    .query(dossiers)
                    .table_name(new_cases.clone())
                    .to_owned(),
            )
            .cte(
                CommonTableExpression::new()
                    .query(events_insert)
                    .table_name(Alias::new("new_events"))
                    .to_owned(),
            )
            .cte(
                CommonTableExpression::new()
                    .query(outbox_insert)
                    .table_name(Alias::new("new_outbox"))
                    .to_owned(),
            )
            .to_owned();
        let select = Query::select()
            .columns([Column::Id, Column::Code])
            .from(new_cases)
            .to_owned();
        db.query_all(&select.with(with)).await?
    } else {
        let events_insert = first_events(events, Alias::new(Entity.table_name()))?;
        let parts = [
            backend.build(&dossiers),
            backend.build(&events_insert),
            backend.build(&outbox_insert),
        ];
        let sql = parts
            .iter()
            .map(|p| p.sql.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let values: Vec<sea_orm::Value> = parts
            .into_iter()
            .flat_map(|p| p.values.map(|v| v.0).unwrap_or_default())
            .collect();
        db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
    };
    found
        .iter()
        .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "code")?)))
        .collect()
}

/// The insert of first events, each attached to the dossier of its code as found in
/// `dossiers` (the table, or the new rows of the same statement).
fn first_events(
    events: Vec<(String, case_events::ActiveModel)>,
    dossiers: Alias,
) -> Result<InsertStatement, DbErr> {
    use case_events::Column as E;
    let columns: Vec<E> = E::iter().filter(|c| !matches!(c, E::Id)).collect();
    let mut insert = Query::insert();
    insert
        .into_table(case_events::Entity)
        .columns(columns.clone());
    for (code, event) in events {
        let mut values = Vec::with_capacity(columns.len());
        for c in &columns {
            values.push(if matches!(c, E::CaseId) {
                let id = Query::select()
                    .column(Column::Id)
                    .from(dossiers.clone())
                    .and_where(Expr::col(Column::Code).eq(code.clone()))
                    .to_owned();
                Expr::SubQuery(None, Box::new(id.into_sub_query_statement()))
            } else {
                let value = event.get(*c).into_value().ok_or_else(|| {
                    DbErr::Custom(format!("first event without a value for {}", c.as_str()))
                })?;
                Expr::val(value)
            });
        }
        insert
            .values(values)
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    Ok(insert)
}

/// Read a dossier by its code, locking the row for the rest of the transaction on
/// PostgreSQL (SQLite's write transaction is already exclusive).
pub async fn find_for_update<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> Result<Option<cases::Model>, DbErr> {
    Entity::find()
        .filter(Column::Code.eq(code))
        .lock_exclusive()
        .one(db)
        .await
}

pub async fn find_by_code<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> Result<Option<cases::Model>, DbErr> {
    Entity::find().filter(Column::Code.eq(code)).one(db).await
}

/// Write a changed dossier only if nobody changed it since `expected_version` was read.
/// Returns false when the version moved.
pub async fn update_if_version<C: ConnectionTrait>(
    db: &C,
    row: cases::ActiveModel,
    id: i64,
    expected_version: i32,
) -> Result<bool, DbErr> {
    let res = Entity::update_many()
        .set(row)
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The condition for dossiers a scope covers.
pub fn scope_condition(scope: &CaseScope) -> Condition {
    match scope {
        CaseScope::Applicant(id) => Condition::all().add(Column::ApplicantAccountId.eq(*id)),
        CaseScope::Unit { unit, .. } => Condition::any()
            .add(Column::ReceivingUnit.eq(unit.as_str()))
            .add(Column::HandlingUnit.eq(unit.as_str())),
        CaseScope::Province(p) => Condition::all().add(Column::ProvinceCode.eq(p.as_str())),
        CaseScope::National | CaseScope::Audited => Condition::all(),
    }
}

/// Filters of a dossier list.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    pub statuses: Vec<String>,
    pub procedure: Option<String>,
    pub open_only: bool,
    pub sla_state: Option<String>,
}

/// A page of dossiers within a scope, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    scope: &CaseScope,
    f: &CaseFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<cases::Model>, u64), DbErr> {
    let mut q = Entity::find().filter(scope_condition(scope));
    if !f.statuses.is_empty() {
        q = q.filter(Column::Status.is_in(f.statuses.clone()));
    }
    if let Some(p) = &f.procedure {
        q = q.filter(Column::ProcedureCode.eq(p.as_str()));
    }
    if f.open_only {
        q = q.filter(Column::ClosedAt.is_null());
    }
    if let Some(s) = &f.sla_state {
        q = q.filter(Column::SlaState.eq(s.as_str()));
    }
    super::page(
        q.order_by_desc(Column::SubmittedAt)
            .order_by_desc(Column::Id),
        db,
        offset,
        limit,
    )
    .await
}

/// How a queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueSort {
    /// Overdue first, then the nearest deadline; paused and not-yet-received ones last.
    Urgency,
    ReceivedAt,
}

/// Filters of a unit's queue.
#[derive(Debug, Clone)]
pub struct QueueFilter {
    pub statuses: Vec<String>,
    pub claimed: Option<bool>,
    pub assignee: Option<Uuid>,
    pub sort: QueueSort,
}

/// A unit's open work: dossiers it handles, and online dossiers waiting for it to receive them.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    unit: &str,
    f: &QueueFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<cases::Model>, u64), DbErr> {
    let mut q = Entity::find().filter(Column::ClosedAt.is_null()).filter(
        Condition::any().add(Column::HandlingUnit.eq(unit)).add(
            Condition::all()
                .add(Column::ReceivingUnit.eq(unit))
                .add(Column::Status.eq("submitted")),
        ),
    );
    if !f.statuses.is_empty() {
        q = q.filter(Column::Status.is_in(f.statuses.clone()));
    }
    match f.claimed {
        Some(true) => q = q.filter(Column::AssignedTo.is_not_null()),
        Some(false) => q = q.filter(Column::AssignedTo.is_null()),
        None => {}
    }
    if let Some(a) = f.assignee {
        q = q.filter(Column::AssignedTo.eq(a));
    }
    q = match f.sort {
        QueueSort::Urgency => q
            .order_by_asc(Into::<Expr>::into(
                Expr::case(Column::PausedAt.is_not_null(), 1).finally(0),
            ))
            .order_by_asc(Into::<Expr>::into(
                Expr::case(Column::DueAt.is_null(), 1).finally(0),
            ))
            .order_by_asc(Column::DueAt)
            .order_by_asc(Column::SubmittedAt),
        QueueSort::ReceivedAt => q
            .order_by_asc(Into::<Expr>::into(
                Expr::case(Column::ReceivedAt.is_null(), 1).finally(0),
            ))
            .order_by_asc(Column::ReceivedAt)
            .order_by_asc(Column::SubmittedAt),
    };
    super::page(q.order_by_asc(Column::Id), db, offset, limit).await
}

/// A province's dossiers awaiting routing, oldest first.
pub async fn coordination_queue<C: ConnectionTrait>(
    db: &C,
    province: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<cases::Model>, u64), DbErr> {
    let q = Entity::find()
        .filter(Column::ProvinceCode.eq(province))
        .filter(Column::Status.eq("awaiting_routing"));
    super::page(
        q.order_by_asc(Column::SubmittedAt).order_by_asc(Column::Id),
        db,
        offset,
        limit,
    )
    .await
}

/// Open dossiers whose deadline can still move (received, not closed), for recomputation
/// after a calendar change; `after_id` pages through them.
pub async fn open_with_deadline<C: ConnectionTrait>(
    db: &C,
    since: DateTime<Utc>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<cases::Model>, DbErr> {
    Entity::find()
        .filter(Column::ClosedAt.is_null())
        .filter(Column::DueAt.is_not_null())
        .filter(Column::DueAt.gte(since))
        .filter(Column::Id.gt(after_id))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}
