//! The clerk's queue page (issue 17's quality bar): server render time of `/queue` with 500
//! dossiers, against the JSON API's queue of the same unit in the same run (the baseline:
//! the same query and scope, without the page).
//!
//! `cargo bench --bench queue_page` (a fresh SQLite file; PostgreSQL too with
//! `MOTCUA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! 1. The app is served in-process (migrated and seeded, background jobs off). A reception
//!    clerk of `01.00004.TTPVHCC` files `MOTCUA_BENCH_DOSSIERS` (default 500) walk-in
//!    dossiers over HTTP; all are handled by `01.00004.UBND`, whose clerk signs in to the web
//!    app as a browser does (the sign-in form with its anti-forgery token, a session cookie).
//! 2. Each request is sent `MOTCUA_BENCH_REQUESTS` times (default 50) one after another,
//!    after three warm-ups; reported: p50, p95 and max latency on loopback (the server's
//!    render time plus a loopback round trip) and the body size, uncompressed.
//!
//! Target: `/queue?per_page=500` under 50 ms p95.

use std::time::{Duration, Instant};

use motcua::app::{App, StartOptions};
use serde_json::{json, Value};

mod support;
use support::{env_or, settings_for};

const CENTRE: &str = "01.00004.TTPVHCC";
const HANDLING: &str = "01.00004.UBND";

fn pct(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn user(state: &motcua::state::AppState, username: &str, role: &str, unit: &str) -> String {
    let password = format!("{username}-bench-password-123");
    support::create_account(state, username, &password, role, Some(unit), None)
        .await
        .expect("create user");
    password
}

async fn measure(client: &reqwest::Client, url: &str, n: usize) -> (Vec<f64>, usize) {
    let mut size = 0;
    for _ in 0..3 {
        let r = client.get(url).send().await.expect("warm-up");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        size = r.bytes().await.expect("body").len();
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = client.get(url).send().await.expect("request");
        assert!(r.status().is_success());
        let body = r.bytes().await.expect("body");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        size = body.len();
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times, size)
}

async fn run_on(url: &str, label: &str, dossiers: usize, n: usize) {
    let app = App::build(settings_for(url, &[]), StartOptions { migrate: true })
        .await
        .expect("build app");
    let serving = support::Serving::start(app);
    let (base, state) = (serving.base.clone(), serving.state.clone());
    let reception_pw = user(&state, "bench_reception", "clerk", CENTRE).await;
    let clerk_pw = user(&state, "bench_clerk", "clerk", HANDLING).await;
    let api = reqwest::Client::builder().no_gzip().build().unwrap();
    let reception = support::login(&api, &base, "bench_reception", &reception_pw).await;
    // The mandatory components of each procedure: a walk-in is received at once only with
    // their scans, uploaded first.
    let mut mandatory = std::collections::HashMap::new();
    for code in ["1.001193", "1.004873"] {
        let p: Value = api
            .get(format!("{base}/api/v1/procedures/{code}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kinds: Vec<String> = p["required_documents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["mandatory"] == json!(true))
            .map(|r| r["kind"].as_str().unwrap().to_string())
            .collect();
        mandatory.insert(code, kinds);
    }
    let started = Instant::now();
    for i in 0..dossiers {
        let procedure = if i % 2 == 0 { "1.001193" } else { "1.004873" };
        let mut documents = Vec::new();
        for kind in &mandatory[procedure] {
            let scan = format!("%PDF-1.4\n% scan {i} {kind}\n%%EOF\n").into_bytes();
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(scan).file_name(format!("{kind}.pdf")),
            );
            let up: Value = api
                .post(format!("{base}/api/v1/uploads"))
                .bearer_auth(&reception)
                .multipart(form)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            documents.push(json!({"kind": kind, "upload_id": up["id"]}));
        }
        let r = api
            .post(format!("{base}/api/v1/cases"))
            .bearer_auth(&reception)
            .json(&json!({
                "procedure_code": procedure,
                "applicant": {"full_name": format!("Nguyễn Văn {i}"), "id_number": format!("00120300{:04}", i % 10000), "phone": "0912345678"},
                "address": {"ward_code": "00004"},
                "channel": "in_person",
                "documents": documents,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let filing = started.elapsed().as_secs_f64();
    let clerk_token = support::login(&api, &base, "bench_clerk", &clerk_pw).await;

    // The clerk's browser session, as a browser gets it.
    let browser = reqwest::Client::builder()
        .no_gzip()
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let login = browser
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = "name=\"csrf_token\" value=\"";
    let at = login.find(key).expect("csrf field") + key.len();
    let csrf = &login[at..at + login[at..].find('"').unwrap()];
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("username", "bench_clerk"),
            ("password", clerk_pw.as_str()),
            ("csrf_token", csrf),
            ("next", "/queue"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/queue", "signed in");

    let api_auth = reqwest::Client::builder()
        .no_gzip()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {clerk_token}").parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    println!("\n{label}: {dossiers} dossiers filed in {filing:.1} s; {n} requests each after 3 warm-ups\n");
    println!("| request | rows | p50 ms | p95 ms | max ms | body |");
    println!("|---|---:|---:|---:|---:|---:|");
    let rows = [200usize, dossiers];
    for per_page in rows {
        if per_page <= 200 {
            let (t, size) = measure(
                &api_auth,
                &format!("{base}/api/v1/units/{HANDLING}/queue?per_page={per_page}"),
                n,
            )
            .await;
            println!(
                "| baseline: API queue (JSON) | {per_page} | {:.1} | {:.1} | {:.1} | {} KB |",
                pct(&t, 50.0),
                pct(&t, 95.0),
                t[t.len() - 1],
                size / 1024
            );
        }
        let (t, size) = measure(&browser, &format!("{base}/queue?per_page={per_page}"), n).await;
        println!(
            "| queue page (HTML) | {per_page} | {:.1} | {:.1} | {:.1} | {} KB |",
            pct(&t, 50.0),
            pct(&t, 95.0),
            t[t.len() - 1],
            size / 1024
        );
    }
    serving.shut().await;
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let dossiers: usize = env_or("MOTCUA_BENCH_DOSSIERS", "500")
        .parse()
        .expect("dossiers");
    let n: usize = env_or("MOTCUA_BENCH_REQUESTS", "50")
        .parse()
        .expect("requests");
    support::block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}/queue.db?mode=rwc", dir.path().display());
        run_on(&url, "SQLite", dossiers, n).await;
        let pg = env_or("MOTCUA_BENCH_DATABASE_URL", "");
        if !pg.is_empty() {
            let admin = sea_orm::Database::connect(pg.clone())
                .await
                .expect("connect");
            let name = "motcua_bench_queue_page";
            let url = support::fresh_pg_database(&admin, &pg, name, "log_statement = 'none'").await;
            run_on(&url, "PostgreSQL", dossiers, n).await;
            support::drop_pg_database(&admin, name).await;
        }
    });
}
