//! What the database-backed benchmarks share: knobs from the environment, the app's
//! settings for a bench, and a scratch PostgreSQL database.

#![allow(dead_code)] // each bench uses its own part

use std::collections::HashMap;
use std::future::Future;

use motcua::app::{App, StartOptions};
use motcua::config::{Settings, Sources};
use motcua::state::AppState;
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// An environment variable, or `default` when unset or empty.
pub fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Settings for an app under measurement on `url`: an ephemeral port, background jobs off
/// (the sweeper and the dispatcher would compete for the same cores), warnings only; then
/// `extra` variables.
pub fn settings_for(url: &str, extra: &[(&str, &str)]) -> Settings {
    // The files of a run in a temporary folder of their own (never the working directory).
    let files = format!(
        "file://{}",
        std::env::temp_dir()
            .join(format!("motcua-bench-files-{}", std::process::id()))
            .display()
    );
    let env: HashMap<String, String> = [
        ("MOTCUA__STORAGE__URL", files.as_str()),
        ("MOTCUA__DATABASE__URL", url),
        ("MOTCUA__SERVER__BIND", "127.0.0.1:0"),
        ("MOTCUA__SLA__SWEEPER_ENABLED", "false"),
        ("MOTCUA__STATS__BOTTLENECKS_REFRESH_SECS", "0"),
        ("MOTCUA__OUTBOX__DISPATCHER_ENABLED", "false"),
        ("MOTCUA__LOG__LEVEL", "warn"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Settings::load(&Sources {
        file: None,
        env: Some(env),
        overrides: Default::default(),
    })
    .expect("settings")
}

/// Drop and create the PostgreSQL database `name` on the server `admin` is connected to;
/// `log_setting` (an `ALTER DATABASE … SET` clause) when `MOTCUA_BENCH_PG_LOG_STATEMENTS`
/// is set. Returns its URL.
pub async fn fresh_pg_database(
    admin: &DatabaseConnection,
    base: &str,
    name: &str,
    log_setting: &str,
) -> String {
    drop_pg_database(admin, name).await;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    if !env_or("MOTCUA_BENCH_PG_LOG_STATEMENTS", "").is_empty() {
        admin
            .execute_unprepared(&format!("ALTER DATABASE {name} SET {log_setting}"))
            .await
            .expect("log statements");
    }
    motcua::db::url_with_database(base, name)
}

/// Drop the PostgreSQL database `name`, closing its connections.
pub async fn drop_pg_database(admin: &DatabaseConnection, name: &str) {
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop");
}

/// An app serving in the background, on the bench's runtime ([`Serving::start`]) or on one of
/// its own ([`Serving::start_apart`]).
pub struct Serving {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub state: AppState,
    /// The runtime the app runs on: work that runs inside `serve` in production (the SLA
    /// sweeper) is spawned here to share it as it would.
    pub runtime: tokio::runtime::Handle,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::sync::oneshot::Receiver<()>,
}

impl Serving {
    /// Serve `app` until [`Serving::shut`].
    pub fn start(app: App) -> Serving {
        let base = format!("http://{}", app.addr);
        let state = app.state.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (finished, done) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = app
                .run_until(async move {
                    let _ = stopped.await;
                })
                .await;
            let _ = finished.send(());
        });
        Serving {
            base,
            state,
            runtime: tokio::runtime::Handle::current(),
            stop,
            done,
        }
    }

    /// Build the app and serve it on a runtime of its own (its own worker threads), as the
    /// service runs in a process of its own beside a load generator such as wrk: the
    /// generator's timers and the app's requests then do not wait for each other on the same
    /// two workers, only for the cores, which the operating system shares. `state` stays
    /// usable from the bench's runtime until [`Serving::shut`].
    pub async fn start_apart(settings: Settings, options: StartOptions) -> Serving {
        let (ready, built) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("app")
                .build()
                .expect("the app's runtime")
                .block_on(async move {
                    let app = App::build(settings, options).await.expect("build app");
                    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                    let (finished, done) = tokio::sync::oneshot::channel::<()>();
                    let serving = Serving {
                        base: format!("http://{}", app.addr),
                        state: app.state.clone(),
                        runtime: tokio::runtime::Handle::current(),
                        stop,
                        done,
                    };
                    let _ = ready.send(serving);
                    let _ = app
                        .run_until(async move {
                            let _ = stopped.await;
                        })
                        .await;
                    let _ = finished.send(());
                });
        });
        built.await.expect("the app was built")
    }

    /// Stop serving and wait for in-flight requests.
    pub async fn shut(self) {
        let _ = self.stop.send(());
        let _ = self.done.await;
    }
}

/// Run a bench's body on a multi-threaded runtime.
pub fn block_on<F: Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(body)
}

/// Create an account through the service (a citizen gets the personal data an applicant
/// has); `Err` when it cannot, e.g. the username is taken by an earlier run.
pub async fn create_account(
    state: &AppState,
    username: &str,
    password: &str,
    role: &str,
    unit: Option<&str>,
    province: Option<&str>,
) -> Result<(), motcua::error::ApiError> {
    let citizen = role == "citizen";
    motcua::services::users::create(
        &state.db,
        &state.data_keys,
        &state.hasher,
        motcua::services::users::CreateUser {
            username: username.into(),
            password: password.into(),
            role: role.into(),
            unit: unit.map(str::to_string),
            province: province.map(str::to_string),
            full_name: "Nguyễn Văn An".into(),
            phone: citizen.then(|| "0912345678".into()),
            email: citizen.then(|| "an@example.vn".into()),
            id_number: citizen.then(|| "001203004567".into()),
        },
        chrono::Utc::now(),
    )
    .await
    .map(|_| ())
}

/// An access token for `username`, by the API's own login.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    r["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token for {username}: {r}"))
        .to_string()
}

/// A marriage registration (procedure 1.004873) by a citizen living in `ward`: the intake the
/// load benches file.
pub fn intake_body(ward: &str) -> serde_json::Value {
    serde_json::json!({
        "procedure_code": "1.004873",
        "applicant": {"full_name": "Nguyễn Văn An", "id_number": "001203004567", "phone": "0912345678", "email": "an@example.vn"},
        "address": {"ward_code": ward},
        "form": {"child_name": "Nguyễn Văn Bình"},
    })
}

/// The `p` quantile (0–1, nearest rank) of latencies in microseconds, sorted, in milliseconds;
/// NaN when there are none.
pub fn pct_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_us.len() as f64 * p).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    sorted_us[i] as f64 / 1000.0
}

/// The outside parties of issue 24 for a bench that runs with them (`MOTCUA_BENCH_EXCHANGES`):
/// one local HTTP server that answers as the national portal does (its sign-in and its two
/// methods, `error_code` 0), as an SMS gateway and as the outbox's webhook, and counts the
/// calls. Returns its base URL and the counter.
pub async fn exchange_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use axum::routing::post;
    use std::sync::atomic::{AtomicU64, Ordering};
    let calls = std::sync::Arc::new(AtomicU64::new(0));
    let counted = calls.clone();
    let app = axum::Router::new()
        .route(
            "/auth",
            post(|| async { axum::Json(serde_json::json!({"access_token": "bench"})) }),
        )
        .fallback(post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                axum::Json(serde_json::json!({"error_code": 0, "message": "ok"}))
            }
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the receiver");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, calls)
}

/// The settings that send to [`exchange_receiver`] at `base`: the dispatchers on, the national
/// portal, SMS to applicants and the outbox's webhook.
pub fn exchange_settings(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("MOTCUA__OUTBOX__DISPATCHER_ENABLED", "true".into()),
        ("MOTCUA__OUTBOX__WEBHOOK_URL", format!("{base}/hook")),
        ("MOTCUA__NATIONAL__ENABLED", "true".into()),
        ("MOTCUA__NATIONAL__URL", format!("{base}/portal")),
        ("MOTCUA__NATIONAL__AUTH_URL", format!("{base}/auth")),
        ("MOTCUA__NATIONAL__USERNAME", "bench".into()),
        ("MOTCUA__NATIONAL__PASSWORD", "bench".into()),
        (
            "MOTCUA__NOTIFY__SMS_URL",
            format!("{base}/sms?to={{phone}}&text={{text}}"),
        ),
    ]
}
