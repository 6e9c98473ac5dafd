//! The outbox dispatcher loop.

use chrono::Utc;
use tokio::sync::watch;

use crate::services::notify::{self, Sink};
use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let sink = Sink::from_settings(&state.settings.outbox);
    let interval = state.settings.outbox.poll_interval_secs.max(1);
    loop {
        // Drain what is due, then wait.
        loop {
            match notify::dispatch_once(&state.db, &sink, &state.settings.outbox, Utc::now()).await
            {
                Ok(r) if r.delivered + r.retried + r.failed > 0 => {
                    crate::metrics::record_dispatch(&r);
                    if *stop.borrow() {
                        return;
                    }
                    continue;
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "outbox dispatch failed; retrying next round");
                    break;
                }
            }
        }
        if crate::jobs::sleep_or_stop(&mut stop, interval).await {
            break;
        }
    }
}
