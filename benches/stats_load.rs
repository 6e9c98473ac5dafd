//! Supervisor statistics at scale (issue 6 §5): latency of the backlog and bottleneck
//! endpoints over an existing database, typically one seeded with a million synthetic
//! dossiers:
//!
//! ```text
//! motcua --database-url 'sqlite:///tmp/motcua_perf/stats.db?mode=rwc' seed synthetic --cases 1000000 --days 365
//! MOTCUA_BENCH_STATS_URL='sqlite:///tmp/motcua_perf/stats.db?mode=rwc' cargo bench --bench stats_load
//! ```
//!
//! The app is started in-process on that database (migrations applied: reference seeding is
//! idempotent, so a seeded database is left as it is apart from new migrations), a national
//! supervisor `bench_national` is created unless present, logs in, and each request is sent
//! `MOTCUA_BENCH_REQUESTS` times (default 30) one after another after two warm-up requests.
//! Reported: p50, p95 and max latency, response size, and the number of groups or units.
//!
//! The country's bottleneck report is computed in advance (`stats.bottlenecks_refresh_secs`
//! = 300, as by default): the bench waits for the app's job to compute it, measures the
//! request as served, and then the computation itself (in process, the job's work) apart.
//!
//! Targets (issue 23 §3, 2,000,000 open and 5,000,000 closed dossiers): backlog of the whole
//! country by unit < 200 ms p95, of one province < 50 ms; a unit's first queue page < 30 ms;
//! the scorecard of a province over a year < 500 ms; bottlenecks of the country < 1 s.

use std::time::{Duration, Instant};

use motcua::app::{App, StartOptions};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

mod support;
use support::{env_or, settings_for};

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank: the smallest value with at least p % of the samples at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_string(),
    ))
    .await
    .expect("count")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("an integer")
}

async fn run() {
    let Ok(url) = std::env::var("MOTCUA_BENCH_STATS_URL") else {
        println!(
            "stats_load: set MOTCUA_BENCH_STATS_URL to a seeded database, e.g.\n  \
             motcua --database-url 'sqlite:///tmp/motcua_perf/stats.db?mode=rwc' seed synthetic --cases 1000000 --days 365\n  \
             MOTCUA_BENCH_STATS_URL='sqlite:///tmp/motcua_perf/stats.db?mode=rwc' cargo bench --bench stats_load"
        );
        return;
    };
    let n: usize = env_or("MOTCUA_BENCH_REQUESTS", "30")
        .parse()
        .expect("MOTCUA_BENCH_REQUESTS");
    let started = Instant::now();
    let app = App::build(
        settings_for(
            &url,
            // Long statistics requests must not be cut by the default 30 s timeout while measuring.
            &[
                ("MOTCUA__SERVER__REQUEST_TIMEOUT_SECS", "300"),
                ("MOTCUA__STATS__BOTTLENECKS_REFRESH_SECS", "300"),
            ],
        ),
        StartOptions { migrate: true },
    )
    .await
    .expect("build app");
    let start_secs = started.elapsed().as_secs_f64();
    let serving = support::Serving::start(app);
    let (base, state) = (serving.base.clone(), serving.state.clone());
    let backend = state.db.get_database_backend();
    let total = count(&state.db, "SELECT COUNT(*) FROM cases").await;
    let open = count(
        &state.db,
        "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL",
    )
    .await;
    let open_01 = count(
        &state.db,
        "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL AND province_code = '01'",
    )
    .await;
    println!(
        "statistics at scale: {backend:?}, {total} dossiers ({open} open, {open_01} open in \
         province 01); app start (migrations, reference check, indexes) {start_secs:.1} s; \
         {n} requests each after 2 warm-ups"
    );

    let password = "bench-national-password-123";
    let created =
        support::create_account(&state, "bench_national", password, "supervisor", None, None).await;
    if let Err(e) = created {
        // Already there from an earlier run (same password).
        println!("(supervisor account not created: {e:?})");
    }
    // As the intake bench: no compression, so the figures stay comparable with earlier runs.
    let client = reqwest::Client::builder()
        .no_gzip()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let token = support::login(&client, &base, "bench_national", password).await;

    // The unit with the most open dossiers, and a clerk of it for its queue page.
    let busiest: String = state
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT handling_unit FROM cases WHERE closed_at IS NULL AND handling_unit IS NOT NULL \
             GROUP BY handling_unit ORDER BY COUNT(*) DESC LIMIT 1",
        ))
        .await
        .expect("busiest unit")
        .expect("a unit")
        .try_get_by_index(0)
        .expect("a code");
    let busiest_open = count(
        &state.db,
        &format!(
            "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL AND handling_unit = '{busiest}'"
        ),
    )
    .await;
    let clerk = format!("bench_clerk_{}", busiest.replace('.', "_").to_lowercase());
    // Already there from an earlier run (same password) when this fails.
    let _ = support::create_account(&state, &clerk, password, "clerk", Some(&busiest), None).await;
    let clerk_token = support::login(&client, &base, &clerk, password).await;
    // The job computes the country's bottleneck report when the app starts: wait for it, so
    // that it runs before the measurements rather than during them.
    let waited = Instant::now();
    while count(
        &state.db,
        "SELECT COUNT(*) FROM report_snapshots WHERE computed_at IS NOT NULL",
    )
    .await
        == 0
    {
        assert!(
            waited.elapsed() < Duration::from_secs(300),
            "no bottleneck report computed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A year back from today, for the scorecard (the synthetic history spans `--days`).
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - chrono::Duration::days(365);

    println!();
    println!("| request | p50 | p95 | max | response | groups / units | target |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let cases: Vec<(String, String, f64, &str)> = vec![
        (
            "backlog by unit, province 01".into(),
            "/api/v1/stats/backlog?group_by=unit&province=01".into(),
            50.0,
            &token,
        ),
        (
            "backlog by unit, whole country".into(),
            "/api/v1/stats/backlog?group_by=unit".into(),
            200.0,
            &token,
        ),
        (
            format!("queue page of the busiest unit ({busiest_open} open), first 50 by urgency"),
            format!("/api/v1/units/{busiest}/queue?per_page=50"),
            30.0,
            &clerk_token,
        ),
        (
            "scorecard of province 01 over a year".into(),
            format!("/api/v1/stats/scorecard?province=01&from={year_ago}&to={today}"),
            500.0,
            &token,
        ),
        (
            "bottlenecks, province 01".into(),
            "/api/v1/stats/bottlenecks?province=01&window_days=7".into(),
            1000.0,
            &token,
        ),
        (
            "bottlenecks, whole country (computed in advance)".into(),
            "/api/v1/stats/bottlenecks?window_days=7".into(),
            1000.0,
            &token,
        ),
    ];
    for (name, path, target, token) in cases {
        let url = format!("{base}{path}");
        let mut times = Vec::with_capacity(n);
        let mut size = 0;
        let mut items = 0;
        for i in 0..n + 2 {
            let began = Instant::now();
            let r = client
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            let status = r.status();
            let body = r.bytes().await.expect("body");
            let ms = began.elapsed().as_secs_f64() * 1000.0;
            assert!(
                status.is_success(),
                "{path}: {status} {}",
                String::from_utf8_lossy(&body)
            );
            if i >= 2 {
                times.push(ms);
            }
            size = body.len();
            let v: Value = serde_json::from_slice(&body).expect("JSON");
            items = v["groups"]
                .as_array()
                .or_else(|| v["units"].as_array())
                .or_else(|| v["items"].as_array())
                .map_or(0, |a| a.len());
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let p95 = pct(&times, 95.0);
        println!(
            "| {name} (`{path}`) | {:.0} ms | **{:.0} ms** | {:.0} ms | {:.0} kB | {items} | < {target:.0} ms {} |",
            pct(&times, 50.0),
            p95,
            times.last().copied().unwrap_or(f64::NAN),
            size as f64 / 1024.0,
            if p95 < target { "✔" } else { "✘" }
        );
    }
    // What the job does every `stats.bottlenecks_refresh_secs`: the country's report computed
    // from the open dossiers (in process: no HTTP, no JSON).
    let mut live = state.stats();
    live.bottlenecks_refresh_secs = 0;
    let mut times = Vec::with_capacity(n);
    let mut units = 0;
    for i in 0..n.min(10) + 1 {
        let began = Instant::now();
        let b = motcua::services::stats::bottlenecks(
            &live,
            &Default::default(),
            motcua::services::stats::BOTTLENECK_WINDOW_DAYS,
            chrono::Utc::now(),
            motcua::domain::lang::Lang::Vi,
        )
        .await
        .expect("bottlenecks");
        if i >= 1 {
            times.push(began.elapsed().as_secs_f64() * 1000.0);
        }
        units = b.units.len();
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "| bottlenecks, whole country, computed (the job's work, {} runs after 1 warm-up) | {:.0} ms | {:.0} ms | {:.0} ms | | {units} | every `stats.bottlenecks_refresh_secs` |",
        times.len(),
        pct(&times, 50.0),
        pct(&times, 95.0),
        times.last().copied().unwrap_or(f64::NAN),
    );
    serving.shut().await;
}

fn main() {
    support::block_on(run());
}
