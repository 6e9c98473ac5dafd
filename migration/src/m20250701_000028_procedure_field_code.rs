//! `procedures.field_code`: the national catalogue's code of the procedure's field (lĩnh
//! vực), sent to the national portal as `MaLinhVuc`. Our field names are not its codes;
//! versions without one send the name folded to ASCII, as before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .add_column(string_null(Procedures::FieldCode))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .drop_column(Procedures::FieldCode)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    FieldCode,
}
