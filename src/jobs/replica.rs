//! Keeps `crate::replica::Reads` told how far behind the streaming replica is, so that reads
//! leave it as soon as it falls behind `database.read_max_lag_ms` and return when it has caught
//! up. Runs only where `database.read_url` is set.

use tokio::sync::watch;

use crate::state::AppState;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let Some(every) = state.reads.probe_interval() else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let was_in_use = state.reads.replica_in_use();
        match state.reads.probe(&state.db).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("read replica answers again");
            }
            Ok(()) => {}
            // Logged once per outage; the freshness it last knew ages past the bound and the
            // reads move to the primary on their own.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "read replica probe failed: reads go to the primary once it is behind the bound");
            }
            Err(_) => {}
        }
        let in_use = state.reads.replica_in_use();
        if in_use != was_in_use {
            tracing::info!(
                replica.in_use = in_use,
                replica.staleness_ms = state.reads.staleness().map(|s| s.as_millis() as u64),
                "reads switched"
            );
        }
        crate::metrics::record_replica(in_use, state.reads.staleness());
    }
}
