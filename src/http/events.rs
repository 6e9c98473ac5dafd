//! `/api/v1/events`: the event feed for integrators, and `/api/v1/admin/webhooks`, the
//! subscriptions that push it (administrators).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::services::feed::{self, DeliveryView, FeedPage, NewWebhook, WebhookChange, WebhookView};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(show_webhook, update_webhook))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Read after this position: `0` from the start, then the `next_cursor` you were given.
    #[validate(length(min = 1, max = 41))]
    #[param(min_length = 1, max_length = 41, pattern = r"^[0-9]+(-[0-9]+)?$")]
    pub after: String,
    #[validate(range(min = 1, max = 1000))]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// Dossier events in commit order after a cursor (administrators and integrators; an
/// integrator of a province gets its province's). A consumer keeps `next_cursor` and reads
/// on from it; an event is handed out only once nothing can commit before it, so no event
/// is skipped and none repeated. Events carry no personal data.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    security(("bearer" = [])),
    params(EventsQuery),
    responses(
        (status = 200, body = FeedPage),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_cursor`", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn events(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<ApiJson<FeedPage>> {
    let province = actor.feed_scope()?;
    let after = feed::parse_cursor(&q.after)?;
    let page = feed::read(
        &state.db,
        province.as_deref(),
        after,
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(ApiJson(page))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// The integrator's account (role `integrator`); its province bounds what is sent.
    pub integrator_id: Uuid,
    /// Where events are posted (http or https).
    #[validate(length(min = 1, max = 2000))]
    pub url: String,
    /// Event types (`receive`, `sla_overdue` …) or `["*"]`; empty: all.
    #[serde(default)]
    #[validate(length(max = 64))]
    pub topics: Vec<String>,
    /// The HMAC-SHA256 key (16–256 characters); absent: one is made and returned once.
    #[validate(length(max = 256))]
    pub secret: Option<String>,
    /// Start after this feed position (`0`: from the start); absent: from now on.
    #[validate(length(min = 1, max = 41))]
    pub after: Option<String>,
}

/// A subscription with its delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDetail {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The latest 50 delivery attempts, newest first.
    pub deliveries: Vec<DeliveryView>,
}

/// Subscribe an integrator to the event feed by webhook (administrators). Each delivery is
/// a POST of up to 100 events with `X-Motcua-Signature: sha256=<HMAC-SHA256 of
/// "{X-Motcua-Timestamp}.{body}">` under the subscription's own key, in feed order; a
/// failed delivery is retried with back-off and the same events, identified by
/// `X-Motcua-Delivery`.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "events",
    security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Made; `secret` is shown this once", body = WebhookView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn create_webhook(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, ApiJson<WebhookView>)> {
    actor.require_admin()?;
    let view = feed::create(
        &state.db,
        &state.data_keys,
        actor.account_id,
        NewWebhook {
            integrator_id: body.integrator_id,
            url: body.url,
            topics: body.topics,
            secret: body.secret,
            after: body.after,
        },
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(view)))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooksQuery {
    /// One integrator's subscriptions.
    pub integrator_id: Option<Uuid>,
}

/// Every subscription (administrators).
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "events",
    security(("bearer" = [])),
    params(ListWebhooksQuery),
    responses(
        (status = 200, body = Vec<WebhookView>),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_webhooks(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListWebhooksQuery>,
) -> ApiResult<ApiJson<Vec<WebhookView>>> {
    actor.require_admin()?;
    Ok(ApiJson(feed::list(&state.db, q.integrator_id).await?))
}

fn webhook_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::not_found(
            "webhook_not_found",
            crate::text!(
                "Không có đăng ký webhook này.",
                "No such webhook subscription."
            ),
        )
    })
}

/// A subscription and its delivery log (administrators).
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}", tag = "events",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, body = WebhookDetail),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn show_webhook(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<WebhookDetail>> {
    actor.require_admin()?;
    let (webhook, deliveries) = feed::show(&state.db, webhook_id(&id)?, 50).await?;
    Ok(ApiJson(WebhookDetail {
        webhook,
        deliveries,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[validate(length(min = 1, max = 2000))]
    pub url: Option<String>,
    #[validate(length(max = 64))]
    pub topics: Option<Vec<String>>,
    /// Off: nothing is delivered (the position is kept); on again: delivery resumes from it.
    pub active: Option<bool>,
    /// Make a new key, returned once in the answer.
    #[serde(default)]
    pub rotate_secret: bool,
}

/// Change a subscription's URL or topics, turn it off or on, or rotate its key (administrators).
#[utoipa::path(patch, path = "/api/v1/admin/webhooks/{id}", tag = "events",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Subscription id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, body = WebhookView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn update_webhook(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<ApiJson<WebhookView>> {
    actor.require_admin()?;
    let view = feed::update(
        &state.db,
        &state.data_keys,
        actor.account_id,
        webhook_id(&id)?,
        WebhookChange {
            url: body.url,
            topics: body.topics,
            active: body.active,
            rotate_secret: body.rotate_secret,
        },
        Utc::now(),
    )
    .await?;
    Ok(ApiJson(view))
}
