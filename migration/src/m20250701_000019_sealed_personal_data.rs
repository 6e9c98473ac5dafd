//! Applicants' ID numbers, phones and e-mails are sealed before they are written (see
//! `security::data_key` in the service): the columns keep their names and hold the sealed
//! text. An ID number sealed with a random nonce cannot be searched for, so the dossier also
//! keeps its blind index (a keyed hash) for staff's search by ID number.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(string_null(Cases::ApplicantIdIndex))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cases_applicant_id_index")
                .table(Cases::Table)
                .col(Cases::ApplicantIdIndex)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_cases_applicant_id_index")
                .table(Cases::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .drop_column(Cases::ApplicantIdIndex)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    ApplicantIdIndex,
}
