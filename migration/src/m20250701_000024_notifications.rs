//! Messages to applicants (e-mail, SMS) about the steps of their dossiers: one row per
//! step and channel, made from the dossier's events (`services::tell`), sent with retries;
//! the row is the delivery status shown on the dossier. The unique key makes a step's
//! message once per channel however often the events are read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .if_not_exists()
                .col(
                    big_integer(Notifications::Id)
                        .primary_key()
                        .auto_increment(),
                )
                .col(big_integer(Notifications::CaseId))
                .col(string(Notifications::CaseCode))
                .col(integer(Notifications::EventSeq))
                // received, supplement_requested, payment_requested, result_ready, apology
                .col(string(Notifications::Kind))
                // email or sms
                .col(string(Notifications::Channel))
                // pending, sent or failed
                .col(string(Notifications::Status))
                .col(integer(Notifications::Attempts))
                .col(timestamp_with_time_zone_null(Notifications::NextAttemptAt))
                .col(text_null(Notifications::LastError))
                .col(timestamp_with_time_zone_null(Notifications::SentAt))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_step")
                .table(Notifications::Table)
                .col(Notifications::CaseId)
                .col(Notifications::EventSeq)
                .col(Notifications::Channel)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_notifications_due")
                .table(Notifications::Table)
                .col(Notifications::NextAttemptAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    CaseId,
    CaseCode,
    EventSeq,
    Kind,
    Channel,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    SentAt,
    CreatedAt,
}
