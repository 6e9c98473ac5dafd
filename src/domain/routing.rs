//! Routing: which unit handles a dossier (competence), and whether the unit where it is
//! received may receive it (receipt is not bound to boundaries inside a province for
//! boundary-independent procedures). Pure: the units and overrides are given.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::geography::{self, Resolution, WardRef};
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
#[derive(Debug, Clone, Default)]
pub struct UnitDirectory {
    units: Arc<HashMap<String, Arc<UnitInfo>>>,
    provincial: Arc<HashMap<(String, UnitKind), String>>,
    communal: Arc<HashMap<(String, UnitKind), String>>,
}

impl UnitDirectory {
    pub fn build(units: impl IntoIterator<Item = UnitInfo>) -> Self {
        let mut all = HashMap::new();
        let mut provincial = HashMap::new();
        let mut communal = HashMap::new();
        for u in units {
            // The standard unit of a kind is the one whose code ends with the kind's suffix;
            // admin-created extra units of the same kind do not replace it.
            let standard = u.code.ends_with(&format!(".{}", u.kind.suffix()));
            let key = match (u.kind.level(), &u.ward_code) {
                (Level::Commune, Some(w)) => Some((&mut communal, w.clone())),
                (Level::Province, _) => Some((&mut provincial, u.province_code.clone())),
                _ => None,
            };
            if let Some((map, place)) = key {
                let k = (place, u.kind);
                if standard || !map.contains_key(&k) {
                    map.insert(k, u.code.clone());
                }
            }
            all.insert(u.code.clone(), Arc::new(u));
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

    /// The unit of `kind` for a commune (`ward`) or a province.
    pub fn competent(&self, kind: UnitKind, province: &str, ward: &str) -> Option<&Arc<UnitInfo>> {
        let code = match kind.level() {
            Level::Commune => self.communal.get(&(ward.to_string(), kind)),
            Level::Province => self.provincial.get(&(province.to_string(), kind)),
        }?;
        self.units.get(code)
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
    fn applies(&self, province: &str, procedure: &str, handling: &str, at: DateTime<Utc>) -> bool {
        self.province_code == province
            && self.valid_from <= at
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
        ward: String,
    },
    ProvinceCompetence {
        kind: UnitKind,
        province: String,
    },
    Override {
        id: i64,
        to: String,
        priority: i32,
        reason: String,
        until: Option<DateTime<Utc>>,
    },
    ReceivedAt {
        unit: String,
        boundary_independent: bool,
    },
    DefaultReception {
        unit: String,
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
                "Áp dụng quy tắc điều chuyển #{id} (ưu tiên {priority}{}): chuyển cho {to}. Lý do: {reason}.",
                until.map(|u| format!(", hiệu lực đến {}", local(u))).unwrap_or_default()
            ),
            (RouteNote::Override { id, to, priority, reason, until }, Lang::En) => format!(
                "Override #{id} applies (priority {priority}{}): sent to {to}. Reason: {reason}.",
                until.map(|u| format!(", valid until {}", local(u))).unwrap_or_default()
            ),
            (RouteNote::ReceivedAt { unit, boundary_independent: true }, Lang::Vi) => format!(
                "Tiếp nhận tại {unit}: thủ tục được tiếp nhận không phụ thuộc địa giới hành chính trong tỉnh."
            ),
            (RouteNote::ReceivedAt { unit, boundary_independent: true }, Lang::En) => format!(
                "Received at {unit}: this procedure may be received anywhere in the province."
            ),
            (RouteNote::ReceivedAt { unit, boundary_independent: false }, Lang::Vi) => {
                format!("Tiếp nhận tại {unit}.")
            }
            (RouteNote::ReceivedAt { unit, boundary_independent: false }, Lang::En) => {
                format!("Received at {unit}.")
            }
            (RouteNote::DefaultReception { unit }, Lang::Vi) => {
                format!("Hồ sơ trực tuyến được tiếp nhận tại {unit}.")
            }
            (RouteNote::DefaultReception { unit }, Lang::En) => {
                format!("An online dossier is received at {unit}.")
            }
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
        candidates: Vec::new(),
        notes,
    }
}

/// Route a dossier.
pub fn route(dir: &UnitDirectory, req: &Request<'_>) -> Decision {
    use geography::Status as AddrStatus;
    let p = req.procedure;
    let mut notes: Vec<RouteNote> = req
        .resolution
        .explanation
        .iter()
        .cloned()
        .map(RouteNote::Address)
        .collect();

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
                            .competent(
                                p.competent_unit_kind,
                                &c.ward.province_code.to_string(),
                                &c.ward.code.to_string(),
                            )
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
                    candidates,
                    notes,
                };
            }
        }
    };
    let province = ward.province_code.to_string();
    let ward_code = ward.code.to_string();

    let Some(mut handling) = dir
        .competent(p.competent_unit_kind, &province, &ward_code)
        .cloned()
    else {
        return reject(notes, Rejection::NoCompetentUnit, Some(ward));
    };
    notes.push(match p.level {
        Level::Commune => RouteNote::CommuneCompetence {
            kind: p.competent_unit_kind,
            ward: ward.name.to_string(),
        },
        Level::Province => RouteNote::ProvinceCompetence {
            kind: p.competent_unit_kind,
            province: ward.province_name.to_string(),
        },
    });

    // Overrides: the applicable one with the highest priority, the newest on a tie.
    let chosen = req
        .overrides
        .iter()
        .filter(|o| o.applies(&province, &p.code, &handling.code, req.at))
        .max_by_key(|o| (o.priority, o.id));
    if let Some(o) = chosen {
        if let Some(target) = dir
            .unit(&o.to_unit_code)
            .filter(|u| u.province_code == province)
        {
            notes.push(RouteNote::Override {
                id: o.id,
                to: target.name.clone(),
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
            if r.province_code != province {
                return reject(notes, Rejection::OtherProvince, Some(ward));
            }
            if !p.boundary_independent && r.code != handling.code {
                let allowed = match r.kind.level() {
                    // A commune centre may receive only its own commune's dossiers.
                    Level::Commune => r.ward_code.as_deref() == Some(ward_code.as_str()),
                    // The provincial centre receives the province's provincial procedures.
                    Level::Province => p.level == Level::Province,
                };
                if !allowed {
                    return reject(notes, Rejection::OutsideCommune, Some(ward));
                }
            }
            notes.push(RouteNote::ReceivedAt {
                unit: r.name.clone(),
                boundary_independent: p.boundary_independent,
            });
            r
        }
        None => {
            let centre = match p.level {
                Level::Commune => {
                    dir.competent(UnitKind::CommuneServiceCentre, &province, &ward_code)
                }
                Level::Province => {
                    dir.competent(UnitKind::ProvinceServiceCentre, &province, &ward_code)
                }
            }
            .cloned()
            .filter(|u| u.active)
            .unwrap_or_else(|| handling.clone());
            notes.push(RouteNote::DefaultReception {
                unit: centre.name.clone(),
            });
            centre
        }
    };

    Decision {
        status: RouteStatus::Routed,
        rejection: None,
        ward: Some(ward),
        handling_unit: Some(handling),
        receiving_unit: Some(receiving),
        candidates: Vec::new(),
        notes,
    }
}
