//! The HTTP layer: routes, extractors, middleware, the OpenAPI document. Handlers parse and
//! authorize, call a service, and shape the answer; they hold no SQL and no business rules.

pub mod address;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod documents;
pub mod events;
pub mod extract;
pub mod feedback;
pub mod geography;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod open311;
pub mod open311_keys;
pub mod openapi;
pub mod procedures;
pub mod province_lists;
pub mod routing;
pub mod stats;
pub mod units;
pub mod users;
pub mod web;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::Router;
use serde::{Deserialize, Deserializer, Serialize};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Every resource's routes, with their OpenAPI description.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::base())
        .merge(health::router())
        .routes(utoipa_axum::routes!(metrics::metrics))
        .merge(auth::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(geography::router())
        .merge(units::router())
        .merge(procedures::router())
        .merge(routing::router())
        .merge(province_lists::router())
        .merge(cases::router())
        .merge(documents::router())
        .merge(feedback::router())
        .merge(calendar::router())
        .merge(stats::router())
        .merge(events::router())
        .merge(open311_keys::router())
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete application: routes, the OpenAPI document and UI, and the middleware stack.
pub fn router(state: AppState) -> Router {
    crate::metrics::handle();
    let (routes, openapi) = api().split_for_parts();
    let openapi = openapi::finish(openapi);
    let settings = &state.settings.server;

    let cors = cors_layer(&settings.cors_allowed_origins);
    let hsts = settings.hsts;
    let limits = (
        Duration::from_secs(settings.request_timeout_secs),
        Duration::from_secs(state.settings.storage.upload_timeout_secs),
    );
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "unmatched".to_string());
            let request_id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string();
            tracing::info_span!(
                "http.request",
                http.method = %req.method(),
                http.route = %route,
                http.status = tracing::field::Empty,
                http.latency_ms = tracing::field::Empty,
                request.id = %request_id,
                account.id = tracing::field::Empty,
            )
        })
        .on_request(())
        .on_response(finished)
        .on_failure(());

    routes
        .merge(openapi::docs_router(openapi))
        .merge(web::router(state.clone()))
        .merge(open311::router())
        .fallback(middleware::not_found)
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(axum::middleware::from_fn(move |req, next| {
                    middleware::security_headers(hsts, req, next)
                }))
                // Outside `problem_details`, which replaces error bodies: compression applies
                // to the body that is finally sent, never to one that is replaced after.
                // Files (`Accept-Ranges`) are sent as stored: ranges and lengths stay true.
                .layer(
                    CompressionLayer::new().compress_when(DefaultPredicate::new().and(
                        |_: axum::http::StatusCode,
                         _: axum::http::Version,
                         h: &axum::http::HeaderMap,
                         _: &axum::http::Extensions| {
                            !h.contains_key(axum::http::header::ACCEPT_RANGES)
                        },
                    )),
                )
                .layer(axum::middleware::from_fn(middleware::track))
                .layer(axum::middleware::from_fn(middleware::problem_details))
                .layer(CatchPanicLayer::new())
                .layer(axum::middleware::from_fn(move |req, next| {
                    middleware::time_limit(limits, req, next)
                }))
                .layer(cors),
        )
}

/// Records a finished request on its span (whatever the body type the layers below made).
fn finished<B>(res: &axum::http::Response<B>, latency: Duration, span: &Span) {
    span.record("http.status", res.status().as_u16());
    span.record("http.latency_ms", latency.as_millis() as u64);
    tracing::info!("request finished");
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .expose_headers([REQUEST_ID.clone()])
        .max_age(Duration::from_secs(3600));
    if origins.iter().any(|o| o == "*") {
        base.allow_origin(Any)
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        base.allow_origin(AllowOrigin::list(list))
    }
}
