//! Synthetic dossier histories for demos and scale tests.
//!
//! Each dossier is routed by the real routing rules, its deadline computed on the real
//! calendar, and its history replayed through the real state machine
//! ([`lifecycle::transition`]); only the clock is simulated. Some communes are deliberately
//! overloaded (more inflow, slower work) so that backlogs and bottlenecks show up. Rows are
//! written in large batches, which is what makes a million dossiers feasible.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use entity::{case_events, cases};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::domain::access::Actor;
use crate::domain::account::Role;
use crate::domain::calendar::{vn_offset, WorkCalendar};
use crate::domain::dossier::{Channel, DossierCode, ResultDelivery};
use crate::domain::geography::Gazetteer;
use crate::domain::lifecycle::{self, Action, Facts, Input, Status};
use crate::domain::procedure::ProcedureSpec;
use crate::domain::routing::{self, RouteStatus, UnitDirectory};
use crate::domain::sla::{self, SlaState};
use crate::domain::unit::{UnitCode, UnitKind};
use crate::services::reference::Progress;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub cases: u64,
    /// Spread over this many days before `now`.
    pub days: i64,
    pub seed: u64,
    /// How many communes are deliberately overloaded.
    pub overloaded: usize,
    /// Communes that must be among the overloaded ones (e.g. the demo's).
    pub force_overloaded: Vec<String>,
    pub now: DateTime<Utc>,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: u64,
    pub events: u64,
    pub open: u64,
    pub overdue: u64,
    pub overloaded: Vec<String>,
    pub elapsed_ms: u128,
}

/// Procedure weights: common civil-status and residence procedures dominate.
fn weight(code: &str) -> u32 {
    match code {
        "1.001193" => 20,
        "2.000815" => 15,
        "1.004194" => 12,
        "1.004222" => 10,
        "1.000894" | "1.004873" => 8,
        "1.000656" | "2.000884" => 5,
        "1.001612" | "3.000333" => 4,
        "2.001610" => 3,
        "1.013225" | "1.012753" | "1.012783" => 2,
        _ => 1,
    }
}

struct Ctx<'a> {
    gazetteer: &'a Gazetteer,
    directory: &'a UnitDirectory,
    cal: Arc<WorkCalendar>,
    procedures: Vec<(String, i32, ProcedureSpec, u32)>,
    total_weight: u32,
    overloaded: Vec<String>,
    overloaded_set: HashSet<String>,
    ratio: f64,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
}

/// A step of a simulated history.
struct Step {
    action: Action,
    at: DateTime<Utc>,
    input: Input,
}

struct Planned {
    row: cases::ActiveModel,
    events: Vec<case_events::ActiveModel>,
    open: bool,
    overdue: bool,
}

fn pick_procedure<'a>(ctx: &'a Ctx<'_>, rng: &mut StdRng) -> &'a (String, i32, ProcedureSpec, u32) {
    let mut x = rng.gen_range(0..ctx.total_weight);
    for p in &ctx.procedures {
        if x < p.3 {
            return p;
        }
        x -= p.3;
    }
    &ctx.procedures[0]
}

/// How slowly a unit works, as a share of the legal limit (stable per unit).
fn speed(unit: &str, overloaded: bool) -> f64 {
    let h = unit
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    let base = 0.25 + (h % 60) as f64 / 100.0; // 0.25–0.84
    if overloaded {
        base + 2.2
    } else {
        base
    }
}

fn actor(role: Role, unit: &str, province: &str, id: Uuid) -> Actor {
    Actor {
        account_id: id,
        username: "synthetic".into(),
        role,
        unit: UnitCode::parse(unit).ok(),
        province: Some(province.to_string()),
    }
}

#[allow(clippy::too_many_lines)]
fn plan(
    ctx: &Ctx<'_>,
    rng: &mut StdRng,
    counters: &mut HashMap<(String, String), i32>,
    id: i64,
) -> Option<Planned> {
    let (code, version, spec, _) = pick_procedure(ctx, rng);
    // Where the applicant lives: a deliberately overloaded commune gets a share of all
    // commune-level work.
    let ward = if spec.level == crate::domain::unit::Level::Commune
        && !ctx.overloaded.is_empty()
        && rng.gen_bool(0.06)
    {
        let unit = &ctx.overloaded[rng.gen_range(0..ctx.overloaded.len())];
        let w = ctx.directory.unit(unit)?.ward_code.clone()?;
        crate::domain::geography::WardCode::parse(&w).ok()?
    } else {
        let wards = ctx.gazetteer.wards();
        wards[rng.gen_range(0..wards.len())].code
    };
    let resolution = ctx.gazetteer.resolve_ward_code(ward);
    let decision = routing::route(
        ctx.directory,
        &routing::Request {
            procedure: spec,
            resolution: &resolution,
            received_at: None,
            overrides: &[],
            at: ctx.now,
        },
    );
    if decision.status != RouteStatus::Routed {
        return None;
    }
    let handling = decision.handling_unit.clone()?;
    let receiving = decision.receiving_unit.clone()?;
    let province = handling.province_code.clone();
    let cal = &ctx.cal;

    let span = (ctx.now - ctx.start).num_seconds().max(1);
    let t0 = ctx.start + Duration::seconds(rng.gen_range(0..span));
    let submitted = cal.next_working_instant(t0).ok()?;
    if submitted > ctx.now {
        return None;
    }
    let channel = match rng.gen_range(0..100) {
        0..=54 => Channel::Online,
        55..=94 => Channel::InPerson,
        _ => Channel::Postal,
    };
    let budget = spec.limit().budget_hours() as i64 * 3600;
    let overloaded = ctx.overloaded_set.contains(&handling.code);
    let factor = speed(&handling.code, overloaded) * rng.gen_range(0.6..1.5);

    let clerk_id = Uuid::from_u128(rng.gen());
    let reception = actor(
        Role::Clerk,
        &receiving.code,
        &province,
        Uuid::from_u128(rng.gen()),
    );
    let clerk = actor(Role::Clerk, &handling.code, &province, clerk_id);
    let head = actor(
        Role::UnitHead,
        &handling.code,
        &province,
        Uuid::from_u128(rng.gen()),
    );
    let applicant = actor(Role::Citizen, "X", &province, Uuid::from_u128(rng.gen()));

    // The history as it would happen, before cutting it at `now`.
    let mut steps: Vec<(Step, &Actor)> = Vec::new();
    let received = if channel == Channel::Online {
        cal.add_working_secs(submitted, rng.gen_range(600..4 * 3600))
            .ok()?
    } else {
        submitted
    };
    let add = |t: DateTime<Utc>, secs: i64| cal.add_working_secs(t, secs.max(60)).unwrap_or(t);
    let with_reason = |r: &str| Input {
        reason: Some(r.to_string()),
        ..Default::default()
    };
    if channel == Channel::Online {
        if rng.gen_bool(0.02) {
            steps.push((
                Step {
                    action: Action::Refuse,
                    at: received,
                    input: with_reason("Hồ sơ không hợp lệ"),
                },
                &reception,
            ));
        } else {
            steps.push((
                Step {
                    action: Action::Receive,
                    at: received,
                    input: Input::default(),
                },
                &reception,
            ));
        }
    }
    let mut t = add(received, (budget as f64 * 0.05 * factor) as i64);
    steps.push((
        Step {
            action: Action::Claim,
            at: t,
            input: Input::default(),
        },
        &clerk,
    ));
    t = add(t, 900);
    steps.push((
        Step {
            action: Action::StartProcessing,
            at: t,
            input: Input::default(),
        },
        &clerk,
    ));
    let work = (budget as f64 * factor * 0.75) as i64;
    let withdraw = rng.gen_bool(0.01);
    if withdraw {
        t = add(t, work / 3);
        steps.push((
            Step {
                action: Action::RequestWithdrawal,
                at: t,
                input: Input::default(),
            },
            &applicant,
        ));
        t = add(t, 3600);
        steps.push((
            Step {
                action: Action::Stop,
                at: t,
                input: Input::default(),
            },
            &clerk,
        ));
    } else {
        let supplements = if rng.gen_bool(0.015) {
            2
        } else if rng.gen_bool(0.1) {
            1
        } else {
            0
        };
        for _ in 0..supplements {
            t = add(t, work / 4);
            steps.push((
                Step {
                    action: Action::RequestSupplement,
                    at: t,
                    input: with_reason("Thiếu giấy tờ"),
                },
                &clerk,
            ));
            t = add(t, rng.gen_range(8 * 3600..40 * 3600));
            steps.push((
                Step {
                    action: Action::SubmitSupplement,
                    at: t,
                    input: Input::default(),
                },
                &applicant,
            ));
        }
        t = add(t, work);
        steps.push((
            Step {
                action: Action::SendForApproval,
                at: t,
                input: Input::default(),
            },
            &clerk,
        ));
        t = add(t, (budget as f64 * 0.15 * factor) as i64);
        steps.push((
            Step {
                action: Action::Approve,
                at: t,
                input: Input::default(),
            },
            &head,
        ));
        t = add(t, rng.gen_range(600..16 * 3600));
        steps.push((
            Step {
                action: Action::ReturnResult,
                at: t,
                input: Input::default(),
            },
            &reception,
        ));
    }

    // Replay through the state machine, up to now.
    let day = received
        .min(submitted)
        .with_timezone(&vn_offset())
        .date_naive();
    let key = (receiving.code.clone(), day.format("%y%m%d").to_string());
    let n = counters.entry(key).or_insert(0);
    *n += 1;
    let unit_code = UnitCode::parse(&receiving.code).ok()?;
    let code_str = DossierCode::new(&unit_code, day, *n as u32).to_string();

    let walk_in = channel != Channel::Online;
    let mut status = if walk_in {
        Status::Received
    } else {
        Status::Submitted
    };
    let mut received_at = walk_in.then_some(submitted);
    let mut assigned: Option<Uuid> = None;
    let mut resume: Option<Status> = None;
    let mut paused_at: Option<DateTime<Utc>> = None;
    let mut paused_secs = 0i64;
    let mut supplement_count = 0;
    let mut due: Option<DateTime<Utc>> = None;
    let mut risk: Option<DateTime<Utc>> = None;
    let mut original_due = None;
    let mut decided_at = None;
    let mut closed_at = None;
    let mut step_started = received_at;
    let mut events = Vec::new();
    let mut seq = 1;
    let mut event = |seq: &mut i32,
                     action: &str,
                     role: &str,
                     from: Option<Status>,
                     to: Status,
                     at: DateTime<Utc>| {
        events.push(case_events::ActiveModel {
            case_id: Set(id),
            seq: Set(*seq),
            action: Set(action.to_string()),
            actor_id: Set(None),
            actor_role: Set(role.to_string()),
            actor_unit: Set(None),
            from_status: Set(from.map(|s| s.as_str().to_string())),
            to_status: Set(to.as_str().to_string()),
            reason: Set(None),
            data: Set(json!({"synthetic": true})),
            public: Set(true),
            at: Set(at),
            ..Default::default()
        });
        *seq += 1;
    };
    event(
        &mut seq,
        if walk_in { "receive" } else { "submit" },
        "citizen",
        None,
        status,
        submitted,
    );
    let start_clock = |at: DateTime<Utc>| sla::schedule(cal, at, spec.limit(), ctx.ratio).ok();
    if walk_in {
        let s = start_clock(submitted)?;
        due = Some(s.due_at);
        risk = Some(s.at_risk_at);
        original_due = due;
    }
    for (step, who) in &steps {
        if step.at > ctx.now {
            break;
        }
        let facts = Facts {
            status,
            province: &province,
            receiving_unit: &receiving.code,
            handling_unit: Some(&handling.code),
            applicant: Some(applicant.account_id),
            assigned_to: assigned,
            resume_status: resume,
            received: received_at.is_some(),
            paused: paused_at.is_some(),
        };
        let Ok(tr) = lifecycle::transition(&facts, who, step.action, &step.input) else {
            continue;
        };
        for e in &tr.effects {
            match e {
                lifecycle::Effect::StartClock => {
                    received_at = Some(step.at);
                    let s = start_clock(step.at)?;
                    due = Some(s.due_at);
                    risk = Some(s.at_risk_at);
                    original_due = due;
                }
                lifecycle::Effect::PauseClock(_) => paused_at = Some(step.at),
                lifecycle::Effect::ResumeClock => {
                    if let Some(p) = paused_at.take() {
                        let secs = cal.working_secs_between(p, step.at);
                        paused_secs += secs;
                        due = due.and_then(|d| cal.extend_due(d, secs).ok());
                        risk = risk.and_then(|r| cal.extend_due(r, secs).ok());
                    }
                }
                lifecycle::Effect::CountSupplement => supplement_count += 1,
                lifecycle::Effect::RememberResume(s) => resume = Some(*s),
                lifecycle::Effect::SetAssignee(a) => assigned = *a,
                lifecycle::Effect::SetOutcome(_) => decided_at = Some(step.at),
                lifecycle::Effect::Close => closed_at = Some(step.at),
                _ => {}
            }
        }
        let role = who.role.as_str();
        event(
            &mut seq,
            step.action.as_str(),
            role,
            Some(tr.from),
            tr.to,
            step.at,
        );
        if tr.to != tr.from {
            step_started = Some(step.at);
        }
        status = tr.to;
    }
    // The SLA state as the sweeper would have left it.
    let judged_at = decided_at.or(closed_at).or(paused_at).unwrap_or(ctx.now);
    let (sla_state, next_check) = match (due, risk) {
        (Some(d), Some(r)) => {
            let st = sla::state_at(judged_at, r, d);
            let open_running = closed_at.is_none() && decided_at.is_none() && paused_at.is_none();
            (
                st,
                if open_running {
                    sla::next_check(st, r, d)
                } else {
                    None
                },
            )
        }
        _ => (SlaState::NotStarted, None),
    };
    if let (Some(r), Some(d)) = (risk, due) {
        if sla_state >= SlaState::AtRisk {
            event(&mut seq, "sla_at_risk", "system", Some(status), status, r);
        }
        if sla_state == SlaState::Overdue {
            event(&mut seq, "sla_overdue", "system", Some(status), status, d);
        }
    }
    let open = closed_at.is_none();
    let on_time = decided_at
        .zip(due)
        .map(|(dec, d)| dec <= d && supplement_count <= 1);
    let processing = decided_at
        .zip(received_at)
        .map(|(dec, r)| (cal.working_secs_between(r, dec) - paused_secs).max(0));
    let step_key = sla::step_of(status).map(|k| k.as_str().to_string());
    let step_due = step_key.as_ref().and_then(|k| {
        let hours = spec.steps.iter().find(|s| s.key.as_str() == k)?.hours as i64;
        cal.add_working_secs(step_started?, hours * 3600).ok()
    });
    // How a returned result was handed over: mostly electronic for online filings, mostly
    // at the counter otherwise. Taken from the code, not the generator, so that adding it
    // left every other draw of a seeded history as it was.
    let result_delivery = (status == Status::Returned).then(|| {
        let x = code_str
            .bytes()
            .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 100;
        let d = match (channel, x) {
            (Channel::Online, 0..=84) => ResultDelivery::Electronic,
            (Channel::Online, _) => ResultDelivery::InPerson,
            (_, 0..=9) => ResultDelivery::Electronic,
            (_, 10..=24) => ResultDelivery::Postal,
            _ => ResultDelivery::InPerson,
        };
        d.as_str().to_string()
    });
    let row = cases::ActiveModel {
        id: Set(id),
        code: Set(code_str),
        procedure_code: Set(code.clone()),
        procedure_version: Set(*version),
        channel: Set(channel.as_str().into()),
        status: Set(status.as_str().into()),
        national_status: Set(status.national(received_at.is_some()) as i16),
        version: Set(seq),
        applicant_account_id: Set(None),
        applicant_name: Set(format!("Công dân {}", id)),
        applicant_id_number: Set(Some(format!(
            "{:03}{:09}",
            1 + (id % 96),
            id % 1_000_000_000
        ))),
        applicant_tax_code: Set(None),
        applicant_phone: Set(Some(format!("09{:08}", id % 100_000_000))),
        applicant_email: Set(None),
        address: Set(json!({"ward_code": ward.to_string()})),
        ward_code: Set(Some(ward.to_string())),
        province_code: Set(province),
        receiving_unit: Set(receiving.code.clone()),
        handling_unit: Set(Some(handling.code.clone())),
        assigned_to: Set(assigned),
        form: Set(json!({})),
        documents: Set(json!([])),
        routing: Set(json!({"status": "routed", "synthetic": true})),
        submitted_at: Set(submitted),
        received_at: Set(received_at),
        due_at: Set(due),
        original_due_at: Set(original_due),
        appointment_at: Set(due),
        at_risk_at: Set(risk),
        sla_state: Set(sla_state.as_str().into()),
        next_check_at: Set(next_check),
        paused_at: Set(paused_at),
        paused_working_secs: Set(paused_secs),
        resume_status: Set(resume.map(|s| s.as_str().to_string())),
        supplement_count: Set(supplement_count),
        step_key: Set(step_key),
        step_started_at: Set(step_started.filter(|_| !status.is_final())),
        step_due_at: Set(step_due.filter(|_| !status.is_final())),
        outcome: Set(decided_at.map(|_| "approved".to_string())),
        decided_at: Set(decided_at),
        closed_at: Set(closed_at),
        processing_working_secs: Set(processing),
        on_time: Set(on_time),
        result_delivery: Set(result_delivery),
        created_at: Set(submitted),
        updated_at: Set(ctx.now),
    };
    Some(Planned {
        row,
        events,
        open,
        overdue: open && sla_state == SlaState::Overdue,
    })
}

const CASE_BATCH: usize = 500;
const EVENT_BATCH: usize = 2000;

async fn max_id<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let v: Option<Option<i64>> = cases::Entity::find()
        .select_only()
        .column_as(cases::Column::Id.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok(v.flatten().unwrap_or(0))
}

/// Generate `o.cases` dossiers (some may be skipped when a draw cannot be routed; the loop
/// draws until the count is reached).
pub async fn generate(
    state: &AppState,
    o: &Options,
    progress: &mut dyn Progress,
) -> Result<Report, DbErr> {
    let started = std::time::Instant::now();
    let db: &DatabaseConnection = &state.db;
    let directory = state.directory();
    let catalog = crate::repo::procedures::all(db).await?;
    let mut latest: BTreeMap<String, (i32, ProcedureSpec)> = BTreeMap::new();
    for m in &catalog {
        if m.valid_from <= o.now && latest.get(&m.code).is_none_or(|(v, _)| *v < m.version) {
            latest.insert(
                m.code.clone(),
                (m.version, crate::repo::procedures::spec_of(m)?),
            );
        }
    }
    let procedures: Vec<(String, i32, ProcedureSpec, u32)> = latest
        .into_iter()
        .map(|(c, (v, s))| (c.clone(), v, s, weight(&c)))
        .collect();
    let total_weight = procedures.iter().map(|p| p.3).sum();

    let mut rng = StdRng::seed_from_u64(o.seed);
    let mut communes: Vec<String> = directory
        .all()
        .filter(|u| u.kind == UnitKind::CommunePc && u.active)
        .map(|u| u.code.clone())
        .collect();
    communes.sort();
    let mut overloaded: Vec<String> = o.force_overloaded.clone();
    while overloaded.len() < o.overloaded.max(o.force_overloaded.len()) && !communes.is_empty() {
        let c = communes[rng.gen_range(0..communes.len())].clone();
        if !overloaded.contains(&c) {
            overloaded.push(c);
        }
    }
    let ctx = Ctx {
        gazetteer: &state.gazetteer,
        directory: &directory,
        cal: state.calendars.current().default_calendar(),
        procedures,
        total_weight,
        overloaded_set: overloaded.iter().cloned().collect(),
        overloaded: overloaded.clone(),
        ratio: state.settings.sla.at_risk_ratio,
        now: o.now,
        start: o.now - Duration::days(o.days.max(1)),
    };

    let mut report = Report {
        overloaded,
        ..Default::default()
    };
    let mut next_id = max_id(db).await? + 1;
    let mut counters: HashMap<(String, String), i32> = HashMap::new();
    // Continue after numbers already used (a second run, or real intakes).
    for r in entity::unit_day_counters::Entity::find().all(db).await? {
        counters.insert((r.unit_code, r.day), r.last);
    }
    progress.stage("dossiers", o.cases);
    let mut rows = Vec::with_capacity(CASE_BATCH);
    let mut events = Vec::with_capacity(CASE_BATCH * 10);
    let mut attempts = 0u64;
    while report.cases < o.cases && attempts < o.cases * 3 + 100 {
        attempts += 1;
        let Some(p) = plan(&ctx, &mut rng, &mut counters, next_id) else {
            continue;
        };
        next_id += 1;
        report.cases += 1;
        report.open += p.open as u64;
        report.overdue += p.overdue as u64;
        report.events += p.events.len() as u64;
        rows.push(p.row);
        events.extend(p.events);
        if rows.len() == CASE_BATCH {
            flush(db, &mut rows, &mut events).await?;
            progress.advance(CASE_BATCH as u64);
            tokio::task::yield_now().await;
        }
    }
    let n = rows.len() as u64;
    flush(db, &mut rows, &mut events).await?;
    progress.advance(n);

    // Keep the counters ahead of the generated numbers, and PostgreSQL's id sequence ahead
    // of the ids given here.
    let txn = db::begin_write(db).await?;
    let counter_rows: Vec<_> = counters
        .into_iter()
        .map(
            |((unit, day), last)| entity::unit_day_counters::ActiveModel {
                unit_code: Set(unit),
                day: Set(day),
                last: Set(last),
            },
        )
        .collect();
    for chunk in counter_rows.chunks(1000) {
        entity::unit_day_counters::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    entity::unit_day_counters::Column::UnitCode,
                    entity::unit_day_counters::Column::Day,
                ])
                .value(
                    entity::unit_day_counters::Column::Last,
                    Func::greatest([
                        Expr::col((
                            entity::unit_day_counters::Entity,
                            entity::unit_day_counters::Column::Last,
                        )),
                        Expr::cust("excluded.last"),
                    ]),
                )
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))",
        )
        .await?;
    }
    progress.finish();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

async fn flush(
    db: &DatabaseConnection,
    rows: &mut Vec<cases::ActiveModel>,
    events: &mut Vec<case_events::ActiveModel>,
) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let txn = db::begin_write(db).await?;
    for chunk in rows.chunks(CASE_BATCH) {
        cases::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in events.chunks(EVENT_BATCH) {
        case_events::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    rows.clear();
    events.clear();
    Ok(())
}
