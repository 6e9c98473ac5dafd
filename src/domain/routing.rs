//! Routing: which unit handles a dossier (competence), and whether the unit where it is
//! received may receive it (receipt is not bound to boundaries inside a province for
//! boundary-independent procedures). Pure: the units and overrides are given.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::geography::{self, Name, ProvinceCode, Resolution, WardCode, WardRef};
use super::lang::Lang;
use super::procedure::ProcedureSpec;
use super::unit::{Level, UnitKind};

/// What routing needs to know about a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub kind: UnitKind,
    pub province_code: String,
    pub ward_code: Option<String>,
    pub receives_dossiers: bool,
    pub active: bool,
    pub working_hours: String,
}

impl UnitInfo {
    pub fn name_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.name,
            Lang::En => &self.name_en,
        }
    }
}

/// Every unit, indexed for routing. Cheap to clone (shared).
///
/// The competent unit of a kind for a place is found in a dense table indexed by the
/// numeric province or ward code and the kind, so that a routing decision costs no hashing
/// and no allocation.
#[derive(Debug, Clone, Default)]
pub struct UnitDirectory {
    units: Arc<HashMap<String, Arc<UnitInfo>>>,
    /// `province code × province-level kind slot`.
    provincial: Arc<Vec<Option<Arc<UnitInfo>>>>,
    /// `ward code × commune-level kind slot`.
    communal: Arc<Vec<Option<Arc<UnitInfo>>>>,
}

/// The position of a kind among the kinds of its level, and the number of kinds of each level.
fn slot(kind: UnitKind) -> usize {
    UnitKind::ALL
        .iter()
        .filter(|k| k.level() == kind.level())
        .position(|k| *k == kind)
        .unwrap_or(0)
}

fn width(level: Level) -> usize {
    UnitKind::ALL.iter().filter(|k| k.level() == level).count()
}

/// Slots of every kind, indexed by `kind as usize` (the order of [`UnitKind::ALL`]).
struct Slots {
    slot: [u8; UnitKind::ALL.len()],
    province_width: usize,
    commune_width: usize,
}

impl Slots {
    fn get() -> &'static Slots {
        static SLOTS: std::sync::OnceLock<Slots> = std::sync::OnceLock::new();
        SLOTS.get_or_init(|| {
            let mut slot = [0u8; UnitKind::ALL.len()];
            for &k in UnitKind::ALL {
                slot[k as usize] = slot_u8(k);
            }
            Slots {
                slot,
                province_width: width(Level::Province),
                commune_width: width(Level::Commune),
            }
        })
    }
}

fn slot_u8(kind: UnitKind) -> u8 {
    u8::try_from(slot(kind)).unwrap_or(0)
}

impl UnitDirectory {
    pub fn build(units: impl IntoIterator<Item = UnitInfo>) -> Self {
        let slots = Slots::get();
        let mut all = HashMap::new();
        let mut provincial: Vec<Option<Arc<UnitInfo>>> = Vec::new();
        let mut communal: Vec<Option<Arc<UnitInfo>>> = Vec::new();
        for u in units {
            let u = Arc::new(u);
            // The standard unit of a kind is the one whose code ends with the kind's suffix;
            // admin-created extra units of the same kind do not replace it.
            let suffix = u.kind.suffix();
            let standard = u.code.len() > suffix.len()
                && u.code.ends_with(suffix)
                && u.code.as_bytes()[u.code.len() - suffix.len() - 1] == b'.';
            let s = slots.slot[u.kind as usize] as usize;
            let place = match (u.kind.level(), &u.ward_code) {
                (Level::Commune, Some(w)) => WardCode::parse(w)
                    .ok()
                    .map(|w| (&mut communal, w.value() as usize * slots.commune_width + s)),
                (Level::Province, _) => ProvinceCode::parse(&u.province_code).ok().map(|p| {
                    (
                        &mut provincial,
                        p.value() as usize * slots.province_width + s,
                    )
                }),
                _ => None,
            };
            if let Some((table, i)) = place {
                if table.len() <= i {
                    table.resize(i + 1, None);
                }
                if standard || table[i].is_none() {
                    table[i] = Some(u.clone());
                }
            }
            all.insert(u.code.clone(), u);
        }
        UnitDirectory {
            units: Arc::new(all),
            provincial: Arc::new(provincial),
            communal: Arc::new(communal),
        }
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn unit(&self, code: &str) -> Option<&Arc<UnitInfo>> {
        self.units.get(code)
    }

    /// The unit of `kind` for a commune (`ward`) or a province, codes as strings ("01",
    /// "00004"; the ward is ignored for a province-level kind).
    pub fn competent(&self, kind: UnitKind, province: &str, ward: &str) -> Option<&Arc<UnitInfo>> {
        match kind.level() {
            Level::Commune => self.communal_unit(kind, WardCode::parse(ward).ok()?),
            Level::Province => self.provincial_unit(kind, ProvinceCode::parse(province).ok()?),
        }
    }

    /// The unit of `kind` for a 2025 ward (commune-level kinds) or its province.
    #[inline]
    pub fn competent_at(
        &self,
        kind: UnitKind,
        province: ProvinceCode,
        ward: WardCode,
    ) -> Option<&Arc<UnitInfo>> {
        match kind.level() {
            Level::Commune => self.communal_unit(kind, ward),
            Level::Province => self.provincial_unit(kind, province),
        }
    }

    #[inline]
    fn communal_unit(&self, kind: UnitKind, ward: WardCode) -> Option<&Arc<UnitInfo>> {
        let slots = Slots::get();
        let i = ward.value() as usize * slots.commune_width + slots.slot[kind as usize] as usize;
        self.communal.get(i)?.as_ref()
    }

    #[inline]
    fn provincial_unit(&self, kind: UnitKind, province: ProvinceCode) -> Option<&Arc<UnitInfo>> {
        let slots = Slots::get();
        let i =
            province.value() as usize * slots.province_width + slots.slot[kind as usize] as usize;
        self.provincial.get(i)?.as_ref()
    }

    /// Every unit (for listings).
    pub fn all(&self) -> impl Iterator<Item = &Arc<UnitInfo>> {
        self.units.values()
    }
}

/// An administrator's override: a province assigns a procedure to a unit, or one unit's
/// work goes to another for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRule {
    pub id: i64,
    pub province_code: String,
    pub procedure_code: Option<String>,
    pub from_unit_code: Option<String>,
    pub to_unit_code: String,
    pub priority: i32,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
}

impl OverrideRule {
    /// Whether the rule applies to a procedure whose competent unit is `handling`, at `at`
    /// (the province is checked by the caller).
    fn applies(&self, procedure: &str, handling: &str, at: DateTime<Utc>) -> bool {
        self.valid_from <= at
            && self.valid_until.is_none_or(|u| at < u)
            && self
                .procedure_code
                .as_deref()
                .is_none_or(|p| p == procedure)
            && self.from_unit_code.as_deref().is_none_or(|u| u == handling)
            && (self.procedure_code.is_some() || self.from_unit_code.is_some())
    }
}

/// The outcome of routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteStatus {
    Routed,
    Ambiguous,
    Rejected,
}

/// A possible handling unit when the address is ambiguous.
#[derive(Debug, Clone)]
pub struct UnitCandidate {
    pub ward: WardRef,
    pub unit: Option<Arc<UnitInfo>>,
}

/// One line of the routing explanation.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteNote {
    /// The address resolution's own explanation.
    Address(geography::Explanation),
    CommuneCompetence {
        kind: UnitKind,
        ward: Name,
    },
    ProvinceCompetence {
        kind: UnitKind,
        province: Name,
    },
    Override {
        id: i64,
        to: Arc<UnitInfo>,
        priority: i32,
        reason: String,
        until: Option<DateTime<Utc>>,
    },
    ReceivedAt {
        unit: Arc<UnitInfo>,
        boundary_independent: bool,
    },
    DefaultReception {
        unit: Arc<UnitInfo>,
    },
    /// The applicant's chosen collection point.
    ResultPoint {
        unit: Arc<UnitInfo>,
        boundary_independent: bool,
    },
    AmbiguousSameProvince {
        candidates: usize,
    },
    AmbiguousCandidates {
        candidates: usize,
    },
    Rejected(Rejection),
}

/// Why a dossier cannot be routed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    AddressNotFound,
    NoCompetentUnit,
    HandlingUnitInactive,
    UnknownReceivingUnit,
    NotAReceptionPoint,
    ReceivingUnitInactive,
    OtherProvince,
    OutsideCommune,
    UnknownResultPoint,
    ResultPointInactive,
    ResultPointNotReceptionPoint,
    ResultPointOtherProvince,
    ResultPointOutsideCommune,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Rejection::AddressNotFound => "address_not_found",
            Rejection::NoCompetentUnit => "no_competent_unit",
            Rejection::HandlingUnitInactive => "handling_unit_inactive",
            Rejection::UnknownReceivingUnit => "unknown_receiving_unit",
            Rejection::NotAReceptionPoint => "not_a_reception_point",
            Rejection::ReceivingUnitInactive => "receiving_unit_inactive",
            Rejection::OtherProvince => "receipt_in_other_province",
            Rejection::OutsideCommune => "receipt_outside_commune",
            Rejection::UnknownResultPoint => "unknown_result_point",
            Rejection::ResultPointInactive => "result_point_inactive",
            Rejection::ResultPointNotReceptionPoint => "result_point_not_reception_point",
            Rejection::ResultPointOtherProvince => "result_point_outside_province",
            Rejection::ResultPointOutsideCommune => "result_point_outside_commune",
        }
    }
}

impl RouteNote {
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (RouteNote::Address(e), l) => e.render(l),
            (RouteNote::CommuneCompetence { kind, ward }, Lang::Vi) => format!(
                "Thủ tục thuộc thẩm quyền cấp xã: {} {ward} giải quyết.",
                kind.name_vi()
            ),
            (RouteNote::CommuneCompetence { kind, ward }, Lang::En) => format!(
                "A commune-level procedure: the {} of {ward} handles it.",
                kind.name_en()
            ),
            (RouteNote::ProvinceCompetence { kind, province }, Lang::Vi) => format!(
                "Thủ tục thuộc thẩm quyền cấp tỉnh: {} {province} giải quyết.",
                kind.name_vi()
            ),
            (RouteNote::ProvinceCompetence { kind, province }, Lang::En) => format!(
                "A province-level procedure: the {} of {province} handles it.",
                kind.name_en()
            ),
            (RouteNote::Override { id, to, priority, reason, until }, Lang::Vi) => format!(
                "Áp dụng quy tắc điều chuyển #{id} (ưu tiên {priority}{}): chuyển cho {}. Lý do: {reason}.",
                until.map(|u| format!(", hiệu lực đến {}", local(u))).unwrap_or_default(),
                to.name_in(Lang::Vi)
            ),
            (RouteNote::Override { id, to, priority, reason, until }, Lang::En) => format!(
                "Override #{id} applies (priority {priority}{}): sent to {}. Reason: {reason}.",
                until.map(|u| format!(", valid until {}", local(u))).unwrap_or_default(),
                to.name_in(Lang::En)
            ),
            (RouteNote::ReceivedAt { unit, boundary_independent: true }, Lang::Vi) => format!(
                "Tiếp nhận tại {}: thủ tục được tiếp nhận không phụ thuộc địa giới hành chính trong tỉnh.",
                unit.name_in(Lang::Vi)
            ),
            (RouteNote::ReceivedAt { unit, boundary_independent: true }, Lang::En) => format!(
                "Received at {}: this procedure may be received anywhere in the province.",
                unit.name_in(Lang::En)
            ),
            (RouteNote::ReceivedAt { unit, boundary_independent: false }, l) => match l {
                Lang::Vi => format!("Tiếp nhận tại {}.", unit.name_in(l)),
                Lang::En => format!("Received at {}.", unit.name_in(l)),
            },
            (RouteNote::DefaultReception { unit }, Lang::Vi) => {
                format!("Hồ sơ trực tuyến được tiếp nhận tại {}.", unit.name_in(Lang::Vi))
            }
            (RouteNote::DefaultReception { unit }, Lang::En) => {
                format!("An online dossier is received at {}.", unit.name_in(Lang::En))
            }
            (RouteNote::ResultPoint { unit, boundary_independent: true }, Lang::Vi) => format!(
                "Nhận kết quả tại {} ({}): thủ tục thuộc danh mục tiếp nhận và trả kết quả không phụ thuộc địa giới hành chính của tỉnh (Nghị định 118/2025/NĐ-CP); thẩm quyền giải quyết không thay đổi.",
                unit.name, unit.code
            ),
            (RouteNote::ResultPoint { unit, boundary_independent: true }, Lang::En) => format!(
                "The result is collected at {} ({}): the procedure is on the province's boundary-independent list (Decree 118/2025/NĐ-CP); competence does not change.",
                unit.name, unit.code
            ),
            (RouteNote::ResultPoint { unit, boundary_independent: false }, Lang::Vi) => format!(
                "Nhận kết quả tại {} ({}).",
                unit.name, unit.code
            ),
            (RouteNote::ResultPoint { unit, boundary_independent: false }, Lang::En) => format!(
                "The result is collected at {} ({}).",
                unit.name, unit.code
            ),
            (RouteNote::AmbiguousSameProvince { candidates }, Lang::Vi) => format!(
                "Địa chỉ có {candidates} khả năng nhưng đều thuộc cùng một tỉnh, nên cơ quan cấp tỉnh vẫn xác định được."
            ),
            (RouteNote::AmbiguousSameProvince { candidates }, Lang::En) => format!(
                "The address has {candidates} possible wards, all in one province, so the provincial body is still certain."
            ),
            (RouteNote::AmbiguousCandidates { candidates }, Lang::Vi) => format!(
                "Chưa xác định được đơn vị giải quyết: có {candidates} đơn vị có thể có thẩm quyền; cần chọn xã/phường."
            ),
            (RouteNote::AmbiguousCandidates { candidates }, Lang::En) => format!(
                "The handling unit is not certain: {candidates} units may be competent; the commune must be chosen."
            ),
            (RouteNote::Rejected(r), l) => rejection_text(*r, l),
        }
    }
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&super::calendar::vn_offset())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn rejection_text(r: Rejection, lang: Lang) -> String {
    let (vi, en) = match r {
        Rejection::AddressNotFound => ("Không xác định được địa chỉ.", "The address could not be resolved."),
        Rejection::NoCompetentUnit => (
            "Không có đơn vị có thẩm quyền cho thủ tục này tại địa chỉ đã cho.",
            "No unit is competent for this procedure at that address.",
        ),
        Rejection::HandlingUnitInactive => (
            "Đơn vị có thẩm quyền đang ngừng hoạt động.",
            "The competent unit is not active.",
        ),
        Rejection::UnknownReceivingUnit => ("Không có đơn vị tiếp nhận này.", "There is no such receiving unit."),
        Rejection::NotAReceptionPoint => (
            "Đơn vị này không phải nơi tiếp nhận hồ sơ (Trung tâm Phục vụ hành chính công).",
            "That unit is not a reception point (a Public Administrative Service Centre).",
        ),
        Rejection::ReceivingUnitInactive => ("Đơn vị tiếp nhận đang ngừng hoạt động.", "The receiving unit is not active."),
        Rejection::OtherProvince => (
            "Không tiếp nhận được: địa chỉ thuộc tỉnh khác với nơi nộp hồ sơ.",
            "Cannot be received here: the address is in another province.",
        ),
        Rejection::OutsideCommune => (
            "Không tiếp nhận được: thủ tục này phải nộp tại xã/phường nơi cư trú (không thuộc danh mục tiếp nhận không phụ thuộc địa giới hành chính).",
            "Cannot be received here: this procedure is not boundary-independent and must be filed in the address's commune.",
        ),
        Rejection::UnknownResultPoint => ("Không có nơi trả kết quả này.", "There is no such result collection point."),
        Rejection::ResultPointInactive => ("Nơi trả kết quả đang ngừng hoạt động.", "The result collection point is not active."),
        Rejection::ResultPointNotReceptionPoint => (
            "Nơi trả kết quả phải là một Trung tâm Phục vụ hành chính công (bộ phận một cửa).",
            "The result collection point must be a one-stop service centre.",
        ),
        Rejection::ResultPointOtherProvince => (
            "Nơi trả kết quả phải thuộc tỉnh/thành phố giải quyết hồ sơ.",
            "The result collection point must be in the dossier's province.",
        ),
        Rejection::ResultPointOutsideCommune => (
            "Thủ tục này không thuộc danh mục trả kết quả không phụ thuộc địa giới hành chính: kết quả được trả tại nơi tiếp nhận hoặc nơi giải quyết.",
            "This procedure is not boundary-independent: the result is collected where it was received or where it is handled.",
        ),
    };
    match lang {
        Lang::Vi => vi.to_string(),
        Lang::En => en.to_string(),
    }
}

/// The routing decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub status: RouteStatus,
    pub rejection: Option<Rejection>,
    pub ward: Option<WardRef>,
    pub handling_unit: Option<Arc<UnitInfo>>,
    pub receiving_unit: Option<Arc<UnitInfo>>,
    /// Where the applicant collects the result, when chosen.
    pub result_point: Option<Arc<UnitInfo>>,
    pub candidates: Vec<UnitCandidate>,
    pub notes: Vec<RouteNote>,
}

impl Decision {
    pub fn render(&self, lang: Lang) -> Vec<String> {
        self.notes.iter().map(|n| n.render(lang)).collect()
    }

    /// The province the dossier belongs to (ambiguous ones: their candidates' province).
    pub fn province(&self) -> Option<String> {
        self.ward
            .as_ref()
            .map(|w| w.province_code.to_string())
            .or_else(|| {
                self.candidates
                    .first()
                    .map(|c| c.ward.province_code.to_string())
            })
    }
}

/// What is being routed.
pub struct Request<'a> {
    pub procedure: &'a ProcedureSpec,
    pub resolution: &'a Resolution,
    /// Where the dossier is (or will be) received, when given.
    pub received_at: Option<&'a str>,
    /// The collection point the applicant chose, when given.
    pub result_point: Option<&'a str>,
    /// Whether the procedure is on the province's list of procedures received and returned
    /// anywhere in the province (Decree 118/2025/NĐ-CP; each province publishes its
    /// own list, the catalog's national flag until it does).
    pub boundary_independent: bool,
    pub overrides: &'a [OverrideRule],
    pub at: DateTime<Utc>,
}

fn reject(mut notes: Vec<RouteNote>, r: Rejection, ward: Option<WardRef>) -> Decision {
    notes.push(RouteNote::Rejected(r));
    Decision {
        status: RouteStatus::Rejected,
        rejection: Some(r),
        ward,
        handling_unit: None,
        receiving_unit: None,
        result_point: None,
        candidates: Vec::new(),
        notes,
    }
}

/// Check the collection point an applicant chose: an active reception point of `province`
/// (or the handling unit, when known), and, unless the procedure is boundary-independent
/// there, the receiving or handling unit itself.
pub fn check_result_point(
    dir: &UnitDirectory,
    code: &str,
    province: &str,
    receiving: &str,
    handling: Option<&str>,
    boundary_independent: bool,
) -> Result<Arc<UnitInfo>, Rejection> {
    let u = dir
        .unit(code)
        .cloned()
        .ok_or(Rejection::UnknownResultPoint)?;
    let is_handling = handling == Some(u.code.as_str());
    if !u.active {
        return Err(Rejection::ResultPointInactive);
    }
    if !(u.receives_dossiers || is_handling) {
        return Err(Rejection::ResultPointNotReceptionPoint);
    }
    if ProvinceCode::parse(&u.province_code).ok() != ProvinceCode::parse(province).ok() {
        return Err(Rejection::ResultPointOtherProvince);
    }
    if !boundary_independent && u.code != receiving && !is_handling {
        return Err(Rejection::ResultPointOutsideCommune);
    }
    Ok(u)
}

/// Route a dossier.
pub fn route(dir: &UnitDirectory, req: &Request<'_>) -> Decision {
    use geography::Status as AddrStatus;
    let p = req.procedure;
    let mut notes: Vec<RouteNote> = Vec::with_capacity(req.resolution.explanation.len() + 4);
    notes.extend(
        req.resolution
            .explanation
            .iter()
            .cloned()
            .map(RouteNote::Address),
    );

    let ward = match req.resolution.status {
        AddrStatus::NotFound => return reject(notes, Rejection::AddressNotFound, None),
        AddrStatus::Resolved => match &req.resolution.ward {
            Some(w) => w.clone(),
            None => return reject(notes, Rejection::AddressNotFound, None),
        },
        AddrStatus::Ambiguous => {
            let cands = &req.resolution.candidates;
            let first_province = cands.first().map(|c| c.ward.province_code);
            let one_province = cands
                .iter()
                .all(|c| Some(c.ward.province_code) == first_province);
            if p.level == Level::Province && one_province && !cands.is_empty() {
                // Any candidate gives the same provincial body.
                notes.push(RouteNote::AmbiguousSameProvince {
                    candidates: cands.len(),
                });
                cands[0].ward.clone()
            } else {
                let candidates: Vec<UnitCandidate> = cands
                    .iter()
                    .map(|c| UnitCandidate {
                        unit: dir
                            .competent_at(p.competent_unit_kind, c.ward.province_code, c.ward.code)
                            .cloned(),
                        ward: c.ward.clone(),
                    })
                    .collect();
                notes.push(RouteNote::AmbiguousCandidates {
                    candidates: candidates.len(),
                });
                return Decision {
                    status: RouteStatus::Ambiguous,
                    rejection: None,
                    ward: None,
                    handling_unit: None,
                    receiving_unit: None,
                    result_point: None,
                    candidates,
                    notes,
                };
            }
        }
    };
    let (province, ward_code) = (ward.province_code, ward.code);
    let in_province = |code: &str| ProvinceCode::parse(code).ok() == Some(province);

    let Some(mut handling) = dir
        .competent_at(p.competent_unit_kind, province, ward_code)
        .cloned()
    else {
        return reject(notes, Rejection::NoCompetentUnit, Some(ward));
    };
    notes.push(match p.level {
        Level::Commune => RouteNote::CommuneCompetence {
            kind: p.competent_unit_kind,
            ward: ward.name.clone(),
        },
        Level::Province => RouteNote::ProvinceCompetence {
            kind: p.competent_unit_kind,
            province: ward.province_name.clone(),
        },
    });

    // Overrides: the applicable one with the highest priority, the newest on a tie.
    let chosen = req
        .overrides
        .iter()
        .filter(|o| in_province(&o.province_code) && o.applies(&p.code, &handling.code, req.at))
        .max_by_key(|o| (o.priority, o.id));
    if let Some(o) = chosen {
        if let Some(target) = dir
            .unit(&o.to_unit_code)
            .filter(|u| in_province(&u.province_code))
        {
            notes.push(RouteNote::Override {
                id: o.id,
                to: target.clone(),
                priority: o.priority,
                reason: o.reason.clone(),
                until: o.valid_until,
            });
            handling = target.clone();
        }
    }
    if !handling.active {
        return reject(notes, Rejection::HandlingUnitInactive, Some(ward));
    }

    let receiving = match req.received_at {
        Some(code) => {
            let Some(r) = dir.unit(code).cloned() else {
                return reject(notes, Rejection::UnknownReceivingUnit, Some(ward));
            };
            if !r.active {
                return reject(notes, Rejection::ReceivingUnitInactive, Some(ward));
            }
            if !(r.receives_dossiers || r.code == handling.code) {
                return reject(notes, Rejection::NotAReceptionPoint, Some(ward));
            }
            if !in_province(&r.province_code) {
                return reject(notes, Rejection::OtherProvince, Some(ward));
            }
            if !req.boundary_independent && r.code != handling.code {
                let allowed = match r.kind.level() {
                    // A commune centre may receive only its own commune's dossiers.
                    Level::Commune => {
                        r.ward_code.as_deref().and_then(|w| WardCode::parse(w).ok())
                            == Some(ward_code)
                    }
                    // The provincial centre receives the province's provincial procedures.
                    Level::Province => p.level == Level::Province,
                };
                if !allowed {
                    return reject(notes, Rejection::OutsideCommune, Some(ward));
                }
            }
            notes.push(RouteNote::ReceivedAt {
                unit: r.clone(),
                boundary_independent: req.boundary_independent,
            });
            r
        }
        None => {
            let centre = match p.level {
                Level::Commune => {
                    dir.competent_at(UnitKind::CommuneServiceCentre, province, ward_code)
                }
                Level::Province => {
                    dir.competent_at(UnitKind::ProvinceServiceCentre, province, ward_code)
                }
            }
            .cloned()
            .filter(|u| u.active)
            .unwrap_or_else(|| handling.clone());
            notes.push(RouteNote::DefaultReception {
                unit: centre.clone(),
            });
            centre
        }
    };

    // Where the result is collected: anywhere in the province for a boundary-independent
    // procedure, else where it is received or handled. Competence stays with `handling`.
    let result_point = match req.result_point {
        None => None,
        Some(code) => {
            let u = match check_result_point(
                dir,
                code,
                &province.to_string(),
                &receiving.code,
                Some(&handling.code),
                req.boundary_independent,
            ) {
                Ok(u) => u,
                Err(r) => return reject(notes, r, Some(ward)),
            };
            notes.push(RouteNote::ResultPoint {
                unit: u.clone(),
                boundary_independent: req.boundary_independent,
            });
            Some(u)
        }
    };

    Decision {
        status: RouteStatus::Routed,
        rejection: None,
        ward: Some(ward),
        handling_unit: Some(handling),
        receiving_unit: Some(receiving),
        result_point,
        candidates: Vec::new(),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::domain::geography::{AddressInput, Gazetteer};
    use crate::domain::procedure::{parse_catalog, CATALOG_TOML};
    use crate::domain::unit::DEFAULT_WORKING_HOURS;

    struct Fixture {
        gazetteer: Gazetteer,
        units: Vec<UnitInfo>,
        catalog: Vec<ProcedureSpec>,
    }

    fn fixture() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| {
            let data = crate::services::reference::shipped_geography().unwrap();
            let units = crate::services::reference::standard_units(&data)
                .into_iter()
                .map(|u| UnitInfo {
                    code: u.code.to_string(),
                    name: u.name,
                    name_en: u.name_en,
                    kind: u.kind,
                    province_code: u.province_code,
                    ward_code: u.ward_code,
                    receives_dossiers: u.kind.receives_dossiers(),
                    active: true,
                    working_hours: DEFAULT_WORKING_HOURS.to_string(),
                })
                .collect();
            Fixture {
                gazetteer: Gazetteer::from_data(&data).0,
                units,
                catalog: parse_catalog(CATALOG_TOML).unwrap(),
            }
        })
    }

    fn directory() -> UnitDirectory {
        UnitDirectory::build(fixture().units.iter().cloned())
    }

    fn procedure(code: &str) -> &'static ProcedureSpec {
        fixture().catalog.iter().find(|p| p.code == code).unwrap()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 1, 3, 0, 0).unwrap()
    }

    fn run(
        dir: &UnitDirectory,
        code: &str,
        address: AddressInput,
        received_at: Option<&str>,
        overrides: &[OverrideRule],
    ) -> Decision {
        let resolution = fixture().gazetteer.resolve(&address).unwrap();
        route(
            dir,
            &Request {
                procedure: procedure(code),
                resolution: &resolution,
                received_at,
                result_point: None,
                boundary_independent: procedure(code).boundary_independent,
                overrides,
                at: at(),
            },
        )
    }

    fn ward(code: &str) -> AddressInput {
        AddressInput::WardCode(code.into())
    }

    fn rule(id: i64, procedure: Option<&str>, from: Option<&str>, to: &str) -> OverrideRule {
        OverrideRule {
            id,
            province_code: "01".into(),
            procedure_code: procedure.map(str::to_string),
            from_unit_code: from.map(str::to_string),
            to_unit_code: to.into(),
            priority: 0,
            valid_from: at() - Duration::days(1),
            valid_until: None,
            reason: "test".into(),
        }
    }

    #[test]
    fn directory_finds_the_standard_units_by_place() {
        let dir = directory();
        assert_eq!(dir.len(), 34 * 12 + 3321 * 3);
        let pc = dir.competent(UnitKind::CommunePc, "01", "00004").unwrap();
        assert_eq!(pc.code, "01.00004.UBND");
        // Codes without their leading zeros work too.
        let pc = dir.competent(UnitKind::CommunePc, "1", "4").unwrap();
        assert_eq!(pc.code, "01.00004.UBND");
        let centre = dir
            .competent(UnitKind::ProvinceServiceCentre, "79", "")
            .unwrap();
        assert_eq!(centre.code, "79.TTPVHCC");
        assert!(dir.competent(UnitKind::CommunePc, "01", "99999").is_none());
        assert!(dir.competent(UnitKind::DeptJustice, "99", "").is_none());
        assert!(dir.competent(UnitKind::CommunePc, "01", "x").is_none());
    }

    #[test]
    fn an_extra_unit_of_a_kind_does_not_replace_the_standard_one() {
        let mut units = fixture().units.clone();
        let mut extra = units
            .iter()
            .find(|u| u.code == "01.00004.UBND")
            .unwrap()
            .clone();
        extra.code = "01.00004.UBND2".into();
        units.insert(0, extra);
        let dir = UnitDirectory::build(units);
        assert_eq!(
            dir.competent(UnitKind::CommunePc, "01", "00004")
                .unwrap()
                .code,
            "01.00004.UBND"
        );
        assert!(dir.unit("01.00004.UBND2").is_some());
    }

    #[test]
    fn commune_and_province_competence() {
        let dir = directory();
        let d = run(&dir, "1.001193", ward("00004"), None, &[]);
        assert_eq!(d.status, RouteStatus::Routed);
        assert_eq!(d.handling_unit.unwrap().code, "01.00004.UBND");
        assert_eq!(d.receiving_unit.unwrap().code, "01.00004.TTPVHCC");
        let d = run(&dir, "2.001610", ward("00004"), None, &[]);
        assert_eq!(d.handling_unit.as_ref().unwrap().code, "01.STC");
        assert_eq!(d.receiving_unit.as_ref().unwrap().code, "01.TTPVHCC");
        let text = d.render(Lang::En).join(" ");
        assert!(text.contains("province-level"), "{text}");
        assert!(
            text.contains("Public Administrative Service Centre of"),
            "{text}"
        );
    }

    #[test]
    fn receipt_rules() {
        let dir = directory();
        // Boundary-independent: another commune's centre of the same province.
        let d = run(
            &dir,
            "1.001193",
            ward("00004"),
            Some("01.00008.TTPVHCC"),
            &[],
        );
        assert_eq!(d.status, RouteStatus::Routed);
        assert_eq!(d.receiving_unit.unwrap().code, "01.00008.TTPVHCC");
        assert_eq!(d.handling_unit.unwrap().code, "01.00004.UBND");
        // Another province.
        let d = run(
            &dir,
            "1.001193",
            ward("00004"),
            Some("79.25747.TTPVHCC"),
            &[],
        );
        assert_eq!(d.rejection, Some(Rejection::OtherProvince));
        // Not boundary-independent: only the address's commune.
        let d = run(
            &dir,
            "1.004222",
            ward("00004"),
            Some("01.00008.TTPVHCC"),
            &[],
        );
        assert_eq!(d.rejection, Some(Rejection::OutsideCommune));
        let d = run(
            &dir,
            "1.004222",
            ward("00004"),
            Some("01.00004.TTPVHCC"),
            &[],
        );
        assert_eq!(d.status, RouteStatus::Routed);
        assert_eq!(d.handling_unit.unwrap().code, "01.00004.CA");
        // Unknown and non-receiving units.
        let d = run(
            &dir,
            "1.001193",
            ward("00004"),
            Some("01.99999.TTPVHCC"),
            &[],
        );
        assert_eq!(d.rejection, Some(Rejection::UnknownReceivingUnit));
        let d = run(&dir, "1.001193", ward("00004"), Some("01.STP"), &[]);
        assert_eq!(d.rejection, Some(Rejection::NotAReceptionPoint));
    }

    #[test]
    fn ambiguous_addresses_give_candidate_units() {
        let dir = directory();
        // Phường Cống Vị (00007) was split between Ngọc Hà (00008) and Giảng Võ (00025).
        let d = run(
            &dir,
            "1.001193",
            AddressInput::LegacyWardCode("00007".into()),
            None,
            &[],
        );
        assert_eq!(d.status, RouteStatus::Ambiguous);
        let units: Vec<String> = d
            .candidates
            .iter()
            .map(|c| c.unit.as_ref().unwrap().code.clone())
            .collect();
        assert_eq!(units, ["01.00008.UBND", "01.00025.UBND"]);
        // A provincial body is certain all the same.
        let d = run(
            &dir,
            "2.001610",
            AddressInput::LegacyWardCode("00007".into()),
            None,
            &[],
        );
        assert_eq!(d.status, RouteStatus::Routed);
        assert_eq!(d.handling_unit.unwrap().code, "01.STC");
    }

    #[test]
    fn overrides_by_priority_and_window() {
        let dir = directory();
        let by_procedure = rule(1, Some("1.001193"), None, "01.00008.UBND");
        let mut by_unit = rule(2, None, Some("01.00004.UBND"), "01.00025.UBND");
        by_unit.priority = 5;
        by_unit.valid_until = Some(at() + Duration::days(7));
        let d = run(
            &dir,
            "1.001193",
            ward("00004"),
            None,
            &[by_procedure.clone(), by_unit.clone()],
        );
        assert_eq!(d.handling_unit.as_ref().unwrap().code, "01.00025.UBND");
        let text = d.render(Lang::Vi).join(" ");
        assert!(text.contains("#2") && text.contains("ưu tiên 5"), "{text}");
        // Expired: the other one applies.
        by_unit.valid_until = Some(at() - Duration::hours(1));
        let d = run(
            &dir,
            "1.001193",
            ward("00004"),
            None,
            &[by_procedure, by_unit],
        );
        assert_eq!(d.handling_unit.unwrap().code, "01.00008.UBND");
        // Not yet valid, other procedure, other province: ignored.
        let mut later = rule(3, Some("1.001193"), None, "01.00008.UBND");
        later.valid_from = at() + Duration::days(1);
        let other = rule(4, Some("1.004222"), None, "01.00008.UBND");
        let mut elsewhere = rule(5, Some("1.001193"), None, "79.25747.UBND");
        elsewhere.province_code = "79".into();
        let d = run(
            &dir,
            "1.001193",
            ward("00004"),
            None,
            &[later, other, elsewhere],
        );
        assert_eq!(d.handling_unit.unwrap().code, "01.00004.UBND");
    }

    #[test]
    fn inactive_units() {
        let mut units = fixture().units.clone();
        for u in &mut units {
            if u.code == "01.00004.UBND" || u.code == "01.00008.TTPVHCC" {
                u.active = false;
            }
        }
        let dir = UnitDirectory::build(units);
        let d = run(&dir, "1.001193", ward("00004"), None, &[]);
        assert_eq!(d.rejection, Some(Rejection::HandlingUnitInactive));
        let d = run(
            &dir,
            "2.001610",
            ward("00008"),
            Some("01.00008.TTPVHCC"),
            &[],
        );
        assert_eq!(d.rejection, Some(Rejection::ReceivingUnitInactive));
    }
}
