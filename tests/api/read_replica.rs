//! Reads from a PostgreSQL streaming replica (`database.read_url`), against a real one:
//! `.ci/replica` starts a primary and a `pg_basebackup -R` replica of it on other ports and runs
//! this module with `MOTCUA_TEST_DATABASE_URL` naming the primary and
//! `MOTCUA_TEST_READ_REPLICA_URL` the replica. Elsewhere the test says it was skipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::*;

/// The bound the app is given: long enough that the requests made right after the replica
/// stops replaying surely land within it, short enough to wait out.
const MAX_LAG_MS: u64 = 3000;

async fn wait_until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn open_count(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/stats/backlog", Some(token))
        .await
        .assert_status(200)["totals"]["open"]
        .as_i64()
        .unwrap()
}

async fn queue_codes(app: &TestApp, token: &str) -> Vec<String> {
    let q: Value = app
        .get(&format!("/api/v1/units/{BA_DINH_PC}/queue"), Some(token))
        .await
        .assert_status(200);
    q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn reads_use_the_replica_while_it_keeps_up_and_the_primary_while_it_lags() {
    let Some(replica_base) = std::env::var("MOTCUA_TEST_READ_REPLICA_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!("skipped: MOTCUA_TEST_READ_REPLICA_URL is not set (.ci/replica sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(&dir).await;
    let name = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let read_url = motcua::db::url_with_database(&replica_base, &name);
    let app = serve(
        url,
        Arc::new(dir),
        &TestConfig::default()
            .with("MOTCUA__DATABASE__READ_URL", &read_url)
            .with("MOTCUA__DATABASE__READ_MAX_LAG_MS", &MAX_LAG_MS.to_string()),
    )
    .await;
    let reads = &app.state.reads;
    // The replica receives the new database by replaying its creation; the app starts on the
    // primary and moves its reads over once it has seen the replica caught up.
    wait_until("the replica serves reads", async || reads.replica_in_use()).await;

    let cast = app.cast().await;
    let national = app.token_for("nat", "supervisor", None, None).await;
    let first = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await;
    let first = first.assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("the replica has the first dossier", async || {
        open_count(&app, &national).await == 1
    })
    .await;
    assert!(queue_codes(&app, &cast.clerk).await.contains(&first));

    // The replica stops replaying: it answers, but with what it had.
    let standby = sea_orm::Database::connect(read_url.clone()).await.unwrap();
    standby
        .execute_unprepared("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let second = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await;
    let second = second.assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();

    // Reads that must see their writes go to the primary: the dossier's page, its tracking
    // (a miss on the replica is confirmed on the primary before it counts).
    app.get(&format!("/api/v1/cases/{second}"), Some(&cast.reception))
        .await
        .assert_status(200);
    app.get(&format!("/api/v1/tracking/{second}?id_last4=4567"), None)
        .await
        .assert_status(200);
    // Statistics and queues read the replica while it is within the bound: they do not have
    // the second dossier yet.
    let stale_count = open_count(&app, &national).await;
    let stale_queue = queue_codes(&app, &cast.clerk).await;
    assert!(
        reads.replica_in_use(),
        "the replica was left before the bound ({:?} behind)",
        reads.staleness()
    );
    assert_eq!(stale_count, 1, "the backlog was read from the replica");
    assert!(!stale_queue.contains(&second));

    // Past the bound the reads go to the primary, which has everything.
    wait_until("the reads leave the lagging replica", async || {
        !reads.replica_in_use()
    })
    .await;
    assert!(reads.staleness().unwrap() > Duration::from_millis(MAX_LAG_MS));
    assert_eq!(open_count(&app, &national).await, 2);
    assert!(queue_codes(&app, &cast.clerk).await.contains(&second));

    // Replay resumes: the replica catches up and serves again, with both dossiers.
    standby
        .execute_unprepared("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    wait_until("the replica serves reads again", async || {
        reads.replica_in_use()
    })
    .await;
    assert_eq!(open_count(&app, &national).await, 2);
    let admin = app.token_for("admin", "admin", None, None).await;
    let metrics = app.get("/metrics", Some(&admin)).await;
    assert!(
        metrics
            .text
            .lines()
            .any(|l| l.contains("read_replica_in_use") && l.ends_with(" 1")),
        "{}",
        metrics.text
    );
}
