//! The official administrative units: the 2025 structure, the pre-2025 one, and the
//! conversion table between them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Provinces::Table)
                .col(string(Provinces::Code).primary_key())
                .col(text(Provinces::Name))
                .col(text(Provinces::DivisionType))
                .col(text(Provinces::Codename))
                .col(text_null(Provinces::PhoneCode))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Wards::Table)
                .col(string(Wards::Code).primary_key())
                .col(text(Wards::Name))
                .col(text(Wards::DivisionType))
                .col(text(Wards::Codename))
                .col(string(Wards::ProvinceCode))
                .foreign_key(
                    ForeignKey::create()
                        .from(Wards::Table, Wards::ProvinceCode)
                        .to(Provinces::Table, Provinces::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_wards_province")
                .table(Wards::Table)
                .col(Wards::ProvinceCode)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LegacyProvinces::Table)
                .col(string(LegacyProvinces::Code).primary_key())
                .col(text(LegacyProvinces::Name))
                .col(text(LegacyProvinces::DivisionType))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LegacyDistricts::Table)
                .col(string(LegacyDistricts::Code).primary_key())
                .col(text(LegacyDistricts::Name))
                .col(text(LegacyDistricts::DivisionType))
                .col(string(LegacyDistricts::ProvinceCode))
                .foreign_key(
                    ForeignKey::create()
                        .from(LegacyDistricts::Table, LegacyDistricts::ProvinceCode)
                        .to(LegacyProvinces::Table, LegacyProvinces::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(LegacyWards::Table)
                .col(string(LegacyWards::Code).primary_key())
                .col(text(LegacyWards::Name))
                .col(text(LegacyWards::DivisionType))
                .col(string(LegacyWards::DistrictCode))
                .col(string(LegacyWards::ProvinceCode))
                .foreign_key(
                    ForeignKey::create()
                        .from(LegacyWards::Table, LegacyWards::DistrictCode)
                        .to(LegacyDistricts::Table, LegacyDistricts::Code),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(LegacyWards::Table, LegacyWards::ProvinceCode)
                        .to(LegacyProvinces::Table, LegacyProvinces::Code),
                )
                .to_owned(),
        )
        .await?;
        // old_* codes carry no foreign key on purpose: the official table names some old
        // ward codes that the legacy list lacks (codes changed by earlier mergers).
        m.create_table(
            Table::create()
                .table(WardConversions::Table)
                .col(string(WardConversions::OldWardCode))
                .col(string(WardConversions::OldDistrictCode))
                .col(string(WardConversions::OldProvinceCode))
                .col(string(WardConversions::NewWardCode))
                .col(string(WardConversions::NewProvinceCode))
                .col(boolean(WardConversions::PartlyMerged))
                .primary_key(
                    Index::create()
                        .col(WardConversions::OldWardCode)
                        .col(WardConversions::NewWardCode),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WardConversions::Table, WardConversions::NewWardCode)
                        .to(Wards::Table, Wards::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ward_conversions_new")
                .table(WardConversions::Table)
                .col(WardConversions::NewWardCode)
                .to_owned(),
        )
        .await?;
        // Which version of each shipped reference data set is loaded (seeding is idempotent).
        m.create_table(
            Table::create()
                .table(ReferenceData::Table)
                .col(string(ReferenceData::Name).primary_key())
                .col(string(ReferenceData::Checksum))
                .col(timestamp_with_time_zone(ReferenceData::LoadedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ReferenceData::Table.into_iden(),
            WardConversions::Table.into_iden(),
            LegacyWards::Table.into_iden(),
            LegacyDistricts::Table.into_iden(),
            LegacyProvinces::Table.into_iden(),
            Wards::Table.into_iden(),
            Provinces::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Provinces {
    Table,
    Code,
    Name,
    DivisionType,
    Codename,
    PhoneCode,
}

#[derive(DeriveIden)]
pub enum Wards {
    Table,
    Code,
    Name,
    DivisionType,
    Codename,
    ProvinceCode,
}

#[derive(DeriveIden)]
enum LegacyProvinces {
    Table,
    Code,
    Name,
    DivisionType,
}

#[derive(DeriveIden)]
enum LegacyDistricts {
    Table,
    Code,
    Name,
    DivisionType,
    ProvinceCode,
}

#[derive(DeriveIden)]
enum LegacyWards {
    Table,
    Code,
    Name,
    DivisionType,
    DistrictCode,
    ProvinceCode,
}

#[derive(DeriveIden)]
enum WardConversions {
    Table,
    OldWardCode,
    OldDistrictCode,
    OldProvinceCode,
    NewWardCode,
    NewProvinceCode,
    PartlyMerged,
}

#[derive(DeriveIden)]
enum ReferenceData {
    Table,
    Name,
    Checksum,
    LoadedAt,
}
