//! Gazetteer and address resolution for the two-tier local government in force since
//! 1 July 2025 (34 provinces, 3,321 communes, no districts), with the pre-2025 three-tier
//! structure (63 provinces, 696 districts, 10,051 wards) and the official conversion table.
//!
//! Pure and in-memory: build a [`Gazetteer`] once at start (from the CSV files or from rows the
//! database layer loads), log the [`DataQuirk`]s it reports, share it in an `Arc`, and call
//! [`Gazetteer::resolve`] on the hot path.
//!
//! ```no_run
//! use motcua::domain::geography::{AddressInput, Gazetteer, GazetteerData, Status};
//! let data = GazetteerData::read_dir("data/vn-admin-2025").unwrap();
//! let (gazetteer, quirks) = Gazetteer::from_data(&data);
//! for q in &quirks { eprintln!("gazetteer: {q}"); }
//! let r = gazetteer
//!     .resolve(&AddressInput::Text("Phường Phúc Xá, Quận Ba Đình, Hà Nội".into()))
//!     .unwrap();
//! assert_eq!(r.status, Status::Resolved);
//! ```
//!
//! Modules: [`codes`] (code newtypes), [`data`] (row structs, CSV parsing), [`normalize`]
//! (names), [`index`] (the gazetteer), [`resolve`] (addresses), [`explain`] (explanations).

pub mod codes;
pub mod data;
pub mod explain;
pub mod index;
pub mod normalize;
pub mod resolve;

#[cfg(test)]
mod tests;

pub use crate::domain::lang::Lang;
pub use codes::{
    CodeError, CodeErrorKind, LegacyDistrictCode, LegacyProvinceCode, LegacyWardCode, ProvinceCode,
    WardCode,
};
pub use data::{
    read_conversions, read_legacy_districts, read_legacy_provinces, read_legacy_wards,
    read_provinces, read_wards, ConversionRow, DataError, GazetteerData, LegacyDistrictRow,
    LegacyProvinceRow, LegacyWardRow, ProvinceRow, WardRow,
};
pub use explain::Explanation;
pub use index::{
    DataQuirk, DivisionType, Gazetteer, LegacyDistrict, LegacyProvince, LegacyWard, Name, Province,
    ProvinceMatches, Successor, Ward,
};
pub use normalize::{name_key, normalize, province_alias, TypePrefix};
pub use resolve::{
    AddressError, AddressInput, Candidate, Era, LegacyWardRef, Resolution, Status, Via, WardRef,
    MAX_CANDIDATES, MAX_INPUT_CHARS, MAX_SUGGESTIONS,
};
