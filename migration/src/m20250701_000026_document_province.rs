//! The province of a document's dossier, on the document row: a province-year's scorecard
//! counts the scans first stored in the period, and finding the province's among the
//! country's meant joining every scan of the period to its dossier (166,000 joins, 280 ms
//! of a 690 ms scorecard at national scale). With the province on the row it is one range
//! of `idx_case_documents_province_digitised`.
//!
//! `case_documents.province_code` is the database's own derived column, like the flags of
//! migration 21: a trigger copies it from the dossier when the document is stored (a
//! dossier never changes province: it is received and handled within one), and the entity
//! does not map it, so no service code writes it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let backend = m.get_database_backend();
        conn.execute_unprepared("ALTER TABLE case_documents ADD COLUMN province_code VARCHAR NULL")
            .await?;
        conn.execute_unprepared(
            "UPDATE case_documents SET province_code = \
             (SELECT c.province_code FROM cases c WHERE c.id = case_documents.case_id)",
        )
        .await?;
        match backend {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(
                    "CREATE FUNCTION case_documents_province() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                     NEW.province_code := (SELECT province_code FROM cases WHERE id = NEW.case_id); \
                     RETURN NEW; END $$",
                )
                .await?;
                conn.execute_unprepared(
                    "CREATE TRIGGER case_documents_province BEFORE INSERT ON case_documents \
                     FOR EACH ROW EXECUTE FUNCTION case_documents_province()",
                )
                .await?;
            }
            _ => {
                // SQLite's triggers cannot set NEW: the row is completed after it is stored,
                // in the same statement.
                conn.execute_unprepared(
                    "CREATE TRIGGER case_documents_province AFTER INSERT ON case_documents BEGIN \
                     UPDATE case_documents SET province_code = \
                     (SELECT province_code FROM cases WHERE id = NEW.case_id) WHERE id = NEW.id; \
                     END",
                )
                .await?;
            }
        }
        conn.execute_unprepared(
            "CREATE INDEX idx_case_documents_province_digitised ON case_documents \
             (province_code, uploaded_at) WHERE digitised AND reused_from IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        conn.execute_unprepared("DROP INDEX IF EXISTS idx_case_documents_province_digitised")
            .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(
                "DROP TRIGGER IF EXISTS case_documents_province ON case_documents",
            )
            .await?;
            conn.execute_unprepared("DROP FUNCTION IF EXISTS case_documents_province()")
                .await?;
        } else {
            conn.execute_unprepared("DROP TRIGGER IF EXISTS case_documents_province")
                .await?;
        }
        conn.execute_unprepared("ALTER TABLE case_documents DROP COLUMN province_code")
            .await?;
        Ok(())
    }
}
