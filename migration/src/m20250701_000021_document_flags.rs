//! Whether a dossier holds its components as files, and its result as a file: the
//! digitisation indicators count them for every dossier of a period, and asking
//! `case_documents` once per dossier was most of a province-year's scorecard at national
//! scale (285,063 probes, 0.4 s).
//!
//! `cases.has_component_files` and `cases.has_result_file` are kept by a trigger on
//! `case_documents` in the transaction that stores the document; documents are never
//! deleted or re-kinded, so a flag once set stays true. They are the database's own derived
//! columns, like the backlog rollup: the entity does not map them, so no service code
//! writes them. On PostgreSQL the covering indexes of migration 20 carry them, so the
//! indicators stay index-only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let backend = m.get_database_backend();
        let boolean_false = match backend {
            DatabaseBackend::Postgres => "BOOLEAN NOT NULL DEFAULT false",
            _ => "BOOLEAN NOT NULL DEFAULT 0",
        };
        for col in ["has_component_files", "has_result_file"] {
            conn.execute_unprepared(&format!(
                "ALTER TABLE cases ADD COLUMN {col} {boolean_false}"
            ))
            .await?;
        }
        // Dossiers with documents before this migration (only those rows are written).
        for (col, kind) in [
            ("has_component_files", "kind <> 'result'"),
            ("has_result_file", "kind = 'result'"),
        ] {
            conn.execute_unprepared(&format!(
                "UPDATE cases SET {col} = (1 = 1) WHERE id IN (SELECT case_id FROM case_documents WHERE {kind})"
            ))
            .await?;
        }
        match backend {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(
                    "CREATE FUNCTION case_documents_flags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     UPDATE cases SET has_component_files = true WHERE NOT has_component_files \
                       AND id IN (SELECT case_id FROM new_docs WHERE kind <> 'result'); \
                     UPDATE cases SET has_result_file = true WHERE NOT has_result_file \
                       AND id IN (SELECT case_id FROM new_docs WHERE kind = 'result'); \
                     RETURN NULL; END $$",
                )
                .await?;
                conn.execute_unprepared(
                    "CREATE TRIGGER case_documents_flags AFTER INSERT ON case_documents \
                     REFERENCING NEW TABLE AS new_docs FOR EACH STATEMENT EXECUTE FUNCTION case_documents_flags()",
                )
                .await?;
                // The covering indexes of migration 20, with the flags.
                for sql in [
                    "DROP INDEX IF EXISTS idx_cases_province_received_cover",
                    "DROP INDEX IF EXISTS idx_cases_province_decided_cover",
                    "CREATE INDEX idx_cases_province_received_cover ON cases (province_code, received_at) \
                     INCLUDE (decided_at, closed_at, due_at, paused_at, appointment_at, supplement_count, \
                     processing_working_secs, channel, result_delivery, procedure_code, paid_at, paid_online, \
                     handling_unit, receiving_unit, id, has_component_files, has_result_file) \
                     WHERE received_at IS NOT NULL",
                    "CREATE INDEX idx_cases_province_decided_cover ON cases (province_code, decided_at) \
                     INCLUDE (procedure_code, processing_working_secs, handling_unit, receiving_unit, id, \
                     has_component_files, has_result_file) WHERE decided_at IS NOT NULL",
                ] {
                    conn.execute_unprepared(sql).await?;
                }
            }
            _ => {
                conn.execute_unprepared(
                    "CREATE TRIGGER case_documents_flags AFTER INSERT ON case_documents BEGIN \
                     UPDATE cases SET has_component_files = 1 WHERE id = NEW.case_id AND NEW.kind <> 'result' AND has_component_files = 0; \
                     UPDATE cases SET has_result_file = 1 WHERE id = NEW.case_id AND NEW.kind = 'result' AND has_result_file = 0; \
                     END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if m.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(
                "DROP TRIGGER IF EXISTS case_documents_flags ON case_documents",
            )
            .await?;
            conn.execute_unprepared("DROP FUNCTION IF EXISTS case_documents_flags()")
                .await?;
        } else {
            conn.execute_unprepared("DROP TRIGGER IF EXISTS case_documents_flags")
                .await?;
        }
        for col in ["has_component_files", "has_result_file"] {
            conn.execute_unprepared(&format!("ALTER TABLE cases DROP COLUMN {col}"))
                .await?;
        }
        Ok(())
    }
}
