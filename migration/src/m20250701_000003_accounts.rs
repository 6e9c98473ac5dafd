//! Accounts, refresh tokens, login throttling and generated secrets.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20250701_000001_geography::Provinces;
use crate::m20250701_000002_units_procedures::Units;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .col(pk_uuid(Accounts::Id))
                .col(text(Accounts::Username))
                // Lower-cased username: uniqueness is case-insensitive on both databases.
                .col(string_uniq(Accounts::UsernameKey))
                .col(text(Accounts::PasswordHash))
                .col(string(Accounts::Role))
                .col(string_null(Accounts::UnitCode))
                .col(string_null(Accounts::ProvinceCode))
                .col(text(Accounts::FullName))
                .col(text_null(Accounts::Phone))
                .col(text_null(Accounts::Email))
                .col(string_null(Accounts::IdNumber))
                .col(boolean(Accounts::Disabled))
                .col(timestamp_with_time_zone_null(Accounts::TokensValidAfter))
                .col(timestamp_with_time_zone(Accounts::CreatedAt))
                .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Accounts::Table, Accounts::UnitCode)
                        .to(Units::Table, Units::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Accounts::Table, Accounts::ProvinceCode)
                        .to(Provinces::Table, Provinces::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_accounts_unit")
                .table(Accounts::Table)
                .col(Accounts::UnitCode)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(pk_uuid(RefreshTokens::Id))
                .col(uuid(RefreshTokens::AccountId))
                .col(uuid(RefreshTokens::FamilyId))
                .col(string_uniq(RefreshTokens::TokenHash))
                .col(timestamp_with_time_zone(RefreshTokens::IssuedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RefreshTokens::Table, RefreshTokens::AccountId)
                        .to(Accounts::Table, Accounts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_refresh_tokens_account")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::AccountId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginThrottle::Table)
                .col(string(LoginThrottle::Key).primary_key())
                .col(integer(LoginThrottle::Failures))
                .col(timestamp_with_time_zone(LoginThrottle::LastFailureAt))
                .col(timestamp_with_time_zone_null(LoginThrottle::LockedUntil))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AppSecrets::Table)
                .col(string(AppSecrets::Name).primary_key())
                .col(text(AppSecrets::Value))
                .col(timestamp_with_time_zone(AppSecrets::CreatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AppSecrets::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(LoginThrottle::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Accounts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Accounts {
    Table,
    Id,
    Username,
    UsernameKey,
    PasswordHash,
    Role,
    UnitCode,
    ProvinceCode,
    FullName,
    Phone,
    Email,
    IdNumber,
    Disabled,
    TokensValidAfter,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    AccountId,
    FamilyId,
    TokenHash,
    IssuedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    Key,
    Failures,
    LastFailureAt,
    LockedUntil,
}

#[derive(DeriveIden)]
enum AppSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}
