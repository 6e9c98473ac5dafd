//! Synchronisation with the national public-service portal.
//!
//! - `units.national_code`: the unit's agency code on the national portal (QCVN 102), set by
//!   administrators; our unit codes are not theirs. The dossier code sent as `MaHoSo` uses
//!   the receiving unit's.
//! - `national_sync`: per dossier, the last of its public events the portal acknowledged
//!   (`synced_seq`), the last one it should have (`pending_seq`), and the last attempt and
//!   error; a dossier is synchronised when the two are equal.
//! - `feed_consumers`: the position in the event feed of an internal consumer (the national
//!   adapter reads the feed as integrators do: the events are written in the change's own
//!   transaction, so nothing is written twice and nothing is lost).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Units::Table)
                .add_column(string_null(Units::NationalCode))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NationalSync::Table)
                .if_not_exists()
                .col(big_integer(NationalSync::CaseId).primary_key())
                .col(string(NationalSync::CaseCode))
                .col(string(NationalSync::ProvinceCode))
                .col(integer(NationalSync::SyncedSeq))
                .col(integer(NationalSync::PendingSeq))
                .col(integer(NationalSync::Attempts))
                // When the next attempt is due (a lease while it is sent); none: given up
                // until `motcua sync national` asks again.
                .col(timestamp_with_time_zone_null(NationalSync::NextAttemptAt))
                .col(timestamp_with_time_zone_null(NationalSync::LastAttemptAt))
                .col(timestamp_with_time_zone_null(NationalSync::SyncedAt))
                .col(text_null(NationalSync::LastError))
                .col(timestamp_with_time_zone(NationalSync::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_national_sync_due")
                .table(NationalSync::Table)
                .col(NationalSync::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FeedConsumers::Table)
                .if_not_exists()
                .col(string(FeedConsumers::Name).primary_key())
                .col(big_integer(FeedConsumers::AfterTxid))
                .col(big_integer(FeedConsumers::AfterId))
                .col(timestamp_with_time_zone(FeedConsumers::UpdatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(FeedConsumers::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(NationalSync::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(Units::Table)
                .drop_column(Units::NationalCode)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Units {
    Table,
    NationalCode,
}

#[derive(DeriveIden)]
enum NationalSync {
    Table,
    CaseId,
    CaseCode,
    ProvinceCode,
    SyncedSeq,
    PendingSeq,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    SyncedAt,
    LastError,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FeedConsumers {
    Table,
    Name,
    AfterTxid,
    AfterId,
    UpdatedAt,
}
