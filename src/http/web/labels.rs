//! Names of statuses, SLA states and actions as the pages show them.

use crate::domain::lang::Lang;
use crate::domain::lifecycle::{Action, Status};
use crate::domain::sla::SlaState;

fn pick(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En {
        en
    } else {
        vi
    }
}

pub fn status(s: Status, lang: Lang) -> &'static str {
    use Status as S;
    match s {
        S::Submitted => pick(lang, "Mới nộp, chờ tiếp nhận", "Filed, awaiting receipt"),
        S::SupplementAtCounter => pick(
            lang,
            "Chờ bổ sung trước tiếp nhận",
            "To complete before receipt",
        ),
        S::AwaitingRouting => pick(lang, "Chờ điều phối", "Awaiting routing"),
        S::Received => pick(lang, "Đã tiếp nhận", "Received"),
        S::Assigned => pick(lang, "Đã phân công", "Assigned"),
        S::Processing => pick(lang, "Đang xử lý", "Processing"),
        S::AwaitingApproval => pick(lang, "Chờ phê duyệt", "Awaiting approval"),
        S::AwaitingAgency => pick(lang, "Chờ cơ quan phối hợp", "With another agency"),
        S::SupplementRequested => pick(lang, "Chờ bổ sung", "Supplement requested"),
        S::AwaitingPayment => pick(lang, "Chờ nộp phí", "Awaiting payment"),
        S::WithdrawalRequested => pick(lang, "Xin rút hồ sơ", "Withdrawal requested"),
        S::Refused => pick(lang, "Từ chối tiếp nhận", "Refused"),
        S::Stopped => pick(lang, "Dừng xử lý", "Stopped"),
        S::Decided => pick(lang, "Đã có kết quả", "Decided"),
        S::Returned => pick(lang, "Đã trả kết quả", "Result returned"),
    }
}

pub fn sla(s: SlaState, lang: Lang) -> &'static str {
    match s {
        SlaState::NotStarted => pick(lang, "Chưa tính giờ", "Clock not started"),
        SlaState::OnTrack => pick(lang, "Trong hạn", "On track"),
        SlaState::AtRisk => pick(lang, "Sắp đến hạn", "At risk"),
        SlaState::Overdue => pick(lang, "Quá hạn", "Overdue"),
    }
}

pub fn action(a: Action, lang: Lang) -> &'static str {
    use Action as A;
    match a {
        A::Receive => pick(lang, "Tiếp nhận", "Receive"),
        A::Refuse => pick(lang, "Từ chối tiếp nhận", "Refuse"),
        A::Assign => pick(lang, "Phân công", "Assign"),
        A::Claim => pick(lang, "Nhận xử lý", "Claim"),
        A::RequestSupplement => pick(lang, "Yêu cầu bổ sung", "Request a supplement"),
        A::SubmitSupplement => pick(lang, "Ghi nhận bổ sung", "Record the supplement"),
        A::StartProcessing => pick(lang, "Bắt đầu xử lý", "Start processing"),
        A::SendForApproval => pick(lang, "Trình ký", "Send for approval"),
        A::Approve => pick(lang, "Phê duyệt", "Approve"),
        A::Reject => pick(lang, "Không phê duyệt", "Reject"),
        A::RequestPayment => pick(lang, "Yêu cầu nộp phí", "Request payment"),
        A::ConfirmPayment => pick(lang, "Xác nhận đã nộp phí", "Confirm payment"),
        A::ReturnResult => pick(lang, "Trả kết quả", "Return the result"),
        A::RequestWithdrawal => pick(lang, "Ghi nhận xin rút", "Record a withdrawal request"),
        A::CancelWithdrawal => pick(
            lang,
            "Hủy yêu cầu rút hồ sơ",
            "Cancel the withdrawal request",
        ),
        A::Stop => pick(lang, "Dừng xử lý", "Stop"),
        A::Transfer => pick(lang, "Chuyển đơn vị", "Transfer"),
        A::ApologizeAndExtend => pick(lang, "Xin lỗi và hẹn lại", "Apologize and extend"),
        A::SendToAgency => pick(lang, "Chuyển cơ quan phối hợp", "Send to another agency"),
        A::AgencyReply => pick(lang, "Trả lời, chuyển lại", "Reply and send back"),
    }
}

/// A step of the history: an action, or what the system recorded.
pub fn event(name: &str, lang: Lang) -> String {
    if let Some(a) = Action::parse(name) {
        return action(a, lang).to_string();
    }
    match name {
        "submit" => pick(lang, "Nộp hồ sơ", "Filed"),
        "sla_at_risk" => pick(lang, "Cảnh báo sắp đến hạn", "At-risk warning"),
        "sla_overdue" => pick(lang, "Quá hạn", "Overdue"),
        "deadline_recomputed" => pick(lang, "Tính lại hạn theo lịch mới", "Deadline recomputed"),
        "attach_document" => pick(lang, "Bổ sung tệp giấy tờ", "File attached"),
        "feedback" => pick(lang, "Người dân đánh giá", "Rated by the applicant"),
        "open_part" => pick(lang, "Mở hồ sơ thành phần liên thông", "Bundle part opened"),
        "part_decided" => pick(
            lang,
            "Một thủ tục liên thông đã có kết quả",
            "A part of the bundle was decided",
        ),
        "close_with_bundle" => pick(
            lang,
            "Kết thúc cùng hồ sơ liên thông",
            "Closed with its bundle",
        ),
        "tracking_blocked" => pick(
            lang,
            "Tạm khóa tra cứu công khai",
            "Public tracking blocked",
        ),
        other => return other.to_string(),
    }
    .to_string()
}

/// Who handles a procedure, by the competent unit's kind.
pub fn unit_kind(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "commune_pc" => pick(
            lang,
            "Ủy ban nhân dân xã, phường",
            "Commune People's Committee",
        ),
        "commune_service_centre" => pick(
            lang,
            "Trung tâm phục vụ hành chính công xã, phường",
            "Commune service centre",
        ),
        "commune_police" => pick(lang, "Công an xã, phường", "Commune police"),
        "social_insurance" => pick(
            lang,
            "Bảo hiểm xã hội tỉnh, thành phố",
            "Provincial social insurance",
        ),
        "province_pc" => pick(
            lang,
            "Ủy ban nhân dân tỉnh, thành phố",
            "Provincial People's Committee",
        ),
        "province_service_centre" => pick(
            lang,
            "Trung tâm phục vụ hành chính công tỉnh",
            "Provincial service centre",
        ),
        "dept_justice" => pick(lang, "Sở Tư pháp", "Department of Justice"),
        "dept_finance" => pick(lang, "Sở Tài chính", "Department of Finance"),
        "dept_construction" => pick(lang, "Sở Xây dựng", "Department of Construction"),
        "dept_agriculture_environment" => pick(
            lang,
            "Sở Nông nghiệp và Môi trường",
            "Department of Agriculture and Environment",
        ),
        "land_registration_office" => pick(
            lang,
            "Văn phòng đăng ký đất đai",
            "Land registration office",
        ),
        "dept_health" => pick(lang, "Sở Y tế", "Department of Health"),
        "dept_education" => pick(
            lang,
            "Sở Giáo dục và Đào tạo",
            "Department of Education and Training",
        ),
        "dept_home_affairs" => pick(lang, "Sở Nội vụ", "Department of Home Affairs"),
        "province_police" => pick(lang, "Công an tỉnh, thành phố", "Provincial police"),
        _ => pick(lang, "Cơ quan có thẩm quyền", "The competent body"),
    }
}
