//! `GET /metrics` in the Prometheus text format (what is recorded: `crate::metrics`). The
//! dossier and outbox gauges are database-wide and read at each scrape.

use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ProblemDocument};
use crate::http::extract::Auth;
use crate::services::{notify, stats};
use crate::state::AppState;

/// Who may scrape: an administrator's access token, or the configured `metrics.token`.
pub struct Scraper;

impl FromRequestParts<AppState> for Scraper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let configured = state.settings.metrics.token.expose_secret();
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compared as digests, so the comparison takes the same time wherever they differ.
        if let (false, Some(given)) = (configured.is_empty(), given) {
            if Sha256::digest(given.as_bytes()) == Sha256::digest(configured.as_bytes()) {
                return Ok(Scraper);
            }
        }
        let Auth(actor) = Auth::from_request_parts(parts, state).await?;
        actor.require_admin()?;
        Ok(Scraper)
    }
}

/// Prometheus metrics of this instance (dossier gauges are database-wide), for
/// administrators and the scraper holding `metrics.token`.
#[utoipa::path(get, path = "/metrics", tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn metrics(_: Scraper, State(state): State<AppState>) -> Response {
    crate::metrics::record_intakes_pending(state.intakes.pending());
    if let Ok(rows) = stats::open_by_status_and_sla(state.read_db()).await {
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
