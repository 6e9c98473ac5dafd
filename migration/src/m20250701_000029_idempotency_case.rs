//! `idempotency_keys.case_id`: the dossier an online intake's stored answer is about. The
//! key's row is now written in the intake's own statement, before the database has given
//! the dossier its id and code; the stored answer is the dossier without them, and a replay
//! reads them through this column. Rows written before keep the whole answer and no id.
//! No foreign key: a dossier is never deleted while its key's row lives, and the check would
//! cost every online intake a lookup.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .add_column(big_integer_null(IdempotencyKeys::CaseId))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(IdempotencyKeys::Table)
                .drop_column(IdempotencyKeys::CaseId)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    CaseId,
}
