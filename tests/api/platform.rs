//! HTTP platform behaviour: CORS, compression, and the shape of a dossier (snapshot).

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = spawn_app_with(TestConfig::default().with(
        "MOTCUA__SERVER__CORS_ALLOWED_ORIGINS",
        "https://portal.gov.vn",
    ))
    .await;
    let preflight = |origin: &str| {
        app.send(
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/api/v1/cases"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
        )
    };
    let ok = preflight("https://portal.gov.vn").await;
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://portal.gov.vn"
    );
    let other = preflight("https://evil.example").await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}

/// What `curl --compressed` sees: a body compressed as its `Content-Encoding` says, for
/// answers and problem documents alike (error bodies were once sent plain under a gzip
/// header, which every such client failed to read).
#[tokio::test]
async fn responses_are_compressed_when_asked() {
    use std::io::Read;
    let app = spawn_app().await;
    // A client that does not decode, to see the bytes on the wire.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    for (path, status, content_type) in [
        ("/api/v1/provinces", 200, "application/json"),
        ("/api/v1/units/XX", 404, "application/problem+json"),
        ("/api/v1/cases", 401, "application/problem+json"),
    ] {
        let res = raw
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let headers = res.headers().clone();
        assert_eq!(headers["content-type"], content_type, "{path}");
        let bytes = res.bytes().await.unwrap();
        let text = if headers.get("content-encoding").is_some_and(|e| e == "gzip") {
            let mut out = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut out)
                .unwrap_or_else(|e| panic!("{path}: gzip header over a body that is not: {e}"));
            out
        } else {
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(body.is_object(), "{path}: {text}");
    }
    // Large enough to be worth compressing: compressed.
    let res = raw
        .get(app.url("/api/v1/provinces"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_received_dossier_looks_like_this() {
    let app = spawn_app().await;
    let reception = app
        .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
        .await;
    let mut body = intake_body(MARITAL, BA_DINH);
    body["address"] =
        json!({"province": "Hà Nội", "district": "Quận Ba Đình", "ward": "Phường Phúc Xá"});
    let r = app.file(&reception, body).await.assert_status(201);
    insta::assert_json_snapshot!(r, {
        ".code" => "[code]",
        ".submitted_at" => "[time]",
        ".received_at" => "[time]",
        ".due_at" => "[time]",
        ".appointment_at" => "[time]",
        ".at_risk_at" => "[time]",
        ".step.started_at" => "[time]",
        ".documents[].id" => "[id]",
        ".step.due_at" => "[time]",
    });
}

/// On SQLite every write transaction of one database file, from any pool, waits for the
/// same writer turn and holds it until it ends; another file has its own.
#[tokio::test]
async fn sqlite_writers_of_one_file_take_turns() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let Some(turn) = motcua::db::writer_turn(db) else {
        assert_eq!(
            db.get_database_backend(),
            sea_orm::DatabaseBackend::Postgres
        );
        return;
    };
    // A second instance (its own pool) on the same file shares the turn ...
    let replica = app.replica().await;
    let other_turn = motcua::db::writer_turn(&replica.state.db).expect("SQLite");
    assert!(std::sync::Arc::ptr_eq(&turn, &other_turn));
    // ... another test's file does not.
    let elsewhere = spawn_app().await;
    let elsewhere_turn = motcua::db::writer_turn(&elsewhere.state.db).expect("SQLite");
    assert!(!std::sync::Arc::ptr_eq(&turn, &elsewhere_turn));

    let first = motcua::db::begin_write(db).await.expect("first writer");
    let second_db = replica.state.db.clone();
    let second = tokio::spawn(async move {
        let txn = motcua::db::begin_write(&second_db)
            .await
            .expect("second writer");
        txn.commit().await.expect("second commit");
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second writer did not wait");
    assert_eq!(turn.available_permits(), 0);
    first.commit().await.expect("first commit");
    tokio::time::timeout(std::time::Duration::from_secs(5), second)
        .await
        .expect("the second writer went on once the first ended")
        .expect("second task");
    assert_eq!(turn.available_permits(), 1);
}
