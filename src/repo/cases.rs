//! Dossier rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::cases::{self, Column, Entity};
use entity::{case_events, idempotency_keys, outbox, unit_day_counters};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, InsertStatement, Query, QueryStatementBuilder,
    WithClause, WithQuery,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityName,
    EntityTrait, IdenStatic, Iterable, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    Statement,
};
use uuid::Uuid;

use crate::domain::access::CaseScope;
use crate::domain::dossier::DossierCode;
use crate::domain::unit::UnitCode;
use crate::repo::counters;

/// A dossier to insert with its first event and outbox row, numbered by the database.
pub struct NewDossier {
    /// The receiving unit, whose counter for `day` numbers the dossier.
    pub unit: UnitCode,
    /// The local day of receipt.
    pub day: NaiveDate,
    /// The dossier row. Its `code` is not read: the database makes it from the counter.
    pub row: cases::ActiveModel,
    /// The first event. Its `case_id` is not read: the database attaches it to the dossier.
    pub event: case_events::ActiveModel,
    /// The outbox row. Its `case_code` is not read but given the code, and so is the
    /// payload's top-level key `code_in_payload` if named (letters, digits and `_` only).
    pub outbox: outbox::ActiveModel,
    pub code_in_payload: Option<&'static str>,
    /// An online intake's Idempotency-Key row, with its stored answer
    /// ([`crate::repo::idempotency::answer_row`]). Its `case_id` is not read: the database
    /// attaches it to the dossier. It has no `ON CONFLICT`: a key taken already fails the
    /// whole statement, which then writes nothing.
    pub answer: Option<idempotency_keys::ActiveModel>,
}

/// Number and insert dossiers, with the first event and the outbox row of each, in one
/// round trip, and return the `(id, code)` of each, in the order given.
///
/// The numbers are taken from the counters (one upsert per unit and day, numbers handed out
/// in the order given) in the same round trip: each dossier's code is formatted in SQL from
/// its counter, and its event and outbox row find it by that code. A lone intake spends most
/// of its time waiting on such hand-overs to the database. On PostgreSQL it is all one
/// statement (data-modifying `WITH`), atomic on its own; on SQLite, which has no such
/// statement, four statements sent together, run in order by the connection's thread. Call
/// it inside a transaction on SQLite: a failing statement undoes only itself, and the
/// caller's rollback undoes the ones before it.
///
/// Only the key comes back: the caller holds every other value already, and reading the
/// whole row back (fifty columns, three of them JSON) cost an intake more than any of its
/// other statements. Each returned code is checked against [`DossierCode::new`].
pub async fn insert_numbered<C: ConnectionTrait>(
    db: &C,
    dossiers: Vec<NewDossier>,
) -> Result<Vec<(i64, DossierCode)>, DbErr> {
    let keys = NumberKeys::of(&dossiers);
    let found = insert_numbered_rows(db, dossiers, false).await?;
    keys.match_rows(&found)
}

/// [`insert_numbered`] committed on its own, in one hand-over to the database, outside any
/// transaction of the caller's. On PostgreSQL it is the one statement, atomic by itself. On
/// SQLite the text carries its own `BEGIN IMMEDIATE` and `COMMIT`: call it on a connection
/// that nothing else uses while it runs (a pool of one), from a caller that cannot be
/// cancelled half-way (sqlx stops a text whose caller went away, between its `BEGIN` and its
/// `COMMIT`).
///
/// `Err` means nothing was written: on SQLite the failed text is rolled back on that
/// connection before returning (`Err(.., true)` if even the rollback failed: the connection
/// may still hold an open transaction and must be closed). `Ok` means committed: the rows it
/// returns are then matched with [`NumberKeys::match_rows`], whose own failure must not
/// lead to writing the same dossiers again.
pub async fn insert_numbered_committing<C: ConnectionTrait>(
    db: &C,
    dossiers: Vec<NewDossier>,
) -> Result<Vec<QueryResult>, (DbErr, bool)> {
    let backend = db.get_database_backend();
    match insert_numbered_rows(db, dossiers, true).await {
        Ok(found) => Ok(found),
        Err(e) if backend != DatabaseBackend::Sqlite => Err((e, false)),
        Err(e) => match db.execute_unprepared("ROLLBACK").await {
            Ok(_) => Err((e, false)),
            // The text stopped before its COMMIT or failed at it: nothing to undo.
            Err(r) if r.to_string().contains("no transaction is active") => Err((e, false)),
            Err(r) => {
                tracing::error!(error = %r, "ROLLBACK after a failed intake write failed");
                Err((e, true))
            }
        },
    }
}

/// Which counter numbers each dossier of a batch: the counters in order of first use, how
/// many numbers each takes, and for each dossier its counter and its place among them.
pub struct NumberKeys {
    keys: Vec<(UnitCode, NaiveDate)>,
    counters: Vec<(String, String, i32)>,
    places: Vec<(usize, i32)>,
}

impl NumberKeys {
    pub fn of(dossiers: &[NewDossier]) -> NumberKeys {
        let mut counters: Vec<(String, String, i32)> = Vec::new();
        let mut places = Vec::with_capacity(dossiers.len());
        for d in dossiers {
            let (unit, day) = (d.unit.to_string(), d.day.format("%y%m%d").to_string());
            let at = match counters.iter().position(|c| c.0 == unit && c.1 == day) {
                Some(at) => at,
                None => {
                    counters.push((unit, day, 0));
                    counters.len() - 1
                }
            };
            counters[at].2 += 1;
            places.push((at, counters[at].2));
        }
        NumberKeys {
            keys: dossiers.iter().map(|d| (d.unit.clone(), d.day)).collect(),
            counters,
            places,
        }
    }

    /// The `(id, code)` of each dossier, in the order given, from the rows the insert
    /// returned (in no particular order on SQLite). The counters' new values are read
    /// from the codes (the largest number of each counter is its last), and each code is
    /// checked against [`DossierCode::new`].
    pub fn match_rows(&self, found: &[QueryResult]) -> Result<Vec<(i64, DossierCode)>, DbErr> {
        let ids = found
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String>("", "code")?,
                    r.try_get::<i64>("", "id")?,
                ))
            })
            .collect::<Result<HashMap<String, i64>, DbErr>>()?;
        let mut last = vec![None; self.counters.len()];
        for ((unit, day), &(at, _)) in self.keys.iter().zip(&self.places) {
            if last[at].is_some() {
                continue;
            }
            let zero = DossierCode::new(unit, *day, 0);
            let (prefix, _) = zero.as_str().rsplit_once('-').unwrap_or_default();
            last[at] = ids
                .keys()
                .filter_map(|code| {
                    code.strip_prefix(prefix)?
                        .strip_prefix('-')?
                        .parse::<u32>()
                        .ok()
                })
                .max();
        }
        self.keys
            .iter()
            .zip(&self.places)
            .map(|((unit, day), &(at, nth))| {
                let n =
                    i64::from(last[at].unwrap_or_default()) + i64::from(nth - self.counters[at].2);
                let code = DossierCode::new(unit, *day, u32::try_from(n).unwrap_or_default());
                let id = ids.get(code.as_str()).copied().ok_or_else(|| {
                    DbErr::Custom(format!("dossier {code} not found among those inserted"))
                })?;
                Ok((id, code))
            })
            .collect()
    }
}

/// The insert of [`insert_numbered`], returning `id` and `code`; with `own_transaction`,
/// on SQLite wrapped in its own `BEGIN IMMEDIATE` and `COMMIT` (PostgreSQL's statement needs
/// none).
async fn insert_numbered_rows<C: ConnectionTrait>(
    db: &C,
    dossiers: Vec<NewDossier>,
    own_transaction: bool,
) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    let NumberKeys {
        counters, places, ..
    } = NumberKeys::of(&dossiers);
    let shape = Shape::of(backend, own_transaction, &places, &dossiers);
    let mut values = StandIns::default();
    let code = |values: &mut StandIns, i: usize| {
        let (at, nth) = places[i];
        let (unit, day, n) = &counters[at];
        code_expr(backend, values, unit, day, n - nth)
    };
    let dossier_table = if backend == DatabaseBackend::Postgres {
        // Sub-statements of one statement share a snapshot: the events must read the new
        // ids from the dossiers' RETURNING, the codes from the counters' RETURNING.
        "new_cases"
    } else {
        Entity.table_name()
    };
    // In key order: two batches that share counters lock them in the same order
    // (PostgreSQL), so they queue instead of deadlocking.
    let mut takes: Vec<(&str, &str, i32)> = counters
        .iter()
        .map(|(u, d, n)| (u.as_str(), d.as_str(), *n))
        .collect();
    takes.sort_unstable();
    let take = counters::take_many_exprs(
        takes
            .into_iter()
            .map(|(u, d, n)| [values.put(u), values.put(d), values.put(n)]),
    );
    // The rows are moved into the statement, never copied: an intake's JSON (form, routing,
    // the sealed answer) copied at each step of building cost it more than its database work.
    let mut rows = Vec::with_capacity(dossiers.len());
    let mut events = Vec::with_capacity(dossiers.len());
    let mut outbox_rows = Vec::with_capacity(dossiers.len());
    let mut answers = Vec::new();
    for (i, d) in dossiers.into_iter().enumerate() {
        rows.push((d.row, vec![(Column::Code, code(&mut values, i))]));
        let case_id = |values: &mut StandIns| {
            let mut id = Query::select();
            id.column(Column::Id)
                .from(Alias::new(dossier_table))
                .and_where(Expr::col(Column::Code).eq(code(values, i)));
            Expr::SubQuery(None, Box::new(id.into_sub_query_statement()))
        };
        events.push((
            d.event,
            vec![(case_events::Column::CaseId, case_id(&mut values))],
        ));
        if let Some(answer) = d.answer {
            answers.push((
                answer,
                vec![(idempotency_keys::Column::CaseId, case_id(&mut values))],
            ));
        }
        let mut outbox_row = d.outbox;
        let mut outbox_exprs = vec![(outbox::Column::CaseCode, code(&mut values, i))];
        if let Some(key) = d.code_in_payload {
            let payload = outbox_row
                .payload
                .take()
                .ok_or_else(|| DbErr::Custom("an outbox row without a payload".into()))?;
            let payload = values.put(payload);
            let code = code(&mut values, i);
            outbox_exprs.push((
                outbox::Column::Payload,
                payload_with_code(backend, key, payload, code)?,
            ));
        }
        outbox_rows.push((outbox_row, outbox_exprs));
    }
    let mut dossiers_insert = insert_rows(&mut values, rows)?;
    dossiers_insert.returning(Query::returning().columns([Column::Id, Column::Code]));
    let events_insert = insert_rows(&mut values, events)?;
    let outbox_insert = insert_rows(&mut values, outbox_rows)?;
    let answers_insert = (!answers.is_empty())
        .then(|| insert_rows(&mut values, answers))
        .transpose()?;
    // The text is written once per shape of batch (see `Shape`); later batches of that
    // shape only move their values into place. The parts above are made for every batch
    // all the same: making them is what puts the values in their order.
    let text = match statement_texts().get(&shape) {
        Some(text) => text,
        None => {
            let built = if backend == DatabaseBackend::Postgres {
                let mut take = take;
                take.returning(Query::returning().columns([
                    unit_day_counters::Column::UnitCode,
                    unit_day_counters::Column::Day,
                    unit_day_counters::Column::Last,
                ]));
                let cte = |name: &str, query: InsertStatement| {
                    let mut cte = CommonTableExpression::new();
                    cte.query(query).table_name(Alias::new(name));
                    cte
                };
                let mut with = WithClause::new();
                with.cte(cte("counter", take))
                    .cte(cte("new_cases", dossiers_insert))
                    .cte(cte("new_events", events_insert))
                    .cte(cte("new_outbox", outbox_insert));
                if let Some(answers) = answers_insert {
                    with.cte(cte("new_keys", answers));
                }
                let mut select = Query::select();
                select
                    .columns([Column::Id, Column::Code])
                    .from(Alias::new("new_cases"));
                // Built in place: `SelectStatement::with` copies the whole clause.
                let mut query = WithQuery::new();
                query.with_clause(with).query(select);
                let built = backend.build(&query);
                (built.sql, built.values.map(|v| v.0).unwrap_or_default())
            } else {
                let mut parts = vec![
                    backend.build(&take),
                    backend.build(&dossiers_insert),
                    backend.build(&events_insert),
                    backend.build(&outbox_insert),
                ];
                parts.extend(answers_insert.map(|a| backend.build(&a)));
                let mut sql = parts
                    .iter()
                    .map(|p| p.sql.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                if own_transaction {
                    sql = format!("BEGIN IMMEDIATE; {sql}; COMMIT");
                }
                let order = parts
                    .into_iter()
                    .flat_map(|p| p.values.map(|v| v.0).unwrap_or_default())
                    .collect();
                (sql, order)
            };
            statement_texts().keep(shape, StatementText::new(built, values.len())?)
        }
    };
    let values = values.in_order(&text.order)?;
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        text.sql.as_str(),
        values,
    ))
    .await
}

/// The values of a statement in the order its parts were made, each given to sea-query as
/// a stand-in (its place in this list): the text written with stand-ins is the same for
/// every batch of one [`Shape`], and the stand-ins' order in it says where each value goes.
#[derive(Default)]
struct StandIns(Vec<sea_orm::Value>);

impl StandIns {
    fn put(&mut self, v: impl Into<sea_orm::Value>) -> Expr {
        self.0.push(v.into());
        Expr::val(self.0.len() as i64 - 1)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The values in the order of the text's placeholders.
    fn in_order(self, order: &[usize]) -> Result<Vec<sea_orm::Value>, DbErr> {
        if order.len() != self.0.len() {
            return Err(DbErr::Custom(format!(
                "{} values for a statement of {} placeholders",
                self.0.len(),
                order.len()
            )));
        }
        let mut values: Vec<Option<sea_orm::Value>> = self.0.into_iter().map(Some).collect();
        order
            .iter()
            .map(|&i| {
                values[i]
                    .take()
                    .ok_or_else(|| DbErr::Custom(format!("value {i} placed twice")))
            })
            .collect()
    }
}

/// What decides the text of a batch's statement: the database, its own transaction, how its
/// dossiers are numbered, and which columns each row sets and which answers and payload
/// codes it has. Batches of one shape differ only in their values.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Shape(Vec<u64>);

impl Shape {
    fn of(
        backend: DatabaseBackend,
        own_transaction: bool,
        places: &[(usize, i32)],
        dossiers: &[NewDossier],
    ) -> Shape {
        fn set<A: ActiveModelTrait>(row: &A, into: &mut Vec<u64>) {
            let mut mask = 0u64;
            for (i, c) in <A::Entity as EntityTrait>::Column::iter().enumerate() {
                if i % 64 == 0 && i > 0 {
                    into.push(mask);
                    mask = 0;
                }
                mask |= u64::from(!row.is_not_set(c)) << (i % 64);
            }
            into.push(mask);
        }
        let mut key = vec![
            backend as u64,
            u64::from(own_transaction),
            dossiers.len() as u64,
        ];
        for (d, &(at, nth)) in dossiers.iter().zip(places) {
            key.extend([at as u64, nth as u64]);
            set(&d.row, &mut key);
            set(&d.event, &mut key);
            set(&d.outbox, &mut key);
            match &d.answer {
                Some(a) => set(a, &mut key),
                None => key.push(u64::MAX),
            }
            // The payload's key is written into the text.
            key.push(d.code_in_payload.map_or(0, |k| k.len() as u64 + 1));
            key.extend(d.code_in_payload.unwrap_or_default().bytes().map(u64::from));
        }
        Shape(key)
    }
}

/// A statement's text, and for each of its placeholders the stand-in it holds.
struct StatementText {
    sql: String,
    order: Vec<usize>,
}

impl StatementText {
    fn new((sql, stand_ins): (String, Vec<sea_orm::Value>), n: usize) -> Result<Self, DbErr> {
        let order = stand_ins
            .into_iter()
            .map(|v| match v {
                sea_orm::Value::BigInt(Some(i)) if (0..n as i64).contains(&i) => Ok(i as usize),
                other => Err(DbErr::Custom(format!(
                    "a placeholder without its stand-in: {other:?}"
                ))),
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        Ok(StatementText { sql, order })
    }
}

/// The texts of the shapes seen lately. Bounded: a busy day's batches come in a few dozen
/// shapes; past the bound the texts are dropped and written again as they come.
#[derive(Default)]
struct StatementTexts(std::sync::Mutex<HashMap<Shape, std::sync::Arc<StatementText>>>);

const STATEMENT_TEXTS_MAX: usize = 256;

impl StatementTexts {
    fn get(&self, shape: &Shape) -> Option<std::sync::Arc<StatementText>> {
        let texts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        texts.get(shape).cloned()
    }

    fn keep(&self, shape: Shape, text: StatementText) -> std::sync::Arc<StatementText> {
        let text = std::sync::Arc::new(text);
        let mut texts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if texts.len() >= STATEMENT_TEXTS_MAX {
            texts.clear();
        }
        texts.insert(shape, text.clone());
        text
    }
}

fn statement_texts() -> &'static StatementTexts {
    static TEXTS: std::sync::OnceLock<StatementTexts> = std::sync::OnceLock::new();
    TEXTS.get_or_init(StatementTexts::default)
}

/// The code of the dossier numbered `last - offset` by the counter of `unit` on `day`,
/// formatted in SQL as [`DossierCode::new`] formats it: read on PostgreSQL from the new
/// counter rows of the same statement (`counter`), on SQLite from the table.
fn code_expr(
    backend: DatabaseBackend,
    values: &mut StandIns,
    unit: &str,
    day: &str,
    offset: i32,
) -> Expr {
    let sql = if backend == DatabaseBackend::Postgres {
        "(SELECT unit_code || '-' || day || '-' || \
           CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END \
         FROM (SELECT unit_code, day, last - $1 AS n FROM counter \
               WHERE unit_code = $2 AND day = $3) AS c)"
    } else {
        "(SELECT unit_code || '-' || day || '-' || printf('%04d', n) \
         FROM (SELECT unit_code, day, last - ? AS n FROM unit_day_counters \
               WHERE unit_code = ? AND day = ?) AS c)"
    };
    Expr::cust_with_exprs(sql, [values.put(offset), values.put(unit), values.put(day)])
}

/// `payload` with its top-level `key` set to `code`.
fn payload_with_code(
    backend: DatabaseBackend,
    key: &str,
    payload: Expr,
    code: Expr,
) -> Result<Expr, DbErr> {
    // The key goes into the SQL text: only a plain one.
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(DbErr::Custom(format!("not a plain payload key: {key:?}")));
    }
    let sql = if backend == DatabaseBackend::Postgres {
        format!("jsonb_set($1::jsonb, '{{{key}}}', to_jsonb($2))")
    } else {
        format!("json_set(?, '$.{key}', ?)")
    };
    Ok(Expr::cust_with_exprs(sql, [payload, code]))
}

/// A row to insert, with the columns it gives as SQL expressions instead of values.
type RowWithExprs<A> = (
    A,
    Vec<(
        <<A as ActiveModelTrait>::Entity as EntityTrait>::Column,
        Expr,
    )>,
);

/// An INSERT of `rows`: the columns set in the first, each given as the row's value (moved
/// out of it) except those a row gives as an SQL expression.
fn insert_rows<A: ActiveModelTrait>(
    values_in: &mut StandIns,
    rows: Vec<RowWithExprs<A>>,
) -> Result<InsertStatement, DbErr> {
    let Some((first, first_exprs)) = rows.first() else {
        return Err(DbErr::Custom("nothing to insert".into()));
    };
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter()
        .filter(|c| {
            !first.is_not_set(*c) || first_exprs.iter().any(|(e, _)| e.as_str() == c.as_str())
        })
        .collect();
    let mut insert = Query::insert();
    insert
        .into_table(A::Entity::default())
        .columns(columns.iter().copied());
    for (mut row, mut exprs) in rows {
        let mut values = Vec::with_capacity(columns.len());
        for c in &columns {
            let given = exprs
                .iter()
                .position(|(e, _)| e.as_str() == c.as_str())
                .map(|at| exprs.swap_remove(at).1);
            values.push(match given {
                Some(x) => x,
                None => values_in.put(row.take(*c).into_value().ok_or_else(|| {
                    DbErr::Custom(format!("a row without a value for {}", c.as_str()))
                })?),
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

/// The rows of the dossiers of `codes` that exist, in one read (in no particular order).
pub async fn find_by_codes<C: ConnectionTrait>(
    db: &C,
    codes: &[&str],
) -> Result<Vec<cases::Model>, DbErr> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    Entity::find()
        .filter(Column::Code.is_in(codes.iter().copied()))
        .all(db)
        .await
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
            .add(Column::HandlingUnit.eq(unit.as_str()))
            .add(Column::ConsultedUnit.eq(unit.as_str())),
        CaseScope::Province(p) => Condition::all().add(Column::ProvinceCode.eq(p.as_str())),
        CaseScope::National | CaseScope::Audited => Condition::all(),
    }
}

/// The sub-dossiers of bundle `code`, oldest first.
pub async fn parts_of<C: ConnectionTrait>(db: &C, code: &str) -> Result<Vec<cases::Model>, DbErr> {
    Entity::find()
        .filter(Column::BundleCode.eq(code))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// Filters of a dossier list.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    pub statuses: Vec<String>,
    pub procedure: Option<String>,
    pub open_only: bool,
    pub sla_state: Option<String>,
    /// Blind indexes of an applicant ID number searched for (one per data key); empty: any.
    pub applicant_id_indexes: Vec<String>,
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
    // An applicant's list shows what they filed: a bundle once, not each of its parts.
    if matches!(scope, CaseScope::Applicant(_)) {
        q = q.filter(Column::BundleCode.is_null());
    }
    if !f.statuses.is_empty() {
        q = q.filter(Column::Status.is_in(f.statuses.clone()));
    }
    if let Some(p) = &f.procedure {
        q = q.filter(Column::ProcedureCode.eq(p.as_str()));
    }
    if !f.applicant_id_indexes.is_empty() {
        q = q.filter(Column::ApplicantIdIndex.is_in(f.applicant_id_indexes.clone()));
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
    pub procedure: Option<String>,
    pub sla_state: Option<String>,
    pub sort: QueueSort,
}

/// A unit's open work: dossiers it handles, online dossiers waiting for it to receive them
/// (or to be completed at its counter), and other units' dossiers sent to it for its part.
///
/// The three ways are disjoint conditions, each read on its own: a unit with sixteen
/// thousand open dossiers is then a count on one index (`idx_cases_handling_open`, index
/// only) and, in urgency order, the first rows of another (`idx_cases_handling_urgency`,
/// whose columns are this order); the small other ways are added and the page cut from the
/// merge. As one query with an OR, the database read every open dossier of the unit to
/// sort them (90 ms at 8,000) and counted them through the table (30 ms).
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    unit: &str,
    f: &QueueFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<cases::Model>, u64), DbErr> {
    let handled = Condition::all().add(Column::HandlingUnit.eq(unit));
    let not_handled = Condition::any()
        .add(Column::HandlingUnit.is_null())
        .add(Column::HandlingUnit.ne(unit));
    let consulted = Condition::all()
        .add(Column::ConsultedUnit.eq(unit))
        .add(not_handled.clone());
    let waiting = Condition::all()
        .add(Column::ReceivingUnit.eq(unit))
        .add(Column::Status.is_in(["submitted", "supplement_at_counter"]))
        .add(not_handled)
        .add(
            Condition::any()
                .add(Column::ConsultedUnit.is_null())
                .add(Column::ConsultedUnit.ne(unit)),
        );
    let mut total = 0;
    let mut rows = Vec::new();
    for way in [handled, consulted, waiting] {
        let mut q = Entity::find()
            .filter(Column::ClosedAt.is_null())
            .filter(way);
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
        if let Some(p) = &f.procedure {
            q = q.filter(Column::ProcedureCode.eq(p.clone()));
        }
        if let Some(s) = &f.sla_state {
            q = q.filter(Column::SlaState.eq(s.clone()));
        }
        let n = sea_orm::PaginatorTrait::count(q.clone(), db).await?;
        total += n;
        if n == 0 {
            continue;
        }
        // The boolean keys sort false first: running clocks before paused ones, deadlines
        // before none. The same expressions as the index's, so that it gives the order.
        q = match f.sort {
            QueueSort::Urgency => q
                .order_by_asc(Expr::col(Column::PausedAt).is_not_null())
                .order_by_asc(Expr::col(Column::DueAt).is_null())
                .order_by_asc(Column::DueAt)
                .order_by_asc(Column::SubmittedAt),
            QueueSort::ReceivedAt => q
                .order_by_asc(Expr::col(Column::ReceivedAt).is_null())
                .order_by_asc(Column::ReceivedAt)
                .order_by_asc(Column::SubmittedAt),
        };
        rows.extend(
            q.order_by_asc(Column::Id)
                .limit(offset + limit)
                .all(db)
                .await?,
        );
    }
    match f.sort {
        QueueSort::Urgency => rows.sort_by(|a, b| {
            (
                a.paused_at.is_some(),
                a.due_at.is_none(),
                a.due_at,
                a.submitted_at,
                a.id,
            )
                .cmp(&(
                    b.paused_at.is_some(),
                    b.due_at.is_none(),
                    b.due_at,
                    b.submitted_at,
                    b.id,
                ))
        }),
        QueueSort::ReceivedAt => rows.sort_by(|a, b| {
            (a.received_at.is_none(), a.received_at, a.submitted_at, a.id).cmp(&(
                b.received_at.is_none(),
                b.received_at,
                b.submitted_at,
                b.id,
            ))
        }),
    }
    let page = rows
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok((page, total))
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

/// A dossier's code by its id (for reports that name it).
pub async fn code_of<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<String>, DbErr> {
    Ok(Entity::find_by_id(id).one(db).await?.map(|m| m.code))
}
