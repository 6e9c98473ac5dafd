//! National scale (issue 23 §3): the open dossiers counted in advance for the supervisors'
//! backlog; a unit's queue in urgency order without sorting all its open dossiers; and, on
//! PostgreSQL, a province's period statistics (the scorecard) read from indexes alone.
//!
//! A province's dossiers are scattered over the whole table (every province files every
//! day), so a province-year read through the table visits nearly every page of it: at
//! 7,000,000 dossiers each such query read 2 GB and took a second. The covering indexes
//! below hold, in (province, instant) order, the columns those queries read, so each is one
//! range of one index. SQLite has no `INCLUDE` and does not serve a country.
//!
//! Counting two million open dossiers by unit on every request takes seconds; the counts
//! change only when a dossier does. `backlog_counts` holds, per province, holding unit (the
//! agency consulted while it has the dossier, else the handling unit, else the receiving
//! one), status, SLA state, day of receipt (Vietnam's date of `received_at`, or of
//! `submitted_at` before receipt) and whether it was received, how many open dossiers are
//! there. The age buckets of the backlog are whole working days, so a day is fine enough.
//!
//! Triggers on `cases` keep the counts in the same transaction as the change, whichever code
//! path writes the row (intake, an action, the sweeper, synthetic seeding, a bulk load):
//! - On PostgreSQL the triggers are per statement (a batch of intakes is one insert of its
//!   groups) and append signed deltas to `backlog_deltas` instead of updating the counts: two
//!   transactions changing dossiers of one unit would otherwise wait for each other's commit
//!   on the same count row, and could deadlock when they touch two rows in opposite orders.
//!   `jobs::rollup` folds the deltas into the counts every few seconds; readers add both.
//! - SQLite has one writer at a time: its row triggers update the counts directly.
//!
//! `motcua stats rebuild` recounts everything; the tests compare the counts with a recount.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns of a count's key, in the order of the primary key.
const KEY: &str = "province_code, unit, status, sla_state, age_day, received";

fn key_of(row: &str, backend: DatabaseBackend) -> String {
    let day = match backend {
        DatabaseBackend::Postgres => format!(
            "to_char(COALESCE({row}.received_at, {row}.submitted_at) AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')"
        ),
        _ => format!("date(COALESCE({row}.received_at, {row}.submitted_at), '+7 hours')"),
    };
    format!(
        "{row}.province_code, COALESCE({row}.consulted_unit, {row}.handling_unit, {row}.receiving_unit), \
         {row}.status, {row}.sla_state, {day}, ({row}.received_at IS NOT NULL)"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let backend = m.get_database_backend();
        let key_cols =
            "province_code VARCHAR NOT NULL, unit VARCHAR NOT NULL, status VARCHAR NOT NULL, \
             sla_state VARCHAR NOT NULL, age_day VARCHAR NOT NULL, received BOOLEAN NOT NULL";
        conn.execute_unprepared(&format!(
            "CREATE TABLE backlog_counts ({key_cols}, n BIGINT NOT NULL, PRIMARY KEY ({KEY}))"
        ))
        .await?;
        let id = match backend {
            DatabaseBackend::Postgres => "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            _ => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        conn.execute_unprepared(&format!(
            "CREATE TABLE backlog_deltas ({id}, {key_cols}, n BIGINT NOT NULL)"
        ))
        .await?;
        // The oldest open dossier of a holding unit: one descent of this index per unit.
        conn.execute_unprepared(
            "CREATE INDEX idx_cases_holder_age ON cases \
             (COALESCE(consulted_unit, handling_unit, receiving_unit), COALESCE(received_at, submitted_at)) \
             WHERE closed_at IS NULL",
        )
        .await?;
        // A unit's queue in urgency order (`repo::cases::queue`): its first page is the
        // first entries of this index, however many dossiers the unit has open.
        conn.execute_unprepared(
            "CREATE INDEX idx_cases_handling_urgency ON cases \
             (handling_unit, (paused_at IS NOT NULL), (due_at IS NULL), due_at, submitted_at, id) \
             WHERE closed_at IS NULL",
        )
        .await?;

        if backend == DatabaseBackend::Postgres {
            for sql in [
                // Received in a period: the indicators, usage, digitisation.
                "CREATE INDEX idx_cases_province_received_cover ON cases (province_code, received_at) \
                 INCLUDE (decided_at, closed_at, due_at, paused_at, appointment_at, supplement_count, \
                 processing_working_secs, channel, result_delivery, procedure_code, paid_at, paid_online, \
                 handling_unit, receiving_unit, id) WHERE received_at IS NOT NULL",
                // Decided in a period: processing times, digitisation, the flow.
                "CREATE INDEX idx_cases_province_decided_cover ON cases (province_code, decided_at) \
                 INCLUDE (procedure_code, processing_working_secs, handling_unit, receiving_unit, id) \
                 WHERE decided_at IS NOT NULL",
                // The open dossiers with a running deadline, for the bottleneck ranking
                // and rebalancing (`repo::stats::open_with_deadlines`): a country is one
                // pass over this index instead of two million scattered rows.
                "CREATE INDEX idx_cases_open_deadlines ON cases (province_code) \
                 INCLUDE (consulted_unit, handling_unit, procedure_code, status, due_at, sla_state, \
                 step_key, step_started_at, step_due_at, assigned_to) \
                 WHERE closed_at IS NULL AND decided_at IS NULL AND due_at IS NOT NULL \
                 AND handling_unit IS NOT NULL AND paused_at IS NULL",
                // Paid in a period: usage.
                "CREATE INDEX idx_cases_province_paid_cover ON cases (province_code, paid_at) \
                 INCLUDE (procedure_code, paid_online, handling_unit, receiving_unit) WHERE paid_at IS NOT NULL",
            ] {
                conn.execute_unprepared(sql).await?;
            }
        }

        for sql in [
            // The scans first stored in a period (digitisation indicators).
            "CREATE INDEX idx_case_documents_digitised ON case_documents (uploaded_at) \
             WHERE digitised AND reused_from IS NULL",
        ] {
            conn.execute_unprepared(sql).await?;
        }

        match backend {
            DatabaseBackend::Postgres => {
                let new = key_of("r", backend);
                // Each function appends the net change of one statement, grouped by key;
                // keys whose count did not change (most updates) append nothing.
                let body = |parts: &str| {
                    format!(
                        "BEGIN \
                         INSERT INTO backlog_deltas ({KEY}, n) \
                         SELECT {KEY}, SUM(n) FROM ({parts}) AS d (province_code, unit, status, sla_state, age_day, received, n) \
                         GROUP BY {KEY} HAVING SUM(n) <> 0 ORDER BY {KEY}; \
                         RETURN NULL; END"
                    )
                };
                let plus = format!("SELECT {new}, 1 FROM new_rows r WHERE r.closed_at IS NULL");
                let minus = format!("SELECT {new}, -1 FROM old_rows r WHERE r.closed_at IS NULL");
                for (name, parts) in [
                    ("backlog_on_insert", plus.clone()),
                    ("backlog_on_update", format!("{minus} UNION ALL {plus}")),
                    ("backlog_on_delete", minus.clone()),
                ] {
                    conn.execute_unprepared(&format!(
                        "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {} $$",
                        body(&parts)
                    ))
                    .await?;
                }
                for sql in [
                    "CREATE TRIGGER cases_backlog_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS new_rows \
                     FOR EACH STATEMENT EXECUTE FUNCTION backlog_on_insert()",
                    "CREATE TRIGGER cases_backlog_update AFTER UPDATE ON cases REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows \
                     FOR EACH STATEMENT EXECUTE FUNCTION backlog_on_update()",
                    "CREATE TRIGGER cases_backlog_delete AFTER DELETE ON cases REFERENCING OLD TABLE AS old_rows \
                     FOR EACH STATEMENT EXECUTE FUNCTION backlog_on_delete()",
                ] {
                    conn.execute_unprepared(sql).await?;
                }
            }
            _ => {
                let add = |row: &str, n: i32| {
                    format!(
                        "INSERT INTO backlog_counts ({KEY}, n) SELECT {}, {n} WHERE {row}.closed_at IS NULL \
                         ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n;",
                        key_of(row, backend)
                    )
                };
                let changed = format!(
                    "({}, OLD.closed_at IS NULL) IS NOT ({}, NEW.closed_at IS NULL)",
                    key_of("OLD", backend),
                    key_of("NEW", backend)
                );
                for sql in [
                    format!(
                        "CREATE TRIGGER cases_backlog_insert AFTER INSERT ON cases BEGIN {} END",
                        add("NEW", 1)
                    ),
                    format!(
                        "CREATE TRIGGER cases_backlog_update AFTER UPDATE ON cases WHEN {changed} BEGIN {} {} END",
                        add("OLD", -1),
                        add("NEW", 1)
                    ),
                    format!(
                        "CREATE TRIGGER cases_backlog_delete AFTER DELETE ON cases BEGIN {} END",
                        add("OLD", -1)
                    ),
                ] {
                    conn.execute_unprepared(&sql).await?;
                }
            }
        }
        // Dossiers open before this migration.
        conn.execute_unprepared(&format!(
            "INSERT INTO backlog_counts ({KEY}, n) SELECT {}, COUNT(*) FROM cases r WHERE r.closed_at IS NULL GROUP BY {}",
            key_of("r", backend),
            key_of("r", backend)
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let postgres = m.get_database_backend() == DatabaseBackend::Postgres;
        for t in ["insert", "update", "delete"] {
            let on = if postgres { " ON cases" } else { "" };
            conn.execute_unprepared(&format!("DROP TRIGGER IF EXISTS cases_backlog_{t}{on}"))
                .await?;
            if postgres {
                conn.execute_unprepared(&format!("DROP FUNCTION IF EXISTS backlog_on_{t}()"))
                    .await?;
            }
        }
        for sql in [
            "DROP INDEX IF EXISTS idx_cases_holder_age",
            "DROP INDEX IF EXISTS idx_cases_handling_urgency",
            "DROP INDEX IF EXISTS idx_cases_province_received_cover",
            "DROP INDEX IF EXISTS idx_cases_province_decided_cover",
            "DROP INDEX IF EXISTS idx_cases_province_paid_cover",
            "DROP INDEX IF EXISTS idx_cases_open_deadlines",
            "DROP INDEX IF EXISTS idx_case_documents_digitised",
            "DROP TABLE IF EXISTS backlog_deltas",
            "DROP TABLE IF EXISTS backlog_counts",
        ] {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
