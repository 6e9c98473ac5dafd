//! The clerks' lifecycle (issue 20): the status a withdrawal request interrupted, kept apart
//! from the pause's status to return to (a withdrawal asked during a supplement can be
//! cancelled); a procedure's limit in calendar days (Civil Code 2015 arts. 147–148),
//! whether waiting for its payment pauses the clock, and whether its fee is set by each
//! province.
//!
//! SQLite adds one column per statement, so each is its own `ALTER TABLE`. A dossier
//! already waiting on a withdrawal request had its interrupted status in `resume_status`:
//! it is copied over so that the request can still be cancelled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .add_column(string_null(Cases::WithdrawnFrom))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .add_column(integer_null(Procedures::TimeLimitDays))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .add_column(boolean_null(Procedures::PaymentPausesClock))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Procedures::Table)
                .add_column(boolean(Procedures::FeeByProvince).default(false))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(Cases::Table)
                .value(Cases::WithdrawnFrom, Expr::col(Cases::ResumeStatus))
                .and_where(Expr::col(Cases::Status).eq("withdrawal_requested"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Cases::Table)
                .drop_column(Cases::WithdrawnFrom)
                .to_owned(),
        )
        .await?;
        for col in [
            Procedures::TimeLimitDays,
            Procedures::PaymentPausesClock,
            Procedures::FeeByProvince,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Procedures::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Status,
    ResumeStatus,
    WithdrawnFrom,
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    TimeLimitDays,
    PaymentPausesClock,
    FeeByProvince,
}
