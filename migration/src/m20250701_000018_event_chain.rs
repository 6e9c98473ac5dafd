//! Issue 22 §2: each dossier event carries the hash of the one before it (per dossier), and
//! each audit entry the hash of the entry before it (one chain), so that a row edited or
//! removed behind the application's back breaks the chain that `motcua audit verify` walks.
//! Rows written before this migration have neither.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            string_null(CaseEvents::PrevHash),
            string_null(CaseEvents::Hash),
        ] {
            m.alter_table(
                Table::alter()
                    .table(CaseEvents::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [string_null(AuditLog::PrevHash), string_null(AuditLog::Hash)] {
            m.alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [AuditLog::Hash, AuditLog::PrevHash] {
            m.alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [CaseEvents::Hash, CaseEvents::PrevHash] {
            m.alter_table(
                Table::alter()
                    .table(CaseEvents::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    PrevHash,
    Hash,
}
