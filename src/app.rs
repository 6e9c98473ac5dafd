//! Builds the application: connects, migrates, seeds reference data, loads keys, binds the
//! listener, and serves until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Settings;
use crate::security::jwt::JwtKeys;
use crate::security::password::PasswordHasher;
use crate::services::calendar::CalendarHandle;
use crate::services::geography::DirectoryHandle;
use crate::services::routing::{CatalogHandle, RoutingCatalog};
use crate::{db, security};

pub use crate::state::{AppInner, AppState};

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Key(#[from] security::keys::KeyError),
    #[error(transparent)]
    DataKeys(#[from] crate::services::data_keys::KeysError),
    #[error(transparent)]
    Hash(#[from] security::password::HashError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("reference data: {0}")]
    Seed(String),
    #[error("{0}")]
    Storage(String),
}

/// The file store of `settings` (a relative folder beside the SQLite file).
pub fn open_storage(settings: &Settings) -> Result<crate::storage::Storage, StartError> {
    let beside = settings
        .sqlite_path()
        .map(|p| p.parent().map(|d| d.to_path_buf()).unwrap_or_default());
    crate::storage::Storage::open(&settings.storage, beside.as_deref()).map_err(StartError::Storage)
}

/// Start-up choices.
#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Apply migrations and reference seeding first.
    pub migrate: bool,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions { migrate: true }
    }
}

/// Connect, migrate and seed as asked, and assemble the state (no listener).
pub async fn build_state(settings: Settings, opts: StartOptions) -> Result<AppState, StartError> {
    let db = db::connect(&settings.database).await?;
    let reads = db::connect_reads(&settings.database).await?;
    if opts.migrate {
        db::migrate(&db).await?;
    }
    if opts.migrate {
        let report = crate::services::reference::seed(
            &db,
            &settings.calendar.default_working_hours,
            &mut crate::progress::Quiet,
        )
        .await
        .map_err(|e| StartError::Seed(e.to_string()))?;
        if !report.loaded.is_empty() {
            tracing::info!(seed.loaded = ?report.loaded, seed.units = report.units_added, seed.procedures = report.procedures_added, seed.procedures_corrected = report.procedures_corrected, "reference data loaded");
        }
    }
    let (gazetteer, quirks) = crate::services::geography::load_gazetteer(&db).await?;
    if gazetteer.wards().is_empty() {
        tracing::warn!("no reference geography in the database: run `motcua migrate` or `motcua seed geography`");
    }
    for q in &quirks {
        tracing::debug!(quirk.kind = q.kind(), "{q}");
    }
    if !quirks.is_empty() {
        tracing::info!(
            quirks = quirks.len(),
            "reference data quirks handled (see debug log)"
        );
    }
    let directory = crate::services::geography::load_directory(&db).await?;
    let catalog = RoutingCatalog::load(&db).await?;
    let calendars = crate::services::calendar::load(
        &db,
        &settings.calendar.dir,
        &settings.calendar.default_working_hours,
    )
    .await
    .map_err(|e| StartError::Seed(e.to_string()))?;
    let (key, _) = security::keys::load_or_generate(&settings, &db).await?;
    let jwt = JwtKeys::new(
        &key,
        &settings.auth.issuer,
        &settings.auth.audience,
        settings.auth.access_token_ttl_secs,
    );
    let hasher = PasswordHasher::new(&settings.auth)?;
    let accounts = crate::services::account_cache::AccountCache::new(
        (settings.auth.account_cache_secs > 0)
            .then(|| std::time::Duration::from_secs(settings.auth.account_cache_secs)),
        db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite,
    );
    let data_keys = crate::services::data_keys::open(&settings, &db).await?;
    let intakes = crate::services::intake_writer::IntakeWriter::new(&db, data_keys.clone());
    let storage = open_storage(&settings)?;
    let settings_open311_per_minute = settings.open311.requests_per_minute;
    Ok(AppState::new(AppInner {
        db,
        reads,
        settings,
        jwt,
        hasher,
        gazetteer: Arc::new(gazetteer),
        directory: DirectoryHandle::new(directory),
        calendars: CalendarHandle::new(calendars),
        catalog: CatalogHandle::new(catalog),
        accounts,
        intakes,
        storage,
        data_keys,
        open311_throttle: crate::services::open311::Throttle::new(settings_open311_per_minute),
    }))
}

/// A built application, bound to its address and ready to serve.
pub struct App {
    pub state: AppState,
    listener: TcpListener,
    pub addr: SocketAddr,
}

impl App {
    pub async fn build(settings: Settings, opts: StartOptions) -> Result<App, StartError> {
        let bind = settings.server.bind.clone();
        let state = build_state(settings, opts).await?;
        let listener = TcpListener::bind(&bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: bind.clone(),
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: bind, source })?;
        Ok(App {
            state,
            listener,
            addr,
        })
    }

    /// Serve until `shutdown` resolves, then let in-flight requests finish within the grace
    /// period.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let grace = Duration::from_secs(self.state.settings.server.shutdown_grace_secs);
        let (stop_tx, stop_rx) = watch::channel(false);
        let jobs = crate::jobs::spawn_all(&self.state, stop_rx.clone());
        let router = crate::http::router(self.state.clone());
        tracing::info!(server.addr = %self.addr, "listening");
        let mut stopped = stop_rx.clone();
        // Answers go out as soon as they are written: without TCP_NODELAY a response that
        // leaves in more than one write waits for the client's ACK of the first.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
        let server = tokio::spawn(async move { server.await });
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop_tx.send(true);
        match tokio::time::timeout(grace, server).await {
            Ok(Ok(result)) => result?,
            Ok(Err(join)) => tracing::error!(error = %join, "server task failed"),
            Err(_) => tracing::warn!("grace period over: dropping remaining connections"),
        }
        for job in jobs {
            let _ = tokio::time::timeout(grace, job).await;
        }
        self.state.db.clone().close().await.ok();
        Ok(())
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
