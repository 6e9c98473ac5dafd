//! `/api/v1/admin/open311-keys`: the Open311 facade's API keys (administrators).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, Auth};
use crate::services::open311::{self as svc, KeyView};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// The client system (a city's complaint app, …), 3–100 characters.
    #[validate(length(max = 100))]
    pub name: String,
}

/// Issue an API key for a client system of the Open311 facade; the key is in this answer
/// only (stored as its digest).
#[utoipa::path(post, path = "/api/v1/admin/open311-keys", tag = "users",
    security(("bearer" = [])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, body = KeyView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn create_key(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateKeyRequest>,
) -> ApiResult<(StatusCode, ApiJson<KeyView>)> {
    actor.require_admin()?;
    let key = svc::create_key(
        &state.db,
        &state.data_keys,
        &state.hasher,
        &body.name,
        Some(actor.account_id),
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(key)))
}

/// Every key, revoked ones included (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/admin/open311-keys", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<KeyView>),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_keys(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<ApiJson<Vec<KeyView>>> {
    actor.require_admin()?;
    Ok(ApiJson(svc::list_keys(&state.db).await?))
}

/// Revoke a key: the facade refuses it from now on (403).
#[utoipa::path(post, path = "/api/v1/admin/open311-keys/{id}/revoke", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 200, body = KeyView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn revoke_key(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<KeyView>> {
    actor.require_admin()?;
    let id = Uuid::parse_str(&id).map_err(|_| {
        ApiError::not_found(
            "open311_key_not_found",
            crate::text!("Không có khoá này.", "No such key."),
        )
    })?;
    Ok(ApiJson(
        svc::revoke_key(&state.db, Some(actor.account_id), id, Utc::now()).await?,
    ))
}
