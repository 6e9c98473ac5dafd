//! Personal data at rest (issue 22 §1): applicants' ID numbers, phones and e-mails are
//! sealed wherever they are stored, staff still find a dossier by ID number and applicants
//! still track theirs by its last digits, and `motcua keys rotate` re-seals everything
//! under a new key while the service keeps taking dossiers.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::helpers::*;

/// Values that occur nowhere else in the database (reference data included).
const ID: &str = "079203987612";
const PHONE: &str = "0987612345";
const EMAIL: &str = "lan.bimat@example.vn";
const WALKIN_ID: &str = "048199876543";
const WALKIN_PHONE: &str = "0358761234";
const WALKIN_EMAIL: &str = "tuan.kin@example.vn";

fn applicant(id: &str, phone: &str, email: &str) -> Value {
    json!({"full_name": "Trần Thị Lan", "id_number": id, "phone": phone, "email": email})
}

/// Everything the database keeps, as text: on SQLite the database file and its WAL (the
/// bytes on disk, free pages included); on PostgreSQL every row of every table.
async fn everything_stored(app: &TestApp) -> String {
    let db = &app.state.db;
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let tables = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT table_name FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                ))
                .await
                .unwrap();
            let mut all = String::new();
            for t in tables {
                let name: String = t.try_get("", "table_name").unwrap();
                let rows = db
                    .query_all_raw(Statement::from_string(
                        db.get_database_backend(),
                        format!("SELECT t::text AS row FROM \"{name}\" t"),
                    ))
                    .await
                    .unwrap();
                for r in rows {
                    all.push_str(&r.try_get::<String>("", "row").unwrap());
                    all.push('\n');
                }
            }
            all
        }
        _ => {
            let path = app
                .database_url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .unwrap()
                .to_string();
            let mut all = String::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            all
        }
    }
}

#[tokio::test]
async fn no_applicant_id_number_phone_or_e_mail_is_stored_in_plaintext() {
    let app = spawn_app().await;
    let cast = app.cast().await;
    // A citizen who registers with them…
    app.post(
        "/api/v1/auth/register",
        None,
        json!({"username": "lan.tran", "password": "mật khẩu dài lắm", "full_name": "Trần Thị Lan",
               "phone": PHONE, "email": EMAIL, "id_number": ID}),
    )
    .await
    .assert_status(201);
    let (lan, _) = app.login("lan.tran", "mật khẩu dài lắm").await;
    let me = app.get("/api/v1/me", Some(&lan)).await.assert_status(200);
    assert_eq!(me["phone"], PHONE, "the account opens for its owner");

    // …files online with an Idempotency-Key, and the retry gets the stored answer.
    let mut body = intake_body(BIRTH, BA_DINH);
    body["applicant"] = applicant(ID, PHONE, EMAIL);
    let body = app.with_documents(&lan, body).await;
    let send = || {
        app.client
            .post(app.url("/api/v1/cases"))
            .bearer_auth(&lan)
            .header("idempotency-key", "luu-tru-ma-hoa-1")
            .json(&body)
    };
    let first = app.send(send()).await.assert_status(201);
    let code = first["code"].as_str().unwrap().to_string();
    let replay = app.send(send()).await.assert_status(201);
    assert_eq!(replay["code"], first["code"]);
    assert_eq!(replay["applicant"]["phone"], PHONE, "{replay}");

    // A walk-in, received and worked on, so that events and notices exist.
    let mut walk_in = intake_body(MARITAL, BA_DINH);
    walk_in["applicant"] = applicant(WALKIN_ID, WALKIN_PHONE, WALKIN_EMAIL);
    let w = app.file(&cast.reception, walk_in).await.assert_status(201);
    let walk_code = w["code"].as_str().unwrap().to_string();
    app.act(&cast.reception, &code, "receive", json!({}))
        .await
        .assert_status(200);

    // The applicant reads their own dossier in full; tracking by the last digits works.
    let mine = app
        .get(&format!("/api/v1/cases/{code}"), Some(&lan))
        .await
        .assert_status(200);
    assert_eq!(mine["applicant"]["id_number"], ID);
    assert_eq!(mine["applicant"]["email"], EMAIL);
    app.get(
        &format!("/api/v1/tracking/{code}?id_last4={}", &ID[8..]),
        None,
    )
    .await
    .assert_status(200);
    app.get(&format!("/api/v1/tracking/{code}?id_last4=0000"), None)
        .await
        .assert_problem(404, "case_not_found");

    // Staff find a dossier by the applicant's ID number (its blind index).
    let found = app
        .get(
            &format!("/api/v1/cases?applicant_id_number={WALKIN_ID}"),
            Some(&cast.reception),
        )
        .await
        .assert_status(200);
    let codes: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec![walk_code.as_str()]);
    app.get(
        "/api/v1/cases?applicant_id_number=001203009999",
        Some(&cast.reception),
    )
    .await
    .assert_status(200)["items"]
        .as_array()
        .unwrap()
        .is_empty()
        .then_some(())
        .expect("nobody with that number");
    app.get(
        "/api/v1/cases?applicant_id_number=12",
        Some(&cast.reception),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.get(
        &format!("/api/v1/cases?applicant_id_number={ID}"),
        Some(&lan),
    )
    .await
    .assert_problem(403, "search_by_id_number_forbidden");

    // Nowhere at rest: not in the dossiers, the accounts, the stored answers, the events,
    // the outbox or the audit log.
    let stored = everything_stored(&app).await;
    assert!(stored.contains(&code), "the scan reads the data it should");
    for needle in [ID, PHONE, EMAIL, WALKIN_ID, WALKIN_PHONE, WALKIN_EMAIL] {
        assert!(!stored.contains(needle), "{needle} is stored in plaintext");
    }
    let row = app.case_row(&code).await;
    assert!(row.applicant_phone.unwrap().starts_with("ev1:"));
}

/// A dossier's phone as its applicant reads it.
async fn phone_of(app: &TestApp, citizen: &str, code: &str) -> String {
    app.get(&format!("/api/v1/cases/{code}"), Some(citizen))
        .await
        .assert_status(200)["applicant"]["phone"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn keys_rotate_reseals_everything_while_the_service_takes_dossiers() {
    let new_key = motcua::security::data_key::generate();
    // Step 1 of docs/SECURITY.md: every instance can already open with the new key.
    let app =
        spawn_app_with(TestConfig::default().with("MOTCUA__SECURITY__EXTRA_DATA_KEYS", &new_key))
            .await;
    let cast = app.cast().await;
    let mut codes = Vec::new();
    for i in 0..12 {
        let mut body = intake_body(BIRTH, BA_DINH);
        body["applicant"] = applicant(ID, &format!("09876{i:05}"), EMAIL);
        let c = app.submit_online(&cast.citizen, body).await;
        codes.push(c["code"].as_str().unwrap().to_string());
    }
    let old_id = app.state.data_keys.current_id();

    // Step 2: the rotation runs as an operator runs it, in another process, with the new key
    // current, while the service keeps filing and reading dossiers.
    let url = app.database_url.clone();
    let rotate = tokio::task::spawn_blocking({
        let (url, new_key) = (url.clone(), new_key.clone());
        move || {
            run_motcua(
                &["keys", "rotate", "--batch", "1", "--database-url", &url],
                &[
                    ("MOTCUA__SECURITY__DATA_KEY", &new_key),
                    ("MOTCUA__SECURITY__EXTRA_DATA_KEYS", TEST_DATA_KEY),
                ],
            )
        }
    });
    tokio::pin!(rotate);
    let mut during = 0;
    let (ok, out) = loop {
        tokio::select! {
            r = &mut rotate => break r.unwrap(),
            _ = async {
                let c = app.submit_online(&cast.citizen, intake_body(BIRTH, BA_DINH)).await;
                codes.push(c["code"].as_str().unwrap().to_string());
                // Every dossier still opens, whichever key sealed it by now.
                assert_eq!(phone_of(&app, &cast.citizen, &codes[0]).await, "0987600000");
                during += 1;
            } => {}
        }
    };
    // Rows the service changed while they were read are left for a second run.
    assert!(
        ok || out.contains("run `motcua keys rotate` again"),
        "{out}"
    );
    assert!(during > 0, "the service took dossiers during the rotation");

    // Step 3: every instance seals with the new key (here, the same database served anew).
    let dir = app.dir.clone();
    drop(app);
    let app = serve(
        url.clone(),
        dir,
        &TestConfig::default()
            .with("MOTCUA__SECURITY__DATA_KEY", &new_key)
            .with("MOTCUA__SECURITY__EXTRA_DATA_KEYS", TEST_DATA_KEY),
    )
    .await;
    let env = [
        ("MOTCUA__SECURITY__DATA_KEY", new_key.as_str()),
        ("MOTCUA__SECURITY__EXTRA_DATA_KEYS", TEST_DATA_KEY),
    ];
    let (ok, out) = run_motcua(&["keys", "rotate", "--database-url", &url], &env);
    assert!(ok, "{out}");
    assert!(out.contains(", 0 changed meanwhile"), "{out}");

    // Step 4: the old key is gone; nothing is sealed with it any more.
    let env = [("MOTCUA__SECURITY__DATA_KEY", new_key.as_str())];
    let (ok, out) = run_motcua(&["keys", "rotate", "--database-url", &url], &env);
    assert!(ok, "{out}");
    assert!(out.contains(" 0 re-sealed"), "{out}");
    // Rows, not bytes: a rotation leaves the old ciphertexts in free pages until VACUUM
    // (docs/SECURITY.md).
    let like = format!("ev1:{old_id}:%");
    let left = app
        .state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            app.state.db.get_database_backend(),
            format!(
                "SELECT (SELECT COUNT(*) FROM cases WHERE applicant_id_number LIKE {p} \
                   OR applicant_phone LIKE {p} OR applicant_email LIKE {p}) \
                 + (SELECT COUNT(*) FROM accounts WHERE phone LIKE {p} OR email LIKE {p} \
                   OR id_number LIKE {p}) \
                 + (SELECT COUNT(*) FROM idempotency_keys WHERE response_body LIKE {p}) AS n",
                p = if app.state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
                    "$1"
                } else {
                    "?"
                }
            ),
            [like.into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(left, 0, "values still sealed with the old key");
    let citizen = app.login("citizen", "citizen-password-123").await.0;
    for code in &codes {
        assert!(phone_of(&app, &citizen, code).await.starts_with("09"));
    }

    // An instance with only the old key refuses to start instead of writing what the others
    // cannot read.
    let (ok, out) = run_motcua(
        &["sla", "sweep", "--database-url", &url],
        &[("MOTCUA__SECURITY__DATA_KEY", TEST_DATA_KEY)],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("is sealed with data key"), "{out}");
}

#[test]
fn keys_rotate_generate_puts_a_new_key_first_in_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let (ok, out) = run_motcua(&["migrate", "--database-url", &url], &[]);
    assert!(ok, "{out}");
    let (ok, out) = run_motcua(&["keys", "rotate", "--database-url", &url], &[]);
    assert!(ok, "{out}");
    let file = dir.path().join("k.db.data.key");
    let first = std::fs::read_to_string(&file).unwrap();
    assert_eq!(first.lines().count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (ok, out) = run_motcua(
        &["keys", "rotate", "--generate", "--database-url", &url],
        &[],
    );
    assert!(ok, "{out}");
    assert!(out.contains("put first in the key file"), "{out}");
    let keys: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[1],
        first.trim(),
        "the old key stays, to open what it sealed"
    );
    // With security.data_key there is no file to put a key in.
    let (ok, out) = run_motcua(
        &["keys", "rotate", "--generate", "--database-url", &url],
        &[("MOTCUA__SECURITY__DATA_KEY", &keys[0])],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("--generate needs keys kept in a file"),
        "{out}"
    );
}
