//! Row structs for the six gazetteer tables and CSV parsers for `data/vn-admin-2025/*.csv`.
//!
//! The rows are plain data with public fields: the service may load them from the database
//! instead and pass them to [`Gazetteer::build`](super::Gazetteer::build). The parsers accept any
//! `std::io::Read`, look columns up by header name (order does not matter, extra columns are
//! ignored) and report the file, line and column of a bad field.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::codes::{
    CodeError, LegacyDistrictCode, LegacyProvinceCode, LegacyWardCode, ProvinceCode, WardCode,
};

/// A 2025 province (`provinces.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvinceRow {
    pub code: ProvinceCode,
    /// Full name with its type, e.g. "Thành phố Hà Nội".
    pub name: String,
    /// "tỉnh" or "thành phố trung ương".
    pub division_type: String,
    /// ASCII slug, e.g. "ha_noi".
    pub codename: String,
    /// Telephone area code, as text ("24").
    pub phone_code: String,
}

/// A 2025 commune-level unit: phường, xã or đặc khu (`wards.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WardRow {
    pub code: WardCode,
    pub name: String,
    pub division_type: String,
    pub codename: String,
    pub province_code: ProvinceCode,
}

/// A pre-2025 province (`legacy_provinces.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyProvinceRow {
    pub code: LegacyProvinceCode,
    pub name: String,
    pub division_type: String,
}

/// A pre-2025 district: quận, huyện, thị xã, thành phố (`legacy_districts.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyDistrictRow {
    pub code: LegacyDistrictCode,
    pub name: String,
    pub division_type: String,
    pub province_code: LegacyProvinceCode,
}

/// A pre-2025 ward: phường, xã, thị trấn (`legacy_wards.csv`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyWardRow {
    pub code: LegacyWardCode,
    pub name: String,
    pub division_type: String,
    pub district_code: LegacyDistrictCode,
    pub province_code: LegacyProvinceCode,
}

/// One row of the official conversion table (`ward_conversion.csv`): old ward → one new ward.
/// An old ward split across several new wards has one row per successor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionRow {
    pub old_ward_code: LegacyWardCode,
    pub old_district_code: LegacyDistrictCode,
    pub old_province_code: LegacyProvinceCode,
    pub new_ward_code: WardCode,
    pub new_province_code: ProvinceCode,
    /// The old ward was split: only part of it went to this new ward.
    pub partly_merged: bool,
}

/// A CSV file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{file}: {source}")]
    Csv {
        file: String,
        #[source]
        source: csv::Error,
    },
    #[error("{file}: cannot open: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: missing column `{column}`")]
    MissingColumn { file: String, column: &'static str },
    #[error("{file}, line {line}, column `{column}`: {message}")]
    Field {
        file: String,
        line: u64,
        column: &'static str,
        message: String,
    },
}

/// Reads records by column name and turns field errors into [`DataError::Field`].
struct Table<R: Read> {
    file: String,
    reader: csv::Reader<R>,
    headers: csv::StringRecord,
}

struct Record<'a> {
    file: &'a str,
    line: u64,
    headers: &'a csv::StringRecord,
    record: csv::StringRecord,
}

impl<R: Read> Table<R> {
    fn new(file: &str, rdr: R) -> Result<Self, DataError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(rdr);
        let headers = reader
            .headers()
            .map_err(|source| DataError::Csv {
                file: file.to_string(),
                source,
            })?
            .clone();
        Ok(Self {
            file: file.to_string(),
            reader,
            headers,
        })
    }

    fn require(&self, columns: &[&'static str]) -> Result<(), DataError> {
        for &column in columns {
            if !self
                .headers
                .iter()
                .any(|h| h.trim_start_matches('\u{feff}') == column)
            {
                return Err(DataError::MissingColumn {
                    file: self.file.clone(),
                    column,
                });
            }
        }
        Ok(())
    }

    fn rows<T>(
        mut self,
        columns: &[&'static str],
        mut f: impl FnMut(&Record<'_>) -> Result<T, DataError>,
    ) -> Result<Vec<T>, DataError> {
        self.require(columns)?;
        let mut out = Vec::new();
        for result in self.reader.records() {
            let record = result.map_err(|source| DataError::Csv {
                file: self.file.clone(),
                source,
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let rec = Record {
                file: &self.file,
                line,
                headers: &self.headers,
                record,
            };
            out.push(f(&rec)?);
        }
        Ok(out)
    }
}

impl Record<'_> {
    fn text(&self, column: &'static str) -> Result<&str, DataError> {
        let i = self
            .headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == column)
            .ok_or_else(|| DataError::MissingColumn {
                file: self.file.to_string(),
                column,
            })?;
        Ok(self.record.get(i).unwrap_or(""))
    }

    fn string(&self, column: &'static str) -> Result<String, DataError> {
        self.text(column).map(str::to_string)
    }

    fn non_empty(&self, column: &'static str) -> Result<String, DataError> {
        let s = self.text(column)?;
        if s.is_empty() {
            return Err(self.error(column, "is empty".to_string()));
        }
        Ok(s.to_string())
    }

    fn code<T>(
        &self,
        column: &'static str,
        parse: impl Fn(&str) -> Result<T, CodeError>,
    ) -> Result<T, DataError> {
        parse(self.text(column)?).map_err(|e| self.error(column, e.reason()))
    }

    fn flag(&self, column: &'static str) -> Result<bool, DataError> {
        match self.text(column)? {
            "0" | "false" | "False" | "FALSE" | "" => Ok(false),
            "1" | "true" | "True" | "TRUE" => Ok(true),
            other => Err(self.error(column, format!("expected 0 or 1, got {other:?}"))),
        }
    }

    fn error(&self, column: &'static str, message: String) -> DataError {
        DataError::Field {
            file: self.file.to_string(),
            line: self.line,
            column,
            message,
        }
    }
}

/// Parse `provinces.csv` (code, name, division_type, codename, phone_code).
pub fn read_provinces<R: Read>(rdr: R) -> Result<Vec<ProvinceRow>, DataError> {
    Table::new("provinces.csv", rdr)?.rows(
        &["code", "name", "division_type", "codename", "phone_code"],
        |r| {
            Ok(ProvinceRow {
                code: r.code("code", ProvinceCode::parse)?,
                name: r.non_empty("name")?,
                division_type: r.string("division_type")?,
                codename: r.string("codename")?,
                phone_code: r.string("phone_code")?,
            })
        },
    )
}

/// Parse `wards.csv` (code, name, division_type, codename, province_code).
pub fn read_wards<R: Read>(rdr: R) -> Result<Vec<WardRow>, DataError> {
    Table::new("wards.csv", rdr)?.rows(
        &["code", "name", "division_type", "codename", "province_code"],
        |r| {
            Ok(WardRow {
                code: r.code("code", WardCode::parse)?,
                name: r.non_empty("name")?,
                division_type: r.string("division_type")?,
                codename: r.string("codename")?,
                province_code: r.code("province_code", ProvinceCode::parse)?,
            })
        },
    )
}

/// Parse `legacy_provinces.csv` (code, name, division_type).
pub fn read_legacy_provinces<R: Read>(rdr: R) -> Result<Vec<LegacyProvinceRow>, DataError> {
    Table::new("legacy_provinces.csv", rdr)?.rows(&["code", "name", "division_type"], |r| {
        Ok(LegacyProvinceRow {
            code: r.code("code", LegacyProvinceCode::parse)?,
            name: r.non_empty("name")?,
            division_type: r.string("division_type")?,
        })
    })
}

/// Parse `legacy_districts.csv` (code, name, division_type, province_code).
pub fn read_legacy_districts<R: Read>(rdr: R) -> Result<Vec<LegacyDistrictRow>, DataError> {
    Table::new("legacy_districts.csv", rdr)?.rows(
        &["code", "name", "division_type", "province_code"],
        |r| {
            Ok(LegacyDistrictRow {
                code: r.code("code", LegacyDistrictCode::parse)?,
                name: r.non_empty("name")?,
                division_type: r.string("division_type")?,
                province_code: r.code("province_code", LegacyProvinceCode::parse)?,
            })
        },
    )
}

/// Parse `legacy_wards.csv` (code, name, division_type, district_code, province_code).
pub fn read_legacy_wards<R: Read>(rdr: R) -> Result<Vec<LegacyWardRow>, DataError> {
    Table::new("legacy_wards.csv", rdr)?.rows(
        &[
            "code",
            "name",
            "division_type",
            "district_code",
            "province_code",
        ],
        |r| {
            Ok(LegacyWardRow {
                code: r.code("code", LegacyWardCode::parse)?,
                name: r.non_empty("name")?,
                division_type: r.string("division_type")?,
                district_code: r.code("district_code", LegacyDistrictCode::parse)?,
                province_code: r.code("province_code", LegacyProvinceCode::parse)?,
            })
        },
    )
}

/// Parse `ward_conversion.csv` (old_ward_code, old_district_code, old_province_code,
/// new_ward_code, new_province_code, partly_merged).
pub fn read_conversions<R: Read>(rdr: R) -> Result<Vec<ConversionRow>, DataError> {
    Table::new("ward_conversion.csv", rdr)?.rows(
        &[
            "old_ward_code",
            "old_district_code",
            "old_province_code",
            "new_ward_code",
            "new_province_code",
            "partly_merged",
        ],
        |r| {
            Ok(ConversionRow {
                old_ward_code: r.code("old_ward_code", LegacyWardCode::parse)?,
                old_district_code: r.code("old_district_code", LegacyDistrictCode::parse)?,
                old_province_code: r.code("old_province_code", LegacyProvinceCode::parse)?,
                new_ward_code: r.code("new_ward_code", WardCode::parse)?,
                new_province_code: r.code("new_province_code", ProvinceCode::parse)?,
                partly_merged: r.flag("partly_merged")?,
            })
        },
    )
}

/// All six tables, as read from a directory or from the database.
#[derive(Debug, Clone, Default)]
pub struct GazetteerData {
    pub provinces: Vec<ProvinceRow>,
    pub wards: Vec<WardRow>,
    pub legacy_provinces: Vec<LegacyProvinceRow>,
    pub legacy_districts: Vec<LegacyDistrictRow>,
    pub legacy_wards: Vec<LegacyWardRow>,
    pub conversions: Vec<ConversionRow>,
}

impl GazetteerData {
    /// Read the six CSV files (`provinces.csv`, `wards.csv`, `legacy_provinces.csv`,
    /// `legacy_districts.csv`, `legacy_wards.csv`, `ward_conversion.csv`) from `dir`.
    pub fn read_dir(dir: impl AsRef<Path>) -> Result<Self, DataError> {
        let dir = dir.as_ref();
        let open = |name: &str| {
            std::fs::File::open(dir.join(name))
                .map(std::io::BufReader::new)
                .map_err(|source| DataError::Io {
                    file: dir.join(name).display().to_string(),
                    source,
                })
        };
        Ok(Self {
            provinces: read_provinces(open("provinces.csv")?)?,
            wards: read_wards(open("wards.csv")?)?,
            legacy_provinces: read_legacy_provinces(open("legacy_provinces.csv")?)?,
            legacy_districts: read_legacy_districts(open("legacy_districts.csv")?)?,
            legacy_wards: read_legacy_wards(open("legacy_wards.csv")?)?,
            conversions: read_conversions(open("ward_conversion.csv")?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_by_header_name() {
        let csv = "province_code,codename,code,name,division_type\n1,phuong_ba_dinh,4,Phường Ba Đình,phường\n";
        let rows = read_wards(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].code.to_string(), "00004");
        assert_eq!(rows[0].province_code.to_string(), "01");
        assert_eq!(rows[0].name, "Phường Ba Đình");
    }

    #[test]
    fn reports_bad_fields_with_line_and_column() {
        let csv = "code,name,division_type\n1,Thành phố Hà Nội,x\nabc,Tỉnh Y,tỉnh\n";
        let err = read_legacy_provinces(csv.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("legacy_provinces.csv, line 3, column `code`"),
            "{msg}"
        );
        let csv = "code,name\n1,X\n";
        let err = read_legacy_provinces(csv.as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            DataError::MissingColumn {
                column: "division_type",
                ..
            }
        ));
        let csv = "old_ward_code,old_district_code,old_province_code,new_ward_code,new_province_code,partly_merged\n1,1,1,97,1,2\n";
        let err = read_conversions(csv.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("partly_merged"), "{err}");
    }

    #[test]
    fn parses_conversion_flags() {
        let csv = "old_ward_code,old_district_code,old_province_code,new_ward_code,new_province_code,partly_merged\n1,1,1,97,1,0\n91,3,1,97,1,1\n";
        let rows = read_conversions(csv.as_bytes()).unwrap();
        assert!(!rows[0].partly_merged);
        assert!(rows[1].partly_merged);
    }
}
