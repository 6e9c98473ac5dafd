//! SLA sweep benchmark (issue 5 §6): one `services::sla::sweep` as of now over N open
//! dossiers of which 10,000 are due, for several N, to show that a sweep costs what is due,
//! not what is open.
//!
//! For each size: a fresh database (a SQLite file under the system temporary directory;
//! also a fresh PostgreSQL database `motcua_bench_sweep` when `MOTCUA_BENCH_DATABASE_URL`
//! is set), migrated; N open dossiers bulk-inserted (`insert_many`, 500 rows a statement,
//! 20 statements a transaction); `ANALYZE` (and on PostgreSQL a `CHECKPOINT`, so that the
//! load's own checkpoint is not measured); then one sweep as of now, batch size 500 (the
//! default `sla.batch_size`), timed; then a second sweep, which finds nothing due.
//!
//! The 10,000 due dossiers: 7,000 on track whose at-risk instant has passed (→ at_risk),
//! 2,000 at risk whose deadline has passed (→ overdue) and 1,000 on track past both (→
//! at_risk then overdue: two events). Each due dossier has its first event already (the
//! sweep numbers its events after it). The other N − 10,000 are on track with their next
//! check between 1 hour and 30 days ahead.
//!
//! Target: 1,000,000 open / 10,000 due in < 2 s. `MOTCUA_BENCH_SWEEP_DUE=100000` makes the
//! due set a deadline storm (target: drained in < 60 s).
//!
//! `MOTCUA_BENCH_SWEEP_INTAKES=<rate>` measures what the sweep does to citizens filing
//! meanwhile: the app is served on the same database, on a runtime of its own on which the
//! sweep is spawned (as `serve` runs its sweeper), and online intakes (each with its own
//! Idempotency-Key, spread over 16 receiving centres of Hà Nội) arrive at `<rate>` per second
//! in an open loop, first for `MOTCUA_BENCH_SWEEP_INTAKE_SECS` (default 15) with nothing due
//! swept, then for as long as the sweep runs; their p50 and p99 (from each request's scheduled
//! start) before and during are reported. Target: p99 during ≤ 1.1 × p99 before.
//!
//! The sweep's pace: `MOTCUA_BENCH_SWEEP_BATCH` (default 500) and
//! `MOTCUA_BENCH_SWEEP_PAUSE_MS` (default 0), as `sla.batch_size` and `sla.batch_pause_ms`.
//!
//! Run: `cargo bench --bench sweep` (sizes: `MOTCUA_BENCH_SWEEP_SIZES`, default
//! `100000,1000000`; `MOTCUA_BENCH_ONLY=sqlite|postgres`; `MOTCUA_BENCH_PG_LOG_STATEMENTS=1`
//! logs every PostgreSQL statement with its duration).

use motcua::repo::dossiers::{ID_NUMBER, PHONE};
use motcua::security::data_key::DataKeys;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use entity::{case_events, cases};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;

mod support;
use support::{drop_pg_database, env_or, fresh_pg_database};

/// How many of the open dossiers are due (`MOTCUA_BENCH_SWEEP_DUE`, default 10,000; 100,000
/// is a deadline storm, as at the start of a working day after a calendar announcement).
fn due_count() -> usize {
    static DUE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *DUE.get_or_init(|| {
        env_or("MOTCUA_BENCH_SWEEP_DUE", "10000")
            .parse()
            .expect("MOTCUA_BENCH_SWEEP_DUE")
    })
}
const CHUNK: usize = 500;
const CHUNKS_PER_TXN: usize = 20;

async fn connect(url: &str) -> DatabaseConnection {
    let settings = support::settings_for(url, &[]);
    let db = motcua::db::connect(&settings.database)
        .await
        .expect("connect");
    motcua::db::migrate(&db).await.expect("migrate");
    db
}

/// The i-th dossier. Rows `0..due_count()` are due at `now`; the rest are checked later.
fn row(i: usize, now: DateTime<Utc>, keys: &DataKeys) -> cases::ActiveModel {
    let unit = format!("01.{:05}.UBND", 4 + (i % 1000) * 3);
    let received = now - Duration::days(3) - Duration::minutes((i % 600) as i64);
    let (sla_state, at_risk, due, next) = if i < due_count() {
        let past = now - Duration::minutes(1 + (i % 600) as i64);
        match i % 10 {
            // at risk already, deadline passed → overdue
            0 | 1 => ("at_risk", past - Duration::hours(6), past, past),
            // on track, past both thresholds → at_risk and overdue
            2 => (
                "on_track",
                past - Duration::hours(6),
                past,
                past - Duration::hours(6),
            ),
            // on track, at-risk instant passed → at_risk
            _ => ("on_track", past, now + Duration::hours(8), past),
        }
    } else {
        let ahead = now + Duration::hours(1) + Duration::minutes((i % (30 * 24 * 60)) as i64);
        ("on_track", ahead, ahead + Duration::hours(8), ahead)
    };
    cases::ActiveModel {
        id: Set(i as i64 + 1),
        code: Set(format!("{unit}-250101-{:04}", i / 1000 + 1)),
        procedure_code: Set("1.004873".into()),
        procedure_version: Set(1),
        channel: Set("in_person".into()),
        status: Set("processing".into()),
        national_status: Set(2),
        version: Set(3),
        applicant_account_id: Set(None),
        applicant_name: Set(format!("Công dân {i}")),
        // Sealed as the service writes them.
        applicant_id_number: Set(Some(keys.seal(ID_NUMBER, &format!("001{:09}", i)))),
        applicant_id_index: Set(Some(keys.index(&format!("001{:09}", i)))),
        applicant_tax_code: Set(None),
        applicant_phone: Set(Some(keys.seal(PHONE, &format!("09{:08}", i % 100_000_000)))),
        applicant_email: Set(None),
        address: Set(json!({"ward_code": "00004"})),
        ward_code: Set(Some("00004".into())),
        province_code: Set("01".into()),
        receiving_unit: Set(unit.clone()),
        handling_unit: Set(Some(unit)),
        assigned_to: Set(None),
        form: Set(json!({})),
        documents: Set(json!([])),
        routing: Set(json!({"status": "routed"})),
        submitted_at: Set(received),
        received_at: Set(Some(received)),
        due_at: Set(Some(due)),
        original_due_at: Set(Some(due)),
        appointment_at: Set(Some(due)),
        at_risk_at: Set(Some(at_risk)),
        sla_state: Set(sla_state.into()),
        next_check_at: Set(Some(next)),
        paused_at: Set(None),
        paused_working_secs: Set(0),
        resume_status: Set(None),
        withdrawn_from: Set(None),
        consulted_unit: Set(None),
        consult_due_at: Set(None),
        limit_variant: Set(None),
        bundle_code: Set(None),
        part_share_hours: Set(None),
        supplement_count: Set(0),
        step_key: Set(Some("processing".into())),
        step_started_at: Set(Some(received)),
        step_due_at: Set(None),
        outcome: Set(None),
        decided_at: Set(None),
        closed_at: Set(None),
        processing_working_secs: Set(None),
        on_time: Set(None),
        result_point: Set(None),
        fee_vnd: Set(None),
        payment_due_vnd: Set(None),
        receipts: Set(None),
        paid_at: Set(None),
        paid_online: Set(false),
        result_delivery: Set(None),
        created_at: Set(received),
        updated_at: Set(received),
    }
}

fn first_event(i: usize, now: DateTime<Utc>) -> case_events::ActiveModel {
    case_events::ActiveModel {
        case_id: Set(i as i64 + 1),
        seq: Set(1),
        action: Set("receive".into()),
        actor_id: Set(None),
        actor_role: Set("clerk".into()),
        actor_unit: Set(None),
        from_status: Set(None),
        to_status: Set("received".into()),
        reason: Set(None),
        data: Set(json!({"bench": true})),
        public: Set(true),
        at: Set(now - Duration::days(3)),
        ..Default::default()
    }
}

/// Bulk-insert `n` dossiers; returns seconds taken.
async fn fill(db: &DatabaseConnection, n: usize, now: DateTime<Utc>, keys: &DataKeys) -> f64 {
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let txn = motcua::db::begin_write(db).await.expect("begin");
        for _ in 0..CHUNKS_PER_TXN {
            if i >= n {
                break;
            }
            let end = (i + CHUNK).min(n);
            cases::Entity::insert_many((i..end).map(|k| row(k, now, keys)))
                .exec_without_returning(&txn)
                .await
                .expect("insert dossiers");
            i = end;
        }
        txn.commit().await.expect("commit");
    }
    let txn = motcua::db::begin_write(db).await.expect("begin");
    for start in (0..due_count().min(n)).step_by(CHUNK) {
        let end = (start + CHUNK).min(due_count().min(n));
        case_events::Entity::insert_many((start..end).map(|k| first_event(k, now)))
            .exec_without_returning(&txn)
            .await
            .expect("insert events");
    }
    txn.commit().await.expect("commit");
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))",
        )
        .await
        .expect("setval");
    }
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // The load wrote gigabytes of WAL; the checkpoint it calls for would otherwise run
        // (spread over minutes) through whichever phase comes next, and the intakes "before"
        // and "during" the storm would be measured against different background writes. The
        // storm's own WAL, and any checkpoint it calls for, stays in the measurement.
        db.execute_unprepared("CHECKPOINT")
            .await
            .expect("checkpoint");
    }
    started.elapsed().as_secs_f64()
}

/// Latencies (µs, from the scheduled start) and failures of online intakes.
#[derive(Default)]
struct Latencies {
    us: Vec<u64>,
    errors: u64,
}

impl Latencies {
    fn pct_ms(&mut self, p: f64) -> f64 {
        self.us.sort_unstable();
        support::pct_ms(&self.us, p)
    }
}

/// Citizens filing online while the sweep runs: the app served on the bench's database.
struct Filing {
    serving: support::Serving,
    client: reqwest::Client,
    token: String,
    bodies: Vec<serde_json::Value>,
    rate: f64,
}

impl Filing {
    async fn start(url: &str, rate: f64) -> Filing {
        // The app on a runtime of its own, as in a process of its own beside the citizens'
        // clients; the sweep is spawned on it below, as `serve` runs its sweeper.
        let serving = support::Serving::start_apart(
            support::settings_for(url, &[]),
            motcua::app::StartOptions::default(),
        )
        .await;
        let state = serving.state.clone();
        let wards: Vec<String> = state
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                state.db.get_database_backend(),
                "SELECT code FROM units WHERE code LIKE '01.%.TTPVHCC' AND active ORDER BY code LIMIT 16",
            ))
            .await
            .expect("units")
            .into_iter()
            .map(|r| {
                let code: String = r.try_get("", "code").expect("code");
                code.split('.').nth(1).expect("ward").to_string()
            })
            .collect();
        // No compression: the clients would spend these 2 cores inflating answers.
        let client = reqwest::Client::builder()
            .no_gzip()
            .pool_max_idle_per_host(1024)
            .build()
            .expect("client");
        let (user, password) = ("bench_storm_citizen", "bench-citizen-password-123");
        support::create_account(&state, user, password, "citizen", None, None)
            .await
            .expect("create citizen");
        let token = support::login(&client, &serving.base, user, password).await;
        Filing {
            serving,
            client,
            token,
            bodies: wards.iter().map(|w| support::intake_body(w)).collect(),
            rate,
        }
    }

    /// Intakes scheduled at the rate from now until `stop` is set (each measured from its
    /// scheduled start, so a late start counts as waiting), then waits for those in flight.
    async fn until(&self, tag: &str, stop: Arc<AtomicBool>) -> Latencies {
        let url = format!("{}/api/v1/cases", self.serving.base);
        let interval = std::time::Duration::from_secs_f64(1.0 / self.rate);
        let began = tokio::time::Instant::now();
        let out = Arc::new(Mutex::new(Latencies::default()));
        let mut tasks = Vec::new();
        for i in 0u64.. {
            let at = began + interval.mul_f64(i as f64);
            tokio::time::sleep_until(at).await;
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let req = self
                .client
                .post(&url)
                .bearer_auth(&self.token)
                .header("idempotency-key", format!("storm-{tag}-{i}"))
                .json(&self.bodies[i as usize % self.bodies.len()]);
            let out = out.clone();
            tasks.push(tokio::spawn(async move {
                let ok = match req.send().await {
                    Ok(r) => r.status().as_u16() == 201 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let mut out = out.lock().unwrap();
                if ok {
                    out.us.push(at.elapsed().as_micros() as u64);
                } else {
                    out.errors += 1;
                }
            }));
        }
        for t in tasks {
            t.await.expect("intake task");
        }
        let taken = std::mem::take(&mut *out.lock().unwrap());
        taken
    }
}

/// What the citizens filing meanwhile saw.
struct Beside {
    rate: f64,
    before: (f64, f64, usize, u64),
    during: (f64, f64, usize, u64),
}

struct Outcome {
    label: String,
    open: usize,
    fill_secs: f64,
    sweep_ms: f64,
    examined: usize,
    at_risk: usize,
    overdue: usize,
    batches: usize,
    second_ms: f64,
    events: u64,
    beside: Option<Beside>,
}

async fn one(label: &str, url: &str, db: &DatabaseConnection, n: usize) -> Outcome {
    let now = Utc::now();
    let keys = DataKeys::from_keys(&[[7; 32]]);
    let fill_secs = fill(db, n, now, &keys).await;
    let rate: f64 = env_or("MOTCUA_BENCH_SWEEP_INTAKES", "0")
        .parse()
        .expect("MOTCUA_BENCH_SWEEP_INTAKES");
    let filing = if rate > 0.0 {
        Some(Filing::start(url, rate).await)
    } else {
        None
    };
    let mut before = None;
    if let Some(f) = &filing {
        let secs: u64 = env_or("MOTCUA_BENCH_SWEEP_INTAKE_SECS", "15")
            .parse()
            .expect("MOTCUA_BENCH_SWEEP_INTAKE_SECS");
        // A warm-up, then the intakes with nothing being swept.
        for (tag, secs) in [("warm", 3), ("before", secs)] {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                flag.store(true, Ordering::Relaxed);
            });
            before = Some(f.until(tag, stop).await);
        }
    }
    // The sweeper's pace (`sla.batch_size`, `sla.batch_pause_ms`).
    let batch: u64 = env_or("MOTCUA_BENCH_SWEEP_BATCH", "500")
        .parse()
        .expect("MOTCUA_BENCH_SWEEP_BATCH");
    let pause = std::time::Duration::from_millis(
        env_or("MOTCUA_BENCH_SWEEP_PAUSE_MS", "0")
            .parse()
            .expect("MOTCUA_BENCH_SWEEP_PAUSE_MS"),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let sweeping = {
        let (db, keys, stop) = (db.clone(), keys.clone(), stop.clone());
        let runtime = match &filing {
            Some(f) => f.serving.runtime.clone(),
            None => tokio::runtime::Handle::current(),
        };
        runtime.spawn(async move {
            let started = Instant::now();
            let report = motcua::services::sla::sweep_paced(&db, &keys, now, batch, pause)
                .await
                .expect("sweep");
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            stop.store(true, Ordering::Relaxed);
            (report, ms)
        })
    };
    let during = match &filing {
        Some(f) => Some(f.until("during", stop).await),
        None => None,
    };
    let (report, sweep_ms) = sweeping.await.expect("sweep task");
    let beside = match (before, during) {
        (Some(mut b), Some(mut d)) => Some(Beside {
            rate,
            before: (b.pct_ms(0.5), b.pct_ms(0.99), b.us.len(), b.errors),
            during: (d.pct_ms(0.5), d.pct_ms(0.99), d.us.len(), d.errors),
        }),
        _ => None,
    };
    if let Some(f) = filing {
        f.serving.shut().await;
    }
    let started = Instant::now();
    let second = motcua::services::sla::sweep(db, &keys, now, 500)
        .await
        .expect("second sweep");
    let second_ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(second.examined, 0, "a second sweep finds nothing due");
    let events = case_events::Entity::find()
        .filter(sea_orm::ColumnTrait::gt(&case_events::Column::Seq, 1))
        .count(db)
        .await
        .expect("count events");
    Outcome {
        label: label.to_string(),
        open: n,
        fill_secs,
        sweep_ms,
        examined: report.examined,
        at_risk: report.count(motcua::domain::sla::SlaState::AtRisk),
        overdue: report.count(motcua::domain::sla::SlaState::Overdue),
        batches: report.batches,
        second_ms,
        events,
        beside,
    }
}

fn print(o: &Outcome) {
    println!(
        "| {} | {} | {} | **{:.0} ms** | {} | {} / {} | {} | {:.1} ms | {:.1} s | {} |",
        o.label,
        o.open,
        due_count().min(o.open),
        o.sweep_ms,
        o.examined,
        o.at_risk,
        o.overdue,
        o.batches,
        o.second_ms,
        o.fill_secs,
        match (o.open >= 1_000_000, due_count() > 10_000) {
            (_, true) if o.sweep_ms < 60_000.0 => "storm < 60 s ✔",
            (_, true) => "storm < 60 s ✘",
            (true, false) if o.sweep_ms < 2000.0 => "< 2 s ✔",
            (true, false) => "< 2 s ✘",
            _ => "",
        }
    );
    assert_eq!(o.examined, due_count().min(o.open));
    assert_eq!(o.events as usize, o.at_risk + o.overdue);
    if let Some(b) = &o.beside {
        let rise = b.during.1 / b.before.1 - 1.0;
        println!(
            "|   online intakes at {}/s beside it: before p50 {:.1} / p99 **{:.1} ms** ({} filed, {} failed); \
             during p50 {:.1} / p99 **{:.1} ms** ({} filed, {} failed); p99 {:+.0} % {} |",
            b.rate,
            b.before.0,
            b.before.1,
            b.before.2,
            b.before.3,
            b.during.0,
            b.during.1,
            b.during.2,
            b.during.3,
            rise * 100.0,
            if rise <= 0.10 { "✔" } else { "✘" },
        );
        assert_eq!(b.before.3 + b.during.3, 0, "no intake fails");
    }
}

async fn run() {
    let sizes: Vec<usize> = env_or("MOTCUA_BENCH_SWEEP_SIZES", "100000,1000000")
        .split(',')
        .map(|s| s.trim().parse().expect("size"))
        .collect();
    let only = env_or("MOTCUA_BENCH_ONLY", "");
    println!(
        "SLA sweep: one sweep as of now, batch size {}, pause {} ms between batches; sizes {sizes:?}",
        env_or("MOTCUA_BENCH_SWEEP_BATCH", "500"),
        env_or("MOTCUA_BENCH_SWEEP_PAUSE_MS", "0")
    );
    println!();
    println!(
        "| database | open | due | sweep | examined | → at_risk / → overdue | batches | second sweep | bulk insert + ANALYZE | target |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    if only.is_empty() || only == "sqlite" {
        for &n in &sizes {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("sweep.db").display()
            );
            let db = connect(&url).await;
            let o = one("SQLite", &url, &db, n).await;
            print(&o);
            db.close().await.ok();
        }
    }
    if let Ok(base) = std::env::var("MOTCUA_BENCH_DATABASE_URL") {
        if !base.is_empty() && (only.is_empty() || only == "postgres") {
            let name = "motcua_bench_sweep";
            let admin = sea_orm::Database::connect(base.clone())
                .await
                .expect("connect to PostgreSQL");
            for &n in &sizes {
                // Every statement and its duration in the server log.
                let url =
                    fresh_pg_database(&admin, &base, name, "log_min_duration_statement = 0").await;
                let db = connect(&url).await;
                let o = one("PostgreSQL", &url, &db, n).await;
                print(&o);
                db.close().await.ok();
            }
            drop_pg_database(&admin, name).await;
            admin.close().await.ok();
        }
    }
}

fn main() {
    support::block_on(run());
}
