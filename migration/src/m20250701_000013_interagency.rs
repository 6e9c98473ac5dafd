//! Inter-agency work (liên thông, issue 20): the agency that has a dossier for its part and
//! when its share of the time limit ends. The agency's queue finds its dossiers by the
//! partial index (only dossiers out with an agency are in it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(string_null(Cases::ConsultedUnit))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(timestamp_with_time_zone_null(Cases::ConsultDueAt))
                .to_owned(),
        )
        .await?;
        // Both SQLite and PostgreSQL take a partial index in this form.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_cases_consulted_unit ON cases (consulted_unit) \
                 WHERE consulted_unit IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS idx_cases_consulted_unit")
            .await?;
        for col in [Cases::ConsultedUnit, Cases::ConsultDueAt] {
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    ConsultedUnit,
    ConsultDueAt,
}
