//! Decision 766/QĐ-TTg (23 June 2022) scores a province's (or a ministry's) handling of
//! administrative procedures on 100 points in five groups. Each sub-indicator is a rate in
//! [0, 1] and scores either linearly (`rate × max`) or, where the Decision sets a target,
//! fully at the target and proportionally below it (`min(rate / target, 1) × max`). The
//! formulas, sources and what motcua computes or takes from supervisors are in
//! `docs/INDICATORS.md`; the points per row are those of the national scorecard
//! (dichvucong.gov.vn, "Bộ chỉ số phục vụ người dân, doanh nghiệp").

use serde::Serialize;

/// The five groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Công khai, minh bạch (18).
    Disclosure,
    /// Tiến độ giải quyết (20).
    Progress,
    /// Dịch vụ công trực tuyến (22).
    OnlineService,
    /// Số hóa hồ sơ (22).
    Digitisation,
    /// Mức độ hài lòng (18).
    Satisfaction,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Disclosure,
        Group::Progress,
        Group::OnlineService,
        Group::Digitisation,
        Group::Satisfaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Disclosure => "disclosure",
            Group::Progress => "progress",
            Group::OnlineService => "online_service",
            Group::Digitisation => "digitisation",
            Group::Satisfaction => "satisfaction",
        }
    }

    pub fn name(self) -> (&'static str, &'static str) {
        match self {
            Group::Disclosure => ("Công khai, minh bạch", "Public disclosure"),
            Group::Progress => ("Tiến độ giải quyết", "Processing progress"),
            Group::OnlineService => ("Cung cấp dịch vụ trực tuyến", "Online service"),
            Group::Digitisation => ("Số hóa hồ sơ", "Digitisation"),
            Group::Satisfaction => ("Mức độ hài lòng", "Satisfaction"),
        }
    }

    pub fn max_points(self) -> f64 {
        INDICATORS
            .iter()
            .filter(|i| i.group == self)
            .map(|i| i.max_points)
            .sum()
    }
}

/// Where a sub-indicator's rate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// From the dossiers, documents, payments and ratings motcua holds.
    Computed,
    /// Entered by a supervisor for the province and period (motcua does not hold the data).
    Entered,
}

/// One sub-indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Indicator {
    /// The Decision's number, e.g. `2.1`.
    pub key: &'static str,
    /// A stable name for clients and for entered values.
    pub code: &'static str,
    pub group: Group,
    pub max_points: f64,
    /// The rate at which the full points are given (`None`: linear).
    pub full_at: Option<f64>,
    pub source: Source,
    pub name_vi: &'static str,
    pub name_en: &'static str,
}

impl Indicator {
    /// The points a rate scores (`None`, nothing to measure: 0).
    pub fn points(&self, rate: Option<f64>) -> f64 {
        let Some(rate) = rate else { return 0.0 };
        let rate = rate.clamp(0.0, 1.0);
        let share = match self.full_at {
            Some(t) => (rate / t).min(1.0),
            None => rate,
        };
        round2(share * self.max_points)
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

// A row of the table below: one argument per column reads better than a struct literal.
#[allow(clippy::too_many_arguments)]
const fn ind(
    key: &'static str,
    code: &'static str,
    group: Group,
    max_points: f64,
    full_at: Option<f64>,
    source: Source,
    name_vi: &'static str,
    name_en: &'static str,
) -> Indicator {
    Indicator {
        key,
        code,
        group,
        max_points,
        full_at,
        source,
        name_vi,
        name_en,
    }
}

use Group::*;
use Source::*;

/// Every sub-indicator, in the Decision's order.
pub const INDICATORS: [Indicator; 20] = [
    ind(
        "1.1",
        "procedures_published_on_time",
        Disclosure,
        6.0,
        None,
        Entered,
        "Công bố, công khai TTHC đúng hạn",
        "Procedures published on time",
    ),
    ind(
        "1.2",
        "disclosure_updated_on_time",
        Disclosure,
        4.0,
        None,
        Entered,
        "Cập nhật, công khai TTHC trên Cổng DVCQG đúng hạn",
        "Disclosure on the national portal updated on time",
    ),
    ind(
        "1.3",
        "procedures_fully_described",
        Disclosure,
        2.0,
        None,
        Entered,
        "Công khai đầy đủ các bộ phận cấu thành TTHC",
        "Procedures published with all their parts",
    ),
    ind(
        "1.4",
        "dossiers_synced_to_national_portal",
        Disclosure,
        6.0,
        None,
        Computed,
        "Hồ sơ được đồng bộ, công khai trên Cổng DVCQG",
        "Dossiers synchronised to the national portal",
    ),
    ind(
        "2.1",
        "on_time",
        Progress,
        20.0,
        None,
        Computed,
        "Hồ sơ giải quyết trước hạn, đúng hạn",
        "Dossiers handled early or on time",
    ),
    ind(
        "3.1",
        "procedures_online",
        OnlineService,
        2.0,
        Some(0.8),
        Computed,
        "TTHC cung cấp dịch vụ công trực tuyến",
        "Procedures offered online",
    ),
    ind(
        "3.2",
        "online_services_used",
        OnlineService,
        4.0,
        None,
        Computed,
        "Dịch vụ công trực tuyến có phát sinh hồ sơ",
        "Online services with dossiers filed",
    ),
    ind(
        "3.3",
        "online_dossiers",
        OnlineService,
        6.0,
        Some(0.5),
        Computed,
        "Hồ sơ trực tuyến (nộp trực tuyến, nhận kết quả điện tử)",
        "Dossiers online (filed online, electronic result)",
    ),
    ind(
        "3.4",
        "procedures_with_online_payment",
        OnlineService,
        2.0,
        Some(0.8),
        Computed,
        "TTHC có phí, lệ phí được tích hợp thanh toán trực tuyến",
        "Procedures with a fee payable online",
    ),
    ind(
        "3.5",
        "procedures_paid_online",
        OnlineService,
        2.0,
        Some(0.8),
        Computed,
        "TTHC có phát sinh giao dịch thanh toán trực tuyến",
        "Procedures with online payments made",
    ),
    ind(
        "3.6",
        "online_payment",
        OnlineService,
        6.0,
        None,
        Computed,
        "Hồ sơ thanh toán trực tuyến",
        "Dossiers paid online",
    ),
    ind(
        "4.1",
        "electronic_results",
        Digitisation,
        6.0,
        None,
        Computed,
        "Hồ sơ có kết quả giải quyết điện tử",
        "Dossiers with an electronic result",
    ),
    ind(
        "4.2",
        "components_digitised",
        Digitisation,
        4.0,
        None,
        Computed,
        "Hồ sơ được số hóa thành phần",
        "Dossiers with digitised components",
    ),
    ind(
        "4.3",
        "electronic_certification",
        Digitisation,
        2.0,
        None,
        Entered,
        "Chứng thực bản sao điện tử từ bản chính",
        "Electronic certified copies",
    ),
    ind(
        "4.4",
        "digitised_reuse",
        Digitisation,
        2.0,
        Some(0.8),
        Computed,
        "Khai thác, sử dụng lại dữ liệu đã số hóa",
        "Digitised data reused",
    ),
    ind(
        "4.5",
        "personal_data_store",
        Digitisation,
        4.0,
        None,
        Entered,
        "Cập nhật kết quả vào kho quản lý dữ liệu điện tử của cá nhân, tổ chức",
        "Results in applicants' personal data stores",
    ),
    ind(
        "4.6",
        "population_data",
        Digitisation,
        4.0,
        None,
        Entered,
        "Khai thác, sử dụng dữ liệu dân cư",
        "Use of the national population database",
    ),
    ind(
        "5.2",
        "complaints_handled_on_time",
        Satisfaction,
        6.0,
        None,
        Entered,
        "Phản ánh, kiến nghị được xử lý đúng hạn",
        "Complaints and petitions handled on time",
    ),
    ind(
        "5.3",
        "complaints_satisfied",
        Satisfaction,
        6.0,
        None,
        Entered,
        "Mức độ hài lòng về xử lý phản ánh, kiến nghị",
        "Satisfaction with the handling of complaints",
    ),
    ind(
        "5.4",
        "applicants_satisfied",
        Satisfaction,
        6.0,
        Some(0.9),
        Computed,
        "Mức độ hài lòng trong tiếp nhận, giải quyết TTHC",
        "Applicants satisfied with the handling",
    ),
];

/// A sub-indicator by its code.
pub fn indicator(code: &str) -> Option<&'static Indicator> {
    INDICATORS.iter().find(|i| i.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groups_add_up_to_one_hundred_points() {
        let max: Vec<f64> = Group::ALL.iter().map(|g| g.max_points()).collect();
        assert_eq!(max, vec![18.0, 20.0, 22.0, 22.0, 18.0]);
        assert_eq!(max.iter().sum::<f64>(), 100.0);
    }

    /// Hand-computed: linear and thresholded scores (docs/INDICATORS.md, "Scorecard").
    #[test]
    fn points_are_linear_or_full_at_the_target() {
        let on_time = indicator("on_time").unwrap();
        // 17 early or on time of 20 judged: 0.85 × 20.
        assert_eq!(on_time.points(Some(17.0 / 20.0)), 17.0);
        assert_eq!(on_time.points(None), 0.0);
        let online = indicator("online_dossiers").unwrap();
        // Full at 50 %: 30 % scores 0.3 / 0.5 × 6 = 3.6; 60 % scores 6.
        assert_eq!(online.points(Some(0.3)), 3.6);
        assert_eq!(online.points(Some(0.6)), 6.0);
        let offered = indicator("procedures_online").unwrap();
        // Full at 80 %: 2 of 3 procedures scores (2/3) / 0.8 × 2 = 1.67.
        assert_eq!(offered.points(Some(2.0 / 3.0)), 1.67);
        let satisfied = indicator("applicants_satisfied").unwrap();
        // Full at 90 %: 3 satisfied of 4 ratings scores 0.75 / 0.9 × 6 = 5.
        assert_eq!(satisfied.points(Some(0.75)), 5.0);
        assert_eq!(indicator("online_payment").unwrap().points(Some(0.5)), 3.0);
    }
}
