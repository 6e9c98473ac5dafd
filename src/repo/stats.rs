//! Aggregate queries for monitoring: each is one indexed pass over the open dossiers (or
//! over a period), grouped in the database; services add the working-time arithmetic.

use crate::domain::dossier::ON_TIME_MAX_SUPPLEMENTS;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, FromQueryResult, Statement, Value};

fn stmt(backend: DatabaseBackend, text: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, super::placeholders(backend, text), values)
}

#[derive(Debug, FromQueryResult)]
struct StatusSlaCount {
    status: String,
    sla_state: String,
    n: i64,
}

/// Open dossiers counted by status and SLA state.
pub async fn open_by_status_and_sla<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(String, String, i64)>, DbErr> {
    let rows = StatusSlaCount::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT status, sla_state, COUNT(*) AS n FROM cases WHERE closed_at IS NULL GROUP BY status, sla_state",
    ))
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.status, r.sla_state, r.n))
        .collect())
}

/// Which dossiers a statistic covers.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub province: Option<String>,
    /// The handling unit (or, before routing, the receiving unit).
    pub unit: Option<String>,
    pub procedure: Option<String>,
}

impl Filter {
    fn clause(&self, values: &mut Vec<Value>) -> String {
        self.clause_on("", "", values)
    }

    /// The filter's conditions with the province read from `province_table` and the rest
    /// from `cases_table` (each a `table.` prefix, or empty), for queries that join.
    fn clause_on(
        &self,
        province_table: &str,
        cases_table: &str,
        values: &mut Vec<Value>,
    ) -> String {
        let mut s = String::new();
        if let Some(p) = &self.province {
            s.push_str(&format!(" AND {province_table}province_code = ?"));
            values.push(p.clone().into());
        }
        if let Some(u) = &self.unit {
            s.push_str(&format!(
                " AND COALESCE({cases_table}handling_unit, {cases_table}receiving_unit) = ?"
            ));
            values.push(u.clone().into());
        }
        if let Some(p) = &self.procedure {
            s.push_str(&format!(" AND {cases_table}procedure_code = ?"));
            values.push(p.clone().into());
        }
        s
    }
}

/// How the backlog is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Province,
    Unit,
    Procedure,
    Step,
}

impl GroupBy {
    fn expr(self) -> &'static str {
        match self {
            GroupBy::Province => "province_code",
            // The unit that holds the dossier now: the agency consulted (liên thông) while
            // it has it, else the handling unit, else the receiving one.
            GroupBy::Unit => "COALESCE(consulted_unit, handling_unit, receiving_unit)",
            GroupBy::Procedure => "procedure_code",
            GroupBy::Step => "COALESCE(step_key, 'none')",
        }
    }
}

/// One group of the backlog, as counted by the database.
#[derive(Debug, Clone, FromQueryResult)]
pub struct BacklogRow {
    pub grp: String,
    pub open: i64,
    pub received_today: i64,
    pub on_track: i64,
    pub at_risk: i64,
    pub overdue: i64,
    pub not_started: i64,
    pub awaiting_supplement: i64,
    pub oldest: Option<DateTime<Utc>>,
    pub age_0_1: i64,
    pub age_1_3: i64,
    pub age_3_5: i64,
    pub age_5_10: i64,
    pub age_over_10: i64,
}

/// Instants that bound the ageing buckets, each the first instant of a day in Vietnam:
/// today, and the working days 1, 3, 5 and 10 working days before today. A dossier's age is
/// in whole working days from the day it was received (or submitted, before receipt).
#[derive(Debug, Clone, Copy)]
pub struct AgeBounds {
    pub today: DateTime<Utc>,
    pub d1: DateTime<Utc>,
    pub d3: DateTime<Utc>,
    pub d5: DateTime<Utc>,
    pub d10: DateTime<Utc>,
}

/// Open dossiers grouped; the age counts from receipt (or submission before it).
pub async fn backlog<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    group: GroupBy,
    b: AgeBounds,
) -> Result<Vec<BacklogRow>, DbErr> {
    let backend = db.get_database_backend();
    let age = "COALESCE(received_at, submitted_at)";
    let mut values: Vec<Value> = vec![
        b.today.into(),
        b.d1.into(),
        b.d1.into(),
        b.d3.into(),
        b.d3.into(),
        b.d5.into(),
        b.d5.into(),
        b.d10.into(),
        b.d10.into(),
    ];
    let filter = f.clause(&mut values);
    let g = group.expr();
    let text = format!(
        "SELECT {g} AS grp, COUNT(*) AS open, \
         SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS received_today, \
         SUM(CASE WHEN sla_state = 'on_track' THEN 1 ELSE 0 END) AS on_track, \
         SUM(CASE WHEN sla_state = 'at_risk' THEN 1 ELSE 0 END) AS at_risk, \
         SUM(CASE WHEN sla_state = 'overdue' THEN 1 ELSE 0 END) AS overdue, \
         SUM(CASE WHEN sla_state = 'not_started' THEN 1 ELSE 0 END) AS not_started, \
         SUM(CASE WHEN status = 'supplement_requested' THEN 1 ELSE 0 END) AS awaiting_supplement, \
         MIN({age}) AS oldest, \
         SUM(CASE WHEN {age} >= ? THEN 1 ELSE 0 END) AS age_0_1, \
         SUM(CASE WHEN {age} < ? AND {age} >= ? THEN 1 ELSE 0 END) AS age_1_3, \
         SUM(CASE WHEN {age} < ? AND {age} >= ? THEN 1 ELSE 0 END) AS age_3_5, \
         SUM(CASE WHEN {age} < ? AND {age} >= ? THEN 1 ELSE 0 END) AS age_5_10, \
         SUM(CASE WHEN {age} < ? THEN 1 ELSE 0 END) AS age_over_10 \
         FROM cases WHERE closed_at IS NULL{filter} GROUP BY {g} ORDER BY {g}"
    );
    BacklogRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// The key of a `backlog_counts` row computed from a `cases` row, as the triggers of
/// migration 20 compute it (compared with the counts by [`rollup_differences`]).
fn rollup_key(backend: DatabaseBackend) -> String {
    let day = match backend {
        DatabaseBackend::Postgres => "to_char(COALESCE(received_at, submitted_at) AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')",
        _ => "date(COALESCE(received_at, submitted_at), '+7 hours')",
    };
    format!(
        "province_code, COALESCE(consulted_unit, handling_unit, receiving_unit) AS unit, status, sla_state, \
         {day} AS age_day, (received_at IS NOT NULL) AS received"
    )
}

const ROLLUP_KEY: &str = "province_code, unit, status, sla_state, age_day, received";

/// The open dossiers' counts, from `backlog_counts` plus the deltas not yet folded in.
/// A group's count fits an `INTEGER`, whose sum PostgreSQL adds as a `BIGINT`; the sum of
/// the column's own `BIGINT` would be a `NUMERIC`, a tenth or so slower over the country's
/// groups.
fn rollup_source(province: Option<&str>, values: &mut Vec<Value>) -> String {
    let mut part = |table: &str| match province {
        Some(p) => {
            values.push(p.to_string().into());
            format!(
                "SELECT {ROLLUP_KEY}, CAST(n AS INTEGER) AS n FROM {table} WHERE province_code = ?"
            )
        }
        None => format!("SELECT {ROLLUP_KEY}, CAST(n AS INTEGER) AS n FROM {table}"),
    };
    let counts = part("backlog_counts");
    let deltas = part("backlog_deltas");
    format!("({counts} UNION ALL {deltas})")
}

/// The backlog by province or holding unit from the rollup: the cost follows the number
/// of (unit, status, SLA state, day) groups, not of open dossiers. The oldest open dossier
/// of each unit is one descent of `idx_cases_holder_age`. The bounds are the first instants
/// of Vietnam days (the buckets are whole working days).
pub async fn backlog_from_rollup<C: ConnectionTrait>(
    db: &C,
    province: Option<&str>,
    group: GroupBy,
    b: AgeBounds,
) -> Result<Vec<BacklogRow>, DbErr> {
    let grp = match group {
        GroupBy::Province => "province_code",
        GroupBy::Unit => "unit",
        _ => return Err(DbErr::Custom(format!("the rollup has no {group:?}"))),
    };
    let backend = db.get_database_backend();
    let day = |t: DateTime<Utc>| {
        t.with_timezone(&crate::domain::calendar::vn_offset())
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut values: Vec<Value> = vec![
        day(b.today).into(),
        day(b.d1).into(),
        day(b.d1).into(),
        day(b.d3).into(),
        day(b.d3).into(),
        day(b.d5).into(),
        day(b.d5).into(),
        day(b.d10).into(),
        day(b.d10).into(),
    ];
    let source = rollup_source(province, &mut values);
    let sum = |cond: &str| format!("CAST(SUM(CASE WHEN {cond} THEN n ELSE 0 END) AS BIGINT)");
    let total = |c: &str| format!("CAST(SUM({c}) AS BIGINT) AS {c}");
    let totals = [
        "open",
        "received_today",
        "on_track",
        "at_risk",
        "overdue",
        "not_started",
        "awaiting_supplement",
        "age_0_1",
        "age_1_3",
        "age_3_5",
        "age_5_10",
        "age_over_10",
    ]
    .map(total)
    .join(", ");
    // Inside: per (province, unit), with the unit's oldest open dossier; outside: per group.
    let text = format!(
        "SELECT {grp} AS grp, {totals}, MIN(oldest) AS oldest FROM (\
         SELECT c.*, (SELECT MIN(COALESCE(x.received_at, x.submitted_at)) FROM cases x \
           WHERE x.closed_at IS NULL AND COALESCE(x.consulted_unit, x.handling_unit, x.receiving_unit) = c.unit \
           AND x.province_code = c.province_code) AS oldest \
         FROM (SELECT province_code, unit, CAST(SUM(n) AS BIGINT) AS open, \
           {received_today} AS received_today, \
           {on_track} AS on_track, {at_risk} AS at_risk, {overdue} AS overdue, {not_started} AS not_started, \
           {awaiting} AS awaiting_supplement, \
           {a01} AS age_0_1, {a13} AS age_1_3, {a35} AS age_3_5, {a510} AS age_5_10, {a10} AS age_over_10 \
           FROM {source} AS r GROUP BY province_code, unit HAVING SUM(n) > 0) AS c\
         ) AS u GROUP BY {grp} ORDER BY {grp}",
        received_today = sum("received AND age_day >= ?"),
        on_track = sum("sla_state = 'on_track'"),
        at_risk = sum("sla_state = 'at_risk'"),
        overdue = sum("sla_state = 'overdue'"),
        not_started = sum("sla_state = 'not_started'"),
        awaiting = sum("status = 'supplement_requested'"),
        a01 = sum("age_day >= ?"),
        a13 = sum("age_day < ? AND age_day >= ?"),
        a35 = sum("age_day < ? AND age_day >= ?"),
        a510 = sum("age_day < ? AND age_day >= ?"),
        a10 = sum("age_day < ?"),
    );
    BacklogRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// Fold the deltas appended since the last run into the counts (PostgreSQL; SQLite's
/// triggers update the counts directly). One instance at a time does it, under a
/// transaction-scoped advisory lock; the deltas it moves are deleted in the same statement,
/// so a reader sees each change once, in the deltas or in the counts. Returns the groups
/// folded, or `None` when another instance holds the lock.
pub async fn fold_rollup<C: ConnectionTrait>(db: &C) -> Result<Option<u64>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Some(0));
    }
    // A constant of this job's own (b"backlog" as an integer), beside the other leases.
    let locked = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock(2017374339916135) AS locked",
        ))
        .await?
        .map(|r| r.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false);
    if !locked {
        return Ok(None);
    }
    // The groups folded come back with their new count; those that reached zero (every
    // dossier of that day and state has moved on) are deleted by key, so the table keeps
    // only live groups without a scan of it.
    #[derive(FromQueryResult)]
    struct Folded {
        province_code: String,
        unit: String,
        status: String,
        sla_state: String,
        age_day: String,
        received: bool,
        n: i64,
    }
    let folded = Folded::find_by_statement(Statement::from_string(
        DatabaseBackend::Postgres,
        format!(
            "WITH moved AS (DELETE FROM backlog_deltas RETURNING {ROLLUP_KEY}, n) \
             INSERT INTO backlog_counts ({ROLLUP_KEY}, n) \
             SELECT {ROLLUP_KEY}, SUM(n) FROM moved GROUP BY {ROLLUP_KEY} ORDER BY {ROLLUP_KEY} \
             ON CONFLICT ({ROLLUP_KEY}) DO UPDATE SET n = backlog_counts.n + EXCLUDED.n \
             RETURNING {ROLLUP_KEY}, n"
        ),
    ))
    .all(db)
    .await?;
    let moved = folded.len() as u64;
    for z in folded.into_iter().filter(|f| f.n == 0) {
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "DELETE FROM backlog_counts WHERE province_code = $1 AND unit = $2 AND status = $3 \
             AND sla_state = $4 AND age_day = $5 AND received = $6 AND n = 0",
            [
                z.province_code.into(),
                z.unit.into(),
                z.status.into(),
                z.sla_state.into(),
                z.age_day.into(),
                z.received.into(),
            ],
        ))
        .await?;
    }
    Ok(Some(moved))
}

/// Recount the rollup from the dossiers. The caller holds the writers off (a write
/// transaction on SQLite; on PostgreSQL a `SHARE` lock on `cases`, taken here), so no change
/// lands between the deletion and the recount. Returns the groups written.
pub async fn rebuild_rollup<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        db.execute_raw(Statement::from_string(
            backend,
            "LOCK TABLE cases IN SHARE MODE",
        ))
        .await?;
    }
    for sql in ["DELETE FROM backlog_deltas", "DELETE FROM backlog_counts"] {
        db.execute_raw(Statement::from_string(backend, sql)).await?;
    }
    let key = rollup_key(backend);
    let res = db
        .execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO backlog_counts ({ROLLUP_KEY}, n) \
                 SELECT {ROLLUP_KEY}, COUNT(*) FROM (SELECT {key} FROM cases WHERE closed_at IS NULL) AS r \
                 GROUP BY {ROLLUP_KEY}"
            ),
        ))
        .await?;
    Ok(res.rows_affected())
}

/// One group where the rollup and a recount of the dossiers disagree.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct RollupDifference {
    pub province_code: String,
    pub unit: String,
    pub status: String,
    pub sla_state: String,
    pub age_day: String,
    pub rollup: i64,
    pub recount: i64,
}

/// The groups where the rollup (counts plus deltas) differs from a recount of the open
/// dossiers: none when the triggers kept it right.
pub async fn rollup_differences<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<RollupDifference>, DbErr> {
    let backend = db.get_database_backend();
    let key = rollup_key(backend);
    let mut values = Vec::new();
    let source = rollup_source(None, &mut values);
    let text = format!(
        "SELECT province_code, unit, status, sla_state, age_day, \
         CAST(SUM(rollup) AS BIGINT) AS rollup, CAST(SUM(recount) AS BIGINT) AS recount FROM (\
           SELECT {ROLLUP_KEY}, n AS rollup, 0 AS recount FROM {source} AS a \
           UNION ALL \
           SELECT {ROLLUP_KEY}, 0 AS rollup, 1 AS recount FROM (SELECT {key} FROM cases WHERE closed_at IS NULL) AS b\
         ) AS both_sides GROUP BY {ROLLUP_KEY} HAVING SUM(rollup) <> SUM(recount) \
         ORDER BY province_code, unit, status, sla_state, age_day"
    );
    RollupDifference::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// The counts behind the Decision 766 indicators for a period.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct IndicatorRow {
    pub received: i64,
    pub received_online: i64,
    pub received_online_electronic_result: i64,
    pub finished: i64,
    pub finished_on_time: i64,
    pub finished_late: i64,
    pub open_on_time: i64,
    pub open_late: i64,
    pub many_supplements: i64,
    pub apologized_late: i64,
    pub processing_secs_sum: Option<i64>,
    pub processing_count: i64,
    /// Finished on time a day or more before the deadline ("trước hạn").
    pub finished_early: i64,
}

/// Indicator counts: dossiers received before `to` and not decided before `from` (so
/// received or processed in the period), judged at `end` = min(to, now). Dossiers stopped
/// or withdrawn without a decision are neither finished nor open, but count as received.
pub async fn indicators<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<IndicatorRow, DbErr> {
    let backend = db.get_database_backend();
    // Finished = decided within the period. Open = not decided by the end of the period and
    // not stopped or withdrawn before it.
    let finished = "(decided_at IS NOT NULL AND decided_at >= ? AND decided_at < ?)";
    let open = "((decided_at IS NULL OR decided_at >= ?) AND NOT (closed_at IS NOT NULL AND closed_at < ? AND decided_at IS NULL))";
    // A dossier whose clock stopped (supplement, payment) before its deadline is not late: its
    // deadline moves on by the paused time when the clock resumes (Decree 118/2025/NĐ-CP:
    // the time waiting for the applicant is not counted).
    let paused_in_time = "(paused_at IS NOT NULL AND paused_at < due_at)";
    // A day or more ahead of the deadline. SQLite keeps instants as text in UTC: its first
    // 19 characters are the date and time julianday reads.
    let early = match backend {
        DatabaseBackend::Postgres => "due_at - decided_at >= INTERVAL '1 day'",
        _ => "julianday(substr(due_at, 1, 19)) - julianday(substr(decided_at, 1, 19)) >= 1.0",
    };
    let text = format!(
        "SELECT \
         COALESCE(SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END), 0) AS received, \
         COALESCE(SUM(CASE WHEN received_at >= ? AND channel = 'online' THEN 1 ELSE 0 END), 0) AS received_online, \
         COALESCE(SUM(CASE WHEN received_at >= ? AND channel = 'online' AND result_delivery = 'electronic' THEN 1 ELSE 0 END), 0) AS received_online_electronic_result, \
         COALESCE(SUM(CASE WHEN {finished} THEN 1 ELSE 0 END), 0) AS finished, \
         COALESCE(SUM(CASE WHEN {finished} AND decided_at <= due_at AND supplement_count <= {max_supplements} THEN 1 ELSE 0 END), 0) AS finished_on_time, \
         COALESCE(SUM(CASE WHEN {finished} AND NOT (decided_at <= due_at AND supplement_count <= {max_supplements}) THEN 1 ELSE 0 END), 0) AS finished_late, \
         COALESCE(SUM(CASE WHEN {open} AND (due_at > ? OR {paused_in_time}) AND supplement_count <= {max_supplements} THEN 1 ELSE 0 END), 0) AS open_on_time, \
         COALESCE(SUM(CASE WHEN {open} AND NOT ((due_at > ? OR {paused_in_time}) AND supplement_count <= {max_supplements}) THEN 1 ELSE 0 END), 0) AS open_late, \
         COALESCE(SUM(CASE WHEN supplement_count > {max_supplements} THEN 1 ELSE 0 END), 0) AS many_supplements, \
         COALESCE(SUM(CASE WHEN appointment_at > due_at AND ((decided_at IS NOT NULL AND decided_at > due_at) OR (decided_at IS NULL AND due_at <= ?)) THEN 1 ELSE 0 END), 0) AS apologized_late, \
         CAST(COALESCE(SUM(CASE WHEN {finished} THEN processing_working_secs ELSE 0 END), 0) AS BIGINT) AS processing_secs_sum, \
         COALESCE(SUM(CASE WHEN {finished} AND processing_working_secs IS NOT NULL THEN 1 ELSE 0 END), 0) AS processing_count, \
         COALESCE(SUM(CASE WHEN {finished} AND decided_at <= due_at AND supplement_count <= {max_supplements} AND {early} THEN 1 ELSE 0 END), 0) AS finished_early \
         FROM cases WHERE received_at IS NOT NULL AND received_at < ? \
         AND (decided_at IS NULL OR decided_at >= ?){filter}",
        filter = "{filter}",
        paused_in_time = paused_in_time,
        early = early,
        // Decision 766's on-time rule (`domain::dossier::on_time`), in SQL.
        max_supplements = ON_TIME_MAX_SUPPLEMENTS
    );
    let mut values: Vec<Value> = vec![
        from.into(), // received
        from.into(), // received_online
        from.into(), // received_online_electronic_result
        from.into(),
        to.into(), // finished
        from.into(),
        to.into(), // finished_on_time
        from.into(),
        to.into(), // finished_late
        end.into(),
        end.into(),
        end.into(), // open_on_time
        end.into(),
        end.into(),
        end.into(), // open_late
        end.into(), // apologized_late
        from.into(),
        to.into(), // processing_secs_sum
        from.into(),
        to.into(), // processing_count
        from.into(),
        to.into(),   // finished_early
        to.into(),   // received before the end of the period
        from.into(), // not decided before it
    ];
    let filter = f.clause(&mut values);
    let text = text.replace("{filter}", &filter);
    Ok(
        IndicatorRow::find_by_statement(stmt(backend, &text, values))
            .one(db)
            .await?
            .unwrap_or_default(),
    )
}

/// Applicants' ratings given in a period, per unit rated (the unit that handled the dossier).
#[derive(Debug, Clone, FromQueryResult)]
pub struct SatisfactionRow {
    pub unit: String,
    pub ratings: i64,
    pub rating_sum: i64,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
}

pub async fn satisfaction<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SatisfactionRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    // The filter names the dossiers' columns: applied to them, not to the ratings.
    let filter = f.clause(&mut values);
    let text = format!(
        "SELECT unit, COUNT(*) AS ratings, CAST(SUM(rating) AS BIGINT) AS rating_sum, \
         CAST(SUM(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) AS BIGINT) AS satisfied \
         FROM case_feedback WHERE created_at >= ? AND created_at < ? \
         AND case_id IN (SELECT id FROM cases WHERE 1 = 1{filter}) \
         GROUP BY unit ORDER BY unit"
    );
    SatisfactionRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// Average processing time per procedure for dossiers decided in a period.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ProcedureTimeRow {
    pub procedure_code: String,
    pub finished: i64,
    pub secs_sum: Option<i64>,
}

pub async fn processing_by_procedure<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ProcedureTimeRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    let filter = f.clause(&mut values);
    let text = format!(
        "SELECT procedure_code, COUNT(*) AS finished, CAST(SUM(processing_working_secs) AS BIGINT) AS secs_sum \
         FROM cases WHERE decided_at >= ? AND decided_at < ? AND processing_working_secs IS NOT NULL{filter} \
         GROUP BY procedure_code ORDER BY procedure_code"
    );
    ProcedureTimeRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// Flow of a unit over a window: dossiers received and decided.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FlowRow {
    pub unit: String,
    pub inflow: i64,
    pub throughput: i64,
}

/// Each side is a range of an index (`idx_cases_flow_received`, `idx_cases_flow_decided`;
/// for one province `idx_cases_received_at`, `idx_cases_flow_decided_province`), so the
/// cost follows the window, not the history.
pub async fn flow<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    since: DateTime<Utc>,
) -> Result<Vec<FlowRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![since.into()];
    let received_filter = f.clause(&mut values);
    values.push(since.into());
    let decided_filter = f.clause(&mut values);
    let text = format!(
        "SELECT unit, CAST(SUM(inflow) AS BIGINT) AS inflow, CAST(SUM(throughput) AS BIGINT) AS throughput FROM (\
         SELECT handling_unit AS unit, 1 AS inflow, 0 AS throughput FROM cases \
         WHERE received_at >= ? AND handling_unit IS NOT NULL{received_filter} \
         UNION ALL \
         SELECT handling_unit AS unit, 0 AS inflow, 1 AS throughput FROM cases \
         WHERE decided_at >= ? AND handling_unit IS NOT NULL{decided_filter}\
         ) AS flow GROUP BY unit"
    );
    FlowRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// Open, undecided dossiers with a running deadline, held by a unit (the rows of
/// `idx_cases_open_deadlines`).
const OPEN_WITH_DEADLINE: &str = "closed_at IS NULL AND decided_at IS NULL AND due_at IS NOT NULL \
     AND handling_unit IS NOT NULL AND paused_at IS NULL";

/// An open, undecided dossier with a running deadline, for queue projections.
#[derive(Debug, Clone, FromQueryResult)]
pub struct OpenRow {
    pub unit: String,
    pub procedure_code: String,
    pub status: String,
    pub due_at: DateTime<Utc>,
    pub sla_state: String,
    pub step_key: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub step_due_at: Option<DateTime<Utc>>,
    pub assigned: bool,
}

/// Open, undecided dossiers with a deadline and the unit holding them (the agency consulted
/// while it has one), in no order: on PostgreSQL one pass over `idx_cases_open_deadlines`
/// (sorting two million rows in the database took longer than reading them).
pub async fn open_with_deadlines<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
) -> Result<Vec<OpenRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let filter = f.clause(&mut values);
    let text = format!(
        "SELECT COALESCE(consulted_unit, handling_unit) AS unit, procedure_code, status, due_at, sla_state, step_key, step_started_at, step_due_at, \
         (assigned_to IS NOT NULL) AS assigned \
         FROM cases WHERE {OPEN_WITH_DEADLINE}{filter}"
    );
    OpenRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// What the bottleneck report reads of an open dossier: [`OpenRow`] without what only the
/// rebalancing needs (fewer columns decoded per row: at the country's two million open
/// dossiers the decoding is most of the report).
#[derive(Debug, Clone, FromQueryResult)]
pub struct PressureRow {
    pub unit: String,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
    pub step_key: Option<String>,
    pub step_started_at: Option<DateTime<Utc>>,
    pub step_due_at: Option<DateTime<Utc>>,
}

/// The dossiers of [`open_with_deadlines`], as the bottleneck report reads them.
pub async fn open_pressure<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
) -> Result<Vec<PressureRow>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = Vec::new();
    let filter = f.clause(&mut values);
    let text = format!(
        "SELECT COALESCE(consulted_unit, handling_unit) AS unit, due_at, (sla_state = 'overdue') AS overdue, \
         step_key, step_started_at, step_due_at \
         FROM cases WHERE {OPEN_WITH_DEADLINE}{filter}"
    );
    PressureRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct DayFlowRow {
    /// The day in Vietnam (`YYYY-MM-DD`).
    pub day: String,
    pub received: i64,
    pub decided: i64,
}

/// Dossiers received and decided each day (in Vietnam's time) since `since`; days with
/// neither are absent. Each side is a range of the same indexes as [`flow`].
pub async fn daily_flow<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    since: DateTime<Utc>,
) -> Result<Vec<DayFlowRow>, DbErr> {
    let backend = db.get_database_backend();
    let day = |col: &str| match backend {
        DatabaseBackend::Postgres => {
            format!("to_char({col} AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')")
        }
        _ => format!("date({col}, '+7 hours')"),
    };
    let mut values: Vec<Value> = vec![since.into()];
    let received_filter = f.clause(&mut values);
    values.push(since.into());
    let decided_filter = f.clause(&mut values);
    let text = format!(
        "SELECT day, CAST(SUM(received) AS BIGINT) AS received, CAST(SUM(decided) AS BIGINT) AS decided FROM (\
         SELECT {} AS day, 1 AS received, 0 AS decided FROM cases WHERE received_at >= ?{received_filter} \
         UNION ALL \
         SELECT {} AS day, 0 AS received, 1 AS decided FROM cases WHERE decided_at >= ?{decided_filter}\
         ) AS flow GROUP BY day ORDER BY day",
        day("received_at"),
        day("decided_at"),
    );
    DayFlowRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// The counts behind Decision 766's digitisation indicators for a period.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct DigitisationRow {
    /// Dossiers received in the period.
    pub received: i64,
    /// Of those, with their components held as files (uploaded, scanned or reused).
    pub received_with_files: i64,
    /// Dossiers decided in the period.
    pub decided: i64,
    /// Of those, with the handling unit's result as a file.
    pub decided_with_result_file: i64,
    /// Digitised components first stored in the period (scans, not reuses).
    pub digitised_documents: i64,
    /// Of those, reused by a later dossier (up to now).
    pub digitised_reused: i64,
}

/// Digitisation counts of dossiers received (or decided, or documents stored) in
/// [`from`, `to`).
pub async fn digitisation<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<DigitisationRow, DbErr> {
    let backend = db.get_database_backend();
    // Kept by a trigger on `case_documents` (migration 21): asking the documents once per
    // dossier of the period was most of a province-year's scorecard.
    let component = "has_component_files";
    let result = "has_result_file";
    // Two index ranges added up (received in the period; decided in it), not one OR: see
    // `usage_by_procedure`.
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    let received_filter = f.clause(&mut values);
    values.push(from.into());
    values.push(to.into());
    let decided_filter = f.clause(&mut values);
    let text = format!(
        "SELECT CAST(COALESCE(SUM(received), 0) AS BIGINT) AS received, \
         CAST(COALESCE(SUM(received_with_files), 0) AS BIGINT) AS received_with_files, \
         CAST(COALESCE(SUM(decided), 0) AS BIGINT) AS decided, \
         CAST(COALESCE(SUM(decided_with_result_file), 0) AS BIGINT) AS decided_with_result_file, \
         CAST(0 AS BIGINT) AS digitised_documents, CAST(0 AS BIGINT) AS digitised_reused FROM (\
         SELECT 1 AS received, CASE WHEN {component} THEN 1 ELSE 0 END AS received_with_files, \
         0 AS decided, 0 AS decided_with_result_file FROM cases \
         WHERE received_at >= ? AND received_at < ?{received_filter} \
         UNION ALL \
         SELECT 0, 0, 1, CASE WHEN {result} THEN 1 ELSE 0 END FROM cases \
         WHERE decided_at >= ? AND decided_at < ?{decided_filter}\
         ) AS digitisation"
    );
    let counted = DigitisationRow::find_by_statement(stmt(backend, &text, values)).one(db);

    #[derive(FromQueryResult)]
    struct Reuse {
        digitised_documents: i64,
        digitised_reused: i64,
    }
    // The document row carries its dossier's province (migration 26), so a province's scans
    // are one range of `idx_case_documents_province_digitised`; the dossier is joined only
    // when the filter names a unit or a procedure.
    let mut values: Vec<Value> = vec![true.into(), from.into(), to.into()];
    let filter = f.clause_on("d.", "cases.", &mut values);
    let join = if f.unit.is_some() || f.procedure.is_some() {
        " JOIN cases ON cases.id = d.case_id"
    } else {
        ""
    };
    let text = format!(
        "SELECT COUNT(*) AS digitised_documents, \
         COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM case_documents r WHERE r.reused_from = d.id) THEN 1 ELSE 0 END), 0) AS digitised_reused \
         FROM case_documents d{join} \
         WHERE d.digitised = ? AND d.reused_from IS NULL AND d.kind <> 'result' \
         AND d.uploaded_at >= ? AND d.uploaded_at < ?{filter}"
    );
    // Both at once, on two connections.
    let (row, reuse) = tokio::try_join!(
        counted,
        Reuse::find_by_statement(stmt(backend, &text, values)).one(db)
    )?;
    let mut row = row.unwrap_or_default();
    if let Some(r) = reuse {
        row.digitised_documents = r.digitised_documents;
        row.digitised_reused = r.digitised_reused;
    }
    Ok(row)
}

/// What Decision 766's online-service indicators count, per procedure: dossiers filed online
/// and received in a period, and dossiers paid in it (through the online gateway or not).
#[derive(Debug, Clone, FromQueryResult)]
pub struct ProcedureUsageRow {
    pub procedure_code: String,
    pub received: i64,
    pub received_online: i64,
    pub paid: i64,
    pub paid_online: i64,
}

pub async fn usage_by_procedure<C: ConnectionTrait>(
    db: &C,
    f: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ProcedureUsageRow>, DbErr> {
    let backend = db.get_database_backend();
    // Two index ranges (received in the period; paid in it) added up, rather than one scan
    // with an OR: with an OR the database visits every dossier of the province in the
    // table, scattered over its pages (a second a year at national scale).
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    let received_filter = f.clause(&mut values);
    values.push(from.into());
    values.push(to.into());
    let paid_filter = f.clause(&mut values);
    let text = format!(
        "SELECT procedure_code, CAST(SUM(received) AS BIGINT) AS received, \
         CAST(SUM(received_online) AS BIGINT) AS received_online, CAST(SUM(paid) AS BIGINT) AS paid, \
         CAST(SUM(paid_online) AS BIGINT) AS paid_online FROM (\
         SELECT procedure_code, 1 AS received, CASE WHEN channel = 'online' THEN 1 ELSE 0 END AS received_online, \
         0 AS paid, 0 AS paid_online FROM cases WHERE received_at >= ? AND received_at < ?{received_filter} \
         UNION ALL \
         SELECT procedure_code, 0, 0, 1, CASE WHEN paid_online THEN 1 ELSE 0 END FROM cases \
         WHERE paid_at >= ? AND paid_at < ?{paid_filter}\
         ) AS usage GROUP BY procedure_code ORDER BY procedure_code"
    );
    ProcedureUsageRow::find_by_statement(stmt(backend, &text, values))
        .all(db)
        .await
}

/// Online dossiers waiting to be received, per receiving centre of a province.
#[derive(Debug, Clone, FromQueryResult)]
pub struct WaitingRow {
    pub unit: String,
    pub waiting: i64,
    pub oldest: DateTime<Utc>,
}

pub async fn awaiting_reception<C: ConnectionTrait>(
    db: &C,
    province: &str,
) -> Result<Vec<WaitingRow>, DbErr> {
    let backend = db.get_database_backend();
    let text = "SELECT receiving_unit AS unit, COUNT(*) AS waiting, MIN(submitted_at) AS oldest \
         FROM cases WHERE status = 'submitted' AND closed_at IS NULL AND province_code = ? \
         GROUP BY receiving_unit ORDER BY receiving_unit";
    WaitingRow::find_by_statement(stmt(backend, text, vec![province.into()]))
        .all(db)
        .await
}

/// Dossiers received in a period (Decision 766 counts the share of the dossiers received)
/// and how many of them the national portal holds up to their last public step
/// (`national_sync`), or failed to take. Read from the covering index in (province,
/// received) order: by filing instant it visited the province's dossiers all over the table
/// (0.9 s a province-year at national scale).
#[derive(Debug, Clone, Default, FromQueryResult)]
pub struct NationalSyncCounts {
    pub dossiers: i64,
    pub synced: i64,
    pub failing: i64,
}

pub async fn national_sync_counts<C: ConnectionTrait>(
    db: &C,
    filter: &Filter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<NationalSyncCounts, DbErr> {
    let mut values: Vec<Value> = vec![from.into(), to.into()];
    let clause = filter.clause(&mut values);
    let sql = format!(
        "SELECT COUNT(*) AS dossiers, \
           COALESCE(SUM(CASE WHEN s.synced_seq > 0 AND s.synced_seq >= s.pending_seq THEN 1 ELSE 0 END), 0) AS synced, \
           COALESCE(SUM(CASE WHEN s.last_error IS NOT NULL THEN 1 ELSE 0 END), 0) AS failing \
         FROM (SELECT id FROM cases WHERE received_at >= ? AND received_at < ?{clause}) c \
         LEFT JOIN national_sync s ON s.case_id = c.id"
    );
    Ok(
        NationalSyncCounts::find_by_statement(stmt(db.get_database_backend(), &sql, values))
            .one(db)
            .await?
            .unwrap_or_default(),
    )
}
