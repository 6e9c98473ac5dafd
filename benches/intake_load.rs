//! Intake load test (issue 4 §7): walk-in intakes over real HTTP against the app started
//! in-process, compared with a plain-SQL baseline that commits the same rows.
//!
//! For each database (a fresh SQLite file; a fresh PostgreSQL database too when
//! `MOTCUA_BENCH_DATABASE_URL` is set):
//!
//! 1. the app is built and served on 127.0.0.1:0 (migrated and seeded, background jobs off)
//!    on a tokio runtime of its own, as it would run in a process of its own beside a load
//!    generator such as wrk; a reception clerk of `01.00004.TTPVHCC` is created and logs in;
//! 2. **closed loop**, at each concurrency C (default 1, 4, 16, 64): C workers each send
//!    `POST /api/v1/cases` (a walk-in: no Idempotency-Key) back to back for a fixed time, then
//!    C workers run the **baseline** for the same time: one transaction per dossier with the
//!    same four writes as an intake, as plain SQL on the app's own pool (counter upsert,
//!    dossier row, first event, outbox row; `BEGIN IMMEDIATE` on SQLite, queueing in SQLite's
//!    busy handler, not in the app's writer turn), with the JSON payloads of a real intake so
//!    that the rows are the same size;
//! 3. **open loop** at 80 % of the best closed-loop intake throughput: requests are started
//!    on a fixed schedule whatever the answers do, by the next free of as many clients as the
//!    highest concurrency, and latency is counted from the scheduled start (no coordinated
//!    omission).
//!
//! Targets: intake throughput ≥ 70 % of the baseline; p99 ≤ 100 ms at 80 % of peak.
//!
//! Run: `cargo bench --bench intake_load`
//! (`MOTCUA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres` adds PostgreSQL;
//! the bench creates and drops its own database `motcua_bench_intake` on that server).
//! Knobs: `MOTCUA_BENCH_SECS` (seconds per step, default 10), `MOTCUA_BENCH_CONCURRENCY`
//! (default `1,4,16,64`), `MOTCUA_BENCH_ONLY` (`sqlite` or `postgres`), `MOTCUA_BENCH_UNITS`
//! (default 1: every intake at the same unit, so all of them contend for one counter row;
//! N: N clerks at the first N service centres of Hà Nội, worker or request i using clerk
//! i mod N, as a spread of real counters would), `MOTCUA_BENCH_ACCOUNT_CACHE_SECS` (0: no
//! account cache, the account read on every request), `MOTCUA_BENCH_PROFILE` (`intake`,
//! `baseline`, `service`, `online` (a citizen's online submissions, each with its own
//! Idempotency-Key), ... or `open:<rate>`: one mode alone),
//! `MOTCUA_BENCH_REPEAT` (default 1; N: N alternated intake and baseline runs at each
//! concurrency, rates reported as medians, each run's ratio listed).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use motcua::app::StartOptions;
use motcua::state::AppState;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
};
use serde_json::Value as Json;

mod support;
use support::{
    drop_pg_database, env_or, fresh_pg_database, intake_body, login, settings_for, Serving,
};

/// The first reception unit (Phường Ba Đình's service centre); with
/// `MOTCUA_BENCH_UNITS=N`, the first N service centres of Hà Nội.
const UNIT: &str = "01.00004.TTPVHCC";
const MARITAL: &str = "1.004873";

/// A walk-in intake at the clerk's own ward, without scans (so filed, not yet received: the
/// counter's scans are uploads of their own, outside the intake measured here).
/// Latency samples in microseconds.
#[derive(Default)]
struct Samples {
    us: Vec<u64>,
    errors: u64,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.us.extend(other.us);
        self.errors += other.errors;
    }
    fn pct(&self, p: f64) -> f64 {
        if self.us.is_empty() {
            return f64::NAN;
        }
        let mut v = self.us.clone();
        v.sort_unstable();
        let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
        v[i.min(v.len() - 1)] as f64 / 1000.0
    }
    fn max_ms(&self) -> f64 {
        self.us.iter().copied().max().unwrap_or(0) as f64 / 1000.0
    }
}

/// The median of `v` (the mean of the middle two for an even count).
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct Run {
    ok: u64,
    secs: f64,
    samples: Samples,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
}

#[derive(Clone)]
struct Clerk {
    unit: String,
    token: String,
    body: Json,
}

struct Target {
    label: &'static str,
    /// The database's URL (for pgbench on PostgreSQL).
    url: String,
    state: AppState,
    base: String,
    client: reqwest::Client,
    /// One reception clerk per unit; worker (or request) i uses clerk i mod N.
    clerks: Vec<Clerk>,
    /// A citizen's access token, for the online path.
    citizen: String,
    template: Template,
    serving: Serving,
    /// Calls the outside parties received (`MOTCUA_BENCH_EXCHANGES`).
    exchanges: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// The rows of a real intake, copied by the baseline.
#[derive(Clone)]
struct Template {
    case: entity::cases::Model,
    event: entity::case_events::Model,
    outbox: entity::outbox::Model,
    /// An online intake's stored answer (sealed) and its request hash, for the online
    /// baseline's idempotency row.
    answer: String,
    request_hash: String,
    citizen_id: uuid::Uuid,
}

async fn start(label: &'static str, url: &str) -> Target {
    // `MOTCUA_BENCH_ACCOUNT_CACHE_SECS=0`: the account read from the database on every
    // request, as before `services::account_cache`.
    let cache_secs = env_or("MOTCUA_BENCH_ACCOUNT_CACHE_SECS", "");
    let mut owned: Vec<(&str, String)> = Vec::new();
    if !cache_secs.is_empty() {
        owned.push(("MOTCUA__AUTH__ACCOUNT_CACHE_SECS", cache_secs.clone()));
    }
    // `MOTCUA_BENCH_EXCHANGES=1`: measured with what issue 24 added running, as a province
    // runs it: the dispatchers, the national portal's adapter, SMS to applicants and the
    // outbox's webhook, all answered by a local receiver (`support::exchange_receiver`).
    let exchanges = if env_or("MOTCUA_BENCH_EXCHANGES", "").is_empty() {
        None
    } else {
        let (base, calls) = support::exchange_receiver().await;
        owned.extend(support::exchange_settings(&base));
        Some(calls)
    };
    let extra: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The app on a runtime of its own, as in a process of its own: the load generator's
    // tasks (the open loop's timers above all) do not queue behind its requests.
    let serving = Serving::start_apart(settings_for(url, &extra), StartOptions::default()).await;
    let (base, state) = (serving.base.clone(), serving.state.clone());
    let n_units: i64 = env_or("MOTCUA_BENCH_UNITS", "1").parse().expect("units");
    let units: Vec<String> = state
        .db
        .query_all_raw(Statement::from_string(
            state.db.get_database_backend(),
            format!(
                "SELECT code FROM units WHERE code LIKE '01.%.TTPVHCC' AND active \
                 ORDER BY code LIMIT {n_units}"
            ),
        ))
        .await
        .expect("units")
        .into_iter()
        .map(|r| r.try_get::<String>("", "code").expect("code"))
        .collect();
    assert_eq!(units[0], UNIT);
    if exchanges.is_some() {
        // The portal's record needs the receiving unit's national agency code.
        for (i, unit) in units.iter().enumerate() {
            state
                .db
                .execute_raw(Statement::from_sql_and_values(
                    state.db.get_database_backend(),
                    match state.db.get_database_backend() {
                        DatabaseBackend::Postgres => {
                            "UPDATE units SET national_code = $1 WHERE code = $2"
                        }
                        _ => "UPDATE units SET national_code = ? WHERE code = ?",
                    },
                    [format!("000.{i:02}.31.H26").into(), unit.clone().into()],
                ))
                .await
                .expect("national code");
        }
    }
    // No compression: the test builds enable reqwest's gzip, which would otherwise ask for it
    // and spend these 2 cores compressing and inflating what the database path is measured on.
    let client = reqwest::Client::builder()
        .no_gzip()
        .pool_max_idle_per_host(1024)
        .build()
        .expect("client");
    let mut clerks = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let username = format!("bench_clerk_{i}");
        let password = "bench-clerk-password-123";
        support::create_account(&state, &username, password, "clerk", Some(unit), None)
            .await
            .expect("create clerk");
        let ward = unit.split('.').nth(1).expect("ward").to_string();
        clerks.push(Clerk {
            unit: unit.clone(),
            token: login(&client, &base, &username, password).await,
            body: intake_body(&ward),
        });
    }
    // A citizen for the online path (`MOTCUA_BENCH_PROFILE=online`).
    support::create_account(
        &state,
        "bench_citizen",
        "bench-citizen-password-123",
        "citizen",
        None,
        None,
    )
    .await
    .expect("create citizen");
    let citizen = login(
        &client,
        &base,
        "bench_citizen",
        "bench-citizen-password-123",
    )
    .await;
    let token = clerks[0].token.clone();
    // One real intake: its rows are the baseline's template.
    let r = client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&token)
        .json(&clerks[0].body)
        .send()
        .await
        .expect("first intake");
    assert_eq!(
        r.status().as_u16(),
        201,
        "first intake: {:?}",
        r.text().await
    );
    let body: Json = r.json().await.expect("intake body");
    let code = body["code"].as_str().expect("code").to_string();
    // And one online: its idempotency row gives the online baseline's stored answer.
    let r = client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&citizen)
        .header("idempotency-key", "bench-template")
        .json(&clerks[0].body)
        .send()
        .await
        .expect("first online intake");
    assert_eq!(r.status().as_u16(), 201, "first online intake");
    let template = template_of(&state.db, &code, "bench-template").await;
    Target {
        label,
        url: url.to_string(),
        state,
        base,
        client,
        clerks,
        citizen,
        template,
        serving,
        exchanges,
    }
}

async fn template_of(db: &DatabaseConnection, code: &str, online_key: &str) -> Template {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let case = entity::cases::Entity::find()
        .filter(entity::cases::Column::Code.eq(code))
        .one(db)
        .await
        .expect("read case")
        .expect("case");
    let event = entity::case_events::Entity::find()
        .filter(entity::case_events::Column::CaseId.eq(case.id))
        .one(db)
        .await
        .expect("read event")
        .expect("event");
    let outbox = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::CaseCode.eq(code))
        .one(db)
        .await
        .expect("read outbox")
        .expect("outbox row");
    let key = entity::idempotency_keys::Entity::find()
        .filter(entity::idempotency_keys::Column::Key.eq(online_key))
        .one(db)
        .await
        .expect("read idempotency key")
        .expect("the online intake's key");
    Template {
        case,
        event,
        outbox,
        answer: key.response_body.expect("stored answer"),
        request_hash: key.request_hash,
        citizen_id: key.account_id,
    }
}

struct BaselineSql {
    /// The online path's idempotency row: taken first, completed with the answer last.
    key_take: String,
    key_complete: String,
    counter: String,
    case: String,
    event: String,
    outbox: String,
}

impl BaselineSql {
    fn new(backend: DatabaseBackend) -> Self {
        BaselineSql {
            key_take: motcua::repo::placeholders(
                backend,
                "INSERT INTO idempotency_keys (account_id, key, request_hash, state, \
                 response_status, response_body, created_at) \
                 VALUES (?, ?, ?, 'in_progress', NULL, NULL, ?) ON CONFLICT DO NOTHING",
            ),
            key_complete: motcua::repo::placeholders(
                backend,
                "UPDATE idempotency_keys SET state = 'completed', response_status = 201, \
                 response_body = ? WHERE account_id = ? AND key = ?",
            ),
            counter: motcua::repo::placeholders(
                backend,
                "INSERT INTO unit_day_counters (unit_code, day, last) VALUES (?, ?, 1) \
                 ON CONFLICT (unit_code, day) DO UPDATE SET last = unit_day_counters.last + 1 \
                 RETURNING last",
            ),
            case: motcua::repo::placeholders(
                backend,
                "INSERT INTO cases (code, procedure_code, procedure_version, channel, status, \
                 national_status, version, applicant_account_id, applicant_name, \
                 applicant_id_number, applicant_tax_code, applicant_phone, applicant_email, \
                 applicant_id_index, address, ward_code, province_code, receiving_unit, handling_unit, assigned_to, \
                 form, documents, routing, submitted_at, received_at, due_at, original_due_at, \
                 appointment_at, at_risk_at, sla_state, next_check_at, paused_at, \
                 paused_working_secs, resume_status, supplement_count, step_key, \
                 step_started_at, step_due_at, outcome, decided_at, closed_at, \
                 processing_working_secs, on_time, created_at, updated_at) VALUES \
                 (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
                 ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            ),
            event: motcua::repo::placeholders(
                backend,
                "INSERT INTO case_events (case_id, seq, action, actor_id, actor_role, actor_unit, \
                 from_status, to_status, reason, data, public, at) \
                 VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ),
            outbox: motcua::repo::placeholders(
                backend,
                "INSERT INTO outbox (event_id, topic, case_code, recipients, payload, created_at, \
                 available_at, attempts, delivered_at, failed_at, last_error) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, NULL)",
            ),
        }
    }
}

/// One dossier committed with plain SQL: the four writes of an intake in one transaction,
/// begun with `BEGIN IMMEDIATE` on SQLite and waiting in SQLite's busy handler. With
/// `app_turn`, the transaction first waits for the app's writer turn (`db::take_turn`), as
/// the app's own other writers (actions, the sweeper) do through `db::begin_write`.
async fn baseline_once(
    db: &DatabaseConnection,
    q: &BaselineSql,
    t: &Template,
    unit: &str,
    app_turn: bool,
    online_key: Option<&str>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let now = Utc::now();
    let day_date = now
        .with_timezone(&motcua::domain::calendar::vn_offset())
        .date_naive();
    let day = day_date.format("%y%m%d").to_string();
    let _turn = if app_turn {
        motcua::db::take_turn(db).await?
    } else {
        None
    };
    let txn = match backend {
        DatabaseBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
        }
        _ => db.begin().await?,
    };
    if let Some(key) = online_key {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            &q.key_take,
            [
                t.citizen_id.into(),
                key.into(),
                t.request_hash.clone().into(),
                now.into(),
            ],
        ))
        .await?;
    }
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            &q.counter,
            [unit.into(), day.clone().into()],
        ))
        .await?
        .expect("counter row");
    let n: i32 = row.try_get("", "last")?;
    let code = format!("{unit}-{day}-{n:04}");
    let c = &t.case;
    let values: Vec<Value> = vec![
        code.clone().into(),
        c.procedure_code.clone().into(),
        c.procedure_version.into(),
        c.channel.clone().into(),
        c.status.clone().into(),
        c.national_status.into(),
        1i32.into(),
        c.applicant_account_id.into(),
        c.applicant_name.clone().into(),
        c.applicant_id_number.clone().into(),
        c.applicant_tax_code.clone().into(),
        c.applicant_phone.clone().into(),
        c.applicant_email.clone().into(),
        c.applicant_id_index.clone().into(),
        c.address.clone().into(),
        c.ward_code.clone().into(),
        c.province_code.clone().into(),
        unit.into(),
        c.handling_unit.clone().into(),
        c.assigned_to.into(),
        c.form.clone().into(),
        c.documents.clone().into(),
        c.routing.clone().into(),
        now.into(),
        Some(now).into(),
        c.due_at.into(),
        c.original_due_at.into(),
        c.appointment_at.into(),
        c.at_risk_at.into(),
        c.sla_state.clone().into(),
        c.next_check_at.into(),
        c.paused_at.into(),
        c.paused_working_secs.into(),
        c.resume_status.clone().into(),
        c.supplement_count.into(),
        c.step_key.clone().into(),
        Some(now).into(),
        c.step_due_at.into(),
        c.outcome.clone().into(),
        c.decided_at.into(),
        c.closed_at.into(),
        c.processing_working_secs.into(),
        c.on_time.into(),
        now.into(),
        now.into(),
    ];
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, &q.case, values))
        .await?
        .expect("case id");
    let id: i64 = row.try_get("", "id")?;
    let e = &t.event;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        &q.event,
        [
            id.into(),
            e.action.clone().into(),
            e.actor_id.into(),
            e.actor_role.clone().into(),
            e.actor_unit.clone().into(),
            e.from_status.clone().into(),
            e.to_status.clone().into(),
            e.reason.clone().into(),
            e.data.clone().into(),
            e.public.into(),
            now.into(),
        ],
    ))
    .await?;
    let o = &t.outbox;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        &q.outbox,
        [
            uuid::Uuid::now_v7().into(),
            o.topic.clone().into(),
            Some(code).into(),
            o.recipients.clone().into(),
            o.payload.clone().into(),
            now.into(),
            now.into(),
        ],
    ))
    .await?;
    if let Some(key) = online_key {
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            &q.key_complete,
            [t.answer.clone().into(), t.citizen_id.into(), key.into()],
        ))
        .await?;
    }
    txn.commit().await
}

/// One intake over HTTP; true on 201.
async fn intake_once(client: &reqwest::Client, url: &str, token: &str, body: &Json) -> bool {
    submit(client.post(url).bearer_auth(token).json(body)).await
}

/// A citizen's online submission, with its own Idempotency-Key.
fn online_request(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Json,
    key: &str,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
}

/// The status of an online submission (0 when it could not be sent).
async fn online_status(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Json,
    key: &str,
) -> u16 {
    match online_request(client, url, token, body, key).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            if r.bytes().await.is_err() {
                return 0;
            }
            status
        }
        Err(_) => 0,
    }
}

async fn submit(req: reqwest::RequestBuilder) -> bool {
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            match r.bytes().await {
                Ok(_) if status == 201 => true,
                Ok(body) => {
                    eprintln!("intake failed: {status} {}", String::from_utf8_lossy(&body));
                    false
                }
                Err(e) => {
                    eprintln!("intake body: {e}");
                    false
                }
            }
        }
        Err(e) => {
            eprintln!("intake error: {e}");
            false
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Intake,
    /// A citizen's online submission, each with its own Idempotency-Key; every 20th a retry
    /// of the one before (answered from the stored answer), every 50th sent twice at once.
    Online,
    /// The online path's writes in one transaction of plain SQL: the idempotency row taken
    /// and completed around the baseline's four writes.
    OnlineBaseline,
    /// The baseline's writes through the app's writer turn, as the app's other writers.
    AppWriter,
    Baseline,
    /// Probes of the fixed costs, at concurrency 1: `GET /healthz` (HTTP alone),
    /// `GET /api/v1/me` (HTTP + token check + the account read), `SELECT 1` on the pool
    /// (acquire + statement), and an empty write transaction.
    Healthz,
    Me,
    Select1,
    EmptyWrite,
    AccountRead,
    JwtVerify,
    /// `services::intake::intake` called directly: the intake without HTTP, token check and
    /// account read.
    Service,
}

fn intake_request(body: &Json) -> motcua::services::intake::IntakeRequest {
    motcua::services::intake::IntakeRequest {
        procedure_code: MARITAL.into(),
        applicant: motcua::services::intake::ApplicantIn {
            full_name: "Nguyễn Văn An".into(),
            id_number: Some("001203004567".into()),
            tax_code: None,
            phone: Some("0912345678".into()),
            email: Some("an@example.vn".into()),
        },
        address: motcua::domain::geography::AddressInput::WardCode(
            body["address"]["ward_code"]
                .as_str()
                .expect("ward")
                .to_string(),
        ),
        address_raw: body["address"].clone(),
        received_at_unit: None,
        channel: None,
        form: body["form"].clone(),
        documents: Vec::new(),
        result_point: None,
        payment_channel: None,
        payment_reference: None,
    }
}

async fn service_once(state: &AppState, token: &str, raw: &Json) -> bool {
    let id = state.jwt.verify(token).expect("token").sub;
    let account = motcua::repo::accounts::find_by_id(&state.db, &state.data_keys, id)
        .await
        .ok()
        .flatten()
        .expect("account");
    let actor = motcua::services::auth::actor_of(&state.directory, &account)
        .await
        .expect("actor");
    matches!(
        motcua::services::intake::intake(&state.dossiers(), &actor, intake_request(raw), raw, None)
            .await,
        Ok(motcua::services::intake::IntakeOutcome::Created(_))
    )
}

async fn get_ok(client: &reqwest::Client, url: &str, token: Option<&str>) -> bool {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// `c` workers back to back for `warmup + secs`; only the last `secs` are counted.
async fn closed_loop(t: &Target, mode: Mode, c: usize, warmup: Duration, secs: Duration) -> Run {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let q = Arc::new(BaselineSql::new(t.state.db.get_database_backend()));
    let mut workers = Vec::new();
    for w in 0..c {
        let clerk = t.clerks[w % t.clerks.len()].clone();
        let measuring = measuring.clone();
        let stop = stop.clone();
        let ok = ok.clone();
        let client = t.client.clone();
        let base = t.base.clone();
        let url = format!("{}/api/v1/cases", t.base);
        let token = clerk.token.clone();
        let unit = clerk.unit.clone();
        let db = t.state.db.clone();
        let state = t.state.clone();
        let q = q.clone();
        let template = t.template.clone();
        let citizen = t.citizen.clone();
        let run = uuid::Uuid::new_v4().simple().to_string();
        workers.push(tokio::spawn(async move {
            let body = clerk.body;
            let mut s = Samples::default();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                n += 1;
                let good = match mode {
                    Mode::Intake => intake_once(&client, &url, &token, &body).await,
                    Mode::Online => {
                        if n % 20 == 0 && n > 1 {
                            // A client's retry: the same key and body, answered as stored.
                            let key = format!("{run}-{w}-{}", n - 1);
                            submit(online_request(&client, &url, &citizen, &body, &key)).await
                        } else if n % 50 == 1 && n > 1 {
                            // A double click: the same key twice at once; one files, the
                            // other is answered as stored or told it is in flight (409).
                            let key = format!("{run}-{w}-{n}");
                            let (a, b) = tokio::join!(
                                online_status(&client, &url, &citizen, &body, &key),
                                online_status(&client, &url, &citizen, &body, &key)
                            );
                            matches!((a, b), (201, 201) | (201, 409) | (409, 201))
                        } else {
                            let key = format!("{run}-{w}-{n}");
                            submit(online_request(&client, &url, &citizen, &body, &key)).await
                        }
                    }
                    Mode::OnlineBaseline => {
                        let key = format!("{run}-{w}-{n}");
                        match baseline_once(&db, &q, &template, &unit, false, Some(&key)).await {
                            Ok(()) => true,
                            Err(e) => {
                                eprintln!("online baseline error: {e}");
                                false
                            }
                        }
                    }
                    Mode::Baseline | Mode::AppWriter => {
                        match baseline_once(
                            &db,
                            &q,
                            &template,
                            &unit,
                            mode == Mode::AppWriter,
                            None,
                        )
                        .await
                        {
                            Ok(()) => true,
                            Err(e) => {
                                eprintln!("baseline error: {e}");
                                false
                            }
                        }
                    }
                    Mode::Healthz => get_ok(&client, &format!("{base}/healthz"), None).await,
                    Mode::Me => get_ok(&client, &format!("{base}/api/v1/me"), Some(&token)).await,
                    Mode::Select1 => db.execute_unprepared("SELECT 1").await.is_ok(),
                    Mode::AccountRead => {
                        let id = state.jwt.verify(&token).expect("token").sub;
                        motcua::repo::accounts::find_by_id(&db, &state.data_keys, id)
                            .await
                            .is_ok()
                    }
                    Mode::JwtVerify => state.jwt.verify(&token).is_ok(),
                    Mode::Service => service_once(&state, &token, &body).await,
                    Mode::EmptyWrite => match motcua::db::begin_write(&db).await {
                        Ok(txn) => txn.commit().await.is_ok(),
                        Err(_) => false,
                    },
                };
                if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    if good {
                        s.us.push(began.elapsed().as_micros() as u64);
                        ok.fetch_add(1, Ordering::Relaxed);
                    } else {
                        s.errors += 1;
                    }
                }
            }
            s
        }));
    }
    tokio::time::sleep(warmup).await;
    ok.store(0, Ordering::Relaxed);
    measuring.store(true, Ordering::Relaxed);
    let began = Instant::now();
    tokio::time::sleep(secs).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    let mut samples = Samples::default();
    for w in workers {
        samples.merge(w.await.expect("worker"));
    }
    Run {
        ok: samples.us.len() as u64,
        secs: elapsed,
        samples,
    }
}

/// Intakes started on a fixed schedule at `rate` per second for `secs`, each by the next
/// free of `connections` clients (as wrk2 or `oha -q` do: a bounded set of connections, not
/// a new one whenever the answers lag); latency counts from the scheduled start, so a
/// request that starts late because every connection was busy counts its wait. Also
/// returns how late (µs) the latest start was. `online`: citizens' submissions, each with its
/// own Idempotency-Key, instead of walk-ins.
async fn open_loop(
    t: &Target,
    rate: f64,
    secs: Duration,
    connections: usize,
    online: bool,
) -> (Run, u64) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * secs.as_secs_f64()).round() as u64;
    let url = Arc::new(format!("{}/api/v1/cases", t.base));
    let began = tokio::time::Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let max_lag_us = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..connections)
        .map(|w| {
            let client = t.client.clone();
            let url = url.clone();
            let clerk = &t.clerks[w % t.clerks.len()];
            let (body, token) = (clerk.body.clone(), clerk.token.clone());
            let (citizen, run) = (t.citizen.clone(), run.clone());
            let (next, max_lag_us) = (next.clone(), max_lag_us.clone());
            tokio::spawn(async move {
                let mut samples = Samples::default();
                loop {
                    // The next request of the schedule, whichever connection is free.
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return samples;
                    }
                    let at = began + interval.mul_f64(i as f64);
                    tokio::time::sleep_until(at).await;
                    max_lag_us.fetch_max(at.elapsed().as_micros() as u64, Ordering::Relaxed);
                    let ok = if online {
                        let key = format!("open-{run}-{i}");
                        submit(online_request(&client, &url, &citizen, &body, &key)).await
                    } else {
                        intake_once(&client, &url, &token, &body).await
                    };
                    if ok {
                        // From the scheduled start: a late start counts as waiting.
                        samples.us.push(at.elapsed().as_micros() as u64);
                    } else {
                        samples.errors += 1;
                    }
                }
            })
        })
        .collect();
    let mut samples = Samples::default();
    for w in workers {
        samples.merge(w.await.expect("request task"));
    }
    let elapsed = began.elapsed().as_secs_f64();
    (
        Run {
            ok: samples.us.len() as u64,
            secs: elapsed,
            samples,
        },
        max_lag_us.load(Ordering::Relaxed),
    )
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "intake" => Mode::Intake,
            "online" => Mode::Online,
            "online_baseline" => Mode::OnlineBaseline,
            "baseline" => Mode::Baseline,
            "app_writer" => Mode::AppWriter,
            "healthz" => Mode::Healthz,
            "me" => Mode::Me,
            "select1" => Mode::Select1,
            "empty_write" => Mode::EmptyWrite,
            "account_read" => Mode::AccountRead,
            "jwt" => Mode::JwtVerify,
            "service" => Mode::Service,
            _ => return None,
        })
    }
}

/// PostgreSQL: the same writes replayed by pgbench (`benches/sql/online_intake.pgbench`) at
/// concurrency `c`, on the bench's own database, when pgbench is installed (`None`
/// otherwise, or on SQLite). With several units (`MOTCUA_BENCH_UNITS`), one pgbench per unit
/// at once, the clients shared among them as the bench's workers are, and their rates summed.
async fn pgbench(t: &Target, c: usize, secs: Duration) -> Option<f64> {
    if t.state.db.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/sql/online_intake.pgbench"
    );
    t.exchanges_caught_up().await;
    let units = t.clerks.len().min(c).max(1);
    let runs: Vec<_> = (0..units)
        .map(|u| {
            let clients = c / units + usize::from(u < c % units);
            std::process::Command::new("pgbench")
                .args(["-n", "-M", "prepared", "-f", script])
                .args([
                    "-c",
                    &clients.to_string(),
                    "-j",
                    &clients.min(2).to_string(),
                ])
                .args(["-T", &secs.as_secs().max(1).to_string()])
                .args(["-D", &format!("unit={}", t.clerks[u].unit)])
                .args(["-D", "template=bench-template"])
                .args(["-D", &format!("account={}", t.template.citizen_id), &t.url])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
        })
        .collect();
    let mut total = 0.0;
    for run in runs {
        // Not installed: no replay.
        let child = run.ok()?;
        let o = tokio::task::spawn_blocking(|| child.wait_with_output())
            .await
            .expect("pgbench's waiter")
            .ok()?;
        let tps = String::from_utf8_lossy(&o.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok());
        if tps.is_none() {
            eprintln!("pgbench: {}", String::from_utf8_lossy(&o.stderr));
        }
        total += tps?;
    }
    Some(total)
}

/// The closed-loop table of `mode` against `base` at each concurrency; returns the peak rate
/// of `mode` and its worst ratio to `base`.
async fn table(
    t: &Target,
    mode: Mode,
    base: Mode,
    concurrency: &[usize],
    warmup: Duration,
    secs: Duration,
    repeat: usize,
) -> (f64, f64) {
    // The online path on PostgreSQL: pgbench's replay in each round too, right after the
    // app's and the SQL baseline's runs (single runs of either move with the VM's fsync).
    let replay =
        mode == Mode::Online && t.state.db.get_database_backend() == DatabaseBackend::Postgres;
    let replay_head = if replay {
        " pgbench tx/s | intake / pgbench |"
    } else {
        ""
    };
    println!(
        "| concurrency | intake /s | p50 ms | p99 ms | baseline /s | p50 ms | p99 ms | intake / baseline |{replay_head}{}",
        if repeat > 1 { " runs' ratios |" } else { "" }
    );
    println!(
        "|---:|---:|---:|---:|---:|---:|---:|---:|{}{}",
        if replay { "---:|---:|" } else { "" },
        if repeat > 1 { "---|" } else { "" }
    );
    let mut peak: f64 = 0.0;
    let mut worst_ratio = f64::INFINITY;
    for &c in concurrency {
        let (mut i, mut b) = (Samples::default(), Samples::default());
        let (mut i_rates, mut b_rates, mut p_rates) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..repeat.max(1) {
            t.exchanges_caught_up().await;
            let ir = closed_loop(t, mode, c, warmup, secs).await;
            t.exchanges_caught_up().await;
            let br = closed_loop(t, base, c, warmup, secs).await;
            i_rates.push(ir.rate());
            b_rates.push(br.rate());
            i.merge(ir.samples);
            b.merge(br.samples);
            if replay {
                p_rates.extend(pgbench(t, c, secs).await);
            }
        }
        // Each run's ratio: to pgbench on the online path on PostgreSQL, else to the baseline.
        let against = if p_rates.len() == i_rates.len() {
            &p_rates
        } else {
            &b_rates
        };
        let runs: Vec<String> = i_rates
            .iter()
            .zip(against)
            .map(|(x, y)| format!("{:.0} %", x / y * 100.0))
            .collect();
        let (i_rate, b_rate) = (median(&i_rates), median(&b_rates));
        let ratio = i_rate / b_rate;
        worst_ratio = worst_ratio.min(ratio);
        peak = peak.max(i_rate);
        let replayed = if !replay {
            String::new()
        } else if p_rates.is_empty() {
            " — | — |".to_string()
        } else {
            let p = median(&p_rates);
            format!(" {p:.0} | {:.0} % |", i_rate / p * 100.0)
        };
        println!(
            "| {c} | {:.0} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} | {:.0} %{} |{replayed}{}",
            i_rate,
            i.pct(50.0),
            i.pct(99.0),
            b_rate,
            b.pct(50.0),
            b.pct(99.0),
            ratio * 100.0,
            if i.errors + b.errors > 0 {
                format!(" ({} / {} errors)", i.errors, b.errors)
            } else {
                String::new()
            },
            if repeat > 1 {
                format!(" {} |", runs.join(", "))
            } else {
                String::new()
            }
        );
    }
    (peak, worst_ratio)
}

async fn bench(t: &Target, concurrency: &[usize], secs: Duration) {
    // `MOTCUA_BENCH_PROFILE=open:<rate>`: the open loop alone at that rate.
    if let Some(rate) = env_or("MOTCUA_BENCH_PROFILE", "").strip_prefix("open:") {
        let rate: f64 = rate.parse().expect("rate");
        let connections = concurrency.iter().copied().max().unwrap_or(1);
        let online = env_or("MOTCUA_BENCH_PATH", "walk_in") == "online";
        let (o, max_lag_us) = open_loop(t, rate, secs, connections, online).await;
        println!(
            "open loop at {rate:.0}/s on {connections} connections: achieved {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, started up to {:.1} ms late",
            o.rate(),
            o.samples.pct(50.0),
            o.samples.pct(99.0),
            max_lag_us as f64 / 1000.0
        );
        return;
    }
    // `MOTCUA_BENCH_PROFILE=<mode>`: run one mode alone (for a profiler) and stop.
    if let Some(mode) = Mode::parse(&env_or("MOTCUA_BENCH_PROFILE", "")) {
        println!("### {}", t.label);
        for &c in concurrency {
            let r = closed_loop(t, mode, c, Duration::from_secs(1), secs).await;
            println!(
                "concurrency {c}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
                r.rate(),
                r.samples.pct(50.0),
                r.samples.pct(99.0)
            );
        }
        return;
    }
    let warmup = Duration::from_secs(2);
    println!();
    println!("### {}", t.label);
    println!();
    // `MOTCUA_BENCH_REPEAT=N`: N alternated intake/baseline runs per concurrency, reported
    // by their medians (single runs on a shared VM move by ±10 points or more).
    let repeat: usize = env_or("MOTCUA_BENCH_REPEAT", "1").parse().expect("repeat");
    // `MOTCUA_BENCH_PATH`: `walk_in` (a clerk's intake), `online` (a citizen's, with an
    // Idempotency-Key), or `both` (the default), each against its own baseline.
    let path = env_or("MOTCUA_BENCH_PATH", "both");
    if path == "online" || path == "both" {
        println!("Online path (citizen, Idempotency-Key; retries and double clicks included):");
        println!();
        let (peak, _) = table(
            t,
            Mode::Online,
            Mode::OnlineBaseline,
            concurrency,
            warmup,
            secs,
            repeat,
        )
        .await;
        println!();
        if let Some(s) = t.exchanges_caught_up().await {
            println!("the exchanges were caught up {s:.1} s after the last step");
        }
        let rate = (peak * 0.8).max(1.0);
        let connections = concurrency.iter().copied().max().unwrap_or(1);
        let (o, max_lag_us) = open_loop(t, rate, secs, connections, true).await;
        println!(
            "online open loop at 80 % of peak ({peak:.0}/s → {rate:.0}/s for {}s on \
             {connections} connections): {} ok, {} errors, achieved {:.0}/s, p50 {:.1} ms, \
             p99 {:.1} ms ({}), started up to {:.1} ms late",
            secs.as_secs(),
            o.ok,
            o.samples.errors,
            o.rate(),
            o.samples.pct(50.0),
            o.samples.pct(99.0),
            if o.samples.pct(99.0) <= 100.0 {
                "≤ 100 ms: met"
            } else {
                "≤ 100 ms: MISSED"
            },
            max_lag_us as f64 / 1000.0
        );
        println!();
        if path == "online" {
            return;
        }
        println!("Walk-in path (reception clerk, no Idempotency-Key):");
        println!();
    }
    let (peak, worst_ratio) = table(
        t,
        Mode::Intake,
        Mode::Baseline,
        concurrency,
        warmup,
        secs,
        repeat,
    )
    .await;
    // Intakes alongside other writers of the app (the baseline's writes, through the app's
    // writer turn like actions and the sweeper, on other connections): every intake and
    // every other write must commit, and neither side may starve.
    let (i, b) = tokio::join!(
        closed_loop(t, Mode::Intake, 8, warmup, secs / 2),
        closed_loop(t, Mode::AppWriter, 8, warmup, secs / 2)
    );
    println!();
    println!(
        "mixed: 8 intake clients and 8 other writers together: {:.0} intakes/s ({} errors, p99 {:.1} ms) \
         and {:.0} other dossiers/s ({} errors, p99 {:.1} ms)",
        i.rate(),
        i.samples.errors,
        i.samples.pct(99.0),
        b.rate(),
        b.samples.errors,
        b.samples.pct(99.0)
    );
    println!();
    println!("fixed costs at concurrency 1 (mean per operation):");
    for (name, mode) in [
        ("GET /healthz (HTTP only)", Mode::Healthz),
        ("GET /api/v1/me (HTTP + token + account read)", Mode::Me),
        ("SELECT 1 on the pool (acquire + statement)", Mode::Select1),
        (
            "empty write transaction (begin_write + COMMIT)",
            Mode::EmptyWrite,
        ),
        ("token check alone", Mode::JwtVerify),
        ("token check + account read", Mode::AccountRead),
    ] {
        let r = closed_loop(
            t,
            mode,
            1,
            Duration::from_millis(500),
            Duration::from_secs(2),
        )
        .await;
        println!("- {name}: {:.0} µs ({:.0}/s)", 1e6 / r.rate(), r.rate());
    }
    let rate = (peak * 0.8).max(1.0);
    let connections = concurrency.iter().copied().max().unwrap_or(1);
    let (o, max_lag_us) = open_loop(t, rate, secs, connections, false).await;
    println!();
    println!(
        "open loop at 80 % of peak ({peak:.0}/s → {rate:.0}/s for {}s on {connections} \
         connections): {} ok, {} errors, achieved {:.0}/s, p50 {:.1} ms, p90 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms, started up to {:.1} ms late",
        secs.as_secs(),
        o.ok,
        o.samples.errors,
        o.rate(),
        o.samples.pct(50.0),
        o.samples.pct(90.0),
        o.samples.pct(99.0),
        o.samples.max_ms(),
        max_lag_us as f64 / 1000.0
    );
    println!(
        "targets: intake/baseline ≥ 70 % (lowest {:.0} %: {}), p99 at 80 % of peak ≤ 100 ms ({:.1} ms: {})",
        worst_ratio * 100.0,
        if worst_ratio >= 0.7 { "met" } else { "MISSED" },
        o.samples.pct(99.0),
        if o.samples.pct(99.0) <= 100.0 {
            "met"
        } else {
            "MISSED"
        }
    );
}

impl Target {
    /// With the exchanges running, wait until they have delivered what the steps before
    /// left them (no call for 2 s), so that each step is measured beside its own deliveries
    /// and not the backlog of the one before (in a closed loop at the peak the intakes
    /// outrun the deliveries). The seconds it took.
    async fn exchanges_caught_up(&self) -> Option<f64> {
        let calls = self.exchanges.as_ref()?;
        let load = || calls.load(std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let mut last = (load(), Instant::now());
        while last.1.elapsed() < Duration::from_secs(2)
            && started.elapsed() < Duration::from_secs(300)
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = load();
            if now != last.0 {
                last = (now, Instant::now());
            }
        }
        Some((last.1 - started).as_secs_f64())
    }

    async fn shut(self) {
        if let Some(calls) = &self.exchanges {
            println!(
                "{}: {} calls to the portal, the SMS gateway and the webhook during the run",
                self.label,
                calls.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
        self.serving.shut().await;
    }
}

async fn run() {
    let secs = Duration::from_secs(env_or("MOTCUA_BENCH_SECS", "10").parse().expect("secs"));
    let concurrency: Vec<usize> = env_or("MOTCUA_BENCH_CONCURRENCY", "1,4,16,64")
        .split(',')
        .map(|c| c.trim().parse().expect("concurrency"))
        .collect();
    let only = env_or("MOTCUA_BENCH_ONLY", "");
    println!(
        "intake load: {} s per step after a 2 s warm-up, concurrency {:?}, {} reception unit(s), {} cores",
        secs.as_secs(),
        concurrency,
        env_or("MOTCUA_BENCH_UNITS", "1"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if only.is_empty() || only == "sqlite" {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("intake.db").display()
        );
        let t = start("SQLite (fresh file, WAL, pool of 16)", &url).await;
        bench(&t, &concurrency, secs).await;
        t.shut().await;
    }
    if let Ok(base) = std::env::var("MOTCUA_BENCH_DATABASE_URL") {
        if !base.is_empty() && (only.is_empty() || only == "postgres") {
            let name = "motcua_bench_intake";
            let admin = sea_orm::Database::connect(base.clone())
                .await
                .expect("connect to PostgreSQL");
            // Every statement in the server log: to count what one intake sends.
            let url = fresh_pg_database(&admin, &base, name, "log_statement = 'all'").await;
            let t = start("PostgreSQL (fresh database, pool of 16)", &url).await;
            bench(&t, &concurrency, secs).await;
            t.shut().await;
            drop_pg_database(&admin, name).await;
            admin.close().await.ok();
        }
    }
}

fn main() {
    support::block_on(run());
}
