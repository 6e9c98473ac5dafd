//! The event feed for integrators and their webhook subscriptions.
//!
//! `GET /api/v1/events` hands out every dossier event in commit order with a cursor that a
//! consumer keeps. An event's `id` is taken when it is inserted, not when its transaction
//! commits: on PostgreSQL, two writers can commit ids 11 and 10 in that order, and a reader
//! that had read up to 11 would never see 10. So each event also records the id of the
//! transaction that wrote it (`commit_txid`, from `pg_current_xact_id()`), and the feed
//! hands out only events whose transaction is older than every transaction still running
//! (`pg_snapshot_xmin` of the reader's snapshot), in (`commit_txid`, `id`) order: once a
//! position is handed out, nothing can later commit before it. Rows written before this
//! migration count as transaction 0 (all committed long ago); adding the column without a
//! default and setting the default afterwards keeps PostgreSQL from rewriting the table.
//!
//! SQLite has one writer at a time, so ids are taken in commit order there and the column
//! is not needed.
//!
//! `webhooks` are the administrators' subscriptions for integrators: each delivers the
//! feed's events of its topics to one URL, signed with its own key, from its own cursor;
//! `webhook_deliveries` is their delivery log.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        if m.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared("ALTER TABLE case_events ADD COLUMN commit_txid BIGINT")
                .await?;
            conn.execute_unprepared(
                "ALTER TABLE case_events ALTER COLUMN commit_txid \
                 SET DEFAULT (pg_current_xact_id()::text::bigint)",
            )
            .await?;
            conn.execute_unprepared(
                "CREATE INDEX idx_case_events_feed ON case_events ((COALESCE(commit_txid, 0)), id)",
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(Webhooks::Table)
                .if_not_exists()
                .col(uuid(Webhooks::Id).primary_key())
                .col(uuid(Webhooks::IntegratorId))
                .col(string(Webhooks::Url))
                // Sealed with the data keys (`webhooks.secret`): it signs, so it cannot be hashed.
                .col(text(Webhooks::Secret))
                .col(json(Webhooks::Topics))
                .col(boolean(Webhooks::Active))
                // The feed position delivered so far.
                .col(big_integer(Webhooks::AfterTxid))
                .col(big_integer(Webhooks::AfterId))
                // When the dispatcher may take it next (a lease while it delivers, the back-off after a failure).
                .col(timestamp_with_time_zone(Webhooks::AvailableAt))
                .col(integer(Webhooks::Failures))
                .col(text_null(Webhooks::LastError))
                .col(timestamp_with_time_zone_null(Webhooks::LastDeliveredAt))
                .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                .col(uuid_null(Webhooks::CreatedBy))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhooks_due")
                .table(Webhooks::Table)
                .col(Webhooks::Active)
                .col(Webhooks::AvailableAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .if_not_exists()
                .col(
                    big_integer(WebhookDeliveries::Id)
                        .primary_key()
                        .auto_increment(),
                )
                .col(uuid(WebhookDeliveries::WebhookId))
                .col(timestamp_with_time_zone(WebhookDeliveries::AttemptedAt))
                .col(integer(WebhookDeliveries::Events))
                .col(string(WebhookDeliveries::FirstCursor))
                .col(string(WebhookDeliveries::LastCursor))
                .col(integer_null(WebhookDeliveries::StatusCode))
                .col(boolean(WebhookDeliveries::Ok))
                .col(text_null(WebhookDeliveries::Error))
                .col(integer(WebhookDeliveries::DurationMs))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_webhook_deliveries_webhook")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::WebhookId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Webhooks::Table).to_owned())
            .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            let conn = m.get_connection();
            conn.execute_unprepared("DROP INDEX IF EXISTS idx_case_events_feed")
                .await?;
            conn.execute_unprepared("ALTER TABLE case_events DROP COLUMN commit_txid")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    IntegratorId,
    Url,
    Secret,
    Topics,
    Active,
    AfterTxid,
    AfterId,
    AvailableAt,
    Failures,
    LastError,
    LastDeliveredAt,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    AttemptedAt,
    Events,
    FirstCursor,
    LastCursor,
    StatusCode,
    Ok,
    Error,
    DurationMs,
}
