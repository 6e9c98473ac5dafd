//! Synthetic dossier histories for demos and scale tests.
//!
//! Each dossier is routed by the real routing rules, filed and replayed through the dossier's
//! own rules ([`Dossier::file`], [`Dossier::act`], and [`Dossier::sla_check`] as the sweeper
//! would have called it), on the real calendars; only the clock is simulated, so synthetic
//! data cannot disagree with what the service does. Some communes are deliberately
//! overloaded (more inflow, slower work) so that backlogs and bottlenecks show up. Rows are
//! written in large batches, which is what makes a million dossiers feasible.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::domain::access::Actor;
use crate::domain::account::{IdNumber, Phone, Role};
use crate::domain::calendar::vn_offset;
use crate::domain::dossier::{
    Applicant, Channel, Document, Dossier, DossierCode, DossierEvent, Filing, Pause, PauseChange,
    ResultDelivery, Rules, RESULT_KIND,
};
use crate::domain::geography::{Gazetteer, ProvinceCode};
use crate::domain::lifecycle::{Action, Input, Status};
use crate::domain::procedure::{ProcedureCode, ProcedureSpec};
use crate::domain::routing::{self, RouteStatus, UnitDirectory};
use crate::domain::sla::SlaState;
use crate::domain::unit::{UnitCode, UnitKind};
use crate::progress::Progress;
use crate::repo;
use crate::repo::dossiers::History;
use crate::services::calendar::Calendars;
use crate::services::cases::Deps;
use crate::services::documents::new_documents;

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
    /// How many of the `cases` are left open (`None`: as the histories fall, about 1–2 %).
    /// The open ones are submitted within the last [`OPEN_WINDOW_DAYS`] days, the closed
    /// ones over `days`; draws that fall the other way are discarded.
    pub open: Option<u64>,
}

/// The days within which the dossiers asked to be left open are submitted: recent enough
/// that most are still being handled.
pub const OPEN_WINDOW_DAYS: i64 = 10;

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
    calendars: &'a Calendars,
    procedures: Vec<(ProcedureCode, i32, ProcedureSpec, u32)>,
    total_weight: u32,
    overloaded: Vec<String>,
    overloaded_set: HashSet<String>,
    ratio: f64,
    payment_pauses_clock: bool,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    /// The one stored file every synthetic document is (hash, size).
    specimen: (String, i64),
}

/// A synthetic dossier's file: the specimen, under the kind and actor given.
fn specimen_doc(
    ctx: &Ctx<'_>,
    id: Uuid,
    kind: &str,
    digitised: bool,
    by: &Actor,
    at: DateTime<Utc>,
) -> Document {
    Document {
        id,
        kind: kind.to_string(),
        file_name: format!("{kind}.pdf"),
        sha256: ctx.specimen.0.clone(),
        size: ctx.specimen.1,
        media_type: "application/pdf".into(),
        digitised,
        version: 1,
        replaces: None,
        reused_from: None,
        uploaded_by: Some(by.account_id),
        uploaded_by_role: by.role.as_str().to_string(),
        uploaded_at: at,
        superseded: false,
    }
}

/// Store the specimen file synthetic dossiers hold (once: it is content-addressed).
async fn store_specimen(storage: &crate::storage::Storage) -> Result<(String, i64), DbErr> {
    let bytes = bytes::Bytes::from_static(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% motcua synthetic specimen\ntrailer << /Root 1 0 R >>\n%%EOF\n",
    );
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes)]);
    let r = storage
        .receive(stream, u64::MAX)
        .await
        .map_err(|e| DbErr::Custom(format!("storage: {e}")))?;
    storage
        .commit(&r)
        .await
        .map_err(|e| DbErr::Custom(format!("storage: {e}")))?;
    Ok((r.sha256, r.size as i64))
}

/// A synthetic document's id: from the dossier's and the file's numbers, so that the same
/// seed gives the same histories.
fn doc_id(case: i64, k: usize) -> Uuid {
    Uuid::from_u128(((case as u128) << 16) | k as u128)
}

/// A step of a simulated history.
struct Step {
    action: Action,
    at: DateTime<Utc>,
    input: Input,
}

struct Planned {
    history: History,
    open: bool,
    overdue: bool,
}

fn pick_procedure<'a>(
    ctx: &'a Ctx<'_>,
    rng: &mut StdRng,
) -> &'a (ProcedureCode, i32, ProcedureSpec, u32) {
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
    start: DateTime<Utc>,
    rng: &mut StdRng,
    counters: &mut HashMap<(String, String), i32>,
    id: i64,
) -> Option<Planned> {
    let (code_of, version, spec, _) = pick_procedure(ctx, rng);
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
            result_point: None,
            boundary_independent: spec.boundary_independent,
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
    let rules = Rules {
        spec,
        units: ctx.directory,
        calendars: ctx.calendars,
        at_risk_ratio: ctx.ratio,
        payment_pauses_clock: ctx.payment_pauses_clock,
    };
    let unit_code = UnitCode::parse(&handling.code).ok()?;
    let cal = &rules.calendar(Some(&unit_code));

    let span = (ctx.now - start).num_seconds().max(1);
    let t0 = start + Duration::seconds(rng.gen_range(0..span));
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
    // The applicant acts online; for a walk-in, the reception clerk records it at the counter.
    let applicant_side = if channel == Channel::Online {
        &applicant
    } else {
        &reception
    };

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
            applicant_side,
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
                    input: Input {
                        components: spec
                            .required_documents
                            .iter()
                            .take(1)
                            .map(|c| c.kind.clone())
                            .collect(),
                        ..with_reason("Thiếu giấy tờ")
                    },
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
                applicant_side,
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

    // Numbered as the receiving unit's counter would have numbered it.
    let day = received
        .min(submitted)
        .with_timezone(&vn_offset())
        .date_naive();
    let key = (receiving.code.clone(), day.format("%y%m%d").to_string());
    let n = counters.entry(key).or_insert(0);
    *n += 1;
    let code = DossierCode::new(&UnitCode::parse(&receiving.code).ok()?, day, *n as u32);
    // How a returned result was handed over: mostly electronic for online filings, mostly
    // at the counter otherwise. Taken from the code, not the generator, so that adding it
    // left every other draw of a seeded history as it was.
    let x = code
        .as_str()
        .bytes()
        .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 100;
    let delivery = match (channel, x) {
        (Channel::Online, 0..=84) => ResultDelivery::Electronic,
        (Channel::Online, _) => ResultDelivery::InPerson,
        (_, 0..=9) => ResultDelivery::Electronic,
        (_, 10..=24) => ResultDelivery::Postal,
        _ => ResultDelivery::InPerson,
    };
    for (step, _) in &mut steps {
        if step.action == Action::ReturnResult {
            step.input.result_delivery = Some(delivery);
        }
    }

    let filing = Filing {
        procedure_code: code_of.clone(),
        procedure_version: *version,
        channel,
        routed_status: Status::Submitted,
        applicant: Applicant {
            account: None,
            full_name: format!("Công dân {id}"),
            id_number: IdNumber::parse(&format!("{:03}{:09}", 1 + (id % 96), id % 1_000_000_000))
                .ok(),
            tax_code: None,
            phone: Phone::parse(&format!("09{:08}", id % 100_000_000)).ok(),
            email: None,
        },
        address: json!({"ward_code": ward.to_string()}),
        ward_code: Some(ward),
        province_code: ProvinceCode::parse(&province).ok()?,
        receiving_unit: UnitCode::parse(&receiving.code).ok()?,
        handling_unit: Some(unit_code),
        form: json!({}),
        documents: Value::Null,
        routing: json!({"status": "routed", "synthetic": true}),
        result_point: None,
        fee_vnd: Some(spec.fee_vnd),
        payment: None,
    };
    // The mandatory components, uploaded online or scanned at the counter.
    let walk_in = channel != Channel::Online;
    let mut documents: Vec<Document> = spec
        .required_documents
        .iter()
        .filter(|r| r.mandatory)
        .enumerate()
        .map(|(k, r)| {
            let by = if walk_in { &reception } else { &applicant };
            specimen_doc(ctx, doc_id(id, k), &r.kind, walk_in, by, submitted)
        })
        .collect();
    let filing = Filing {
        documents: Dossier::summary_of(&new_documents(&documents)),
        ..filing
    };
    let filer = if channel == Channel::Online {
        &applicant
    } else {
        &reception
    };
    let (mut dossier, first) = Dossier::file(filing, filer, &rules, submitted).ok()?;
    (dossier.id, dossier.code) = (id, Some(code));
    let mut events = vec![first];
    // Replayed up to now, with the sweeper looking whenever a check fell due.
    for (step, who) in &steps {
        if step.at > ctx.now {
            break;
        }
        events.extend(dossier.sla_check(step.at));
        // An electronic result is the handling unit's file, attached before it is returned.
        if step.action == Action::ReturnResult
            && step.input.result_delivery == Some(ResultDelivery::Electronic)
        {
            let doc = specimen_doc(ctx, doc_id(id, 99), RESULT_KIND, true, &clerk, step.at);
            if let Ok(e) = dossier.attach(
                &clerk,
                &new_documents(std::slice::from_ref(&doc))[0],
                step.at,
            ) {
                events.push(e);
                documents.push(doc);
            }
        }
        // A step the rules refuse is skipped, as a clerk would find it refused.
        if let Ok(done) = dossier.act(who, step.action, &step.input, &rules, step.at) {
            events.extend(done);
        }
    }
    events.extend(dossier.sla_check(ctx.now));
    let pauses = pauses_of(&events);
    let open = dossier.closed_at.is_none();
    let overdue = open && dossier.sla_state == SlaState::Overdue;
    Some(Planned {
        history: History {
            dossier,
            events,
            pauses,
            documents,
        },
        open,
        overdue,
    })
}

/// The pause records a replayed history implies.
fn pauses_of(events: &[DossierEvent]) -> Vec<Pause> {
    let mut out: Vec<Pause> = Vec::new();
    for e in events {
        match e.pause {
            Some(PauseChange::Started(reason)) => out.push(Pause {
                reason: reason.as_str().to_string(),
                started_at: e.at,
                ended_at: None,
                working_secs: None,
            }),
            Some(PauseChange::Ended { working_secs }) => {
                if let Some(p) = out.last_mut().filter(|p| p.ended_at.is_none()) {
                    p.ended_at = Some(e.at);
                    p.working_secs = Some(working_secs);
                }
            }
            None => {}
        }
    }
    out
}

/// Dossiers written per transaction.
const CASE_BATCH: usize = 500;

/// Generate `o.cases` dossiers (some may be skipped when a draw cannot be routed; the loop
/// draws until the count is reached).
pub async fn generate(
    deps: &Deps<'_>,
    o: &Options,
    progress: &mut dyn Progress,
) -> Result<Report, DbErr> {
    let started = std::time::Instant::now();
    let db: &DatabaseConnection = deps.db;
    let directory = deps.directory.current();
    let catalog = repo::procedures::all(db).await?;
    let mut latest: BTreeMap<String, (i32, ProcedureSpec)> = BTreeMap::new();
    for m in &catalog {
        if m.valid_from <= o.now && latest.get(&m.code).is_none_or(|(v, _)| *v < m.version) {
            latest.insert(m.code.clone(), (m.version, repo::procedures::spec_of(m)?));
        }
    }
    let procedures: Vec<(ProcedureCode, i32, ProcedureSpec, u32)> = latest
        .into_iter()
        .filter_map(|(c, (v, s))| Some((ProcedureCode::parse(&c).ok()?, v, s, weight(&c))))
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
    let calendars = deps.calendars.current();
    let ctx = Ctx {
        gazetteer: deps.gazetteer,
        directory: &directory,
        calendars: &calendars,
        procedures,
        total_weight,
        overloaded_set: overloaded.iter().cloned().collect(),
        overloaded: overloaded.clone(),
        ratio: deps.sla.at_risk_ratio,
        payment_pauses_clock: deps.sla.payment_pauses_clock,
        now: o.now,
        start: o.now - Duration::days(o.days.max(1)),
        specimen: store_specimen(deps.storage).await?,
    };

    let mut report = Report {
        overloaded,
        ..Default::default()
    };
    let mut next_id = repo::dossiers::max_id(db).await? + 1;
    // Continue after numbers already used (a second run, or real intakes).
    let mut counters: HashMap<(String, String), i32> = repo::counters::all(db)
        .await?
        .into_iter()
        .map(|(unit, day, last)| ((unit, day), last))
        .collect();
    progress.stage("dossiers", o.cases);
    let mut histories = Vec::with_capacity(CASE_BATCH);
    let mut attempts = 0u64;
    // With `open`, each draw is meant for one side (open in proportion to what is left of
    // it) and kept only if it falls that side.
    let open_target = o.open.map(|n| n.min(o.cases));
    let recent = ctx.now - Duration::days(OPEN_WINDOW_DAYS.min(o.days.max(1)));
    let max_attempts = o.cases * if open_target.is_some() { 20 } else { 3 } + 100;
    while report.cases < o.cases && attempts < max_attempts {
        attempts += 1;
        let want_open = open_target.map(|target| {
            let open_left = target.saturating_sub(report.open);
            let closed_left = (o.cases - target).saturating_sub(report.cases - report.open);
            rng.gen_range(0..open_left + closed_left) < open_left
        });
        let start = if want_open == Some(true) {
            recent
        } else {
            ctx.start
        };
        let Some(p) = plan(&ctx, start, &mut rng, &mut counters, next_id) else {
            continue;
        };
        if want_open.is_some_and(|w| w != p.open) {
            continue;
        }
        next_id += 1;
        report.cases += 1;
        report.open += p.open as u64;
        report.overdue += p.overdue as u64;
        report.events += p.history.events.len() as u64;
        histories.push(p.history);
        if histories.len() == CASE_BATCH {
            repo::dossiers::insert_histories(db, deps.keys, &histories).await?;
            histories.clear();
            progress.advance(CASE_BATCH as u64);
            tokio::task::yield_now().await;
        }
    }
    let n = histories.len() as u64;
    repo::dossiers::insert_histories(db, deps.keys, &histories).await?;
    progress.advance(n);

    // Keep the counters ahead of the generated numbers, and PostgreSQL's id sequence ahead
    // of the ids given here.
    repo::counters::raise(db, counters.into_iter().map(|((u, d), n)| (u, d, n))).await?;
    repo::dossiers::sync_id_sequence(db).await?;
    progress.finish();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}
