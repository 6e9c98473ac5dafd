//! The web app: server-rendered pages (askama templates under `templates/`, checked at
//! compile time) with htmx for partial updates, for the staff (the clerks' workbench, the
//! supervisors' dashboard) and the public. Pages call the same services as the API, with
//! the same scopes; they sign browsers in with a session cookie (see [`session`]).
//!
//! Every page is sent with `Content-Security-Policy: default-src 'self'`: no inline script or
//! style, and every asset is embedded in the binary ([`assets`]).

pub mod admin;
pub mod assets;
pub mod auth;
pub mod dashboard;
pub mod files;
pub mod labels;
pub mod portal;
pub mod session;
pub mod staff;
pub mod ui;

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::domain::lang::Lang;
use crate::error::{status_title, ApiError};
use crate::state::AppState;
use ui::Ui;

/// The policy of every page: only this origin, no inline code, no framing.
pub const PAGE_CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// The pages and their assets.
pub fn router(state: AppState) -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/queue", get(staff::queue))
        .route("/intake", get(staff::intake_form).post(staff::intake))
        .route("/cases/{code}", get(staff::case_page))
        .route("/cases/{code}/slip", get(staff::slip))
        .route("/cases/{code}/documents/{id}", get(files::download))
        // Files stream to the store, bounded by `storage.max_file_bytes` as they come.
        .route(
            "/cases/{code}/documents",
            post(files::attach).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/uploads",
            post(files::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/cases/{code}/actions/{action}", post(staff::act))
        .route("/cases/{code}/feedback", post(staff::rate))
        .route("/dashboard", get(dashboard::page_route))
        .route("/dashboard/export/{table}", get(dashboard::export))
        .route("/track", get(auth::track))
        .route(
            "/register",
            get(portal::register_page).post(portal::register),
        )
        .route("/procedures", get(portal::procedures))
        .route("/procedures/{code}", get(portal::procedure))
        .route(
            "/procedures/{code}/file",
            get(portal::file_form).post(portal::file),
        )
        .route("/procedures/{code}/preview", post(portal::file_preview))
        .route("/address/options", get(portal::address_options))
        .route("/me/cases", get(portal::my_cases))
        .route("/admin", get(admin::index))
        .route("/admin/units", get(admin::units))
        .route(
            "/admin/units/{code}",
            get(admin::unit).post(admin::save_unit),
        )
        .route(
            "/admin/overrides",
            get(admin::overrides).post(admin::create_override),
        )
        .route(
            "/admin/overrides/{id}",
            get(admin::override_page).post(admin::save_override),
        )
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/users/{id}", get(admin::user).post(admin::save_user))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/procedures", get(admin::procedures))
        .route(
            "/admin/procedures/{code}",
            get(admin::procedure).post(admin::save_procedure),
        )
        .route(
            "/admin/calendar",
            get(admin::calendar).post(admin::post_calendar),
        )
        .layer(axum::middleware::from_fn_with_state(state, session::guard));
    pages.route("/static/{*path}", get(assets::serve))
}

/// A rendered page, with the page policy.
pub fn page<T: Template>(t: &T) -> Response {
    page_with_status(StatusCode::OK, t)
}

pub fn page_with_status<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            res.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            );
            res
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// What an error page says beyond its status.
#[derive(Debug, Clone)]
pub enum Detail {
    /// A form without its anti-forgery token, or with a stale one.
    Csrf,
    /// The error's own explanation, in the page's language.
    Text(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ui: Ui,
    status: u16,
    title: String,
    message: String,
    signed_in_hint: bool,
}

/// Whether a request is for a page (answered with HTML errors) rather than the API: not
/// under `/api/`, and either one of the web app's paths or a browser asking for HTML.
pub fn is_page_request(path: &str, headers: &HeaderMap) -> bool {
    if path.starts_with("/api/")
        || path.starts_with("/api-docs/")
        || matches!(path, "/metrics" | "/healthz" | "/readyz")
    {
        return false;
    }
    let known = matches!(
        path,
        "/" | "/login"
            | "/logout"
            | "/queue"
            | "/intake"
            | "/dashboard"
            | "/track"
            | "/register"
            | "/procedures"
            | "/me/cases"
            | "/admin"
            | "/uploads"
    ) || [
        "/cases/",
        "/dashboard/",
        "/static/",
        "/procedures/",
        "/admin/",
        "/address/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    known
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// The error page of `status` in the page's look and language.
pub fn error_page(
    headers: &HeaderMap,
    query: Option<&str>,
    status: StatusCode,
    detail: Option<String>,
) -> Response {
    error_page_with(headers, query, status, detail.map(Detail::Text))
}

pub fn error_page_with(
    headers: &HeaderMap,
    query: Option<&str>,
    status: StatusCode,
    detail: Option<Detail>,
) -> Response {
    let lang = session::page_lang(headers, query);
    let ui = Ui {
        lang,
        user: None,
        csrf: String::new(),
        here: "/".into(),
    };
    let title = status_title(status).get(lang).to_string();
    let message = match detail {
        Some(Detail::Csrf) => ui
            .t(
                "Biểu mẫu không hợp lệ hoặc đã cũ (thiếu mã chống giả mạo). Không có gì được thay đổi: hãy tải lại trang và gửi lại.",
                "The form is invalid or stale (its anti-forgery token is missing). Nothing was changed: reload the page and send it again.",
            )
            .to_string(),
        Some(Detail::Text(t)) => t,
        None => match status.as_u16() {
            404 => ui
                .t(
                    "Không có trang này. Hãy kiểm tra lại địa chỉ.",
                    "There is no such page. Check the address.",
                )
                .to_string(),
            403 => ui
                .t(
                    "Bạn không có quyền xem trang này.",
                    "You are not allowed to see this page.",
                )
                .to_string(),
            s if s >= 500 => ui
                .t(
                    "Đã xảy ra lỗi hệ thống; vui lòng thử lại sau.",
                    "Something went wrong on our side; please try again later.",
                )
                .to_string(),
            _ => title.clone(),
        },
    };
    let t = ErrorPage {
        signed_in_hint: status == StatusCode::FORBIDDEN,
        ui,
        status: status.as_u16(),
        title,
        message,
    };
    let mut res = page_with_status(status, &t);
    if session::is_htmx(headers) {
        // htmx swaps the message into the page's alert area instead of the whole page.
        res.headers_mut()
            .insert("hx-retarget", HeaderValue::from_static("#flash"));
        res.headers_mut()
            .insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        res.headers_mut()
            .insert("hx-reselect", HeaderValue::from_static("#error-message"));
    }
    res
}

/// What a refused request says, line by line: the problem's detail, then each field's
/// message, in the page's language (forms show these above themselves).
pub fn problem_lines(e: &ApiError, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    if let ApiError::Problem(p) = e {
        out.push(p.detail.get(lang).to_string());
        for fe in &p.errors {
            out.push(format!("{}: {}", fe.field, fe.message.get(lang)));
        }
    }
    out
}

/// The language of an error page.
pub fn lang_of_page(headers: &HeaderMap, query: Option<&str>) -> Lang {
    session::page_lang(headers, query)
}
