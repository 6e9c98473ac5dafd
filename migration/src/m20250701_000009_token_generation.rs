//! Revoking an account's access tokens bumps its token generation, which every access token
//! carries (`gen`): a token of an older generation is refused, exactly, however many were
//! issued in the second of the revocation. It replaces `tokens_valid_after`, which was
//! compared with the token's `iat` (whole seconds) and so left the tokens of that second
//! valid.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One change per statement: SQLite alters one column at a time.
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(integer(Accounts::TokenGeneration).default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .drop_column(Accounts::TokensValidAfter)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(timestamp_with_time_zone_null(Accounts::TokensValidAfter))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .drop_column(Accounts::TokenGeneration)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    TokenGeneration,
    TokensValidAfter,
}
