//! Online intakes across `kill -9` (issue 23): the real binary serves citizens' submissions,
//! each with its own Idempotency-Key, and is killed mid-load; once it is back, every key sent
//! is sent again. Every key then names exactly one dossier, and a key acknowledged before the
//! kill names the dossier it was acknowledged with: nothing lost, nothing filed twice.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(url: &str, port: u16, files: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["--database-url", url, "serve", "--no-migrate"])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("MOTCUA__SECURITY__DATA_KEY", TEST_DATA_KEY)
        .env("MOTCUA__STORAGE__URL", files)
        .env("MOTCUA__SLA__SWEEPER_ENABLED", "false")
        .env("MOTCUA__OUTBOX__DISPATCHER_ENABLED", "false")
        .env("MOTCUA__LOG__LEVEL", "error")
        .stdout(Stdio::null())
        .spawn()
        .expect("start motcua serve");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            if r.status().is_success() {
                return child;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().ok();
    child.wait().ok();
    panic!("the server did not start");
}

/// What one submission of a key got.
#[derive(Debug)]
enum Answer {
    Filed(String),
    /// 409: the key's marker is there without its dossier (PostgreSQL, a request cut off by
    /// the kill); its client retries after the stale interval and files then.
    InFlight,
    Failed,
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &serde_json::Value,
    key: &str,
) -> Answer {
    let Ok(r) = client
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
    else {
        return Answer::Failed;
    };
    match r.status().as_u16() {
        201 => match r.json::<serde_json::Value>().await {
            Ok(v) => Answer::Filed(v["code"].as_str().unwrap().to_string()),
            Err(_) => Answer::Failed,
        },
        409 => Answer::InFlight,
        _ => Answer::Failed,
    }
}

#[tokio::test]
async fn online_intakes_survive_kill_9_of_the_server() {
    let app = spawn_app().await;
    let password = app.create_user("citizen", "citizen", None, None).await;
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    let files = format!("file://{}", dir.path().join("crash-files").display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&url, port, &files).await;
    let client = real_client();
    let token: String = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "citizen", "password": password}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = intake_body(MARITAL, BA_DINH);

    // Sixteen clients file back to back; the server is killed under them.
    let sent: Arc<Mutex<HashMap<String, Option<String>>>> = Default::default();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (client, base, token, body, sent) = (
                client.clone(),
                base.clone(),
                token.clone(),
                body.clone(),
                sent.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let key = uuid::Uuid::new_v4().to_string();
                    sent.lock().unwrap().insert(key.clone(), None);
                    match send(&client, &base, &token, &body, &key).await {
                        Answer::Filed(code) => {
                            sent.lock().unwrap().insert(key, Some(code));
                        }
                        // The server is gone.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().expect("kill -9");
    server.wait().unwrap();
    for w in workers {
        w.await.unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    let acknowledged = sent.values().filter(|c| c.is_some()).count();
    assert!(
        acknowledged > 10,
        "too few intakes before the kill: {acknowledged}"
    );

    // Back up: every key sent is sent again, as its client would.
    let mut server = start(&url, port, &files).await;
    let mut codes = HashSet::new();
    for (key, before) in &sent {
        match (send(&client, &base, &token, &body, key).await, before) {
            (Answer::Filed(code), Some(before)) => {
                assert_eq!(&code, before, "an acknowledged key names another dossier");
                assert!(codes.insert(code), "two keys answered with one dossier");
            }
            (Answer::Filed(code), None) => {
                assert!(codes.insert(code), "two keys answered with one dossier");
            }
            (Answer::InFlight, None) => {}
            (answer, before) => {
                panic!("key {key} ({before:?}) answered {answer:?} after the restart")
            }
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // One dossier per key, and no other.
    let db = sea_orm::Database::connect(&url).await.unwrap();
    let n: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM cases",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(n as usize, codes.len(), "dossiers filed twice or lost");
    assert!(codes.len() >= acknowledged);
}
