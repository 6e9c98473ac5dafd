//! `/api/v1/users`: account administration (admins only).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::domain::account::{mask_id, mask_phone};
use crate::error::{ApiError, ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::http::Page;
use crate::services::users::{self, Account, CreateUser, ListUsers, UpdateUser};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(update_user))
}

/// An account as shown to its owner or an administrator. Never the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    /// Clerks and unit heads: their unit code.
    pub unit: Option<String>,
    /// Supervisors: their province (none: national); staff: their unit's province.
    pub province: Option<String>,
    pub full_name: String,
    /// Masked in lists.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Always masked: `********1234`.
    pub id_number: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl AccountView {
    /// The owner's view (phone in full, ID number masked).
    pub fn of(a: Account) -> AccountView {
        AccountView {
            id: a.id,
            username: a.username,
            role: a.role,
            unit: a.unit_code,
            province: a.province,
            full_name: a.full_name,
            phone: a.phone,
            email: a.email,
            id_number: a.id_number.as_deref().map(mask_id),
            disabled: a.disabled,
            created_at: a.created_at,
        }
    }

    /// The list view: phone masked too.
    fn listed(a: Account) -> AccountView {
        let phone = a.phone.as_deref().map(mask_phone);
        AccountView {
            phone,
            ..AccountView::of(a)
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    /// citizen, clerk, unit_head, supervisor, admin, province_admin or integrator.
    pub role: String,
    /// Required for clerk and unit_head.
    pub unit: Option<String>,
    /// Optional for supervisor (none: national scope).
    pub province: Option<String>,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub id_number: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    pub role: Option<String>,
    #[param(pattern = r"^[A-Z0-9]+(\.[A-Z0-9]+)*$")]
    pub unit: Option<String>,
    #[param(pattern = r"^(0?[1-9]|[1-9][0-9])$")]
    pub province: Option<String>,
    /// Part of the username.
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// `null` clears `unit` or `province`; an absent field is left as it is.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub role: Option<String>,
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<String>)]
    pub unit: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::double_option")]
    #[schema(value_type = Option<String>)]
    pub province: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub full_name: Option<String>,
}

/// Create an account of any role.
#[utoipa::path(post, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = AccountView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn create_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<AccountView>)> {
    actor.require_admin()?;
    let account = users::create_by(
        &state.auth(),
        actor.account_id,
        CreateUser {
            username: body.username,
            password: body.password,
            role: body.role,
            unit: body.unit,
            province: body.province,
            full_name: body.full_name,
            phone: body.phone,
            email: body.email,
            id_number: body.id_number,
        },
        Utc::now(),
    )
    .await?;
    tracing::info!(account.id = %account.id, admin.id = %actor.account_id, "account created");
    Ok((StatusCode::CREATED, ApiJson(AccountView::of(account))))
}

/// List accounts (personal data masked).
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, body = Page<AccountView>),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListUsersQuery>,
) -> ApiResult<ApiJson<Page<AccountView>>> {
    actor.require_admin()?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let filter = ListUsers {
        role: q.role,
        unit: q.unit,
        province: q.province,
        q: q.q,
    };
    let (rows, total) = users::list(&state.db, &state.data_keys, filter, page, per_page).await?;
    Ok(ApiJson(Page {
        items: rows.into_iter().map(AccountView::listed).collect(),
        page,
        per_page,
        total,
    }))
}

/// Change an account's role, unit, province or name, or disable it.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Account id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = AccountView),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "An administrator may not disable or demote themselves (`cannot_demote_self`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn update_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> ApiResult<ApiJson<AccountView>> {
    actor.require_admin()?;
    let id = Uuid::parse_str(&id).map_err(|_| {
        ApiError::not_found(
            "account_not_found",
            crate::text!("Không có tài khoản này.", "No such account."),
        )
    })?;
    let updated = users::update(
        &state.auth(),
        &actor,
        id,
        UpdateUser {
            role: body.role,
            unit: body.unit,
            province: body.province,
            disabled: body.disabled,
            full_name: body.full_name,
        },
        Utc::now(),
    )
    .await?;
    Ok(ApiJson(AccountView::of(updated)))
}
