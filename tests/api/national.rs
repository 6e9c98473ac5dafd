//! Synchronisation with the national public-service portal, against a receiver that checks
//! the payloads and answers like the portal: success, a business error, a 5xx, a timeout,
//! garbage, an ended session.

use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    Business,
    ServerError,
    Timeout,
    Garbage,
}

#[derive(Default)]
struct Portal {
    mode: Option<Mode>,
    /// The token the portal accepts now (`None`: every call is 401).
    valid_token: Option<String>,
    sign_ins: usize,
    /// Accepted calls: (method, idempotency key, body).
    accepted: Vec<(String, String, Value)>,
    /// Every call on a method, accepted or not.
    calls: usize,
}

type Shared = Arc<Mutex<Portal>>;

async fn portal() -> (String, Shared) {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    let shared: Shared = Arc::new(Mutex::new(Portal {
        mode: Some(Mode::Ok),
        ..Default::default()
    }));
    async fn auth(State(p): State<Shared>, body: axum::Json<Value>) -> axum::response::Response {
        if body["username"] != "motcua-hn" || body["password"] != "portal-secret" {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let mut p = p.lock().unwrap();
        p.sign_ins += 1;
        let token = format!("token-{}", p.sign_ins);
        p.valid_token = Some(token.clone());
        axum::Json(json!({"access_token": token, "expires_in": 3600})).into_response()
    }
    async fn method(
        State(p): State<Shared>,
        Path(name): Path<String>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> axum::response::Response {
        let mode = {
            let mut g = p.lock().unwrap();
            g.calls += 1;
            let bearer = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_string);
            if bearer.is_none() || bearer != g.valid_token {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            g.mode.unwrap()
        };
        match mode {
            Mode::ServerError => return StatusCode::BAD_GATEWAY.into_response(),
            Mode::Timeout => {
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                return StatusCode::OK.into_response();
            }
            Mode::Garbage => return (StatusCode::OK, "<html>maintenance</html>").into_response(),
            Mode::Business => {
                return axum::Json(json!({"error_code": 12, "message": "MaTTHC không tồn tại"}))
                    .into_response()
            }
            Mode::Ok => {}
        }
        // What the portal checks: its key, its code, its dates.
        let key = headers["x-idempotency-key"].to_str().unwrap().to_string();
        let ma = body["MaHoSo"].as_str().unwrap_or_default();
        if !key.starts_with(&format!("{ma}:")) || !ma.starts_with("000.00.31.H26-") {
            return axum::Json(json!({"error_code": 3, "message": "MaHoSo sai"})).into_response();
        }
        p.lock().unwrap().accepted.push((name, key, body.0.clone()));
        axum::Json(json!({"error_code": 0, "message": "Thành công"})).into_response()
    }
    let app = axum::Router::new()
        .route("/auth", axum::routing::post(auth))
        .route("/api/{name}", axum::routing::post(method))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, shared)
}

fn set(p: &Shared, mode: Mode) {
    p.lock().unwrap().mode = Some(mode);
}

/// One round of the adapter, with the portal client the job keeps (its session token).
async fn round(
    app: &TestApp,
    portal: &motcua::services::national::Portal,
    at: chrono::DateTime<Utc>,
) -> motcua::services::national::SendReport {
    motcua::services::national::sync_once(
        &app.state.db,
        &app.state.data_keys,
        portal,
        app.state.settings.national.max_attempts,
        at,
    )
    .await
    .unwrap()
}

async fn sync_status(app: &TestApp, token: &str, code: &str) -> Value {
    app.get(&format!("/api/v1/cases/{code}/national-sync"), Some(token))
        .await
        .assert_status(200)
}

#[tokio::test]
async fn dossiers_and_their_steps_reach_the_national_portal_whatever_it_answers() {
    let (base, p) = portal().await;
    let app = spawn_app_with(
        TestConfig::default()
            .with("MOTCUA__NATIONAL__URL", &format!("{base}/api"))
            .with("MOTCUA__NATIONAL__AUTH_URL", &format!("{base}/auth"))
            .with("MOTCUA__NATIONAL__USERNAME", "motcua-hn")
            .with("MOTCUA__NATIONAL__PASSWORD", "portal-secret")
            .with("MOTCUA__NATIONAL__TIMEOUT_SECS", "1")
            .with("MOTCUA__NATIONAL__MAX_ATTEMPTS", "4"),
    )
    .await;
    let client = motcua::services::national::Portal::new(&app.state.settings.national);
    let admin = app.token_for("admin", "admin", None, None).await;
    let cast = app.cast().await;
    let supervisor = app.token_for("sup", "supervisor", None, Some(HN)).await;
    // Units get their national agency codes (QCVN 102); a bad one is refused.
    app.patch(
        &format!("/api/v1/units/{BA_DINH_CENTRE}"),
        Some(&admin),
        json!({"national_code": "000.00.31.h26 "}),
    )
    .await
    .assert_problem(422, "validation_failed");
    for (unit, national) in [
        (BA_DINH_CENTRE, "000.00.31.H26"),
        (BA_DINH_PC, "000.31.31.H26"),
    ] {
        let u = app
            .patch(
                &format!("/api/v1/units/{unit}"),
                Some(&admin),
                json!({"national_code": national}),
            )
            .await
            .assert_status(200);
        assert_eq!(u["national_code"], national);
    }
    // The procedure's field under the national catalogue's code (MaLinhVuc), in a new version
    // that the dossier below is filed under.
    let v = app
        .patch(
            &format!("/api/v1/procedures/{MARITAL}"),
            Some(&admin),
            json!({"field_code": "HT-001"}),
        )
        .await
        .assert_status(200);
    assert_eq!(v["field_code"], "HT-001");

    // Filed online and received: one record, in the portal's shape.
    let code = app
        .submit_online(&cast.citizen, intake_body(MARITAL, BA_DINH))
        .await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let national_code = code.replacen(BA_DINH_CENTRE, "000.00.31.H26", 1);
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);
    assert_eq!(sync_status(&app, &cast.clerk, &code).await["synced"], false);
    feed_settled(&app).await;
    let now = Utc::now();
    let r = round(&app, &client, now).await;
    // The record under its first step's key (a retry of it is the same call), then the
    // reception as a step of its own.
    assert_eq!((r.synced, r.calls, r.failed), (1, 2, 0), "{r:?}");
    {
        let g = p.lock().unwrap();
        let (method, key, rec) = &g.accepted[0];
        assert_eq!(method, "DongBoHoSoMC");
        assert_eq!(rec["MaHoSo"], national_code.as_str());
        assert_eq!(key, &format!("{national_code}:1"));
        let (method, key, step) = &g.accepted[1];
        assert_eq!(method, "CapNhatTienDoHoSoMC");
        assert_eq!(key, &format!("{national_code}:2"));
        assert_eq!(step["NoiDungXuLy"], "receive");
        assert_eq!(step["TrangThaiHoSo"], 2);
        assert_eq!(rec["MaTTHC"], MARITAL);
        assert_eq!(rec["MaLinhVuc"], "HT-001");
        assert_eq!(rec["TenLinhVuc"], v["field"]);
        assert_eq!(rec["ChuHoSo"], "Nguyễn Văn An");
        assert_eq!(rec["LoaiDoiTuong"], 1);
        assert_eq!(rec["MaDoiTuong"], "001203004567");
        assert_eq!(rec["Email"], "an@example.vn");
        assert_eq!(rec["TrangThaiHoSo"], 2);
        assert_eq!(rec["HinhThuc"], 2);
        assert_eq!(rec["DonViXuLy"], "000.31.31.H26");
        let received = rec["NgayTiepNhan"].as_str().unwrap();
        assert!(received.len() == 14 && received.bytes().all(|b| b.is_ascii_digit()));
        assert!(!rec["TaiLieuNop"].as_array().unwrap().is_empty(), "{rec}");
        assert_eq!(g.sign_ins, 1);
    }
    let s = sync_status(&app, &cast.clerk, &code).await;
    assert_eq!(
        (s["synced"].as_bool(), s["pending"].as_bool()),
        (Some(true), Some(false))
    );
    // Nothing new: nothing sent.
    assert_eq!(round(&app, &client, now).await, Default::default());

    // An internal step is not sent.
    app.act(&cast.clerk, &code, "start_processing", json!({}))
        .await
        .assert_status(200);
    feed_settled(&app).await;
    assert_eq!(round(&app, &client, now).await, Default::default());
    // A public step while the portal answers 502: the action is not touched, the step waits.
    set(&p, Mode::ServerError);
    app.act(
        &cast.clerk,
        &code,
        "request_supplement",
        json!({"reason": "Thiếu tờ khai có chữ ký", "components": ["to_khai"]}),
    )
    .await
    .assert_status(200);
    feed_settled(&app).await;
    let r = round(&app, &client, now).await;
    assert_eq!((r.synced, r.failed), (0, 1));
    let s = sync_status(&app, &cast.clerk, &code).await;
    assert_eq!(
        (s["synced"].as_bool(), s["pending"].as_bool()),
        (Some(false), Some(true))
    );
    assert!(s["last_error"].as_str().unwrap().contains("502"), "{s}");
    assert_eq!(s["attempts"], 1);
    // Not before its back-off.
    assert_eq!(round(&app, &client, now).await, Default::default());

    // Slow: the call is given up after national.timeout_secs, not waited for.
    set(&p, Mode::Timeout);
    let started = std::time::Instant::now();
    let r = round(&app, &client, now + Duration::seconds(10)).await;
    assert_eq!(r.failed, 1);
    assert!(started.elapsed() < std::time::Duration::from_millis(2900));
    assert!(sync_status(&app, &cast.clerk, &code).await["last_error"]
        .as_str()
        .unwrap()
        .contains("in time"));

    // Garbage, then the session ends (401): a new token and the same step, once.
    set(&p, Mode::Garbage);
    assert_eq!(
        round(&app, &client, now + Duration::seconds(60))
            .await
            .failed,
        1
    );
    set(&p, Mode::Ok);
    p.lock().unwrap().valid_token = Some("expired".into());
    app.act(&cast.citizen, &code, "submit_supplement", json!({}))
        .await
        .assert_status(200);
    feed_settled(&app).await;
    let r = round(&app, &client, now + Duration::seconds(600)).await;
    assert_eq!((r.synced, r.failed), (1, 0), "{r:?}");
    {
        let g = p.lock().unwrap();
        assert_eq!(g.sign_ins, 2, "the token was renewed once");
        let steps: Vec<&(String, String, Value)> = g.accepted[2..].iter().collect();
        assert_eq!(steps.len(), 2, "request_supplement, then submit_supplement");
        assert!(steps.iter().all(|(m, _, _)| m == "CapNhatTienDoHoSoMC"));
        assert_eq!(
            steps[0].2["NoiDungXuLy"],
            "request_supplement: Thiếu tờ khai có chữ ký"
        );
        // The status the step left, not the dossier's of now (back in handling, 4).
        assert_eq!(steps[0].2["TrangThaiHoSo"], 5, "the status at that step");
        assert_eq!(
            steps[0].2["DanhSachHoSoBoSung"][0]["NgayTiepNhanBoSung"],
            Value::Null
        );
        assert_eq!(steps[1].2["TrangThaiHoSo"], 4);
        let last = &steps[1].2;
        assert_eq!(last["NoiDungXuLy"], "submit_supplement");
        let sup = &last["DanhSachHoSoBoSung"][0];
        assert_eq!(sup["NoiDungYeuCau"], "Thiếu tờ khai có chữ ký: to_khai");
        assert!(
            sup["NgayHenTraTruoc"].is_string() && sup["NgayHenTraMoi"].is_string(),
            "{sup}"
        );
        // Each step once, under its own key.
        let mut keys: Vec<&String> = g.accepted.iter().map(|(_, k, _)| k).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "nothing sent twice once acknowledged");
    }
    let s = sync_status(&app, &cast.clerk, &code).await;
    assert_eq!(
        (s["synced"].as_bool(), s["last_error"].clone()),
        (Some(true), Value::Null)
    );

    // A business error is recorded as such; after max_attempts the dossier waits for
    // `motcua sync national`, which sends it once the portal takes it.
    set(&p, Mode::Business);
    let other = app
        .file(&cast.reception, intake_body(MARITAL, BA_DINH))
        .await
        .assert_status(201)["code"]
        .as_str()
        .unwrap()
        .to_string();
    feed_settled(&app).await;
    for i in 0..4 {
        let r = round(&app, &client, now + Duration::hours(2 * (i + 1))).await;
        assert_eq!(r.failed, 1, "attempt {i}");
    }
    let s = sync_status(&app, &cast.reception, &other).await;
    assert!(
        s["last_error"]
            .as_str()
            .unwrap()
            .contains("MaTTHC không tồn tại"),
        "{s}"
    );
    assert_eq!(
        (s["attempts"].as_i64(), s["next_attempt_at"].clone()),
        (Some(4), Value::Null)
    );
    assert_eq!(
        round(&app, &client, now + Duration::days(2)).await,
        Default::default()
    );

    // The share counts it as not synchronised.
    let from = (now - Duration::hours(1)).to_rfc3339();
    let to = (now + Duration::hours(1)).to_rfc3339();
    let q = format!("from={}&to={}", urlencoding(&from), urlencoding(&to));
    let share = app
        .get(
            &format!("/api/v1/stats/national-sync?{q}"),
            Some(&supervisor),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (
            share["dossiers"].as_i64(),
            share["synced"].as_i64(),
            share["failing"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{share}"
    );
    // Decision 766's 1.4 counts the same share among the dossiers received in the period.
    let card = app
        .get(&format!("/api/v1/stats/scorecard?{q}"), Some(&supervisor))
        .await
        .assert_status(200);
    let synced = card["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap())
        .find(|i| i["key"] == "1.4")
        .unwrap_or_else(|| panic!("1.4 in {card}"));
    assert_eq!(
        (synced["numerator"].as_i64(), synced["denominator"].as_i64()),
        (Some(1), Some(2)),
        "{synced}"
    );
    assert_eq!(synced["value"].as_f64(), Some(0.5));
    app.get(
        &format!("/api/v1/stats/national-sync?{q}"),
        Some(&cast.clerk),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/cases/{code}/national-sync"),
        Some(&cast.citizen),
    )
    .await
    .assert_problem(403, "forbidden");

    set(&p, Mode::Ok);
    let url = app.database_url.clone();
    let env = [
        ("MOTCUA__SECURITY__DATA_KEY", TEST_DATA_KEY),
        ("MOTCUA__NATIONAL__URL", &format!("{base}/api")),
        ("MOTCUA__NATIONAL__AUTH_URL", &format!("{base}/auth")),
        ("MOTCUA__NATIONAL__USERNAME", "motcua-hn"),
        ("MOTCUA__NATIONAL__PASSWORD", "portal-secret"),
    ];
    let today = now
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    // The binary runs off this thread: the receiver answers from this test's runtime.
    let motcua = |args: Vec<String>| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            run_motcua(&args, &env)
        })
    };
    let args = |a: &[&str]| {
        a.iter()
            .map(|s| s.to_string())
            .chain(["--database-url".to_string(), url.clone()])
            .collect::<Vec<_>>()
    };
    let (ok, out) = motcua(args(&["sync", "national", "--since", "yesterday"]))
        .await
        .unwrap();
    assert!(!ok && out.contains("neither a date"), "{out}");
    let (ok, out) = motcua(args(&["sync", "national", "--since", &today]))
        .await
        .unwrap();
    assert!(
        ok && out.contains("1 failed dossiers queued again; 1 brought up to date"),
        "{out} {}",
        sync_status(&app, &cast.reception, &other).await
    );
    let s = sync_status(&app, &cast.reception, &other).await;
    assert_eq!(
        (s["synced"].as_bool(), s["last_error"].clone()),
        (Some(true), Value::Null)
    );
    let share = app
        .get(
            &format!("/api/v1/stats/national-sync?{q}"),
            Some(&supervisor),
        )
        .await
        .assert_status(200);
    assert_eq!(
        (share["synced"].as_i64(), share["share"].as_f64()),
        (Some(2), Some(1.0))
    );

    // The same records for a batch upload, one per line.
    let (ok, out) = motcua(args(&[
        "export", "national", "--from", &today, "--to", &today,
    ]))
    .await
    .unwrap();
    assert!(ok, "{out}");
    let records: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{out}");
    assert!(records
        .iter()
        .any(|r| r["MaHoSo"] == national_code.as_str() && r["TrangThaiHoSo"] == 4));
    assert!(out.contains("2 records written; 0 left out"), "{out}");
}

fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
