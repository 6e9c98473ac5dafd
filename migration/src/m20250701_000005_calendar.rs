//! Civil-service calendar announcements added by administrators at run time (the shipped
//! ones are files under `config/calendar/`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CalendarAnnouncements::Table)
                .col(big_pk_auto(CalendarAnnouncements::Id))
                .col(integer(CalendarAnnouncements::Year))
                .col(json(CalendarAnnouncements::Body))
                .col(uuid_null(CalendarAnnouncements::CreatedBy))
                .col(timestamp_with_time_zone(CalendarAnnouncements::CreatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CalendarAnnouncements::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CalendarAnnouncements {
    Table,
    Id,
    Year,
    Body,
    CreatedBy,
    CreatedAt,
}
