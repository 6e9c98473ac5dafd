//! The one error type of the HTTP API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every error carries a stable snake_case `code` that clients can rely on, and its human text
//! in Vietnamese and English; [`crate::http::middleware::problem_details`] picks the language
//! from `Accept-Language` and adds the request id. Internal failures are logged (inside the
//! request's span, so with its id) and answered with a generic 500.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sea_orm::DbErr;
use serde::Serialize;

use crate::domain::account::Invalid;
use crate::domain::lang::Lang;

/// A sentence in both languages of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub vi: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Text {
    pub fn new(vi: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Text {
            vi: vi.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// `text!("tiếng Việt", "English")`, either side may use `format!` arguments.
#[macro_export]
macro_rules! text {
    ($vi:expr, $en:expr $(,)?) => {
        $crate::error::Text::new($vi, $en)
    };
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: Cow<'static, str>,
    pub message: Text,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<Cow<'static, str>>,
        message: Text,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message,
        }
    }
}

/// A client-facing error. Construct it with the helpers (`ApiError::not_found(...)`, ...).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A problem the client can fix or must know about (4xx, or 503).
    #[error("{} {}", .0.status, .0.code)]
    Problem(Box<Problem>),
    /// Anything else: logged, answered with a generic 500.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

/// The content of a problem response before it is rendered in a language.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub detail: Text,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    /// Extra members placed beside the standard ones (e.g. `current_version`).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        ApiError::Problem(Box::new(Problem {
            status,
            code: code.into(),
            detail,
            errors: Vec::new(),
            retry_after_secs: None,
            extra: serde_json::Map::new(),
        }))
    }

    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 403 with a code of its own, for a refusal a client tells apart from `forbidden`.
    pub fn forbidden_as(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn forbidden(detail: Text) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn precondition_required(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::PRECONDITION_REQUIRED, code, detail)
    }

    pub fn unprocessable(code: impl Into<Cow<'static, str>>, detail: Text) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// 422 with the list of invalid fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            text!(
                "Dữ liệu gửi lên không hợp lệ; xem danh sách lỗi.",
                "The request has invalid fields; see the list of errors."
            ),
        );
        if let ApiError::Problem(p) = &mut e {
            p.errors = errors;
        }
        e
    }

    /// 422 for one invalid field.
    pub fn invalid_field(field: &str, code: &'static str, message: Text) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            text!(
                format!(
                    "Quá nhiều lần thử không thành công; hãy thử lại sau {retry_after_secs} giây."
                ),
                format!("Too many failed attempts; try again in {retry_after_secs} seconds."),
            ),
        );
        if let ApiError::Problem(p) = &mut e {
            p.retry_after_secs = Some(retry_after_secs);
        }
        e
    }

    /// Attach an extra member to the problem document.
    pub fn with_extra(mut self, key: &str, value: serde_json::Value) -> Self {
        if let ApiError::Problem(p) = &mut self {
            p.extra.insert(key.to_string(), value);
        }
        self
    }

    pub fn internal<E: std::error::Error + Send + Sync + 'static>(e: E) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// The stable code (for logs and tests).
    pub fn code(&self) -> &str {
        match self {
            ApiError::Problem(p) => &p.code,
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Problem(p) => p.status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(e: sea_orm::TransactionError<ApiError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

/// The title shown for a status, in both languages.
pub fn status_title(status: StatusCode) -> Text {
    match status.as_u16() {
        400 => text!("Yêu cầu không hợp lệ", "Bad request"),
        401 => text!("Chưa xác thực", "Unauthorized"),
        403 => text!("Không có quyền", "Forbidden"),
        404 => text!("Không tìm thấy", "Not found"),
        405 => text!("Phương thức không được hỗ trợ", "Method not allowed"),
        408 => text!("Hết thời gian xử lý yêu cầu", "Request timeout"),
        409 => text!("Xung đột", "Conflict"),
        412 => text!("Điều kiện không thỏa mãn", "Precondition failed"),
        413 => text!("Nội dung quá lớn", "Content too large"),
        415 => text!("Kiểu nội dung không được hỗ trợ", "Unsupported media type"),
        422 => text!("Dữ liệu không hợp lệ", "Unprocessable content"),
        428 => text!("Thiếu điều kiện bắt buộc", "Precondition required"),
        429 => text!("Quá nhiều yêu cầu", "Too many requests"),
        503 => text!("Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
        _ if status.is_server_error() => text!("Lỗi hệ thống", "Internal server error"),
        _ => text!("Lỗi", "Error"),
    }
}

/// The wire form of a problem (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDocument {
    /// A URI naming the kind of problem: `urn:motcua:problem:{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable snake_case code.
    pub code: String,
    /// The request id, for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorDocument>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One invalid field in a problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldErrorDocument {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl Problem {
    /// Render in a language, with the request id as `instance`.
    pub fn render(&self, lang: Lang, request_id: Option<&str>) -> Response {
        let doc = ProblemDocument {
            type_: format!("urn:motcua:problem:{}", self.code),
            title: status_title(self.status).get(lang).to_string(),
            status: self.status.as_u16(),
            detail: self.detail.get(lang).to_string(),
            code: self.code.to_string(),
            instance: request_id.map(|id| format!("urn:motcua:request:{id}")),
            errors: self
                .errors
                .iter()
                .map(|e| FieldErrorDocument {
                    field: e.field.clone(),
                    code: e.code.to_string(),
                    message: e.message.get(lang).to_string(),
                })
                .collect(),
            extra: self.extra.clone(),
        };
        let body = serde_json::to_vec(&doc).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if lang == Lang::En {
            headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
        } else {
            headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("vi"));
        }
        response.extensions_mut().insert(self.clone());
        response
    }

    /// The problem for a bare error status produced outside our handlers (axum or a layer).
    pub fn for_status(status: StatusCode) -> Problem {
        let (code, detail) = match status.as_u16() {
            404 => (
                "route_not_found",
                text!(
                    "Không có tài nguyên nào ở địa chỉ này.",
                    "There is no resource at this address."
                ),
            ),
            405 => (
                "method_not_allowed",
                text!(
                    "Địa chỉ này không hỗ trợ phương thức HTTP đã dùng.",
                    "This address does not support the HTTP method used."
                ),
            ),
            408 => (
                "request_timeout",
                text!(
                    "Yêu cầu xử lý quá lâu và đã bị hủy.",
                    "The request took too long and was cancelled."
                ),
            ),
            413 => (
                "payload_too_large",
                text!(
                    "Nội dung gửi lên vượt quá giới hạn cho phép.",
                    "The request body is larger than allowed."
                ),
            ),
            415 => (
                "unsupported_media_type",
                text!(
                    "Kiểu nội dung không được hỗ trợ.",
                    "The content type is not supported."
                ),
            ),
            s if s >= 500 => (
                "internal_error",
                text!(
                    "Đã xảy ra lỗi hệ thống; vui lòng thử lại sau.",
                    "An internal error occurred; please try again later."
                ),
            ),
            _ => ("http_error", status_title(status)),
        };
        Problem {
            status,
            code: code.into(),
            detail,
            errors: Vec::new(),
            retry_after_secs: None,
            extra: serde_json::Map::new(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Problem(p) => p.render(Lang::Vi, None),
            ApiError::Internal(e) => {
                // Inside the request span, so the log line carries the request id.
                tracing::error!(error = %e, "internal error");
                Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR).render(Lang::Vi, None)
            }
        }
    }
}

impl From<crate::domain::access::Denied> for ApiError {
    fn from(d: crate::domain::access::Denied) -> Self {
        let detail = match d.reason {
            "admin_only" => text!(
                "Chỉ quản trị viên được làm việc này.",
                "Only administrators may do this."
            ),
            "staff_only" => text!("Chỉ cán bộ được làm việc này.", "Only staff may do this."),
            "no_unit" => text!(
                "Tài khoản cán bộ chưa được gán đơn vị.",
                "This staff account has no unit."
            ),
            "not_unit_staff" => text!(
                "Bạn không thuộc đơn vị này.",
                "You are not staff of this unit."
            ),
            "not_unit_head" => text!(
                "Chỉ lãnh đạo đơn vị được làm việc này.",
                "Only the unit head may do this."
            ),
            "outside_province" => text!(
                "Việc này nằm ngoài phạm vi tỉnh của bạn.",
                "This is outside your province."
            ),
            "not_coordinator" => text!(
                "Bạn không điều phối hồ sơ của tỉnh này.",
                "You do not coordinate this province's dossiers."
            ),
            "supervisors_only" => text!(
                "Chỉ giám sát viên và lãnh đạo đơn vị được xem thống kê.",
                "Only supervisors and unit heads may read statistics."
            ),
            _ => text!(
                "Bạn không có quyền làm việc này.",
                "You are not allowed to do this."
            ),
        };
        ApiError::forbidden(detail)
    }
}

/// Collects field errors so that a request reports all of them at once: how every request
/// body is parsed into domain types (each value's `parse` gives an [`Invalid`] or a
/// [`FieldError`] with its field path), whatever the resource.
#[derive(Default)]
pub struct Checks(Vec<FieldError>);

impl Checks {
    pub fn take<T>(&mut self, r: Result<T, Invalid>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e.into());
                None
            }
        }
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// Record `e` unless its field already has an error (the first found stands).
    pub fn push_first(&mut self, e: FieldError) {
        if self.0.iter().all(|have| have.field != e.field) {
            self.0.push(e);
        }
    }

    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}
