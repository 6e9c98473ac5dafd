//! Background jobs run inside `serve` (or alone in `motcua worker`): loops that claim work
//! from database rows, so several instances can run them at once, and the listeners and
//! reloads that keep this instance's in-memory copies (accounts, units, catalog) current.

pub mod account_events;
pub mod checkpoint;
pub mod files;
pub mod national;
pub mod outbox;
pub mod refresh;
pub mod replica;
pub mod reports;
pub mod rollup;
pub mod sla;
pub mod tell;
pub mod webhooks;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Start every enabled job; each stops when `stop` turns true.
pub fn spawn_all(state: &AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut jobs = vec![
        tokio::spawn(refresh::run(state.clone(), stop.clone())),
        tokio::spawn(account_events::run(state.clone(), stop.clone())),
        tokio::spawn(checkpoint::run(state.clone(), stop.clone())),
        tokio::spawn(rollup::run(state.clone(), stop.clone())),
        tokio::spawn(reports::run(state.clone(), stop.clone())),
    ];
    if state.reads.has_replica() {
        jobs.push(tokio::spawn(replica::run(state.clone(), stop.clone())));
    }
    if state.settings.sla.sweeper_enabled {
        jobs.push(tokio::spawn(sla::run(state.clone(), stop.clone())));
    }
    if state.settings.storage.cleanup_enabled {
        jobs.push(tokio::spawn(files::run(state.clone(), stop.clone())));
    }
    if state.settings.national.enabled {
        jobs.push(tokio::spawn(national::run(state.clone(), stop.clone())));
    }
    if state.settings.outbox.dispatcher_enabled {
        jobs.push(tokio::spawn(outbox::run(state.clone(), stop.clone())));
        jobs.push(tokio::spawn(webhooks::run(state.clone(), stop.clone())));
        jobs.push(tokio::spawn(tell::run(state.clone(), stop.clone())));
    }
    jobs
}

/// Run `work` every `every` (a late tick is delayed, not bunched) until asked to stop.
pub async fn every<F, Fut>(every: std::time::Duration, mut stop: watch::Receiver<bool>, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        work().await;
    }
}

/// Sleep for `secs`, or return early (true) when asked to stop.
pub async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, secs: u64) -> bool {
    let slept = tokio::select! {
        _ = tokio::time::sleep(std::time::Duration::from_secs(secs)) => true,
        _ = stop.wait_for(|s| *s) => false,
    };
    !slept || *stop.borrow()
}
