//! Reports computed in advance by a job and served from their latest result: the country's
//! bottleneck report reads every open dossier of the country (two million) and takes seconds,
//! while a supervisor opening the page expects it at once. One row per report; the lease
//! lets one instance compute it at a time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReportSnapshots::Table)
                .if_not_exists()
                .col(string(ReportSnapshots::Name).primary_key())
                // The instant the figures are as of; none until first computed.
                .col(timestamp_with_time_zone_null(ReportSnapshots::ComputedAt))
                .col(text_null(ReportSnapshots::Body))
                // The instance computing it holds it until then.
                .col(timestamp_with_time_zone_null(ReportSnapshots::LeaseUntil))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReportSnapshots::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ReportSnapshots {
    Table,
    Name,
    ComputedAt,
    Body,
    LeaseUntil,
}
