//! The event feed for integrators (`GET /api/v1/events`) and its webhook subscriptions.

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DatabaseBackend, TransactionTrait};
use serde_json::{json, Value};

use crate::helpers::*;

/// A Hồ Chí Minh City ward (Phường Thủ Dầu Một).
const HCM_WARD: &str = "25747";
const HCM_CENTRE: &str = "79.TTPVHCC";

/// Read the feed from `from` to its end, `limit` events a page; every event and the end.
async fn read_all(app: &TestApp, token: &str, from: &str, limit: u64) -> (Vec<Value>, String) {
    feed_settled(app).await;
    let mut events = Vec::new();
    let mut after = from.to_string();
    loop {
        let page = app
            .get(
                &format!("/api/v1/events?after={after}&limit={limit}"),
                Some(token),
            )
            .await
            .assert_status(200);
        let batch = page["events"].as_array().unwrap().clone();
        assert!(batch.len() as u64 <= limit);
        if let Some(last) = batch.last() {
            assert_eq!(page["next_cursor"], last["cursor"]);
        } else {
            assert_eq!(page["next_cursor"], after.as_str());
        }
        events.extend(batch);
        after = page["next_cursor"].as_str().unwrap().to_string();
        if !page["has_more"].as_bool().unwrap() {
            return (events, after);
        }
    }
}

fn position(cursor: &Value) -> (i64, i64) {
    let c = cursor.as_str().unwrap();
    let (t, i) = c.split_once('-').unwrap_or(("0", c));
    (t.parse().unwrap(), i.parse().unwrap())
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

async fn walk_in(app: &TestApp, token: &str, ward: &str) -> String {
    app.file(token, intake_body(MARITAL, ward))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_feed_hands_out_every_event_once_in_commit_order_to_administrators_and_integrators() {
    let app = spawn_app().await;
    let admin = app.token_for("admin", "admin", None, None).await;
    let integrator = app
        .token_for("stats.office", "integrator", None, None)
        .await;
    let hn_integrator = app.token_for("hn.app", "integrator", None, Some(HN)).await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let hcm = app.token_for("hcm", "clerk", Some(HCM_CENTRE), None).await;
    let hn_case = walk_in(&app, &reception, BA_DINH).await;
    let hcm_case = walk_in(&app, &hcm, HCM_WARD).await;

    // Page by page or at once: the same events, each once, positions rising.
    let (one_by_one, end) = read_all(&app, &integrator, "0", 1).await;
    let (at_once, end_at_once) = read_all(&app, &admin, "0", 1000).await;
    assert_eq!(ids(&one_by_one), ids(&at_once));
    assert_eq!(end, end_at_once);
    let positions: Vec<_> = at_once.iter().map(|e| position(&e["cursor"])).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let codes: Vec<&str> = at_once
        .iter()
        .map(|e| e["case_code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&hn_case.as_str()) && codes.contains(&hcm_case.as_str()));
    let first = at_once.iter().find(|e| e["case_code"] == hn_case).unwrap();
    assert_eq!(
        (
            &first["type"],
            &first["to_status"],
            &first["seq"],
            &first["province_code"]
        ),
        (&json!("receive"), &json!("received"), &json!(1), &json!(HN))
    );
    assert_eq!(first["procedure_code"], MARITAL);
    // No personal data: not the applicant's name, ID number or phone, nor who acted.
    let text = serde_json::to_string(&at_once).unwrap();
    for personal in ["Nguyễn Văn An", "001203004567", "0912345678", "actor_id"] {
        assert!(!text.contains(personal), "{personal} in the feed");
    }

    // An integrator of Hà Nội follows Hà Nội's dossiers only.
    let (hn_only, _) = read_all(&app, &hn_integrator, "0", 1000).await;
    assert!(!hn_only.is_empty());
    assert!(hn_only.iter().all(|e| e["province_code"] == HN));
    assert!(hn_only.iter().any(|e| e["case_code"] == hn_case));

    // A consumer that was away reads on from its cursor: exactly what came since.
    let later = walk_in(&app, &reception, BA_DINH).await;
    let (since, _) = read_all(&app, &integrator, &end, 1000).await;
    assert_eq!(since.len(), 1, "{since:?}");
    assert_eq!(since[0]["case_code"], later);
    let (nothing, still) = read_all(&app, &integrator, &end_of(&since), 10).await;
    assert!(nothing.is_empty());
    assert_eq!(still, end_of(&since));

    // Others may not; an integrator reads no dossier; a cursor is checked.
    for (name, role, unit, province) in [
        ("clerk.x", "clerk", Some(BA_DINH_PC), None),
        ("sup.x", "supervisor", None, None),
        ("citizen.x", "citizen", None, None),
    ] {
        let token = app.token_for(name, role, unit, province).await;
        app.get("/api/v1/events?after=0", Some(&token))
            .await
            .assert_problem(403, "forbidden");
    }
    app.get("/api/v1/events?after=0", None)
        .await
        .assert_problem(401, "missing_token");
    app.get(&format!("/api/v1/cases/{hn_case}"), Some(&integrator))
        .await
        .assert_problem(403, "forbidden");
    for bad in ["abc", "1-2-3", "-5", "99999999999999999999"] {
        let body = app
            .get(&format!("/api/v1/events?after={bad}"), Some(&integrator))
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "after", "{body}");
    }
    app.get("/api/v1/events?after=0&limit=0", Some(&integrator))
        .await
        .assert_problem(422, "validation_failed");
}

fn end_of(events: &[Value]) -> String {
    events.last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Insert an event for dossier `case_id` in `txn` (what any write of a change does).
async fn insert_event<C: ConnectionTrait>(db: &C, case_id: i64, seq: i32, action: &str) {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => "INSERT INTO case_events (case_id, seq, action, actor_role, to_status, data, public, at) \
             VALUES ($1, $2, $3, 'clerk', 'received', '{}', true, now())",
        _ => "INSERT INTO case_events (case_id, seq, action, actor_role, to_status, data, public, at) \
             VALUES (?, ?, ?, 'clerk', 'received', '{}', 1, CURRENT_TIMESTAMP)",
    };
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        backend,
        sql,
        [case_id.into(), seq.into(), action.into()],
    ))
    .await
    .unwrap();
}

/// Two writers: the first takes its event id, the second takes a later one and commits
/// first. A reader between the two commits must not move past the first writer's event.
#[tokio::test]
async fn a_reader_skips_no_event_when_writers_commit_out_of_order() {
    let app = spawn_app().await;
    let integrator = app
        .token_for("stats.office", "integrator", None, None)
        .await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let code = walk_in(&app, &reception, BA_DINH).await;
    let case_id = app.case_row(&code).await.id;
    let (_, start) = read_all(&app, &integrator, "0", 1000).await;

    let db = &app.state.db;
    let first = db.begin().await.unwrap();
    insert_event(&first, case_id, 101, "first_writer").await;
    let seen_between = if db.get_database_backend() == DatabaseBackend::Postgres {
        let second = db.begin().await.unwrap();
        insert_event(&second, case_id, 102, "second_writer").await;
        second.commit().await.unwrap();
        // The second writer's event is committed, the first's not yet.
        let between = app
            .get(
                &format!("/api/v1/events?after={start}&limit=1000"),
                Some(&integrator),
            )
            .await
            .assert_status(200)["events"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            between.iter().all(|e| e["type"] != "first_writer"),
            "{between:?}"
        );
        between
    } else {
        // SQLite lets one writer at a time: the second would wait for the first's commit,
        // so ids are taken in commit order and the reader cannot be overtaken.
        let (between, _) = read_all(&app, &integrator, &start, 1000).await;
        assert!(between.is_empty());
        between
    };
    let cursor = seen_between
        .last()
        .map(|e| e["cursor"].as_str().unwrap().to_string())
        .unwrap_or(start.clone());
    first.commit().await.unwrap();
    if db.get_database_backend() != DatabaseBackend::Postgres {
        insert_event(db, case_id, 102, "second_writer").await;
    }
    // Reading on from where the reader stood: the first writer's event is there, and
    // nothing twice.
    let (after, _) = read_all(&app, &integrator, &cursor, 1000).await;
    let mut all: Vec<Value> = seen_between.into_iter().chain(after).collect();
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "first_writer").count(),
        1,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| **t == "second_writer").count(),
        1,
        "{types:?}"
    );
    let n = all.len();
    all.dedup_by_key(|e| e["id"].as_i64());
    assert_eq!(all.len(), n);
}

/// A receiver that records what it was sent and fails its first `fail_first` calls.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (seen, calls) = (seen2.clone(), calls.clone());
            async move {
                seen.lock().unwrap().push((headers, body));
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < fail_first {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn deliver(
    app: &TestApp,
    at: chrono::DateTime<chrono::Utc>,
) -> motcua::services::feed::WebhookReport {
    let client = motcua::services::feed::client(5);
    motcua::services::feed::deliver_once(&app.state.db, &app.state.data_keys, &client, 4, at)
        .await
        .unwrap()
}

#[tokio::test]
async fn webhook_subscriptions_deliver_their_topics_signed_in_order_and_retry_the_same_events() {
    let app = spawn_app().await;
    let admin = app.token_for("admin", "admin", None, None).await;
    app.create_user("hn.app", "integrator", None, Some(HN))
        .await;
    let integrator_id = app
        .get("/api/v1/users?role=integrator", Some(&admin))
        .await
        .assert_status(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let hcm = app.token_for("hcm", "clerk", Some(HCM_CENTRE), None).await;
    let before = walk_in(&app, &reception, BA_DINH).await;
    let (url, seen) = receiver(1).await;

    // Bad subscriptions are refused with the field at fault.
    for (body, field) in [
        (
            json!({"integrator_id": integrator_id, "url": "ftp://x", "topics": ["receive"]}),
            "url",
        ),
        (
            json!({"integrator_id": integrator_id, "url": url, "topics": ["case.received"]}),
            "topics",
        ),
        (
            json!({"integrator_id": integrator_id, "url": url, "secret": "short"}),
            "secret",
        ),
        (
            json!({"integrator_id": uuid::Uuid::nil(), "url": url}),
            "integrator_id",
        ),
    ] {
        let p = app
            .post("/api/v1/admin/webhooks", Some(&admin), body)
            .await
            .assert_problem(422, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }
    app.post(
        "/api/v1/admin/webhooks",
        Some(&reception),
        json!({"integrator_id": integrator_id, "url": url}),
    )
    .await
    .assert_problem(403, "forbidden");

    // From now on, `receive` events only (not the earlier dossier's).
    feed_settled(&app).await;
    let made = app
        .post(
            "/api/v1/admin/webhooks",
            Some(&admin),
            json!({"integrator_id": integrator_id, "url": url, "topics": ["receive"]}),
        )
        .await
        .assert_status(201);
    let id = made["id"].as_str().unwrap().to_string();
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);
    let a = walk_in(&app, &reception, BA_DINH).await;
    let _hcm_case = walk_in(&app, &hcm, HCM_WARD).await;
    let b = walk_in(&app, &reception, BA_DINH).await;

    // The first attempt fails (503): nothing moves, the log says so.
    feed_settled(&app).await;
    let now = chrono::Utc::now();
    let r = deliver(&app, now).await;
    assert_eq!((r.delivered, r.failed), (0, 1));
    let shown = app
        .get(&format!("/api/v1/admin/webhooks/{id}"), Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(shown["failures"], 1);
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(shown["deliveries"][0]["ok"], false);
    assert_eq!(shown["deliveries"][0]["status_code"], 503);
    // Not before its back-off; then the same events again.
    assert_eq!(deliver(&app, now).await, Default::default());
    let r = deliver(&app, now + chrono::Duration::seconds(5)).await;
    assert_eq!((r.delivered, r.events, r.failed), (1, 2, 0));
    assert_eq!(
        deliver(&app, now + chrono::Duration::seconds(6))
            .await
            .events,
        0
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].1, seen[1].1, "a retry sends the same events");
    assert_eq!(
        seen[0].0["x-motcua-delivery"],
        seen[1].0["x-motcua-delivery"]
    );
    let (headers, body) = &seen[1];
    let ts: i64 = headers["x-motcua-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        headers["x-motcua-signature"].to_str().unwrap(),
        motcua::services::notify::sign(&secret, ts, body.as_bytes())
    );
    assert_ne!(
        headers["x-motcua-signature"].to_str().unwrap(),
        motcua::services::notify::sign("another key", ts, body.as_bytes())
    );
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["webhook_id"], id.as_str());
    let codes: Vec<&str> = payload["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["case_code"].as_str().unwrap())
        .collect();
    // Its topics, its province, from its start, in feed order.
    assert_eq!(codes, vec![a.as_str(), b.as_str()], "not {before}");
    assert!(payload["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["type"] == "receive"));

    let shown = app
        .get(&format!("/api/v1/admin/webhooks/{id}"), Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(shown["failures"], 0);
    assert_eq!(shown["cursor"], payload["next_cursor"]);
    assert_eq!(shown["deliveries"][0]["ok"], true);
    assert_eq!(shown["deliveries"][0]["events"], 2);
    assert_eq!(shown["deliveries"].as_array().unwrap().len(), 2);

    // Turned off: nothing is sent; rotated: a new key, shown once, and audited.
    let changed = app
        .patch(
            &format!("/api/v1/admin/webhooks/{id}"),
            Some(&admin),
            json!({"active": false, "rotate_secret": true}),
        )
        .await
        .assert_status(200);
    assert_eq!(changed["active"], false);
    assert_ne!(changed["secret"], secret.as_str());
    walk_in(&app, &reception, BA_DINH).await;
    assert_eq!(
        deliver(&app, now + chrono::Duration::seconds(10)).await,
        Default::default()
    );
    let list = app
        .get("/api/v1/admin/webhooks", Some(&admin))
        .await
        .assert_status(200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none());
    let audit = app
        .get("/api/v1/audit?per_page=50", Some(&admin))
        .await
        .assert_status(200)
        .to_string();
    assert!(audit.contains("webhook.create") && audit.contains("webhook.update"));
    assert!(!audit.contains(&secret), "the key is not in the audit log");
}
