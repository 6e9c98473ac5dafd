//! Variant limits (issue 20): a procedure version lists the longer limits the law allows in
//! named cases (verification needed, many documents, a remote commune), and a dossier keeps
//! the one chosen at its receipt, so that its deadline can be recomputed the same way.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .add_column(json_null(Procedures::LimitVariants))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(string_null(Cases::LimitVariant))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .drop_column(Cases::LimitVariant)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .drop_column(Procedures::LimitVariants)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    LimitVariants,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    LimitVariant,
}
