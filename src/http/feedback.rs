//! `/api/v1/cases/{code}/feedback`: the applicant rates the service after the result.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::app::AppState;
use crate::error::{ApiResult, ProblemDocument};
use crate::http::cases::local;
use crate::http::extract::{ApiJson, ApiPath, Auth};
use crate::services::feedback::{self as svc, Feedback};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rate, get_feedback))
}

/// A rating of the service (Decision 766/QĐ-TTg, satisfaction group).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    /// At most 2000 characters.
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// A dossier's rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub rating: u8,
    pub comment: Option<String>,
    /// The unit it counts for: the one that handled the dossier.
    pub unit: String,
    pub rated_at: DateTime<FixedOffset>,
}

impl FeedbackView {
    fn of(f: Feedback) -> FeedbackView {
        FeedbackView {
            rating: f.rating,
            comment: f.comment,
            unit: f.unit,
            rated_at: local(f.at),
        }
    }
}

/// Rate the service, once, after the result was returned (the applicant only).
#[utoipa::path(post, path = "/api/v1/cases/{code}/feedback", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    request_body = FeedbackBody,
    responses(
        (status = 201, body = FeedbackView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Not the applicant", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "already_rated, or result_not_returned", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "rating outside 1–5, comment too long", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn rate(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> ApiResult<(StatusCode, ApiJson<FeedbackView>)> {
    let f = svc::rate(&state.dossiers(), &actor, &code, body.rating, body.comment).await?;
    Ok((StatusCode::CREATED, ApiJson(FeedbackView::of(f))))
}

/// A dossier's rating, for its applicant and the officers in scope.
#[utoipa::path(get, path = "/api/v1/cases/{code}/feedback", tag = "cases",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code", pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*-[0-9]{6}-[0-9]{4,6}$", max_length = 60)),
    responses(
        (status = 200, body = FeedbackView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "case_not_found, or feedback_not_found", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_feedback(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<ApiJson<FeedbackView>> {
    Ok(ApiJson(FeedbackView::of(
        svc::get(&state.dossiers(), &actor, &code).await?,
    )))
}
