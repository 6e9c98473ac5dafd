//! `spawn_app()`: the real app on port 0 with a fresh database, and a client for it.
//!
//! SQLite by default: every test gets its own database file, copied from a template that was
//! migrated and seeded once per test run. With `MOTCUA_TEST_DATABASE_URL=postgres://...`
//! every test gets its own PostgreSQL database, created from a template database in the same
//! way (`CREATE DATABASE ... TEMPLATE`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use motcua::app::{App, StartOptions};
use motcua::config::{Settings, Sources};
use motcua::state::AppState;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

/// Extra configuration for one test, as `MOTCUA__SECTION__KEY` variables.
#[derive(Default, Clone)]
pub struct TestConfig {
    pub env: Vec<(String, String)>,
}

impl TestConfig {
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }
}

#[allow(dead_code)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    pub dir: Arc<tempfile::TempDir>,
    _server: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

static TEMPLATE: OnceCell<Template> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

enum Template {
    Sqlite {
        _dir: tempfile::TempDir,
        path: std::path::PathBuf,
    },
    Postgres {
        base: String,
        name: String,
    },
}

fn pg_base_url() -> Option<String> {
    std::env::var("MOTCUA_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Run the real binary with `args` and extra environment; (success, stdout and stderr).
pub fn run_motcua(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .envs(env.iter().copied())
        .env("MOTCUA__LOG__LEVEL", "error")
        .output()
        .expect("run motcua");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The data key every test app seals with (a test that needs its own sets another).
pub const TEST_DATA_KEY: &str = "7e57da7a7e57da7a7e57da7a7e57da7a7e57da7a7e57da7a7e57da7a7e57da7a";

fn base_env(url: &str) -> HashMap<String, String> {
    let mut env = HashMap::new();
    env.insert("MOTCUA__SECURITY__DATA_KEY".into(), TEST_DATA_KEY.into());
    env.insert("MOTCUA__DATABASE__URL".into(), url.to_string());
    env.insert("MOTCUA__SERVER__BIND".into(), "127.0.0.1:0".into());
    env.insert("MOTCUA__DATABASE__MAX_CONNECTIONS".into(), "8".into());
    env.insert("MOTCUA__SLA__SWEEPER_ENABLED".into(), "false".into());
    // Reports computed on each request: a test that wants them in advance drives it.
    env.insert("MOTCUA__STATS__BOTTLENECKS_REFRESH_SECS".into(), "0".into());
    env.insert("MOTCUA__OUTBOX__DISPATCHER_ENABLED".into(), "false".into());
    env.insert("MOTCUA__LOG__LEVEL".into(), "warn".into());
    env
}

/// Settings for a database URL plus the test's own variables.
pub fn settings_for(url: &str, config: &TestConfig) -> Settings {
    let mut env = base_env(url);
    for (k, v) in &config.env {
        env.insert(k.clone(), v.clone());
    }
    Settings::load(&Sources {
        file: None,
        env: Some(env),
        overrides: Default::default(),
    })
    .expect("test settings")
}

async fn template() -> &'static Template {
    TEMPLATE
        .get_or_init(|| async {
            if let Some(base) = pg_base_url() {
                let name = format!("motcua_tpl_{}", std::process::id());
                let admin = sea_orm::Database::connect(base.clone())
                    .await
                    .expect("connect to PostgreSQL");
                drop_stale_databases(&admin).await;
                use sea_orm::ConnectionTrait;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                    .await
                    .expect("drop template");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create template");
                admin.close().await.ok();
                let url = motcua::db::url_with_database(&base, &name);
                let state = motcua::app::build_state(
                    settings_for(&url, &TestConfig::default()),
                    StartOptions::default(),
                )
                .await
                .expect("migrate and seed the template");
                state.db.clone().close().await.ok();
                Template::Postgres { base, name }
            } else {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("template.db");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let state = motcua::app::build_state(
                    settings_for(&url, &TestConfig::default()),
                    StartOptions::default(),
                )
                .await
                .expect("migrate and seed the template");
                use sea_orm::ConnectionTrait;
                state
                    .db
                    .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await
                    .expect("checkpoint");
                state.db.clone().close().await.ok();
                Template::Sqlite { _dir: dir, path }
            }
        })
        .await
}

/// Drop test databases left by earlier runs whose process is gone.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'motcua_t%'".to_string(),
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        }
    }
}

/// A fresh, migrated and seeded database for one test; returns its URL.
pub async fn fresh_database(dir: &tempfile::TempDir) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match template().await {
        Template::Sqlite { path, .. } => {
            let target = dir.path().join("motcua.db");
            std::fs::copy(path, &target).expect("copy template database");
            format!("sqlite://{}?mode=rwc", target.display())
        }
        Template::Postgres { base, name } => {
            use sea_orm::ConnectionTrait;
            let db = format!("motcua_test_{}_{n}", std::process::id());
            let admin = sea_orm::Database::connect(base.clone())
                .await
                .expect("connect");
            // CREATE DATABASE ... TEMPLATE needs the template idle; retry briefly if another
            // test's copy is still being made.
            let mut attempt = 0;
            loop {
                match admin
                    .execute_unprepared(&format!("CREATE DATABASE {db} TEMPLATE {name}"))
                    .await
                {
                    Ok(_) => break,
                    Err(e) if attempt < 50 => {
                        attempt += 1;
                        let _ = e;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("create test database: {e}"),
                }
            }
            admin.close().await.ok();
            motcua::db::url_with_database(base, &db)
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestConfig::default()).await
}

pub async fn spawn_app_with(config: TestConfig) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        motcua::telemetry::init(&motcua::config::LogSettings {
            format: motcua::config::LogFormat::Pretty,
            level: "info".into(),
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_database(&dir).await;
    serve(url, Arc::new(dir), &config).await
}

impl TestApp {
    /// A second instance serving the same database, as a replica behind a load balancer.
    pub async fn replica(&self) -> TestApp {
        // The same file store as this instance.
        let st = &self.state.settings.storage;
        let mut config = TestConfig::default().with("MOTCUA__STORAGE__URL", &st.url);
        if !st.s3_endpoint.is_empty() {
            config = config
                .with("MOTCUA__STORAGE__S3_ENDPOINT", &st.s3_endpoint)
                .with("MOTCUA__STORAGE__S3_ACCESS_KEY_ID", "test")
                .with("MOTCUA__STORAGE__S3_SECRET_ACCESS_KEY", "test");
        }
        serve(self.database_url.clone(), self.dir.clone(), &config).await
    }
}

/// The test's file store: a folder in its temporary directory, or, with
/// `MOTCUA_TEST_S3_ENDPOINT` (an S3-protocol server `.ci/run` starts), a prefix of its own in
/// the bucket `motcua-test` there.
async fn storage_env(dir: &tempfile::TempDir, config: &TestConfig) -> TestConfig {
    let mut config = config.clone();
    if config.env.iter().any(|(k, _)| k == "MOTCUA__STORAGE__URL") {
        return config;
    }
    match std::env::var("MOTCUA_TEST_S3_ENDPOINT")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(endpoint) => {
            // Create the bucket (an existing one answers 409, which is fine).
            let _ = reqwest::Client::new()
                .put(format!("{endpoint}/motcua-test"))
                .send()
                .await;
            let prefix = uuid::Uuid::new_v4();
            config = config
                .with(
                    "MOTCUA__STORAGE__URL",
                    &format!("s3://motcua-test/{prefix}"),
                )
                .with("MOTCUA__STORAGE__S3_ENDPOINT", &endpoint)
                .with("MOTCUA__STORAGE__S3_ACCESS_KEY_ID", "test")
                .with("MOTCUA__STORAGE__S3_SECRET_ACCESS_KEY", "test");
        }
        None => {
            let files = dir.path().join("files");
            config = config.with(
                "MOTCUA__STORAGE__URL",
                &format!("file://{}", files.display()),
            );
        }
    }
    config
}

/// A server on an existing database (`url`) in `dir`: a restored backup, a second instance.
pub async fn serve(url: String, dir: Arc<tempfile::TempDir>, config: &TestConfig) -> TestApp {
    let config = &storage_env(&dir, config).await;
    let settings = settings_for(&url, config);
    let app = App::build(settings, StartOptions::default())
        .await
        .expect("build app");
    let address = format!("http://{}", app.addr);
    let state = app.state.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = stop_rx.await;
            })
            .await;
    });
    TestApp {
        address,
        client: real_client(),
        state,
        database_url: url,
        dir,
        _server: server,
        stop: Some(stop_tx),
    }
}

/// A client that behaves as browsers, `requests` and Go's `net/http` do: it asks for gzip
/// (`Accept-Encoding`) and decodes what comes back, follows redirects and keeps cookies. A
/// response whose body does not match its `Content-Encoding` fails the test that reads it.
pub fn real_client() -> reqwest::Client {
    reqwest::Client::builder()
        .gzip(true)
        .cookie_store(true)
        .build()
        .expect("client")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }

    /// Assert a problem document with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "content type {} for {}",
            self.content_type(),
            self.text
        );
        let body = self.json();
        assert_eq!(body["code"], code, "code; body: {}", self.text);
        assert_eq!(body["status"], status);
        assert!(
            body["title"].is_string() && body["detail"].is_string() && body["type"].is_string()
        );
        body
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        if self.text.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Resp {
            status,
            headers,
            text,
            bytes,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.request(Method::PATCH, path, token, Some(body)).await
    }

    /// Create an account directly through the service (as `motcua user create` does).
    pub async fn create_user(
        &self,
        username: &str,
        role: &str,
        unit: Option<&str>,
        province: Option<&str>,
    ) -> String {
        let password = format!("{username}-password-123");
        motcua::services::users::create(
            &self.state.db,
            &self.state.data_keys,
            &self.state.hasher,
            motcua::services::users::CreateUser {
                username: username.to_string(),
                password: password.clone(),
                role: role.to_string(),
                unit: unit.map(str::to_string),
                province: province.map(str::to_string),
                full_name: format!("Test {username}"),
                phone: None,
                email: None,
                id_number: None,
            },
            chrono::Utc::now(),
        )
        .await
        .unwrap_or_else(|e| panic!("create user {username}: {e:?}"));
        password
    }

    /// Log in and return (access token, refresh token).
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        let body = r.assert_status(200);
        (
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// Create an account and log in; returns the access token.
    pub async fn token_for(
        &self,
        username: &str,
        role: &str,
        unit: Option<&str>,
        province: Option<&str>,
    ) -> String {
        let password = self.create_user(username, role, unit, province).await;
        self.login(username, &password).await.0
    }
}

/// Hà Nội, Phường Ba Đình: a commune with its standard units.
pub const HN: &str = "01";
pub const BA_DINH: &str = "00004";
pub const BA_DINH_PC: &str = "01.00004.UBND";
pub const BA_DINH_CENTRE: &str = "01.00004.TTPVHCC";
pub const NGOC_HA_PC: &str = "01.00008.UBND";
pub const NGOC_HA_CENTRE: &str = "01.00008.TTPVHCC";
pub const HN_CENTRE: &str = "01.TTPVHCC";
/// Birth registration: commune-level, same day, boundary-independent.
pub const BIRTH: &str = "1.001193";
/// Marital status certificate: commune-level, 3 working days.
pub const MARITAL: &str = "1.004873";

/// A valid intake body for a procedure at a 2025 ward.
pub fn intake_body(procedure: &str, ward_code: &str) -> Value {
    json!({
        "procedure_code": procedure,
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": "001203004567", "phone": "0912345678", "email": "an@example.vn"},
        "address": {"ward_code": ward_code},
        "form": {"child_name": "Nguyễn Văn Bình"},
    })
}

/// A small valid PDF (its bytes differ with `tag`, so each is its own object).
pub fn pdf(tag: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% {tag}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// The people of a test: a citizen, the reception clerk of Ba Đình's centre, a clerk and the
/// head of Ba Đình's People's Committee.
pub struct Cast {
    pub citizen: String,
    pub reception: String,
    pub clerk: String,
    pub head: String,
}

impl TestApp {
    pub async fn cast(&self) -> Cast {
        Cast {
            citizen: self.token_for("citizen", "citizen", None, None).await,
            reception: self
                .token_for("reception", "clerk", Some(BA_DINH_CENTRE), None)
                .await,
            clerk: self
                .token_for("clerk", "clerk", Some(BA_DINH_PC), None)
                .await,
            head: self
                .token_for("head", "unit_head", Some(BA_DINH_PC), None)
                .await,
        }
    }

    /// Upload a file as `token`'s account (multipart, as a browser sends it).
    pub async fn upload(&self, token: &str, file_name: &str, bytes: Vec<u8>) -> Resp {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        self.send(
            self.client
                .post(self.url("/api/v1/uploads"))
                .bearer_auth(token)
                .multipart(form),
        )
        .await
    }

    /// Attach a file to a filed dossier (`fields` before the file, as the API asks).
    pub async fn attach(
        &self,
        token: &str,
        code: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Resp {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        form = form.part("file", part);
        self.send(
            self.client
                .post(self.url(&format!("/api/v1/cases/{code}/documents")))
                .bearer_auth(token)
                .multipart(form),
        )
        .await
    }

    /// Upload a file for each mandatory component of `procedure`; the intake's `documents`.
    pub async fn mandatory_documents(&self, token: &str, procedure: &str) -> Value {
        let p = self
            .get(&format!("/api/v1/procedures/{procedure}"), None)
            .await
            .assert_status(200);
        let mut docs = Vec::new();
        for r in p["required_documents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if r["mandatory"] != json!(true) {
                continue;
            }
            let kind = r["kind"].as_str().unwrap().to_string();
            let up = self
                .upload(
                    token,
                    &format!("{kind}.pdf"),
                    pdf(&format!("{kind} {}", uuid::Uuid::new_v4())),
                )
                .await
                .assert_status(201);
            docs.push(json!({"kind": kind, "upload_id": up["id"]}));
        }
        Value::Array(docs)
    }

    /// `body` with the files of its procedure's mandatory components, uploaded by `token`,
    /// unless it names its documents itself.
    pub async fn with_documents(&self, token: &str, mut body: Value) -> Value {
        if body.get("documents").is_none() {
            let procedure = body["procedure_code"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            body["documents"] = self.mandatory_documents(token, &procedure).await;
        }
        body
    }

    /// File a walk-in (or any intake without an Idempotency-Key) with its mandatory files.
    pub async fn file(&self, token: &str, body: Value) -> Resp {
        let body = self.with_documents(token, body).await;
        self.post("/api/v1/cases", Some(token), body).await
    }

    /// File a dossier online; returns its body (asserting 201).
    pub async fn submit_online(&self, token: &str, body: Value) -> Value {
        let body = self.with_documents(token, body).await;
        let key = uuid::Uuid::new_v4().to_string();
        let r = self
            .send(
                self.client
                    .post(self.url("/api/v1/cases"))
                    .bearer_auth(token)
                    .header("idempotency-key", key)
                    .json(&body),
            )
            .await;
        r.assert_status(201)
    }

    /// Post an action with the dossier's current version.
    pub async fn act(&self, token: &str, code: &str, action: &str, mut body: Value) -> Resp {
        if body.get("version").is_none() {
            let current = self.case_version(code).await;
            body["version"] = json!(current);
        }
        self.post(
            &format!("/api/v1/cases/{code}/actions/{action}"),
            Some(token),
            body,
        )
        .await
    }

    /// The stored version of a dossier (read directly, bypassing access rules).
    pub async fn case_version(&self, code: &str) -> i32 {
        motcua::repo::cases::find_by_code(&self.state.db, code)
            .await
            .unwrap()
            .expect("dossier exists")
            .version
    }

    pub async fn case_row(&self, code: &str) -> entity::cases::Model {
        motcua::repo::cases::find_by_code(&self.state.db, code)
            .await
            .unwrap()
            .expect("dossier exists")
    }

    pub async fn event_count(&self, code: &str) -> usize {
        let c = self.case_row(code).await;
        motcua::repo::events::list(&self.state.db, c.id, false)
            .await
            .unwrap()
            .len()
    }
}

/// Wait until the event feed hands out every committed event. On PostgreSQL an event is
/// handed out once every older transaction has ended, and those include the other tests'
/// transactions on the same server, which run in parallel: a read that must see
/// everything waits for them (milliseconds).
pub async fn feed_settled(app: &TestApp) {
    use sea_orm::{ConnectionTrait, DatabaseBackend};
    let db = &app.state.db;
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    for _ in 0..500 {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT COALESCE(MAX(commit_txid), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS ok FROM case_events",
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<bool>("", "ok").unwrap() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the event feed did not settle in 5 s");
}
