//! The OpenAPI 3.1 document, generated from the handlers' annotations, and its UI.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, Ref, RefOr};
use utoipa::OpenApi;

use crate::domain::lifecycle::Action;
use crate::error::{FieldErrorDocument, ProblemDocument};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua",
        description = "One-stop-shop dossier routing for Vietnam's two-tier local government. \
            Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`; \
            messages are in Vietnamese, or English with `Accept-Language: en`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ProblemDocument, FieldErrorDocument, Action)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Registration, login and tokens"),
        (name = "users", description = "Account administration"),
        (name = "geography", description = "Provinces and wards of 2025, pre-2025 wards, address resolution"),
        (name = "units", description = "Units (agencies)"),
        (name = "procedures", description = "The versioned procedure catalog"),
        (name = "routing", description = "Which unit handles a dossier; routing overrides"),
        (name = "cases", description = "Dossiers: intake, actions, events, queues, tracking"),
        (name = "calendar", description = "The civil-service working calendar and deadlines"),
        (name = "stats", description = "Backlogs, indicators, bottlenecks"),
        (name = "events", description = "The event feed for integrators and its webhook subscriptions"),
    )
)]
struct ApiDoc;

/// The hand-written part of the document; paths are added by the routers.
pub fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

/// Add the bearer security scheme, and the error answers that every operation of a kind can
/// give whatever its handler does (so that the document lists every status a client meets).
pub fn finish(mut doc: OpenApiDoc) -> OpenApiDoc {
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_common_errors(path, op);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    doc
}

/// The statuses the middleware and extractors give an operation of this shape.
fn add_common_errors(path: &str, op: &mut Operation) {
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"));
    let multipart_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("multipart/form-data"));
    let secured = op
        .security
        .as_ref()
        .is_some_and(|s| s.iter().any(|r| r != &SecurityRequirement::default()));
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let path_params = path.contains('{');
    let mut add = |status: &str, what: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem(what)));
    };
    if json_body {
        add(
            "400",
            "The body is not JSON (`malformed_json`) or not of the expected shape",
        );
        add(
            "413",
            "The body is larger than `server.body_limit_bytes` (`payload_too_large`)",
        );
        add(
            "415",
            "The body is not `application/json` (`unsupported_media_type`)",
        );
        add(
            "422",
            "A field is invalid (`validation_failed`, with the fields)",
        );
    }
    if multipart_body {
        add(
            "400",
            "The multipart body cannot be read (`invalid_multipart`, `upload_incomplete`)",
        );
        add(
            "413",
            "The file is larger than `storage.max_file_bytes` (`file_too_large`)",
        );
        add(
            "415",
            "Not multipart/form-data (`multipart_required`) or not an accepted file type",
        );
        add(
            "422",
            "A field is invalid (`validation_failed`, with the fields)",
        );
    }
    if path_params {
        add("400", "A path parameter cannot be read (`invalid_path`)");
    }
    if has_params {
        add(
            "422",
            "A parameter is invalid (`validation_failed`, with the fields)",
        );
    }
    if secured {
        add(
            "401",
            "No valid access token (`missing_token`, `invalid_token`)",
        );
        add(
            "403",
            "The caller's role or scope does not allow it (`forbidden`)",
        );
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ProblemDocument")))
                .build(),
        )
        .build()
}

/// `GET /api-docs/openapi.json` and the interactive UI at `/docs`, whose script is vendored
/// and embedded (`static/vendor/scalar-standalone.js`): the reference works with no internet.
pub fn docs_router<S: Clone + Send + Sync + 'static>(doc: OpenApiDoc) -> Router<S> {
    let json = doc.clone();
    Router::new()
        .route(
            "/api-docs/openapi.json",
            get(move || async move { Json(json) }),
        )
        .route("/docs", get(docs_page))
        .route("/docs/", get(docs_page))
}

/// The reference UI styles itself inline, so `/docs` allows inline styles (and `data:`
/// images and fonts); scripts and connections stay on this origin.
const DOCS_CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; object-src 'none'";

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>motcua API reference</title>
</head>
<body>
<div id="app"></div>
<script src="/static/vendor/scalar-standalone.js"></script>
<script src="/static/docs.js"></script>
</body>
</html>
"#;

async fn docs_page() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(
            axum::http::header::CONTENT_SECURITY_POLICY,
            axum::http::HeaderValue::from_static(DOCS_CSP),
        )],
        axum::response::Html(DOCS_PAGE),
    )
        .into_response()
}
