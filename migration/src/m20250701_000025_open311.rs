//! The Open311 GeoReport v2 facade: the client systems' API keys (stored as SHA-256
//! digests, shown once when made, revoked by administrators) and the dossiers filed through
//! it (the facade's public reads list only those, and never their personal data).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Open311Keys::Table)
                .if_not_exists()
                .col(uuid(Open311Keys::Id).primary_key())
                .col(string(Open311Keys::Name))
                .col(string_uniq(Open311Keys::KeyDigest))
                // The citizen-role account the client system files as.
                .col(uuid(Open311Keys::AccountId))
                .col(timestamp_with_time_zone(Open311Keys::CreatedAt))
                .col(uuid_null(Open311Keys::CreatedBy))
                .col(timestamp_with_time_zone_null(Open311Keys::RevokedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Open311Requests::Table)
                .if_not_exists()
                .col(big_integer(Open311Requests::CaseId).primary_key())
                .col(string_uniq(Open311Requests::CaseCode))
                .col(uuid(Open311Requests::KeyId))
                .col(timestamp_with_time_zone(Open311Requests::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_open311_requests_created")
                .table(Open311Requests::Table)
                .col(Open311Requests::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Open311Requests::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Open311Keys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Open311Keys {
    Table,
    Id,
    Name,
    KeyDigest,
    AccountId,
    CreatedAt,
    CreatedBy,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Open311Requests {
    Table,
    CaseId,
    CaseCode,
    KeyId,
    CreatedAt,
}
