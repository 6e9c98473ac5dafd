//! Unit and property tests of the dossier aggregate.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::*;
use crate::domain::access::Actor;
use crate::domain::account::{IdNumber, Phone, Role};
use crate::domain::calendar::{Holidays, WorkCalendar, WorkingHours, YearAnnouncement};
use crate::domain::geography::ProvinceCode;
use crate::domain::lifecycle::{Action, Input, Outcome, Status, TransitionError};
use crate::domain::procedure::{parse_catalog, ProcedureCode, ProcedureSpec, CATALOG_TOML};
use crate::domain::routing::{UnitDirectory, UnitInfo};
use crate::domain::sla::SlaState;
use crate::domain::unit::{UnitCode, UnitKind, DEFAULT_WORKING_HOURS};

pub(crate) const RECEPTION: &str = "01.00004.TTPVHCC";
const HANDLING: &str = "01.00004.UBND";
const OTHER_COMMUNE: &str = "01.00008.UBND";

pub(crate) struct World {
    pub(crate) spec: ProcedureSpec,
    units: UnitDirectory,
    calendar: Arc<WorkCalendar>,
}

pub(crate) fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let year = |text: &str, y: i32| YearAnnouncement::parse_for_year(text, y).unwrap();
        let announcements = [
            year(include_str!("../../../config/calendar/2025.toml"), 2025),
            year(include_str!("../../../config/calendar/2026.toml"), 2026),
        ];
        let holidays = Holidays::build(2024..=2028, &announcements).unwrap();
        let calendar =
            Arc::new(WorkCalendar::new(&holidays, WorkingHours::default(), 2024..=2028).unwrap());
        let unit = |code: &str, kind: UnitKind, ward: &str| UnitInfo {
            code: code.into(),
            name: code.into(),
            name_en: code.into(),
            kind,
            province_code: "01".into(),
            ward_code: Some(ward.into()),
            receives_dossiers: kind.receives_dossiers(),
            active: true,
            working_hours: DEFAULT_WORKING_HOURS.into(),
        };
        let units = UnitDirectory::build([
            unit(RECEPTION, UnitKind::CommuneServiceCentre, "00004"),
            unit(HANDLING, UnitKind::CommunePc, "00004"),
            unit(OTHER_COMMUNE, UnitKind::CommunePc, "00008"),
        ]);
        // The marital status certificate: 3 working days at a commune.
        let spec = parse_catalog(CATALOG_TOML)
            .unwrap()
            .into_iter()
            .find(|p| p.code == "1.004873")
            .unwrap();
        World {
            spec,
            units,
            calendar,
        }
    })
}

pub(crate) fn rules(payment_pauses_clock: bool) -> Rules<'static> {
    let w = world();
    Rules {
        spec: &w.spec,
        units: &w.units,
        calendars: &w.calendar,
        at_risk_ratio: 0.8,
        payment_pauses_clock,
    }
}

fn actor(role: Role, unit: Option<&str>, id: u128) -> Actor {
    Actor {
        account_id: Uuid::from_u128(id),
        username: "x".into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        province: Some("01".into()),
    }
}

pub(crate) fn reception() -> Actor {
    actor(Role::Clerk, Some(RECEPTION), 1)
}
pub(crate) fn clerk() -> Actor {
    actor(Role::Clerk, Some(HANDLING), 2)
}
fn head() -> Actor {
    actor(Role::UnitHead, Some(HANDLING), 3)
}
pub(crate) fn applicant() -> Actor {
    actor(Role::Citizen, None, 4)
}
fn other_clerk() -> Actor {
    actor(Role::Clerk, Some(OTHER_COMMUNE), 5)
}
fn stranger() -> Actor {
    actor(Role::Citizen, None, 6)
}

/// Monday 8 September 2025, 10:00 in Hà Nội (the week after the National Day holidays).
pub(crate) fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 8, 3, 0, 0).unwrap()
}

pub(crate) fn filing(channel: Channel) -> Filing {
    Filing {
        procedure_code: ProcedureCode::parse("1.004873").unwrap(),
        procedure_version: 1,
        channel,
        routed_status: Status::Submitted,
        applicant: Applicant {
            account: None,
            full_name: "Nguyễn Văn An".into(),
            id_number: Some(IdNumber::parse("001203004567").unwrap()),
            tax_code: None,
            phone: Some(Phone::parse("0912345678").unwrap()),
            email: None,
        },
        address: json!({"ward_code": "00004"}),
        ward_code: Some(crate::domain::geography::WardCode::parse("00004").unwrap()),
        province_code: ProvinceCode::parse("01").unwrap(),
        receiving_unit: UnitCode::parse(RECEPTION).unwrap(),
        handling_unit: Some(UnitCode::parse(HANDLING).unwrap()),
        form: json!({}),
        documents: complete(),
        routing: json!({"status": "routed"}),
        result_point: None,
        fee_vnd: None,
        payment: None,
    }
}

/// A file for each mandatory component of the procedure.
fn complete() -> Value {
    json!(world()
        .spec
        .required_documents
        .iter()
        .filter(|r| r.mandatory)
        .map(|r| json!({"id": uuid::Uuid::new_v4(), "kind": r.kind}))
        .collect::<Vec<_>>())
}

fn no_files(channel: Channel) -> Filing {
    Filing {
        documents: json!([]),
        ..filing(channel)
    }
}

#[test]
fn a_walk_in_without_its_mandatory_files_waits_for_them_unreceived() {
    let (mut d, e) = Dossier::file(
        no_files(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    assert_eq!(d.status, Status::Submitted);
    assert_eq!(d.received_at, None);
    assert_eq!(e.kind, EventKind::Submitted);
    assert_eq!(e.data["form"], Value::Null);
    let missing = d.missing_components(&world().spec);
    assert!(!missing.is_empty());
    let before = d.clone();
    let err = d
        .act(
            &reception(),
            Action::Receive,
            &Input::default(),
            &rules(false),
            monday(),
        )
        .unwrap_err();
    assert_eq!(err, TransitionError::MissingComponents(missing.clone()));
    assert_eq!(d, before, "a refused receipt changes nothing");
    // The counter scans the papers: each attachment is recorded, then receipt goes through.
    for kind in &missing {
        let e = d
            .attach(
                &reception(),
                &NewDocument {
                    id: uuid::Uuid::new_v4(),
                    kind: kind.clone(),
                    digitised: true,
                    replaces: None,
                    reused_from: None,
                },
                monday(),
            )
            .unwrap();
        assert_eq!(e.kind, EventKind::DocumentAttached);
        assert_eq!(e.data["digitised"], json!(true));
    }
    assert!(d.missing_components(&world().spec).is_empty());
    act(
        &mut d,
        &reception(),
        Action::Receive,
        Input::default(),
        monday(),
    );
    assert_eq!(d.status, Status::Received);
}

#[test]
fn who_may_attach_what_and_when() {
    let mut d = online();
    d.applicant.account = Some(applicant().account_id);
    let doc = |kind: &str| NewDocument {
        id: uuid::Uuid::new_v4(),
        kind: kind.into(),
        digitised: false,
        replaces: None,
        reused_from: None,
    };
    assert_eq!(d.may_attach(&applicant(), "to_khai"), Ok(()));
    assert_eq!(
        d.may_attach(&stranger(), "to_khai"),
        Err(TransitionError::Forbidden("not_the_applicant"))
    );
    assert_eq!(
        d.may_attach(&applicant(), RESULT_KIND),
        Err(TransitionError::Forbidden("result_by_handling_unit"))
    );
    assert_eq!(
        d.may_attach(&other_clerk(), "to_khai"),
        Err(TransitionError::Forbidden("not_your_unit"))
    );
    act(
        &mut d,
        &reception(),
        Action::Receive,
        Input::default(),
        monday(),
    );
    // Received: the applicant waits for a supplement request to add anything.
    assert_eq!(
        d.may_attach(&applicant(), "to_khai"),
        Err(TransitionError::AttachNotNow(Status::Received))
    );
    // No result before the handling unit examines it.
    assert_eq!(
        d.may_attach(&clerk(), RESULT_KIND),
        Err(TransitionError::AttachNotNow(Status::Received))
    );
    let v = d.version;
    d.attach(&reception(), &doc("ban_sao"), monday()).unwrap();
    assert_eq!(d.version, v + 1);
    // A replacement takes the old one's place in the summary.
    let old = d.attached().last().unwrap().id;
    let new = NewDocument {
        replaces: Some(old),
        ..doc("ban_sao")
    };
    d.attach(&reception(), &new, monday()).unwrap();
    assert!(d.attached().iter().all(|a| a.id != old));
    assert!(d.attached().iter().any(|a| a.id == new.id));
}

#[test]
fn an_electronic_result_needs_the_result_file() {
    let mut d = online();
    let t = monday();
    act(&mut d, &reception(), Action::Receive, Input::default(), t);
    act(&mut d, &clerk(), Action::Claim, Input::default(), t);
    act(
        &mut d,
        &clerk(),
        Action::StartProcessing,
        Input::default(),
        t,
    );
    act(
        &mut d,
        &clerk(),
        Action::SendForApproval,
        Input::default(),
        t,
    );
    act(&mut d, &head(), Action::Approve, Input::default(), t);
    let electronic = Input {
        result_delivery: Some(ResultDelivery::Electronic),
        ..Default::default()
    };
    assert!(!d.result_ready());
    assert_eq!(
        d.act(
            &reception(),
            Action::ReturnResult,
            &electronic,
            &rules(false),
            t
        ),
        Err(TransitionError::ResultFileRequired)
    );
    d.attach(
        &clerk(),
        &NewDocument {
            id: uuid::Uuid::new_v4(),
            kind: RESULT_KIND.into(),
            digitised: true,
            replaces: None,
            reused_from: None,
        },
        t,
    )
    .unwrap();
    assert!(d.result_ready());
    act(&mut d, &reception(), Action::ReturnResult, electronic, t);
    assert_eq!(d.status, Status::Returned);
    assert_eq!(
        d.may_attach(&clerk(), RESULT_KIND),
        Err(TransitionError::Closed)
    );
}

fn online() -> Dossier {
    let (d, e) = Dossier::file(
        filing(Channel::Online),
        &applicant(),
        &rules(false),
        monday(),
    )
    .unwrap();
    assert_eq!(e.kind, EventKind::Submitted);
    d
}

/// A reason, and the component a supplement request names (the procedure's form).
pub(crate) fn reason(r: &str) -> Input {
    Input {
        reason: Some(r.into()),
        components: vec!["to_khai".into()],
        ..Default::default()
    }
}

pub(crate) fn act(
    d: &mut Dossier,
    who: &Actor,
    action: Action,
    input: Input,
    at: DateTime<Utc>,
) -> DossierEvent {
    let mut events = d
        .act(who, action, &input, &rules(false), at)
        .unwrap_or_else(|e| panic!("{action}: {e:?}"));
    assert_eq!(events.len(), 1);
    events.pop().unwrap()
}

#[test]
fn a_walk_in_is_received_at_once_with_form_01() {
    let (d, e) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    assert_eq!(d.status, Status::Received);
    assert_eq!(d.national_status(), 2);
    assert_eq!(d.received_at, Some(monday()));
    assert_eq!(d.sla_state, SlaState::OnTrack);
    assert_eq!(d.applicant.account, None);
    assert_eq!(e.kind, EventKind::ReceivedAtCounter);
    assert_eq!(e.data["form"], json!("01"));
    // 3 working days from Monday 10:00: Thursday 10:00.
    assert_eq!(d.due_at, Some(monday() + Duration::days(3)));
    assert_eq!(d.appointment_at, d.due_at);
    assert_eq!(d.step.as_ref().map(|s| s.key.as_str()), Some("reception"));
}

#[test]
fn online_filing_waits_for_receipt_without_a_clock() {
    let d = online();
    assert_eq!(d.status, Status::Submitted);
    assert_eq!(d.national_status(), 1);
    assert_eq!(d.applicant.account, Some(applicant().account_id));
    assert_eq!(d.due_at, None);
    assert_eq!(d.sla_state, SlaState::NotStarted);
}

#[test]
fn the_plain_path_with_its_events() {
    let mut d = online();
    let t = monday() + Duration::hours(1);
    let e = act(&mut d, &reception(), Action::Receive, Input::default(), t);
    assert_eq!(e.data["form"], json!("01"));
    assert!(e.public);
    assert_eq!(d.version, 2);
    let e = act(&mut d, &clerk(), Action::Claim, Input::default(), t);
    assert!(!e.public, "claims are internal");
    assert_eq!(d.assigned_to, Some(clerk().account_id));
    act(
        &mut d,
        &clerk(),
        Action::StartProcessing,
        Input::default(),
        t,
    );
    act(
        &mut d,
        &clerk(),
        Action::SendForApproval,
        Input::default(),
        t,
    );
    let e = act(&mut d, &head(), Action::Approve, Input::default(), t);
    assert_eq!(e.data["outcome"], json!("approved"));
    assert_eq!(d.on_time, Some(true));
    assert_eq!(d.outcome, Some(Outcome::Approved));
    let input = Input {
        result_delivery: Some(ResultDelivery::Postal),
        ..Default::default()
    };
    act(&mut d, &reception(), Action::ReturnResult, input, t);
    assert_eq!(d.status, Status::Returned);
    assert_eq!(d.national_status(), 10);
    assert_eq!(d.closed_at, Some(t));
    assert_eq!(d.step, None);
    assert_eq!(d.result_delivery, Some(ResultDelivery::Postal));
    assert_eq!(d.version, 7);
}

#[test]
fn a_supplement_pauses_the_clock_and_its_answer_moves_the_deadline_by_the_paused_time() {
    let (mut d, _) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    let due = d.due_at.unwrap();
    let e = act(
        &mut d,
        &clerk(),
        Action::RequestSupplement,
        reason("thiếu giấy"),
        monday(),
    );
    assert_eq!(e.data["form"], json!("02"));
    assert_eq!(
        e.pause,
        Some(PauseChange::Started(
            crate::domain::lifecycle::PauseReason::Supplement
        ))
    );
    assert_eq!(d.next_check_at, None);
    assert_eq!(d.national_status(), 5);
    // Answered the next morning at 10:00: one working day (8 h) paused.
    let next = monday() + Duration::days(1);
    let who = applicant_of(&d);
    let e = act(
        &mut d,
        &who,
        Action::SubmitSupplement,
        Input::default(),
        next,
    );
    assert_eq!(
        e.pause,
        Some(PauseChange::Ended {
            working_secs: 8 * 3600
        })
    );
    assert_eq!(d.due_at, Some(due + Duration::days(1)));
    assert_eq!(d.appointment_at, d.due_at);
    assert_eq!(d.paused_working_secs, 8 * 3600);
    assert_eq!(d.status, Status::Received);
}

/// A walk-in's supplement is recorded by a clerk; an online one by its applicant.
pub(crate) fn applicant_of(d: &Dossier) -> Actor {
    match d.applicant.account {
        Some(id) => Actor {
            account_id: id,
            ..applicant()
        },
        None => reception(),
    }
}

#[test]
fn decision_766_late_after_two_supplement_requests() {
    assert!(on_time(monday(), monday(), 1));
    assert!(!on_time(monday(), monday(), 2));
    assert!(!on_time(monday() + Duration::seconds(1), monday(), 0));
    let (mut d, _) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    for _ in 0..2 {
        act(
            &mut d,
            &clerk(),
            Action::RequestSupplement,
            reason("thiếu"),
            monday(),
        );
        act(
            &mut d,
            &reception(),
            Action::SubmitSupplement,
            Input::default(),
            monday(),
        );
    }
    act(
        &mut d,
        &clerk(),
        Action::StartProcessing,
        Input::default(),
        monday(),
    );
    act(
        &mut d,
        &clerk(),
        Action::SendForApproval,
        Input::default(),
        monday(),
    );
    act(&mut d, &head(), Action::Approve, Input::default(), monday());
    assert_eq!(d.supplement_count, 2);
    assert_eq!(d.on_time, Some(false));
}

#[test]
fn refusal_stop_transfer_and_apology_issue_their_forms() {
    let mut d = online();
    let e = act(
        &mut d,
        &reception(),
        Action::Refuse,
        reason("không hợp lệ"),
        monday(),
    );
    assert_eq!(e.data["form"], json!("03"));
    assert_eq!(d.national_status(), 3);

    let (mut d, _) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    let input = Input {
        reason: Some("đúng thẩm quyền".into()),
        unit: Some(OTHER_COMMUNE.into()),
        ..Default::default()
    };
    let e = act(&mut d, &clerk(), Action::Transfer, input, monday());
    assert_eq!(e.data["form"], json!("06"));
    assert_eq!(e.data["from_unit"], json!(HANDLING));
    assert_eq!(
        d.handling_unit.as_ref().map(UnitCode::as_str),
        Some(OTHER_COMMUNE)
    );
    assert_eq!(d.ward_code.map(|w| w.to_string()), Some("00008".into()));

    let later = d.due_at.unwrap() + Duration::days(2);
    let input = Input {
        reason: Some("quá tải".into()),
        new_appointment_at: Some(later),
        ..Default::default()
    };
    let e = act(
        &mut d,
        &other_clerk(),
        Action::ApologizeAndExtend,
        input,
        monday(),
    );
    assert_eq!(e.data["form"], json!("04"));
    assert_eq!(d.appointment_at, Some(later));
    assert_ne!(
        d.due_at,
        Some(later),
        "an apology never moves the legal deadline"
    );

    let stop = Input {
        reason: Some("dừng".into()),
        ..Default::default()
    };
    let other_head = actor(Role::UnitHead, Some(OTHER_COMMUNE), 9);
    let e = act(&mut d, &other_head, Action::Stop, stop, monday());
    assert_eq!(e.data["form"], json!("05"));
    assert_eq!(d.national_status(), 8);
}

#[test]
fn refused_effects_change_nothing() {
    let (mut d, _) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    let before = d.clone();
    let to_a_centre = Input {
        reason: Some("x".into()),
        unit: Some(RECEPTION.into()),
        ..Default::default()
    };
    assert_eq!(
        d.act(
            &clerk(),
            Action::Transfer,
            &to_a_centre,
            &rules(false),
            monday()
        ),
        Err(TransitionError::InvalidField {
            field: "unit",
            code: "not_a_handling_unit"
        })
    );
    let outsider = Input {
        assignee: Some(Uuid::from_u128(77)),
        assignee_unit: Some(UnitCode::parse(OTHER_COMMUNE).unwrap()),
        ..Default::default()
    };
    assert_eq!(
        d.act(&head(), Action::Assign, &outsider, &rules(false), monday()),
        Err(TransitionError::InvalidField {
            field: "assignee",
            code: "invalid_assignee"
        })
    );
    let not_later = Input {
        reason: Some("x".into()),
        new_appointment_at: d.due_at,
        ..Default::default()
    };
    assert!(d
        .act(
            &clerk(),
            Action::ApologizeAndExtend,
            &not_later,
            &rules(false),
            monday()
        )
        .is_err());
    assert_eq!(d, before);
}

#[test]
fn payment_pauses_the_clock_only_where_configured() {
    for pauses in [false, true] {
        let (mut d, _) = Dossier::file(
            filing(Channel::InPerson),
            &reception(),
            &rules(pauses),
            monday(),
        )
        .unwrap();
        d.act(
            &clerk(),
            Action::StartProcessing,
            &Input::default(),
            &rules(pauses),
            monday(),
        )
        .unwrap();
        let pay = Input {
            amount_vnd: Some(50_000),
            ..Default::default()
        };
        let e = d
            .act(
                &clerk(),
                Action::RequestPayment,
                &pay,
                &rules(pauses),
                monday(),
            )
            .unwrap();
        assert_eq!(e[0].data["amount_vnd"], json!(50_000));
        assert_eq!(d.paused_at.is_some(), pauses);
        assert_eq!(d.national_status(), 6);
    }
}

#[test]
fn the_sweeper_records_each_state_once_at_the_instant_it_was_reached() {
    let (mut d, _) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    let (risk, due) = (d.at_risk_at.unwrap(), d.due_at.unwrap());
    assert!(
        d.sla_check(risk - Duration::seconds(1)).is_empty(),
        "never early"
    );
    // A late sweep crosses both thresholds at once.
    let events = d.sla_check(due + Duration::hours(5));
    let kinds: Vec<_> = events.iter().map(|e| (e.kind, e.at)).collect();
    assert_eq!(
        kinds,
        vec![
            (
                EventKind::Sla {
                    from: SlaState::OnTrack,
                    to: SlaState::AtRisk
                },
                risk
            ),
            (
                EventKind::Sla {
                    from: SlaState::AtRisk,
                    to: SlaState::Overdue
                },
                due
            ),
        ]
    );
    assert!(events.iter().all(|e| !e.public));
    assert_eq!(d.sla_state, SlaState::Overdue);
    assert_eq!(d.next_check_at, None);
    assert!(d.sla_check(due + Duration::days(9)).is_empty());
    let notice = d.notice(&events[1], due);
    assert_eq!(notice.topic, "sla.overdue");
    assert_eq!(notice.payload["apology_due"], json!(true));
}

#[test]
fn a_recomputed_deadline_keeps_the_pauses_and_an_apology() {
    let (mut d, _) = Dossier::file(
        filing(Channel::InPerson),
        &reception(),
        &rules(false),
        monday(),
    )
    .unwrap();
    assert!(d
        .recompute_deadline(&rules(false), &[], None, monday())
        .is_none());
    d.due_at = d.due_at.map(|t| t + Duration::hours(1));
    let e = d
        .recompute_deadline(&rules(false), &[], Some(7), monday())
        .expect("moved back");
    assert_eq!(e.kind, EventKind::DeadlineRecomputed);
    assert_eq!(e.data["announcement_id"], json!(7));
    assert_eq!(d.due_at, Some(monday() + Duration::days(3)));
}

// ---------------------------------------------------------------------------------------
// Invariants under random histories.

/// Every action, and the sweeper's look (`None`): a new action is fuzzed as soon as it exists.
fn kinds() -> Vec<Option<Action>> {
    Action::ALL.into_iter().map(Some).chain([None]).collect()
}

fn actors() -> [Actor; 6] {
    [
        reception(),
        clerk(),
        head(),
        applicant(),
        other_clerk(),
        stranger(),
    ]
}

/// Whatever the action may need, so that the state machine, not a missing field, decides.
fn full_input(action: Action, now: DateTime<Utc>, d: &Dossier, variant: u8) -> Input {
    Input {
        reason: (variant % 5 != 0).then(|| "lý do".to_string()),
        unit: Some(
            if variant % 2 == 0 {
                OTHER_COMMUNE
            } else {
                HANDLING
            }
            .to_string(),
        ),
        assignee: Some(clerk().account_id),
        assignee_unit: d.handling_unit.clone(),
        amount_vnd: Some(10_000),
        // The fee at receipt is refused when none is due: only the payment asked for.
        payment: (action == Action::ConfirmPayment).then_some(super::Payment {
            channel: super::PaymentChannel::Cash,
            reference: None,
        }),
        new_appointment_at: Some(
            d.appointment_at.unwrap_or(now) + Duration::days(i64::from(variant % 3)),
        ),
        documents: Vec::new(),
        parts_pending: Vec::new(),
        components: if variant % 7 == 0 {
            vec!["khong_co".into()]
        } else {
            vec!["to_khai".into()]
        },
        working_days: Some(u32::from(variant % 4) * 3),
        variant: None,
        note: None,
        result_delivery: (action == Action::ReturnResult).then_some(ResultDelivery::InPerson),
    }
}

fn check_consistent(d: &Dossier) {
    let n = d.national_status();
    assert_eq!(n, d.status.national(d.received_at.is_some()));
    assert!((1..=10).contains(&n));
    if matches!(
        d.status,
        Status::Received | Status::Assigned | Status::Processing | Status::AwaitingApproval
    ) {
        assert!(d.received_at.is_some(), "{:?} without receipt", d.status);
        assert!(n >= 2);
    }
    assert_eq!(d.status.is_final(), d.closed_at.is_some(), "{:?}", d.status);
    assert_eq!(
        d.consulted_unit.is_some(),
        d.status == Status::AwaitingAgency
            || (d.status == Status::WithdrawalRequested
                && d.withdrawn_from == Some(Status::AwaitingAgency)),
        "{:?}",
        d.status
    );
    if d.status == Status::SupplementAtCounter {
        assert!(
            d.received_at.is_none(),
            "a counter supplement comes before receipt"
        );
    }
    if d.status == Status::WithdrawalRequested {
        assert!(
            d.withdrawn_from.is_some(),
            "a withdrawal remembers where it was"
        );
    } else if d.withdrawn_from.is_some() {
        assert_eq!(
            d.status,
            Status::Stopped,
            "only a stop ends a withdrawal otherwise"
        );
    }
    if d.paused_at.is_some() {
        assert_eq!(d.next_check_at, None, "a paused clock is not checked");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_histories_keep_the_invariants(
        walk_in in any::<bool>(),
        payment_pauses in any::<bool>(),
        steps in prop::collection::vec((0..Action::ALL.len() + 1, 0usize..6, any::<u8>(), 0u32..3000), 1..40),
    ) {
        let rules = rules(payment_pauses);
        let (mut d, filer) = if walk_in {
            (Dossier::file(filing(Channel::InPerson), &reception(), &rules, monday()).unwrap().0, reception())
        } else {
            (Dossier::file(filing(Channel::Online), &applicant(), &rules, monday()).unwrap().0, applicant())
        };
        let _ = filer;
        check_consistent(&d);
        let mut now = monday();
        let actors = actors();
        let kinds = kinds();
        for (a, who, variant, minutes) in steps {
            now += Duration::minutes(i64::from(minutes));
            let before = d.clone();
            match kinds[a] {
                None => {
                    let events = d.sla_check(now);
                    prop_assert_eq!(d.version, before.version);
                    prop_assert_eq!(d.due_at, before.due_at);
                    if before.paused_at.is_some() || before.closed_at.is_some() {
                        prop_assert_eq!(d.sla_state, before.sla_state, "paused or closed: no SLA move");
                        prop_assert!(events.is_empty());
                    }
                    prop_assert!(d.sla_state >= before.sla_state, "the SLA state never goes back");
                    prop_assert_eq!(events.len() as i32 > 0, d.sla_state != before.sla_state);
                }
                Some(action) => {
                    let input = full_input(action, now, &d, variant);
                    match d.act(&actors[who], action, &input, &rules, now) {
                        Ok(events) => {
                            prop_assert!(before.closed_at.is_none(), "a closed dossier accepts nothing");
                            prop_assert_eq!(d.version, before.version + 1);
                            prop_assert_eq!(events.len(), 1);
                            prop_assert_eq!(events[0].public, action.is_public());
                            prop_assert_eq!(events[0].to_status, d.status);
                            if before.due_at.is_some() && d.due_at != before.due_at {
                                prop_assert!(
                                    matches!(action, Action::SubmitSupplement | Action::ConfirmPayment),
                                    "{action} moved the deadline"
                                );
                            }
                            if before.paused_at.is_some() && d.paused_at.is_some() {
                                prop_assert_eq!(d.sla_state, before.sla_state);
                            }
                        }
                        Err(_) => prop_assert_eq!(&d, &before, "a refused action changes nothing"),
                    }
                }
            }
            check_consistent(&d);
        }
    }
}

/// Decree 63/2024/NĐ-CP (amended by Decree 301/2026/NĐ-CP): a bundle's part is a dossier at
/// its unit, timed by its share; parts waiting for a refused one never open; a part returns
/// nothing itself and closes with its bundle.
#[test]
fn a_bundle_part_is_timed_by_its_share_and_closes_with_its_bundle() {
    let catalog = parse_catalog(CATALOG_TOML).unwrap();
    let spec = catalog.iter().find(|p| p.code == "3.000722").unwrap();
    let mut bundle = online();
    bundle.id = 1;
    bundle.code = Some(DossierCode::parse("01.00004.TTPVHCC-250707-0001").unwrap());
    act(
        &mut bundle,
        &reception(),
        Action::Receive,
        Input::default(),
        monday(),
    );
    let at = monday() + Duration::hours(1);
    let unit = crate::domain::unit::UnitCode::parse(HANDLING).unwrap();
    let (part, event) = bundle
        .open_part(&spec.parts[0], 1, unit, &rules(false), at)
        .unwrap();
    assert_eq!(part.bundle_code, bundle.code);
    assert_eq!(part.procedure_code.as_str(), "1.001193");
    assert_eq!(part.status, Status::Received);
    assert_eq!(part.documents, json!([]), "the caller gives it copies");
    assert_eq!(
        part.due_at,
        Some(world().calendar.add_working_secs(at, 8 * 3600).unwrap()),
        "its share: 8 working hours"
    );
    assert_eq!((event.kind, event.public), (EventKind::PartOpened, false));

    let all = ["1.001193", "1.004222", "3.000722.03"];
    assert_eq!(parts_pending(spec, std::slice::from_ref(&part)), all);
    let mut decided = part.clone();
    (decided.status, decided.decided_at) = (Status::Decided, Some(at));
    decided.outcome = Some(Outcome::Rejected);
    assert!(
        parts_pending(spec, std::slice::from_ref(&decided)).is_empty(),
        "nothing waits for a refused birth registration"
    );
    decided.outcome = Some(Outcome::Approved);
    assert_eq!(
        parts_pending(spec, std::slice::from_ref(&decided)),
        &all[1..]
    );

    let refused = decided.clone().act(
        &head(),
        Action::ReturnResult,
        &Input::default(),
        &rules(false),
        at,
    );
    assert!(matches!(refused, Err(TransitionError::BundlePart)));
    assert!(!decided
        .available_actions(&head())
        .contains(&Action::ReturnResult));

    bundle.status = Status::Returned;
    let mut open = part.clone();
    let cal = &world().calendar;
    let e = decided.close_with_bundle(&bundle, cal, at).unwrap();
    assert_eq!(
        (e.kind, decided.status),
        (EventKind::ClosedWithBundle, Status::Returned)
    );
    open.paused_at = Some(at);
    let e = open
        .close_with_bundle(&bundle, cal, at + Duration::minutes(20))
        .unwrap();
    assert_eq!(open.status, Status::Stopped, "an undecided part stops");
    assert_eq!(
        e.pause,
        Some(PauseChange::Ended { working_secs: 1200 }),
        "its pause ends"
    );
    assert!(
        open.close_with_bundle(&bundle, cal, at).is_none(),
        "closed once"
    );
}
