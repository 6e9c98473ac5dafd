//! Which steps of a dossier the applicant is told about, and what the message says
//! (Vietnamese first, then English, in one message: the address on the dossier does not
//! say which language its owner reads).

use chrono::{DateTime, Utc};

use crate::domain::display::{date_time, vnd};

/// A step the applicant is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Received, with the appointment (Form 01).
    Received,
    /// Something to complete, with the list (Form 02).
    SupplementRequested,
    /// An amount to pay.
    PaymentRequested,
    /// Decided: the result is ready to collect (or sent).
    ResultReady,
    /// Late: the apology with the new appointment (Form 04).
    Apology,
}

impl Kind {
    /// The step an event is, if the applicant is told about it.
    pub fn of(action: &str, to_status: &str) -> Option<Kind> {
        match (action, to_status) {
            ("receive", _) => Some(Kind::Received),
            ("request_supplement", _) => Some(Kind::SupplementRequested),
            ("request_payment", _) => Some(Kind::PaymentRequested),
            ("apologize_and_extend", _) => Some(Kind::Apology),
            (_, "decided") => Some(Kind::ResultReady),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Received => "received",
            Kind::SupplementRequested => "supplement_requested",
            Kind::PaymentRequested => "payment_requested",
            Kind::ResultReady => "result_ready",
            Kind::Apology => "apology",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Received,
            Kind::SupplementRequested,
            Kind::PaymentRequested,
            Kind::ResultReady,
            Kind::Apology,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// What a message says about a dossier.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub code: String,
    pub procedure: String,
    pub applicant: String,
    pub unit: String,
    pub appointment: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// The components to complete (their names).
    pub components: Vec<String>,
    pub amount_vnd: Option<i64>,
    /// Where the dossier is followed (the portal's tracking page), when configured.
    pub tracking_url: Option<String>,
}

/// One paragraph in each language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    pub subject_vi: String,
    pub subject_en: String,
    /// Paragraphs in Vietnamese, then in English.
    pub vi: Vec<String>,
    pub en: Vec<String>,
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(date_time).unwrap_or_else(|| "—".into())
}

/// The text of a message: subject and paragraphs in both languages.
pub fn compose(kind: Kind, f: &Facts) -> Lines {
    let code = &f.code;
    let (subject_vi, subject_en, vi, en) = match kind {
        Kind::Received => (
            format!("Hồ sơ {code} đã được tiếp nhận"),
            format!("Dossier {code} has been received"),
            vec![
                format!("{} đã tiếp nhận hồ sơ {} của Ông/Bà ({code}).", f.unit, f.procedure),
                format!("Ngày hẹn trả kết quả: {}.", when(f.appointment)),
            ],
            vec![
                format!("{} received your dossier for {} ({code}).", f.unit, f.procedure),
                format!("Your result is due on {} (Vietnam time).", when(f.appointment)),
            ],
        ),
        Kind::SupplementRequested => {
            let list = if f.components.is_empty() {
                "—".to_string()
            } else {
                f.components.join("; ")
            };
            (
                format!("Hồ sơ {code}: cần bổ sung giấy tờ"),
                format!("Dossier {code}: documents to complete"),
                vec![
                    format!("Hồ sơ {code} cần bổ sung, hoàn thiện: {list}."),
                    format!("Lý do: {}.", f.reason.as_deref().unwrap_or("—")),
                    "Thời hạn giải quyết tạm dừng cho đến khi Ông/Bà bổ sung đủ.".to_string(),
                ],
                vec![
                    format!("Dossier {code} needs to be completed: {list}."),
                    format!("Reason: {}.", f.reason.as_deref().unwrap_or("—")),
                    "The time limit is paused until you complete it.".to_string(),
                ],
            )
        }
        Kind::PaymentRequested => {
            let amount = f.amount_vnd.map(vnd).unwrap_or_else(|| "—".into());
            (
                format!("Hồ sơ {code}: đề nghị nộp phí, lệ phí"),
                format!("Dossier {code}: payment requested"),
                vec![format!(
                    "Đề nghị Ông/Bà nộp {amount} để tiếp tục giải quyết hồ sơ {code}."
                )],
                vec![format!("Please pay {amount} for dossier {code} to proceed.")],
            )
        }
        Kind::ResultReady => (
            format!("Hồ sơ {code} đã có kết quả"),
            format!("The result of dossier {code} is ready"),
            vec![format!(
                "Hồ sơ {} ({code}) đã có kết quả. Mời Ông/Bà nhận kết quả tại {} hoặc theo hình thức đã đăng ký.",
                f.procedure, f.unit
            )],
            vec![format!(
                "The result of your dossier for {} ({code}) is ready: collect it at {} or as you asked.",
                f.procedure, f.unit
            )],
        ),
        Kind::Apology => (
            format!("Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {code}"),
            format!("Apology and new date for dossier {code}"),
            vec![
                format!(
                    "{} xin lỗi Ông/Bà vì hồ sơ {code} chưa được giải quyết đúng hạn.",
                    f.unit
                ),
                format!("Lý do: {}.", f.reason.as_deref().unwrap_or("—")),
                format!("Ngày hẹn trả kết quả mới: {}.", when(f.appointment)),
            ],
            vec![
                format!("{} apologises: dossier {code} was not handled on time.", f.unit),
                format!("Reason: {}.", f.reason.as_deref().unwrap_or("—")),
                format!("The new date for your result: {} (Vietnam time).", when(f.appointment)),
            ],
        ),
    };
    let mut vi = vi;
    let mut en = en;
    if let Some(url) = &f.tracking_url {
        vi.push(format!("Tra cứu hồ sơ: {url}"));
        en.push(format!("Follow your dossier: {url}"));
    }
    Lines {
        subject_vi,
        subject_en,
        vi,
        en,
    }
}

/// An SMS: the Vietnamese subject and paragraphs (no link), at most 300 characters.
pub fn sms(kind: Kind, f: &Facts) -> String {
    let l = compose(
        kind,
        &Facts {
            tracking_url: None,
            ..f.clone()
        },
    );
    let text = format!("{}. {}", l.subject_vi, l.vi.join(" "));
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> Facts {
        Facts {
            code: "01.00004.TTPVHCC-251204-0001".into(),
            procedure: "Cấp giấy xác nhận tình trạng hôn nhân".into(),
            applicant: "Nguyễn Văn An".into(),
            unit: "Trung tâm Phục vụ hành chính công phường Ba Đình".into(),
            appointment: Some(Utc.with_ymd_and_hms(2026, 12, 9, 9, 0, 0).unwrap()),
            reason: Some("Thiếu tờ khai".into()),
            components: vec!["Tờ khai".into(), "Giấy chứng sinh".into()],
            amount_vnd: Some(1_250_000),
            tracking_url: None,
        }
    }

    #[test]
    fn the_steps_told_are_the_issues_five() {
        assert_eq!(Kind::of("receive", "received"), Some(Kind::Received));
        assert_eq!(
            Kind::of("request_supplement", "supplement_requested"),
            Some(Kind::SupplementRequested)
        );
        assert_eq!(
            Kind::of("request_payment", "awaiting_payment"),
            Some(Kind::PaymentRequested)
        );
        assert_eq!(Kind::of("approve", "decided"), Some(Kind::ResultReady));
        assert_eq!(
            Kind::of("apologize_and_extend", "processing"),
            Some(Kind::Apology)
        );
        for (a, s) in [
            ("claim", "assigned"),
            ("start_processing", "processing"),
            ("submit", "submitted"),
        ] {
            assert_eq!(Kind::of(a, s), None);
        }
        for k in [
            Kind::Received,
            Kind::SupplementRequested,
            Kind::PaymentRequested,
            Kind::ResultReady,
            Kind::Apology,
        ] {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn each_message_carries_its_facts_in_both_languages() {
        let f = facts();
        let r = compose(Kind::Received, &f);
        assert!(r.subject_vi.contains(&f.code) && r.subject_en.contains(&f.code));
        // 09:00 UTC is 16:00 in Hà Nội.
        assert!(r.vi[1].contains("09/12/2026 16:00"), "{:?}", r.vi);
        assert!(r.en[1].contains("09/12/2026 16:00"));
        let s = compose(Kind::SupplementRequested, &f);
        assert!(
            s.vi[0].contains("Tờ khai; Giấy chứng sinh")
                && s.en[0].contains("Tờ khai; Giấy chứng sinh")
        );
        assert!(s.vi[1].contains("Thiếu tờ khai"));
        let p = compose(Kind::PaymentRequested, &f);
        assert!(p.vi[0].contains("1.250.000 ₫") && p.en[0].contains("1.250.000 ₫"));
        let a = compose(Kind::Apology, &f);
        assert!(a.vi.iter().any(|l| l.contains("09/12/2026 16:00")));
        let done = compose(Kind::ResultReady, &f);
        assert!(done.vi[0].contains(&f.unit));
        let with_link = compose(
            Kind::Received,
            &Facts {
                tracking_url: Some("https://dvc.example/tra-cuu".into()),
                ..f.clone()
            },
        );
        assert!(with_link
            .vi
            .last()
            .unwrap()
            .ends_with("https://dvc.example/tra-cuu"));
        assert!(sms(Kind::Received, &f).chars().count() <= 300);
    }
}
