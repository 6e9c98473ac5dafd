//! SQLite only: moves the write-ahead log into the database file in the background.
//!
//! Left to itself, SQLite checkpoints inside the COMMIT that takes the log past its
//! threshold, and that COMMIT returns only once the checkpoint (copy and fsync) is done.
//! That transaction still holds the app's writer turn (`db::writer_turn`), so every other
//! writer waited for the checkpoint: in the intake load test at 80 % of the peak, those
//! pauses were the p99 (about 200 ms). Here a PASSIVE checkpoint runs four times a second on a
//! pool connection, outside the turn: it copies what it can without blocking writers or
//! readers, so the log stays short and never reaches the automatic threshold, which
//! `db::connect` raises (`db::SQLITE_AUTOCHECKPOINT_PAGES`) and which still bounds the log
//! of commands that run without this job.

use std::time::Duration;

use sea_orm::DatabaseBackend;
use tokio::sync::watch;

use crate::state::AppState;

const EVERY: Duration = Duration::from_millis(250);

pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    if state.db.get_database_backend() != DatabaseBackend::Sqlite {
        return;
    }
    super::every(EVERY, stop, || async {
        if let Err(e) = crate::db::checkpoint(&state.db).await {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    })
    .await
}
