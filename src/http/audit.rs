//! `/api/v1/audit`: the audit log, for administrators: their reads of personal data and
//! their changes to units, routing overrides, procedures and accounts, each with who and
//! when (and, for a change, the record before and after; of an account only its place and
//! state, never secrets or personal data).

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiResult, ProblemDocument};
use crate::http::extract::{ApiJson, ApiQuery, Auth};
use crate::http::Page;
use crate::services::audit::{self, AuditEntry};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    /// The administrator's account.
    pub account_id: Uuid,
    /// `read_case`, `list_cases`, `unit.create`, `unit.update`, `override.create`,
    /// `override.update`, `procedure.create`, `procedure.edit`, `account.create`,
    /// `account.update`.
    #[schema(example = "unit.update")]
    pub action: String,
    /// What it concerns: a dossier or unit code, `override:{id}`, a procedure code, an
    /// account id, `*`.
    #[schema(example = "01.00004.UBND")]
    pub subject: String,
    /// For a change: `before` and `after`.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(m: AuditEntry) -> Self {
        AuditEntryView {
            id: m.id,
            account_id: m.account_id,
            action: m.action,
            subject: m.subject,
            details: m.details,
            at: m.at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAuditQuery {
    #[validate(length(min = 1, max = 50))]
    #[param(min_length = 1, max_length = 50)]
    pub action: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[param(min_length = 1, max_length = 100)]
    pub subject: Option<String>,
    /// Only this administrator's entries.
    pub account_id: Option<Uuid>,
    /// From this instant (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
    #[validate(range(min = 1, max = 100000))]
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u64>,
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u64>,
}

/// The audit log, newest first (administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "users",
    security(("bearer" = [])),
    params(ListAuditQuery),
    responses(
        (status = 200, body = Page<AuditEntryView>),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_audit(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListAuditQuery>,
) -> ApiResult<ApiJson<Page<AuditEntryView>>> {
    actor.require_admin()?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let filter = audit::Filter {
        action: q.action,
        subject: q.subject,
        account: q.account_id,
        since: q.since,
        until: q.until,
    };
    let (rows, total) = audit::list(&state.db, &filter, page, per_page).await?;
    Ok(ApiJson(Page {
        items: rows.into_iter().map(AuditEntryView::from).collect(),
        page,
        per_page,
        total,
    }))
}
