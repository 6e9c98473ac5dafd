//! One test per field of the national portal's record.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::domain::account::TaxCode;
use crate::domain::dossier::tests::{
    act, applicant_of, clerk, filing, monday, reason, reception, rules, world,
};
use crate::domain::dossier::{Channel, DossierCode, DossierEvent, PaymentChannel, Receipt};
use crate::domain::lifecycle::Action;
use crate::domain::unit::UnitCode;

const RECEIVING: &str = "000.00.31.H26";
const HANDLING: &str = "000.31.31.H26";

fn item(e: &DossierEvent) -> HistoryItem {
    HistoryItem {
        action: e.kind.as_str().to_string(),
        at: e.at,
        reason: e.reason.clone(),
        data: Value::Object(e.data.clone()),
        status: e.to_status.as_str().to_string(),
    }
}

fn numbered(channel: Channel) -> (Dossier, Vec<HistoryItem>) {
    let actor = if channel == Channel::InPerson {
        reception()
    } else {
        crate::domain::dossier::tests::applicant()
    };
    let (mut d, e) = Dossier::file(filing(channel), &actor, &rules(false), monday()).unwrap();
    d.code = Some(DossierCode::new(
        &UnitCode::parse("01.00004.TTPVHCC").unwrap(),
        chrono::NaiveDate::from_ymd_opt(2025, 9, 8).unwrap(),
        1,
    ));
    (d, vec![item(&e)])
}

fn files() -> Vec<FileRef> {
    vec![
        FileRef {
            kind: "to_khai".into(),
            title: "Tờ khai".into(),
            file_name: "to-khai.pdf".into(),
            sha256: "a".repeat(64),
        },
        FileRef {
            kind: "result".into(),
            title: "Giấy xác nhận tình trạng hôn nhân".into(),
            file_name: "ket-qua.pdf".into(),
            sha256: "b".repeat(64),
        },
    ]
}

fn cx<'a>(files: &'a [FileRef], history: &'a [HistoryItem]) -> Context<'a> {
    Context {
        procedure_name: &world().spec.name_vi,
        field_name: &world().spec.field,
        field_code: None,
        receiving_national_code: Some(RECEIVING),
        handling_unit: Some(HANDLING),
        files,
        history,
    }
}

fn walk_in() -> (Dossier, Vec<HistoryItem>, DongBoHoSo) {
    let (d, h) = numbered(Channel::InPerson);
    let f = files();
    let r = record(&d, &cx(&f, &h)).unwrap();
    (d, h, r)
}

#[test]
fn dates_are_yyyymmddhhmmss_in_vietnam() {
    // 03:00 UTC is 10:00 in Hà Nội.
    assert_eq!(national_time(monday()), "20250908100000");
    let late = Utc.with_ymd_and_hms(2025, 9, 8, 18, 30, 5).unwrap();
    assert_eq!(national_time(late), "20250909013005");
}

#[test]
fn ma_ho_so_is_our_code_with_the_receiving_units_national_code() {
    let (_, _, r) = walk_in();
    assert_eq!(r.ma_ho_so, "000.00.31.H26-250908-0001");
    let (d, h) = numbered(Channel::InPerson);
    let f = files();
    let none = Context {
        receiving_national_code: None,
        ..cx(&f, &h)
    };
    assert_eq!(
        record(&d, &none),
        Err(MappingError::NoNationalCode("01.00004.TTPVHCC".into()))
    );
    let mut unnumbered = d.clone();
    unnumbered.code = None;
    assert_eq!(
        record(&unnumbered, &cx(&f, &h)),
        Err(MappingError::NotNumbered)
    );
}

#[test]
fn ma_tthc_and_ten_tthc_are_the_procedures() {
    let (_, _, r) = walk_in();
    assert_eq!(r.ma_tthc, "1.004873");
    assert_eq!(r.ten_tthc, world().spec.name_vi);
}

#[test]
fn ma_linh_vuc_and_ten_linh_vuc_are_the_field() {
    let (_, _, r) = walk_in();
    assert_eq!(r.ten_linh_vuc, world().spec.field);
    assert_eq!(r.ma_linh_vuc, field_code(&world().spec.field));
    assert_eq!(field_code("Hộ tịch"), "HO_TICH");
    assert_eq!(field_code("Đất đai"), "DAT_DAI");
    assert_eq!(field_code("Hoạt động  xây dựng"), "HOAT_DONG_XAY_DUNG");
    // The national catalogue's code, once the procedure version carries it.
    let (d, h) = numbered(Channel::InPerson);
    let f = files();
    let with_code = Context {
        field_code: Some("HT-001"),
        ..cx(&f, &h)
    };
    let r = record(&d, &with_code).unwrap();
    assert_eq!(r.ma_linh_vuc, "HT-001");
    assert_eq!(r.ten_linh_vuc, world().spec.field);
}

#[test]
fn chu_ho_so_loai_and_ma_doi_tuong_are_the_applicant() {
    let (_, _, r) = walk_in();
    assert_eq!(r.chu_ho_so, "Nguyễn Văn An");
    assert_eq!(
        (r.loai_doi_tuong, r.ma_doi_tuong.as_deref()),
        (1, Some("001203004567"))
    );
    // A business: its tax code.
    let (mut d, h) = numbered(Channel::InPerson);
    d.applicant.id_number = None;
    d.applicant.tax_code = Some(TaxCode::parse("0101234567").unwrap());
    let f = files();
    let b = record(&d, &cx(&f, &h)).unwrap();
    assert_eq!(
        (b.loai_doi_tuong, b.ma_doi_tuong.as_deref()),
        (2, Some("0101234567"))
    );
}

#[test]
fn so_dien_thoai_and_email_are_the_applicants_contacts() {
    let (mut d, h, r) = walk_in();
    assert_eq!(r.so_dien_thoai.as_deref(), Some("0912345678"));
    assert_eq!(r.email, None);
    d.applicant.email = Some(crate::domain::account::Email::parse("an@example.vn").unwrap());
    let f = files();
    assert_eq!(
        record(&d, &cx(&f, &h)).unwrap().email.as_deref(),
        Some("an@example.vn")
    );
}

#[test]
fn trich_yeu_names_the_procedure_and_the_applicant() {
    let (_, _, r) = walk_in();
    assert_eq!(
        r.trich_yeu_ho_so,
        format!("{} – Nguyễn Văn An", world().spec.name_vi)
    );
}

#[test]
fn ngay_tiep_nhan_and_ngay_hen_tra_are_receipt_and_appointment() {
    let (d, _, r) = walk_in();
    assert_eq!(r.ngay_tiep_nhan.as_deref(), Some("20250908100000"));
    assert_eq!(
        r.ngay_hen_tra,
        Some(national_time(d.appointment_at.unwrap()))
    );
    // Online and not yet received: neither.
    let (d, h) = numbered(Channel::Online);
    let f = files();
    let o = record(&d, &cx(&f, &h)).unwrap();
    assert_eq!((o.ngay_tiep_nhan, o.ngay_hen_tra), (None, None));
}

#[test]
fn trang_thai_ho_so_is_the_national_status() {
    let (_, _, r) = walk_in();
    assert_eq!(r.trang_thai_ho_so, 2);
    let (d, h) = numbered(Channel::Online);
    let f = files();
    assert_eq!(record(&d, &cx(&f, &h)).unwrap().trang_thai_ho_so, 1);
}

#[test]
fn ngay_tra_is_set_once_the_result_is_returned() {
    let (mut d, h, r) = walk_in();
    assert_eq!(r.ngay_tra, None);
    let at = monday() + Duration::days(2);
    d.status = crate::domain::lifecycle::Status::Returned;
    d.closed_at = Some(at);
    let f = files();
    let r = record(&d, &cx(&f, &h)).unwrap();
    assert_eq!(
        (r.ngay_tra, r.trang_thai_ho_so),
        (Some(national_time(at)), 10)
    );
}

#[test]
fn hinh_thuc_is_the_channel() {
    let (_, _, r) = walk_in();
    assert_eq!(r.hinh_thuc, 1);
    let (d, h) = numbered(Channel::Online);
    let f = files();
    assert_eq!(record(&d, &cx(&f, &h)).unwrap().hinh_thuc, 2);
}

#[test]
fn don_vi_xu_ly_is_the_handling_unit() {
    let (_, _, r) = walk_in();
    assert_eq!(r.don_vi_xu_ly.as_deref(), Some(HANDLING));
}

#[test]
fn tai_lieu_nop_are_the_component_files_and_ket_qua_the_results() {
    let (_, _, r) = walk_in();
    assert_eq!(
        r.tai_lieu_nop,
        vec![TaiLieuNop {
            tep_dinh_kem_id: "a".repeat(64),
            ten_tai_lieu: "Tờ khai".into(),
            ten_tep_dinh_kem: "to-khai.pdf".into(),
            ma_thanh_phan_ho_so: "to_khai".into(),
        }]
    );
    assert_eq!(
        r.danh_sach_giay_to_ket_qua,
        vec![GiayToKetQua {
            giay_to_id: "b".repeat(64),
            ten_giay_to: "Giấy xác nhận tình trạng hôn nhân".into(),
            ten_tep: "ket-qua.pdf".into(),
        }]
    );
}

#[test]
fn danh_sach_le_phi_are_the_receipts() {
    let (mut d, h, r) = walk_in();
    assert!(r.danh_sach_le_phi.is_empty());
    d.receipts.push(Receipt {
        number: "000.00.31.H26-250908-0001-BL1".into(),
        purpose: ReceiptPurpose::Fee,
        amount_vnd: 15_000,
        channel: PaymentChannel::Cash,
        reference: None,
        unit: UnitCode::parse("01.00004.TTPVHCC").unwrap(),
        at: monday(),
    });
    let f = files();
    let r = record(&d, &cx(&f, &h)).unwrap();
    assert_eq!(
        r.danh_sach_le_phi,
        vec![LePhi {
            ten_phi_le_phi: format!("Lệ phí {}", world().spec.name_vi),
            loai_phi_le_phi: 1,
            muc_phi: 15_000,
            so_bien_lai: "000.00.31.H26-250908-0001-BL1".into(),
            ngay_nop: "20250908100000".into(),
        }]
    );
}

#[test]
fn danh_sach_ho_so_bo_sung_gives_the_deadline_before_and_after() {
    let (mut d, mut h) = numbered(Channel::InPerson);
    let due = d.due_at.unwrap();
    h.push(item(&act(
        &mut d,
        &clerk(),
        Action::RequestSupplement,
        reason("thiếu giấy"),
        monday(),
    )));
    // Still awaited: no dates after.
    let f = files();
    let open = record(&d, &cx(&f, &h)).unwrap().danh_sach_ho_so_bo_sung;
    assert_eq!(
        open,
        vec![HoSoBoSung {
            ngay_yeu_cau: "20250908100000".into(),
            noi_dung_yeu_cau: "thiếu giấy: to_khai".into(),
            ngay_tiep_nhan_bo_sung: None,
            ngay_hen_tra_truoc: None,
            ngay_hen_tra_moi: None,
        }]
    );
    assert_eq!(record(&d, &cx(&f, &h)).unwrap().trang_thai_ho_so, 5);
    let next = monday() + Duration::days(1);
    let who = applicant_of(&d);
    h.push(item(&act(
        &mut d,
        &who,
        Action::SubmitSupplement,
        Default::default(),
        next,
    )));
    let back = record(&d, &cx(&f, &h)).unwrap().danh_sach_ho_so_bo_sung;
    assert_eq!(
        back[0].ngay_tiep_nhan_bo_sung.as_deref(),
        Some("20250909100000")
    );
    assert_eq!(back[0].ngay_hen_tra_truoc, Some(national_time(due)));
    assert_eq!(
        back[0].ngay_hen_tra_moi,
        Some(national_time(d.due_at.unwrap()))
    );
    assert_ne!(back[0].ngay_hen_tra_truoc, back[0].ngay_hen_tra_moi);
}

#[test]
fn the_record_carries_the_portals_field_names() {
    let (_, _, r) = walk_in();
    let v = serde_json::to_value(&r).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "MaHoSo",
        "MaTTHC",
        "TenTTHC",
        "MaLinhVuc",
        "TenLinhVuc",
        "ChuHoSo",
        "LoaiDoiTuong",
        "MaDoiTuong",
        "SoDienThoai",
        "Email",
        "TrichYeuHoSo",
        "NgayTiepNhan",
        "NgayHenTra",
        "TrangThaiHoSo",
        "NgayTra",
        "HinhThuc",
        "DonViXuLy",
        "TaiLieuNop",
        "DanhSachLePhi",
        "DanhSachHoSoBoSung",
        "DanhSachGiayToKetQua",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(
        v["TaiLieuNop"][0],
        json!({"TepDinhKemId": "a".repeat(64), "TenTaiLieu": "Tờ khai", "TenTepDinhKem": "to-khai.pdf", "MaThanhPhanHoSo": "to_khai"})
    );
}

#[test]
fn a_progress_step_names_what_happened() {
    let (mut d, mut h) = numbered(Channel::InPerson);
    let e = act(
        &mut d,
        &clerk(),
        Action::RequestSupplement,
        reason("thiếu giấy"),
        monday(),
    );
    h.push(item(&e));
    let f = files();
    let p = progress(&d, &cx(&f, &h), h.last().unwrap()).unwrap();
    assert_eq!(p.ma_ho_so, "000.00.31.H26-250908-0001");
    assert_eq!(p.trang_thai_ho_so, 5);
    assert_eq!(p.noi_dung_xu_ly, "request_supplement: thiếu giấy");
    assert_eq!(p.thoi_diem_xu_ly, "20250908100000");
    assert_eq!(p.danh_sach_ho_so_bo_sung.len(), 1);
    let _: DateTime<Utc> = monday();
}

#[test]
fn steps_queued_up_go_out_each_with_the_status_it_left() {
    // A supplement asked and answered before the portal was reached: the request's step says
    // 5 (supplement requested) and lists only itself, though the dossier is back in handling.
    let (mut d, mut h) = numbered(Channel::InPerson);
    let asked = act(
        &mut d,
        &clerk(),
        Action::RequestSupplement,
        reason("thiếu giấy"),
        monday(),
    );
    h.push(item(&asked));
    let who = applicant_of(&d);
    let answered = act(
        &mut d,
        &who,
        Action::SubmitSupplement,
        Default::default(),
        monday() + Duration::hours(2),
    );
    h.push(item(&answered));
    let f = files();
    let first = progress(&d, &cx(&f, &h), &h[h.len() - 2]).unwrap();
    assert_eq!(first.trang_thai_ho_so, 5);
    assert_eq!(first.danh_sach_ho_so_bo_sung.len(), 1);
    assert_eq!(
        first.danh_sach_ho_so_bo_sung[0].ngay_tiep_nhan_bo_sung,
        None
    );
    let last = progress(&d, &cx(&f, &h), h.last().unwrap()).unwrap();
    assert_eq!(last.trang_thai_ho_so, d.national_status());
    assert_ne!(last.trang_thai_ho_so, 5);
    assert!(last.danh_sach_ho_so_bo_sung[0]
        .ngay_tiep_nhan_bo_sung
        .is_some());
    assert_eq!(first.ngay_tra, None);
}
