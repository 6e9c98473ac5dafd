//! Issue 21: what each province publishes (its list of procedures received and returned
//! anywhere in the province, Decree 118/2025/NĐ-CP, and its fees), versioned by the instant
//! each version takes effect; and on the dossier, where its result is collected, the fee due,
//! a payment asked for and the receipts of what was paid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ProvinceLists::Table)
                .if_not_exists()
                .col(
                    big_integer(ProvinceLists::Id)
                        .primary_key()
                        .auto_increment(),
                )
                .col(string(ProvinceLists::ProvinceCode))
                // `boundary_independent` or `fees`.
                .col(string(ProvinceLists::Kind))
                .col(timestamp_with_time_zone(ProvinceLists::ValidFrom))
                // The whole list of this version: a later version replaces it whole.
                .col(json(ProvinceLists::Entries))
                .col(text_null(ProvinceLists::Note))
                .col(uuid_null(ProvinceLists::CreatedBy))
                .col(timestamp_with_time_zone(ProvinceLists::CreatedAt))
                .to_owned(),
        )
        .await?;
        // One version per instant: the one in force at `t` is the newest `valid_from <= t`.
        m.create_index(
            Index::create()
                .name("idx_province_lists_version")
                .table(ProvinceLists::Table)
                .col(ProvinceLists::ProvinceCode)
                .col(ProvinceLists::Kind)
                .col(ProvinceLists::ValidFrom)
                .unique()
                .to_owned(),
        )
        .await?;
        for col in [
            string_null(Cases::ResultPoint),
            big_integer_null(Cases::FeeVnd),
            big_integer_null(Cases::PaymentDueVnd),
            json_null(Cases::Receipts),
            timestamp_with_time_zone_null(Cases::PaidAt),
            boolean(Cases::PaidOnline).default(false).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        // The online-payment indicator counts the dossiers paid in a period.
        m.create_index(
            Index::create()
                .name("idx_cases_paid_at")
                .table(Cases::Table)
                .col(Cases::PaidAt)
                .to_owned(),
        )
        .await?;
        // Disclosure indicators a supervisor enters for a province and a period (the system
        // cannot compute them): one row per province, indicator and period start.
        m.create_table(
            Table::create()
                .table(ScorecardEntries::Table)
                .if_not_exists()
                .col(
                    big_integer(ScorecardEntries::Id)
                        .primary_key()
                        .auto_increment(),
                )
                .col(string(ScorecardEntries::ProvinceCode))
                .col(string(ScorecardEntries::Indicator))
                .col(date(ScorecardEntries::PeriodStart))
                .col(double(ScorecardEntries::Value))
                .col(text_null(ScorecardEntries::Note))
                .col(uuid_null(ScorecardEntries::EnteredBy))
                .col(timestamp_with_time_zone(ScorecardEntries::EnteredAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_scorecard_entries_key")
                .table(ScorecardEntries::Table)
                .col(ScorecardEntries::ProvinceCode)
                .col(ScorecardEntries::Indicator)
                .col(ScorecardEntries::PeriodStart)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ScorecardEntries::Table).to_owned())
            .await?;
        m.drop_index(
            Index::drop()
                .name("idx_cases_paid_at")
                .table(Cases::Table)
                .to_owned(),
        )
        .await?;
        for col in [
            Cases::PaidOnline,
            Cases::PaidAt,
            Cases::Receipts,
            Cases::PaymentDueVnd,
            Cases::FeeVnd,
            Cases::ResultPoint,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        m.drop_table(Table::drop().table(ProvinceLists::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ProvinceLists {
    Table,
    Id,
    ProvinceCode,
    Kind,
    ValidFrom,
    Entries,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScorecardEntries {
    Table,
    Id,
    ProvinceCode,
    Indicator,
    PeriodStart,
    Value,
    Note,
    EnteredBy,
    EnteredAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    ResultPoint,
    FeeVnd,
    PaymentDueVnd,
    Receipts,
    PaidAt,
    PaidOnline,
}
