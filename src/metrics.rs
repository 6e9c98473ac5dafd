//! Prometheus metrics of this instance: the process-wide recorder and what the background
//! jobs and the `/metrics` route record (dossiers by status and SLA state, SLA transitions,
//! sweeper lag and batch sizes, outbox deliveries and backlog, intakes waiting to be
//! written). Kept out of `http` so that jobs and services can record without depending on
//! the HTTP layer; the route itself is `http::metrics`.

use std::sync::OnceLock;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::sla::SlaState;
use crate::services::notify::DispatchReport;
use crate::services::sla::SweepReport;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (installed once; `None` if another recorder was installed).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("sla_sweep_batch_rows".into()),
                        &[0.0, 1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0],
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("intake_batch_size".into()),
                        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                    )
                })
                .ok()
                .and_then(|b| b.install_recorder().ok())
        })
        .as_ref()
}

/// Everything recorded so far, in the Prometheus text format (empty without a recorder).
pub fn render() -> String {
    handle().map(|h| h.render()).unwrap_or_default()
}

/// Record a sweep's results.
pub fn record_sweep(r: &SweepReport) {
    for to in [SlaState::AtRisk, SlaState::Overdue] {
        counter!("sla_transitions_total", "to" => to.as_str()).increment(r.count(to) as u64);
    }
    counter!("sla_sweeps_total").increment(1);
    gauge!("sla_sweeper_lag_seconds").set(r.max_lag_secs as f64);
    histogram!("sla_sweep_batch_rows").record(r.examined as f64 / r.batches.max(1) as f64);
    histogram!("sla_sweep_duration_seconds").record(r.elapsed_ms as f64 / 1000.0);
}

/// Record a dispatch round.
pub fn record_dispatch(r: &DispatchReport) {
    counter!("outbox_delivered_total").increment(r.delivered as u64);
    counter!("outbox_retried_total").increment(r.retried as u64);
    counter!("outbox_failed_total").increment(r.failed as u64);
}

/// Intakes waiting for the writer.
pub fn record_intakes_pending(n: usize) {
    gauge!("intakes_pending").set(n as f64);
}

/// Whether reads go to the streaming replica now, and how far behind it is known to be
/// (`crate::replica`).
pub fn record_replica(in_use: bool, staleness: Option<std::time::Duration>) {
    gauge!("read_replica_in_use").set(if in_use { 1.0 } else { 0.0 });
    if let Some(s) = staleness {
        gauge!("read_replica_staleness_seconds").set(s.as_secs_f64());
    }
}

/// Outbox rows neither delivered nor failed.
pub fn record_outbox_backlog(n: u64) {
    gauge!("outbox_backlog").set(n as f64);
}

/// The open dossiers counted by (status, SLA state).
pub fn record_open_dossiers(rows: Vec<(String, String, i64)>) {
    // Zero every combination first so that emptied ones do not keep a stale value.
    for status in crate::domain::lifecycle::Status::ALL
        .iter()
        .filter(|s| s.is_open())
    {
        for sla in [
            SlaState::NotStarted,
            SlaState::OnTrack,
            SlaState::AtRisk,
            SlaState::Overdue,
        ] {
            gauge!("dossiers_open", "status" => status.as_str(), "sla_state" => sla.as_str())
                .set(0.0);
        }
    }
    for (status, sla, n) in rows {
        gauge!("dossiers_open", "status" => status, "sla_state" => sla).set(n as f64);
    }
}
