//! Group commit of intakes.
//!
//! An intake is decided before it writes anything (validated, routed, its clock started):
//! what is left is its dossier number and four rows in one transaction. Intakes that would
//! wait for one another anyway (on SQLite every writer of the file; on PostgreSQL those of
//! one receiving unit, which update the same counter row) queue here, and whichever of them
//! gets the writer turn first writes every intake waiting at that moment in one transaction:
//! the counter updates (one per unit and day), the dossiers, their first events and outbox
//! rows and the rows of their Idempotency-Keys with the stored answers, in one round trip
//! (`repo::cases::insert_numbered`), one commit. With no files to attach, a batch is one
//! hand-over in all: on PostgreSQL one statement, atomic on its own; on SQLite one text with
//! its own `BEGIN IMMEDIATE` and `COMMIT`, on a connection of the writer's own
//! (`OwnConnection`). Under load a turn then serves many dossiers instead of one, so the
//! round trips, the hand-over of the turn and the commit are shared; an intake that finds no
//! one waiting is a batch of one and writes exactly as it would alone.
//!
//! Each intake stays all or nothing and its own: a batch that fails is rolled back and its
//! intakes are written again one at a time (a batch that committed but whose dossiers could
//! not then be matched to their requests, a bug, is answered with errors and never written
//! again). An intake is answered only after the commit of
//! the transaction that holds it. One whose request was cancelled before its batch began is
//! left out, as a cancelled request is; once its batch has begun it is written, and the
//! batch goes on even if the request of the intake leading it is cancelled.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use sea_orm::sqlx::sqlite::SqlitePoolOptions;
use sea_orm::{DatabaseBackend, DatabaseConnection, SqlxSqliteConnector};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::db;
use crate::domain::dossier::notice::Notice;
use crate::domain::dossier::{Dossier, DossierEvent};
use crate::domain::unit::UnitCode;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::security::data_key::DataKeys;
use crate::text;

/// At most this many intakes in one transaction (PostgreSQL and SQLite both take a few
/// thousand bind parameters per statement; a dossier row has about fifty).
const MAX_BATCH: usize = 64;

/// SQLite: the page cache of the writer's own connection, in KiB.
const OWN_CACHE_KIB: u32 = 64 * 1024;

/// PostgreSQL: intakes are queued per receiving unit, hashed onto this many lanes.
const PG_LANES: usize = 64;

/// The answer stored for an intake's `Idempotency-Key`: the dossier as written, committed
/// with it in the same statement, so that a replay can never miss it and answers what the
/// first request answered. The key's row is written only there: a key taken by then (a
/// concurrent request of another instance) fails the write, which then writes nothing.
pub struct StoredAnswer {
    pub account: Uuid,
    pub key: String,
    pub request_hash: String,
}

/// The Idempotency-Keys in flight (account and key), with their request hashes.
type KeysInFlight = Arc<Mutex<HashMap<(Uuid, String), String>>>;

/// An online intake's key in flight on this instance, released when dropped.
pub struct InFlight {
    keys: KeysInFlight,
    id: (Uuid, String),
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.keys).remove(&self.id);
    }
}

/// An intake ready to be written: the dossier as filed (everything but its id and code,
/// which the database gives), its first event and its notice.
pub struct Draft {
    /// The local day of receipt (the counter's day and the code's `yyMMdd`).
    pub day: NaiveDate,
    pub dossier: Dossier,
    pub event: DossierEvent,
    pub notice: Notice,
    /// Online submissions with an `Idempotency-Key`.
    pub answer: Option<StoredAnswer>,
    /// The files it is filed with (stored already) and the uploads they came from, which
    /// are marked taken in the same transaction.
    pub documents: Vec<crate::domain::dossier::Document>,
    pub uploads: Vec<uuid::Uuid>,
}

struct Queued {
    id: u64,
    draft: Draft,
    done: oneshot::Sender<ApiResult<Dossier>>,
}

struct Lane {
    queue: Mutex<VecDeque<Queued>>,
    /// SQLite: the file's writer turn, shared with every writer. PostgreSQL: this lane's
    /// own, two at a time, so that the next batch already waits on the counter row inside
    /// the database when the current one commits, and no more than one does.
    turn: Arc<Semaphore>,
}

/// The intake queues of one app instance (see the module documentation).
pub struct IntakeWriter {
    lanes: Vec<Lane>,
    next_id: AtomicU64,
    /// Intakes handed to [`IntakeWriter::write`] and not yet answered.
    pending: Arc<AtomicUsize>,
    /// The most intakes committed in one transaction so far.
    largest: Arc<AtomicUsize>,
    /// SQLite: the connection of intakes without files to attach.
    own: Option<Arc<OwnConnection>>,
    /// Seal the applicants' personal data in the rows written.
    keys: DataKeys,
    /// The Idempotency-Keys in flight on this instance, with their request hashes (see
    /// [`IntakeWriter::take_in_flight`]).
    in_flight: KeysInFlight,
}

/// SQLite: a connection of the intake writer's own, used only under the writer turn, for
/// batches with no files to attach. Such a batch is sent as one text with
/// its `BEGIN IMMEDIATE` and `COMMIT` (`repo::cases::insert_numbered_committing`): one
/// hand-over to SQLite's thread instead of three (begin, write, commit), which a pool
/// connection cannot do safely, since a failure must be rolled back on the same connection.
/// The write runs in a task of its own, so that a cancelled request cannot stop the text
/// half-way, between its `BEGIN` and its `COMMIT`.
struct OwnConnection {
    db: DatabaseConnection,
    /// False once a rollback on it failed (it is then closed), and batches go back to pool
    /// transactions.
    usable: AtomicBool,
}

impl OwnConnection {
    /// Stop using the connection after a failed rollback, and close it: SQLite then
    /// rolls back whatever transaction it still held, and with it the file's write lock.
    async fn retire(&self) {
        self.usable.store(false, Ordering::Relaxed);
        tracing::error!(
            "the intake writer's own SQLite connection is closed after a failed \
            rollback; intakes go back to pool transactions"
        );
        self.db.get_sqlite_connection_pool().close().await;
    }

    fn for_sqlite(db: &DatabaseConnection) -> Option<Arc<OwnConnection>> {
        if db.get_database_backend() != DatabaseBackend::Sqlite {
            return None;
        }
        // The same file and settings (WAL, busy timeout, foreign keys) as the app's pool,
        // with a larger page cache: this connection writes nearly every dossier, and the
        // index pages it touches stay in it (SQLite's default is 2 MiB per connection).
        let options = (*db.get_sqlite_connection_pool().connect_options())
            .clone()
            .pragma("cache_size", format!("-{OWN_CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Some(Arc::new(OwnConnection {
            db: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
            usable: AtomicBool::new(true),
        }))
    }
}

impl IntakeWriter {
    /// The queues for `db`: one on SQLite, on the file's writer turn; per unit on PostgreSQL.
    pub fn new(db: &DatabaseConnection, keys: DataKeys) -> IntakeWriter {
        let lane = |turn| Lane {
            queue: Mutex::new(VecDeque::new()),
            turn,
        };
        let lanes = match db::writer_turn(db) {
            Some(turn) => vec![lane(turn)],
            None => (0..PG_LANES)
                .map(|_| lane(Arc::new(Semaphore::new(2))))
                .collect(),
        };
        IntakeWriter {
            lanes,
            next_id: Default::default(),
            pending: Default::default(),
            largest: Default::default(),
            own: OwnConnection::for_sqlite(db),
            keys,
            in_flight: Default::default(),
        }
    }

    /// Take an online intake's key for this request, in memory: a duplicate sent while it
    /// is in flight on this instance is answered 409 without a round trip. Nothing is
    /// written until the intake's own statement writes the key's row with its dossier; a
    /// duplicate in flight on another instance (PostgreSQL) makes one of the two statements
    /// fail on the key's primary key, and that request then answers from the other's row.
    /// `Err(same body?)` when the key is in flight already.
    pub fn take_in_flight(&self, account: Uuid, key: &str, hash: &str) -> Result<InFlight, bool> {
        let id = (account, key.to_string());
        let mut taken = lock(&self.in_flight);
        if let Some(other) = taken.get(&id) {
            return Err(other == hash);
        }
        taken.insert(id.clone(), hash.to_string());
        Ok(InFlight {
            keys: self.in_flight.clone(),
            id,
        })
    }

    /// Intakes waiting to be written or being written (for `/metrics`).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// The most intakes this instance has committed in one transaction.
    pub fn largest_batch(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    fn lane(&self, unit: &UnitCode) -> &Lane {
        let h = unit
            .to_string()
            .bytes()
            .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        &self.lanes[(h % self.lanes.len() as u64) as usize]
    }

    /// Write `draft` (alone or with the intakes waiting beside it) and return its dossier
    /// once committed.
    pub async fn write(&self, db: &DatabaseConnection, draft: Draft) -> ApiResult<Dossier> {
        let lane = self.lane(&draft.dossier.receiving_unit);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.pending.fetch_add(1, Ordering::Relaxed);
        let _pending = Pending(&self.pending);
        let (done, mut answer) = oneshot::channel();
        lock(&lane.queue).push_back(Queued { id, draft, done });
        loop {
            let turn = tokio::select! {
                biased;
                answer = &mut answer => return answer.unwrap_or_else(|_| Err(lost())),
                turn = db::acquire_turn(lane.turn.clone()) => turn,
            };
            let turn = match turn {
                Ok(turn) => turn,
                Err(e) => {
                    // Given up waiting: withdraw the intake unless a batch already holds it.
                    let withdrawn = {
                        let mut queue = lock(&lane.queue);
                        let at = queue.iter().position(|q| q.id == id);
                        at.and_then(|i| queue.remove(i)).is_some()
                    };
                    if withdrawn {
                        return Err(e.into());
                    }
                    return answer.await.unwrap_or_else(|_| Err(lost()));
                }
            };
            let batch: Vec<Queued> = {
                let mut queue = lock(&lane.queue);
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).filter(|q| !q.done.is_closed()).collect()
            };
            if batch.is_empty() {
                // Ours was taken by an earlier batch: done, or being written.
                drop(turn);
                return answer.await.unwrap_or_else(|_| Err(lost()));
            }
            let own = self.own.clone();
            if batch.len() == 1 && batch[0].id == id && own.is_none() {
                write_batch(
                    db.clone(),
                    self.keys.clone(),
                    own,
                    batch,
                    turn,
                    self.largest.clone(),
                )
                .await;
            } else {
                // Others wait on this batch, or it is written on the own connection (see
                // `OwnConnection`): it must not stop with this request.
                let batch = write_batch(
                    db.clone(),
                    self.keys.clone(),
                    own,
                    batch,
                    turn,
                    self.largest.clone(),
                );
                let _ = tokio::spawn(batch).await;
            }
            // Ours was in it, or (a long queue) is still waiting for the next turn.
        }
    }
}

/// Counts an intake out of `pending` however `write` ends (also when cancelled).
struct Pending<'a>(&'a AtomicUsize);

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn lost() -> ApiError {
    ApiError::Internal("an intake's batch ended without an answer".into())
}

/// Write a batch while holding its turn, and answer each intake.
async fn write_batch(
    db: DatabaseConnection,
    keys: DataKeys,
    own: Option<Arc<OwnConnection>>,
    batch: Vec<Queued>,
    _turn: OwnedSemaphorePermit,
    largest: Arc<AtomicUsize>,
) {
    let mut batch = batch;
    while batch.len() > 1 {
        let n = batch.len();
        let drafts: Vec<&Draft> = batch.iter().map(|q| &q.draft).collect();
        match write_together(&db, &keys, own.as_deref(), &drafts).await {
            Ok(models) => {
                largest.fetch_max(n, Ordering::Relaxed);
                metrics::histogram!("intake_batch_size").record(n as f64);
                for (q, m) in batch.into_iter().zip(models) {
                    let _ = q.done.send(Ok(m));
                }
                return;
            }
            Err(Failed {
                error,
                written: true,
            }) => {
                tracing::error!(error = %error, batch.size = n, "a batch of intakes was \
                    committed but its dossiers could not be matched to their requests");
                for q in batch {
                    let _ = q.done.send(Err(lost()));
                }
                return;
            }
            // A retry of a key that has its row already (its request answers from that
            // row): the intakes whose keys are taken are told so, the rest written together
            // again.
            Err(Failed { error, .. }) if error.code() == "idempotency_in_progress" => {
                let asked: Vec<(Uuid, &str)> = batch
                    .iter()
                    .filter_map(|q| q.draft.answer.as_ref())
                    .map(|a| (a.account, a.key.as_str()))
                    .collect();
                let taken = match repo::idempotency::taken(&db, &asked).await {
                    Ok(taken) if !taken.is_empty() => taken,
                    _ => break,
                };
                let (gone, rest): (Vec<Queued>, Vec<Queued>) = batch.into_iter().partition(|q| {
                    q.draft
                        .answer
                        .as_ref()
                        .is_some_and(|a| taken.contains(&(a.account, a.key.clone())))
                });
                for q in gone {
                    let _ = q.done.send(Err(key_in_progress()));
                }
                batch = rest;
            }
            Err(Failed { error: e, .. }) => {
                metrics::counter!("intake_batches_split_total").increment(1);
                tracing::warn!(error = %e, batch.size = n,
                    "a batch of intakes failed; writing them one at a time");
                break;
            }
        }
    }
    for q in batch {
        let result = write_together(&db, &keys, own.as_deref(), &[&q.draft])
            .await
            .map_err(|f| f.error)
            .and_then(|mut one| one.pop().ok_or_else(lost));
        if result.is_ok() {
            largest.fetch_max(1, Ordering::Relaxed);
            metrics::histogram!("intake_batch_size").record(1.0);
        }
        let _ = q.done.send(result);
    }
}

/// Why a write failed; `written` when its dossiers were committed all the same (and must
/// not be written again).
struct Failed {
    error: ApiError,
    written: bool,
}

impl<E: Into<ApiError>> From<E> for Failed {
    fn from(e: E) -> Failed {
        Failed {
            error: e.into(),
            written: false,
        }
    }
}

/// The answer to an intake whose Idempotency-Key another request took first: 409 as
/// long as that one is in flight; `services::intake` answers from its row once it is not.
pub fn key_in_progress() -> ApiError {
    ApiError::conflict(
        "idempotency_in_progress",
        text!(
            "Một yêu cầu với cùng Idempotency-Key đang được xử lý.",
            "A request with the same Idempotency-Key is being processed."
        ),
    )
}

/// A write's error, the key's primary key told apart (see [`key_in_progress`]).
fn write_error(e: sea_orm::DbErr) -> ApiError {
    if repo::idempotency::is_taken(&e) {
        key_in_progress()
    } else {
        e.into()
    }
}

/// Write `drafts` in one transaction; their dossiers in the same order.
async fn write_together(
    db: &DatabaseConnection,
    keys: &DataKeys,
    own: Option<&OwnConnection>,
    drafts: &[&Draft],
) -> Result<Vec<Dossier>, Failed> {
    let mut dossiers = Vec::with_capacity(drafts.len());
    for d in drafts {
        let mut row = repo::dossiers::numbered_insert(
            keys,
            &d.dossier,
            d.day,
            &d.event,
            d.notice.clone(),
            d.event.at,
        );
        if let Some(a) = &d.answer {
            // The dossier without its id and code: the database gives them in the same
            // statement, and a replay reads them through the key's `case_id`.
            let body = serde_json::to_string(&d.dossier).map_err(ApiError::internal)?;
            row.answer = Some(repo::idempotency::answer_row(
                keys,
                a.account,
                &a.key,
                &a.request_hash,
                &body,
                d.event.at,
            ));
        }
        dossiers.push(row);
    }
    let mut written: Vec<Dossier> = drafts.iter().map(|d| d.dossier.clone()).collect();
    // With no files to attach, the batch commits in its one hand-over to the database: on
    // PostgreSQL a statement alone, on SQLite a text on the writer's own connection.
    let fileless = drafts
        .iter()
        .all(|d| d.documents.is_empty() && d.uploads.is_empty());
    let own = own.filter(|o| o.usable.load(Ordering::Relaxed));
    let alone = match db.get_database_backend() {
        _ if !fileless => None,
        DatabaseBackend::Postgres => Some(db),
        _ => own.map(|o| &o.db),
    };
    let numbered = if let Some(conn) = alone {
        let numbers = repo::cases::NumberKeys::of(&dossiers);
        let found = match repo::cases::insert_numbered_committing(conn, dossiers).await {
            Ok(found) => found,
            Err((e, broken)) => {
                if let (true, Some(own)) = (broken, own) {
                    own.retire().await;
                }
                return Err(write_error(e).into());
            }
        };
        // Committed: whatever fails now, these dossiers must not be written again.
        numbers.match_rows(&found).map_err(|e| Failed {
            error: e.into(),
            written: true,
        })?
    } else {
        // The caller holds the turn: this transaction must not wait for it again.
        let txn = db::begin_write_in_turn(db, None).await?;
        let numbered = repo::cases::insert_numbered(&*txn, dossiers)
            .await
            .map_err(write_error)?;
        for ((d, w), (id, _)) in drafts.iter().zip(&written).zip(&numbered) {
            repo::documents::insert_documents(&*txn, *id, w.applicant.account, &d.documents)
                .await?;
            let taken = repo::documents::mark_attached(&*txn, &d.uploads, d.event.at).await?;
            if taken != d.uploads.len() as u64 {
                return Err(Failed::from(crate::services::documents::upload_taken()));
            }
        }
        txn.commit().await?;
        numbered
    };
    for (w, (id, code)) in written.iter_mut().zip(numbered) {
        (w.id, w.code) = (id, Some(code));
    }
    Ok(written)
}
