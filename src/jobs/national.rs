//! The national portal's synchronisation (`services::national`), when `national.enabled`:
//! every instance runs it; rows are leased, so each dossier is sent by one at a time.

use chrono::Utc;
use tokio::sync::watch;

use crate::services::national::{self, Portal};
use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let settings = &state.settings.national;
    let portal = Portal::new(settings);
    let interval = settings.poll_interval_secs.max(1);
    loop {
        loop {
            match national::sync_once(
                &state.db,
                &state.data_keys,
                &portal,
                settings.max_attempts,
                Utc::now(),
            )
            .await
            {
                Ok(r) if r.synced > 0 => {
                    if *stop.borrow() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "national portal round failed; retrying next round");
                    break;
                }
            }
        }
        if crate::jobs::sleep_or_stop(&mut stop, interval).await {
            break;
        }
    }
}
