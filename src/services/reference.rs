//! Loading the reference data shipped with motcua: the official administrative units
//! (`data/vn-admin-2025/`), the standard units of every province and commune, and the
//! procedure catalog (`data/procedures.toml`).
//!
//! Idempotent and in one transaction: each data set records the checksum it was loaded
//! from, and is skipped when that checksum is already there. Rows are upserted, so a data
//! update replaces names; units and procedures are only added, never overwritten (an
//! administrator may have edited them).

use chrono::{TimeZone, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

use crate::domain::calendar::vn_offset;
use crate::domain::geography::data::{self as gdata, GazetteerData};
use crate::domain::procedure::{parse_catalog, CATALOG_TOML};
use crate::domain::unit::{standard_commune_units, standard_province_units, StandardUnit};
use crate::{db, repo};

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

/// Moved to `crate::progress` (the repositories report to it too); named here still by
/// `services::synthetic`.
pub use crate::progress::Progress;

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
    /// Shipped procedures whose catalog entry changed (a corrected limit, fee or legal
    /// basis): each got a new version in force from this run.
    pub procedures_corrected: u64,
    /// Provinces given their first list of boundary-independent procedures.
    pub province_lists_added: u64,
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
/// standard units (bump the tag when it changes: v2 added each province's social insurance
/// office, which issues the health-insurance cards of the birth bundle).
fn checksums() -> [(&'static str, String); 4] {
    let geo = checksum(&[
        files::PROVINCES,
        files::WARDS,
        files::LEGACY_PROVINCES,
        files::LEGACY_DISTRICTS,
        files::LEGACY_WARDS,
        files::WARD_CONVERSION,
    ]);
    let units = checksum(&[b"standard-units-v2", geo.as_bytes()]);
    let procedures = checksum(&[CATALOG_TOML.as_bytes()]);
    let lists = checksum(&[
        b"province-lists-v1",
        geo.as_bytes(),
        CATALOG_TOML.as_bytes(),
    ]);
    [
        ("geography", geo),
        ("units", units),
        ("procedures", procedures),
        ("province_lists", lists),
    ]
}

/// True when every data set is loaded at its current version.
pub async fn is_current(db: &DatabaseConnection) -> Result<bool, DbErr> {
    for (name, sum) in checksums() {
        if repo::reference::loaded_checksum(db, name).await?.as_deref() != Some(sum.as_str()) {
            return Ok(false);
        }
    }
    Ok(true)
}

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

    if repo::reference::loaded_checksum(&txn, "geography")
        .await?
        .as_deref()
        != Some(sums[0].1.as_str())
    {
        repo::reference::upsert_geography(&txn, &data, progress).await?;
        repo::reference::mark(&txn, "geography", &sums[0].1).await?;
        report.loaded.push("geography");
    }
    if repo::reference::loaded_checksum(&txn, "units")
        .await?
        .as_deref()
        != Some(sums[1].1.as_str())
    {
        report.units_added = repo::reference::insert_units(
            &txn,
            &standard_units(&data),
            default_working_hours,
            Utc::now(),
            progress,
        )
        .await?;
        repo::reference::mark(&txn, "units", &sums[1].1).await?;
        report.loaded.push("units");
    }
    if repo::reference::loaded_checksum(&txn, "procedures")
        .await?
        .as_deref()
        != Some(sums[2].1.as_str())
    {
        let catalog = parse_catalog(CATALOG_TOML).map_err(SeedError::Catalog)?;
        let now = Utc::now();
        report.procedures_added =
            repo::reference::insert_procedures(&txn, &catalog, reform_day(), now).await?;
        report.procedures_corrected = correct_procedures(&txn, &catalog, now).await?;
        repo::reference::mark(&txn, "procedures", &sums[2].1).await?;
        report.loaded.push("procedures");
    }
    if repo::reference::loaded_checksum(&txn, "province_lists")
        .await?
        .as_deref()
        != Some(sums[3].1.as_str())
    {
        let catalog = parse_catalog(CATALOG_TOML).map_err(SeedError::Catalog)?;
        report.province_lists_added = seed_province_lists(&txn, &data, &catalog).await?;
        repo::reference::mark(&txn, "province_lists", &sums[3].1).await?;
        report.loaded.push("province_lists");
    }
    txn.commit().await?;
    progress.finish();
    Ok(report)
}

/// A corrected catalog reaches a running deployment: where a shipped procedure's newest
/// version was itself shipped (no administrator made it) and differs from the catalog, the
/// catalog's entry becomes a new version in force from `now`. Dossiers keep the version they
/// were filed under; a version an administrator made is never overridden.
async fn correct_procedures<C: sea_orm::ConnectionTrait>(
    db: &C,
    catalog: &[crate::domain::procedure::ProcedureSpec],
    now: chrono::DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut corrected = 0;
    for spec in catalog {
        let versions = repo::procedures::versions(db, &spec.code).await?;
        let Some(newest) = versions.first() else {
            continue;
        };
        if newest.created_by.is_some() || repo::procedures::spec_of(newest)? == *spec {
            continue;
        }
        let valid_from = now.max(newest.valid_from);
        repo::procedures::insert_version(
            db,
            spec,
            newest.version + 1,
            valid_from,
            newest.active,
            None,
            now,
        )
        .await?;
        tracing::info!(procedure.code = %spec.code, procedure.version = newest.version + 1, "shipped procedure corrected");
        corrected += 1;
    }
    Ok(corrected)
}

/// Every province that has not published its list of procedures received and returned
/// anywhere in the province (Decree 118/2025/NĐ-CP) starts from the catalog's
/// national flag, in force from the reform; its administrators then edit it. A province's
/// own list is never overwritten.
async fn seed_province_lists<C: sea_orm::ConnectionTrait>(
    db: &C,
    data: &GazetteerData,
    catalog: &[crate::domain::procedure::ProcedureSpec],
) -> Result<u64, DbErr> {
    use crate::domain::province_lists::{Entries, ListKind};
    let entries = Entries::Procedures(
        catalog
            .iter()
            .filter(|p| p.boundary_independent)
            .map(|p| p.code.clone())
            .collect(),
    );
    let now = Utc::now();
    let mut added = 0;
    for p in &data.provinces {
        let province = p.code.to_string();
        if repo::province_lists::exists(db, &province, ListKind::BoundaryIndependent).await? {
            continue;
        }
        repo::province_lists::insert(
            db,
            repo::province_lists::NewVersion {
                province: &province,
                kind: ListKind::BoundaryIndependent,
                valid_from: reform_day(),
                entries: &entries,
                note: Some(
                    "Danh mục khởi tạo từ danh mục thủ tục quốc gia (national catalog)".into(),
                ),
                created_by: None,
                created_at: now,
            },
        )
        .await?;
        added += 1;
    }
    Ok(added)
}

/// The standard units of every province and commune.
pub fn standard_units(data: &GazetteerData) -> Vec<StandardUnit> {
    let mut units = Vec::with_capacity(data.provinces.len() * 12 + data.wards.len() * 3);
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

/// The instant the two-tier structure took effect: the catalog's first versions start here.
pub fn reform_day() -> chrono::DateTime<Utc> {
    vn_offset()
        .with_ymd_and_hms(2025, 7, 1, 0, 0, 0)
        .single()
        .expect("valid date")
        .with_timezone(&Utc)
}
