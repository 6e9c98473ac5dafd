//! The clerks' workbench: the unit's queue, a dossier's page with the actions allowed now,
//! walk-in intake, and the receipt and appointment slip (Form 01).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::session::{is_htmx, Signed};
use super::ui::{self, Ui};
use super::{labels, page, page_with_status, problem_lines};
use crate::domain::access::Actor;
use crate::domain::account::Role;
use crate::domain::dossier::{DocumentRef, Dossier, ResultDelivery, RESULT_KIND};
use crate::domain::lang::Lang;
use crate::domain::lifecycle::{Action, Status};
use crate::domain::sla::SlaState;
use crate::error::{ApiError, ApiResult};
use crate::services::cases::{self as svc, ActionRequest, QueueRequest};
use crate::state::AppState;
use crate::text;

/// Largest queue page.
const MAX_PER_PAGE: u64 = 500;

fn staff_only() -> ApiError {
    ApiError::forbidden(text!(
        "Trang này dành cho cán bộ một cửa của đơn vị.",
        "This page is for the unit's staff."
    ))
}

// ---- the queue ----------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct QueueParams {
    procedure: Option<String>,
    status: Option<String>,
    sla: Option<String>,
    mine: Option<String>,
    unit: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
    /// A dossier the caller's action sent away (an agency's reply, a transfer).
    sent: Option<String>,
}

/// A queue row as shown.
pub struct Row {
    pub code: String,
    pub procedure: String,
    pub procedure_name: String,
    pub applicant: String,
    pub status: String,
    pub sla_class: &'static str,
    pub sla: String,
    pub left: String,
    pub due: String,
    pub assignee: String,
    pub version: i32,
    pub can_claim: bool,
    pub can_receive: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub ui: Ui,
    pub unit: String,
    pub unit_name: String,
    pub rows: Vec<Row>,
    pub total: u64,
    pub page: u64,
    pub pages: u64,
    pub f_procedure: String,
    pub f_status: String,
    pub f_sla: String,
    pub f_mine: bool,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub slas: Vec<(&'static str, &'static str)>,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    /// A dossier just sent away, shown as done (its page is no longer the caller's).
    pub sent: Option<String>,
}

#[derive(Template)]
#[template(path = "queue_row.html")]
struct RowFragment {
    ui: Ui,
    r: Row,
}

fn sla_class(s: SlaState) -> &'static str {
    match s {
        SlaState::NotStarted => "sla-none",
        SlaState::OnTrack => "sla-ok",
        SlaState::AtRisk => "sla-risk",
        SlaState::Overdue => "sla-over",
    }
}

/// Rows of dossiers for `actor`, with their working time left.
fn rows(
    state: &AppState,
    actor: &Actor,
    lang: Lang,
    dossiers: &[Dossier],
    now: DateTime<Utc>,
) -> Vec<Row> {
    let deps = state.dossiers();
    let left = svc::working_time_left(&deps, dossiers, now);
    let mut names: HashMap<String, String> = HashMap::new();
    let secs_per_day = 8 * 3600;
    dossiers
        .iter()
        .zip(left)
        .map(|(d, left)| {
            let procedure = d.procedure_code.to_string();
            let procedure_name = names
                .entry(procedure.clone())
                .or_insert_with(|| svc::procedure_name(&deps, &procedure, lang).unwrap_or_default())
                .clone();
            let actions = d.available_actions(actor);
            let left = match left {
                None => "—".to_string(),
                Some(s) if s < 0 => format!(
                    "{} {}",
                    if lang == Lang::En {
                        "overdue by"
                    } else {
                        "quá hạn"
                    },
                    ui::working_duration(s, secs_per_day, lang)
                ),
                Some(s) => ui::working_duration(s, secs_per_day, lang),
            };
            Row {
                code: d.code_str().to_string(),
                procedure,
                procedure_name,
                applicant: d.applicant.full_name.clone(),
                status: labels::status(d.status, lang).to_string(),
                sla_class: sla_class(d.sla_state),
                sla: labels::sla(d.sla_state, lang).to_string(),
                left,
                due: ui::opt_date_time(d.due_at),
                assignee: match d.assigned_to {
                    None => "—".into(),
                    Some(id) if id == actor.account_id => {
                        if lang == Lang::En {
                            "me".into()
                        } else {
                            "tôi".into()
                        }
                    }
                    Some(_) => {
                        if lang == Lang::En {
                            "another clerk".into()
                        } else {
                            "cán bộ khác".into()
                        }
                    }
                },
                version: d.version,
                can_claim: actions.contains(&Action::Claim),
                can_receive: actions.contains(&Action::Receive),
            }
        })
        .collect()
}

fn status_options() -> Vec<(&'static str, &'static str)> {
    Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| (s.as_str(), labels::status(*s, Lang::Vi)))
        .collect()
}

/// `/queue`: the signed-in clerk's unit, most urgent first (a supervisor names a unit of
/// their province with `?unit=`).
pub async fn queue(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<QueueParams>,
) -> ApiResult<Response> {
    let unit = match (&s.actor.unit, &q.unit) {
        (_, Some(u)) if !u.is_empty() => u.clone(),
        (Some(u), _) => u.to_string(),
        (None, _) => return Err(staff_only()),
    };
    let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let page_no = q.page.unwrap_or(1).max(1);
    let mine = q.mine.as_deref().is_some_and(|m| !m.is_empty());
    let req = QueueRequest {
        statuses: q.status.clone().filter(|s| !s.is_empty()),
        claimed: None,
        assignee: mine.then(|| "me".to_string()),
        sort: None,
        procedure: q.procedure.clone().filter(|p| !p.is_empty()),
        sla_state: q.sla.clone().filter(|p| !p.is_empty()),
    };
    let deps = state.dossiers();
    let (dossiers, total) = svc::queue(
        &deps,
        &s.actor,
        &unit,
        req,
        (page_no - 1) * per_page,
        per_page,
    )
    .await?;
    let lang = s.ui.lang;
    let rows = rows(&state, &s.actor, lang, &dossiers, Utc::now());
    let pages = total.div_ceil(per_page).max(1);
    let link = |p: u64| {
        let mut pairs: Vec<(&str, String)> = vec![("page", p.to_string())];
        for (k, v) in [
            ("procedure", &q.procedure),
            ("status", &q.status),
            ("sla", &q.sla),
            ("mine", &q.mine),
            ("unit", &q.unit),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                pairs.push((k, v.clone()));
            }
        }
        format!(
            "/queue?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let unit_name = state
        .directory()
        .unit(&unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let statuses = status_options()
        .into_iter()
        .map(|(k, _)| {
            let st = Status::parse(k).expect("listed");
            (k, labels::status(st, lang))
        })
        .collect();
    let slas = [
        SlaState::NotStarted,
        SlaState::OnTrack,
        SlaState::AtRisk,
        SlaState::Overdue,
    ]
    .iter()
    .map(|st| (st.as_str(), labels::sla(*st, lang)))
    .collect();
    Ok(page(&QueuePage {
        ui: s.ui,
        unit,
        unit_name,
        rows,
        total,
        page: page_no,
        pages,
        f_procedure: q.procedure.clone().unwrap_or_default(),
        f_status: q.status.clone().unwrap_or_default(),
        f_sla: q.sla.clone().unwrap_or_default(),
        f_mine: mine,
        statuses,
        slas,
        prev_href: (page_no > 1).then(|| link(page_no - 1)),
        next_href: (page_no < pages).then(|| link(page_no + 1)),
        sent: q
            .sent
            .clone()
            .filter(|c| crate::domain::dossier::DossierCode::parse(c).is_ok()),
    }))
}

// ---- a dossier ----------------------------------------------------------------------------

struct Fact {
    label: &'static str,
    value: String,
}

struct HistoryRow {
    at: String,
    action: String,
    who: String,
    from: String,
    to: String,
    reason: String,
}

/// An action the caller may take now, with the fields it asks for.
pub struct ActionForm {
    pub action: &'static str,
    pub label: &'static str,
    pub reason: bool,
    pub reason_required: bool,
    pub documents: bool,
    /// `request_supplement`: the procedure's components to tick (kind, name): Form 02's list.
    pub components: Vec<(String, String)>,
    /// `receive`: the procedure's longer limits for named cases (key, label).
    pub variants: Vec<(String, String)>,
    pub unit: bool,
    /// `send_to_agency`: the agency's share in working days.
    pub working_days: bool,
    /// `agency_reply`: the agency's answer.
    pub note: bool,
    pub assignee: bool,
    pub appointment: bool,
    pub amount: bool,
    /// `confirm_payment` (required) and `receive` with a fee due (optional): channel and
    /// reference of the payment.
    pub payment: bool,
    pub payment_required: bool,
    /// `receive`: the fee due, formatted (empty: none).
    pub fee_due: String,
    pub delivery: bool,
    /// A refusal, stop or rejection: shown apart, as a warning.
    pub negative: bool,
}

fn action_form(
    a: Action,
    d: &Dossier,
    components: &[(String, String)],
    variants: &[(String, String)],
    lang: Lang,
) -> ActionForm {
    use Action as A;
    let reason_required = matches!(
        a,
        A::Refuse
            | A::RequestSupplement
            | A::Reject
            | A::Stop
            | A::Transfer
            | A::ApologizeAndExtend
            | A::SendToAgency
    );
    ActionForm {
        action: a.as_str(),
        label: labels::action(a, lang),
        reason: reason_required
            || a == A::RequestWithdrawal
            || (a == A::Receive && !variants.is_empty()),
        reason_required,
        documents: a == A::SubmitSupplement,
        components: if a == A::RequestSupplement {
            components.to_vec()
        } else {
            Vec::new()
        },
        variants: if a == A::Receive {
            variants.to_vec()
        } else {
            Vec::new()
        },
        unit: matches!(a, A::Transfer | A::SendToAgency)
            || (a == A::Assign && d.status == Status::AwaitingRouting),
        working_days: a == A::SendToAgency,
        note: a == A::AgencyReply,
        assignee: a == A::Assign && d.status != Status::AwaitingRouting,
        appointment: a == A::ApologizeAndExtend,
        amount: a == A::RequestPayment,
        payment: a == A::ConfirmPayment || (a == A::Receive && d.fee_due().is_some()),
        payment_required: a == A::ConfirmPayment,
        fee_due: match (a, d.fee_due()) {
            (A::Receive, Some(f)) => ui::vnd(f),
            _ => String::new(),
        },
        delivery: a == A::ReturnResult,
        negative: matches!(a, A::Refuse | A::Stop | A::Reject),
    }
}

struct Doc {
    kind: String,
    file_name: String,
    size: String,
    url: String,
    digitised: bool,
    version: i32,
    superseded: bool,
    /// Shown in the page: `pdf`, `image`, or empty (download only).
    preview: &'static str,
    uploaded_at: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    ui: Ui,
    code: String,
    version: i32,
    status: String,
    sla_class: &'static str,
    sla: String,
    left: String,
    facts: Vec<Fact>,
    applicant: Vec<Fact>,
    masked: bool,
    form: Vec<(String, String)>,
    documents: Vec<Doc>,
    /// The kinds the user may attach now (value, label), empty: no attach form.
    attach_kinds: Vec<(String, String)>,
    /// Staff attach scans of paper (digitised).
    attach_scan: bool,
    missing: Vec<String>,
    routing: Vec<String>,
    deadline: Vec<String>,
    history: Vec<HistoryRow>,
    actions: Vec<ActionForm>,
    staff: Vec<(String, String)>,
    can_print: bool,
    /// A part of a bundle: the bundle's code (its page is linked).
    bundle: Option<String>,
    /// A bundle's parts, each at its competent unit.
    parts: Vec<PartRow>,
    error: Option<String>,
    done: Option<String>,
    /// Receipts: number, amount, how paid (with its reference), where and when.
    receipts: Vec<[String; 5]>,
    /// The applicant may rate the service now (returned, not yet rated).
    rating_form: bool,
    /// The rating given, as shown.
    rated: Option<String>,
    /// Staff, when the national portal is synchronised: where this dossier stands there.
    national: Option<String>,
    /// What the applicant was told: step, channel, status, when (or why not yet).
    messages: Vec<[String; 4]>,
}

/// One part of a bundle on the bundle's page.
#[derive(Debug)]
struct PartRow {
    code: String,
    procedure: String,
    unit: String,
    status: String,
    due: String,
    outcome: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct CaseParams {
    done: Option<String>,
}

/// `/cases/{code}`: a dossier in the caller's scope (403 page for staff outside it).
pub async fn case_page(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Query(q): Query<CaseParams>,
) -> ApiResult<Response> {
    let done = q
        .done
        .as_deref()
        .filter(|d| {
            *d == "submit"
                || *d == "attach_document"
                || *d == "feedback"
                || Action::parse(d).is_some()
        })
        .map(|d| labels::event(d, s.ui.lang));
    render_case(&state, s, &code, None, done, StatusCode::OK).await
}

/// A dossier read refused as not found: for staff outside its scope, a 403 page instead
/// ([`svc::check_page_access`]). Looked up only then, not on every page.
async fn refused_page(deps: &svc::Deps<'_>, actor: &Actor, code: &str, e: ApiError) -> ApiError {
    if e.status() != StatusCode::NOT_FOUND {
        return e;
    }
    match svc::check_page_access(deps, actor, code).await {
        Err(refused) => refused,
        Ok(()) => e,
    }
}

async fn render_case(
    state: &AppState,
    s: Signed,
    code: &str,
    error: Option<String>,
    done: Option<String>,
    status: StatusCode,
) -> ApiResult<Response> {
    let deps = state.dossiers();
    let lang = s.ui.lang;
    let explained = match crate::services::deadlines::explain(&deps, &s.actor, code, lang).await {
        Ok(x) => x,
        Err(e) => return Err(refused_page(&deps, &s.actor, code, e).await),
    };
    let d = &explained.case;
    // The dossier as the explanation read it: one read (and, for an administrator, one
    // audit entry) per page.
    let events = svc::history_of(&deps, d, &s.actor.case_scope()?).await?;
    let now = Utc::now();
    let left = svc::working_time_left(&deps, std::slice::from_ref(d), now)
        .pop()
        .flatten();
    let t = |vi: &'static str, en: &'static str| if lang == Lang::En { en } else { vi };
    let directory = state.directory();
    let unit_name = |u: &str| {
        directory
            .unit(u)
            .map(|i| format!("{} ({u})", i.name))
            .unwrap_or_else(|| u.to_string())
    };
    let mut facts = vec![
        Fact {
            label: t("Thủ tục", "Procedure"),
            value: format!(
                "{} — {}",
                d.procedure_code,
                svc::procedure_name(&deps, d.procedure_code.as_str(), lang).unwrap_or_default()
            ),
        },
        Fact {
            label: t("Kênh nộp", "Channel"),
            value: match d.channel.as_str() {
                "online" => t("Trực tuyến", "Online"),
                "postal" => t("Bưu chính", "Postal"),
                _ => t("Trực tiếp", "In person"),
            }
            .to_string(),
        },
        Fact {
            label: t("Nơi tiếp nhận", "Received at"),
            value: unit_name(d.receiving_unit.as_str()),
        },
        Fact {
            label: t("Đơn vị giải quyết", "Handling unit"),
            value: d
                .handling_unit
                .as_ref()
                .map(|u| unit_name(u.as_str()))
                .unwrap_or_else(|| "—".into()),
        },
        Fact {
            label: t("Ngày nộp", "Filed"),
            value: ui::date_time(d.submitted_at),
        },
        Fact {
            label: t("Ngày tiếp nhận", "Received"),
            value: ui::opt_date_time(d.received_at),
        },
        Fact {
            label: t("Hạn giải quyết", "Legal deadline"),
            value: ui::opt_date_time(d.due_at),
        },
        Fact {
            label: t("Ngày hẹn trả kết quả", "Appointment"),
            value: ui::opt_date_time(d.appointment_at),
        },
        Fact {
            label: t("Người xử lý", "Assigned to"),
            value: match d.assigned_to {
                None => "—".into(),
                Some(id) if id == s.actor.account_id => t("Tôi", "Me").into(),
                Some(_) => t("Cán bộ khác", "Another clerk").into(),
            },
        },
    ];
    facts.push(Fact {
        label: t("Nơi nhận kết quả", "Result collected at"),
        value: unit_name(
            d.result_point
                .as_ref()
                .unwrap_or(&d.receiving_unit)
                .as_str(),
        ),
    });
    facts.push(Fact {
        label: t("Phí, lệ phí", "Fee"),
        value: match (d.fee_vnd, d.fee_due()) {
            (None, _) => t("Không thu", "None").to_string(),
            (Some(f), Some(_)) => format!("{} — {}", ui::vnd(f), t("chưa nộp", "not paid")),
            (Some(f), None) => format!("{} — {}", ui::vnd(f), t("đã nộp", "paid")),
        },
    });
    if let Some(due) = d.payment_due_vnd {
        facts.push(Fact {
            label: t("Khoản phải nộp thêm", "Payment asked for"),
            value: ui::vnd(due),
        });
    }
    if d.supplement_count > 0 {
        facts.push(Fact {
            label: t("Số lần yêu cầu bổ sung", "Supplement requests"),
            value: d.supplement_count.to_string(),
        });
    }
    if let Some(o) = d.outcome {
        facts.push(Fact {
            label: t("Kết quả", "Outcome"),
            value: match o.as_str() {
                "approved" => t("Chấp thuận", "Approved"),
                _ => t("Không chấp thuận", "Rejected"),
            }
            .into(),
        });
    }
    let full = d.shows_personal_data_to(&s.actor);
    let a = &d.applicant;
    let mut applicant = vec![Fact {
        label: t("Họ và tên", "Full name"),
        value: a.full_name.clone(),
    }];
    if let Some(id) = &a.id_number {
        applicant.push(Fact {
            label: t("Số định danh", "ID number"),
            value: if full {
                id.as_str().to_string()
            } else {
                id.masked()
            },
        });
    }
    if let Some(tc) = &a.tax_code {
        applicant.push(Fact {
            label: t("Mã số thuế", "Tax code"),
            value: tc.as_str().to_string(),
        });
    }
    if let Some(p) = &a.phone {
        applicant.push(Fact {
            label: t("Điện thoại", "Phone"),
            value: if full {
                p.as_str().to_string()
            } else {
                p.masked()
            },
        });
    }
    if let (true, Some(e)) = (full, &a.email) {
        applicant.push(Fact {
            label: "Email",
            value: e.as_str().to_string(),
        });
    }
    if let Some(text) = d
        .address
        .get("text")
        .and_then(Value::as_str)
        .filter(|_| full)
    {
        applicant.push(Fact {
            label: t("Địa chỉ", "Address"),
            value: text.to_string(),
        });
    }
    let form = if full {
        d.form
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let spec = svc::spec_of(&deps, d).await?;
    let kind_name = |k: &str| {
        if k == RESULT_KIND {
            return t("Kết quả giải quyết", "Result").to_string();
        }
        spec.required_documents
            .iter()
            .find(|r| r.kind == k)
            .map(|r| {
                if lang == Lang::En {
                    r.name_en.clone()
                } else {
                    r.name_vi.clone()
                }
            })
            .unwrap_or_else(|| k.to_string())
    };
    let documents: Vec<Doc> = crate::services::documents::list_of(&deps, d)
        .await?
        .into_iter()
        .map(|doc| Doc {
            kind: kind_name(&doc.kind),
            url: format!("/cases/{code}/documents/{}", doc.id),
            size: ui::file_size(doc.size),
            digitised: doc.digitised,
            version: doc.version,
            superseded: doc.superseded,
            preview: match doc.media_type.as_str() {
                "application/pdf" => "pdf",
                "image/jpeg" | "image/png" => "image",
                _ => "",
            },
            uploaded_at: ui::date_time(doc.uploaded_at),
            file_name: doc.file_name,
        })
        .collect();
    let mut attach_kinds: Vec<(String, String)> = spec
        .required_documents
        .iter()
        .map(|r| r.kind.clone())
        .chain(["giay_to_khac".to_string(), RESULT_KIND.to_string()])
        .filter(|k| d.may_attach(&s.actor, k).is_ok())
        .map(|k| {
            let label = if k == "giay_to_khac" {
                t("Giấy tờ khác", "Other document").to_string()
            } else {
                kind_name(&k)
            };
            (k, label)
        })
        .collect();
    attach_kinds.dedup();
    let missing: Vec<String> = d
        .missing_components(&spec)
        .iter()
        .map(|k| kind_name(k))
        .collect();
    let routing = d
        .routing
        .get(if lang == Lang::En {
            "explanation_en"
        } else {
            "explanation_vi"
        })
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .unwrap_or_default();
    let history = events
        .iter()
        .map(|e| HistoryRow {
            at: ui::date_time(e.at),
            action: labels::event(&e.action, lang),
            who: format!(
                "{}{}",
                e.actor_role
                    .parse()
                    .map(|r| ui::role_label(r, lang))
                    .unwrap_or(if lang == Lang::En {
                        "System"
                    } else {
                        "Hệ thống"
                    }),
                e.actor_unit
                    .as_deref()
                    .map(|u| format!(" · {u}"))
                    .unwrap_or_default()
            ),
            from: e
                .from_status
                .as_deref()
                .and_then(Status::parse)
                .map(|s| labels::status(s, lang).to_string())
                .unwrap_or_default(),
            to: Status::parse(&e.to_status)
                .map(|s| labels::status(s, lang).to_string())
                .unwrap_or_else(|| e.to_status.clone()),
            reason: e.reason.clone().unwrap_or_default(),
        })
        .collect();
    let available = d.available_actions(&s.actor);
    let staff = if available.contains(&Action::Assign) && d.status != Status::AwaitingRouting {
        match &d.handling_unit {
            Some(u) => crate::services::users::unit_staff(
                &state.db,
                &state.data_keys,
                &s.actor,
                u.as_str(),
            )
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.id.to_string(), m.full_name))
            .collect(),
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let components: Vec<(String, String)> = spec
        .required_documents
        .iter()
        .map(|r| (r.kind.clone(), kind_name(&r.kind)))
        .collect();
    let variants: Vec<(String, String)> = spec
        .limit_variants
        .iter()
        .map(|v| {
            let name = if lang == Lang::En {
                &v.name_en
            } else {
                &v.name_vi
            };
            let days = f64::from(v.time_limit_hours) / 8.0;
            let unit = t("ngày làm việc", "working days");
            (
                v.key.clone(),
                format!("{name} ({days} {unit}; {})", v.legal_basis),
            )
        })
        .collect();
    let actions = available
        .iter()
        .map(|a| action_form(*a, d, &components, &variants, lang))
        .collect();
    let left = match left {
        None => "—".to_string(),
        Some(x) if x < 0 => format!(
            "{} {}",
            t("quá hạn", "overdue by"),
            ui::working_duration(x, 8 * 3600, lang)
        ),
        Some(x) => format!(
            "{} {}",
            ui::working_duration(x, 8 * 3600, lang),
            t("làm việc", "of working time")
        ),
    };
    let parts = if d.bundle_code.is_none() {
        crate::services::bundles::parts(&deps, d).await?
    } else {
        Vec::new()
    };
    let parts = parts
        .iter()
        .map(|p| PartRow {
            code: p.code_str().to_string(),
            procedure: format!(
                "{} — {}",
                p.procedure_code,
                svc::procedure_name(&deps, p.procedure_code.as_str(), lang).unwrap_or_default()
            ),
            unit: p
                .handling_unit
                .as_ref()
                .map(|u| unit_name(u.as_str()))
                .unwrap_or_default(),
            status: labels::status(p.status, lang).to_string(),
            due: ui::opt_date_time(p.due_at),
            outcome: match p.outcome.map(|o| o.as_str()) {
                Some("approved") => t("Chấp thuận", "Approved").into(),
                Some(_) => t("Không chấp thuận", "Rejected").into(),
                None => "—".into(),
            },
        })
        .collect();
    let receipts = d
        .receipts
        .iter()
        .map(|r| {
            let channel = match r.channel {
                crate::domain::dossier::PaymentChannel::Cash => t("Tiền mặt", "Cash"),
                crate::domain::dossier::PaymentChannel::BankTransfer => {
                    t("Chuyển khoản", "Bank transfer")
                }
                crate::domain::dossier::PaymentChannel::OnlineGateway => {
                    t("Thanh toán trực tuyến", "Online payment")
                }
            };
            [
                d.receipt_number(r),
                ui::vnd(r.amount_vnd),
                match &r.reference {
                    Some(x) => format!("{channel} ({x})"),
                    None => channel.to_string(),
                },
                unit_name(r.unit.as_str()),
                ui::date_time(r.at),
            ]
        })
        .collect();
    let national = if state.settings.national.enabled && s.actor.role != Role::Citizen {
        let n = crate::services::national::status(&state.db, d.id).await?;
        Some(match (n.synced, n.synced_at, n.last_error) {
            (true, Some(at), _) => format!(
                "{} {}",
                t("Đã đồng bộ lúc", "Synchronised at"),
                ui::date_time(at)
            ),
            (_, _, Some(e)) => format!(
                "{} ({} {}): {e}",
                t("Chưa đồng bộ được", "Not synchronised yet"),
                n.attempts,
                t("lần thử", "attempts")
            ),
            _ => t("Đang chờ đồng bộ", "Waiting to be synchronised").to_string(),
        })
    } else {
        None
    };
    let messages = crate::services::tell::of_case(&state.db, d.id)
        .await?
        .into_iter()
        .map(|m| {
            let step = match m.kind.as_str() {
                "received" => t("Đã tiếp nhận, ngày hẹn", "Received, appointment"),
                "supplement_requested" => t("Cần bổ sung", "To complete"),
                "payment_requested" => t("Đề nghị nộp phí", "Payment requested"),
                "result_ready" => t("Đã có kết quả", "Result ready"),
                _ => t("Thư xin lỗi, hẹn lại", "Apology, new date"),
            };
            let channel = if m.channel == "email" {
                "E-mail"
            } else {
                "SMS"
            };
            let (status, when) = match (m.status.as_str(), m.sent_at) {
                ("sent", Some(at)) => (t("Đã gửi", "Sent"), ui::date_time(at)),
                ("failed", _) => (
                    t("Không gửi được", "Failed"),
                    m.last_error.unwrap_or_default(),
                ),
                _ => (t("Đang gửi", "Pending"), m.last_error.unwrap_or_default()),
            };
            [
                step.to_string(),
                channel.to_string(),
                status.to_string(),
                when,
            ]
        })
        .collect();
    let is_applicant = d.applicant.account == Some(s.actor.account_id);
    let rating = if is_applicant && d.status == Status::Returned {
        crate::services::feedback::get(&deps, &s.actor, d.code_str())
            .await
            .ok()
    } else {
        None
    };
    let page = CasePage {
        national,
        messages,
        receipts,
        rating_form: is_applicant && d.status == Status::Returned && rating.is_none(),
        rated: rating.map(|r| format!("{}/5", r.rating)),
        bundle: d.bundle_code.as_ref().map(|b| b.to_string()),
        parts,
        code: d.code_str().to_string(),
        version: d.version,
        status: labels::status(d.status, lang).to_string(),
        sla_class: sla_class(d.sla_state),
        sla: labels::sla(d.sla_state, lang).to_string(),
        left,
        facts,
        applicant,
        masked: !full,
        form,
        documents,
        attach_scan: s.actor.role != Role::Citizen,
        attach_kinds,
        missing,
        routing,
        deadline: explained.lines.clone(),
        history,
        actions,
        staff,
        can_print: d.received_at.is_some() && s.actor.role.is_unit_staff(),
        error,
        done,
        ui: s.ui,
    };
    Ok(page_with_status(status, &page))
}

// ---- actions ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct ActionFormBody {
    version: Option<i32>,
    reason: Option<String>,
    documents: Option<String>,
    /// `request_supplement`: one per ticked component.
    #[serde(default)]
    components: Vec<String>,
    working_days: Option<String>,
    note: Option<String>,
    /// `receive`: a longer limit's key (empty: the usual limit).
    variant: Option<String>,
    unit: Option<String>,
    assignee: Option<String>,
    new_appointment_at: Option<String>,
    amount_vnd: Option<String>,
    result_delivery: Option<String>,
    payment_channel: Option<String>,
    payment_reference: Option<String>,
    /// `row`: answer with the queue row (the queue's claim button), not the whole page.
    fragment: Option<String>,
}

fn field_error(field: &'static str, vi: &str, en: &str) -> ApiError {
    ApiError::invalid_field(
        field,
        "invalid_form_field",
        text!(vi.to_string(), en.to_string()),
    )
}

fn parse_action_form(f: ActionFormBody) -> ApiResult<ActionRequest> {
    let nonempty = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let assignee = match nonempty(f.assignee) {
        None => None,
        Some(a) => Some(Uuid::parse_str(&a).map_err(|_| {
            field_error(
                "assignee",
                "Cán bộ được chọn không hợp lệ.",
                "Invalid assignee.",
            )
        })?),
    };
    let new_appointment_at = match nonempty(f.new_appointment_at) {
        None => None,
        Some(v) => Some(ui::parse_local(&v).ok_or_else(|| {
            field_error(
                "new_appointment_at",
                "Ngày hẹn mới không hợp lệ.",
                "Invalid new appointment.",
            )
        })?),
    };
    let amount_vnd = match nonempty(f.amount_vnd) {
        None => None,
        Some(v) => Some(
            v.replace(['.', ' '], "")
                .parse::<i64>()
                .ok()
                .filter(|a| *a > 0)
                .ok_or_else(|| {
                    field_error(
                        "amount_vnd",
                        "Số tiền phải là số đồng dương.",
                        "The amount must be a positive number of đồng.",
                    )
                })?,
        ),
    };
    let result_delivery = match nonempty(f.result_delivery).as_deref() {
        None => None,
        Some("electronic") => Some(ResultDelivery::Electronic),
        Some("in_person") => Some(ResultDelivery::InPerson),
        Some("postal") => Some(ResultDelivery::Postal),
        Some(_) => {
            return Err(field_error(
                "result_delivery",
                "Hình thức trả kết quả không hợp lệ.",
                "Invalid result delivery.",
            ))
        }
    };
    let working_days = match nonempty(f.working_days) {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| {
                    field_error(
                        "working_days",
                        "Số ngày làm việc phải là số nguyên từ 1 đến 365.",
                        "The working days must be a whole number from 1 to 365.",
                    )
                })?,
        ),
    };
    let documents = nonempty(f.documents)
        .map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(50)
                .map(|l| DocumentRef {
                    kind: l.chars().take(200).collect(),
                    document_id: None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ActionRequest {
        version: f.version,
        reason: nonempty(f.reason),
        unit: nonempty(f.unit),
        assignee,
        amount_vnd,
        new_appointment_at,
        documents,
        components: f.components,
        working_days,
        variant: nonempty(f.variant),
        note: nonempty(f.note),
        result_delivery,
        payment_channel: nonempty(f.payment_channel),
        payment_reference: nonempty(f.payment_reference),
    })
}

/// `POST /cases/{code}/actions/{action}`: the state machine decides; back to the dossier
/// (or, from the queue, its row), or the page again with the reason it was refused.
pub async fn act(
    State(state): State<AppState>,
    s: Signed,
    headers: axum::http::HeaderMap,
    Path((code, action)): Path<(String, String)>,
    // axum-extra's form takes a repeated field (`components`) as a list.
    axum_extra::extract::Form(f): axum_extra::extract::Form<ActionFormBody>,
) -> ApiResult<Response> {
    let action = Action::parse(&action).ok_or_else(|| {
        ApiError::not_found(
            "unknown_action",
            text!("Không có thao tác này.", "There is no such action."),
        )
    })?;
    let row = f.fragment.as_deref() == Some("row");
    let lang = s.ui.lang;
    let result = match parse_action_form(f) {
        Ok(req) => svc::act(&state.dossiers(), &s.actor, &code, action, req).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(d) if row && is_htmx(&headers) => {
            let r = rows(&state, &s.actor, lang, std::slice::from_ref(&d), Utc::now())
                .pop()
                .expect("one dossier, one row");
            Ok(page(&RowFragment { ui: s.ui, r }))
        }
        // A unit the dossier has left (an agency that answered, a transfer) no longer sees
        // it: back to its queue, which says so.
        Ok(d)
            if !s
                .actor
                .case_scope()
                .is_ok_and(|scope| scope.covers(&d.access_facts())) =>
        {
            Ok(Redirect::to(&format!("/queue?sent={}", d.code_str())).into_response())
        }
        Ok(d) => Ok(
            Redirect::to(&format!("/cases/{}?done={}", d.code_str(), action.as_str()))
                .into_response(),
        ),
        Err(e) if e.status().is_client_error() && !row => {
            let message = problem_lines(&e, lang).join(" · ");
            let status = e.status();
            match render_case(&state, s, &code, Some(message), None, status).await {
                Ok(res) => Ok(res),
                Err(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

// ---- walk-in intake -----------------------------------------------------------------------

#[derive(Debug, Deserialize, Default, Clone)]
pub struct IntakeForm {
    #[serde(default)]
    procedure_code: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    channel: String,
    /// The fee taken at the counter with the filing (empty: not collected now).
    #[serde(default)]
    payment_channel: String,
    #[serde(default)]
    payment_reference: String,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    ui: Ui,
    procedures: Vec<(String, String)>,
    f: IntakeForm,
    errors: Vec<String>,
}

async fn procedures(state: &AppState, lang: Lang) -> ApiResult<Vec<(String, String)>> {
    let list = crate::services::procedures::list(&state.db, Default::default(), Utc::now()).await?;
    Ok(list
        .into_iter()
        .map(|l| {
            let name = if lang == Lang::En {
                l.spec.name_en
            } else {
                l.spec.name_vi
            };
            (l.stored.code, name)
        })
        .collect())
}

/// `/intake`: the walk-in intake form (reception clerks).
pub async fn intake_form(State(state): State<AppState>, s: Signed) -> ApiResult<Response> {
    if !s.actor.role.is_unit_staff() {
        return Err(staff_only());
    }
    let procedures = procedures(&state, s.ui.lang).await?;
    Ok(page(&IntakePage {
        ui: s.ui,
        procedures,
        f: IntakeForm {
            channel: "in_person".into(),
            ..Default::default()
        },
        errors: Vec::new(),
    }))
}

/// `POST /intake`: files the dossier at the clerk's unit, exactly as the API does, then
/// shows it with its slip to print.
pub async fn intake(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<IntakeForm>,
) -> ApiResult<Response> {
    if !s.actor.role.is_unit_staff() {
        return Err(staff_only());
    }
    let opt = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| Value::String(v.to_string()))
    };
    let mut applicant = serde_json::Map::new();
    applicant.insert("full_name".into(), json!(f.full_name.trim()));
    for (k, v) in [
        ("id_number", &f.id_number),
        ("phone", &f.phone),
        ("email", &f.email),
    ] {
        if let Some(v) = opt(v) {
            applicant.insert(k.into(), v);
        }
    }
    let mut raw = json!({
        "procedure_code": f.procedure_code.trim(),
        "applicant": applicant,
        "address": { "text": f.address.trim() },
        "channel": if f.channel == "postal" { "postal" } else { "in_person" },
    });
    if let Some(c) = opt(&f.payment_channel) {
        raw["payment_channel"] = c;
        if let Some(r) = opt(&f.payment_reference) {
            raw["payment_reference"] = r;
        }
    }
    let lang = s.ui.lang;
    let outcome = match crate::http::cases::parse_intake(&raw) {
        Ok(req) => {
            crate::services::intake::intake(&state.dossiers(), &s.actor, req, &raw, None).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(crate::services::intake::IntakeOutcome::Created(d))
        | Ok(crate::services::intake::IntakeOutcome::Replayed(d)) => {
            // Without the scans of its mandatory components it is filed, not yet received:
            // its page asks for them.
            let done = if d.status == Status::Received {
                "receive"
            } else {
                "submit"
            };
            Ok(Redirect::to(&format!("/cases/{}?done={done}", d.code_str())).into_response())
        }
        Ok(crate::services::intake::IntakeOutcome::ReplayedBody { .. }) => {
            Ok(Redirect::to("/queue").into_response())
        }
        Err(e) if e.status().is_client_error() => {
            let errors = problem_lines(&e, lang);
            let status = e.status();
            let procedures = procedures(&state, lang).await?;
            Ok(page_with_status(
                status,
                &IntakePage {
                    ui: s.ui,
                    procedures,
                    f,
                    errors,
                },
            ))
        }
        Err(e) => Err(e),
    }
}

// ---- the slip (Form 01) -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "slip.html")]
struct SlipPage {
    ui: Ui,
    code: String,
    procedure: String,
    applicant: String,
    received_at: String,
    received_by: String,
    appointment: String,
    documents: Vec<String>,
    track_url: String,
    qr_svg: String,
}

/// `/cases/{code}/slip`: the receipt and appointment slip (Form 01), printable on A5, with a
/// QR code of the public tracking address.
pub async fn slip(
    State(state): State<AppState>,
    s: Signed,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    let deps = state.dossiers();
    let (d, _) = match svc::get(&deps, &s.actor, &code).await {
        Ok(x) => x,
        Err(e) => return Err(refused_page(&deps, &s.actor, &code, e).await),
    };
    if d.received_at.is_none() {
        return Err(ApiError::conflict(
            "not_received",
            text!(
                "Hồ sơ chưa được tiếp nhận: chưa có giấy tiếp nhận và hẹn trả kết quả.",
                "The dossier is not received yet: there is no receipt to print."
            ),
        ));
    }
    let lang = s.ui.lang;
    let base = match state.settings.web.public_url.trim_end_matches('/') {
        "" => format!(
            "http://{}",
            headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1:8080")
        ),
        configured => configured.to_string(),
    };
    let track_url = format!("{base}/track?code={}", d.code_str());
    let qr_svg = qrcode::QrCode::new(track_url.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(140, 140)
                .quiet_zone(true)
                .build()
        })
        .map_err(|e| ApiError::internal(std::io::Error::other(e.to_string())))?;
    // The SVG document's XML declaration is not wanted inside HTML.
    let qr_svg = qr_svg
        .find("<svg")
        .map(|i| qr_svg[i..].to_string())
        .unwrap_or(qr_svg);
    let directory = state.directory();
    let page_data = SlipPage {
        code: d.code_str().to_string(),
        procedure: format!(
            "{} — {}",
            d.procedure_code,
            svc::procedure_name(&deps, d.procedure_code.as_str(), lang).unwrap_or_default()
        ),
        applicant: d.applicant.full_name.clone(),
        received_at: ui::opt_date_time(d.received_at),
        received_by: directory
            .unit(d.receiving_unit.as_str())
            .map(|u| u.name.clone())
            .unwrap_or_else(|| d.receiving_unit.to_string()),
        appointment: ui::opt_date_time(d.appointment_at),
        documents: d
            .documents
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get("kind").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        track_url,
        qr_svg,
        ui: s.ui,
    };
    Ok(page(&page_data))
}

// ---- the applicant's rating ---------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct RatingForm {
    rating: Option<String>,
    comment: Option<String>,
}

/// `POST /cases/{code}/feedback`: the applicant rates the service after the result (once);
/// back to the dossier, or its page again with the reason it was refused.
pub async fn rate(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<RatingForm>,
) -> ApiResult<Response> {
    let lang = s.ui.lang;
    let rating = f
        .rating
        .as_deref()
        .and_then(|r| r.trim().parse::<i64>().ok())
        .unwrap_or(0);
    match crate::services::feedback::rate(&state.dossiers(), &s.actor, &code, rating, f.comment)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{code}?done=feedback")).into_response()),
        Err(e) if e.status().is_client_error() => {
            let message = problem_lines(&e, lang).join(" · ");
            let status = e.status();
            match render_case(&state, s, &code, Some(message), None, status).await {
                Ok(res) => Ok(res),
                Err(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}
