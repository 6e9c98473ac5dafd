//! Dossiers (cases), their events, pauses, per-unit daily counters, idempotency keys and
//! the transactional outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Cases::Table)
                .col(big_pk_auto(Cases::Id))
                .col(string_uniq(Cases::Code))
                .col(string(Cases::ProcedureCode))
                .col(integer(Cases::ProcedureVersion))
                .col(string(Cases::Channel))
                .col(string(Cases::Status))
                .col(small_integer(Cases::NationalStatus))
                .col(integer(Cases::Version))
                .col(uuid_null(Cases::ApplicantAccountId))
                .col(text(Cases::ApplicantName))
                .col(string_null(Cases::ApplicantIdNumber))
                .col(string_null(Cases::ApplicantTaxCode))
                .col(string_null(Cases::ApplicantPhone))
                .col(text_null(Cases::ApplicantEmail))
                .col(json(Cases::Address))
                .col(string_null(Cases::WardCode))
                .col(string(Cases::ProvinceCode))
                .col(string(Cases::ReceivingUnit))
                .col(string_null(Cases::HandlingUnit))
                .col(uuid_null(Cases::AssignedTo))
                .col(json(Cases::Form))
                .col(json(Cases::Documents))
                .col(json(Cases::Routing))
                .col(timestamp_with_time_zone(Cases::SubmittedAt))
                .col(timestamp_with_time_zone_null(Cases::ReceivedAt))
                .col(timestamp_with_time_zone_null(Cases::DueAt))
                .col(timestamp_with_time_zone_null(Cases::OriginalDueAt))
                .col(timestamp_with_time_zone_null(Cases::AppointmentAt))
                .col(timestamp_with_time_zone_null(Cases::AtRiskAt))
                .col(string(Cases::SlaState))
                .col(timestamp_with_time_zone_null(Cases::NextCheckAt))
                .col(timestamp_with_time_zone_null(Cases::PausedAt))
                .col(big_integer(Cases::PausedWorkingSecs))
                .col(string_null(Cases::ResumeStatus))
                .col(integer(Cases::SupplementCount))
                .col(string_null(Cases::StepKey))
                .col(timestamp_with_time_zone_null(Cases::StepStartedAt))
                .col(timestamp_with_time_zone_null(Cases::StepDueAt))
                .col(string_null(Cases::Outcome))
                .col(timestamp_with_time_zone_null(Cases::DecidedAt))
                .col(timestamp_with_time_zone_null(Cases::ClosedAt))
                .col(big_integer_null(Cases::ProcessingWorkingSecs))
                .col(boolean_null(Cases::OnTime))
                .col(timestamp_with_time_zone(Cases::CreatedAt))
                .col(timestamp_with_time_zone(Cases::UpdatedAt))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        for sql in [
            // The SLA sweeper's index: only dossiers with a pending check are in it, so a
            // sweep costs what is due, not what is open.
            "CREATE INDEX idx_cases_next_check ON cases (next_check_at) WHERE next_check_at IS NOT NULL",
            // Queues and backlogs read open dossiers per unit.
            "CREATE INDEX idx_cases_handling_open ON cases (handling_unit, status, due_at) WHERE closed_at IS NULL",
            "CREATE INDEX idx_cases_receiving_open ON cases (receiving_unit, status) WHERE closed_at IS NULL",
            "CREATE INDEX idx_cases_province_open ON cases (province_code, status) WHERE closed_at IS NULL",
            "CREATE INDEX idx_cases_applicant ON cases (applicant_account_id, submitted_at)",
            "CREATE INDEX idx_cases_received_at ON cases (province_code, received_at)",
            "CREATE INDEX idx_cases_closed_at ON cases (province_code, closed_at)",
        ] {
            conn.execute_unprepared(sql).await?;
        }

        m.create_table(
            Table::create()
                .table(CaseEvents::Table)
                .col(big_pk_auto(CaseEvents::Id))
                .col(big_integer(CaseEvents::CaseId))
                .col(integer(CaseEvents::Seq))
                .col(string(CaseEvents::Action))
                .col(uuid_null(CaseEvents::ActorId))
                .col(string(CaseEvents::ActorRole))
                .col(string_null(CaseEvents::ActorUnit))
                .col(string_null(CaseEvents::FromStatus))
                .col(string(CaseEvents::ToStatus))
                .col(text_null(CaseEvents::Reason))
                .col(json(CaseEvents::Data))
                .col(boolean(CaseEvents::Public))
                .col(timestamp_with_time_zone(CaseEvents::At))
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseEvents::Table, CaseEvents::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_case_events_case_seq")
                .table(CaseEvents::Table)
                .col(CaseEvents::CaseId)
                .col(CaseEvents::Seq)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CasePauses::Table)
                .col(big_pk_auto(CasePauses::Id))
                .col(big_integer(CasePauses::CaseId))
                .col(string(CasePauses::Reason))
                .col(timestamp_with_time_zone(CasePauses::StartedAt))
                .col(timestamp_with_time_zone_null(CasePauses::EndedAt))
                .col(big_integer_null(CasePauses::WorkingSecs))
                .foreign_key(
                    ForeignKey::create()
                        .from(CasePauses::Table, CasePauses::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_case_pauses_case")
                .table(CasePauses::Table)
                .col(CasePauses::CaseId)
                .to_owned(),
        )
        .await?;

        // Dossier numbers come from here, never from MAX()+1.
        m.create_table(
            Table::create()
                .table(UnitDayCounters::Table)
                .col(string(UnitDayCounters::UnitCode))
                .col(string(UnitDayCounters::Day))
                .col(integer(UnitDayCounters::Last))
                .primary_key(
                    Index::create()
                        .col(UnitDayCounters::UnitCode)
                        .col(UnitDayCounters::Day),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(uuid(IdempotencyKeys::AccountId))
                .col(string(IdempotencyKeys::Key))
                .col(string(IdempotencyKeys::RequestHash))
                .col(string(IdempotencyKeys::State))
                .col(small_integer_null(IdempotencyKeys::ResponseStatus))
                .col(text_null(IdempotencyKeys::ResponseBody))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::AccountId)
                        .col(IdempotencyKeys::Key),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(big_pk_auto(Outbox::Id))
                .col(uuid_uniq(Outbox::EventId))
                .col(string(Outbox::Topic))
                .col(string_null(Outbox::CaseCode))
                .col(json(Outbox::Recipients))
                .col(json(Outbox::Payload))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone(Outbox::AvailableAt))
                .col(integer(Outbox::Attempts))
                .col(timestamp_with_time_zone_null(Outbox::DeliveredAt))
                .col(timestamp_with_time_zone_null(Outbox::FailedAt))
                .col(text_null(Outbox::LastError))
                .to_owned(),
        )
        .await?;
        // Reads of personal data by administrators (and other audited access).
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(uuid(AuditLog::AccountId))
                .col(string(AuditLog::Action))
                .col(string(AuditLog::Subject))
                .col(timestamp_with_time_zone(AuditLog::At))
                .to_owned(),
        )
        .await?;
        conn.execute_unprepared(
            "CREATE INDEX idx_outbox_pending ON outbox (available_at) WHERE delivered_at IS NULL AND failed_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AuditLog::Table.into_iden(),
            Outbox::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            UnitDayCounters::Table.into_iden(),
            CasePauses::Table.into_iden(),
            CaseEvents::Table.into_iden(),
            Cases::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Cases {
    Table,
    Id,
    Code,
    ProcedureCode,
    ProcedureVersion,
    Channel,
    Status,
    NationalStatus,
    Version,
    ApplicantAccountId,
    ApplicantName,
    ApplicantIdNumber,
    ApplicantTaxCode,
    ApplicantPhone,
    ApplicantEmail,
    Address,
    WardCode,
    ProvinceCode,
    ReceivingUnit,
    HandlingUnit,
    AssignedTo,
    Form,
    Documents,
    Routing,
    SubmittedAt,
    ReceivedAt,
    DueAt,
    OriginalDueAt,
    AppointmentAt,
    AtRiskAt,
    SlaState,
    NextCheckAt,
    PausedAt,
    PausedWorkingSecs,
    ResumeStatus,
    SupplementCount,
    StepKey,
    StepStartedAt,
    StepDueAt,
    Outcome,
    DecidedAt,
    ClosedAt,
    ProcessingWorkingSecs,
    OnTime,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    Seq,
    Action,
    ActorId,
    ActorRole,
    ActorUnit,
    FromStatus,
    ToStatus,
    Reason,
    Data,
    Public,
    At,
}

#[derive(DeriveIden)]
enum CasePauses {
    Table,
    Id,
    CaseId,
    Reason,
    StartedAt,
    EndedAt,
    WorkingSecs,
}

#[derive(DeriveIden)]
enum UnitDayCounters {
    Table,
    UnitCode,
    Day,
    Last,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    AccountId,
    Key,
    RequestHash,
    State,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    EventId,
    Topic,
    CaseCode,
    Recipients,
    Payload,
    CreatedAt,
    AvailableAt,
    Attempts,
    DeliveredAt,
    FailedAt,
    LastError,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    AccountId,
    Action,
    Subject,
    At,
}
