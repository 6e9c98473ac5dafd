//! Browser sessions of the web app: an opaque token in an HttpOnly cookie, kept here only as
//! its SHA-256 digest, for an account and the token generation it was opened under (so that
//! revoking an account's tokens ends its browser sessions too). `expires_at` slides with use
//! (idle timeout); `created_at` bounds the whole session.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebSessions::Table)
                .if_not_exists()
                .col(uuid(WebSessions::Id).primary_key())
                .col(string(WebSessions::TokenHash).unique_key())
                .col(uuid(WebSessions::AccountId))
                .col(integer(WebSessions::TokenGeneration))
                .col(timestamp_with_time_zone(WebSessions::CreatedAt))
                .col(timestamp_with_time_zone(WebSessions::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_web_sessions_account")
                .table(WebSessions::Table)
                .col(WebSessions::AccountId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebSessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    Id,
    TokenHash,
    AccountId,
    TokenGeneration,
    CreatedAt,
    ExpiresAt,
}
