//! Signing in and out, the home page, and public tracking.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;

use super::session::{self, Browser, SESSION_COOKIE};
use super::ui::{self, Ui};
use super::{labels, page, page_with_status};
use crate::domain::account::Role;
use crate::error::ApiError;
use crate::http::extract::ClientAddr;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    ui: Ui,
}

/// `/`: staff go to their workbench or dashboard; anyone else gets the start page (sign in,
/// track a dossier).
pub async fn home(b: Browser) -> Response {
    match b.session.as_ref().map(|s| s.actor.role) {
        Some(Role::Clerk | Role::UnitHead) => Redirect::to("/queue").into_response(),
        Some(Role::Supervisor) => Redirect::to("/dashboard").into_response(),
        Some(Role::Admin) => Redirect::to("/admin").into_response(),
        _ => page(&Home { ui: b.ui }),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    ui: Ui,
    next: String,
    username: String,
    error: Option<String>,
    expired: bool,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

pub async fn login_page(b: Browser, Query(q): Query<LoginQuery>) -> Response {
    let next = q
        .next
        .as_deref()
        .and_then(session::safe_next)
        .unwrap_or("/")
        .to_string();
    page(&Login {
        ui: b.ui,
        next,
        username: String::new(),
        error: None,
        expired: q.expired.is_some(),
    })
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /login`: the API's credentials check and throttling; a session cookie and back to
/// where the user was going, or the form again with a readable message.
pub async fn login(
    State(state): State<AppState>,
    b: Browser,
    ClientAddr(client): ClientAddr,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = f
        .next
        .as_deref()
        .and_then(session::safe_next)
        .unwrap_or("/")
        .to_string();
    let result = crate::services::auth::open_web_session(
        &state.auth(),
        &state.settings.web,
        &f.username,
        f.password,
        client.as_deref(),
        Utc::now(),
    )
    .await;
    match result {
        Ok(token) => {
            let mut res = Redirect::to(&next).into_response();
            session::add_cookies(
                &mut res,
                &[session::cookie(
                    SESSION_COOKIE,
                    token,
                    session::secure_cookies(&state),
                    None,
                )],
            );
            res
        }
        Err(e) => {
            let status = e.status();
            if status.is_server_error() {
                return e.into_response();
            }
            let retry = match &e {
                ApiError::Problem(p) => p.retry_after_secs,
                _ => None,
            };
            let message = match (status, retry) {
                (StatusCode::TOO_MANY_REQUESTS, Some(secs)) => match b.ui.lang {
                    crate::domain::lang::Lang::Vi => format!(
                        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {}.",
                        wait_text(secs, &b.ui)
                    ),
                    crate::domain::lang::Lang::En => format!(
                        "Too many failed sign-ins. Please try again in {}.",
                        wait_text(secs, &b.ui)
                    ),
                },
                _ => match e.code() {
                    "account_disabled" => {
                        b.ui.t("Tài khoản đã bị khóa.", "This account is disabled.")
                            .to_string()
                    }
                    _ => {
                        b.ui.t(
                            "Tên đăng nhập hoặc mật khẩu không đúng.",
                            "Wrong username or password.",
                        )
                        .to_string()
                    }
                },
            };
            let mut res = page_with_status(
                status,
                &Login {
                    ui: b.ui,
                    next,
                    username: f.username,
                    error: Some(message),
                    expired: false,
                },
            );
            if let Some(secs) = retry {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            res
        }
    }
}

fn wait_text(secs: u64, ui: &Ui) -> String {
    if secs < 120 {
        format!("{secs} {}", ui.t("giây", "seconds"))
    } else {
        format!("{} {}", secs.div_ceil(60), ui.t("phút", "minutes"))
    }
}

/// `POST /logout`: the session is forgotten and its cookie removed.
pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Response {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        if let Err(e) = crate::services::auth::close_web_session(&state.auth(), c.value()).await {
            return e.into_response();
        }
    }
    let mut res = Redirect::to("/login").into_response();
    session::add_cookies(
        &mut res,
        &[session::expired_session_cookie(session::secure_cookies(
            &state,
        ))],
    );
    res
}

#[derive(Template)]
#[template(path = "track.html")]
struct Track {
    ui: Ui,
    code: String,
    id_last4: String,
    found: Option<Tracked>,
    error: Option<String>,
}

struct Tracked {
    code: String,
    status: String,
    national_status: u8,
    appointment: String,
    result_ready: bool,
}

#[derive(Debug, Deserialize)]
pub struct TrackQuery {
    code: Option<String>,
    id_last4: Option<String>,
}

/// `/track?code=&id_last4=`: public tracking, with the API's throttling.
pub async fn track(
    State(state): State<AppState>,
    b: Browser,
    ClientAddr(client): ClientAddr,
    Query(q): Query<TrackQuery>,
) -> Response {
    let code = q.code.unwrap_or_default().trim().to_string();
    let id_last4 = q.id_last4.unwrap_or_default().trim().to_string();
    let mut t = Track {
        ui: b.ui,
        code: code.clone(),
        id_last4: id_last4.clone(),
        found: None,
        error: None,
    };
    if code.is_empty() && id_last4.is_empty() {
        return page(&t);
    }
    match crate::services::cases::track(&state.dossiers(), &code, &id_last4, client.as_deref())
        .await
    {
        Ok(d) => {
            t.found = Some(Tracked {
                code: d.code_str().to_string(),
                status: labels::status(d.status, t.ui.lang).to_string(),
                national_status: d.national_status(),
                appointment: ui::opt_date_time(d.appointment_at),
                result_ready: d.result_ready(),
            });
            page(&t)
        }
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            t.error = Some(match &e {
                ApiError::Problem(p) => p.detail.get(t.ui.lang).to_string(),
                _ => String::new(),
            });
            page_with_status(status, &t)
        }
        Err(e) => e.into_response(),
    }
}
