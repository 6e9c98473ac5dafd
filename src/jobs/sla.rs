//! The SLA sweeper loop.

use chrono::Utc;
use tokio::sync::watch;

use crate::services::sla;
use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let interval = state.settings.sla.sweep_interval_secs.max(1);
    let batch = state.settings.sla.batch_size.max(1);
    let pause = std::time::Duration::from_millis(state.settings.sla.batch_pause_ms);
    tracing::info!(interval_secs = interval, batch, "SLA sweeper started");
    loop {
        match sla::sweep_paced(&state.db, &state.data_keys, Utc::now(), batch, pause).await {
            Ok(r) => {
                crate::metrics::record_sweep(&r);
                if !r.changes.is_empty() {
                    tracing::info!(
                        sla.at_risk = r.count(crate::domain::sla::SlaState::AtRisk),
                        sla.overdue = r.count(crate::domain::sla::SlaState::Overdue),
                        sla.lag_secs = r.max_lag_secs,
                        sla.elapsed_ms = r.elapsed_ms as u64,
                        "SLA sweep"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "SLA sweep failed; retrying next round"),
        }
        if crate::jobs::sleep_or_stop(&mut stop, interval).await {
            break;
        }
    }
}
