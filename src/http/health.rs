//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::db;
use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or what is wrong.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<&'static str>,
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
async fn healthz() -> ApiJson<Health> {
    ApiJson(Health {
        status: "ok",
        database: None,
        migrations: None,
    })
}

/// The database answers and every migration is applied; 503 (a problem document with
/// `database` and `migrations` members) otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health),
        (status = 503, body = ProblemDocument, content_type = "application/problem+json")))]
async fn readyz(State(state): State<AppState>) -> ApiResult<ApiJson<Health>> {
    let not_ready = |database: &str, migrations: &str| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            text!("Dịch vụ chưa sẵn sàng.", "The service is not ready."),
        )
        .with_extra("database", database.into())
        .with_extra("migrations", migrations.into())
    };
    if !db::ping(&state.db).await {
        return Err(not_ready("unreachable", "unknown"));
    }
    match db::migrations_current(&state.db).await {
        Ok(true) => Ok(ApiJson(Health {
            status: "ok",
            database: Some("ok"),
            migrations: Some("current"),
        })),
        _ => Err(not_ready("ok", "pending")),
    }
}
