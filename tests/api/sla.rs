//! The SLA sweeper: exactly once, never early, catch-up, concurrent sweepers; the outbox
//! dispatcher; the command line that operators use to sweep "as of" an instant.

use chrono::Duration;
use serde_json::json;

use crate::helpers::*;
use motcua::domain::sla::SlaState;
use motcua::services::sla::sweep;

async fn received_case(app: &TestApp, token: &str) -> String {
    app.file(token, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn sla_events(app: &TestApp, code: &str) -> Vec<String> {
    let c = app.case_row(code).await;
    motcua::repo::events::list(&app.state.db, c.id, false)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("sla_"))
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn states_change_exactly_once_and_never_early() {
    let app = spawn_app().await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let code = received_case(&app, &reception).await;
    let row = app.case_row(&code).await;
    let (risk, due) = (row.at_risk_at.unwrap(), row.due_at.unwrap());
    assert_eq!(row.next_check_at, Some(risk));
    assert!(risk < due);

    let r = sweep(
        &app.state.db,
        &app.state.data_keys,
        risk - Duration::seconds(1),
        100,
    )
    .await
    .unwrap();
    assert!(r.changes.is_empty(), "nothing before at_risk_at");
    let r = sweep(&app.state.db, &app.state.data_keys, risk, 100)
        .await
        .unwrap();
    assert_eq!(r.changes.len(), 1);
    assert_eq!(
        (r.changes[0].from, r.changes[0].to),
        (SlaState::OnTrack, SlaState::AtRisk)
    );
    let row = app.case_row(&code).await;
    assert_eq!(row.sla_state, "at_risk");
    assert_eq!(row.next_check_at, Some(due));
    assert!(
        sweep(&app.state.db, &app.state.data_keys, risk, 100)
            .await
            .unwrap()
            .changes
            .is_empty(),
        "once only"
    );
    assert!(sweep(
        &app.state.db,
        &app.state.data_keys,
        due - Duration::seconds(1),
        100
    )
    .await
    .unwrap()
    .changes
    .is_empty());
    let r = sweep(&app.state.db, &app.state.data_keys, due, 100)
        .await
        .unwrap();
    assert_eq!(r.count(SlaState::Overdue), 1);
    let row = app.case_row(&code).await;
    assert_eq!(row.sla_state, "overdue");
    assert_eq!(row.next_check_at, None);
    assert!(sweep(
        &app.state.db,
        &app.state.data_keys,
        due + Duration::days(30),
        100
    )
    .await
    .unwrap()
    .changes
    .is_empty());
    assert_eq!(
        sla_events(&app, &code).await,
        ["sla_at_risk", "sla_overdue"]
    );

    // The notifications went to the outbox in the same transaction.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let topics: Vec<String> = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::CaseCode.eq(code.clone()))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.topic)
        .filter(|t| t.starts_with("sla."))
        .collect();
    assert_eq!(topics, ["sla.at_risk", "sla.overdue"]);
}

#[tokio::test]
async fn a_late_sweep_catches_up_and_records_each_state_at_its_instant() {
    let app = spawn_app().await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let code = received_case(&app, &reception).await;
    let row = app.case_row(&code).await;
    let r = sweep(
        &app.state.db,
        &app.state.data_keys,
        row.due_at.unwrap() + Duration::days(3),
        100,
    )
    .await
    .unwrap();
    assert_eq!(r.changes.len(), 2);
    assert_eq!(r.changes[0].reached_at, row.at_risk_at.unwrap());
    assert_eq!(r.changes[1].reached_at, row.due_at.unwrap());
    assert!(r.max_lag_secs >= 3 * 86400);
    assert_eq!(
        sla_events(&app, &code).await,
        ["sla_at_risk", "sla_overdue"]
    );
    let events = motcua::repo::events::list(&app.state.db, row.id, false)
        .await
        .unwrap();
    let overdue = events.iter().find(|e| e.action == "sla_overdue").unwrap();
    assert_eq!(overdue.at, row.due_at.unwrap());
}

#[tokio::test]
async fn paused_and_closed_dossiers_are_not_swept() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    let code = received_case(&app, &cast.reception).await;
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    app.act(
        &cast.clerk,
        &code,
        "request_supplement",
        json!({"reason": "thiếu giấy tờ", "components": ["to_khai"]}),
    )
    .await
    .assert_status(200);
    let row = app.case_row(&code).await;
    assert!(sweep(
        &app.state.db,
        &app.state.data_keys,
        row.due_at.unwrap() + Duration::days(10),
        100
    )
    .await
    .unwrap()
    .changes
    .is_empty());
    assert_eq!(app.case_row(&code).await.sla_state, "on_track");
}

#[tokio::test]
async fn concurrent_sweepers_change_each_dossier_once() {
    let app = spawn_app().await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let mut bodies = Vec::new();
    for _ in 0..120 {
        bodies.push(
            app.with_documents(&reception, intake_body(MARITAL, BA_DINH))
                .await,
        );
    }
    let futures: Vec<_> = bodies
        .iter()
        .map(|body| {
            app.send(
                app.client
                    .post(app.url("/api/v1/cases"))
                    .bearer_auth(&reception)
                    .json(body),
            )
        })
        .collect();
    for r in futures::future::join_all(futures).await {
        r.assert_status(201);
    }
    let far = chrono::Utc::now() + Duration::days(60);
    let (a, b, c) = tokio::join!(
        sweep(&app.state.db, &app.state.data_keys, far, 7),
        sweep(&app.state.db, &app.state.data_keys, far, 7),
        sweep(&app.state.db, &app.state.data_keys, far, 7)
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let total_overdue =
        a.count(SlaState::Overdue) + b.count(SlaState::Overdue) + c.count(SlaState::Overdue);
    let total_risk =
        a.count(SlaState::AtRisk) + b.count(SlaState::AtRisk) + c.count(SlaState::AtRisk);
    assert_eq!(
        (total_risk, total_overdue),
        (120, 120),
        "each state once per dossier across sweepers"
    );
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let events = entity::case_events::Entity::find()
        .filter(entity::case_events::Column::Action.is_in(["sla_at_risk", "sla_overdue"]))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events, 240);
    let overdue = entity::cases::Entity::find()
        .filter(entity::cases::Column::SlaState.eq("overdue"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(overdue, 120);
}

#[tokio::test]
async fn the_sweeper_runs_inside_serve() {
    let app = spawn_app_with(
        TestConfig::default()
            .with("MOTCUA__SLA__SWEEPER_ENABLED", "true")
            .with("MOTCUA__SLA__SWEEP_INTERVAL_SECS", "1")
            // One dossier a batch and a pause between batches: the paced sweep drains all.
            .with("MOTCUA__SLA__BATCH_SIZE", "1")
            .with("MOTCUA__SLA__BATCH_PAUSE_MS", "20"),
    )
    .await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(received_case(&app, &reception).await);
    }
    // Pull the thresholds into the past, as if the server had been down.
    for code in &codes {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let now = chrono::Utc::now();
        let mut am = app.case_row(code).await.into_active_model();
        am.at_risk_at = Set(Some(now - Duration::hours(2)));
        am.due_at = Set(Some(now - Duration::hours(1)));
        am.next_check_at = Set(Some(now - Duration::hours(2)));
        am.update(&app.state.db).await.unwrap();
    }
    for code in &codes {
        for _ in 0..50 {
            if app.case_row(code).await.sla_state == "overdue" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(app.case_row(code).await.sla_state, "overdue");
        assert_eq!(sla_events(&app, code).await, ["sla_at_risk", "sla_overdue"]);
    }
    let admin = app.token_for("root", "admin", None, None).await;
    let metrics = app.get("/metrics", Some(&admin)).await;
    assert_eq!(metrics.status.as_u16(), 200);
    assert!(
        metrics.text.contains("sla_transitions_total"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("dossiers_open"));
    assert!(metrics.text.contains("http_requests_total"));
}

#[tokio::test]
async fn the_command_line_sweeps_as_of_an_instant() {
    let app = spawn_app().await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let code = received_case(&app, &reception).await;
    let due = app.case_row(&code).await.due_at.unwrap();
    let at = (due + Duration::minutes(1)).to_rfc3339();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args([
            "sla",
            "sweep",
            "--at",
            &at,
            "--database-url",
            &app.database_url,
        ])
        .env("MOTCUA__LOG__LEVEL", "error")
        .env("MOTCUA__SECURITY__DATA_KEY", crate::helpers::TEST_DATA_KEY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&code), "{stdout}");
    assert!(stdout.contains("overdue"), "{stdout}");
    assert_eq!(app.case_row(&code).await.sla_state, "overdue");
}

#[tokio::test]
async fn the_outbox_is_delivered_to_a_signed_webhook_with_retries() {
    use std::sync::{Arc, Mutex};
    // A webhook receiver that fails the first call.
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (seen2, calls2) = (seen.clone(), calls.clone());
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (seen, calls) = (seen2.clone(), calls2.clone());
            async move {
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.lock().unwrap().push((headers, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let app = spawn_app_with(
        TestConfig::default()
            .with("MOTCUA__OUTBOX__WEBHOOK_URL", &hook)
            .with("MOTCUA__OUTBOX__WEBHOOK_SECRET", "hook-secret"),
    )
    .await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let code = received_case(&app, &reception).await;
    let sink = motcua::services::notify::Sink::from_settings(&app.state.settings.outbox);
    let settings = &app.state.settings.outbox;

    let first =
        motcua::services::notify::dispatch_once(&app.state.db, &sink, settings, chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!((first.delivered, first.retried), (0, 1));
    // Not before its back-off...
    let again =
        motcua::services::notify::dispatch_once(&app.state.db, &sink, settings, chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(again.delivered + again.retried, 0);
    // ...and then delivered.
    let later = chrono::Utc::now() + Duration::seconds(5);
    let second = motcua::services::notify::dispatch_once(&app.state.db, &sink, settings, later)
        .await
        .unwrap();
    assert_eq!(second.delivered, 1);
    assert_eq!(
        motcua::services::notify::backlog(&app.state.db)
            .await
            .unwrap(),
        0
    );

    let seen = seen.lock().unwrap();
    let (headers, body) = &seen[0];
    let ts: i64 = headers["x-motcua-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = motcua::services::notify::sign("hook-secret", ts, body.as_bytes());
    assert_eq!(headers["x-motcua-signature"].to_str().unwrap(), expected);
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["case_code"], code);
    assert_eq!(
        payload["event_id"].as_str().unwrap(),
        headers["x-motcua-event-id"].to_str().unwrap()
    );
    assert_eq!(payload["payload"]["MaHoSo"], code);
}

#[tokio::test]
async fn the_dispatcher_delivers_dossiers_at_once_and_each_dossiers_in_order() {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    // A slow receiver that records, per dossier, the order of arrival and how many calls were
    // in flight at once, overall and for one dossier.
    #[derive(Default)]
    struct Seen {
        order: HashMap<String, Vec<String>>,
        busy: HashMap<String, usize>,
        most_at_once: usize,
        same_dossier_overlap: bool,
    }
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let (seen2, in_flight2) = (seen.clone(), in_flight.clone());
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let (seen, in_flight) = (seen2.clone(), in_flight2.clone());
            async move {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                let code = v["case_code"].as_str().unwrap_or("-").to_string();
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                {
                    let mut s = seen.lock().unwrap();
                    s.most_at_once = s.most_at_once.max(now);
                    let busy = s.busy.entry(code.clone()).or_default();
                    *busy += 1;
                    if *busy > 1 {
                        s.same_dossier_overlap = true;
                    }
                    let id = v["event_id"].as_str().unwrap().to_string();
                    s.order.entry(code.clone()).or_default().push(id);
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                *seen.lock().unwrap().busy.get_mut(&code).unwrap() -= 1;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let app = spawn_app_with(
        TestConfig::default()
            .with("MOTCUA__OUTBOX__WEBHOOK_URL", &hook)
            .with("MOTCUA__OUTBOX__DISPATCHER_ENABLED", "false"),
    )
    .await;
    let cast = app.cast().await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let code = received_case(&app, &cast.reception).await;
        app.act(&cast.clerk, &code, "claim", json!({}))
            .await
            .assert_status(200);
        app.act(&cast.clerk, &code, "start_processing", json!({}))
            .await
            .assert_status(200);
        codes.push(code);
    }
    // The order the rows were written in, per dossier.
    let mut written: HashMap<String, Vec<String>> = HashMap::new();
    for r in motcua::repo::outbox::due(&app.state.db, chrono::Utc::now(), 1000)
        .await
        .unwrap()
    {
        written
            .entry(r.case_code.clone().unwrap_or_default())
            .or_default()
            .push(r.event_id.to_string());
    }
    assert!(
        codes.iter().all(|c| written[c].len() >= 2),
        "each dossier has several notifications: {written:?}"
    );
    let sink = motcua::services::notify::Sink::from_settings(&app.state.settings.outbox);
    let r = motcua::services::notify::dispatch_once(
        &app.state.db,
        &sink,
        &app.state.settings.outbox,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(r.delivered, written.values().map(Vec::len).sum::<usize>());
    assert_eq!(
        motcua::services::notify::backlog(&app.state.db)
            .await
            .unwrap(),
        0
    );
    let seen = seen.lock().unwrap();
    assert!(
        seen.most_at_once > 1,
        "several dossiers are delivered at once"
    );
    assert!(
        !seen.same_dossier_overlap,
        "a dossier's notifications go one at a time"
    );
    for code in &codes {
        assert_eq!(seen.order[code], written[code], "{code}: in written order");
    }
}
