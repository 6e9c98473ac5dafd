//! Deletes uploads that no dossier took within `storage.orphan_after_secs`, and objects no
//! row names any longer. Rows are claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so
//! several instances share the work; deleting twice is harmless.

use chrono::Utc;
use tokio::sync::watch;

use crate::services::documents;
use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let interval = state.settings.storage.cleanup_interval_secs.max(1);
    tracing::info!(interval_secs = interval, "file cleanup started");
    loop {
        match documents::clean_orphans(
            &state.db,
            &state.storage,
            &state.settings.storage,
            Utc::now(),
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(files.deleted_uploads = n, "unattached uploads deleted"),
            Err(e) => {
                tracing::error!(error.code = %e.code(), "file cleanup failed; retrying next round")
            }
        }
        if crate::jobs::sleep_or_stop(&mut stop, interval).await {
            break;
        }
    }
}
