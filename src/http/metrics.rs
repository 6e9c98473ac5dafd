//! `GET /metrics` in the Prometheus text format (what is recorded: `crate::metrics`). The
//! dossier and outbox gauges are database-wide and read at each scrape.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::services::{notify, stats};
use crate::state::AppState;

/// Prometheus metrics of this instance (dossier gauges are database-wide).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    crate::metrics::record_intakes_pending(state.intakes.pending());
    if let Ok(rows) = stats::open_by_status_and_sla(&state.db).await {
        crate::metrics::record_open_dossiers(rows);
    }
    if let Ok(n) = notify::backlog(&state.db).await {
        crate::metrics::record_outbox_backlog(n);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}
