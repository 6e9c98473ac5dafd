//! Units (agencies), the versioned procedure catalog and routing overrides.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20250701_000001_geography::{Provinces, Wards};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Units::Table)
                .col(string(Units::Code).primary_key())
                .col(text(Units::Name))
                .col(text(Units::NameEn))
                .col(string(Units::Kind))
                .col(string(Units::Level))
                .col(string(Units::ProvinceCode))
                .col(string_null(Units::WardCode))
                .col(string_null(Units::ParentCode))
                .col(text(Units::WorkingHours))
                .col(boolean(Units::ReceivesDossiers))
                .col(boolean(Units::Active))
                .col(timestamp_with_time_zone(Units::CreatedAt))
                .col(timestamp_with_time_zone(Units::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Units::Table, Units::ProvinceCode)
                        .to(Provinces::Table, Provinces::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Units::Table, Units::WardCode)
                        .to(Wards::Table, Wards::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_units_province_kind")
                .table(Units::Table)
                .col(Units::ProvinceCode)
                .col(Units::Kind)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_units_ward")
                .table(Units::Table)
                .col(Units::WardCode)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Procedures::Table)
                .col(big_pk_auto(Procedures::Id))
                .col(string(Procedures::Code))
                .col(integer(Procedures::Version))
                .col(timestamp_with_time_zone(Procedures::ValidFrom))
                .col(text(Procedures::NameVi))
                .col(text(Procedures::NameEn))
                .col(text(Procedures::Field))
                .col(string(Procedures::Level))
                .col(string(Procedures::CompetentUnitKind))
                .col(integer_null(Procedures::TimeLimitHours))
                .col(boolean(Procedures::SameDay))
                .col(boolean(Procedures::BoundaryIndependent))
                .col(string(Procedures::OnlineLevel))
                .col(big_integer(Procedures::FeeVnd))
                .col(text(Procedures::FeeNote))
                .col(json(Procedures::RequiredDocuments))
                .col(json(Procedures::Steps))
                .col(double_null(Procedures::AtRiskRatio))
                .col(text(Procedures::LegalBasis))
                .col(boolean(Procedures::Active))
                .col(uuid_null(Procedures::CreatedBy))
                .col(timestamp_with_time_zone(Procedures::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_procedures_code_version")
                .table(Procedures::Table)
                .col(Procedures::Code)
                .col(Procedures::Version)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RoutingOverrides::Table)
                .col(big_pk_auto(RoutingOverrides::Id))
                .col(string(RoutingOverrides::ProvinceCode))
                .col(string_null(RoutingOverrides::ProcedureCode))
                .col(string_null(RoutingOverrides::FromUnitCode))
                .col(string(RoutingOverrides::ToUnitCode))
                .col(integer(RoutingOverrides::Priority))
                .col(timestamp_with_time_zone(RoutingOverrides::ValidFrom))
                .col(timestamp_with_time_zone_null(RoutingOverrides::ValidUntil))
                .col(text(RoutingOverrides::Reason))
                .col(boolean(RoutingOverrides::Active))
                .col(uuid_null(RoutingOverrides::CreatedBy))
                .col(timestamp_with_time_zone(RoutingOverrides::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RoutingOverrides::Table, RoutingOverrides::ProvinceCode)
                        .to(Provinces::Table, Provinces::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RoutingOverrides::Table, RoutingOverrides::ToUnitCode)
                        .to(Units::Table, Units::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_routing_overrides_province")
                .table(RoutingOverrides::Table)
                .col(RoutingOverrides::ProvinceCode)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RoutingOverrides::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Procedures::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Units::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Units {
    Table,
    Code,
    Name,
    NameEn,
    Kind,
    Level,
    ProvinceCode,
    WardCode,
    ParentCode,
    WorkingHours,
    ReceivesDossiers,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Procedures {
    Table,
    Id,
    Code,
    Version,
    ValidFrom,
    NameVi,
    NameEn,
    Field,
    Level,
    CompetentUnitKind,
    TimeLimitHours,
    SameDay,
    BoundaryIndependent,
    OnlineLevel,
    FeeVnd,
    FeeNote,
    RequiredDocuments,
    Steps,
    AtRiskRatio,
    LegalBasis,
    Active,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RoutingOverrides {
    Table,
    Id,
    ProvinceCode,
    ProcedureCode,
    FromUnitCode,
    ToUnitCode,
    Priority,
    ValidFrom,
    ValidUntil,
    Reason,
    Active,
    CreatedBy,
    CreatedAt,
}
