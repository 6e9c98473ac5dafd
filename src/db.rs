//! Database connection: SQLite (embedded default) or PostgreSQL (production).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, ExecResult, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::DatabaseSettings;

/// The WAL size (pages of 4 KiB) at which a committing SQLite transaction checkpoints
/// itself. Ten times SQLite's default: while the app serves, `jobs::checkpoint` keeps the
/// log well below it (see there); it still bounds the log of commands that run without jobs.
pub const SQLITE_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// Open a pool. SQLite gets WAL, foreign keys and a busy timeout on every connection.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    connect_pool(settings, false).await
}

/// Open a pool; a `lazy` one connects at its first use, so a server that is down now does not
/// fail the caller.
async fn connect_pool(
    settings: &DatabaseSettings,
    lazy: bool,
) -> Result<DatabaseConnection, DbErr> {
    let url = settings.url.expose_secret().to_string();
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(settings.max_connections)
        .min_connections(settings.min_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .sqlx_logging(false)
        .connect_lazy(lazy);
    // sqlx pings every connection it hands out by default: one more round trip per query.
    // A SQLite connection is a file handle that cannot go stale; a PostgreSQL one is only
    // checked when it has sat idle long enough for the server or a proxy to have closed it.
    if url.starts_with("sqlite:") {
        opts.test_before_acquire(false);
    } else {
        opts.test_before_acquire_if_idle_for(Duration::from_secs(settings.ping_if_idle_secs));
    }
    if url.starts_with("postgres") {
        // No JIT compilation: it costs 20–50 ms a statement (and again in each parallel
        // worker), more than any of our statements, which run well under a second, can win
        // back. The country's backlog by unit spent a third of its time compiling.
        opts.map_sqlx_postgres_opts(|o| o.options([("jit", "off")]));
    }
    if url.starts_with("sqlite:") {
        let busy = Duration::from_millis(settings.sqlite_busy_timeout_ms);
        opts.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(busy)
                .pragma("temp_store", "memory")
                .pragma(
                    "wal_autocheckpoint",
                    SQLITE_AUTOCHECKPOINT_PAGES.to_string(),
                )
        });
    }
    Database::connect(opts).await
}

/// The streaming replica of `database.read_url`, when it is set.
pub async fn connect_reads(settings: &DatabaseSettings) -> Result<crate::replica::Reads, DbErr> {
    if settings.read_url.expose_secret().is_empty() {
        return Ok(crate::replica::Reads::none());
    }
    let mut on_replica = settings.clone();
    on_replica.url = settings.read_url.clone();
    // A replica that is down at start must not keep the service from starting: reads go
    // to the primary until the replica answers (see `crate::replica`).
    on_replica.min_connections = 0;
    let replica = connect_pool(&on_replica, true).await?;
    Ok(crate::replica::Reads::with_replica(
        replica,
        Duration::from_millis(settings.read_max_lag_ms),
    ))
}

/// The URL of another database on the same PostgreSQL server as `base` (scratch databases
/// for tests and benchmarks).
pub fn url_with_database(base: &str, db: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let prefix = match head.rfind('/') {
        Some(i) if i > "postgres://".len() => &head[..i],
        _ => head,
    };
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}

/// Apply every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True when every known migration has been applied.
pub async fn migrations_current(db: &DatabaseConnection) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// How long a SQLite writer waits for its turn before giving up, like a busy timeout.
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// The writer turn of a SQLite database file: one writer at a time, in arrival order.
///
/// SQLite has one writer; without this, writers wait in its busy handler, which polls with
/// sleeps of up to 100 ms, leaves the lock idle between attempts and favours whoever polls
/// at the right moment (tight loops starve the rest). Queueing here instead, in the
/// process, makes the wait first come first served and wakes the next writer as soon as
/// the current one ends. Keyed by file, so that two pools on one file (a second instance in
/// a test) share it. `None` on PostgreSQL, which has row locks.
pub fn writer_turn(db: &DatabaseConnection) -> Option<Arc<Semaphore>> {
    static TURNS: OnceLock<Mutex<HashMap<PathBuf, Arc<Semaphore>>>> = OnceLock::new();
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let mut turns = TURNS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Some(
        turns
            .entry(file)
            .or_insert_with(|| Arc::new(Semaphore::new(1)))
            .clone(),
    )
}

/// Wait for the writer turn of `db` (see [`writer_turn`]); `None` on PostgreSQL.
pub async fn take_turn(db: &DatabaseConnection) -> Result<Option<OwnedSemaphorePermit>, DbErr> {
    match writer_turn(db) {
        Some(turn) => acquire_turn(turn).await.map(Some),
        None => Ok(None),
    }
}

/// Wait for a turn (a writer turn, or another queue's), giving up after the turn timeout
/// like a busy timeout.
pub async fn acquire_turn(turn: Arc<Semaphore>) -> Result<OwnedSemaphorePermit, DbErr> {
    match tokio::time::timeout(TURN_TIMEOUT, turn.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(DbErr::Custom(format!("writer turn: {closed}"))),
        Err(_) => Err(DbErr::Custom(format!(
            "database is busy: no writer turn within {} s",
            TURN_TIMEOUT.as_secs()
        ))),
    }
}

/// A write transaction that holds, on SQLite, the database's writer turn until it ends
/// (commit, rollback or drop). Use it as the transaction it wraps.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedSemaphorePermit>,
}

impl WriteTxn {
    /// Wrap a transaction begun while holding `turn`.
    pub fn new(txn: DatabaseTransaction, turn: Option<OwnedSemaphorePermit>) -> Self {
        WriteTxn { txn, _turn: turn }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.txn.get_database_backend()
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Begin a transaction that will write.
///
/// On SQLite it first waits for the database's writer turn ([`writer_turn`]), then begins
/// with `BEGIN IMMEDIATE`: a deferred transaction that reads before it writes cannot upgrade
/// once another connection has committed (SQLITE_BUSY_SNAPSHOT, which the busy timeout does
/// not retry), and single-statement writes outside any turn (idempotency keys, tokens) may
/// still commit in between.
pub async fn begin_write(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let turn = take_turn(db).await?;
    begin_write_in_turn(db, turn).await
}

/// Begin a transaction that will write, for a caller that already holds the writer turn
/// (see [`begin_write`]); the transaction keeps `turn`, if given, until it ends.
pub async fn begin_write_in_turn(
    db: &DatabaseConnection,
    turn: Option<OwnedSemaphorePermit>,
) -> Result<WriteTxn, DbErr> {
    let txn = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            db.begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
        }
        _ => db.begin().await?,
    };
    Ok(WriteTxn::new(txn, turn))
}

/// Begin a write transaction whose commit does not wait for the disk: on PostgreSQL
/// `synchronous_commit = off` for this transaction only (SQLite: as [`begin_write`]). Only
/// for bookkeeping that a crash may lose with no other effect than idempotent work done again
/// (a consumer's position in the feed, a lease, an attempt recorded after a call the receiver
/// deduplicates by key), never for a change anyone is told of. The commit still reaches the
/// disk within a few hundred milliseconds (`wal_writer_delay`), but it no longer adds a flush
/// of its own to the ones the dossiers' changes wait for.
pub async fn begin_write_unflushed(db: &DatabaseConnection) -> Result<WriteTxn, DbErr> {
    let txn = begin_write(db).await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
    }
    Ok(txn)
}

/// True when the database answers a trivial query.
/// SQLite: copy what the write-ahead log holds into the database file, as far as readers
/// allow, without waiting for them (`PASSIVE`).
pub async fn checkpoint(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
        .await
        .map(|_| ())
}

pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
