//! Our dossier in the national public-service portal's shape (`DongBoHoSoMC` for a dossier,
//! `CapNhatTienDoHoSoMC` for its progress): field names as the portal's integration names
//! them, dates as `yyyyMMddHHmmss` in Asia/Ho_Chi_Minh, codes as the portal knows them (the
//! receiving unit's `national_code` in `MaHoSo`, the procedure's national code in `MaTTHC`).
//!
//! Pure: the service hands in the dossier, its procedure's names, the units' national
//! codes, its documents and its history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::calendar::vn_offset;
use crate::domain::dossier::{Dossier, ReceiptPurpose};
use crate::domain::lifecycle::Status;

/// `yyyyMMddHHmmss` in Vietnam's time.
pub fn national_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&vn_offset())
        .format("%Y%m%d%H%M%S")
        .to_string()
}

fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(national_time)
}

/// A file of the dossier.
#[derive(Debug, Clone)]
pub struct FileRef {
    /// The component (or `result`).
    pub kind: String,
    /// The component's name in the procedure, or the kind.
    pub title: String,
    pub file_name: String,
    /// The content address (sha256), as the file's id.
    pub sha256: String,
}

/// An event of the dossier's history, as the mapping reads it.
#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub action: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    pub data: Value,
    /// The status the step left the dossier in (the event's `to_status`).
    pub status: String,
}

/// What the mapping needs besides the dossier.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub procedure_name: &'a str,
    pub field_name: &'a str,
    /// The national catalogue's code of the field, when the procedure version has one.
    pub field_code: Option<&'a str>,
    /// The receiving unit's national agency code.
    pub receiving_national_code: Option<&'a str>,
    /// The handling unit's national agency code, or its name when it has none.
    pub handling_unit: Option<&'a str>,
    pub files: &'a [FileRef],
    pub history: &'a [HistoryItem],
}

/// Why a dossier cannot be sent yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the receiving unit {0} has no national agency code (units.national_code)")]
    NoNationalCode(String),
    #[error("the dossier has no code yet")]
    NotNumbered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaiLieuNop {
    pub tep_dinh_kem_id: String,
    pub ten_tai_lieu: String,
    pub ten_tep_dinh_kem: String,
    pub ma_thanh_phan_ho_so: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LePhi {
    pub ten_phi_le_phi: String,
    /// 1 fee (lệ phí) of the procedure, 2 an amount asked for later.
    pub loai_phi_le_phi: u8,
    pub muc_phi: i64,
    pub so_bien_lai: String,
    pub ngay_nop: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HoSoBoSung {
    pub ngay_yeu_cau: String,
    pub noi_dung_yeu_cau: String,
    /// When the supplement came back (none: still awaited).
    pub ngay_tiep_nhan_bo_sung: Option<String>,
    /// The deadline before and after the clock was stopped for the supplement.
    pub ngay_hen_tra_truoc: Option<String>,
    pub ngay_hen_tra_moi: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GiayToKetQua {
    pub giay_to_id: String,
    pub ten_giay_to: String,
    pub ten_tep: String,
}

/// `DongBoHoSoMC`: the whole dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DongBoHoSo {
    #[serde(rename = "MaHoSo")]
    pub ma_ho_so: String,
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    #[serde(rename = "TenTTHC")]
    pub ten_tthc: String,
    #[serde(rename = "MaLinhVuc")]
    pub ma_linh_vuc: String,
    #[serde(rename = "TenLinhVuc")]
    pub ten_linh_vuc: String,
    #[serde(rename = "ChuHoSo")]
    pub chu_ho_so: String,
    /// 1 a citizen, 2 a business.
    #[serde(rename = "LoaiDoiTuong")]
    pub loai_doi_tuong: u8,
    /// The citizen's ID number, or the business's tax code.
    #[serde(rename = "MaDoiTuong")]
    pub ma_doi_tuong: Option<String>,
    #[serde(rename = "SoDienThoai")]
    pub so_dien_thoai: Option<String>,
    #[serde(rename = "Email")]
    pub email: Option<String>,
    #[serde(rename = "TrichYeuHoSo")]
    pub trich_yeu_ho_so: String,
    #[serde(rename = "NgayTiepNhan")]
    pub ngay_tiep_nhan: Option<String>,
    #[serde(rename = "NgayHenTra")]
    pub ngay_hen_tra: Option<String>,
    /// 1–10 (`Status::national`).
    #[serde(rename = "TrangThaiHoSo")]
    pub trang_thai_ho_so: u8,
    #[serde(rename = "NgayTra")]
    pub ngay_tra: Option<String>,
    /// 1 at the counter, 2 online, 3 by post.
    #[serde(rename = "HinhThuc")]
    pub hinh_thuc: u8,
    #[serde(rename = "DonViXuLy")]
    pub don_vi_xu_ly: Option<String>,
    #[serde(rename = "TaiLieuNop")]
    pub tai_lieu_nop: Vec<TaiLieuNop>,
    #[serde(rename = "DanhSachLePhi")]
    pub danh_sach_le_phi: Vec<LePhi>,
    #[serde(rename = "DanhSachHoSoBoSung")]
    pub danh_sach_ho_so_bo_sung: Vec<HoSoBoSung>,
    #[serde(rename = "DanhSachGiayToKetQua")]
    pub danh_sach_giay_to_ket_qua: Vec<GiayToKetQua>,
}

/// `CapNhatTienDoHoSoMC`: one step of a dossier already sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapNhatTienDo {
    #[serde(rename = "MaHoSo")]
    pub ma_ho_so: String,
    #[serde(rename = "TrangThaiHoSo")]
    pub trang_thai_ho_so: u8,
    #[serde(rename = "NgayHenTra")]
    pub ngay_hen_tra: Option<String>,
    #[serde(rename = "NgayTra")]
    pub ngay_tra: Option<String>,
    #[serde(rename = "DonViXuLy")]
    pub don_vi_xu_ly: Option<String>,
    /// When the step happened.
    #[serde(rename = "ThoiDiemXuLy")]
    pub thoi_diem_xu_ly: String,
    /// What happened (our event's name) and why, when a reason was given.
    #[serde(rename = "NoiDungXuLy")]
    pub noi_dung_xu_ly: String,
    #[serde(rename = "DanhSachHoSoBoSung")]
    pub danh_sach_ho_so_bo_sung: Vec<HoSoBoSung>,
    #[serde(rename = "DanhSachGiayToKetQua")]
    pub danh_sach_giay_to_ket_qua: Vec<GiayToKetQua>,
}

/// `MaHoSo`: our code with the receiving unit's national agency code in place of ours
/// (`01.00004.TTPVHCC-251204-0001` → `000.00.31.H26-251204-0001`).
pub fn national_dossier_code(
    d: &Dossier,
    national_unit: Option<&str>,
) -> Result<String, MappingError> {
    let code = d.code.as_ref().ok_or(MappingError::NotNumbered)?;
    let national = national_unit
        .filter(|n| !n.is_empty())
        .ok_or_else(|| MappingError::NoNationalCode(d.receiving_unit.to_string()))?;
    let rest = &code.as_str()[code.unit().len()..];
    Ok(format!("{national}{rest}"))
}

/// The field's code when the procedure version has none of the national catalogue's
/// (`field_code`): the portal names fields by code, ours are names, so the name folded to
/// ASCII capitals (`Hộ tịch` → `HO_TICH`).
pub fn field_code(field: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in field.nfd() {
        let c = match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if c.is_whitespace() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn data_time(data: &Value, key: &str) -> Option<DateTime<Utc>> {
    data.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The supplement requests of the history, each with when it came back and how the
/// deadline moved.
pub fn supplements(history: &[HistoryItem]) -> Vec<HoSoBoSung> {
    let mut out: Vec<HoSoBoSung> = Vec::new();
    for e in history {
        match e.action.as_str() {
            "request_supplement" => {
                let components: Vec<String> = e
                    .data
                    .get("components")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut content = e.reason.clone().unwrap_or_default();
                if !components.is_empty() {
                    if !content.is_empty() {
                        content.push_str(": ");
                    }
                    content.push_str(&components.join(", "));
                }
                out.push(HoSoBoSung {
                    ngay_yeu_cau: national_time(e.at),
                    noi_dung_yeu_cau: content,
                    ngay_tiep_nhan_bo_sung: None,
                    ngay_hen_tra_truoc: None,
                    ngay_hen_tra_moi: None,
                });
            }
            "submit_supplement" => {
                if let Some(last) = out
                    .iter_mut()
                    .rev()
                    .find(|s| s.ngay_tiep_nhan_bo_sung.is_none())
                {
                    last.ngay_tiep_nhan_bo_sung = Some(national_time(e.at));
                    last.ngay_hen_tra_truoc = opt_time(data_time(&e.data, "previous_due_at"));
                    last.ngay_hen_tra_moi = opt_time(data_time(&e.data, "due_at"));
                }
            }
            _ => {}
        }
    }
    out
}

fn results(files: &[FileRef]) -> Vec<GiayToKetQua> {
    files
        .iter()
        .filter(|f| f.kind == crate::domain::dossier::RESULT_KIND)
        .map(|f| GiayToKetQua {
            giay_to_id: f.sha256.clone(),
            ten_giay_to: f.title.clone(),
            ten_tep: f.file_name.clone(),
        })
        .collect()
}

fn returned_at(d: &Dossier) -> Option<String> {
    opt_time(d.closed_at.filter(|_| d.status == Status::Returned))
}

/// The whole dossier (`DongBoHoSoMC`).
pub fn record(d: &Dossier, cx: &Context<'_>) -> Result<DongBoHoSo, MappingError> {
    let business = d.applicant.tax_code.is_some() && d.applicant.id_number.is_none();
    Ok(DongBoHoSo {
        ma_ho_so: national_dossier_code(d, cx.receiving_national_code)?,
        ma_tthc: d.procedure_code.to_string(),
        ten_tthc: cx.procedure_name.to_string(),
        ma_linh_vuc: cx
            .field_code
            .map_or_else(|| field_code(cx.field_name), str::to_string),
        ten_linh_vuc: cx.field_name.to_string(),
        chu_ho_so: d.applicant.full_name.clone(),
        loai_doi_tuong: if business { 2 } else { 1 },
        ma_doi_tuong: if business {
            d.applicant
                .tax_code
                .as_ref()
                .map(|t| t.as_str().to_string())
        } else {
            d.applicant
                .id_number
                .as_ref()
                .map(|i| i.as_str().to_string())
        },
        so_dien_thoai: d.applicant.phone.as_ref().map(|p| p.as_str().to_string()),
        email: d.applicant.email.as_ref().map(|e| e.as_str().to_string()),
        trich_yeu_ho_so: format!("{} – {}", cx.procedure_name, d.applicant.full_name),
        ngay_tiep_nhan: opt_time(d.received_at),
        ngay_hen_tra: opt_time(d.appointment_at),
        trang_thai_ho_so: d.national_status(),
        ngay_tra: returned_at(d),
        hinh_thuc: d.channel.national(),
        don_vi_xu_ly: cx.handling_unit.map(str::to_string),
        tai_lieu_nop: cx
            .files
            .iter()
            .filter(|f| f.kind != crate::domain::dossier::RESULT_KIND)
            .map(|f| TaiLieuNop {
                tep_dinh_kem_id: f.sha256.clone(),
                ten_tai_lieu: f.title.clone(),
                ten_tep_dinh_kem: f.file_name.clone(),
                ma_thanh_phan_ho_so: f.kind.clone(),
            })
            .collect(),
        danh_sach_le_phi: d
            .receipts
            .iter()
            .map(|r| LePhi {
                ten_phi_le_phi: match r.purpose {
                    ReceiptPurpose::Fee => format!("Lệ phí {}", cx.procedure_name),
                    ReceiptPurpose::Requested => "Khoản thu theo yêu cầu".to_string(),
                },
                loai_phi_le_phi: match r.purpose {
                    ReceiptPurpose::Fee => 1,
                    ReceiptPurpose::Requested => 2,
                },
                muc_phi: r.amount_vnd,
                so_bien_lai: r.number.clone(),
                ngay_nop: national_time(r.at),
            })
            .collect(),
        danh_sach_ho_so_bo_sung: supplements(cx.history),
        danh_sach_giay_to_ket_qua: results(cx.files),
    })
}

/// One step (`CapNhatTienDoHoSoMC`): the dossier as `step` left it. Steps that queued up
/// while the portal was away go out one by one, each with its own status and the supplement
/// requests made up to it, not the dossier's status of today; the appointment, the handling
/// unit and the result files are those of now (the history does not keep them per step).
pub fn progress(
    d: &Dossier,
    cx: &Context<'_>,
    step: &HistoryItem,
) -> Result<CapNhatTienDo, MappingError> {
    let mut what = step.action.clone();
    if let Some(r) = step.reason.as_deref().filter(|r| !r.is_empty()) {
        what = format!("{what}: {r}");
    }
    let status = Status::parse(&step.status).unwrap_or(d.status);
    let received = d.received_at.is_some_and(|r| r <= step.at);
    // The history is in step order: the steps up to this one are a prefix of it.
    let so_far = &cx.history[..cx.history.iter().take_while(|e| e.at <= step.at).count()];
    Ok(CapNhatTienDo {
        ma_ho_so: national_dossier_code(d, cx.receiving_national_code)?,
        trang_thai_ho_so: status.national(received),
        ngay_hen_tra: opt_time(d.appointment_at),
        ngay_tra: (status == Status::Returned)
            .then(|| national_time(d.closed_at.unwrap_or(step.at))),
        don_vi_xu_ly: cx.handling_unit.map(str::to_string),
        thoi_diem_xu_ly: national_time(step.at),
        noi_dung_xu_ly: what,
        danh_sach_ho_so_bo_sung: supplements(so_far),
        danh_sach_giay_to_ket_qua: results(cx.files),
    })
}

#[cfg(test)]
mod tests;
