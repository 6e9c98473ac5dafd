//! Applicants' ratings of the service (Decision 766's satisfaction group): one per dossier,
//! after its result was returned, kept with the unit that handled it so that it can be
//! aggregated per unit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CaseFeedback::Table)
                .if_not_exists()
                // One rating per dossier: the key refuses a second one.
                .col(big_integer(CaseFeedback::CaseId).primary_key())
                // Null after the account's erasure; the rating stays.
                .col(uuid_null(CaseFeedback::AccountId))
                .col(string(CaseFeedback::Unit))
                .col(string(CaseFeedback::ProvinceCode))
                .col(small_integer(CaseFeedback::Rating))
                .col(text_null(CaseFeedback::Comment))
                .col(timestamp_with_time_zone(CaseFeedback::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_case_feedback_unit_created")
                .table(CaseFeedback::Table)
                .col(CaseFeedback::Unit)
                .col(CaseFeedback::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CaseFeedback::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CaseFeedback {
    Table,
    CaseId,
    AccountId,
    Unit,
    ProvinceCode,
    Rating,
    Comment,
    CreatedAt,
}
