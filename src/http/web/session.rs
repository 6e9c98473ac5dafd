//! Browser sessions: the cookies, the signed-in user of a page, and the anti-forgery check
//! every state-changing request passes before it reaches a handler.
//!
//! Cookies (all `HttpOnly`, `SameSite=Lax`, `Path=/`; `Secure` when configured):
//! - `motcua_session`: the session token (see `services::auth::open_web_session`);
//! - `motcua_anon`: a random secret for a browser that is not signed in, so that the sign-in
//!   form has an anti-forgery token too;
//! - `motcua_lang`: `vi` or `en`, as last chosen with `?lang=`.
//!
//! The anti-forgery token of a page is derived from the session cookie when there is one,
//! else from the anonymous one (`security::tokens::csrf_of`); a POST must carry it in the
//! form field `csrf_token` or the `X-CSRF-Token` header (htmx sends it from `hx-headers`).

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Utc;

use super::ui::{Ui, UserBar};
use crate::domain::access::Actor;
use crate::domain::lang::Lang;
use crate::security::tokens;
use crate::services::auth::WebSession;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "motcua_session";
pub const ANON_COOKIE: &str = "motcua_anon";
pub const LANG_COOKIE: &str = "motcua_lang";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Largest form a page posts (the walk-in intake form is the largest).
const FORM_LIMIT: usize = 64 * 1024;

/// A cookie as this app sets them.
pub fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure);
    if let Some(secs) = max_age {
        c = c.max_age(time_secs(secs));
    }
    c.build()
}

fn time_secs(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

pub fn secure_cookies(state: &AppState) -> bool {
    state.settings.web.secure_cookies || state.settings.server.hsts
}

/// The language a page is shown in: `?lang=` when given, else the remembered choice, else
/// Vietnamese.
pub fn page_lang(headers: &HeaderMap, query: Option<&str>) -> Lang {
    if let Some(l) = query.and_then(lang_param) {
        return l;
    }
    match CookieJar::from_headers(headers)
        .get(LANG_COOKIE)
        .map(|c| c.value().to_string())
        .as_deref()
    {
        Some("en") => Lang::En,
        _ => Lang::Vi,
    }
}

fn lang_param(query: &str) -> Option<Lang> {
    url_pairs(query).find_map(|(k, v)| match (k.as_str(), v.as_str()) {
        ("lang", "vi") => Some(Lang::Vi),
        ("lang", "en") => Some(Lang::En),
        _ => None,
    })
}

fn url_pairs(s: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(s)
        .unwrap_or_default()
        .into_iter()
}

/// The secret the page's anti-forgery token comes from: the session cookie, else the
/// anonymous one.
fn csrf_secret(jar: &CookieJar) -> Option<String> {
    jar.get(SESSION_COOKIE)
        .or_else(|| jar.get(ANON_COOKIE))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// Every page request passes here first: the language choice is remembered, an anonymous
/// browser gets its secret, and a POST without the right anti-forgery token is refused
/// (403, nothing changed) before any handler runs.
pub async fn guard(state: axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    let secure = secure_cookies(&state);
    let (mut parts, body) = req.into_parts();
    let jar = CookieJar::from_headers(&parts.headers);
    let chosen = parts.uri.query().and_then(lang_param);
    let mut set: Vec<Cookie<'static>> = Vec::new();
    if jar.get(SESSION_COOKIE).is_none() && jar.get(ANON_COOKIE).is_none() {
        // Seen by this request's handler as if the browser had sent it.
        let anon = tokens::random_token();
        let c = cookie(ANON_COOKIE, anon, secure, None);
        append_request_cookie(&mut parts.headers, &c);
        set.push(c);
    }
    if let Some(lang) = chosen {
        let v = if lang == Lang::En { "en" } else { "vi" };
        set.push(cookie(
            LANG_COOKIE,
            v.to_string(),
            secure,
            Some(365 * 86400),
        ));
    }
    if parts.method != Method::POST {
        let mut res = next.run(Request::from_parts(parts, body)).await;
        add_cookies(&mut res, &set);
        return res;
    }
    // A file form (multipart) streams its body to the store: its token comes in the header
    // (htmx) or the form's action URL, and the body is not read here. Other forms are small
    // and read whole for their `csrf_token` field.
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (body, from_body) = if multipart {
        (body, None)
    } else {
        match axum::body::to_bytes(body, FORM_LIMIT).await {
            Ok(bytes) => {
                let field = url_pairs(std::str::from_utf8(&bytes).unwrap_or(""))
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v);
                (Body::from(bytes), field)
            }
            Err(_) => {
                return super::error_page(
                    &parts.headers,
                    parts.uri.query(),
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                )
            }
        }
    };
    let jar = CookieJar::from_headers(&parts.headers);
    let given = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(from_body)
        .or_else(|| {
            multipart
                .then(|| {
                    url_pairs(parts.uri.query().unwrap_or(""))
                        .find(|(k, _)| k == CSRF_FIELD)
                        .map(|(_, v)| v)
                })
                .flatten()
        });
    let ok = match (csrf_secret(&jar), given) {
        (Some(secret), Some(given)) => tokens::csrf_matches(&secret, &given),
        _ => false,
    };
    if !ok {
        tracing::warn!(http.path = %parts.uri.path(), "form refused: missing or wrong anti-forgery token");
        let mut res = super::error_page_with(
            &parts.headers,
            parts.uri.query(),
            StatusCode::FORBIDDEN,
            Some(super::Detail::Csrf),
        );
        add_cookies(&mut res, &set);
        return res;
    }
    let req = Request::from_parts(parts, body);
    let mut res = next.run(req).await;
    add_cookies(&mut res, &set);
    res
}

fn append_request_cookie(headers: &mut HeaderMap, c: &Cookie<'_>) {
    let pair = format!("{}={}", c.name(), c.value());
    let value = match headers.get(header::COOKIE).and_then(|v| v.to_str().ok()) {
        Some(existing) if !existing.is_empty() => format!("{existing}; {pair}"),
        _ => pair,
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(header::COOKIE, v);
    }
}

pub fn add_cookies(res: &mut Response, cookies: &[Cookie<'static>]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Whether htmx made the request (it wants a fragment, or `HX-Redirect`).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// A page's view of the browser: its language, its anti-forgery token and, when signed in,
/// the session.
pub struct Browser {
    pub ui: Ui,
    pub session: Option<WebSession>,
    /// A session cookie was sent but names no live session (expired, or signed out
    /// elsewhere).
    pub stale_session: bool,
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = page_lang(&parts.headers, parts.uri.query());
        let token = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
        let session = match &token {
            Some(t) if !t.is_empty() => crate::services::auth::web_session(
                &state.auth(),
                &state.settings.web,
                t,
                Utc::now(),
            )
            .await
            .map_err(IntoResponse::into_response)?,
            _ => None,
        };
        if let Some(s) = &session {
            tracing::Span::current()
                .record("account.id", tracing::field::display(s.actor.account_id));
        }
        let here = here_without_lang(parts);
        let ui = Ui {
            lang,
            user: session.as_ref().map(|s| UserBar {
                name: s.full_name.clone(),
                role: s.actor.role,
            }),
            csrf: csrf_secret(&jar)
                .map(|s| tokens::csrf_of(&s))
                .unwrap_or_default(),
            here,
        };
        Ok(Browser {
            ui,
            stale_session: token.is_some() && session.is_none(),
            session,
        })
    }
}

fn here_without_lang(parts: &Parts) -> String {
    let path = parts.uri.path();
    let kept: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| url_pairs(q).filter(|(k, _)| k != "lang").collect())
        .unwrap_or_default();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&kept).unwrap_or_default()
        )
    }
}

/// A page for signed-in users: the browser and its actor. Without a live session the
/// browser is sent to sign in and brought back here afterwards.
pub struct Signed {
    pub ui: Ui,
    pub actor: Actor,
    pub session: WebSession,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let b = Browser::from_request_parts(parts, state).await?;
        match b.session {
            Some(session) => Ok(Signed {
                ui: b.ui,
                actor: session.actor.clone(),
                session,
            }),
            None => {
                let next = match parts.method {
                    Method::GET => parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "/".into()),
                    // A form posted after the session ended: back to the page it came from.
                    _ => referer_path(&parts.headers).unwrap_or_else(|| "/".into()),
                };
                let mut to = format!(
                    "/login?next={}",
                    serde_urlencoded::to_string([("", next.as_str())])
                        .unwrap_or_default()
                        .trim_start_matches('=')
                );
                if b.stale_session {
                    to.push_str("&expired=1");
                }
                let mut res = if is_htmx(&parts.headers) {
                    let mut r = StatusCode::NO_CONTENT.into_response();
                    if let Ok(v) = HeaderValue::from_str(&to) {
                        r.headers_mut().insert("hx-redirect", v);
                    }
                    r
                } else {
                    Redirect::to(&to).into_response()
                };
                if b.stale_session {
                    add_cookies(&mut res, &[expired_session_cookie(secure_cookies(state))]);
                }
                Err(res)
            }
        }
    }
}

/// The `Set-Cookie` that removes the session cookie.
pub fn expired_session_cookie(secure: bool) -> Cookie<'static> {
    cookie(SESSION_COOKIE, String::new(), secure, Some(0))
}

fn referer_path(headers: &HeaderMap) -> Option<String> {
    let r = headers.get(header::REFERER)?.to_str().ok()?;
    let rest = r.split_once("://").map(|(_, rest)| rest).unwrap_or(r);
    let path = &rest[rest.find('/')?..];
    safe_next(path).map(str::to_string)
}

/// A `next` address the sign-in page may send the browser to: a path on this site only.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.starts_with("/login")
        && !next.starts_with("/logout");
    ok.then_some(next)
}
