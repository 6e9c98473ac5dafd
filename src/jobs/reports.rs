//! Reports computed in advance: the country's bottleneck report, every
//! `stats.bottlenecks_refresh_secs`. Every instance runs it and tries often; the lease in
//! `report_snapshots` gives each computation to one of them when it is due.

use chrono::Utc;
use tokio::sync::watch;

use crate::state::AppState;

pub async fn run(state: AppState, stop: watch::Receiver<bool>) {
    let every = state.settings.stats.bottlenecks_refresh_secs;
    if every == 0 {
        return;
    }
    // Tries at most once a minute, so that a computation is at most that late.
    let tick = std::time::Duration::from_secs(every.clamp(1, 60));
    super::every(tick, stop, || async {
        let started = std::time::Instant::now();
        match crate::services::stats::refresh_country_bottlenecks(&state.stats(), Utc::now()).await
        {
            Ok(Some(units)) => tracing::info!(
                report.units = units,
                report.elapsed_ms = started.elapsed().as_millis() as u64,
                "the country's bottleneck report computed in advance"
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "computing the country's bottleneck report failed")
            }
        }
    })
    .await
}
