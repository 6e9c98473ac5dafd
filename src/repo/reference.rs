//! The shipped reference data: which data sets are loaded (`reference_data`), and the bulk
//! writes that load them (official lists upserted, standard units and procedures only added).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use crate::domain::geography::data::GazetteerData;
use crate::domain::procedure::ProcedureSpec;
use crate::domain::unit::StandardUnit;
use crate::progress::Progress;

/// Rows per insert statement.
const BATCH: usize = 500;

/// The checksum a data set was last loaded from.
pub async fn loaded_checksum<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> Result<Option<String>, DbErr> {
    Ok(entity::reference_data::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map(|r| r.checksum))
}

/// Record that a data set is loaded at `sum`.
pub async fn mark<C: ConnectionTrait>(db: &C, name: &str, sum: &str) -> Result<(), DbErr> {
    use entity::reference_data::{ActiveModel, Column, Entity};
    Entity::insert(ActiveModel {
        name: Set(name.to_string()),
        checksum: Set(sum.to_string()),
        loaded_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(Column::Name)
            .update_columns([Column::Checksum, Column::LoadedAt])
            .to_owned(),
    )
    .exec(db)
    .await
    .map(|_| ())
}

/// Upsert rows in batches.
macro_rules! upsert_batches {
    ($db:expr, $progress:expr, $entity:path, $rows:expr, $pk:expr, $update:expr) => {{
        let rows = $rows;
        for chunk in rows.chunks(BATCH) {
            <$entity>::insert_many(chunk.to_vec())
                .on_conflict(OnConflict::columns($pk).update_columns($update).to_owned())
                .exec($db)
                .await?;
            $progress.advance(chunk.len() as u64);
        }
    }};
}

/// Upsert the official lists (names of existing rows are replaced).
pub async fn upsert_geography<C: ConnectionTrait>(
    db: &C,
    data: &GazetteerData,
    progress: &mut dyn Progress,
) -> Result<(), DbErr> {
    use entity::{
        legacy_districts as ld, legacy_provinces as lp, legacy_wards as lw, provinces as p,
        ward_conversions as wc, wards as w,
    };

    progress.stage("provinces", data.provinces.len() as u64);
    let rows: Vec<p::ActiveModel> = data
        .provinces
        .iter()
        .map(|r| p::ActiveModel {
            code: Set(r.code.to_string()),
            name: Set(r.name.clone()),
            division_type: Set(r.division_type.clone()),
            codename: Set(r.codename.clone()),
            phone_code: Set(Some(r.phone_code.clone()).filter(|s| !s.is_empty())),
        })
        .collect();
    upsert_batches!(
        db,
        progress,
        p::Entity,
        rows,
        [p::Column::Code],
        [
            p::Column::Name,
            p::Column::DivisionType,
            p::Column::Codename,
            p::Column::PhoneCode
        ]
    );

    progress.stage("wards", data.wards.len() as u64);
    let rows: Vec<w::ActiveModel> = data
        .wards
        .iter()
        .map(|r| w::ActiveModel {
            code: Set(r.code.to_string()),
            name: Set(r.name.clone()),
            division_type: Set(r.division_type.clone()),
            codename: Set(r.codename.clone()),
            province_code: Set(r.province_code.to_string()),
        })
        .collect();
    upsert_batches!(
        db,
        progress,
        w::Entity,
        rows,
        [w::Column::Code],
        [
            w::Column::Name,
            w::Column::DivisionType,
            w::Column::Codename,
            w::Column::ProvinceCode
        ]
    );

    progress.stage("legacy provinces", data.legacy_provinces.len() as u64);
    let rows: Vec<lp::ActiveModel> = data
        .legacy_provinces
        .iter()
        .map(|r| lp::ActiveModel {
            code: Set(r.code.to_string()),
            name: Set(r.name.clone()),
            division_type: Set(r.division_type.clone()),
        })
        .collect();
    upsert_batches!(
        db,
        progress,
        lp::Entity,
        rows,
        [lp::Column::Code],
        [lp::Column::Name, lp::Column::DivisionType]
    );

    progress.stage("legacy districts", data.legacy_districts.len() as u64);
    let rows: Vec<ld::ActiveModel> = data
        .legacy_districts
        .iter()
        .map(|r| ld::ActiveModel {
            code: Set(r.code.to_string()),
            name: Set(r.name.clone()),
            division_type: Set(r.division_type.clone()),
            province_code: Set(r.province_code.to_string()),
        })
        .collect();
    upsert_batches!(
        db,
        progress,
        ld::Entity,
        rows,
        [ld::Column::Code],
        [
            ld::Column::Name,
            ld::Column::DivisionType,
            ld::Column::ProvinceCode
        ]
    );

    progress.stage("legacy wards", data.legacy_wards.len() as u64);
    let rows: Vec<lw::ActiveModel> = data
        .legacy_wards
        .iter()
        .map(|r| lw::ActiveModel {
            code: Set(r.code.to_string()),
            name: Set(r.name.clone()),
            division_type: Set(r.division_type.clone()),
            district_code: Set(r.district_code.to_string()),
            province_code: Set(r.province_code.to_string()),
        })
        .collect();
    upsert_batches!(
        db,
        progress,
        lw::Entity,
        rows,
        [lw::Column::Code],
        [
            lw::Column::Name,
            lw::Column::DivisionType,
            lw::Column::DistrictCode,
            lw::Column::ProvinceCode
        ]
    );

    progress.stage("ward conversions", data.conversions.len() as u64);
    let rows: Vec<wc::ActiveModel> = data
        .conversions
        .iter()
        .map(|r| wc::ActiveModel {
            old_ward_code: Set(r.old_ward_code.to_string()),
            old_district_code: Set(r.old_district_code.to_string()),
            old_province_code: Set(r.old_province_code.to_string()),
            new_ward_code: Set(r.new_ward_code.to_string()),
            new_province_code: Set(r.new_province_code.to_string()),
            partly_merged: Set(r.partly_merged),
        })
        .collect();
    upsert_batches!(
        db,
        progress,
        wc::Entity,
        rows,
        [wc::Column::OldWardCode, wc::Column::NewWardCode],
        [
            wc::Column::OldDistrictCode,
            wc::Column::OldProvinceCode,
            wc::Column::NewProvinceCode,
            wc::Column::PartlyMerged
        ]
    );
    Ok(())
}

/// Insert the standard units that are not there yet (an administrator may have edited the
/// others); returns how many were added.
pub async fn insert_units<C: ConnectionTrait>(
    db: &C,
    units: &[StandardUnit],
    working_hours: &str,
    now: DateTime<Utc>,
    progress: &mut dyn Progress,
) -> Result<u64, DbErr> {
    use entity::units::{ActiveModel, Column, Entity};
    progress.stage("units", units.len() as u64);
    let mut added = 0;
    for chunk in units.chunks(BATCH) {
        let rows: Vec<ActiveModel> = chunk
            .iter()
            .map(|u| ActiveModel {
                code: Set(u.code.to_string()),
                name: Set(u.name.clone()),
                name_en: Set(u.name_en.clone()),
                kind: Set(u.kind.as_str().to_string()),
                level: Set(u.kind.level().as_str().to_string()),
                province_code: Set(u.province_code.clone()),
                ward_code: Set(u.ward_code.clone()),
                parent_code: Set(u.parent_code.as_ref().map(|c| c.to_string())),
                working_hours: Set(working_hours.to_string()),
                receives_dossiers: Set(u.kind.receives_dossiers()),
                active: Set(true),
                national_code: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .collect();
        let res = Entity::insert_many(rows)
            .on_conflict(OnConflict::column(Column::Code).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        added += res;
        progress.advance(chunk.len() as u64);
    }
    Ok(added)
}

/// Insert version 1 of each procedure of the catalog not there yet, valid from
/// `valid_from`; returns how many were added.
pub async fn insert_procedures<C: ConnectionTrait>(
    db: &C,
    catalog: &[ProcedureSpec],
    valid_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use entity::procedures::{ActiveModel, Column, Entity};
    let rows: Vec<ActiveModel> = catalog
        .iter()
        .map(|p| super::procedures::active_model(p, 1, valid_from, None, now))
        .collect();
    let added = Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([Column::Code, Column::Version])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(added)
}
