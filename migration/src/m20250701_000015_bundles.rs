//! Bundled procedures (issue 20, Decree 63/2024/NĐ-CP): a procedure version may list its
//! parts, and a dossier of one part (a sub-dossier) knows its bundle and its share of the
//! combined limit, so that its deadline can be recomputed the same way.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .add_column(json_null(Procedures::Parts))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(string_null(Cases::BundleCode))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(integer_null(Cases::PartShareHours))
                .to_owned(),
        )
        .await?;
        // The parts of a bundle are read by its code (the dossier page, each decision).
        m.create_index(
            Index::create()
                .name("idx_cases_bundle_code")
                .table(Cases::Table)
                .col(Cases::BundleCode)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_cases_bundle_code")
                .table(Cases::Table)
                .to_owned(),
        )
        .await?;
        for col in [Cases::PartShareHours, Cases::BundleCode] {
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .drop_column(Procedures::Parts)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    Parts,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    BundleCode,
    PartShareHours,
}
