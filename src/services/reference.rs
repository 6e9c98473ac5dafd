//! Loading the reference data shipped with motcua: the official administrative units
//! (`data/vn-admin-2025/`), the standard units of every province and commune, and the
//! procedure catalog (`data/procedures.toml`).
//!
//! Idempotent and in one transaction: each data set records the checksum it was loaded
//! from, and is skipped when that checksum is already there. Rows are upserted, so a data
//! update replaces names; units and procedures are only added, never overwritten (an
//! administrator may have edited them).

use chrono::{TimeZone, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use sha2::{Digest, Sha256};

use crate::db;
use crate::domain::calendar::vn_offset;
use crate::domain::geography::data::{self as gdata, GazetteerData};
use crate::domain::procedure::{parse_catalog, ProcedureSpec, CATALOG_TOML};
use crate::domain::unit::{standard_commune_units, standard_province_units, StandardUnit};

/// The official lists, compiled into the binary from `data/vn-admin-2025/`.
pub mod files {
    pub const PROVINCES: &[u8] = include_bytes!("../../data/vn-admin-2025/provinces.csv");
    pub const WARDS: &[u8] = include_bytes!("../../data/vn-admin-2025/wards.csv");
    pub const LEGACY_PROVINCES: &[u8] =
        include_bytes!("../../data/vn-admin-2025/legacy_provinces.csv");
    pub const LEGACY_DISTRICTS: &[u8] =
        include_bytes!("../../data/vn-admin-2025/legacy_districts.csv");
    pub const LEGACY_WARDS: &[u8] = include_bytes!("../../data/vn-admin-2025/legacy_wards.csv");
    pub const WARD_CONVERSION: &[u8] =
        include_bytes!("../../data/vn-admin-2025/ward_conversion.csv");
}

/// Parse the shipped official lists.
pub fn shipped_geography() -> Result<GazetteerData, gdata::DataError> {
    Ok(GazetteerData {
        provinces: gdata::read_provinces(files::PROVINCES)?,
        wards: gdata::read_wards(files::WARDS)?,
        legacy_provinces: gdata::read_legacy_provinces(files::LEGACY_PROVINCES)?,
        legacy_districts: gdata::read_legacy_districts(files::LEGACY_DISTRICTS)?,
        legacy_wards: gdata::read_legacy_wards(files::LEGACY_WARDS)?,
        conversions: gdata::read_conversions(files::WARD_CONVERSION)?,
    })
}

/// Receives progress while seeding (a progress bar on a terminal, nothing in the server).
pub trait Progress: Send {
    fn stage(&mut self, _name: &str, _total: u64) {}
    fn advance(&mut self, _n: u64) {}
    fn finish(&mut self) {}
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {}

/// A progress bar per stage, on standard error, when standard output is a terminal;
/// nothing otherwise (logs, pipes, CI).
pub struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
}

impl TerminalProgress {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        TerminalProgress {
            bar: None,
            enabled: std::io::stdout().is_terminal(),
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TerminalProgress {
    fn stage(&mut self, name: &str, total: u64) {
        if !self.enabled {
            return;
        }
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>18} [{bar:40}] {pos:>6}/{len:6} {elapsed_precise}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// What a seeding run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    /// Data sets loaded in this run (the others were already current).
    pub loaded: Vec<&'static str>,
    pub provinces: usize,
    pub wards: usize,
    pub legacy_provinces: usize,
    pub legacy_districts: usize,
    pub legacy_wards: usize,
    pub conversions: usize,
    pub units_added: u64,
    pub procedures_added: u64,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("reference data: {0}")]
    Data(#[from] gdata::DataError),
    #[error("procedure catalog: {0}")]
    Catalog(String),
}

fn checksum(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// Checksums of the three data sets. Units depend on the geography and on the scheme of
/// standard units (bump the tag when it changes).
fn checksums() -> [(&'static str, String); 3] {
    let geo = checksum(&[
        files::PROVINCES,
        files::WARDS,
        files::LEGACY_PROVINCES,
        files::LEGACY_DISTRICTS,
        files::LEGACY_WARDS,
        files::WARD_CONVERSION,
    ]);
    let units = checksum(&[b"standard-units-v1", geo.as_bytes()]);
    let procedures = checksum(&[CATALOG_TOML.as_bytes()]);
    [
        ("geography", geo),
        ("units", units),
        ("procedures", procedures),
    ]
}

async fn loaded_checksum<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<String>, DbErr> {
    Ok(entity::reference_data::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map(|r| r.checksum))
}

/// True when every data set is loaded at its current version.
pub async fn is_current(db: &DatabaseConnection) -> Result<bool, DbErr> {
    for (name, sum) in checksums() {
        if loaded_checksum(db, name).await?.as_deref() != Some(sum.as_str()) {
            return Ok(false);
        }
    }
    Ok(true)
}

const BATCH: usize = 500;

/// Load whatever is missing or out of date, in one transaction.
pub async fn seed(
    db: &DatabaseConnection,
    default_working_hours: &str,
    progress: &mut dyn Progress,
) -> Result<SeedReport, SeedError> {
    let mut report = SeedReport::default();
    if is_current(db).await? {
        return Ok(report);
    }
    let sums = checksums();
    let txn = db::begin_write(db).await?;
    let data = shipped_geography()?;
    report.provinces = data.provinces.len();
    report.wards = data.wards.len();
    report.legacy_provinces = data.legacy_provinces.len();
    report.legacy_districts = data.legacy_districts.len();
    report.legacy_wards = data.legacy_wards.len();
    report.conversions = data.conversions.len();

    if loaded_checksum(&txn, "geography").await?.as_deref() != Some(sums[0].1.as_str()) {
        load_geography(&txn, &data, progress).await?;
        mark(&txn, "geography", &sums[0].1).await?;
        report.loaded.push("geography");
    }
    if loaded_checksum(&txn, "units").await?.as_deref() != Some(sums[1].1.as_str()) {
        report.units_added = load_units(&txn, &data, default_working_hours, progress).await?;
        mark(&txn, "units", &sums[1].1).await?;
        report.loaded.push("units");
    }
    if loaded_checksum(&txn, "procedures").await?.as_deref() != Some(sums[2].1.as_str()) {
        let catalog = parse_catalog(CATALOG_TOML).map_err(SeedError::Catalog)?;
        report.procedures_added = load_procedures(&txn, &catalog).await?;
        mark(&txn, "procedures", &sums[2].1).await?;
        report.loaded.push("procedures");
    }
    txn.commit().await?;
    progress.finish();
    Ok(report)
}

async fn mark<C: ConnectionTrait>(db: &C, name: &str, sum: &str) -> Result<(), DbErr> {
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

async fn load_geography<C: ConnectionTrait>(
    db: &C,
    data: &GazetteerData,
    progress: &mut dyn Progress,
) -> Result<(), SeedError> {
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

/// The standard units of every province and commune.
pub fn standard_units(data: &GazetteerData) -> Vec<StandardUnit> {
    let mut units = Vec::with_capacity(data.provinces.len() * 11 + data.wards.len() * 3);
    for p in &data.provinces {
        units.extend(standard_province_units(&p.code.to_string(), &p.name));
    }
    for w in &data.wards {
        units.extend(standard_commune_units(
            &w.province_code.to_string(),
            &w.code.to_string(),
            &w.name,
        ));
    }
    units
}

async fn load_units<C: ConnectionTrait>(
    db: &C,
    data: &GazetteerData,
    working_hours: &str,
    progress: &mut dyn Progress,
) -> Result<u64, SeedError> {
    use entity::units::{ActiveModel, Column, Entity};
    let units = standard_units(data);
    progress.stage("units", units.len() as u64);
    let now = Utc::now();
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

/// The instant the two-tier structure took effect: the catalog's first versions start here.
pub fn reform_day() -> chrono::DateTime<Utc> {
    vn_offset()
        .with_ymd_and_hms(2025, 7, 1, 0, 0, 0)
        .single()
        .expect("valid date")
        .with_timezone(&Utc)
}

async fn load_procedures<C: ConnectionTrait>(
    db: &C,
    catalog: &[ProcedureSpec],
) -> Result<u64, SeedError> {
    use entity::procedures::{ActiveModel, Column, Entity};
    let now = Utc::now();
    let rows: Vec<ActiveModel> = catalog
        .iter()
        .map(|p| crate::repo::procedures::active_model(p, 1, reform_day(), None, now))
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
