//! A day's mix (issue 23 §2): the app as a province runs it, over real HTTP, with its
//! background jobs on.
//!
//! For each database (a fresh SQLite file; a fresh PostgreSQL database too when
//! `MOTCUA_BENCH_DATABASE_URL` is set):
//!
//! 1. the app is built and served on 127.0.0.1:0 with the SLA sweeper and the outbox
//!    dispatcher running (the dispatcher delivers to a webhook receiver served by the bench);
//! 2. `MOTCUA_BENCH_UNITS` (default 100) communes spread over every province, each with its
//!    reception clerk (the commune's service centre), its handling clerk and its head (the
//!    commune's People's Committee) and one citizen; every citizen files
//!    `MOTCUA_BENCH_PREFILL` (default 20) dossiers online first, so that the clerks have work;
//! 3. `MOTCUA_BENCH_CLIENTS` (default 32) clients send requests back to back for
//!    `MOTCUA_BENCH_SECS` (default 30, after 3 s of warm-up), each request drawn at random:
//!    - 70 % reads: a unit's queue page (its reception's or its handling clerk's), 25 %; a
//!      citizen's "my dossiers", 15 %; public tracking with the last four digits, 15 %; a
//!      dossier's page, 10 %; the province's backlog for its supervisor, 5 %;
//!    - 20 % actions: the next step of one of the unit's dossiers (receive, claim,
//!      start_processing, send_for_approval, approve by the head, return_result), with the
//!      version the last answer gave;
//!    - 10 % online intakes by a citizen: the declaration's PDF uploaded, then the dossier
//!      submitted with its own Idempotency-Key (its dossier then joins the actions).
//!
//! Reported per class: throughput, p50 and p99, errors (must be 0; a 409 for a version that
//! another client's action moved first cannot happen, as each dossier is in one client's
//! hands at a time); the outbox left undelivered at the end; and the CPU used over the run by
//! the database server's processes (PostgreSQL) and by this process (the app and the
//! clients; SQLite runs inside it), as shares of the machine's cores.
//!
//! Run: `cargo bench --bench day_mix`
//! (`MOTCUA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres` adds PostgreSQL,
//! in a database `motcua_bench_mix` it creates and drops; `MOTCUA_BENCH_ONLY=sqlite|postgres`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use motcua::app::{App, StartOptions};
use motcua::state::AppState;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value as Json};

mod support;
use support::{
    drop_pg_database, env_or, fresh_pg_database, intake_body, login, settings_for, Serving,
};

const PASSWORD: &str = "bench-mix-password-123";
/// The steps of a dossier after its online intake, and who takes each.
const STEPS: [(&str, Who); 6] = [
    ("receive", Who::Reception),
    ("claim", Who::Clerk),
    ("start_processing", Who::Clerk),
    ("send_for_approval", Who::Clerk),
    ("approve", Who::Head),
    ("return_result", Who::Reception),
];

#[derive(Clone, Copy)]
enum Who {
    Reception,
    Clerk,
    Head,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Class {
    Queue,
    MyDossiers,
    Tracking,
    DossierPage,
    Backlog,
    Action,
    Intake,
    /// The submit of an online intake alone (without its upload).
    Submit,
}

impl Class {
    const ALL: [Class; 8] = [
        Class::Queue,
        Class::MyDossiers,
        Class::Tracking,
        Class::DossierPage,
        Class::Backlog,
        Class::Action,
        Class::Intake,
        Class::Submit,
    ];

    fn name(self) -> &'static str {
        match self {
            Class::Queue => "read: queue page",
            Class::MyDossiers => "read: my dossiers",
            Class::Tracking => "read: tracking",
            Class::DossierPage => "read: dossier page",
            Class::Backlog => "read: province backlog",
            Class::Action => "action",
            Class::Intake => "online intake (upload + submit)",
            Class::Submit => "  of which the submit",
        }
    }

    /// Draw a class from a number in 0..100.
    fn draw(n: u64) -> Class {
        match n {
            0..25 => Class::Queue,
            25..40 => Class::MyDossiers,
            40..55 => Class::Tracking,
            55..65 => Class::DossierPage,
            65..70 => Class::Backlog,
            70..90 => Class::Action,
            _ => Class::Intake,
        }
    }
}

/// One commune: its units, its staff's and its citizen's tokens, its dossiers.
struct Unit {
    ward: String,
    centre: String,
    committee: String,
    reception: String,
    clerk: String,
    head: String,
    citizen: String,
    supervisor: String,
    /// Dossiers waiting for their next step: (code, index into STEPS, version).
    pipeline: Mutex<VecDeque<(String, usize, i64)>>,
    /// Every dossier filed here (for tracking and dossier pages).
    codes: Mutex<Vec<String>>,
}

/// A small xorshift generator: the draws need no quality beyond spreading.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Default)]
struct Tally {
    us: HashMap<Class, Vec<u64>>,
    errors: HashMap<Class, Vec<String>>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (k, v) in other.us {
            self.us.entry(k).or_default().extend(v);
        }
        for (k, v) in other.errors {
            self.errors.entry(k).or_default().extend(v);
        }
    }
}

/// CPU seconds (user + system) used so far by the processes whose command name is `name`
/// (or by this process when `name` is `None`), from /proc.
fn cpu_secs(name: Option<&str>) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let read = |path: &std::path::Path| -> Option<(String, f64)> {
        let stat = std::fs::read_to_string(path).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((comm, (utime + stime) / ticks))
    };
    match name {
        None => read(std::path::Path::new("/proc/self/stat")).map_or(0.0, |(_, s)| s),
        Some(name) => std::fs::read_dir("/proc")
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
                    .filter_map(|e| read(&e.path().join("stat")))
                    .filter(|(comm, _)| comm.starts_with(name))
                    .map(|(_, s)| s)
                    .sum()
            })
            .unwrap_or(0.0),
    }
}

fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

async fn account(
    state: &AppState,
    client: &reqwest::Client,
    base: &str,
    username: &str,
    role: &str,
    unit: Option<&str>,
    province: Option<&str>,
) -> String {
    support::create_account(state, username, PASSWORD, role, unit, province)
        .await
        .unwrap_or_else(|e| panic!("create {username}: {e:?}"));
    login(client, base, username, PASSWORD).await
}

/// A small valid PDF, its bytes differing with `tag` (each file its own object).
fn pdf(tag: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% {tag}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// File one dossier online as a citizen does: upload the declaration (the procedure's one
/// mandatory component), then submit with an Idempotency-Key; its code and how long the
/// submit took (µs) on success.
async fn file_online(
    client: &reqwest::Client,
    base: &str,
    u: &Unit,
) -> Result<(String, u64), String> {
    let part = reqwest::multipart::Part::bytes(pdf(&uuid::Uuid::new_v4().to_string()))
        .file_name("to_khai.pdf")
        .mime_str("application/pdf")
        .map_err(|e| e.to_string())?;
    let r = client
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&u.citizen)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let up: Json = r.json().await.map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("upload {status}: {up}"));
    }
    let mut body = intake_body(&u.ward);
    body["documents"] = json!([{"kind": "to_khai", "upload_id": up["id"]}]);
    let submitted = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&u.citizen)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body: Json = r.json().await.map_err(|e| e.to_string())?;
    if status != 201 {
        return Err(format!("intake {status}: {body}"));
    }
    let code = body["code"].as_str().ok_or("no code")?.to_string();
    u.codes.lock().unwrap().push(code.clone());
    u.pipeline.lock().unwrap().push_back((code.clone(), 0, 1));
    Ok((code, submitted.elapsed().as_micros() as u64))
}

async fn get(client: &reqwest::Client, url: String, token: Option<&str>) -> Result<(), String> {
    let mut req = client.get(&url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "GET {url}: {status} {}",
            String::from_utf8_lossy(&body)
        ))
    }
}

/// Take the next step of one of `u`'s dossiers (none waiting: file one instead).
async fn act(client: &reqwest::Client, base: &str, u: &Unit) -> Result<(), String> {
    let next = u.pipeline.lock().unwrap().pop_front();
    let Some((code, step, version)) = next else {
        return file_online(client, base, u).await.map(|_| ());
    };
    let (action, who) = STEPS[step];
    let token = match who {
        Who::Reception => &u.reception,
        Who::Clerk => &u.clerk,
        Who::Head => &u.head,
    };
    let mut body = json!({"version": version});
    if action == "return_result" {
        body["result_delivery"] = json!("in_person");
    }
    let r = client
        .post(format!("{base}/api/v1/cases/{code}/actions/{action}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let answer: Json = r.json().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("{action} {code}: {status} {answer}"));
    }
    if step + 1 < STEPS.len() {
        let version = answer["version"].as_i64().ok_or("no version")?;
        u.pipeline
            .lock()
            .unwrap()
            .push_back((code, step + 1, version));
    }
    Ok(())
}

async fn one(
    client: &reqwest::Client,
    base: &str,
    units: &[Arc<Unit>],
    rng: &mut Rng,
) -> (Class, Result<Option<u64>, String>) {
    let class = Class::draw(rng.next() % 100);
    let u = &units[rng.below(units.len())];
    let some_code = |rng: &mut Rng| {
        let codes = u.codes.lock().unwrap();
        codes[rng.below(codes.len())].clone()
    };
    let r = match class {
        Class::Queue => {
            let (unit, token) = if rng.next() % 2 == 0 {
                (&u.centre, &u.reception)
            } else {
                (&u.committee, &u.clerk)
            };
            get(
                client,
                format!("{base}/api/v1/units/{unit}/queue"),
                Some(token),
            )
            .await
        }
        Class::MyDossiers => {
            get(
                client,
                format!("{base}/api/v1/cases?per_page=20"),
                Some(&u.citizen),
            )
            .await
        }
        Class::Tracking => {
            let code = some_code(rng);
            get(
                client,
                format!("{base}/api/v1/tracking/{code}?id_last4=4567"),
                None,
            )
            .await
        }
        Class::DossierPage => {
            let code = some_code(rng);
            get(
                client,
                format!("{base}/api/v1/cases/{code}"),
                Some(&u.clerk),
            )
            .await
        }
        Class::Backlog => {
            get(
                client,
                format!("{base}/api/v1/stats/backlog?group_by=unit"),
                Some(&u.supervisor),
            )
            .await
        }
        Class::Action => act(client, base, u).await,
        Class::Intake => {
            return (
                class,
                file_online(client, base, u).await.map(|(_, us)| Some(us)),
            )
        }
        Class::Submit => unreachable!("never drawn"),
    };
    (class, r.map(|()| None))
}

/// A webhook receiver for the dispatcher: answers 204 to everything.
async fn webhook_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::NO_CONTENT });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/hook")
}

async fn bench(label: &str, url: &str) {
    let hook = webhook_receiver().await;
    let settings = settings_for(
        url,
        &[
            ("MOTCUA__SLA__SWEEPER_ENABLED", "true"),
            ("MOTCUA__OUTBOX__DISPATCHER_ENABLED", "true"),
            ("MOTCUA__OUTBOX__WEBHOOK_URL", hook.as_str()),
            (
                "MOTCUA__OUTBOX__WEBHOOK_SECRET",
                "bench-webhook-secret-of-32-bytes-or-more",
            ),
        ],
    );
    let app = App::build(settings, StartOptions::default())
        .await
        .expect("build app");
    let serving = Serving::start(app);
    let (base, state) = (serving.base.clone(), serving.state.clone());
    let client = reqwest::Client::builder()
        .no_gzip()
        .pool_max_idle_per_host(1024)
        .build()
        .expect("client");
    let n_units: usize = env_or("MOTCUA_BENCH_UNITS", "100").parse().expect("units");
    let prefill: usize = env_or("MOTCUA_BENCH_PREFILL", "20")
        .parse()
        .expect("prefill");
    let client_counts: Vec<usize> = env_or("MOTCUA_BENCH_CLIENTS", "8,32")
        .split(',')
        .map(|c| c.trim().parse().expect("clients"))
        .collect();
    let secs: u64 = env_or("MOTCUA_BENCH_SECS", "30").parse().expect("secs");

    // Communes spread over every province: the i-th service centre of each province in turn.
    let rows = state
        .db
        .query_all_raw(Statement::from_string(
            state.db.get_database_backend(),
            "SELECT c.code AS centre, p.code AS committee, p.province_code AS province \
             FROM units c JOIN units p ON p.code = replace(c.code, '.TTPVHCC', '.UBND') \
             WHERE c.code LIKE '%.TTPVHCC' AND c.active AND p.active ORDER BY c.code"
                .to_string(),
        ))
        .await
        .expect("units");
    let mut by_province: Vec<(String, VecDeque<(String, String)>)> = Vec::new();
    for r in rows {
        let (centre, committee, province): (String, String, String) = (
            r.try_get("", "centre").unwrap(),
            r.try_get("", "committee").unwrap(),
            r.try_get("", "province").unwrap(),
        );
        match by_province.iter_mut().find(|(p, _)| *p == province) {
            Some((_, v)) => v.push_back((centre, committee)),
            None => by_province.push((province, VecDeque::from([(centre, committee)]))),
        }
    }
    let mut picked = Vec::new();
    while picked.len() < n_units && by_province.iter().any(|(_, v)| !v.is_empty()) {
        for (province, v) in by_province.iter_mut() {
            if picked.len() < n_units {
                if let Some((c, p)) = v.pop_front() {
                    picked.push((province.clone(), c, p));
                }
            }
        }
    }
    let provinces: std::collections::BTreeSet<&String> = picked.iter().map(|p| &p.0).collect();
    println!(
        "{label}: {} communes in {} provinces; creating their staff and citizens",
        picked.len(),
        provinces.len()
    );
    let setup = Instant::now();
    let mut supervisors = HashMap::new();
    for province in provinces {
        let token = account(
            &state,
            &client,
            &base,
            &format!("sup_{province}"),
            "supervisor",
            None,
            Some(province),
        )
        .await;
        supervisors.insert(province.clone(), token);
    }
    let mut units = Vec::new();
    for (i, (province, centre, committee)) in picked.iter().enumerate() {
        let ward = centre.split('.').nth(1).expect("ward").to_string();
        let reception = account(
            &state,
            &client,
            &base,
            &format!("rec_{i}"),
            "clerk",
            Some(centre),
            None,
        )
        .await;
        let clerk = account(
            &state,
            &client,
            &base,
            &format!("clk_{i}"),
            "clerk",
            Some(committee),
            None,
        )
        .await;
        let head = account(
            &state,
            &client,
            &base,
            &format!("head_{i}"),
            "unit_head",
            Some(committee),
            None,
        )
        .await;
        let citizen = account(
            &state,
            &client,
            &base,
            &format!("cit_{i}"),
            "citizen",
            None,
            None,
        )
        .await;
        units.push(Arc::new(Unit {
            ward,
            centre: centre.clone(),
            committee: committee.clone(),
            reception,
            clerk,
            head,
            citizen,
            supervisor: supervisors[province].clone(),
            pipeline: Mutex::new(VecDeque::new()),
            codes: Mutex::new(Vec::new()),
        }));
    }
    for u in &units {
        for _ in 0..prefill {
            if let Err(e) = file_online(&client, &base, u).await {
                panic!("prefill at {}: {e}", u.centre);
            }
        }
    }
    if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // Autovacuum is off on the bench machine's server (docs/PERFORMANCE.md); a production
        // server's would have analysed the tables the prefill grew from nothing.
        state
            .db
            .execute_unprepared("ANALYZE")
            .await
            .expect("analyze");
    }
    println!(
        "{label}: set up in {:.0} s ({} dossiers filed first); {client_counts:?} clients, {secs} s each",
        setup.elapsed().as_secs_f64(),
        units.len() * prefill
    );

    let units = Arc::new(units);
    for clients in client_counts {
        mix(label, &state, &client, &base, &units, clients, secs).await;
    }
    serving.shut().await;
}

/// `clients` clients drawing requests back to back for `secs` (after 3 s of warm-up); prints
/// the table of the run.
async fn mix(
    label: &str,
    state: &AppState,
    client: &reqwest::Client,
    base: &str,
    units: &Arc<Vec<Arc<Unit>>>,
    clients: usize,
    secs: u64,
) {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..clients {
        let (client, base, units) = (client.clone(), base.to_string(), units.clone());
        let (measuring, stop) = (measuring.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut rng =
                Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
            let mut t = Tally::default();
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let (class, r) = one(&client, &base, &units, &mut rng).await;
                if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    match r {
                        Ok(submit) => {
                            t.us.entry(class)
                                .or_default()
                                .push(began.elapsed().as_micros() as u64);
                            if let Some(us) = submit {
                                t.us.entry(Class::Submit).or_default().push(us);
                            }
                        }
                        Err(e) => t.errors.entry(class).or_default().push(e),
                    }
                }
            }
            t
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pg_cpu0 = cpu_secs(Some("postgres"));
    let own_cpu0 = cpu_secs(None);
    measuring.store(true, Ordering::Relaxed);
    let began = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    let pg_cpu = cpu_secs(Some("postgres")) - pg_cpu0;
    let own_cpu = cpu_secs(None) - own_cpu0;
    let mut tally = Tally::default();
    for w in workers {
        tally.merge(w.await.expect("worker"));
    }

    let undelivered = state
        .db
        .query_one_raw(Statement::from_string(
            state.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL"
                .to_string(),
        ))
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get::<i64>("", "n").ok());
    let total: usize = tally
        .us
        .iter()
        .filter(|(class, _)| **class != Class::Submit)
        .map(|(_, v)| v.len())
        .sum();
    let errors: usize = tally.errors.values().map(Vec::len).sum();
    println!(
        "\n{label}: {} units, {clients} clients, {secs} s: {:.0} requests/s, {errors} errors",
        units.len(),
        total as f64 / elapsed
    );
    println!(
        "{:<32} {:>9} {:>8} {:>9} {:>9} {:>7}",
        "class", "share", "per s", "p50 ms", "p99 ms", "errors"
    );
    for class in Class::ALL {
        let mut v = tally.us.remove(&class).unwrap_or_default();
        v.sort_unstable();
        let errs = tally.errors.get(&class).map_or(0, Vec::len);
        println!(
            "{:<32} {:>8.1}% {:>8.0} {:>9.1} {:>9.1} {:>7}",
            class.name(),
            100.0 * v.len() as f64 / total.max(1) as f64,
            v.len() as f64 / elapsed,
            support::pct_ms(&v, 0.50),
            support::pct_ms(&v, 0.99),
            errs
        );
    }
    let cores = cores();
    if label == "postgres" {
        println!(
            "CPU over the run: PostgreSQL's processes {:.0} % of {cores} cores, this process (app + clients) {:.0} %",
            100.0 * pg_cpu / elapsed / cores,
            100.0 * own_cpu / elapsed / cores
        );
    } else {
        println!(
            "CPU over the run: this process (app with SQLite inside, and the clients) {:.0} % of {cores} cores",
            100.0 * own_cpu / elapsed / cores
        );
    }
    if let Some(n) = undelivered {
        println!("outbox rows undelivered at the end: {n}");
    }
    for (class, es) in &tally.errors {
        for e in es.iter().take(3) {
            println!("error ({}): {e}", class.name());
        }
    }
}

async fn run() {
    let only = env_or("MOTCUA_BENCH_ONLY", "");
    if only.is_empty() || only == "sqlite" {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("mix.db").display());
        bench("sqlite", &url).await;
    }
    let pg = env_or("MOTCUA_BENCH_DATABASE_URL", "");
    if !pg.is_empty() && (only.is_empty() || only == "postgres") {
        let admin = sea_orm::Database::connect(pg.clone())
            .await
            .expect("connect");
        let url = fresh_pg_database(&admin, &pg, "motcua_bench_mix", "log_statement = 'all'").await;
        bench("postgres", &url).await;
        drop_pg_database(&admin, "motcua_bench_mix").await;
    }
}

fn main() {
    support::block_on(run());
}
