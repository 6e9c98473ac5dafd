//! PostgreSQL only: folds the backlog rollup's deltas into its counts (see migration 20 and
//! `repo::stats::fold_rollup`). The triggers append a delta per changed group rather than
//! update a shared count row, so that writers never wait on one another for it; readers add
//! counts and deltas, and this keeps the deltas few. Every instance runs it; one at a time
//! folds (an advisory lock), the others skip that turn.

use std::time::Duration;

use sea_orm::DatabaseBackend;
use tokio::sync::watch;

use crate::state::AppState;

/// A second's deltas are at most a few thousand rows at national load: cheap to add up for
/// every backlog request, cheap to fold.
const EVERY: Duration = Duration::from_secs(1);

pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    super::every(EVERY, stop, || async {
        if let Err(e) = crate::services::stats::fold_rollup(&state.db).await {
            tracing::warn!(error = %e, "folding the backlog rollup failed");
        }
    })
    .await
}
