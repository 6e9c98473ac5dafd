//! Telling applicants (`services::tell`), when e-mail or SMS is configured (`notify.*`) and
//! the dispatchers run (`outbox.dispatcher_enabled`):
//! every instance runs it; rows are leased, so each message is sent by one at a time.

use chrono::Utc;
use tokio::sync::watch;

use crate::services::tell::{self, Senders};
use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let settings = &state.settings.notify;
    let senders = match Senders::from_settings(settings) {
        Ok(s) if !s.channels().is_empty() => s,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "applicants are not told: the setting is wrong");
            return;
        }
    };
    let interval = settings.poll_interval_secs.max(1);
    loop {
        loop {
            match tell::tell_once(
                &state.db,
                &state.data_keys,
                &senders,
                settings,
                &state.settings.web.public_url,
                Utc::now(),
            )
            .await
            {
                Ok(r) if r.sent > 0 => {
                    if *stop.borrow() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "telling applicants failed; retrying next round");
                    break;
                }
            }
        }
        if crate::jobs::sleep_or_stop(&mut stop, interval).await {
            break;
        }
    }
}
