//! Cross-cutting HTTP behaviour: problem documents in the caller's language, turning bare
//! error statuses from axum or tower layers into problem documents, and request metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::lang::Lang;
use crate::error::Problem;

/// The language asked for by `Accept-Language` (Vietnamese by default).
pub fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

/// The request id set by the request-id layer.
pub fn request_id_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Render every error response as problem+json in the caller's language, with the request id.
/// A browser's page request gets an HTML error page in the same look instead (see
/// [`super::web::is_page_request`]), saying what the problem document would have said.
/// The whole-request time limit: `server.request_timeout_secs`, or for a request that sends
/// files (a multipart body, which takes as long as the client's link needs)
/// `storage.upload_timeout_secs`. A request past its limit is cancelled with 408
/// (`request_timeout`); the upload it was writing is discarded with it.
pub async fn time_limit(
    limits: (std::time::Duration, std::time::Duration),
    req: Request,
    next: Next,
) -> Response {
    let sends_files = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..19)
                .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
        });
    let limit = if sends_files { limits.1 } else { limits.0 };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

pub async fn problem_details(req: Request, next: Next) -> Response {
    let lang = lang_of(req.headers());
    let request_id = request_id_of(req.headers());
    let page = super::web::is_page_request(req.uri().path(), req.headers())
        .then(|| (req.headers().clone(), req.uri().query().map(str::to_string)));
    let open311 =
        super::open311::is_open311(req.uri().path()).then(|| !req.uri().path().ends_with(".xml"));
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // The Open311 facade answers errors in its spec's format, whoever produced them.
    if let Some(json) = open311 {
        if response
            .extensions()
            .get::<super::open311::Written>()
            .is_some()
        {
            return response;
        }
        let e = crate::services::open311::Open311Error::new(
            status.as_u16(),
            status.canonical_reason().unwrap_or("error"),
        );
        return super::open311::error(json, &e);
    }
    if let Some((headers, query)) = page {
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if is_html {
            return response;
        }
        let page_lang = super::web::lang_of_page(&headers, query.as_deref());
        let detail = response
            .extensions()
            .get::<Problem>()
            .filter(|p| p.status.is_client_error())
            .map(|p| p.detail.get(page_lang).to_string());
        let mut rendered = super::web::error_page(&headers, query.as_deref(), status, detail);
        for name in [header::RETRY_AFTER, header::ALLOW] {
            if let Some(v) = response.headers().get(&name) {
                rendered.headers_mut().insert(name, v.clone());
            }
        }
        return rendered;
    }
    if let Some(problem) = response.extensions().get::<Problem>().cloned() {
        let mut rendered = problem.render(lang, request_id.as_deref());
        // Keep headers a handler set (e.g. `Allow`, `WWW-Authenticate`), but none that
        // describes the body being replaced (its type, length, language or encoding).
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE
                && name != header::CONTENT_LENGTH
                && name != header::CONTENT_LANGUAGE
                && name != header::CONTENT_ENCODING
                && !rendered.headers().contains_key(name)
            {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return rendered;
    }
    // A status produced by axum itself (unknown route, wrong method) or by a layer
    // (timeout, body limit, panic): give it a problem document too.
    if status.is_server_error() {
        tracing::error!(
            http.status = status.as_u16(),
            "error response produced outside a handler"
        );
    }
    let mut rendered = Problem::for_status(status).render(lang, request_id.as_deref());
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rendered.headers_mut().insert(header::ALLOW, allow.clone());
    }
    rendered
}

/// The fallback for unknown routes.
pub async fn not_found() -> Response {
    Problem::for_status(StatusCode::NOT_FOUND)
        .render(Lang::Vi, None)
        .into_response()
}

/// Count and time every request by its matched route.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Headers every response carries (OWASP's secure headers): no MIME sniffing, no referrer
/// sent on, no framing, no caching unless a handler says otherwise (tokens and personal data
/// must not stay in caches), and HSTS where the service is reached over TLS. JSON answers
/// load nothing, so they also get a CSP that allows nothing; `/docs` keeps its own page.
pub async fn security_headers(hsts: bool, req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !docs && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}
