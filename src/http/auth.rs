//! `/api/v1/auth/*` and `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use validator::Validate;

use crate::error::{ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, Auth, ClientAddr};
use crate::http::users::AccountView;
use crate::services::auth::{self, Registration, TokenPair};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// A citizen's self-registration.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–64 characters: letters, digits, `.`, `_`, `-`, `@`; case-insensitive.
    #[schema(example = "lan.nguyen")]
    pub username: String,
    /// At least 10 characters.
    #[schema(example = "một mật khẩu dài")]
    pub password: String,
    #[schema(example = "Nguyễn Thị Lan")]
    pub full_name: String,
    #[schema(example = "0912345678")]
    pub phone: Option<String>,
    pub email: Option<String>,
    /// 12-digit citizen identity number.
    #[schema(example = "001203004567")]
    pub id_number: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(min_length = 1, max_length = 512)]
    #[validate(length(min = 1, max = 512))]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    #[schema(min_length = 1, max_length = 512)]
    #[validate(length(min = 1, max = 512))]
    pub refresh_token: String,
    /// Also end every other session of the account, access tokens included.
    #[serde(default)]
    pub everywhere: bool,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
}

impl From<TokenPair> for TokenResponse {
    fn from(p: TokenPair) -> Self {
        TokenResponse {
            access_token: p.access_token,
            token_type: "Bearer",
            expires_in: p.expires_in,
            refresh_token: p.refresh_token,
        }
    }
}

/// Register a citizen account.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created", body = AccountView),
        (status = 409, description = "Username taken", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, ApiJson<AccountView>)> {
    let account = auth::register(
        &state.auth(),
        Registration {
            username: body.username,
            password: body.password,
            full_name: body.full_name,
            phone: body.phone,
            email: body.email,
            id_number: body.id_number,
        },
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(AccountView::of(account))))
}

/// Log in. After 5 consecutive failures (per account and per client address) the answer is
/// 429 with `Retry-After`, with growing delays.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Throttled; see Retry-After", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    let pair = auth::login(
        &state.auth(),
        &body.username,
        body.password,
        client.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(ApiJson(pair.into()))
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting a
/// used one revokes its whole family.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused token", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    Ok(ApiJson(
        auth::refresh(&state.auth(), &body.refresh_token, Utc::now())
            .await?
            .into(),
    ))
}

/// Log out: revoke the refresh token's session (or, with `everywhere`, all the caller's
/// sessions, access tokens included). The caller's access token is required, and the
/// refresh token must be the caller's own.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = LogoutRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid access token (`missing_token`, `invalid_token`), or a refresh token that is unknown or not the caller's (`invalid_refresh_token`; nothing is revoked)", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn logout(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<LogoutRequest>,
) -> ApiResult<StatusCode> {
    auth::logout(
        &state.db,
        &state.accounts,
        &actor,
        &body.refresh_token,
        body.everywhere,
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = AccountView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn me(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<ApiJson<AccountView>> {
    Ok(ApiJson(AccountView::of(
        auth::me(&state.db, &state.data_keys, &state.directory, &actor).await?,
    )))
}
