//! Background jobs run inside `serve` (or alone in `motcua worker`). Each is a loop that
//! claims work from database rows, so several instances can run them at once.

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// Start every enabled job; each stops when `stop` turns true.
pub fn spawn_all(_state: &AppState, _stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    Vec::new()
}
