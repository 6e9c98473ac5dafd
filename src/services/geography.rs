//! Geography use cases.

use crate::error::{ApiError, ApiResult};
use crate::text;

/// Normalise a province code given by a client ("1" or "01") to its stored form.
pub fn province_code(raw: &str) -> ApiResult<String> {
    crate::domain::geography::ProvinceCode::parse(raw)
        .map(|c| c.to_string())
        .map_err(|_| {
            ApiError::invalid_field(
                "province",
                "invalid_province_code",
                text!("Mã tỉnh không hợp lệ.", "The province code is not valid."),
            )
        })
}

use std::sync::RwLock;

use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::geography::codes::{
    LegacyDistrictCode, LegacyProvinceCode, LegacyWardCode, ProvinceCode, WardCode,
};
use crate::domain::geography::data::*;
use crate::domain::geography::{DataQuirk, Gazetteer};
use crate::domain::routing::{UnitDirectory, UnitInfo};
use crate::repo;

fn bad(what: &str, code: &str) -> DbErr {
    DbErr::Custom(format!("stored {what} code {code:?} is not valid"))
}

/// Build the in-memory gazetteer from the database, the source of truth. Returns the data
/// quirks found (logged at start).
pub async fn load_gazetteer<C: ConnectionTrait>(
    db: &C,
) -> Result<(Gazetteer, Vec<DataQuirk>), DbErr> {
    let rows = repo::geography::all(db).await?;
    let pc = |s: &str| ProvinceCode::parse(s).map_err(|_| bad("province", s));
    let wc = |s: &str| WardCode::parse(s).map_err(|_| bad("ward", s));
    let lpc = |s: &str| LegacyProvinceCode::parse(s).map_err(|_| bad("legacy province", s));
    let ldc = |s: &str| LegacyDistrictCode::parse(s).map_err(|_| bad("legacy district", s));
    let lwc = |s: &str| LegacyWardCode::parse(s).map_err(|_| bad("legacy ward", s));
    let data = GazetteerData {
        provinces: rows
            .provinces
            .iter()
            .map(|r| {
                Ok(ProvinceRow {
                    code: pc(&r.code)?,
                    name: r.name.clone(),
                    division_type: r.division_type.clone(),
                    codename: r.codename.clone(),
                    phone_code: r.phone_code.clone().unwrap_or_default(),
                })
            })
            .collect::<Result<_, DbErr>>()?,
        wards: rows
            .wards
            .iter()
            .map(|r| {
                Ok(WardRow {
                    code: wc(&r.code)?,
                    name: r.name.clone(),
                    division_type: r.division_type.clone(),
                    codename: r.codename.clone(),
                    province_code: pc(&r.province_code)?,
                })
            })
            .collect::<Result<_, DbErr>>()?,
        legacy_provinces: rows
            .legacy_provinces
            .iter()
            .map(|r| {
                Ok(LegacyProvinceRow {
                    code: lpc(&r.code)?,
                    name: r.name.clone(),
                    division_type: r.division_type.clone(),
                })
            })
            .collect::<Result<_, DbErr>>()?,
        legacy_districts: rows
            .legacy_districts
            .iter()
            .map(|r| {
                Ok(LegacyDistrictRow {
                    code: ldc(&r.code)?,
                    name: r.name.clone(),
                    division_type: r.division_type.clone(),
                    province_code: lpc(&r.province_code)?,
                })
            })
            .collect::<Result<_, DbErr>>()?,
        legacy_wards: rows
            .legacy_wards
            .iter()
            .map(|r| {
                Ok(LegacyWardRow {
                    code: lwc(&r.code)?,
                    name: r.name.clone(),
                    division_type: r.division_type.clone(),
                    district_code: ldc(&r.district_code)?,
                    province_code: lpc(&r.province_code)?,
                })
            })
            .collect::<Result<_, DbErr>>()?,
        conversions: rows
            .conversions
            .iter()
            .map(|r| {
                Ok(ConversionRow {
                    old_ward_code: lwc(&r.old_ward_code)?,
                    old_district_code: ldc(&r.old_district_code)?,
                    old_province_code: lpc(&r.old_province_code)?,
                    new_ward_code: wc(&r.new_ward_code)?,
                    new_province_code: pc(&r.new_province_code)?,
                    partly_merged: r.partly_merged,
                })
            })
            .collect::<Result<_, DbErr>>()?,
    };
    Ok(Gazetteer::from_data(&data))
}

/// Build the unit directory from the database.
pub async fn load_directory<C: ConnectionTrait>(db: &C) -> Result<UnitDirectory, DbErr> {
    let rows = repo::units::all(db).await?;
    let mut infos = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = r.kind.parse().map_err(|_| bad("unit kind", &r.kind))?;
        infos.push(UnitInfo {
            code: r.code,
            name: r.name,
            name_en: r.name_en,
            kind,
            province_code: r.province_code,
            ward_code: r.ward_code,
            receives_dossiers: r.receives_dossiers,
            active: r.active,
            working_hours: r.working_hours,
        });
    }
    Ok(UnitDirectory::build(infos))
}

/// This instance's unit directory, replaced whole when units change (by the instance that
/// changed them, and by `jobs::refresh` for changes made through another one).
pub struct DirectoryHandle(RwLock<UnitDirectory>);

impl DirectoryHandle {
    pub fn new(directory: UnitDirectory) -> Self {
        DirectoryHandle(RwLock::new(directory))
    }

    /// The current unit directory (a cheap shared snapshot).
    pub fn current(&self) -> UnitDirectory {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reload the unit directory from the database (after a unit changed).
    pub async fn reload<C: ConnectionTrait>(&self, db: &C) -> Result<(), DbErr> {
        let fresh = load_directory(db).await?;
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }
}
