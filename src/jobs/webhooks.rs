//! The webhook subscriptions' dispatcher: each subscription's next events of the feed, to
//! its URL, signed with its key (`services::feed::deliver_once`). Runs with the outbox
//! dispatcher (`outbox.dispatcher_enabled`), on its interval and concurrency.

use chrono::Utc;
use tokio::sync::watch;

use crate::services::feed;
use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let settings = &state.settings.outbox;
    let client = feed::client(settings.webhook_timeout_secs);
    let interval = settings.poll_interval_secs.max(1);
    loop {
        // Deliver while there is something to deliver, then wait.
        loop {
            match feed::deliver_once(
                &state.db,
                &state.data_keys,
                &client,
                settings.delivery_concurrency,
                Utc::now(),
            )
            .await
            {
                Ok(r) if r.delivered > 0 => {
                    if *stop.borrow() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "webhook delivery round failed; retrying next round");
                    break;
                }
            }
        }
        if crate::jobs::sleep_or_stop(&mut stop, interval).await {
            break;
        }
    }
}
