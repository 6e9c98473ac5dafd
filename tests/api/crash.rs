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

/// The citizen's access token from the server at `base`.
async fn login(client: &reqwest::Client, base: &str, password: &str) -> String {
    client
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
        .to_string()
}

/// How many dossiers the database at `url` holds.
async fn dossiers(url: &str) -> i64 {
    let db = sea_orm::Database::connect(url).await.unwrap();
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM cases",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap()
}

/// What one submission of a key got.
#[derive(Debug)]
enum Answer {
    Filed(String),
    /// 409: the key is in flight (another request with it is being written).
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
    let token = login(&client, &base, &password).await;
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
            // No 409: a request cut off by the kill left nothing of its key, so its retry files.
            (answer, before) => {
                panic!("key {key} ({before:?}) answered {answer:?} after the restart")
            }
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();

    // One dossier per key, and no other.
    let n = dossiers(&url).await;
    assert_eq!(n as usize, codes.len(), "dossiers filed twice or lost");
    assert!(codes.len() >= acknowledged);
}

/// One key sent at the same moment to two instances on one database (what a client's
/// retry through a load balancer does): each key files exactly one dossier, and every answer
/// is that dossier or a 409 (both databases; on PostgreSQL the two statements race on the
/// key's primary key, and the loser answers from the winner's row).
#[tokio::test]
async fn one_key_sent_to_two_instances_at_once_files_one_dossier() {
    let app = spawn_app().await;
    let password = app.create_user("citizen", "citizen", None, None).await;
    let (url, dir) = (app.database_url.clone(), app.dir.clone());
    drop(app);
    let files = format!("file://{}", dir.path().join("twin-files").display());
    let ports = [free_port(), free_port()];
    let mut servers = Vec::new();
    for port in ports {
        servers.push(start(&url, port, &files).await);
    }
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let client = real_client();
    let token = login(&client, &bases[0], &password).await;
    let body = intake_body(MARITAL, BA_DINH);
    let mut codes = HashSet::new();
    let mut conflicts = 0;
    for i in 0..40 {
        let key = format!("twin-{i}");
        let (a, b) = tokio::join!(
            send(&client, &bases[0], &token, &body, &key),
            send(&client, &bases[1], &token, &body, &key)
        );
        let mut filed = HashSet::new();
        for answer in [a, b] {
            match answer {
                Answer::Filed(code) => {
                    filed.insert(code);
                }
                Answer::InFlight => conflicts += 1,
                Answer::Failed => panic!("key {key}: a request failed"),
            }
        }
        assert_eq!(filed.len(), 1, "key {key}: {filed:?}");
        // Sent again once both are answered: the same dossier, from either instance.
        for base in &bases {
            match send(&client, base, &token, &body, &key).await {
                Answer::Filed(code) => assert!(filed.contains(&code), "key {key}"),
                other => panic!("key {key}: a retry answered {other:?}"),
            }
        }
        codes.extend(filed);
    }
    for mut s in servers {
        s.kill().unwrap();
        s.wait().unwrap();
    }
    let n = dossiers(&url).await;
    assert_eq!(codes.len(), 40);
    assert_eq!(n, 40, "one dossier per key ({conflicts} answers were 409)");
}
