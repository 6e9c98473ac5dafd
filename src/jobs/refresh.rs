//! Keeps this instance's in-memory calendars, unit directory and routing catalog in step with changes made
//! through other instances.

use tokio::sync::watch;

use crate::state::AppState;

const EVERY_SECS: u64 = 30;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if crate::jobs::sleep_or_stop(&mut stop, EVERY_SECS).await {
            break;
        }
        if let Err(e) = crate::services::calendar::refresh_if_changed(
            &state.db,
            &state.calendars,
            &state.settings.calendar,
        )
        .await
        {
            tracing::warn!(error = %e, "calendar refresh failed");
        }
        if let Err(e) = state.reload_directory().await {
            tracing::warn!(error = %e, "unit directory refresh failed");
        }
        state.reload_catalog().await;
    }
}
