//! Indexes for the bottleneck ranking's flow (dossiers received and decided over a recent
//! window, per handling unit): each side of the flow is a range of one index, covering the
//! columns the query groups and filters on, so that its cost follows the window, not the
//! whole history (without them the national ranking read every dossier ever filed).
//! For one province the received side uses `idx_cases_received_at (province_code,
//! received_at)`, which exists already, and the decided side its own province-first index.
//! The decided indexes are partial: open dossiers, and so every new intake, are not in them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for sql in [
            "CREATE INDEX IF NOT EXISTS idx_cases_flow_received ON cases (received_at, handling_unit, province_code) WHERE received_at IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS idx_cases_flow_decided ON cases (decided_at, handling_unit, province_code) WHERE decided_at IS NOT NULL",
            // One province: an equality then the range (the national index would scan
            // every province's decisions of the window).
            "CREATE INDEX IF NOT EXISTS idx_cases_flow_decided_province ON cases (province_code, decided_at, handling_unit) WHERE decided_at IS NOT NULL",
        ] {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        for sql in [
            "DROP INDEX IF EXISTS idx_cases_flow_decided_province",
            "DROP INDEX IF EXISTS idx_cases_flow_decided",
            "DROP INDEX IF EXISTS idx_cases_flow_received",
        ] {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
